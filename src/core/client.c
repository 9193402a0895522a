/* The command -> reply dialogue of the shared client core (see client.h):
 * RFC 959 4.2 / RFC 5321 4.2 line discipline (CR LF, bounded lines), the
 * dialect deciding where a reply ends, and in-place TLS upgrades. */
#include "core/client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"
#include "core/term.h"
#include "core/timeutil.h"

struct client {
	const struct client_dialect *d;
	struct client_opts o;
	struct client_conn conn;
	int state;
	char host[CLIENT_HOST_MAX];
	uint16_t port;
	char *in;		/* received, not yet consumed */
	size_t in_off, in_len, in_cap;
};

void client_opts_default(struct client_opts *o)
{
	memset(o, 0, sizeof *o);
	o->family = AF_UNSPEC;
	o->connect_timeout_ms = CLIENT_CONNECT_TIMEOUT_DEFAULT;
	o->reply_timeout_ms = CLIENT_REPLY_TIMEOUT_DEFAULT;
	o->max_line = CLIENT_LINE_MAX_DEFAULT;
	o->max_reply = CLIENT_REPLY_MAX_DEFAULT;
}

void client_reply_init(struct client_reply *r)
{
	memset(r, 0, sizeof *r);
	sbuf_init(&r->text, CLIENT_REPLY_MAX_DEFAULT);
}

void client_reply_free(struct client_reply *r)
{
	sbuf_free(&r->text);
}

const char *client_reply_text(const struct client_reply *r)
{
	return sbuf_cstr(&r->text);
}

const char *client_reply_last(const struct client_reply *r)
{
	const char *t = sbuf_cstr(&r->text);
	const char *nl = strrchr(t, '\n');
	return nl != NULL ? nl + 1 : t;
}

struct client *client_new(const struct client_dialect *d, const struct client_opts *o)
{
	struct client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->d = d;
	c->o = *o;
	if (c->o.max_line == 0)
		c->o.max_line = CLIENT_LINE_MAX_DEFAULT;
	if (c->o.max_reply == 0)
		c->o.max_reply = CLIENT_REPLY_MAX_DEFAULT;
	c->in_cap = c->o.max_line + 2;	/* a longest line and its CR LF */
	c->in = malloc(c->in_cap);
	if (c->in == NULL) {
		free(c);
		return NULL;
	}
	client_conn_init(&c->conn);
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

static void trace_line(struct client *c, char dir, const char *s, size_t n)
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
	trace_line(c, '*', buf, strlen(buf));
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

static int send_line(struct client *c, const char *verb, const char *arg, size_t arglen,
		     bool secret, ik_err *e)
{
	size_t vlen = strlen(verb);
	/* The check that keeps user input from ever becoming a second command. */
	if (strpbrk(verb, "\r\n") != NULL || memchr(arg ? arg : "", '\r', arglen) != NULL ||
	    (arg != NULL && (memchr(arg, '\n', arglen) != NULL || memchr(arg, '\0', arglen) != NULL)))
		return ik_err_set(e, "refusing to send a %s command containing a line break or "
				  "NUL byte", *verb ? verb : "line");
	size_t n = vlen + (arg != NULL ? 1 + arglen : 0) + 2;
	if (n > c->o.max_line + 2)
		return ik_err_set(e, "%s command is longer than %zu bytes", verb, c->o.max_line);
	char stackbuf[1024];
	char *line = n <= sizeof stackbuf ? stackbuf : malloc(n);
	if (line == NULL)
		return ik_err_set(e, "out of memory");
	memcpy(line, verb, vlen);
	size_t k = vlen;
	if (arg != NULL) {
		if (vlen > 0)
			line[k++] = ' ';
		memcpy(line + k, arg, arglen);
		k += arglen;
	}
	line[k++] = '\r';
	line[k++] = '\n';
	if (c->o.trace != NULL) {
		if (secret && arg != NULL && vlen > 0) {
			char masked[64];
			int m = str_fmt(masked, sizeof masked, "%s ****", verb);
			trace_line(c, '>', masked, m > 0 ? (size_t)m : 0);
		} else if (secret) {
			trace_line(c, '>', "****", 4);
		} else {
			trace_line(c, '>', line, k - 2);
		}
	}
	int r = client_conn_write(&c->conn, line, k, c->o.reply_timeout_ms, e);
	if (line != stackbuf)
		free(line);
	return r;
}

int client_sendn(struct client *c, const char *verb, const char *arg, size_t arglen, ik_err *e)
{
	return send_line(c, verb, arg, arglen, is_secret(c, verb), e);
}

int client_send(struct client *c, const char *verb, const char *arg, ik_err *e)
{
	return send_line(c, verb, arg, arg != NULL ? strlen(arg) : 0, is_secret(c, verb), e);
}

int client_send_secret_line(struct client *c, const char *line, ik_err *e)
{
	return send_line(c, "", line, strlen(line), true, e);
}

/* Read more bytes into the input buffer before the deadline (timeout_ms
 * after the wait began, for the message). *timed_out tells a deadline
 * passed from every other failure. */
static int fill(struct client *c, uint64_t deadline, uint64_t timeout_ms, bool *timed_out,
		ik_err *e)
{
	*timed_out = false;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	uint64_t now = time_mono_ms();
	if (now >= deadline) {
		*timed_out = true;
		return ik_err_set(e, "no complete reply from %s within %llu ms", c->conn.peer_text,
				  (unsigned long long)timeout_ms);
	}
	ik_err re;
	ssize_t r = client_conn_read(&c->conn, c->in + c->in_len, c->in_cap - c->in_len,
				     deadline - now, &re);
	if (r == 0)
		return ik_err_set(e, "%s closed the connection", c->conn.peer_text);
	if (r < 0) {
		if (time_mono_ms() >= deadline) {
			*timed_out = true;
			return ik_err_set(e, "no complete reply from %s within %llu ms "
					  "(raise --timeout?)", c->conn.peer_text,
					  (unsigned long long)timeout_ms);
		}
		if (e != NULL)
			*e = re;
		return -1;
	}
	c->in_len += (size_t)r;
	return 0;
}

/* The next line (without CR LF) in place; *len its length. */
static int next_line(struct client *c, uint64_t deadline, char **line, size_t *len, ik_err *e)
{
	bool timed_out;
	for (;;) {
		char *start = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		char *lf = memchr(start, '\n', avail);
		if (lf != NULL) {
			size_t n = (size_t)(lf - start);
			c->in_off += n + 1;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			if (n > c->o.max_line)
				break;
			*line = start;
			*len = n;
			return 0;
		}
		if (avail >= c->in_cap)
			break;
		if (fill(c, deadline, c->o.reply_timeout_ms, &timed_out, e) < 0)
			return -1;
	}
	return ik_err_set(e, "%s sent a reply line longer than %zu bytes; giving up on it",
			  c->conn.peer_text, c->o.max_line);
}

static int store_line(struct client_reply *r, const char *line, size_t len)
{
	if (r->nlines > 0 && sbuf_addch(&r->text, '\n') < 0)
		return -1;
	char *dst = sbuf_reserve(&r->text, len);
	if (dst == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		dst[i] = term_safe_char((unsigned char)line[i]);
	sbuf_commit(&r->text, len);
	r->nlines++;
	return 0;
}

int client_read_reply(struct client *c, struct client_reply *r, ik_err *e)
{
	sbuf_free(&r->text);
	sbuf_init(&r->text, c->o.max_reply);
	r->code = 0;
	r->phase = 0;
	r->nlines = 0;
	uint64_t deadline = time_mono_ms() + c->o.reply_timeout_ms;
	for (;;) {
		char *line = NULL;
		size_t len = 0;
		if (next_line(c, deadline, &line, &len, e) < 0)
			return -1;
		trace_line(c, '<', line, len);
		if (store_line(r, line, len) < 0)
			return ik_err_set(e, "%s sent a reply longer than %zu bytes; giving up on it",
					  c->conn.peer_text, c->o.max_reply);
		int done = c->d->reply_line(r, line, len, e);
		if (done < 0)
			return ik_err_prefix(e, "%s", c->conn.peer_text);
		if (done > 0)
			return 0;
	}
}

int client_wait_line(struct client *c, uint64_t timeout_ms, ik_err *e)
{
	uint64_t deadline = time_mono_ms() + timeout_ms;
	for (;;) {
		size_t avail = c->in_len - c->in_off;
		/* A full buffer without a line end is for client_read_reply
		 * to report as an over-long line. */
		if (memchr(c->in + c->in_off, '\n', avail) != NULL || avail >= c->in_cap)
			return 1;
		bool timed_out;
		if (fill(c, deadline, timeout_ms, &timed_out, e) < 0) {
			if (!timed_out)
				return -1;
			return ik_err_set(e, "%s sent no complete line within %llu ms",
					  c->conn.peer_text, (unsigned long long)timeout_ms), 0;
		}
	}
}

int client_command(struct client *c, const char *verb, const char *arg,
		   struct client_reply *r, ik_err *e)
{
	if (client_send(c, verb, arg, e) < 0)
		return -1;
	return client_read_reply(c, r, e);
}

ssize_t client_read_raw(struct client *c, void *buf, size_t n, ik_err *e)
{
	size_t avail = c->in_len - c->in_off;
	if (avail > 0) {
		size_t k = avail < n ? avail : n;
		memcpy(buf, c->in + c->in_off, k);
		c->in_off += k;
		return (ssize_t)k;
	}
	return client_conn_read(&c->conn, buf, n, c->o.reply_timeout_ms, e);
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
