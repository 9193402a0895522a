#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/session.h"
#include "ftpd/ftpd_args.h"
#include "ftpd/ftpd_cmd.h"
#include "lib/error.h"

/* The core parses and checks with FTP's table; FTP cleans the line first
 * and words the refusals. parse: clean, parse and split as the server
 * does; -1 with r set for a line refused before any verb is known. */
static char linebuf[512];
static int parse_n(const char *s, size_t len, struct session_call *c, struct ftpd_cmd_refusal *r)
{
	memcpy(linebuf, s, len);
	linebuf[len] = '\0';
	memset(c, 0, sizeof *c);
	if (ftpd_cmd_clean(linebuf, len, r) < 0)
		return -1;
	enum session_refusal why = session_cmd_parse(&ftpd_cmds, linebuf, c);
	if (why == SESSION_REFUSE_EMPTY) {
		ftpd_cmd_refusal_reply(c, why, r);
		return -1;
	}
	session_cmd_split(c);
	return 0;
}
static int parse(const char *s, struct session_call *c, struct ftpd_cmd_refusal *r)
{
	return parse_n(s, strlen(s), c, r);
}
static const struct session_cmd *find(const char *verb)
{
	return session_cmd_lookup(&ftpd_cmds, verb);
}

static void table_is_sane(void **state)
{
	(void)state;
	ik_err e;
	assert_int_equal(session_cmd_table_check(&ftpd_cmds, &e), 0);
	const struct session_cmd *t = ftpd_cmds.table;
	size_t n = ftpd_cmds.n;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			assert_true(strcmp(t[i - 1].verb, t[i].verb) < 0);	/* sorted, unique */
		size_t vl = strlen(t[i].verb);
		assert_true(vl >= 3 && vl <= 4);
		assert_ptr_equal(find(t[i].verb), &t[i]);
		/* An alias runs the handler of a verb of its own. */
		if (t[i].pflags & FTPD_P_ALIAS) {
			bool found = false;
			for (size_t j = 0; j < n; j++)
				found |= !(t[j].pflags & FTPD_P_ALIAS) && t[j].handler == t[i].handler;
			assert_true(found);
		}
	}
	assert_ptr_equal(find("retr"), find("RETR"));
	assert_null(find("RETRX"));
	assert_null(find("LPRT"));
	assert_null(find("R3TR"));
	assert_null(find(""));
	assert_ptr_equal(find("XPWD")->handler, find("PWD")->handler);
}

static void parse_lines(void **state)
{
	(void)state;
	struct session_call c;
	struct ftpd_cmd_refusal r;
	assert_int_equal(parse("USER bob", &c, &r), 0);
	assert_ptr_equal(c.cmd, find("USER"));
	assert_string_equal(c.verb, "USER");
	assert_string_equal(c.arg, "bob");
	assert_true(c.arglen > 0);

	assert_int_equal(parse("retr my file.txt", &c, &r), 0);
	assert_string_equal(c.cmd->verb, "RETR");
	assert_string_equal(c.arg, "my file.txt");
	assert_int_equal(c.argc, 0);	/* paths are not split */

	/* One SP separates; the rest is the name, leading space included. */
	assert_int_equal(parse("RETR  lead", &c, &r), 0);
	assert_string_equal(c.arg, " lead");

	assert_int_equal(parse("  PWD", &c, &r), 0);
	assert_ptr_equal(c.cmd, find("PWD"));
	assert_int_equal(c.arglen, 0);
	assert_string_equal(c.arg, "");

	assert_int_equal(parse("TYPE  a   n ", &c, &r), 0);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "a");
	assert_string_equal(c.argv[1], "n");

	assert_int_equal(parse("PASS  secret with spaces ", &c, &r), 0);
	assert_string_equal(c.arg, " secret with spaces ");
	assert_true(c.cmd->flags & SESSION_CMD_SECRET);

	assert_int_equal(parse("FOO bar", &c, &r), 0);
	assert_null(c.cmd);
	assert_int_equal(parse("NOOPNOOP", &c, &r), 0);
	assert_null(c.cmd);
}

static void parse_telnet_and_nul(void **state)
{
	(void)state;
	struct session_call c;
	struct ftpd_cmd_refusal r;
	/* IAC IP IAC DM before ABOR (RFC 959 4.1.3). */
	assert_int_equal(parse("\xff\xf4\xff\xf2" "ABOR", &c, &r), 0);
	assert_ptr_equal(c.cmd, find("ABOR"));
	/* Option negotiation and subnegotiation are dropped. */
	assert_int_equal(parse("\xff\xfb\x01NO\xff\xfa\x18\x01xyz\xff\xf0OP", &c, &r), 0);
	assert_ptr_equal(c.cmd, find("NOOP"));
	/* IAC IAC is one 0xFF byte of the name; a lone IAC at the end goes. */
	assert_int_equal(parse("RETR a\xff\xff" "b\xff", &c, &r), 0);
	assert_string_equal(c.arg, "a\xff" "b");
	/* RFC 2640: CR NUL in a path name is a CR. */
	assert_int_equal(parse_n("MKD a\r\0b", 8, &c, &r), 0);
	assert_string_equal(c.arg, "a\rb");
	assert_int_equal(c.arglen, 3);
	/* Any other NUL: refused. */
	assert_int_equal(parse_n("MKD a\0b", 7, &c, &r), -1);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.text, "Command line holds a NUL byte.");
	assert_int_equal(parse_n("\0", 1, &c, &r), -1);
	assert_int_equal(parse("", &c, &r), -1);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.text, "Empty command line.");
	assert_int_equal(parse("   ", &c, &r), -1);
	assert_int_equal(parse("\xff\xf4", &c, &r), -1);
}

/* Check line in state as the server does (logged in past the pre-login
 * states); return the refusal code (0 = accepted). */
static int check_in(const char *line, unsigned st, bool tls, bool epsv_all, char *text)
{
	struct session_call c;
	struct ftpd_cmd_refusal r = {0};
	if (parse(line, &c, &r) == 0) {
		c.state = st;
		c.logged_in = !(st & FTPD_ST_PRELOGIN);
		c.tls = tls;
		c.deny = epsv_all ? FTPD_P_NO_EPSV_ALL : 0;
		enum session_refusal why = session_cmd_check(&c);
		if (why == SESSION_REFUSE_NONE)
			return 0;
		ftpd_cmd_refusal_reply(&c, why, &r);
	}
	if (text != NULL)
		memcpy(text, r.text, sizeof r.text);
	return r.code;
}

static void checks(void **state)
{
	(void)state;
	char t[160];
	assert_int_equal(check_in("FOO", FTPD_ST_READY, false, false, t), 500);
	assert_string_equal(t, "Unknown command.");
	assert_int_equal(check_in("ACCT x", FTPD_ST_READY, false, false, t), 502);
	assert_string_equal(t, "ACCT not implemented.");
	assert_int_equal(check_in("REIN", FTPD_ST_AUTH, false, false, t), 502);
	assert_int_equal(check_in("RETR x", FTPD_ST_AUTH, false, false, t), 530);
	assert_string_equal(t, "Please log in with USER and PASS first.");
	assert_int_equal(check_in("PASS x", FTPD_ST_AUTH, false, false, t), 503);
	assert_string_equal(t, "Send USER first.");
	assert_int_equal(check_in("PASS x", FTPD_ST_PASS, false, false, t), 0);
	assert_int_equal(check_in("PASS", FTPD_ST_PASS, false, false, t), 0);
	assert_int_equal(check_in("USER a", FTPD_ST_PASS, false, false, t), 0);
	assert_int_equal(check_in("USER a", FTPD_ST_READY, false, false, t), 503);
	assert_string_equal(t, "Already logged in.");
	assert_int_equal(check_in("PASS a", FTPD_ST_READY, false, false, t), 503);
	assert_string_equal(t, "Already logged in.");
	assert_int_equal(check_in("RNTO b", FTPD_ST_READY, false, false, t), 503);
	assert_string_equal(t, "Send RNFR first.");
	assert_int_equal(check_in("RNTO b", FTPD_ST_RNFR, false, false, t), 0);
	assert_int_equal(check_in("LIST", FTPD_ST_RNFR, false, false, t), 0);
	assert_int_equal(check_in("HOST example.org", FTPD_ST_AUTH, false, false, t), 0);
	assert_int_equal(check_in("HOST example.org", FTPD_ST_PASS, false, false, t), 503);
	assert_string_equal(t, "HOST must come before USER.");
	assert_int_equal(check_in("AUTH TLS", FTPD_ST_READY, false, false, t), 503);
	assert_string_equal(t, "AUTH must come before login.");
	/* AUTH on a TLS connection: its syntax first, then "already". */
	assert_int_equal(check_in("AUTH TLS", FTPD_ST_AUTH, true, false, t), 503);
	assert_string_equal(t, "Already using TLS.");
	assert_int_equal(check_in("AUTH", FTPD_ST_AUTH, true, false, t), 501);
	assert_string_equal(t, "Syntax: AUTH <sp> TLS");
	assert_int_equal(check_in("AUTH TLS", FTPD_ST_AUTH, false, false, t), 0);
	assert_int_equal(check_in("RETR x", FTPD_ST_XFER, false, false, t), 503);
	assert_string_equal(t, "RETR is not allowed during a transfer; ABOR stops it.");
	assert_int_equal(check_in("ABOR", FTPD_ST_XFER, false, false, t), 0);
	assert_int_equal(check_in("STAT", FTPD_ST_XFER, false, false, t), 0);
	assert_int_equal(check_in("QUIT", FTPD_ST_XFER, false, false, t), 0);
	assert_int_equal(check_in("NOOP", FTPD_ST_XFER, false, false, t), 0);
	assert_int_equal(check_in("STAT", FTPD_ST_AUTH, false, false, t), 530);
	assert_int_equal(check_in("PBSZ 0", FTPD_ST_AUTH, false, false, t), 503);
	assert_string_equal(t, "Send AUTH TLS first.");
	assert_int_equal(check_in("PBSZ 0", FTPD_ST_AUTH, true, false, t), 0);
	assert_int_equal(check_in("PROT P", FTPD_ST_READY, true, false, t), 0);
	assert_int_equal(check_in("PORT 127,0,0,1,4,1", FTPD_ST_READY, false, true, t), 503);
	assert_string_equal(t, "Only EPSV may be used after EPSV ALL.");
	assert_int_equal(check_in("PASV", FTPD_ST_READY, false, true, t), 503);
	assert_int_equal(check_in("PORT", FTPD_ST_READY, false, true, t), 503);
	assert_int_equal(check_in("PASV", FTPD_ST_XFER, false, true, t), 503);
	assert_string_equal(t, "PASV is not allowed during a transfer; ABOR stops it.");
	assert_int_equal(check_in("EPSV", FTPD_ST_READY, false, true, t), 0);
	assert_int_equal(check_in("PWD x", FTPD_ST_READY, false, false, t), 501);
	assert_string_equal(t, "Syntax: PWD (print the working directory)");
	assert_int_equal(check_in("PWD ", FTPD_ST_READY, false, false, t), 0);
	assert_int_equal(check_in("RETR", FTPD_ST_READY, false, false, t), 501);
	assert_string_equal(t, "Syntax: RETR <sp> pathname");
	assert_int_equal(check_in("CWD ", FTPD_ST_READY, false, false, t), 501);
	assert_int_equal(check_in("TYPE A N X", FTPD_ST_READY, false, false, t), 501);
	assert_string_equal(t, "Syntax: TYPE <sp> A | I");
	assert_int_equal(check_in("ALLO 1 R 2 3 4 5", FTPD_ST_READY, false, false, t), 501);
	assert_int_equal(check_in("ALLO 1 R 2", FTPD_ST_READY, false, false, t), 0);
	assert_int_equal(check_in("LIST -la /pub", FTPD_ST_READY, false, false, t), 0);
	assert_int_equal(check_in("FEAT", FTPD_ST_AUTH, false, false, t), 0);
	assert_int_equal(check_in("OPTS UTF8 ON", FTPD_ST_AUTH, false, false, t), 0);
	assert_int_equal(check_in("XMKD d", FTPD_ST_READY, false, false, t), 0);
}

static void feat_and_help(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(8192);
	assert_int_equal(ftpd_cmd_feat(&b, true, "type*;size*;"), 0);
	assert_string_equal(sbuf_cstr(&b),
		"211-Features:\r\n AUTH TLS\r\n TVFS\r\n EPRT\r\n EPSV\r\n HOST\r\n MDTM\r\n"
		" MLST type*;size*;\r\n UTF8\r\n PBSZ\r\n PROT\r\n REST STREAM\r\n SIZE\r\n"
		"211 End\r\n");
	sbuf_reset(&b);
	assert_int_equal(ftpd_cmd_feat(&b, false, "type*;"), 0);
	assert_null(strstr(sbuf_cstr(&b), "AUTH"));
	assert_null(strstr(sbuf_cstr(&b), "PBSZ"));
	assert_null(strstr(sbuf_cstr(&b), "PROT"));
	sbuf_reset(&b);

	assert_int_equal(ftpd_cmd_help(&b, NULL), 0);
	const char *h = sbuf_cstr(&b);
	assert_true(strncmp(h, "214-The following commands are recognized", 41) == 0);
	assert_non_null(strstr(h, "ACCT*"));
	assert_non_null(strstr(h, " RETR\r\n"));
	assert_non_null(strstr(h, " REIN*  REST"));
	const char *end = "\r\n214 HELP <command> shows its syntax.\r\n";
	assert_true(strlen(h) > strlen(end));
	assert_string_equal(h + strlen(h) - strlen(end), end);
	assert_non_null(strstr(h, "\r\n XPWD   XRMD\r\n214 "));
	assert_null(strstr(h, " \r\n"));
	sbuf_reset(&b);
	assert_int_equal(ftpd_cmd_help(&b, "retr"), 0);
	assert_string_equal(sbuf_cstr(&b), "214 Syntax: RETR <sp> pathname\r\n");
	sbuf_reset(&b);
	assert_int_equal(ftpd_cmd_help(&b, "BOGUS"), 0);
	assert_string_equal(sbuf_cstr(&b), "502 Unknown command BOGUS.\r\n");
	sbuf_reset(&b);
	assert_int_equal(ftpd_cmd_help(&b, "site"), 0);
	assert_string_equal(sbuf_cstr(&b),
		"214-SITE commands:\r\n SITE CHMOD <sp> mode <sp> pathname\r\n SITE HELP\r\n"
		"214 End\r\n");
	sbuf_free(&b);
}

static void site_commands(void **state)
{
	(void)state;
	struct ftpd_site s;
	struct ftpd_cmd_refusal r;
	char a1[] = "CHMOD 755 my file";
	assert_int_equal(ftpd_site_parse(a1, &s, &r), 0);
	assert_int_equal(s.def->id, FTPD_SITE_CHMOD);
	assert_int_equal(s.mode, 0755);
	assert_string_equal(s.path, "my file");
	char a2[] = "chmod 04755 x";
	assert_int_equal(ftpd_site_parse(a2, &s, &r), 0);
	assert_int_equal(s.mode, 04755);
	char a3[] = "CHMOD 8 x";
	assert_int_equal(ftpd_site_parse(a3, &s, &r), -1);
	assert_int_equal(r.code, 501);
	assert_string_equal(r.text, "SITE CHMOD: the mode must be octal, 0 to 7777, such as 644.");
	char a4[] = "CHMOD 755";
	assert_int_equal(ftpd_site_parse(a4, &s, &r), -1);
	assert_string_equal(r.text, "Syntax: SITE CHMOD <sp> mode <sp> pathname");
	char a5[] = "CHMOD 17777 x";
	assert_int_equal(ftpd_site_parse(a5, &s, &r), -1);
	assert_int_equal(r.code, 501);
	char a6[] = "EXEC rm -rf /";
	assert_int_equal(ftpd_site_parse(a6, &s, &r), -1);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.text, "Unknown SITE command; SITE HELP lists them.");
	char a7[] = "help";
	assert_int_equal(ftpd_site_parse(a7, &s, &r), 0);
	assert_int_equal(s.def->id, FTPD_SITE_HELP);
	assert_string_equal(s.path, "");
}

static void settings_args(void **state)
{
	(void)state;
	struct ftpd_cmd_refusal r;
	char type;
	char *a[] = {"A", "N"};
	assert_int_equal(ftpd_args_type(a, 1, &type, &r), 0);
	assert_int_equal(type, 'A');
	assert_int_equal(ftpd_args_type(a, 2, &type, &r), 0);
	char *i[] = {"i"};
	assert_int_equal(ftpd_args_type(i, 1, &type, &r), 0);
	assert_int_equal(type, 'I');
	char *l8[] = {"L", "8"};
	assert_int_equal(ftpd_args_type(l8, 2, &type, &r), 0);
	assert_int_equal(type, 'I');
	char *e[] = {"E"};
	assert_int_equal(ftpd_args_type(e, 1, &type, &r), -1);
	assert_int_equal(r.code, 504);
	assert_string_equal(r.text, "TYPE E (EBCDIC) is not supported; use A or I.");
	char *at[] = {"A", "T"};
	assert_int_equal(ftpd_args_type(at, 2, &type, &r), -1);
	assert_int_equal(r.code, 504);
	char *x[] = {"X"};
	assert_int_equal(ftpd_args_type(x, 1, &type, &r), -1);
	assert_int_equal(r.code, 501);
	assert_string_equal(r.text, "Unknown TYPE; use A or I.");

	assert_int_equal(ftpd_args_mode("s", &r), 0);
	assert_int_equal(ftpd_args_mode("B", &r), -1);
	assert_int_equal(r.code, 504);
	assert_string_equal(r.text, "Only MODE S (stream) is supported.");
	assert_int_equal(ftpd_args_mode("Q", &r), -1);
	assert_int_equal(r.code, 501);
	assert_int_equal(ftpd_args_stru("F", &r), 0);
	assert_int_equal(ftpd_args_stru("R", &r), -1);
	assert_int_equal(r.code, 504);

	uint64_t off;
	assert_int_equal(ftpd_args_rest("1048576", &off, &r), 0);
	assert_true(off == 1048576);
	assert_int_equal(ftpd_args_rest("-1", &off, &r), -1);
	assert_string_equal(r.text, "REST needs a byte offset (a decimal number).");
	assert_int_equal(ftpd_args_rest("9223372036854775808", &off, &r), -1);

	assert_int_equal(ftpd_args_auth("tls", &r), 0);
	assert_int_equal(ftpd_args_auth("SSL", &r), 0);
	assert_int_equal(ftpd_args_auth("KERBEROS_V4", &r), -1);
	assert_int_equal(r.code, 504);
	assert_int_equal(ftpd_args_pbsz("0", &r), 0);
	assert_int_equal(ftpd_args_pbsz("x", &r), -1);
	assert_int_equal(r.code, 501);
	char lvl;
	assert_int_equal(ftpd_args_prot("p", &lvl, &r), 0);
	assert_int_equal(lvl, 'P');
	assert_int_equal(ftpd_args_prot("S", &lvl, &r), -1);
	assert_int_equal(r.code, 536);
	assert_string_equal(r.text, "PROT S is not supported; use C or P.");
	assert_int_equal(ftpd_args_prot("Z", &lvl, &r), -1);
	assert_int_equal(r.code, 504);

	struct ftpd_opts o;
	assert_int_equal(ftpd_args_opts("UTF8 ON", &o, &r), 0);
	assert_true(o.kind == FTPD_OPTS_UTF8 && o.utf8_on);
	assert_int_equal(ftpd_args_opts("utf8 off", &o, &r), 0);
	assert_false(o.utf8_on);
	assert_int_equal(ftpd_args_opts("UTF8", &o, &r), 0);
	assert_true(o.utf8_on);
	assert_int_equal(ftpd_args_opts("UTF8 MAYBE", &o, &r), -1);
	assert_int_equal(ftpd_args_opts("MLST type;size;", &o, &r), 0);
	assert_true(o.kind == FTPD_OPTS_MLST);
	assert_string_equal(o.mlst_facts, "type;size;");
	assert_int_equal(ftpd_args_opts("MLST", &o, &r), 0);
	assert_string_equal(o.mlst_facts, "");
	assert_int_equal(ftpd_args_opts("MODE Z LEVEL 9", &o, &r), -1);
	assert_string_equal(r.text, "Unknown option; OPTS takes UTF8 or MLST.");

	assert_int_equal(ftpd_args_host("ftp.example.org", &r), 0);
	assert_int_equal(ftpd_args_host("[127.0.0.1]", &r), 0);
	assert_int_equal(ftpd_args_host("[::1]", &r), 0);
	assert_int_equal(ftpd_args_host("[::1", &r), -1);
	assert_int_equal(ftpd_args_host("bad host", &r), -1);
	assert_int_equal(r.code, 501);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sane),
		cmocka_unit_test(parse_lines),
		cmocka_unit_test(parse_telnet_and_nul),
		cmocka_unit_test(checks),
		cmocka_unit_test(feat_and_help),
		cmocka_unit_test(site_commands),
		cmocka_unit_test(settings_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
