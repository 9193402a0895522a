/* The client core's object and its sending side (see client.h): commands
 * as CR LF lines that can never carry a second command (RFC 959 4.1,
 * RFC 5321 2.3.8), IMAP tags (RFC 3501 2.2.1), SMTP DATA bodies
 * dot-stuffed (RFC 5321 4.5.2), the trace with secrets masked, in-place
 * TLS upgrades. Reading replies is client_reply.c. */
#include "core/client_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/str.h"
#include "core/term.h"

void client_opts_default(struct client_opts *o)
{
	memset(o, 0, sizeof *o);
	o->family = AF_UNSPEC;
	o->connect_timeout_ms = CLIENT_CONNECT_TIMEOUT_DEFAULT;
	o->reply_timeout_ms = CLIENT_REPLY_TIMEOUT_DEFAULT;
	o->max_line = CLIENT_LINE_MAX_DEFAULT;
	o->max_reply = CLIENT_REPLY_MAX_DEFAULT;
	o->max_literal = CLIENT_LITERAL_MAX_DEFAULT;
}

struct client *client_new(const struct client_dialect *d, void *ctx, const struct client_opts *o)
{
	struct client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->d = d;
	c->ctx = ctx;
	c->o = *o;
	if (c->o.max_line == 0)
		c->o.max_line = CLIENT_LINE_MAX_DEFAULT;
	if (c->o.max_reply == 0)
		c->o.max_reply = CLIENT_REPLY_MAX_DEFAULT;
	if (c->o.max_literal == 0)
		c->o.max_literal = CLIENT_LITERAL_MAX_DEFAULT;
	c->in_cap = c->o.max_line + 2;	/* a longest line and its CR LF */
	c->in = malloc(c->in_cap);
	if (c->in == NULL) {
		free(c);
		return NULL;
	}
	client_conn_init(&c->conn);
	client_expect_default(c);
	return c;
}

void client_free(struct client *c)
{
	if (c == NULL)
		return;
	client_conn_abort(&c->conn);
	free(c->in);
	free(c);
}

void *client_dialect_ctx(const struct client *c) { return c->ctx; }

void client_trace_line(struct client *c, char dir, const char *s, size_t n)
{
	if (c->o.trace == NULL)
		return;
	flockfile(c->o.trace);
	fprintf(c->o.trace, "%s%c ", c->o.trace_tag, dir);
	for (size_t i = 0; i < n; i++)
		putc_unlocked(term_safe_char((unsigned char)s[i]), c->o.trace);
	putc_unlocked('\n', c->o.trace);
	funlockfile(c->o.trace);
	fflush(c->o.trace);
}

void client_trace_note(struct client *c, const char *fmt, ...)
{
	if (c->o.trace == NULL)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	client_trace_line(c, '*', buf, strlen(buf));
}

static const char *state_name(const struct client *c, int st)
{
	if (st >= 0 && st < c->d->nstates && c->d->state_names != NULL &&
	    c->d->state_names[st] != NULL)
		return c->d->state_names[st];
	return "?";
}

void client_set_state(struct client *c, int state)
{
	if (state == c->state)
		return;
	log_event(LOG_DEBUG, "client_state", "proto=%s peer=%s from=%s to=%s", c->d->name,
		  c->conn.peer_text[0] ? c->conn.peer_text : "-", state_name(c, c->state),
		  state_name(c, state));
	c->state = state;
}

int client_state(const struct client *c) { return c->state; }
struct client_conn *client_connection(struct client *c) { return &c->conn; }
const char *client_host(const struct client *c) { return c->host; }
const struct client_opts *client_options(const struct client *c) { return &c->o; }

int client_connect(struct client *c, const char *host, uint16_t port, ik_err *e)
{
	if (str_copy(c->host, sizeof c->host, host) < 0)
		return ik_err_set(e, "host name '%.40s...' is too long", host);
	c->port = port;
	c->in_off = c->in_len = 0;
	client_expect_default(c);
	if (client_conn_connect(&c->conn, host, port, c->o.family, c->o.connect_timeout_ms,
				e) < 0)
		return -1;
	client_trace_note(c, "connected to %s", c->conn.peer_text);
	return 0;
}

static bool is_secret(const struct client *c, const char *verb)
{
	if (c->d->secret_verbs == NULL)
		return false;
	for (const char *const *v = c->d->secret_verbs; *v != NULL; v++)
		if (strcasecmp(*v, verb) == 0)
			return true;
	return false;
}

/* "[TAG ]VERB[ ARG]" CR LF. tag may be NULL. */
static int send_line(struct client *c, const char *tag, const char *verb, const char *arg,
		     size_t arglen, bool secret, ik_err *e)
{
	size_t tlen = tag != NULL ? strlen(tag) + 1 : 0;
	size_t vlen = strlen(verb);
	/* The check that keeps user input from ever becoming a second command. */
	if (strpbrk(verb, "\r\n") != NULL ||
	    (arg != NULL && (memchr(arg, '\r', arglen) != NULL || memchr(arg, '\n', arglen) != NULL ||
			     memchr(arg, '\0', arglen) != NULL)))
		return ik_err_set(e, "refusing to send a %s command containing a line break or "
				  "NUL byte", *verb ? verb : "line");
	size_t n = tlen + vlen + (arg != NULL ? 1 + arglen : 0) + 2;
	if (n > c->o.max_line + 2)
		return ik_err_set(e, "%s command is longer than %zu bytes", verb, c->o.max_line);
	char stackbuf[1024];
	char *line = n <= sizeof stackbuf ? stackbuf : malloc(n);
	if (line == NULL)
		return ik_err_set(e, "out of memory");
	size_t k = 0;
	if (tag != NULL) {
		memcpy(line, tag, tlen - 1);
		line[tlen - 1] = ' ';
		k = tlen;
	}
	memcpy(line + k, verb, vlen);
	k += vlen;
	if (arg != NULL) {
		if (vlen > 0)
			line[k++] = ' ';
		memcpy(line + k, arg, arglen);
		k += arglen;
	}
	line[k++] = '\r';
	line[k++] = '\n';
	if (c->o.trace != NULL) {
		if (secret) {
			/* the tag and verb, never what follows */
			size_t shown = vlen > 0 && arg != NULL ? tlen + vlen + 1 : tlen;
			char masked[128];
			int m = str_fmt(masked, sizeof masked, "%.*s****", (int)shown, line);
			if (m < 0)
				client_trace_line(c, '>', "****", 4);
			else
				client_trace_line(c, '>', masked, (size_t)m);
		} else {
			client_trace_line(c, '>', line, k - 2);
		}
	}
	int r = client_conn_write(&c->conn, line, k, c->o.reply_timeout_ms, e);
	if (line != stackbuf)
		free(line);
	return r;
}

int client_sendn(struct client *c, const char *verb, const char *arg, size_t arglen, ik_err *e)
{
	return send_line(c, NULL, verb, arg, arglen, is_secret(c, verb), e);
}

int client_send(struct client *c, const char *verb, const char *arg, ik_err *e)
{
	return send_line(c, NULL, verb, arg, arg != NULL ? strlen(arg) : 0, is_secret(c, verb), e);
}

int client_send_secret_line(struct client *c, const char *line, ik_err *e)
{
	return send_line(c, NULL, "", line, strlen(line), true, e);
}

int client_send_call(struct client *c, const struct client_call *call, const char *verb,
		     const char *arg, ik_err *e)
{
	client_expect_next(c, call);
	const char *tag = NULL;
	if (c->cur.expect == CLIENT_EXPECT_TAGGED) {
		/* A0001 ... A9999, then A10000: unique on the connection. */
		c->tag_seq++;
		str_fmt(c->tag, sizeof c->tag, "A%04u", c->tag_seq);
		tag = c->tag;
	}
	bool secret = (call != NULL && call->secret) || is_secret(c, verb);
	if (send_line(c, tag, verb, arg, arg != NULL ? strlen(arg) : 0, secret, e) < 0) {
		client_expect_default(c);
		return -1;
	}
	return 0;
}

int client_send_raw(struct client *c, const void *buf, size_t n, bool secret, ik_err *e)
{
	if (c->o.trace != NULL) {
		if (secret)
			client_trace_line(c, '>', "****", 4);
		else
			client_trace_note(c, "sent %zu bytes of literal data", n);
	}
	return client_conn_write(&c->conn, buf, n, c->o.reply_timeout_ms, e);
}

int client_send_dot_body(struct client *c, int fd, uint64_t *sent, ik_err *e)
{
	enum { CHUNK = 16 * 1024 };
	char in[CHUNK];
	char out[CHUNK * DOTSTUFF_OUT_PER_BYTE];
	struct dot_stuffer st;
	dotstuff_stuff_init(&st);
	uint64_t total = 0, read_total = 0;
	for (;;) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ik_err_errno(e, errno, "read the message to send");
		if (r == 0)
			break;
		read_total += (uint64_t)r;
		size_t olen;
		size_t used = dotstuff_stuff(&st, in, (size_t)r, out, sizeof out, &olen);
		(void)used;	/* out holds 3 bytes per input byte: all taken */
		if (client_conn_write(&c->conn, out, olen, c->o.reply_timeout_ms, e) < 0)
			return -1;
		total += olen;
	}
	size_t olen = dotstuff_end(&st, out);
	if (client_conn_write(&c->conn, out, olen, c->o.reply_timeout_ms, e) < 0)
		return -1;
	total += olen;
	client_trace_note(c, "sent a message of %llu bytes (%llu on the wire)",
			  (unsigned long long)read_total, (unsigned long long)total);
	client_trace_line(c, '>', ".", 1);
	if (sent != NULL)
		*sent = total;
	return 0;
}

int client_starttls(struct client *c, SSL_CTX *ctx, bool verify_name, ik_err *e)
{
	if (c->in_len != c->in_off)
		return ik_err_set(e, "%s sent data after its TLS go-ahead; refusing to continue "
				  "(it could be an attempt to inject commands)", c->conn.peer_text);
	c->in_off = c->in_len = 0;
	if (client_conn_tls(&c->conn, ctx, verify_name ? c->host : NULL, NULL,
			    c->o.connect_timeout_ms, e) < 0)
		return -1;
	if (c->o.trace != NULL) {
		char info[128];
		client_trace_note(c, "TLS: %s", client_conn_tls_info(&c->conn, info, sizeof info));
	}
	return 0;
}
