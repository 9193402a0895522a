/* Command tables for line protocols (the OpenSMTPD habit: verbs are data;
 * Dovecot's two-word verbs and its hook around every command).
 * RFC 5321 section 2.4, RFC 1939 section 3, RFC 959 section 4.1: verbs are
 * case-insensitive and separated from their arguments by a space;
 * RFC 9051 section 2.2.1: an IMAP command starts with a tag. The core
 * checks the flags, the state and the arguments, so handlers never do. */
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/session_int.h"

const struct session_cmd *session_cmd_lookup(const struct session_cmds *set, const char *text)
{
	const struct session_cmd *best = NULL;
	size_t bestlen = 0;
	for (size_t i = 0; i < set->n; i++) {
		const char *v = set->table[i].verb;
		/* Equal letters in any case are equal once 0x20 is set. */
		if ((v[0] | 0x20) != (text[0] | 0x20))
			continue;
		size_t vl = strlen(v);
		if (vl > bestlen && strncasecmp(v, text, vl) == 0 &&
		    (text[vl] == '\0' || text[vl] == ' ')) {
			best = &set->table[i];
			bestlen = vl;
		}
	}
	return best;
}

static char *skip_spaces(char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

enum session_refusal session_cmd_parse(const struct session_cmds *set, char *line,
				       struct session_call *c)
{
	memset(c, 0, sizeof *c);
	char *p = skip_spaces(line);
	char *end = p + strlen(p);
	c->verb = end;
	c->arg = end;
	if (set->tagged && *p != '\0') {
		c->tag = p;
		p += strcspn(p, " ");
		if (*p == ' ')
			*p++ = '\0';
		p = skip_spaces(p);
	}
	if (*p == '\0')
		return SESSION_REFUSE_EMPTY;
	c->cmd = session_cmd_lookup(set, p);
	/* A verb that matched has the entry's length (its one inner space
	 * included); an unknown one is the first word. */
	size_t vlen = c->cmd != NULL ? strlen(c->cmd->verb) : strcspn(p, " ");
	c->verb = p;
	if (p[vlen] == ' ') {
		p[vlen] = '\0';
		c->arg = p + vlen + 1;
	} else {
		c->arg = p + vlen;
	}
	c->arglen = strlen(c->arg);
	return c->cmd != NULL ? SESSION_REFUSE_NONE : SESSION_REFUSE_UNKNOWN;
}

/* Words in s[0, len), counting no further than limit. A NUL counts as a
 * space, so the count is the same after session_cmd_split. */
static size_t count_words(const char *s, size_t len, size_t limit)
{
	size_t n = 0, i = 0;
	while (n < limit) {
		while (i < len && (s[i] == ' ' || s[i] == '\0'))
			i++;
		if (i == len)
			break;
		n++;
		while (i < len && s[i] != ' ' && s[i] != '\0')
			i++;
	}
	return n;
}

static bool args_ok(const struct session_call *c)
{
	const struct session_cmd *d = c->cmd;
	size_t n;
	switch (d->args) {
	case SESSION_ARG_NONE:
		return count_words(c->arg, c->arglen, 1) == 0;
	case SESSION_ARG_WORDS:
		n = count_words(c->arg, c->arglen, (size_t)d->max + 1);
		break;
	default:
		n = c->arglen > 0 ? 1 : 0;
		break;
	}
	return n >= d->min && n <= d->max;
}

enum session_refusal session_cmd_check(const struct session_call *c)
{
	const struct session_cmd *d = c->cmd;
	if (d == NULL)
		return *c->verb != '\0' ? SESSION_REFUSE_UNKNOWN : SESSION_REFUSE_EMPTY;
	if (d->flags & SESSION_CMD_NOT_IMPL)
		return SESSION_REFUSE_NOT_IMPL;
	if ((d->flags & SESSION_CMD_NEEDS_LOGIN) && !c->logged_in)
		return SESSION_REFUSE_LOGIN;
	if ((d->states & c->state) == 0)
		return SESSION_REFUSE_STATE;
	if ((d->flags & SESSION_CMD_NEEDS_TLS) && !c->tls)
		return SESSION_REFUSE_TLS;
	if (d->pflags & c->deny)
		return SESSION_REFUSE_DENIED;
	if (!args_ok(c))
		return SESSION_REFUSE_ARGS;
	if ((d->flags & SESSION_CMD_NEEDS_PLAINTEXT) && c->tls)
		return SESSION_REFUSE_PLAINTEXT;
	return SESSION_REFUSE_NONE;
}

void session_cmd_split(struct session_call *c)
{
	c->argc = 0;
	if (c->cmd == NULL || c->cmd->args != SESSION_ARG_WORDS)
		return;
	char *p = c->arg;
	while (c->argc < SESSION_CMD_WORDS_MAX) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		c->argv[c->argc++] = p;
		p += strcspn(p, " ");
		if (*p == ' ')
			*p++ = '\0';
	}
}

static void log_command(const struct session *s, const struct session_call *c)
{
	if (log_get_level() < LOG_DEBUG)
		return;
	char qt[64], qv[64], qa[128];
	const char *args = c->cmd != NULL && (c->cmd->flags & SESSION_CMD_SECRET) && c->arglen > 0
		? "***" : log_quote(qa, sizeof qa, c->arg);
	if (c->tag != NULL)
		log_event(LOG_DEBUG, "command", "proto=%s session=%llu tag=%s verb=%s args=%s",
			  s->proto, (unsigned long long)s->id, log_quote(qt, sizeof qt, c->tag),
			  log_quote(qv, sizeof qv, c->verb), args);
	else
		log_event(LOG_DEBUG, "command", "proto=%s session=%llu verb=%s args=%s", s->proto,
			  (unsigned long long)s->id, log_quote(qv, sizeof qv, c->verb), args);
}

enum session_refusal session_cmd_run(struct session *s, const struct session_cmds *set,
				     char *line, void *proto)
{
	struct session_call c;
	enum session_refusal why = session_cmd_parse(set, line, &c);
	c.s = s;
	c.proto = proto;
	if (why == SESSION_REFUSE_EMPTY) {
		set->refuse(&c, why);
		return why;
	}
	log_command(s, &c);
	if (set->before != NULL && !set->before(&c))
		return SESSION_REFUSE_HOOK;
	/* After the hook: it may have changed the state (FTP: RNFR ends). */
	c.state = s->state;
	c.logged_in = s->logged_in;
	c.tls = s->tls;
	why = session_cmd_check(&c);
	if (why == SESSION_REFUSE_NONE) {
		session_cmd_split(&c);
		c.cmd->handler(&c);
	} else {
		set->refuse(&c, why);
	}
	if (set->after != NULL)
		set->after(&c, why);
	return why;
}

static int entry_check(const struct session_cmds *set, const struct session_cmd *d, ik_err *e)
{
	const char *v = d->verb;
	size_t vl = v != NULL ? strlen(v) : 0;
	const char *sp = v != NULL ? strchr(v, ' ') : NULL;
	if (vl == 0 || v[0] == ' ' || v[vl - 1] == ' ' || (sp != NULL && strchr(sp + 1, ' ')))
		return ik_err_set(e, "verb '%s': one or two words, one space between", v ? v : "");
	for (const struct session_cmd *o = set->table; o < d; o++)
		if (strcasecmp(o->verb, v) == 0)
			return ik_err_set(e, "verb '%s' is in the table twice", v);
	if (d->states == 0 || d->help == NULL)
		return ik_err_set(e, "verb '%s': no states or no help text", v);
	if ((d->handler == NULL) != ((d->flags & SESSION_CMD_NOT_IMPL) != 0))
		return ik_err_set(e, "verb '%s': a handler, or NOT_IMPL and none", v);
	if ((d->flags & SESSION_CMD_NEEDS_TLS) && (d->flags & SESSION_CMD_NEEDS_PLAINTEXT))
		return ik_err_set(e, "verb '%s': needs both TLS and plaintext", v);
	bool bounds = d->min <= d->max;
	if (d->args == SESSION_ARG_NONE)
		bounds = d->max == 0;
	else if (d->args == SESSION_ARG_WORDS)
		bounds = bounds && d->max <= SESSION_CMD_WORDS_MAX;
	else
		bounds = bounds && d->max == 1;
	if (!bounds)
		return ik_err_set(e, "verb '%s': argument bounds %u..%u do not fit its rule", v,
			       d->min, d->max);
	if (set->prelogin == 0)
		return 0;
	bool needs = d->flags & SESSION_CMD_NEEDS_LOGIN, before = d->flags & SESSION_CMD_BEFORE_LOGIN;
	if (needs == before)
		return ik_err_set(e, "verb '%s': say NEEDS_LOGIN or BEFORE_LOGIN (one of them)", v);
	if (before != ((d->states & set->prelogin) != 0))
		return ik_err_set(e, "verb '%s': its states %s a pre-login state but it is %s", v,
			       before ? "lack" : "hold", before ? "BEFORE_LOGIN" : "NEEDS_LOGIN");
	return 0;
}

int session_cmd_table_check(const struct session_cmds *set, ik_err *e)
{
	if (set->refuse == NULL)
		return ik_err_set(e, "a command set needs a refuse hook");
	for (size_t i = 0; i < set->n; i++)
		if (entry_check(set, &set->table[i], e) < 0)
			return -1;
	return 0;
}

const char *session_refusal_text(enum session_refusal why)
{
	static const char *const names[] = {
		[SESSION_REFUSE_NONE] = "none",
		[SESSION_REFUSE_EMPTY] = "empty line",
		[SESSION_REFUSE_UNKNOWN] = "unknown verb",
		[SESSION_REFUSE_NOT_IMPL] = "not implemented",
		[SESSION_REFUSE_LOGIN] = "needs login",
		[SESSION_REFUSE_STATE] = "bad state",
		[SESSION_REFUSE_TLS] = "needs TLS",
		[SESSION_REFUSE_DENIED] = "denied",
		[SESSION_REFUSE_ARGS] = "bad arguments",
		[SESSION_REFUSE_PLAINTEXT] = "needs plaintext",
		[SESSION_REFUSE_HOOK] = "taken by the before hook",
	};
	return (unsigned)why < sizeof names / sizeof names[0] ? names[why] : "?";
}

void session_set_state(struct session *s, unsigned state, const char *name)
{
	if (s->state != state)
		log_event(LOG_DEBUG, "state", "proto=%s session=%llu from=%#x to=%#x name=%s", s->proto,
			  (unsigned long long)s->id, s->state, state, name != NULL ? name : "-");
	s->state = state;
}

unsigned session_state(const struct session *s) { return s->state; }
void session_set_login(struct session *s, bool logged_in) { s->logged_in = logged_in; }
bool session_logged_in(const struct session *s) { return s->logged_in; }
