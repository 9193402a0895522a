/* libFuzzer harness for the session core's input modes over a real
 * session (core/session_in.c, session_body.c): a socketpair, the event
 * loop, and a made-up protocol whose lines switch modes:
 *   D      data mode (the limit from the header)
 *   C<n>   counted mode, n bytes (limit 64: over it refused, "R")
 *   X<n>   n bytes read and dropped
 *   A      sasl mode; there "*" or "E" go back to line mode
 *   M<n>   line limit n (0: the default)
 *   P      pause, resumed from the loop a moment later
 *   Q      last reply, then close
 * The input arrives in pieces (the header's chunk size), as a network
 * would deliver it. What the protocol hears is written down and compared
 * with a reference that runs the same protocol over the whole input with
 * the pure scanners (session_line_scan, session_data_scan): the pieces,
 * the pulls-ups, pauses and mode changes must not change a thing. Header:
 * line limit, chunk size, DATA limit. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/session.h"

#include <event2/event.h>

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)
#define COUNTED_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the protocol heard, in order. */
struct tape {
	char *p;
	size_t len, cap;
};

static void tape_put(struct tape *t, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 256;
		t->p = realloc(t->p, t->cap);
		CHECK(t->p != NULL);
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

static void tape_printf(struct tape *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tape_printf(struct tape *t, const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	CHECK(n > 0 && (size_t)n < sizeof buf);
	tape_put(t, buf, (size_t)n);
}

static void tape_body_end(struct tape *t, const struct session_body *b)
{
	tape_printf(t, "END %llu %u %llu %llu %llu\n", (unsigned long long)b->size, b->flags,
		    (unsigned long long)b->bare_cr, (unsigned long long)b->bare_lf,
		    (unsigned long long)b->nul);
}

/* The protocol's decision for one line (both sides). */
enum act { A_NONE, A_DATA, A_COUNTED, A_DISCARD, A_SASL, A_LINE, A_MAXLINE, A_PAUSE, A_QUIT };

static enum act decide(const char *line, size_t len, bool sasl, uint64_t *n)
{
	*n = 0;
	if (sasl)
		return len == 1 && (line[0] == '*' || line[0] == 'E') ? A_LINE : A_NONE;
	if (len == 0)
		return A_NONE;
	for (size_t i = 1; i < len && i < 6; i++) {
		if (line[i] < '0' || line[i] > '9')
			break;
		*n = *n * 10 + (uint64_t)(line[i] - '0');
	}
	switch (line[0]) {
	case 'D': return A_DATA;
	case 'C': return A_COUNTED;
	case 'X': return A_DISCARD;
	case 'A': return A_SASL;
	case 'M': return A_MAXLINE;
	case 'P': return A_PAUSE;
	case 'Q': return A_QUIT;
	default: return A_NONE;
	}
}

/* ---- the real session ---- */

struct run {
	struct loop *loop;
	struct tape t;
	struct tape body;	/* chunks of the current body */
	uint64_t data_max;
	bool closed;
};

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_resume(arg);
}

static void io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct run *r = arg;
	uint64_t n;
	ik_err e;
	switch (ev->type) {
	case SESSION_EV_LINE:
	case SESSION_EV_SASL_LINE: {
		bool sasl = ev->type == SESSION_EV_SASL_LINE;
		CHECK(sasl == (session_mode(s) == SESSION_MODE_SASL));
		CHECK(ev->cancel == (sasl && ev->len == 1 && ev->line[0] == '*'));
		tape_printf(&r->t, "%s %zu:", sasl ? "SASL" : "LINE", ev->len);
		tape_put(&r->t, ev->line, ev->len);
		switch (decide(ev->line, ev->len, sasl, &n)) {
		case A_DATA:
			session_read_data(s, r->data_max);
			break;
		case A_COUNTED:
			if (session_read_counted(s, n, COUNTED_MAX, &e) < 0)
				tape_printf(&r->t, "R");
			break;
		case A_DISCARD:
			session_discard_counted(s, n);
			break;
		case A_SASL:
			session_set_mode(s, SESSION_MODE_SASL);
			break;
		case A_LINE:
			session_set_mode(s, SESSION_MODE_LINE);
			break;
		case A_MAXLINE:
			session_set_max_line(s, (size_t)n);
			break;
		case A_PAUSE: {
			session_pause(s);
			struct timeval tv = {0, 0};
			CHECK(event_base_once(loop_base(r->loop), -1, EV_TIMEOUT, on_resume, s, &tv) == 0);
			break;
		}
		case A_QUIT:
			session_reply_close(s, "bye\r\n", 5, "quit");
			break;
		case A_NONE:
			session_write(s, "ok\r\n", 4);
			break;
		}
		tape_printf(&r->t, "\n");
		break;
	}
	case SESSION_EV_LINE_ERROR:
		tape_printf(&r->t, "ERR %d\n", (int)ev->error);
		break;
	case SESSION_EV_BODY:
		CHECK(ev->len > 0);
		tape_put(&r->body, ev->data, ev->len);
		break;
	case SESSION_EV_BODY_END:
		CHECK(session_mode(s) == SESSION_MODE_LINE);
		CHECK(ev->body->size >= r->body.len);
		tape_printf(&r->t, "BODY %zu:", r->body.len);
		tape_put(&r->t, r->body.p, r->body.len);
		r->body.len = 0;
		tape_body_end(&r->t, ev->body);
		break;
	case SESSION_EV_EOF:
		tape_printf(&r->t, "EOF %zu\n", r->body.len);
		break;
	case SESSION_EV_CLOSED:
		r->closed = true;
		break;
	default:
		break;
	}
}

static void drain_peer(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

static void run_session(struct loop *l, const char *in, size_t n, size_t step, size_t max_line,
			uint64_t data_max, struct tape *out)
{
	int sv[2];
	ik_err e;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	struct run r = {.loop = l, .data_max = data_max};
	struct session_opts o = {.proto = "fuzz", .mode = SESSION_MODE_LINE, .max_line = max_line,
				 .eol = SESSION_EOL_CRLF};
	struct session *s = session_new(l, sv[0], NULL, 0, NULL, &o, io, &r, &e);
	CHECK(s != NULL);
	struct event_base *base = loop_base(l);
	for (size_t pos = 0; pos < n && !r.closed;) {
		size_t add = n - pos < step ? n - pos : step;
		ssize_t k = write(sv[1], in + pos, add);
		if (k > 0)
			pos += (size_t)k;
		event_base_loop(base, EVLOOP_NONBLOCK);
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain_peer(sv[1]);
	}
	shutdown(sv[1], SHUT_WR);
	/* The session closes at the peer's end of file; the guard catches a
	 * session that would not (it fails the check below). */
	bool late = false;
	struct event *guard = loop_timer(l, 3000, false, on_guard, &late);
	while (!r.closed && !late) {
		event_base_loop(base, EVLOOP_ONCE);
		drain_peer(sv[1]);
	}
	event_free(guard);
	CHECK(r.closed);
	/* Deferred frees, and any leftover resume timer, run now. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	close(sv[1]);
	*out = r.t;
	free(r.body.p);
}

/* ---- the reference: the same protocol over the whole input ---- */

static void body_done(struct tape *t, struct tape *body, const struct session_body *b)
{
	tape_printf(t, "BODY %zu:", body->len);
	tape_put(t, body->p, body->len);
	body->len = 0;
	tape_body_end(t, b);
}

static void reference(const char *in, size_t n, size_t max_line, uint64_t data_max,
		      struct tape *t)
{
	struct session_linescan ls = {.max = max_line, .eol = SESSION_EOL_CRLF};
	struct session_datascan ds = {0};
	struct tape body = {0};
	enum session_mode mode = SESSION_MODE_LINE;
	uint64_t left = 0;
	bool discard = false;
	size_t pos = 0;
	for (;;) {
		if (mode == SESSION_MODE_COUNTED) {
			size_t take = n - pos < left ? n - pos : (size_t)left;
			for (size_t i = 0; i < take; i++) {
				if (in[pos + i] == '\0') {
					ds.body.nul++;
					ds.body.flags |= SESSION_BODY_NUL;
				}
			}
			if (!discard)
				tape_put(&body, in + pos, take);
			ds.body.size += take;
			pos += take;
			left -= take;
			if (left > 0)
				break;
			body_done(t, &body, &ds.body);
			mode = SESSION_MODE_LINE;
			continue;
		}
		if (pos >= n)
			break;
		if (mode == SESSION_MODE_DATA) {
			size_t used, chunk;
			enum session_data_status st =
				session_data_scan(&ds, in + pos, n - pos, &used, &chunk);
			tape_put(&body, in + pos, chunk);
			pos += used;
			if (st == SESSION_DATA_END) {
				body_done(t, &body, &ds.body);
				mode = SESSION_MODE_LINE;
			} else if (used == 0) {
				break;
			}
			continue;
		}
		size_t window = n - pos < ls.max + 2 ? n - pos : ls.max + 2;
		size_t len, used;
		enum session_line_status st = session_line_scan(&ls, in + pos, window, &len, &used);
		const char *line = in + pos;
		pos += used;
		if (st == SESSION_LINE_MORE) {
			if (used == 0)
				break;
			continue;
		}
		if (st != SESSION_LINE_OK) {
			tape_printf(t, "ERR %d\n", (int)st);
			continue;
		}
		bool sasl = mode == SESSION_MODE_SASL;
		tape_printf(t, "%s %zu:", sasl ? "SASL" : "LINE", len);
		tape_put(t, line, len);
		uint64_t k;
		enum act a = decide(line, len, sasl, &k);
		if (a == A_DATA) {
			memset(&ds, 0, sizeof ds);
			ds.max = data_max;
			mode = SESSION_MODE_DATA;
		} else if (a == A_COUNTED && k > COUNTED_MAX) {
			tape_printf(t, "R");
		} else if (a == A_COUNTED || a == A_DISCARD) {
			memset(&ds, 0, sizeof ds);
			if (a == A_DISCARD)
				ds.body.flags = SESSION_BODY_TOO_BIG;
			discard = a == A_DISCARD;
			left = k;
			mode = SESSION_MODE_COUNTED;
		} else if (a == A_SASL) {
			mode = SESSION_MODE_SASL;
		} else if (a == A_LINE) {
			mode = SESSION_MODE_LINE;
		} else if (a == A_MAXLINE) {
			ls.max = k > 0 ? (size_t)k : SESSION_DEFAULT_MAX_LINE;
		}
		tape_printf(t, "\n");
		if (a == A_QUIT)
			break;		/* the rest is read and dropped */
	}
	tape_printf(t, "EOF %zu\n", body.len);
	free(body.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct loop *l;
	if (l == NULL) {
		ik_err e;
		log_open("none", "fuzz", &e);
		l = loop_new(&e);
		CHECK(l != NULL);
	}
	if (size < 3)
		return 0;
	size_t max_line = 1 + data[0] % 64;
	size_t step = 1 + data[1] % 64;
	uint64_t data_max = data[2];	/* 0: no limit */
	const char *in = (const char *)data + 3;
	size_t n = size - 3;

	struct tape want = {0}, got = {0};
	reference(in, n, max_line, data_max, &want);
	run_session(l, in, n, step, max_line, data_max, &got);
	CHECK(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
	free(want.p);
	free(got.p);
	return 0;
}
