/* The POP3 server's command table: consistent for the core
 * (session_cmd_table_check), sorted, every refusal the core can make
 * worded as one "-ERR" line (RFC 1939, RFC 2449 response codes), CAPA,
 * and the argument parsers (message numbers, TOP's line count, UIDL). */
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
#include "pop3/pop3_cmd.h"

static const struct session_cmd *find(const char *verb)
{
	return session_cmd_lookup(&pop3_cmds, verb);
}

static void table_is_sane(void **state)
{
	(void)state;
	ik_err e;
	if (session_cmd_table_check(&pop3_cmds, &e) < 0)
		fail_msg("%s", e.msg);
	const struct session_cmd *t = pop3_cmds.table;
	for (size_t i = 1; i < pop3_cmds.n; i++)
		assert_true(strcmp(t[i - 1].verb, t[i].verb) < 0);	/* sorted, unique */
	static const char *const verbs[] = {"USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "QUIT",
					    "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP",
					    "UIDL"};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		const struct session_cmd *d = find(verbs[i]);
		assert_non_null(d);
		assert_non_null(d->handler);
	}
	assert_true(find("RPOP")->flags & SESSION_CMD_NOT_IMPL);
	assert_true(find("PASS")->flags & SESSION_CMD_SECRET);
	assert_true(find("AUTH")->flags & SESSION_CMD_SECRET);
	assert_true(find("STLS")->flags & SESSION_CMD_NEEDS_PLAINTEXT);
	assert_int_equal(find("QUIT")->states, POP3_ST_ANY);
	assert_int_equal(find("CAPA")->states, POP3_ST_ANY);
	assert_ptr_equal(find("retr"), find("RETR"));
	assert_null(find("LAST"));
}

static char linebuf[600];

/* Parse, check and word a line as the server does in state st. */
static enum session_refusal run_line(const char *line, unsigned st, bool tls, unsigned deny,
				     char *out, size_t outsz)
{
	assert_true(strlen(line) < sizeof linebuf);
	memcpy(linebuf, line, strlen(line) + 1);
	struct session_call c;
	memset(&c, 0, sizeof c);
	enum session_refusal why = session_cmd_parse(&pop3_cmds, linebuf, &c);
	c.state = st;
	c.tls = tls;
	c.deny = deny;
	c.logged_in = st == POP3_ST_TRANS;
	if (why == SESSION_REFUSE_NONE)
		why = session_cmd_check(&c);
	out[0] = '\0';
	if (why != SESSION_REFUSE_NONE)
		pop3_cmd_refusal_text(&c, why, out, outsz);
	return why;
}

static void expect(const char *line, unsigned st, bool tls, unsigned deny, const char *text)
{
	char out[300];
	enum session_refusal why = run_line(line, st, tls, deny, out, sizeof out);
	if (text == NULL) {
		assert_int_equal(why, SESSION_REFUSE_NONE);
		return;
	}
	assert_int_not_equal(why, SESSION_REFUSE_NONE);
	assert_string_equal(out, text);
}

static void refusals_are_worded_as_pop3(void **state)
{
	(void)state;
	const unsigned A = POP3_ST_AUTH, T = POP3_ST_TRANS;
	expect("", A, false, 0, "-ERR Empty command line");
	expect("XYZZY", A, false, 0, "-ERR Unknown command");
	expect("RPOP alice", A, false, 0, "-ERR RPOP is not supported; use USER and PASS, or AUTH");
	expect("STAT", A, false, 0, "-ERR STAT needs a login first: USER and PASS, or AUTH");
	expect("RETR 1", A, true, 0, "-ERR RETR needs a login first: USER and PASS, or AUTH");
	expect("USER alice", T, true, 0, "-ERR Already logged in; USER is for the AUTHORIZATION "
	       "state");
	expect("STLS", T, false, 0, "-ERR Already logged in; STLS is for the AUTHORIZATION state");
	expect("USER alice", A, false, POP3_P_PLAIN, "-ERR [AUTH] Plaintext authentication is "
	       "disallowed on non-secure connections; send STLS first");
	expect("PASS secret", A, false, POP3_P_PLAIN, "-ERR [AUTH] Plaintext authentication is "
	       "disallowed on non-secure connections; send STLS first");
	expect("AUTH PLAIN", A, false, POP3_P_PLAIN, "-ERR [AUTH] Plaintext authentication is "
	       "disallowed on non-secure connections; send STLS first");
	expect("APOP alice 0123456789abcdef0123456789abcdef", A, false, POP3_P_APOP,
	       "-ERR APOP is not enabled on this server; use USER and PASS, or AUTH");
	expect("USER", A, true, 0, "-ERR Syntax: USER name");
	expect("RETR", T, true, 0, "-ERR Syntax: RETR msg");
	expect("RETR 1 2", T, true, 0, "-ERR Syntax: RETR msg");
	expect("TOP 1", T, true, 0, "-ERR Syntax: TOP msg lines");
	expect("STAT now", T, true, 0, "-ERR Syntax: STAT");
	expect("STLS", A, true, 0, "-ERR TLS is already active");
	/* What runs. */
	expect("USER alice", A, true, 0, NULL);
	expect("PASS with spaces in it", A, true, 0, NULL);
	expect("user alice", A, false, 0, NULL);
	expect("LIST", T, false, 0, NULL);
	expect("LIST 3", T, false, 0, NULL);
	expect("TOP 1 0", T, false, 0, NULL);
	expect("QUIT", A, false, 0, NULL);
	expect("QUIT", T, false, 0, NULL);
	expect("CAPA", T, false, 0, NULL);
	expect("AUTH", A, true, 0, NULL);
	expect("STLS", A, false, 0, NULL);
}

static void capa_lists_what_is_offered(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct pop3_capa o = {.stls = true, .expire_days = -1};
	assert_int_equal(pop3_capa_reply(&b, &o), 0);
	assert_string_equal(sbuf_cstr(&b), "+OK Capability list follows\r\nTOP\r\nUIDL\r\n"
			    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\n"
			    "IMPLEMENTATION inetkit\r\n.\r\n");
	sbuf_reset(&b);
	o = (struct pop3_capa){.user = true, .sasl = true, .login_delay_s = 900,
			       .expire_days = 0};
	assert_int_equal(pop3_capa_reply(&b, &o), 0);
	assert_string_equal(sbuf_cstr(&b), "+OK Capability list follows\r\nTOP\r\nUIDL\r\n"
			    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n"
			    "SASL PLAIN LOGIN\r\nLOGIN-DELAY 900\r\nEXPIRE 0\r\n"
			    "IMPLEMENTATION inetkit\r\n.\r\n");
	sbuf_reset(&b);
	o = (struct pop3_capa){.login_delay_s = 900, .expire_days = -2};
	assert_int_equal(pop3_capa_reply(&b, &o), 0);
	assert_non_null(strstr(sbuf_cstr(&b), "\r\nLOGIN-DELAY 900\r\nEXPIRE NEVER\r\n"));
	sbuf_free(&b);
	/* Too small: nothing written. */
	struct sbuf small = SBUF_INIT(20);
	assert_int_equal(pop3_capa_reply(&small, &o), -1);
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
}

static void parsers(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(pop3_parse_msgno("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pop3_parse_msgno("999999999", &v), 0);
	assert_int_equal(pop3_parse_msgno("1000000000", &v), -1);
	assert_int_equal(pop3_parse_msgno("0", &v), -1);
	assert_int_equal(pop3_parse_msgno("", &v), -1);
	assert_int_equal(pop3_parse_msgno("+1", &v), -1);
	assert_int_equal(pop3_parse_msgno("-1", &v), -1);
	assert_int_equal(pop3_parse_msgno("1a", &v), -1);
	assert_int_equal(pop3_parse_msgno(" 1", &v), -1);
	assert_int_equal(pop3_parse_lines("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pop3_parse_lines("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(pop3_parse_lines("x", &v), -1);
	char uid[80];
	pop3_uidl_of("1700000000.M1P2Q3.host", uid, sizeof uid);
	assert_string_equal(uid, "1700000000.M1P2Q3.host");
	/* Too long, or a space: a stable hashed form of 65 characters. */
	char longname[120];
	memset(longname, 'a', 100);
	longname[100] = '\0';
	pop3_uidl_of(longname, uid, sizeof uid);
	assert_int_equal(strlen(uid), 65);
	assert_int_equal(uid[0], 'X');
	char again[80];
	pop3_uidl_of(longname, again, sizeof again);
	assert_string_equal(uid, again);
	pop3_uidl_of("a b", uid, sizeof uid);
	assert_int_equal(strlen(uid), 65);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sane),
		cmocka_unit_test(refusals_are_worded_as_pop3),
		cmocka_unit_test(capa_lists_what_is_offered),
		cmocka_unit_test(parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
