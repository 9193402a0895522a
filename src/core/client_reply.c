/* Reading replies in the client core (see client.h): the line discipline
 * (CR LF, bounded lines, RFC 959 4.2 / RFC 5321 2.3.8), the end rules per
 * command -- one line, numeric (RFC 959 4.2, RFC 5321 4.2), dot-terminated
 * (RFC 1939 3), tagged (RFC 3501 2.2.2) -- literals (RFC 3501 4.3) and
 * body sinks.
 *
 * reply_step is the engine: it consumes what the input buffer holds and
 * says "complete", "need more" or "error", and never reads the socket
 * itself. client_read_reply is its blocking driver; an event-loop driver
 * would call reply_step from a read callback instead. */
#include "core/client_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/reply_num.h"
#include "core/term.h"
#include "core/timeutil.h"

void client_reply_init(struct client_reply *r)
{
	memset(r, 0, sizeof *r);
	sbuf_init(&r->text, CLIENT_REPLY_MAX_DEFAULT);
	sbuf_init(&r->body, CLIENT_REPLY_MAX_DEFAULT);
}

void client_reply_free(struct client_reply *r)
{
	sbuf_free(&r->text);
	sbuf_free(&r->body);
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

const char *client_reply_body(const struct client_reply *r, size_t *len)
{
	if (len != NULL)
		*len = r->body.len;
	return sbuf_cstr(&r->body);
}

void client_reply_literal(struct client_reply *r, uint64_t n)
{
	r->want_literal = true;
	r->literal = n;
}

void client_sink_fd(struct client_sink *s, int fd, uint64_t max)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->max = max;
}

void client_expect_default(struct client *c)
{
	memset(&c->cur, 0, sizeof c->cur);
	c->cur.expect = c->d->default_expect != CLIENT_EXPECT_DEFAULT ? c->d->default_expect
								      : CLIENT_EXPECT_HOOK;
}

void client_expect_next(struct client *c, const struct client_call *call)
{
	client_expect_default(c);
	if (call == NULL)
		return;
	enum client_expect dflt = c->cur.expect;
	c->cur = *call;
	if (c->cur.expect == CLIENT_EXPECT_DEFAULT)
		c->cur.expect = dflt;
}

/* ---- The engine. ---- */

static const char *label(const struct client *c)
{
	return c->d->label != NULL ? c->d->label : c->d->name;
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

static uint64_t body_limit(const struct client *c)
{
	return c->cur.sink != NULL ? c->cur.sink->max : c->o.max_reply;
}

static int body_too_long(const struct client *c, ik_err *e)
{
	return ik_err_set(e, "%s sent a body longer than %llu bytes; giving up on it",
			  c->conn.peer_text, (unsigned long long)body_limit(c));
}

static int sink_write(struct client_sink *s, const char *p, size_t n, ik_err *e)
{
	if (s->write != NULL)
		return s->write(s->arg, p, n, e);
	while (n > 0) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ik_err_errno(e, w < 0 ? errno : EIO, "write the received body");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Body or literal bytes, to the sink or to memory, within the limit. */
static int deliver(struct client *c, struct client_reply *r, const char *p, size_t n, ik_err *e)
{
	if (n == 0)
		return 0;
	if (n > body_limit(c) - r->body_len)
		return body_too_long(c, e);
	int k = c->cur.sink != NULL ? sink_write(c->cur.sink, p, n, e) : sbuf_add(&r->body, p, n);
	if (k < 0)
		return c->cur.sink != NULL ? -1 : body_too_long(c, e);
	r->body_len += n;
	c->progressed = true;
	return 0;
}

static int sink_begin(struct client *c, uint64_t size, ik_err *e)
{
	struct client_sink *s = c->cur.sink;
	return s != NULL && s->begin != NULL ? s->begin(s->arg, size, e) : 0;
}

static int sink_end(struct client *c, ik_err *e)
{
	struct client_sink *s = c->cur.sink;
	return s != NULL && s->end != NULL ? s->end(s->arg, e) : 0;
}

static int start_literal(struct client *c, struct client_reply *r, ik_err *e)
{
	uint64_t n = r->literal;
	uint64_t max = c->cur.literal_max != 0 ? c->cur.literal_max : c->o.max_literal;
	r->want_literal = false;
	if (n > max)
		return ik_err_set(e, "%s announced a literal of %llu bytes, more than the %llu "
				  "allowed; giving up on it", c->conn.peer_text,
				  (unsigned long long)n, (unsigned long long)max);
	if (n > body_limit(c) - r->body_len)
		return body_too_long(c, e);
	if (sink_begin(c, n, e) < 0)
		return -1;
	r->nliterals++;
	client_trace_note(c, "literal of %llu bytes", (unsigned long long)n);
	c->seg_next = true;
	c->lit_left = n;
	c->rd = CLIENT_RD_LITERAL;
	return 0;
}

static int literal_step(struct client *c, struct client_reply *r, ik_err *e)
{
	size_t avail = c->in_len - c->in_off;
	size_t k = avail < c->lit_left ? avail : (size_t)c->lit_left;
	if (deliver(c, r, c->in + c->in_off, k, e) < 0)
		return -1;
	c->in_off += k;
	c->lit_left -= k;
	if (c->lit_left > 0)
		return 0;
	c->rd = CLIENT_RD_LINES;
	return sink_end(c, e) < 0 ? -1 : 1;
}

static int start_dot(struct client *c, ik_err *e)
{
	if (sink_begin(c, CLIENT_SINK_SIZE_UNKNOWN, e) < 0)
		return -1;
	/* A client accepts a lax server's bare LF line ends; the strict end
	 * matters where a server passes a message on. */
	dotstuff_unstuff_init(&c->dot, true);
	c->rd = CLIENT_RD_DOT;
	return 0;
}

/* 1 at the end of the body, 0 for more bytes, -1. */
static int dot_step(struct client *c, struct client_reply *r, ik_err *e)
{
	char out[4096 + 1];
	while (c->in_off < c->in_len) {
		size_t n = c->in_len - c->in_off;
		if (n > sizeof out - 1)
			n = sizeof out - 1;
		size_t olen;
		size_t used = dotstuff_unstuff(&c->dot, c->in + c->in_off, n, out, &olen);
		c->in_off += used;
		c->progressed = true;
		if (deliver(c, r, out, olen, e) < 0)
			return -1;
		if (c->dot.done) {
			c->rd = CLIENT_RD_LINES;
			client_trace_note(c, "body of %llu bytes", (unsigned long long)r->body_len);
			client_trace_line(c, '<', ".", 1);
			return sink_end(c, e) < 0 ? -1 : 1;
		}
	}
	return 0;
}

/* The next line (without CR LF) in place: 1, or 0 when none is complete
 * yet, or -1 when one is over the limit. */
static int take_line(struct client *c, char **line, size_t *len, ik_err *e)
{
	char *start = c->in + c->in_off;
	size_t avail = c->in_len - c->in_off;
	char *lf = memchr(start, '\n', avail);
	if (lf == NULL) {
		if (avail < c->in_cap)
			return 0;
	} else {
		size_t n = (size_t)(lf - start);
		c->in_off += n + 1;
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n <= c->o.max_line) {
			*line = start;
			*len = n;
			return 1;
		}
	}
	return ik_err_set(e, "%s sent a reply line longer than %zu bytes; giving up on it",
			  c->conn.peer_text, c->o.max_line);
}

static int hook(struct client *c, struct client_reply *r, const char *line, size_t len,
		int dflt, ik_err *e)
{
	if (c->d->reply_line == NULL)
		return dflt;
	int k = c->d->reply_line(c->ctx, r, line, len, e);
	if (k < 0)
		ik_err_prefix(e, "%s", c->conn.peer_text);
	return k;
}

static bool is_tagged_end(const struct client *c, const char *line, size_t len)
{
	size_t t = strlen(c->tag);
	return t > 0 && len > t && memcmp(line, c->tag, t) == 0 && line[t] == ' ';
}

/* One line of a reply: 1 complete, 0 more, -1. */
static int on_line(struct client *c, struct client_reply *r, const char *line, size_t len,
		   ik_err *e)
{
	client_trace_line(c, '<', line, len);
	if (store_line(r, line, len) < 0)
		return ik_err_set(e, "%s sent a reply longer than %zu bytes; giving up on it",
				  c->conn.peer_text, c->o.max_reply);
	r->segment = c->seg_next;
	c->seg_next = false;
	r->want_literal = false;
	int k;
	switch (c->cur.expect) {
	case CLIENT_EXPECT_NUMERIC: {
		struct reply_num p = {.code = r->code, .multi = r->num_multi};
		k = reply_num_line(&p, line, len, label(c), e);
		r->code = p.code;
		r->num_multi = p.multi;
		if (k < 0)
			ik_err_prefix(e, "%s", c->conn.peer_text);
		return k;
	}
	case CLIENT_EXPECT_DOT:	/* the status line; the body is read raw */
		k = hook(c, r, line, len, 0, e);
		r->want_literal = false;
		if (k != 0)
			return k;
		return start_dot(c, e);
	case CLIENT_EXPECT_TAGGED:
		if (!r->segment && (is_tagged_end(c, line, len) || (len > 0 && line[0] == '+'))) {
			r->continuation = line[0] == '+';
			k = hook(c, r, line, len, 1, e);
			r->want_literal = false;
			return k < 0 ? -1 : 1;
		}
		k = hook(c, r, line, len, 0, e);
		if (k < 0)
			return -1;
		k = 0;	/* only the tagged line ends it */
		break;
	case CLIENT_EXPECT_LINE:
		k = hook(c, r, line, len, 1, e);
		if (k < 0)
			return -1;
		k = 1;
		break;
	default:
		if (c->d->reply_line == NULL)
			return ik_err_set(e, "internal: the %s dialect has no end-of-reply rule",
					  c->d->name);
		k = hook(c, r, line, len, 0, e);
		if (k < 0)
			return -1;
		break;
	}
	if (r->want_literal)
		return start_literal(c, r, e) < 0 ? -1 : 0;
	return k;
}

static int reply_step(struct client *c, struct client_reply *r, ik_err *e)
{
	for (;;) {
		int k;
		switch (c->rd) {
		case CLIENT_RD_LITERAL:
			k = literal_step(c, r, e);
			if (k <= 0)
				return k;
			continue;
		case CLIENT_RD_DOT:
			return dot_step(c, r, e);
		default: {
			char *line = NULL;
			size_t len = 0;
			k = take_line(c, &line, &len, e);
			if (k <= 0)
				return k;
			k = on_line(c, r, line, len, e);
			if (k != 0)
				return k;
		}
		}
	}
}

static void reply_begin(struct client *c, struct client_reply *r)
{
	sbuf_reset(&r->text);
	r->text.max = c->o.max_reply;
	sbuf_reset(&r->body);
	r->body.max = c->o.max_reply;
	r->code = 0;
	r->phase = 0;
	r->nlines = 0;
	r->body_len = 0;
	r->nliterals = 0;
	r->continuation = false;
	r->segment = false;
	r->want_literal = false;
	r->num_multi = false;
	memcpy(r->tag, c->tag, sizeof r->tag);
	c->rd = CLIENT_RD_LINES;
	c->seg_next = false;
}

/* ---- The blocking driver. ---- */

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

int client_read_reply(struct client *c, struct client_reply *r, ik_err *e)
{
	reply_begin(c, r);
	uint64_t deadline = time_mono_ms() + c->o.reply_timeout_ms;
	for (;;) {
		c->progressed = false;
		int k = reply_step(c, r, e);
		if (k > 0) {
			if (!r->continuation)
				client_expect_default(c);
			return 0;
		}
		/* A body's time runs from its last bytes: a large message
		 * takes longer than a reply, but must keep coming. */
		if (k == 0 && c->progressed)
			deadline = time_mono_ms() + c->o.reply_timeout_ms;
		bool timed_out;
		if (k < 0 || fill(c, deadline, c->o.reply_timeout_ms, &timed_out, e) < 0) {
			c->rd = CLIENT_RD_LINES;
			client_expect_default(c);
			return -1;
		}
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
	return client_call(c, NULL, verb, arg, r, e);
}

int client_call(struct client *c, const struct client_call *call, const char *verb,
		const char *arg, struct client_reply *r, ik_err *e)
{
	if (client_send_call(c, call, verb, arg, e) < 0)
		return -1;
	return client_read_reply(c, r, e);
}
