/* The SMTP server's command table: consistent for the core
 * (session_cmd_table_check), sorted, and every refusal the core can make
 * worded as SMTP with basic and enhanced codes (RFC 5321 4.2, RFC 3463);
 * the EHLO reply's keywords and HELP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/session.h"
#include "lib/error.h"
#include "lib/sbuf.h"
#include "smtp/smtp_cmd.h"

static const struct session_cmd *find(const char *verb)
{
	return session_cmd_lookup(&smtp_cmds, verb);
}

static void table_is_sane(void **state)
{
	(void)state;
	ik_err e;
	if (session_cmd_table_check(&smtp_cmds, &e) < 0)
		fail_msg("%s", e.msg);
	const struct session_cmd *t = smtp_cmds.table;
	for (size_t i = 1; i < smtp_cmds.n; i++)
		assert_true(strcmp(t[i - 1].verb, t[i].verb) < 0);	/* sorted, unique */
	static const char *const verbs[] = {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
					    "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS", "AUTH"};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		const struct session_cmd *d = find(verbs[i]);
		assert_non_null(d);
		assert_non_null(d->handler);
		assert_false(d->flags & SESSION_CMD_NOT_IMPL);
	}
	static const char *const refused[] = {"EXPN", "TURN", "ETRN"};
	for (size_t i = 0; i < 3; i++)
		assert_true(find(refused[i])->flags & SESSION_CMD_NOT_IMPL);
	assert_ptr_equal(find("ehlo"), find("EHLO"));
	assert_null(find("EHLOX"));
	assert_true(find("AUTH")->flags & SESSION_CMD_SECRET);
	assert_true(find("STARTTLS")->flags & SESSION_CMD_NEEDS_PLAINTEXT);
	/* A BDAT chunk out of sequence must reach its handler, which reads
	 * and drops the chunk: the table lets it in everywhere. */
	assert_int_equal(find("BDAT")->states, SMTP_ST_ANY);
	assert_int_equal(find("BDAT")->args, SESSION_ARG_RAW);
}

/* Parse, check and word a line as the server does in state st. */
static char linebuf[1100];
static enum session_refusal run_line(const char *line, unsigned st, bool tls, unsigned deny,
				     struct smtp_reply *r)
{
	assert_true(strlen(line) < sizeof linebuf);
	memcpy(linebuf, line, strlen(line) + 1);
	struct session_call c;
	enum session_refusal why = session_cmd_parse(&smtp_cmds, linebuf, &c);
	c.state = st;
	c.tls = tls;
	c.deny = deny;
	if (why == SESSION_REFUSE_NONE)
		why = session_cmd_check(&c);
	memset(r, 0, sizeof *r);
	if (why != SESSION_REFUSE_NONE)
		smtp_cmd_refusal_reply(&c, why, r);
	return why;
}

static void expect(const char *line, unsigned st, bool tls, unsigned deny, int code,
		   const char *enh, const char *text)
{
	struct smtp_reply r;
	enum session_refusal why = run_line(line, st, tls, deny, &r);
	if (code == 0) {
		assert_int_equal(why, SESSION_REFUSE_NONE);
		return;
	}
	assert_int_not_equal(why, SESSION_REFUSE_NONE);
	assert_int_equal(r.code, code);
	assert_string_equal(r.enh, enh);
	assert_string_equal(r.text, text);
}

static void refusals_are_worded_as_smtp(void **state)
{
	(void)state;
	const unsigned C = SMTP_ST_CONNECTED, R = SMTP_ST_READY, M = SMTP_ST_MAIL,
		       T = SMTP_ST_RCPT, B = SMTP_ST_BDAT;
	expect("FOO bar", R, false, 0, 500, "5.5.2", "Error: command not recognized");
	expect("", R, false, 0, 500, "5.5.2", "Error: empty command line");
	expect("EXPN list", R, false, 0, 502, "5.5.1", "Error: EXPN is not implemented");
	expect("TURN", R, false, 0, 502, "5.5.1", "Error: TURN is not implemented");
	expect("MAIL FROM:<a@b>", C, false, 0, 503, "5.5.1", "Error: send EHLO first");
	expect("RCPT TO:<a@b>", R, false, 0, 503, "5.5.1", "Error: need MAIL before RCPT");
	expect("DATA", R, false, 0, 503, "5.5.1", "Error: need MAIL before DATA");
	expect("DATA", M, false, 0, 503, "5.5.1", "Error: need RCPT before DATA");
	expect("MAIL FROM:<a@b>", M, false, 0, 503, "5.5.1", "Error: nested MAIL command; send "
	       "RSET to start again");
	expect("AUTH PLAIN", T, true, 0, 503, "5.5.1", "Error: MAIL transaction in progress; send "
	       "RSET first");
	expect("STARTTLS", M, false, 0, 503, "5.5.1", "Error: MAIL transaction in progress; send "
	       "RSET first");
	expect("DATA", B, false, 0, 503, "5.5.1", "Error: DATA cannot be mixed with BDAT; end the "
	       "message with BDAT n LAST, or send RSET");
	expect("MAIL FROM:<a@b>", B, false, 0, 503, "5.5.1", "Error: BDAT transfer in progress; "
	       "end it with BDAT n LAST, or send RSET");
	expect("EHLO", R, false, 0, 501, "5.5.4", "Syntax: EHLO hostname");
	expect("EHLO a b", R, false, 0, 501, "5.5.4", "Syntax: EHLO hostname");
	expect("MAIL", R, false, 0, 501, "5.5.4", "Syntax: MAIL FROM:<address> [SIZE=n] "
	       "[BODY=8BITMIME] [SMTPUTF8] [RET=FULL|HDRS] [ENVID=x]");
	expect("QUIT now", R, false, 0, 501, "5.5.4", "Syntax: QUIT");
	expect("STARTTLS", R, true, 0, 554, "5.5.1", "Error: TLS already active");
	/* The submission roles and AUTH over plaintext (the before hook's
	 * deny mask). */
	expect("MAIL FROM:<a@b>", R, false, SMTP_P_TLS | SMTP_P_AUTH | SMTP_P_AUTH_TLS, 530,
	       "5.7.0", "Must issue a STARTTLS command first");
	expect("MAIL FROM:<a@b>", R, true, SMTP_P_AUTH, 530, "5.7.0", "Authentication required");
	expect("AUTH PLAIN", R, false, SMTP_P_TLS | SMTP_P_AUTH_TLS, 530, "5.7.0",
	       "Must issue a STARTTLS command first");
	expect("AUTH PLAIN", R, false, SMTP_P_AUTH_TLS, 538, "5.7.11", "Encryption required for "
	       "requested authentication mechanism; send STARTTLS first");
	/* What runs. */
	expect("EHLO client.example", C, false, 0, 0, NULL, NULL);
	expect("helo client.example", T, false, 0, 0, NULL, NULL);
	expect("MAIL FROM:<a@b> SIZE=10", R, false, 0, 0, NULL, NULL);
	expect("RCPT TO:<a@b>", T, false, 0, 0, NULL, NULL);
	expect("RSET", B, false, 0, 0, NULL, NULL);
	expect("BDAT 10 LAST", C, false, 0, 0, NULL, NULL);
	expect("BDAT", R, false, 0, 0, NULL, NULL);	/* the handler closes: no size to skip */
	expect("NOOP anything", C, false, 0, 0, NULL, NULL);
	expect("STARTTLS", C, false, 0, 0, NULL, NULL);
	expect("AUTH PLAIN AGFsaWNlAHNlY3JldA==", R, true, 0, 0, NULL, NULL);
}

static void ehlo_reply_lists_what_is_offered(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct smtp_ehlo_offer o = {"mx.example.org", "client.example", 26214400, true, false};
	assert_int_equal(smtp_ehlo_reply(&b, &o), 0);
	assert_string_equal(sbuf_cstr(&b), "250-mx.example.org Hello client.example\r\n"
			    "250-PIPELINING\r\n250-SIZE 26214400\r\n250-STARTTLS\r\n"
			    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
			    "250 CHUNKING\r\n");
	sbuf_reset(&b);
	o.starttls = false;
	o.auth = true;
	assert_int_equal(smtp_ehlo_reply(&b, &o), 0);
	assert_non_null(strstr(sbuf_cstr(&b), "250-AUTH PLAIN LOGIN\r\n"));
	assert_null(strstr(sbuf_cstr(&b), "STARTTLS"));
	sbuf_free(&b);
}

static void help_lists_and_explains(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(smtp_help_reply(&b, ""), 0);
	assert_string_equal(sbuf_cstr(&b), "214-2.0.0 Commands: AUTH BDAT DATA EHLO HELO HELP "
			    "MAIL NOOP QUIT RCPT RSET STARTTLS VRFY\r\n214 2.0.0 HELP command shows "
			    "its syntax; see inetkit-smtpd(8)\r\n");
	sbuf_reset(&b);
	assert_int_equal(smtp_help_reply(&b, "rcpt"), 0);
	assert_string_equal(sbuf_cstr(&b), "214 2.0.0 Syntax: RCPT TO:<address> "
			    "[NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;address]\r\n");
	sbuf_reset(&b);
	assert_int_equal(smtp_help_reply(&b, "EXPN"), 0);
	assert_string_equal(sbuf_cstr(&b), "504 5.5.1 HELP: no such command; HELP lists them\r\n");
	sbuf_reset(&b);
	/* A reply text never carries a line break the client sent. */
	assert_int_equal(smtp_reply_line(&b, 250, "2.0.0", true, "a\r\n250 b"), 0);
	assert_string_equal(sbuf_cstr(&b), "250 2.0.0 a  250 b\r\n");
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sane),
		cmocka_unit_test(refusals_are_worded_as_smtp),
		cmocka_unit_test(ehlo_reply_lists_what_is_offered),
		cmocka_unit_test(help_lists_and_explains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
