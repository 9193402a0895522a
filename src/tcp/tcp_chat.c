/* Chat mode: every line a client sends goes to every other client,
 * prefixed by its sender ("[127.0.0.1:5555] text"). Lines are bounded
 * (session line mode); control bytes are shown as '?' so that nobody can
 * drive the others' terminals; a reader too slow to keep up is dropped
 * by its session's output limit instead of growing memory. Lines that
 * start with '/' are commands, from one table (core/session_cmd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "tcp/tcp_int.h"

enum { CHAT_ON = 1 };

static void chat_send_others(struct tcp_conn *from, const char *msg, size_t len)
{
	for (struct tcp_conn *o = tcp_conn_first(from->srv); o != NULL; o = tcp_conn_next(o))
		if (o != from && !session_closing(o->s))
			session_write(o->s, msg, len);
}

static size_t chat_count_others(struct tcp_conn *c)
{
	size_t n = 0;
	for (struct tcp_conn *o = tcp_conn_first(c->srv); o != NULL; o = tcp_conn_next(o))
		if (o != c && !session_closing(o->s))
			n++;
	return n;
}

static void cmd_who(struct session_call *k)
{
	struct tcp_conn *c = k->proto;
	session_printf(k->s, "* %zu here:\n", chat_count_others(c) + 1);
	for (struct tcp_conn *o = tcp_conn_first(c->srv); o != NULL; o = tcp_conn_next(o))
		if (!session_closing(o->s))
			session_printf(k->s, "*   [%s]%s\n", session_peer(o->s), o == c ? " (you)" : "");
}

static void cmd_quit(struct session_call *k)
{
	session_printf(k->s, "* bye\n");
	session_shutdown_write(k->s);
}

static void cmd_help(struct session_call *k)
{
	session_printf(k->s, "* lines you type go to everyone else; /who lists who is here, "
		       "/quit leaves\n");
}

/* What follows a command is ignored (RAW 0..1): "/quit now" quits. */
static const struct session_cmd chat_table[] = {
	{"/who", CHAT_ON, 0, SESSION_ARG_RAW, 0, 1, "/who", cmd_who, 0, NULL},
	{"/quit", CHAT_ON, 0, SESSION_ARG_RAW, 0, 1, "/quit", cmd_quit, 0, NULL},
	{"/help", CHAT_ON, 0, SESSION_ARG_RAW, 0, 1, "/help", cmd_help, 0, NULL},
};

static void chat_refuse(struct session_call *k, enum session_refusal why)
{
	if (why == SESSION_REFUSE_UNKNOWN)
		session_printf(k->s, "* unknown command; /help lists them\n");
	else
		session_printf(k->s, "* %s: %s\n", k->verb, session_refusal_text(why));
}

static const struct session_cmds tcp_chat_cmds = {
	.table = chat_table,
	.n = sizeof chat_table / sizeof chat_table[0],
	.refuse = chat_refuse,
};

void tcp_chat_join(struct tcp_conn *c)
{
	char msg[128];
	session_set_state(c->s, CHAT_ON, "chat");
	session_printf(c->s, "* welcome [%s]; %zu other%s here; /help for commands\n",
		       session_peer(c->s), chat_count_others(c),
		       chat_count_others(c) == 1 ? "" : "s");
	int n = str_fmt(msg, sizeof msg, "* [%s] joined\n", session_peer(c->s));
	if (n > 0)
		chat_send_others(c, msg, (size_t)n);
}

static void chat_line(struct tcp_conn *c, char *line, size_t len)
{
	if (line[0] == '/') {
		session_cmd_run(c->s, &tcp_chat_cmds, line, c);
		return;
	}
	const char *peer = session_peer(c->s);
	size_t plen = strlen(peer);
	/* "[" peer "] " line "\n": built once, written to everyone. */
	char msg[2048];
	char *heap = NULL, *p = msg;
	size_t need = plen + 4 + len + 1;
	if (need > sizeof msg) {
		heap = malloc(need);
		if (heap == NULL)
			return;
		p = heap;
	}
	size_t k = 0;
	p[k++] = '[';
	memcpy(p + k, peer, plen);
	k += plen;
	p[k++] = ']';
	p[k++] = ' ';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		p[k++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
	}
	p[k++] = '\n';
	chat_send_others(c, p, k);
	free(heap);
}

void tcp_chat_io(struct tcp_conn *c, const struct session_ev *ev)
{
	char msg[128];
	int n;
	switch (ev->type) {
	case SESSION_EV_LINE:
		chat_line(c, ev->line, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		if (ev->error == SESSION_LINE_TOO_LONG)
			session_printf(c->s, "* line too long (the limit is %zu bytes): not sent\n",
				       tcp_conn_conf(c)->max_line);
		else
			session_printf(c->s, "* %s: not sent\n", session_line_status_text(ev->error));
		break;
	case SESSION_EV_CLOSED:
		if (server_stopping(c->srv->core))
			break;
		n = str_fmt(msg, sizeof msg, "* [%s] left\n", session_peer(c->s));
		if (n > 0)
			chat_send_others(c, msg, (size_t)n);
		break;
	default:
		break;
	}
}
