/* Command tables for line protocols (the OpenSMTPD habit: verbs are
 * data). RFC 5321 section 2.4, RFC 1939 section 3, RFC 959 section 4.1:
 * verbs are case-insensitive and separated from their arguments by a
 * space. The core checks state, TLS and login, so handlers never do. */
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/session_int.h"

const struct session_cmd *session_cmd_find(const struct session_cmd *table, size_t n,
					   const char *verb, size_t verblen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].verb) == verblen && strncasecmp(table[i].verb, verb, verblen) == 0)
			return &table[i];
	return NULL;
}

enum session_cmd_result session_cmd_dispatch(struct session *s, const struct session_cmd *table,
					     size_t n, char *line, void *proto,
					     const struct session_cmd **found)
{
	if (found != NULL)
		*found = NULL;
	while (*line == ' ')
		line++;
	if (*line == '\0')
		return SESSION_CMD_EMPTY;
	size_t verblen = strcspn(line, " ");
	char *args = line + verblen;
	while (*args == ' ')
		args++;
	const struct session_cmd *c = session_cmd_find(table, n, line, verblen);
	if (log_get_level() >= LOG_DEBUG) {
		char verb[32], qv[48], qa[128];
		size_t vl = verblen < sizeof verb - 1 ? verblen : sizeof verb - 1;
		memcpy(verb, line, vl);
		verb[vl] = '\0';
		log_event(LOG_DEBUG, "command", "proto=%s session=%llu verb=%s args=%s", s->proto,
			  (unsigned long long)s->id, log_quote(qv, sizeof qv, verb),
			  c != NULL && (c->flags & SESSION_CMD_SECRET) && *args != '\0'
				  ? "***" : log_quote(qa, sizeof qa, args));
	}
	if (c == NULL)
		return SESSION_CMD_UNKNOWN;
	if (found != NULL)
		*found = c;
	if ((c->states & s->state) == 0)
		return SESSION_CMD_BAD_STATE;
	if ((c->flags & SESSION_CMD_NEEDS_TLS) && !s->tls)
		return SESSION_CMD_TLS_REQUIRED;
	if ((c->flags & SESSION_CMD_NEEDS_LOGIN) && !s->logged_in)
		return SESSION_CMD_LOGIN_REQUIRED;
	c->handler(s, proto, args);
	return SESSION_CMD_DONE;
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
