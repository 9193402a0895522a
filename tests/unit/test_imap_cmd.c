/* The IMAP command table: consistent (session_cmd_table_check), sorted,
 * tagged parsing of two-word verbs, and the core's checks in the order
 * the IMAP refusals rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "core/session.h"
#include "imap/imap_int.h"

static void table_is_sane(void **state)
{
	(void)state;
	ik_err e;
	if (session_cmd_table_check(&imap_cmds, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(imap_cmds.tagged);
	for (size_t i = 1; i < imap_cmds.n; i++)
		if (strcasecmp(imap_cmds.table[i - 1].verb, imap_cmds.table[i].verb) >= 0)
			fail_msg("not sorted at %s", imap_cmds.table[i].verb);
}

static enum session_refusal check(const char *line, unsigned state, bool login, bool tls,
				  unsigned deny, struct session_call *c)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	enum session_refusal why = session_cmd_parse(&imap_cmds, buf, c);
	if (why != SESSION_REFUSE_NONE)
		return why;
	c->state = state;
	c->logged_in = login;
	c->tls = tls;
	c->deny = deny;
	return session_cmd_check(c);
}

static void refusals(void **state)
{
	(void)state;
	struct session_call c;
	assert_int_equal(check("a1 uid fetch 1:* (FLAGS)", IMAP_ST_SELECTED, true, true, 0, &c),
			 SESSION_REFUSE_NONE);
	assert_string_equal(c.tag, "a1");
	assert_string_equal(c.cmd->verb, "UID FETCH");
	assert_string_equal(c.arg, "1:* (FLAGS)");
	assert_int_equal(check("a SELECT INBOX", IMAP_ST_NOAUTH, false, false, 0, &c),
			 SESSION_REFUSE_LOGIN);
	assert_int_equal(check("a FETCH 1 FLAGS", IMAP_ST_AUTH, true, false, 0, &c),
			 SESSION_REFUSE_STATE);
	assert_int_equal(check("a LOGIN x y", IMAP_ST_NOAUTH, false, false, IMAP_P_LOGIN, &c),
			 SESSION_REFUSE_DENIED);
	assert_int_equal(check("a LOGIN x y", IMAP_ST_NOAUTH, false, true, 0, &c),
			 SESSION_REFUSE_NONE);
	assert_int_equal(check("a STARTTLS", IMAP_ST_NOAUTH, false, true, 0, &c),
			 SESSION_REFUSE_PLAINTEXT);
	assert_int_equal(check("a NOOP x", IMAP_ST_AUTH, true, true, 0, &c), SESSION_REFUSE_ARGS);
	assert_int_equal(check("a SELECT", IMAP_ST_AUTH, true, true, 0, &c), SESSION_REFUSE_ARGS);
	assert_int_equal(check("a FROB", IMAP_ST_AUTH, true, true, 0, &c), SESSION_REFUSE_UNKNOWN);
	assert_int_equal(check("a", IMAP_ST_AUTH, true, true, 0, &c), SESSION_REFUSE_EMPTY);
	assert_string_equal(c.tag, "a");
	assert_int_equal(check("a CAPABILITY", IMAP_ST_SELECTED, true, false, 0, &c),
			 SESSION_REFUSE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sane),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
