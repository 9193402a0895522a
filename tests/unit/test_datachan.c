/* core/datachan: a passive port accepts only the control connection's
 * peer, its port comes from the range (busy: EADDRINUSE) and it times out;
 * an active connect goes out from the control connection's local address
 * or says why it failed; a taken connection is a session with the buffer
 * sizes asked; over TLS, a data connection that resumes the control
 * connection's session is told from one that does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/datachan.h"
#include "core/listener.h"
#include "core/tls.h"

struct world {
	struct loop *loop;
	int lfd;			/* where the control connection came in */
	int client;			/* the control connection's client end */
	struct session *control;
	bool control_closed;
	struct datachan *dc;
	SSL_CTX *tls;			/* server side, or NULL */
	int ready, failed, err;
	struct session *data;		/* taken */
	struct datachan_conn_opts take;
	bool take_on_ready;
	int data_tls_ready;
	enum datachan_resume resume;
	bool data_closed;
};

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_exit(arg);
}

static void run(struct world *w, uint64_t ms)
{
	struct event *guard = loop_timer(w->loop, ms, false, on_guard, w->loop);
	loop_run(w->loop);
	event_free(guard);
}

static void ctl_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct world *w = arg;
	if (ev->type == SESSION_EV_TLS_READY) {
		/* As FTP does: the token goes into tickets issued from now on. */
		datachan_tls_control(w->dc);
		session_write(s, "k", 1);
	} else if (ev->type == SESSION_EV_DATA) {
		evbuffer_drain(session_input(s), evbuffer_get_length(session_input(s)));
	} else if (ev->type == SESSION_EV_CLOSED) {
		/* The channel goes before its control session (as FTP's does). */
		datachan_free(w->dc);
		w->dc = NULL;
		w->control_closed = true;
		loop_exit(w->loop);
	}
}

static void data_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct world *w = arg;
	if (ev->type == SESSION_EV_TLS_READY) {
		w->data_tls_ready++;
		w->resume = datachan_tls_resumed(w->dc, s);
		session_write(s, "secret", 6);
		session_notify_drained(s, 0);
	} else if (ev->type == SESSION_EV_DRAINED) {
		datachan_end(s);
		w->data = NULL;
	} else if (ev->type == SESSION_EV_CLOSED) {
		w->data_closed = true;
		w->data = NULL;
	}
}

static void on_chan(struct datachan *dc, enum datachan_event ev, int err, void *arg)
{
	struct world *w = arg;
	if (ev == DATACHAN_READY) {
		w->ready++;
		if (w->take_on_ready) {
			ik_err e;
			w->data = datachan_take(dc, &w->take, data_io, w, &e);
			assert_non_null(w->data);
		}
	} else {
		w->failed++;
		w->err = err;
	}
	loop_exit(w->loop);
}

/* A control session on host (its local address) with a plain client. */
static void setup(struct world *w, const char *host, SSL_CTX *tls)
{
	ik_err e;
	memset(w, 0, sizeof *w);
	w->tls = tls;
	w->loop = loop_new(&e);
	assert_non_null(w->loop);
	struct listen_set set = {0};
	char spec[64];
	snprintf(spec, sizeof spec, "%s:0", host);
	const char *specs[] = {spec};
	assert_int_equal(listen_bind_specs(&set, specs, 1, SOCK_STREAM, 0, &e), 0);
	w->lfd = set.fd[0];
	w->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(w->client, (struct sockaddr *)&set.ep[0].ss, set.ep[0].len), 0);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	int fd = accept4(w->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(fd >= 0);
	struct session_opts o = {.proto = "test", .mode = SESSION_MODE_RAW};
	w->control = session_new(w->loop, fd, (struct sockaddr *)&peer, plen, tls, &o, ctl_io, w,
				 &e);
	assert_non_null(w->control);
	w->dc = datachan_new(w->control, "test", on_chan, w, &e);
	assert_non_null(w->dc);
}

static void teardown(struct world *w)
{
	if (w->data != NULL)
		datachan_end(w->data);
	close(w->client);
	if (!w->control_closed) {
		session_close(w->control, "test over");
		run(w, 5000);
	}
	assert_true(w->control_closed);
	close(w->lfd);
	loop_free(w->loop);
}

static int connect_to(const char *from, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	if (from != NULL) {
		assert_int_equal(inet_pton(AF_INET, from, &a.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	}
	a.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* A listening socket on 127.0.0.1, port from the kernel. */
static void bind_loopback(struct listen_set *set)
{
	const char *spec[] = {"127.0.0.1:0"};
	ik_err e;
	memset(set, 0, sizeof *set);
	assert_int_equal(listen_bind_specs(set, spec, 1, SOCK_STREAM, 0, &e), 0);
}

static size_t read_all(int fd, char *buf, size_t bufsz)
{
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, bufsz - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return n;
}

/* ---- passive ---- */

static void passive_accepts_control_peer_only(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.1", NULL);
	ik_err e;
	uint16_t port = 0;
	assert_int_equal(datachan_listen(w.dc, 0, 0, 5000, &port, &e), 0);
	assert_true(port > 0);
	assert_true(datachan_listening(w.dc));
	/* Another host races the client to the port: closed, not reported. */
	int thief = connect_to("127.0.0.2", port);
	run(&w, 200);
	assert_int_equal(w.ready, 0);
	char buf[64];
	assert_int_equal(read_all(thief, buf, sizeof buf), 0);
	close(thief);
	assert_true(datachan_listening(w.dc));
	/* The client itself: ready, and the port is closed behind it. */
	int good = connect_to(NULL, port);
	run(&w, 5000);
	assert_int_equal(w.ready, 1);
	assert_true(datachan_ready(w.dc));
	assert_false(datachan_listening(w.dc));
	struct datachan_conn_opts o = {.session = {.proto = "test-data"}};
	w.data = datachan_take(w.dc, &o, data_io, &w, &e);
	assert_non_null(w.data);
	assert_false(datachan_ready(w.dc));
	session_write(w.data, "payload", 7);
	session_notify_drained(w.data, 0);
	run(&w, 200);
	assert_null(w.data);		/* drained, then ended */
	assert_int_equal(read_all(good, buf, sizeof buf), 7);
	assert_string_equal(buf, "payload");
	close(good);
	teardown(&w);
}

static void passive_port_from_range(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.1", NULL);
	/* A port someone else holds: the one-port range is busy. */
	struct listen_set busy;
	bind_loopback(&busy);
	ik_err e;
	uint16_t p = endpoint_port((struct sockaddr *)&busy.ep[0].ss), got = 0;
	errno = 0;
	assert_int_equal(datachan_listen(w.dc, p, p, 5000, &got, &e), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_false(datachan_listening(w.dc));
	listen_set_close(&busy);
	/* Free again: that port is the one. */
	assert_int_equal(datachan_listen(w.dc, p, p, 5000, &got, &e), 0);
	assert_int_equal(got, p);
	datachan_reset(w.dc);
	assert_false(datachan_listening(w.dc));
	teardown(&w);
}

static void passive_deadline(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.1", NULL);
	ik_err e;
	uint16_t port;
	assert_int_equal(datachan_listen(w.dc, 0, 0, 50, &port, &e), 0);
	run(&w, 5000);
	assert_int_equal(w.failed, 1);
	assert_int_equal(w.err, ETIMEDOUT);
	assert_false(datachan_listening(w.dc));
	teardown(&w);
}

/* ---- active ---- */

static void active_connects_from_control_address(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.3", NULL);	/* the control connection's local address */
	struct listen_set target;
	bind_loopback(&target);
	ik_err e;
	assert_int_equal(datachan_connect(w.dc, (struct sockaddr *)&target.ep[0].ss,
					  target.ep[0].len, 5000, &e), 0);
	assert_int_equal(w.ready, 0);	/* never from inside the call */
	run(&w, 5000);
	assert_int_equal(w.ready, 1);
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	int fd = accept(target.fd[0], (struct sockaddr *)&from, &flen);
	assert_true(fd >= 0);
	char text[32];
	inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
	assert_string_equal(text, "127.0.0.3");
	struct datachan_conn_opts o = {.session = {.proto = "test-data"}};
	w.data = datachan_take(w.dc, &o, data_io, &w, &e);
	assert_non_null(w.data);
	session_write(w.data, "up", 2);
	session_notify_drained(w.data, 0);
	run(&w, 200);
	char buf[16];
	assert_int_equal(read_all(fd, buf, sizeof buf), 2);
	assert_string_equal(buf, "up");
	close(fd);
	listen_set_close(&target);
	teardown(&w);
}

static void active_connect_refused(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.1", NULL);
	struct listen_set gone;
	bind_loopback(&gone);
	ik_err e;
	struct endpoint ep = gone.ep[0];
	listen_set_close(&gone);	/* nobody listens there now */
	assert_int_equal(datachan_connect(w.dc, (struct sockaddr *)&ep.ss, ep.len, 5000, &e), 0);
	run(&w, 5000);
	assert_int_equal(w.ready, 0);
	assert_int_equal(w.failed, 1);
	assert_int_equal(w.err, ECONNREFUSED);
	assert_false(datachan_ready(w.dc));
	teardown(&w);
}

/* ---- the connection ---- */

static void buffer_sizes_applied(void **state)
{
	(void)state;
	struct world w;
	setup(&w, "127.0.0.1", NULL);
	ik_err e;
	uint16_t port;
	assert_int_equal(datachan_listen(w.dc, 0, 0, 5000, &port, &e), 0);
	int c = connect_to(NULL, port);
	run(&w, 5000);
	assert_int_equal(w.ready, 1);
	struct datachan_conn_opts o = {.send_buffer = 96 * 1024, .recv_buffer = 48 * 1024,
				       .session = {.proto = "test-data"}};
	w.data = datachan_take(w.dc, &o, data_io, &w, &e);
	assert_non_null(w.data);
	int snd = 0, rcv = 0;
	socklen_t len = sizeof snd;
	assert_int_equal(getsockopt(session_fd(w.data), SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
	len = sizeof rcv;
	assert_int_equal(getsockopt(session_fd(w.data), SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
	/* Linux keeps twice what was asked, for its own bookkeeping. */
	assert_int_equal(snd, 2 * 96 * 1024);
	assert_int_equal(rcv, 2 * 48 * 1024);
	/* Nothing waits: taking again says so. */
	assert_null(datachan_take(w.dc, &o, data_io, &w, &e));
	assert_string_equal(e.msg, "no data connection");
	close(c);
	teardown(&w);
}

/* ---- TLS: the data connection must resume the control's session ---- */

struct tls_client {
	int control;
	bool control_tls;
	uint16_t port;
	bool resume;		/* offer the control connection's session */
	SSL_CTX *ctx;
	int ok;
	int reused;		/* as the client saw it */
	char got[32];
};

static void *tls_client(void *arg)
{
	struct tls_client *c = arg;
	ik_err e;
	SSL *ctl = NULL;
	SSL_SESSION *sess = NULL;
	char k;
	if (c->control_tls) {
		ctl = tls_client_ssl(c->ctx, "localhost", NULL, &e);
		if (ctl == NULL)
			return NULL;
		SSL_set_fd(ctl, c->control);
		/* The "k" comes after the tickets: reading it takes them in. */
		if (SSL_connect(ctl) != 1 || SSL_read(ctl, &k, 1) != 1) {
			SSL_free(ctl);
			return NULL;
		}
		sess = SSL_get1_session(ctl);
	} else if (read(c->control, &k, 1) != 1) {
		return NULL;
	}
	int fd = connect_to(NULL, c->port);
	SSL *data = tls_client_ssl(c->ctx, "localhost", c->resume ? sess : NULL, &e);
	if (data != NULL) {
		SSL_set_fd(data, fd);
		if (SSL_connect(data) == 1) {
			c->reused = SSL_session_reused(data);
			int n = 0, got;
			while ((got = SSL_read(data, c->got + n, (int)sizeof c->got - 1 - n)) > 0)
				n += got;
			c->got[n] = '\0';
			c->ok = 1;
		}
		SSL_free(data);
	}
	close(fd);
	SSL_SESSION_free(sess);
	if (ctl != NULL) {
		SSL_shutdown(ctl);
		SSL_free(ctl);
	}
	shutdown(c->control, SHUT_WR);
	return NULL;
}

static void tls_run(bool control_tls, bool resume, enum datachan_resume want)
{
	ik_err e;
	SSL_CTX *srv = tls_server_ctx(NULL, &e);
	assert_non_null(srv);
	assert_int_equal(datachan_tls_setup(srv, &e), 0);
	struct tls_client_opts co = {.insecure = true};
	SSL_CTX *cctx = tls_client_ctx(&co, &e);
	assert_non_null(cctx);
	struct world w;
	setup(&w, "127.0.0.1", control_tls ? srv : NULL);
	datachan_tls_control(w.dc);	/* implicit TLS: before the handshake */
	uint16_t port;
	assert_int_equal(datachan_listen(w.dc, 0, 0, 5000, &port, &e), 0);
	w.take_on_ready = true;
	w.take.tls = srv;
	w.take.session.proto = "test-data";
	if (!control_tls)
		session_write(w.control, "k", 1);
	struct tls_client c = {.control = w.client, .control_tls = control_tls, .port = port,
			       .resume = resume, .ctx = cctx};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, tls_client, &c), 0);
	/* Until the client has gone: the control connection's end closes it. */
	for (int i = 0; i < 100 && !w.control_closed; i++)
		run(&w, 10000);
	pthread_join(t, NULL);
	assert_int_equal(c.ok, 1);
	assert_int_equal(w.ready, 1);
	assert_int_equal(w.data_tls_ready, 1);
	assert_int_equal(w.resume, want);
	assert_int_equal(c.reused, want == DATACHAN_RESUMED);
	assert_string_equal(c.got, "secret");
	teardown(&w);
	SSL_CTX_free(cctx);
	SSL_CTX_free(srv);
}

static void tls_resumed_session_accepted(void **state)
{
	(void)state;
	tls_run(true, true, DATACHAN_RESUMED);
}

static void tls_full_handshake_refused(void **state)
{
	(void)state;
	tls_run(true, false, DATACHAN_NOT_RESUMED);
}

static void tls_without_control_tls_refused(void **state)
{
	(void)state;
	tls_run(false, false, DATACHAN_NO_CONTROL_TLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passive_accepts_control_peer_only),
		cmocka_unit_test(passive_port_from_range),
		cmocka_unit_test(passive_deadline),
		cmocka_unit_test(active_connects_from_control_address),
		cmocka_unit_test(active_connect_refused),
		cmocka_unit_test(buffer_sizes_applied),
		cmocka_unit_test(tls_resumed_session_accepted),
		cmocka_unit_test(tls_full_handshake_refused),
		cmocka_unit_test(tls_without_control_tls_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
