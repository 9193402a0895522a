/* The session core: the line splitter on its own, then real sessions over
 * socketpairs driven by the event loop (modes, limits, NUL, EOF policy,
 * timeouts, back-pressure, deferred free, STARTTLS discarding plaintext).
 * The command tables are in test_session_cmd.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/listener.h"
#include "core/session.h"
#include "core/tls.h"
#include "session_fixture.h"

/* ---- the splitter ---- */

static enum session_line_status scan(struct session_linescan *ls, const char *buf, size_t *len,
				     size_t *used)
{
	return session_line_scan(ls, buf, strlen(buf), len, used);
}

static void split_lf_and_crlf(void **state)
{
	(void)state;
	struct session_linescan ls = {.max = 10, .eol = SESSION_EOL_LF};
	size_t len, used;
	assert_int_equal(scan(&ls, "ab\r\ncd", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 2);
	assert_int_equal(used, 4);
	assert_int_equal(scan(&ls, "cd\nx", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 2);
	assert_int_equal(used, 3);
	assert_int_equal(scan(&ls, "\n", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 0);
	assert_int_equal(scan(&ls, "partial", &len, &used), SESSION_LINE_MORE);
	assert_int_equal(used, 0);
}

static void limit_before_line_ends(void **state)
{
	(void)state;
	struct session_linescan ls = {.max = 4, .eol = SESSION_EOL_LF};
	size_t len, used;
	/* Exactly max bytes and a CR that may start CRLF: not yet too long. */
	assert_int_equal(scan(&ls, "abcd\r", &len, &used), SESSION_LINE_MORE);
	assert_int_equal(scan(&ls, "abcd\r\n", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 4);
	/* max + 1 bytes with no end: refused now, not when the line ends. */
	assert_int_equal(scan(&ls, "abcde", &len, &used), SESSION_LINE_TOO_LONG);
	assert_int_equal(used, 5);
	assert_true(ls.skipping);
	/* The rest of that line is dropped, up to and with its LF. */
	assert_int_equal(scan(&ls, "fgh", &len, &used), SESSION_LINE_MORE);
	assert_int_equal(used, 3);
	assert_int_equal(scan(&ls, "ij\nok\n", &len, &used), SESSION_LINE_MORE);
	assert_int_equal(used, 3);
	assert_false(ls.skipping);
	assert_int_equal(scan(&ls, "ok\n", &len, &used), SESSION_LINE_OK);
	/* A complete line over the limit is refused whole, without skipping. */
	assert_int_equal(scan(&ls, "abcde\nok\n", &len, &used), SESSION_LINE_TOO_LONG);
	assert_int_equal(used, 6);
	assert_false(ls.skipping);
	/* The window: only max + 2 bytes are ever looked at. */
	char big[100];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(scan(&ls, big, &len, &used), SESSION_LINE_TOO_LONG);
	assert_int_equal(used, 6);
}

static void nul_and_bare_lf(void **state)
{
	(void)state;
	struct session_linescan ls = {.max = 10, .eol = SESSION_EOL_CRLF};
	size_t len, used;
	const char nul[] = "a\0b\r\nok\r\n";
	assert_int_equal(session_line_scan(&ls, nul, sizeof nul - 1, &len, &used), SESSION_LINE_NUL);
	assert_int_equal(used, 5);
	assert_int_equal(scan(&ls, "bare\nok\r\n", &len, &used), SESSION_LINE_BARE_LF);
	assert_int_equal(used, 5);
	assert_int_equal(scan(&ls, "ok\r\n", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 2);
	/* A CR alone inside a line is data. */
	assert_int_equal(scan(&ls, "a\rb\r\n", &len, &used), SESSION_LINE_OK);
	assert_int_equal(len, 3);
	assert_string_equal(session_line_status_text(SESSION_LINE_BARE_LF),
			    "bare LF (lines must end in CRLF)");
}

/* ---- sessions over socketpairs ---- */

enum action { ACT_NONE, ACT_ECHO, ACT_PAUSE_FIRST, ACT_RAW_AFTER_FIRST, ACT_CLOSE_FIRST,
	      ACT_STARTTLS };

struct rec {
	struct loop *loop;
	struct session *s;
	enum action act;
	char lines[16][64];
	int nlines;
	enum session_line_status errors[8];
	int nerrors;
	int eofs, timeouts, closed, drained;
	char raw[256];
	size_t nraw;
	char reason[128];
	int close_err;
	bool timed_out;
	SSL_CTX *tls;
};

static void rec_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct rec *r = arg;
	struct evbuffer *in;
	switch (ev->type) {
	case SESSION_EV_LINE:
		if (r->nlines < 16)
			snprintf(r->lines[r->nlines++], 64, "%s", ev->line);
		if (r->act == ACT_PAUSE_FIRST && r->nlines == 1)
			session_pause(s);
		if (r->act == ACT_RAW_AFTER_FIRST && r->nlines == 1)
			session_set_mode(s, SESSION_MODE_RAW);
		if (r->act == ACT_CLOSE_FIRST && r->nlines == 1) {
			session_printf(s, "bye\n");
			session_close(s, "asked to");
		}
		if (r->act == ACT_STARTTLS && strcmp(ev->line, "STARTTLS") == 0) {
			ik_err e;
			session_printf(s, "220 go\r\n");
			assert_int_equal(session_starttls(s, r->tls, &e), 0);
		}
		break;
	case SESSION_EV_LINE_ERROR:
		r->errors[r->nerrors++] = ev->error;
		break;
	case SESSION_EV_DATA:
		in = session_input(s);
		if (r->act == ACT_ECHO) {
			evbuffer_add_buffer(session_output(s), in);
		} else {
			size_t n = evbuffer_get_length(in);
			if (n > sizeof r->raw - r->nraw)
				n = sizeof r->raw - r->nraw;
			evbuffer_remove(in, r->raw + r->nraw, n);
			r->nraw += n;
		}
		break;
	case SESSION_EV_EOF:
		r->eofs++;
		break;
	case SESSION_EV_DRAINED:
		r->drained++;
		break;
	case SESSION_EV_TIMEOUT:
		r->timeouts++;
		session_printf(s, "timeout\n");
		break;
	case SESSION_EV_CLOSED:
		r->closed++;
		snprintf(r->reason, sizeof r->reason, "%s", ev->reason);
		r->close_err = ev->err;
		r->timed_out = ev->timed_out;
		loop_exit(r->loop);
		break;
	default:
		break;
	}
}

/* A session on sv[0]; the test plays the peer on *peer. */
static void start(struct rec *r, struct session_opts *o, int *peer)
{
	r->s = fx_start(&r->loop, o, rec_io, r, peer);
}

static void run(struct rec *r) { fx_run(r->loop, 5000); }

static void finish(struct rec *r, int peer)
{
	if (!r->closed) {
		session_close(r->s, "test over");
		run(r);
	}
	close(peer);
	loop_free(r->loop);
}

static void lines_limits_and_eof(void **state)
{
	(void)state;
	struct rec r = {0};
	struct session_opts o = {.mode = SESSION_MODE_LINE, .max_line = 8};
	int peer;
	start(&r, &o, &peer);
	const char in[] = "ab\r\ncd\n0123456789abcdef\nok\nn\0l\nlast\nunterm";
	fx_put(peer, in, sizeof in - 1);
	shutdown(peer, SHUT_WR);
	run(&r);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.lines[0], "ab");
	assert_string_equal(r.lines[1], "cd");
	assert_string_equal(r.lines[2], "ok");
	assert_string_equal(r.lines[3], "last");
	assert_int_equal(r.nerrors, 2);
	assert_int_equal(r.errors[0], SESSION_LINE_TOO_LONG);
	assert_int_equal(r.errors[1], SESSION_LINE_NUL);
	assert_int_equal(r.eofs, 1);
	assert_int_equal(r.closed, 1);
	assert_string_equal(r.reason, "eof");
	/* Our side was shut too: the peer reads its end of file. */
	char buf[16];
	assert_int_equal(read(peer, buf, sizeof buf), 0);
	finish(&r, peer);
}

static void raw_echo_half_close(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_ECHO};
	struct session_opts o = {.mode = SESSION_MODE_RAW};
	int peer;
	start(&r, &o, &peer);
	fx_put(peer, "hello, world", 12);
	shutdown(peer, SHUT_WR);
	run(&r);
	assert_string_equal(r.reason, "eof");
	char buf[64];
	assert_int_equal(fx_get_all(peer, buf, sizeof buf), 12);
	assert_string_equal(buf, "hello, world");
	finish(&r, peer);
}

static void pause_holds_lines(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_PAUSE_FIRST};
	struct session_opts o = {.mode = SESSION_MODE_LINE, .idle_ms = 300};
	int peer;
	start(&r, &o, &peer);
	fx_put(peer, "one\ntwo\n", 8);
	run(&r);	/* ends at the idle timeout: "two" waited, paused */
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.timeouts, 1);
	finish(&r, peer);

	struct rec r2 = {.act = ACT_PAUSE_FIRST};
	struct session_opts o2 = {.mode = SESSION_MODE_LINE};
	start(&r2, &o2, &peer);
	fx_put(peer, "one\ntwo\n", 8);
	shutdown(peer, SHUT_WR);
	struct event *guard = loop_timer(r2.loop, 100, false, fx_on_guard, r2.loop);
	loop_run(r2.loop);
	event_free(guard);
	assert_int_equal(r2.nlines, 1);
	assert_int_equal(r2.eofs, 0);	/* not before the buffered line */
	session_resume(r2.s);
	run(&r2);
	assert_int_equal(r2.nlines, 2);
	assert_string_equal(r2.lines[1], "two");
	assert_int_equal(r2.eofs, 1);
	finish(&r2, peer);
}

static void line_then_raw(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_RAW_AFTER_FIRST};
	struct session_opts o = {.mode = SESSION_MODE_LINE};
	int peer;
	start(&r, &o, &peer);
	fx_put(peer, "HEAD\nraw\nbytes", 14);
	shutdown(peer, SHUT_WR);
	run(&r);
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.nraw, 9);
	assert_memory_equal(r.raw, "raw\nbytes", 9);
	finish(&r, peer);
}

static void close_inside_callback(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_CLOSE_FIRST};
	struct session_opts o = {.mode = SESSION_MODE_LINE};
	int peer;
	start(&r, &o, &peer);
	fx_put(peer, "first\nsecond\n", 13);
	run(&r);
	/* Closed inside its own callback: no later line, freed afterwards. */
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.closed, 1);
	assert_string_equal(r.reason, "asked to");
	char buf[16];
	assert_int_equal(fx_get_all(peer, buf, sizeof buf), 4);
	assert_string_equal(buf, "bye\n");
	close(peer);
	loop_free(r.loop);
}

static void idle_timeout(void **state)
{
	(void)state;
	struct rec r = {0};
	struct session_opts o = {.mode = SESSION_MODE_LINE, .idle_ms = 100};
	int peer;
	start(&r, &o, &peer);
	run(&r);
	assert_int_equal(r.timeouts, 1);
	assert_string_equal(r.reason, "idle timeout (100 ms)");
	char buf[32];
	assert_int_equal(fx_get_all(peer, buf, sizeof buf), 8);
	assert_string_equal(buf, "timeout\n");
	close(peer);
	loop_free(r.loop);
}

static void reader_that_never_reads(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_ECHO};
	struct session_opts o = {.mode = SESSION_MODE_RAW, .out_high = 4096, .in_max = 4096,
				 .idle_ms = 10000, .write_ms = 200};
	int peer;
	start(&r, &o, &peer);
	/* Send much more than both socket buffers and our marks can hold. */
	char chunk[4096];
	memset(chunk, 'x', sizeof chunk);
	size_t sent = 0;
	for (int i = 0; i < 4096; i++) {
		ssize_t k = write(peer, chunk, sizeof chunk);
		if (k <= 0) {
			/* The session stopped reading: back-pressure reached us. */
			struct event *guard = loop_timer(r.loop, 20, false, fx_on_guard, r.loop);
			loop_run(r.loop);
			event_free(guard);
			if (write(peer, chunk, sizeof chunk) <= 0)
				break;
			continue;
		}
		sent += (size_t)k;
	}
	assert_true(sent < 4096u * 4096u);
	run(&r);
	assert_int_equal(r.closed, 1);
	assert_true(strncmp(r.reason, "client not reading", 18) == 0);
	close(peer);
	loop_free(r.loop);
}

/* ---- STARTTLS: plaintext sent before the handshake is discarded ---- */

struct tls_peer {
	int fd;
	int ok;
	char got[64];
};

static void *tls_client(void *arg)
{
	struct tls_peer *p = arg;
	const char pre[] = "STARTTLS\r\nINJECTED\r\n";
	if (write(p->fd, pre, sizeof pre - 1) != (ssize_t)(sizeof pre - 1))
		return NULL;
	/* Read exactly the plaintext reply, then speak TLS. */
	size_t n = 0;
	while (n < 8) {
		ssize_t k = read(p->fd, p->got + n, 8 - n);
		if (k <= 0)
			return NULL;
		n += (size_t)k;
	}
	struct tls_client_opts co = {.insecure = true};
	ik_err e;
	SSL_CTX *ctx = tls_client_ctx(&co, &e);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, p->fd);
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, "AFTER\r\n", 7) == 7) {
		SSL_shutdown(ssl);
		char buf[16];
		while (SSL_read(ssl, buf, sizeof buf) > 0)
			;
		p->ok = 1;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return NULL;
}

static void starttls_discards_plaintext(void **state)
{
	(void)state;
	ik_err e;
	struct rec r = {.act = ACT_STARTTLS};
	r.tls = tls_server_ctx(NULL, &e);
	assert_non_null(r.tls);
	struct session_opts o = {.mode = SESSION_MODE_LINE, .eol = SESSION_EOL_CRLF};
	int peer;
	start(&r, &o, &peer);
	/* The client side blocks: make its end blocking again. */
	struct tls_peer p = {.fd = peer};
	fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) & ~O_NONBLOCK);
	pthread_t t;
	pthread_create(&t, NULL, tls_client, &p);
	run(&r);
	pthread_join(t, NULL);
	assert_int_equal(p.ok, 1);
	assert_memory_equal(p.got, "220 go\r\n", 8);
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.lines[0], "STARTTLS");
	assert_string_equal(r.lines[1], "AFTER");	/* never "INJECTED" */
	assert_string_equal(r.reason, "eof");
	close(peer);
	loop_free(r.loop);
	SSL_CTX_free(r.tls);
}

/* Reflect mode: 4 MiB through the core's own echo, written and read by two
 * peer threads at once; the stream moves to a pipe (splice) and every
 * byte comes back in order, then the EOF policy closes. */
#define REFLECT_BYTES (4u << 20)

struct reflect_peer {
	int fd;
	unsigned char *back;
	size_t got;
};

static unsigned char pattern_byte(size_t i) { return (unsigned char)(i * 7 + i / 4093); }

static void *reflect_writer(void *arg)
{
	struct reflect_peer *p = arg;
	unsigned char chunk[65536];	/* one per writer: links run two at once */
	for (size_t off = 0; off < REFLECT_BYTES; off += sizeof chunk) {
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = pattern_byte(off + i);
		size_t done = 0;
		while (done < sizeof chunk) {
			ssize_t k = write(p->fd, chunk + done, sizeof chunk - done);
			if (k <= 0)
				return NULL;
			done += (size_t)k;
		}
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void *reflect_reader(void *arg)
{
	struct reflect_peer *p = arg;
	for (;;) {
		ssize_t k = read(p->fd, p->back + p->got, REFLECT_BYTES + 1 - p->got);
		if (k <= 0)
			break;
		p->got += (size_t)k;
	}
	return NULL;
}

struct splice_watch {
	struct session *s;
	bool seen;
};

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct splice_watch *w = arg;
	w->seen = w->seen || session_splicing(w->s);
}

static void reflect_streams_through_splice(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_NONE};
	struct session_opts o = {.mode = SESSION_MODE_RAW};
	int peer;
	start(&r, &o, &peer);
	session_reflect(r.s);
	assert_false(session_splicing(r.s));
	int fl = fcntl(peer, F_GETFL);
	fcntl(peer, F_SETFL, fl & ~O_NONBLOCK);
	struct reflect_peer p = {.fd = peer, .back = malloc(REFLECT_BYTES + 1)};
	assert_non_null(p.back);
	struct splice_watch w = {.s = r.s};
	struct event *watch = loop_timer(r.loop, 1, true, on_watch, &w);
	pthread_t tw, tr;
	assert_int_equal(pthread_create(&tr, NULL, reflect_reader, &p), 0);
	assert_int_equal(pthread_create(&tw, NULL, reflect_writer, &p), 0);
	struct event *guard = loop_timer(r.loop, 20000, false, fx_on_guard, r.loop);
	loop_run(r.loop);
	event_free(guard);
	event_free(watch);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	assert_string_equal(r.reason, "eof");
	assert_int_equal(r.eofs, 1);
	assert_int_equal(r.nraw, 0);	/* no SESSION_EV_DATA in reflect mode */
	assert_true(w.seen);
	assert_int_equal(p.got, REFLECT_BYTES);
	size_t bad = 0;
	for (size_t i = 0; i < REFLECT_BYTES; i++)
		bad += p.back[i] != pattern_byte(i);
	assert_int_equal(bad, 0);
	free(p.back);
	finish(&r, peer);
}

/* Small writes come straight back and never make a pipe. */
static void reflect_small_stays_buffered(void **state)
{
	(void)state;
	struct rec r = {.act = ACT_NONE};
	struct session_opts o = {.mode = SESSION_MODE_RAW};
	int peer;
	start(&r, &o, &peer);
	session_reflect(r.s);
	fx_put(peer, "ping\n", 5);
	fx_put(peer, "pong\n", 5);
	shutdown(peer, SHUT_WR);
	run(&r);
	assert_string_equal(r.reason, "eof");
	char buf[64];
	assert_int_equal(fx_get_all(peer, buf, sizeof buf), 10);
	assert_string_equal(buf, "ping\npong\n");
	finish(&r, peer);
}

/* ---- links (session_link): two sessions relaying each other ---- */

struct link_end {
	struct session *s;
	int peer;		/* the test's side of this session's socket */
	int eofs, closed;
	char reason[160];
};

struct link_test {
	struct loop *loop;
	struct link_end a, b;
	bool keep_before_link;	/* EOF before the link: session_keep_writing */
	bool exit_on_eof;
};

static void link_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct link_test *t = arg;
	struct link_end *me = s == t->a.s ? &t->a : &t->b;
	if (ev->type == SESSION_EV_EOF) {
		me->eofs++;
		if (!session_linked(s) && t->keep_before_link)
			session_keep_writing(s);
		if (t->exit_on_eof)
			loop_exit(t->loop);
	} else if (ev->type == SESSION_EV_CLOSED) {
		me->closed++;
		snprintf(me->reason, sizeof me->reason, "%s", ev->reason);
		if (t->a.closed && t->b.closed)
			loop_exit(t->loop);
	}
}

static void link_start(struct link_test *t, bool link_now)
{
	int sa[2], sb[2];
	ik_err e;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb), 0);
	t->loop = loop_new(&e);
	assert_non_null(t->loop);
	struct session_opts o = {.proto = "test", .mode = SESSION_MODE_RAW, .idle_ms = 20000};
	t->a.s = session_new(t->loop, sa[0], NULL, 0, NULL, &o, link_io, t, &e);
	t->b.s = session_new_connected(t->loop, sb[0], NULL, 0, NULL, &o, link_io, t, &e);
	assert_non_null(t->a.s);
	assert_non_null(t->b.s);
	t->a.peer = sa[1];
	t->b.peer = sb[1];
	if (link_now)
		session_link(t->a.s, t->b.s);
}

static void link_run(struct link_test *t, uint64_t ms)
{
	struct event *guard = loop_timer(t->loop, ms, false, fx_on_guard, t->loop);
	loop_run(t->loop);
	event_free(guard);
}

static void link_finish(struct link_test *t)
{
	close(t->a.peer);
	close(t->b.peer);
	if (!t->a.closed || !t->b.closed)
		link_run(t, 5000);
	assert_int_equal(t->a.closed, 1);
	assert_int_equal(t->b.closed, 1);
	loop_free(t->loop);
}

static void blocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

struct splice_watch2 {
	struct session *a, *b;
	bool seen_a, seen_b;
};

static void on_watch2(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct splice_watch2 *w = arg;
	w->seen_a = w->seen_a || (!session_closing(w->a) && session_splicing(w->a));
	w->seen_b = w->seen_b || (!session_closing(w->b) && session_splicing(w->b));
}

/* 4 MiB each way at once through a link of two plain sessions: both
 * streams move to splice, every byte arrives in order, each FIN is passed
 * on (the readers see their end of file), and both sessions end "eof". */
static void link_streams_both_ways(void **state)
{
	(void)state;
	struct link_test t = {0};
	link_start(&t, true);
	blocking(t.a.peer);
	blocking(t.b.peer);
	struct reflect_peer wa = {.fd = t.a.peer}, wb = {.fd = t.b.peer};
	struct reflect_peer ra = {.fd = t.a.peer, .back = malloc(REFLECT_BYTES + 1)};
	struct reflect_peer rb = {.fd = t.b.peer, .back = malloc(REFLECT_BYTES + 1)};
	assert_non_null(ra.back);
	assert_non_null(rb.back);
	struct splice_watch2 w = {.a = t.a.s, .b = t.b.s};
	struct event *watch = loop_timer(t.loop, 1, true, on_watch2, &w);
	pthread_t th[4];
	assert_int_equal(pthread_create(&th[0], NULL, reflect_reader, &ra), 0);
	assert_int_equal(pthread_create(&th[1], NULL, reflect_reader, &rb), 0);
	assert_int_equal(pthread_create(&th[2], NULL, reflect_writer, &wa), 0);
	assert_int_equal(pthread_create(&th[3], NULL, reflect_writer, &wb), 0);
	link_run(&t, 20000);
	event_free(watch);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_string_equal(t.a.reason, "eof");
	assert_string_equal(t.b.reason, "eof");
	assert_int_equal(t.a.eofs, 1);
	assert_int_equal(t.b.eofs, 1);
	assert_true(w.seen_a);
	assert_true(w.seen_b);
	assert_int_equal(ra.got, REFLECT_BYTES);
	assert_int_equal(rb.got, REFLECT_BYTES);
	size_t bad = 0;
	for (size_t i = 0; i < REFLECT_BYTES; i++)
		bad += (ra.back[i] != pattern_byte(i)) + (rb.back[i] != pattern_byte(i));
	assert_int_equal(bad, 0);
	free(ra.back);
	free(rb.back);
	link_finish(&t);
}

/* What a peer sent before the link exists goes across first, and an end
 * of file the protocol had before the link (it kept writing) is passed on;
 * the other direction stays open until its own FIN (half-close). */
static void link_passes_early_bytes_and_eof(void **state)
{
	(void)state;
	struct link_test t = {.keep_before_link = true, .exit_on_eof = true};
	link_start(&t, false);
	shutdown(t.a.peer, SHUT_WR);
	fx_put(t.b.peer, "early ", 6);
	link_run(&t, 5000);
	assert_int_equal(t.a.eofs, 1);
	t.exit_on_eof = false;
	session_link(t.a.s, t.b.s);
	/* b's peer sees a's end of file, and may still answer. */
	blocking(t.b.peer);
	char buf[64];
	assert_int_equal(fx_get_all(t.b.peer, buf, sizeof buf), 0);
	fx_put(t.b.peer, "later", 5);
	shutdown(t.b.peer, SHUT_WR);
	link_run(&t, 5000);
	assert_string_equal(t.a.reason, "eof");
	assert_string_equal(t.b.reason, "eof");
	blocking(t.a.peer);
	assert_int_equal(fx_get_all(t.a.peer, buf, sizeof buf), 11);
	assert_string_equal(buf, "early later");
	link_finish(&t);
}

/* A reset on one side ends the other at once, saying why. */
static void link_reset_closes_other(void **state)
{
	(void)state;
	struct link_test t = {0};
	link_start(&t, true);
	fx_put(t.a.peer, "x", 1);
	struct linger lg = {1, 0};
	setsockopt(t.b.peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(t.b.peer);
	t.b.peer = socket(AF_UNIX, SOCK_STREAM, 0);	/* link_finish closes it */
	link_run(&t, 5000);
	assert_int_equal(t.b.closed, 1);
	assert_int_equal(t.a.closed, 1);
	assert_true(strstr(t.a.reason, "other side closed: ") == t.a.reason);
	link_finish(&t);
}

struct flood {
	int fd;
	size_t sent;
};

static void *flood_writer(void *arg)
{
	struct flood *f = arg;
	static char chunk[65536];
	for (;;) {
		ssize_t k = write(f->fd, chunk, sizeof chunk);
		if (k <= 0)
			return NULL;
		f->sent += (size_t)k;
		if (f->sent >= (64u << 20))
			return NULL;
	}
}

/* A peer that does not read holds the other back: the session feeding it
 * stops reading (its pipe and the output mark full), so what it takes in
 * stays bounded while the writer is made to wait. */
static void link_back_pressure(void **state)
{
	(void)state;
	struct link_test t = {0};
	link_start(&t, true);
	blocking(t.a.peer);
	struct flood f = {.fd = t.a.peer};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, flood_writer, &f), 0);
	link_run(&t, 1500);
	uint64_t took = session_bytes_in(t.a.s);
	assert_true(took < (4u << 20));
	assert_true(f.sent < (64u << 20));
	assert_int_equal(t.a.closed + t.b.closed, 0);
	session_close(t.a.s, "test over");
	link_run(&t, 5000);
	shutdown(t.a.peer, SHUT_RDWR);
	pthread_join(th, NULL);
	assert_string_equal(t.b.reason, "other side closed: test over");
	link_finish(&t);
}

struct tls_server_peer {
	int fd;
	SSL_CTX *ctx;
	char got[64];
	int ok;
};

/* The TLS server at the far end of a link: takes what comes until the
 * client's close_notify, answers, and closes. */
static void *tls_server_peer(void *arg)
{
	struct tls_server_peer *p = arg;
	SSL *ssl = SSL_new(p->ctx);
	SSL_set_fd(ssl, p->fd);
	if (SSL_accept(ssl) == 1) {
		size_t n = 0;
		int k;
		while (n < sizeof p->got - 1 && (k = SSL_read(ssl, p->got + n, (int)(sizeof p->got - 1 - n))) > 0)
			n += (size_t)k;
		p->got[n] = '\0';
		if (SSL_write(ssl, "world", 5) == 5 && SSL_shutdown(ssl) >= 0)
			p->ok = 1;
	}
	SSL_free(ssl);
	return NULL;
}

/* A plain session linked to a TLS client session: the plain side's bytes
 * go through the TLS layer (never straight onto its socket), its FIN
 * becomes close_notify and FIN, and the answer comes back in clear. */
static void link_plain_to_tls(void **state)
{
	(void)state;
	ik_err e;
	struct tls_server_peer p = {0};
	p.ctx = tls_server_ctx(NULL, &e);
	assert_non_null(p.ctx);
	struct tls_client_opts co = {.insecure = true};
	SSL_CTX *cctx = tls_client_ctx(&co, &e);
	assert_non_null(cctx);
	int sa[2], sb[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb), 0);
	struct link_test t = {0};
	t.loop = loop_new(&e);
	struct session_opts o = {.proto = "test", .mode = SESSION_MODE_RAW, .idle_ms = 20000};
	t.a.s = session_new(t.loop, sa[0], NULL, 0, NULL, &o, link_io, &t, &e);
	SSL *ssl = tls_client_ssl(cctx, "localhost", NULL, &e);
	assert_non_null(ssl);
	t.b.s = session_new_connected(t.loop, sb[0], NULL, 0, ssl, &o, link_io, &t, &e);
	assert_non_null(t.b.s);
	assert_true(session_is_tls(t.b.s));
	t.a.peer = sa[1];
	t.b.peer = sb[1];
	session_link(t.a.s, t.b.s);
	blocking(t.b.peer);
	p.fd = t.b.peer;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, tls_server_peer, &p), 0);
	fx_put(t.a.peer, "hello", 5);
	shutdown(t.a.peer, SHUT_WR);
	link_run(&t, 10000);
	pthread_join(th, NULL);
	assert_int_equal(p.ok, 1);
	assert_string_equal(p.got, "hello");
	assert_string_equal(t.a.reason, "eof");
	assert_string_equal(t.b.reason, "eof");
	blocking(t.a.peer);
	char buf[64];
	assert_int_equal(fx_get_all(t.a.peer, buf, sizeof buf), 5);
	assert_string_equal(buf, "world");
	link_finish(&t);
	SSL_CTX_free(p.ctx);
	SSL_CTX_free(cctx);
}

/* ---- what data channels need (core/datachan, FTP) ---- */

static void run_for(struct rec *r, uint64_t ms)
{
	struct event *guard = loop_timer(r->loop, ms, false, fx_on_guard, r->loop);
	loop_run(r->loop);
	event_free(guard);
}

/* DRAINED when asked, once the output is down to the mark: not before
 * the peer reads, and for a file segment too. */
static void drained_when_asked(void **state)
{
	(void)state;
	struct rec r = {0};
	struct session_opts o = {.mode = SESSION_MODE_RAW, .out_high = 4 << 20};
	int peer;
	start(&r, &o, &peer);
	size_t big = 1 << 20;
	char *junk = calloc(1, big);
	assert_non_null(junk);
	assert_int_equal(session_write(r.s, junk, big), 0);
	session_notify_drained(r.s, 0);
	run_for(&r, 100);
	assert_int_equal(r.drained, 0);		/* the peer has not read */
	size_t got = 0;
	for (int i = 0; i < 200 && got < big; i++) {
		ssize_t k;
		while ((k = read(peer, junk, big)) > 0)
			got += (size_t)k;
		run_for(&r, 10);
	}
	run_for(&r, 20);
	assert_int_equal(got, big);
	assert_int_equal(r.drained, 1);
	/* A file, then the mark: one event when it has all gone out. */
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fwrite("file body", 1, 9, f), 9);
	fflush(f);
	assert_int_equal(session_send_file(r.s, dup(fileno(f)), 5, 4), 0);
	fclose(f);
	session_notify_drained(r.s, 0);
	run_for(&r, 100);
	assert_int_equal(r.drained, 2);
	char buf[16];
	assert_int_equal(read(peer, buf, sizeof buf), 4);
	assert_memory_equal(buf, "body", 4);
	free(junk);
	finish(&r, peer);
}

/* The local address, and urgent data read inline (FTP's ABOR). */
static void local_address_and_urgent_inline(void **state)
{
	(void)state;
	struct listen_set set = {0};
	const char *spec[] = {"127.0.0.3:0"};
	ik_err e;
	assert_int_equal(listen_bind_specs(&set, spec, 1, SOCK_STREAM, 0, &e), 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&set.ep[0].ss, set.ep[0].len), 0);
	int fd = accept4(set.fd[0], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(fd >= 0);
	struct rec r = {0};
	r.loop = loop_new(&e);
	struct session_opts o = {.proto = "test", .mode = SESSION_MODE_LINE, .oob_inline = true};
	r.s = session_new(r.loop, fd, NULL, 0, NULL, &o, rec_io, &r, &e);
	assert_non_null(r.s);
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(session_local_addr(r.s, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_memory_equal(&ss, &set.ep[0].ss, len);
	assert_int_equal(send(c, "AB", 2, 0), 2);
	assert_int_equal(send(c, "O", 1, MSG_OOB), 1);
	assert_int_equal(send(c, "R\r\n", 3, 0), 3);
	shutdown(c, SHUT_WR);
	run(&r);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "ABOR");	/* not "ABR" */
	finish(&r, c);
	listen_set_close(&set);
}

/* CLOSED says why: the errno of a failed write, or a timeout. */
static void closed_says_why(void **state)
{
	(void)state;
	struct rec r = {0};
	struct session_opts o = {.mode = SESSION_MODE_RAW};
	int peer;
	start(&r, &o, &peer);
	close(peer);
	session_write(r.s, "x", 1);
	run(&r);
	assert_int_equal(r.closed, 1);
	assert_int_equal(r.close_err, EPIPE);
	assert_false(r.timed_out);
	loop_free(r.loop);

	struct rec t = {0};
	struct session_opts so = {.mode = SESSION_MODE_RAW, .out_high = 8 << 20, .write_ms = 100};
	start(&t, &so, &peer);
	size_t big = 4 << 20;
	char *junk = calloc(1, big);
	assert_non_null(junk);
	session_write(t.s, junk, big);		/* more than the peer's socket holds */
	free(junk);
	run(&t);
	assert_int_equal(t.closed, 1);
	assert_true(t.timed_out);
	assert_int_equal(t.close_err, 0);
	close(peer);
	loop_free(t.loop);
}

/* A rate limit paces writes: a second's worth goes, not all of it. */
static void rate_limit_paces(void **state)
{
	(void)state;
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX,
								  EV_RATE_LIMIT_MAX, 1000, 1000, NULL);
	assert_non_null(cfg);
	struct rec r = {0};
	struct session_opts o = {.mode = SESSION_MODE_RAW, .rate = cfg};
	int peer;
	start(&r, &o, &peer);
	char junk[64 * 1024] = {0};
	assert_int_equal(session_write(r.s, junk, sizeof junk), 0);
	run_for(&r, 100);
	ssize_t k = read(peer, junk, sizeof junk);
	assert_true(k > 0 && k < (ssize_t)sizeof junk);
	finish(&r, peer);
	ev_token_bucket_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_lf_and_crlf),
		cmocka_unit_test(limit_before_line_ends),
		cmocka_unit_test(nul_and_bare_lf),
		cmocka_unit_test(lines_limits_and_eof),
		cmocka_unit_test(raw_echo_half_close),
		cmocka_unit_test(pause_holds_lines),
		cmocka_unit_test(line_then_raw),
		cmocka_unit_test(close_inside_callback),
		cmocka_unit_test(idle_timeout),
		cmocka_unit_test(reader_that_never_reads),
		cmocka_unit_test(starttls_discards_plaintext),
		cmocka_unit_test(reflect_streams_through_splice),
		cmocka_unit_test(reflect_small_stays_buffered),
		cmocka_unit_test(link_streams_both_ways),
		cmocka_unit_test(link_passes_early_bytes_and_eof),
		cmocka_unit_test(link_reset_closes_other),
		cmocka_unit_test(link_back_pressure),
		cmocka_unit_test(link_plain_to_tls),
		cmocka_unit_test(drained_when_asked),
		cmocka_unit_test(local_address_and_urgent_inline),
		cmocka_unit_test(closed_says_why),
		cmocka_unit_test(rate_limit_paces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
