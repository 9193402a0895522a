/* The core's command tables (core/session_cmd.c): parsing (one- and
 * two-word verbs, longest match, tags), the checks in their fixed order
 * with each refusal reason, the argument rules, the hooks around a
 * command on a live session, secret arguments in the debug log, and the
 * table consistency check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/session.h"

enum { ST_GREET = 1, ST_AUTH = 2, ST_MAIL = 4 };
enum { P_FENCED = 1 };	/* a protocol bit the before hook may deny */

/* What the handlers, hooks and refusals saw. */
struct seen {
	int ran, refused, before, after;
	char verb[32], tag[16], arg[64];
	size_t argc;
	char argv0[16];
	enum session_refusal why, after_why;
	bool stop;		/* before hook: take the line */
	unsigned next_state;	/* before hook: move here first (0: stay) */
	unsigned deny;		/* before hook: deny these pflags */
};
static struct seen seen;

static void record(struct session_call *c)
{
	snprintf(seen.verb, sizeof seen.verb, "%s", c->verb);
	snprintf(seen.tag, sizeof seen.tag, "%s", c->tag != NULL ? c->tag : "-");
	snprintf(seen.arg, sizeof seen.arg, "%s", c->arg);
}

static void h_any(struct session_call *c)
{
	seen.ran++;
	record(c);
	seen.argc = c->argc;
	snprintf(seen.argv0, sizeof seen.argv0, "%s", c->argc > 0 ? c->argv[0] : "");
	session_printf(c->s, "%s%sOK %s\r\n", c->tag ? c->tag : "", c->tag ? " " : "", c->cmd->verb);
}

static void h_login(struct session_call *c)
{
	h_any(c);
	session_set_login(c->s, true);
	session_set_state(c->s, ST_MAIL, "mail");
}

static void refuse(struct session_call *c, enum session_refusal why)
{
	seen.refused++;
	seen.why = why;
	record(c);
	session_printf(c->s, "%s%sNO %s\r\n", c->tag ? c->tag : "", c->tag ? " " : "",
		       session_refusal_text(why));
}

static bool before(struct session_call *c)
{
	seen.before++;
	if (seen.next_state != 0)
		session_set_state(c->s, seen.next_state, "next");
	c->deny = seen.deny;
	return !seen.stop;
}

static void after(struct session_call *c, enum session_refusal why)
{
	(void)c;
	seen.after++;
	seen.after_why = why;
}

#define BL SESSION_CMD_BEFORE_LOGIN
#define NL SESSION_CMD_NEEDS_LOGIN

static const struct session_cmd table[] = {
	{"NOOP", ST_GREET | ST_AUTH | ST_MAIL, BL, SESSION_ARG_NONE, 0, 0, "NOOP", h_any, 0, NULL},
	{"LOGIN", ST_GREET | ST_AUTH, BL | SESSION_CMD_SECRET | SESSION_CMD_NEEDS_TLS,
	 SESSION_ARG_WORDS, 2, 2, "LOGIN user password", h_login, 0, NULL},
	{"HELO", ST_GREET, BL, SESSION_ARG_WORDS, 1, 1, "HELO name", h_any, 0, NULL},
	{"STARTTLS", ST_GREET | ST_AUTH, BL | SESSION_CMD_NEEDS_PLAINTEXT, SESSION_ARG_NONE, 0, 0,
	 "STARTTLS", h_any, 0, NULL},
	{"UID", ST_MAIL, NL, SESSION_ARG_RAW, 1, 1, "UID FETCH | STORE ...", h_any, 0, NULL},
	{"UID FETCH", ST_MAIL, NL, SESSION_ARG_WORDS, 2, 3, "UID FETCH set items", h_any, 0, NULL},
	{"FETCH", ST_MAIL, NL, SESSION_ARG_WORDS, 2, 3, "FETCH set items", h_any, P_FENCED, NULL},
	{"SELECT", ST_MAIL, NL, SESSION_ARG_PATH, 1, 1, "SELECT mailbox", h_any, 0, NULL},
	{"NOTE", ST_MAIL, NL, SESSION_ARG_RAW, 0, 1, "NOTE [text]", h_any, 0, NULL},
	{"EXPUNGE", ST_MAIL, NL | SESSION_CMD_NOT_IMPL, SESSION_ARG_NONE, 0, 0, "EXPUNGE", NULL, 0,
	 NULL},
};
#define N (sizeof table / sizeof table[0])

static const struct session_cmds plain = {table, N, false, ST_GREET | ST_AUTH, refuse, NULL, NULL};
static const struct session_cmds tagged = {table, N, true, ST_GREET | ST_AUTH, refuse, before,
					   after};

static enum session_refusal parse(const struct session_cmds *set, const char *line,
				  struct session_call *c)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	return session_cmd_parse(set, buf, c);
}

static void parse_verbs(void **state)
{
	(void)state;
	struct session_call c;
	assert_int_equal(parse(&plain, "UID FETCH 1:* FLAGS", &c), SESSION_REFUSE_NONE);
	assert_ptr_equal(c.cmd, &table[5]);
	assert_string_equal(c.verb, "UID FETCH");
	assert_string_equal(c.arg, "1:* FLAGS");
	assert_int_equal(c.arglen, 9);
	assert_null(c.tag);
	/* Any case; the longest entry that matches whole words wins. */
	assert_int_equal(parse(&plain, "uid fetch 1 x", &c), SESSION_REFUSE_NONE);
	assert_ptr_equal(c.cmd, &table[5]);
	assert_string_equal(c.verb, "uid fetch");
	assert_int_equal(parse(&plain, "UID STORE 1 +FLAGS", &c), SESSION_REFUSE_NONE);
	assert_ptr_equal(c.cmd, &table[4]);
	assert_string_equal(c.arg, "STORE 1 +FLAGS");
	assert_int_equal(parse(&plain, "UID FETCHX 1", &c), SESSION_REFUSE_NONE);
	assert_ptr_equal(c.cmd, &table[4]);
	assert_int_equal(parse(&plain, "UID", &c), SESSION_REFUSE_NONE);
	assert_ptr_equal(c.cmd, &table[4]);
	assert_string_equal(c.arg, "");
	/* One space ends the verb; the rest is the argument, verbatim. */
	assert_int_equal(parse(&plain, "  NOTE  two  spaces ", &c), SESSION_REFUSE_NONE);
	assert_string_equal(c.verb, "NOTE");
	assert_string_equal(c.arg, " two  spaces ");
	/* Unknown: the verb is the first word, whatever follows. */
	assert_int_equal(parse(&plain, "UIDX 1", &c), SESSION_REFUSE_UNKNOWN);
	assert_null(c.cmd);
	assert_string_equal(c.verb, "UIDX");
	assert_string_equal(c.arg, "1");
	assert_int_equal(parse(&plain, "NOOPNOOP", &c), SESSION_REFUSE_UNKNOWN);
	assert_int_equal(parse(&plain, "", &c), SESSION_REFUSE_EMPTY);
	assert_string_equal(c.verb, "");
	assert_int_equal(parse(&plain, "    ", &c), SESSION_REFUSE_EMPTY);
	assert_int_equal(session_cmd_check(&c), SESSION_REFUSE_EMPTY);

	assert_ptr_equal(session_cmd_lookup(&plain, "uid fetch"), &table[5]);
	assert_ptr_equal(session_cmd_lookup(&plain, "helo"), &table[2]);
	assert_null(session_cmd_lookup(&plain, "HEL"));
	assert_null(session_cmd_lookup(&plain, ""));
}

static void parse_tags(void **state)
{
	(void)state;
	struct session_call c;
	assert_int_equal(parse(&tagged, "a1 uid fetch 4 FLAGS", &c), SESSION_REFUSE_NONE);
	assert_string_equal(c.tag, "a1");
	assert_ptr_equal(c.cmd, &table[5]);
	assert_string_equal(c.arg, "4 FLAGS");
	/* A tag alone, or nothing: empty, the tag kept for the reply. */
	assert_int_equal(parse(&tagged, "a2", &c), SESSION_REFUSE_EMPTY);
	assert_string_equal(c.tag, "a2");
	assert_int_equal(parse(&tagged, "a3   ", &c), SESSION_REFUSE_EMPTY);
	assert_string_equal(c.tag, "a3");
	assert_int_equal(parse(&tagged, "", &c), SESSION_REFUSE_EMPTY);
	assert_null(c.tag);
	assert_int_equal(parse(&tagged, "a4 BOGUS x", &c), SESSION_REFUSE_UNKNOWN);
	assert_string_equal(c.tag, "a4");
	assert_string_equal(c.verb, "BOGUS");
	/* Untagged, the first word is the verb. */
	assert_int_equal(parse(&plain, "a1 NOOP", &c), SESSION_REFUSE_UNKNOWN);
}

/* Check line with the session facts given; the refusal (NONE: accepted). */
static enum session_refusal check(const char *line, unsigned st, bool in, bool tls, unsigned deny)
{
	struct session_call c;
	enum session_refusal why = parse(&plain, line, &c);
	c.state = st;
	c.logged_in = in;
	c.tls = tls;
	c.deny = deny;
	enum session_refusal again = session_cmd_check(&c);
	if (why != SESSION_REFUSE_NONE)
		assert_int_equal(again, why);
	return again;
}

static void check_order(void **state)
{
	(void)state;
	assert_int_equal(check("FOO", ST_MAIL, true, false, 0), SESSION_REFUSE_UNKNOWN);
	/* NOT_IMPL comes before login and state. */
	assert_int_equal(check("EXPUNGE", ST_GREET, false, false, 0), SESSION_REFUSE_NOT_IMPL);
	/* Login before state: a client that is not logged in hears that. */
	assert_int_equal(check("FETCH 1 X", ST_GREET, false, false, 0), SESSION_REFUSE_LOGIN);
	assert_int_equal(check("FETCH 1 X", ST_GREET, true, false, 0), SESSION_REFUSE_STATE);
	assert_int_equal(check("HELO x", ST_MAIL, true, false, 0), SESSION_REFUSE_STATE);
	/* State before TLS, TLS before the arguments. */
	assert_int_equal(check("LOGIN a b", ST_MAIL, true, false, 0), SESSION_REFUSE_STATE);
	assert_int_equal(check("LOGIN", ST_AUTH, false, false, 0), SESSION_REFUSE_TLS);
	assert_int_equal(check("LOGIN", ST_AUTH, false, true, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("LOGIN a b", ST_AUTH, false, true, 0), SESSION_REFUSE_NONE);
	/* The deny mask (a protocol's own bits) before the arguments. */
	assert_int_equal(check("FETCH", ST_MAIL, true, false, P_FENCED), SESSION_REFUSE_DENIED);
	assert_int_equal(check("FETCH", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("UID FETCH 1 X", ST_MAIL, true, false, P_FENCED), SESSION_REFUSE_NONE);
	/* Plaintext after the syntax. */
	assert_int_equal(check("STARTTLS x", ST_GREET, false, true, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("STARTTLS", ST_GREET, false, true, 0), SESSION_REFUSE_PLAINTEXT);
	assert_int_equal(check("STARTTLS", ST_GREET, false, false, 0), SESSION_REFUSE_NONE);
	assert_string_equal(session_refusal_text(SESSION_REFUSE_PLAINTEXT), "needs plaintext");
	assert_string_equal(session_refusal_text((enum session_refusal)99), "?");
}

static void argument_rules(void **state)
{
	(void)state;
	/* NONE: spaces only. */
	assert_int_equal(check("NOOP ", ST_MAIL, true, false, 0), SESSION_REFUSE_NONE);
	assert_int_equal(check("NOOP   ", ST_MAIL, true, false, 0), SESSION_REFUSE_NONE);
	assert_int_equal(check("NOOP x", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	/* WORDS min..max, runs of spaces between. */
	assert_int_equal(check("FETCH 1", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("FETCH  1   X  Y ", ST_MAIL, true, false, 0), SESSION_REFUSE_NONE);
	assert_int_equal(check("FETCH 1 X Y Z", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	/* RAW and PATH: present or not; spaces are part of it. */
	assert_int_equal(check("SELECT", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("SELECT ", ST_MAIL, true, false, 0), SESSION_REFUSE_ARGS);
	assert_int_equal(check("SELECT my box", ST_MAIL, true, false, 0), SESSION_REFUSE_NONE);
	assert_int_equal(check("NOTE", ST_MAIL, true, false, 0), SESSION_REFUSE_NONE);

	struct session_call c;
	assert_int_equal(parse(&plain, "FETCH  1   X  Y ", &c), SESSION_REFUSE_NONE);
	session_cmd_split(&c);
	assert_int_equal(c.argc, 3);
	assert_string_equal(c.argv[0], "1");
	assert_string_equal(c.argv[1], "X");
	assert_string_equal(c.argv[2], "Y");
	/* The check counts the same words after the split. */
	c.state = ST_MAIL;
	c.logged_in = true;
	assert_int_equal(session_cmd_check(&c), SESSION_REFUSE_NONE);
	assert_int_equal(parse(&plain, "FETCH 1 X Y Z", &c), SESSION_REFUSE_NONE);
	session_cmd_split(&c);
	c.state = ST_MAIL;
	c.logged_in = true;
	assert_int_equal(session_cmd_check(&c), SESSION_REFUSE_ARGS);
	/* More words than are kept: the last one kept still ends. */
	assert_int_equal(parse(&plain, "FETCH 1 2 3 4 5 6 7 8 9 10", &c), SESSION_REFUSE_NONE);
	session_cmd_split(&c);
	assert_int_equal(c.argc, SESSION_CMD_WORDS_MAX);
	assert_string_equal(c.argv[SESSION_CMD_WORDS_MAX - 1], "8");
	assert_int_equal(parse(&plain, "SELECT a b", &c), SESSION_REFUSE_NONE);
	session_cmd_split(&c);
	assert_int_equal(c.argc, 0);	/* a path is never split */
	assert_string_equal(c.arg, "a b");
}

/* ---- on a live session ---- */

struct live {
	struct loop *loop;
	struct session *s;
	int peer;
};

static void quiet_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	if (ev->type == SESSION_EV_CLOSED)
		loop_exit(arg);
}

static void live_start(struct live *l)
{
	int sv[2];
	ik_err e;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	l->loop = loop_new(&e);
	assert_non_null(l->loop);
	struct session_opts o = {.proto = "test", .mode = SESSION_MODE_LINE};
	l->s = session_new(l->loop, sv[0], NULL, 0, NULL, &o, quiet_io, l->loop, &e);
	assert_non_null(l->s);
	l->peer = sv[1];
	session_set_state(l->s, ST_GREET, "greet");
	memset(&seen, 0, sizeof seen);
}

static void live_end(struct live *l)
{
	session_close(l->s, "test over");
	loop_run(l->loop);
	close(l->peer);
	loop_free(l->loop);
}

/* Run one line; what the peer got back. */
static const char *run_line(struct live *l, const struct session_cmds *set, const char *line,
			    enum session_refusal want)
{
	static char out[256];
	char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	assert_int_equal(session_cmd_run(l->s, set, buf, NULL), want);
	ssize_t n = read(l->peer, out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void run_with_hooks(void **state)
{
	(void)state;
	struct live l;
	live_start(&l);
	/* Tagged: the tag reaches the refusal and the handler. */
	assert_string_equal(run_line(&l, &tagged, "a1 FETCH 1 X", SESSION_REFUSE_LOGIN),
			    "a1 NO needs login\r\n");
	assert_int_equal(seen.before, 1);
	assert_int_equal(seen.after, 1);
	assert_int_equal(seen.after_why, SESSION_REFUSE_LOGIN);
	assert_string_equal(seen.tag, "a1");
	assert_string_equal(run_line(&l, &tagged, "a2 LOGIN bob secret", SESSION_REFUSE_TLS),
			    "a2 NO needs TLS\r\n");
	assert_string_equal(run_line(&l, &tagged, "a3 HELO", SESSION_REFUSE_ARGS),
			    "a3 NO bad arguments\r\n");
	assert_string_equal(run_line(&l, &tagged, "a4 HELO there", SESSION_REFUSE_NONE),
			    "a4 OK HELO\r\n");
	assert_int_equal(seen.ran, 1);
	assert_int_equal(seen.argc, 1);
	assert_string_equal(seen.argv0, "there");
	assert_int_equal(seen.after_why, SESSION_REFUSE_NONE);
	assert_string_equal(run_line(&l, &tagged, "a5 WHAT", SESSION_REFUSE_UNKNOWN),
			    "a5 NO unknown verb\r\n");
	assert_string_equal(seen.verb, "WHAT");
	assert_int_equal(seen.before, 5);	/* unknown verbs too */
	/* An empty line is refused without the hooks. */
	assert_string_equal(run_line(&l, &tagged, "a6", SESSION_REFUSE_EMPTY), "a6 NO empty line\r\n");
	assert_int_equal(seen.before, 5);
	assert_int_equal(seen.after, 5);
	assert_string_equal(run_line(&l, &tagged, "a7 EXPUNGE", SESSION_REFUSE_NOT_IMPL),
			    "a7 NO not implemented\r\n");
	/* The state the before hook sets is the one checked. */
	seen.next_state = ST_MAIL;
	assert_string_equal(run_line(&l, &tagged, "a8 HELO x", SESSION_REFUSE_STATE),
			    "a8 NO bad state\r\n");
	assert_int_equal(session_state(l.s), ST_MAIL);
	seen.next_state = 0;
	session_set_login(l.s, true);
	seen.deny = P_FENCED;
	assert_string_equal(run_line(&l, &tagged, "a9 FETCH 1 X", SESSION_REFUSE_DENIED),
			    "a9 NO denied\r\n");
	seen.deny = 0;
	assert_string_equal(run_line(&l, &tagged, "b1 uid fetch 1 X", SESSION_REFUSE_NONE),
			    "b1 OK UID FETCH\r\n");
	/* The before hook may take the line: nothing else runs. */
	seen.stop = true;
	int ran = seen.ran, refused = seen.refused, after_n = seen.after;
	assert_int_equal(session_cmd_run(l.s, &tagged, (char[]){"b2 NOOP"}, NULL), SESSION_REFUSE_HOOK);
	assert_int_equal(seen.ran, ran);
	assert_int_equal(seen.refused, refused);
	assert_int_equal(seen.after, after_n);
	seen.stop = false;
	/* Untagged, no hooks: the handler changes state and login. */
	session_set_login(l.s, false);
	session_set_state(l.s, ST_AUTH, "auth");
	assert_string_equal(run_line(&l, &plain, "STARTTLS", SESSION_REFUSE_NONE), "OK STARTTLS\r\n");
	assert_string_equal(run_line(&l, &plain, "", SESSION_REFUSE_EMPTY), "NO empty line\r\n");
	live_end(&l);
}

/* The debug log of running line, read back from stderr. */
static void log_of(struct live *l, const char *line, char *out, size_t outsz)
{
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	int level = log_get_level();
	log_set_level(LOG_DEBUG);
	char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	session_cmd_run(l->s, &tagged, buf, NULL);
	log_set_level(level);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, outsz - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	char drain[256];
	while (read(l->peer, drain, sizeof drain) > 0)
		;
}

static void secret_arguments_logged_masked(void **state)
{
	(void)state;
	struct live l;
	live_start(&l);
	char log[2048];
	log_of(&l, "t1 LOGIN bob hunter2", log, sizeof log);
	assert_non_null(strstr(log, "event=command proto=test session="));
	assert_non_null(strstr(log, " tag=t1 verb=LOGIN args=***\n"));
	assert_null(strstr(log, "hunter2"));
	assert_null(strstr(log, "bob"));
	/* An empty secret argument shows as empty, not as a secret. */
	log_of(&l, "t2 LOGIN", log, sizeof log);
	assert_non_null(strstr(log, " verb=LOGIN args=\"\"\n"));
	/* Other commands are logged as sent, quoted when needed. */
	log_of(&l, "t3 SELECT my box", log, sizeof log);
	assert_non_null(strstr(log, " tag=t3 verb=SELECT args=\"my box\"\n"));
	log_of(&l, "t4 bogus x", log, sizeof log);
	assert_non_null(strstr(log, " tag=t4 verb=bogus args=x\n"));
	live_end(&l);
}

static void table_checks(void **state)
{
	(void)state;
	ik_err e;
	assert_int_equal(session_cmd_table_check(&plain, &e), 0);
	struct session_cmd t[2] = {table[0], table[2]};
	struct session_cmds set = {t, 2, false, ST_GREET | ST_AUTH, refuse, NULL, NULL};
	assert_int_equal(session_cmd_table_check(&set, &e), 0);

	t[1].verb = "noop";
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'noop' is in the table twice");
	t[1].verb = "UID FETCH NOW";
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'UID FETCH NOW': one or two words, one space between");
	t[1] = table[2];
	t[1].handler = NULL;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': a handler, or NOT_IMPL and none");
	t[1] = table[2];
	t[1].flags |= SESSION_CMD_NEEDS_TLS | SESSION_CMD_NEEDS_PLAINTEXT;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': needs both TLS and plaintext");
	t[1] = table[2];
	t[1].args = SESSION_ARG_RAW;
	t[1].max = 2;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': argument bounds 1..2 do not fit its rule");
	t[1] = table[2];
	t[1].flags = 0;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': say NEEDS_LOGIN or BEFORE_LOGIN (one of them)");
	t[1].flags = NL;	/* but its state is a pre-login one */
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': its states hold a pre-login state but it is "
			    "NEEDS_LOGIN");
	t[1].flags = BL;
	t[1].states = ST_MAIL;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
	assert_string_equal(e.msg, "verb 'HELO': its states lack a pre-login state but it is "
			    "BEFORE_LOGIN");
	/* Without login states (tcp chat) the login flags are not asked for. */
	t[1].flags = 0;
	set.prelogin = 0;
	assert_int_equal(session_cmd_table_check(&set, &e), 0);
	set.refuse = NULL;
	assert_int_equal(session_cmd_table_check(&set, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_verbs),
		cmocka_unit_test(parse_tags),
		cmocka_unit_test(check_order),
		cmocka_unit_test(argument_rules),
		cmocka_unit_test(run_with_hooks),
		cmocka_unit_test(secret_arguments_logged_masked),
		cmocka_unit_test(table_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
