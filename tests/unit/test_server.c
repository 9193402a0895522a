/* core/server: the total and per-address limits (this process's counts,
 * and the shared table across forked processes), the refusal a client
 * over a limit gets, graceful stop, reload generations, free, and the
 * banner endpoints. The protocol here is a stub: a session is its socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include <event2/event.h>

#include "core/listener.h"
#include "core/loop.h"
#include "core/server.h"
#include "core/shmcount.h"
#include "lib/str.h"

struct stub_conn {
	int fd;
	bool asked_to_stop;
	struct server_conn conn;
};

struct stub {
	struct server *srv;
	struct stub_conn *conns[16];
	size_t n;
	unsigned gens_freed;
	unsigned done;
};

static void stub_accept(void *arg, void *gen, int fd, const struct sockaddr *peer,
			socklen_t len, size_t i)
{
	(void)gen;
	(void)peer;
	(void)len;
	(void)i;
	struct stub *t = arg;
	struct stub_conn *c = calloc(1, sizeof *c);
	assert_non_null(c);
	c->fd = fd;
	server_conn_add(t->srv, &c->conn, c);
	t->conns[t->n++] = c;
}

static void stub_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			 size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	(void)i;
	static const char *const words[] = {"stopping", "full", "per-ip", "table"};
	str_fmt(reply, replysz, "421 %s %s\r\n", words[what], (const char *)gen);
	str_fmt(why, whysz, "%s", words[what]);
}

static void stub_end(struct stub_conn *c)
{
	close(c->fd);
	server_conn_remove(&c->conn);
	free(c);
}

static void stub_stop_conn(void *conn)
{
	struct stub_conn *c = conn;
	c->asked_to_stop = true;	/* it ends later, when the test says */
}

static void stub_close_conn(void *conn, const char *reason)
{
	(void)reason;
	stub_end(conn);
}

static struct stub *gen_owner;

static void stub_gen_free(void *gen)
{
	(void)gen;
	gen_owner->gens_freed++;
}

static const struct server_proto stub_proto = {
	.accept = stub_accept,
	.refusal = stub_refusal,
	.stop_conn = stub_stop_conn,
	.close_conn = stub_close_conn,
	.gen_free = stub_gen_free,
};

/* Forget a session the stub ended itself. */
static void forget(struct stub *t, struct stub_conn *c)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->conns[i] == c) {
			t->conns[i] = t->conns[--t->n];
			return;
		}
}

/* ---- helpers ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until *count reaches want (or two seconds pass). */
static void pump_until(struct loop *l, const size_t *count, size_t want)
{
	uint64_t end = now_ms() + 2000;
	while (*count < want && now_ms() < end) {
		event_base_loop(loop_base(l), EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

static void pump(struct loop *l, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	while (now_ms() < end) {
		event_base_loop(loop_base(l), EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* A client from source address src to set's first socket. */
static int client(const struct listen_set *set, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = {3, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_in me = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &me.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)&set->ep[0].ss, set->ep[0].len), 0);
	return fd;
}

/* What a refused client reads before the close. */
static void expect_refusal(int fd, const char *want)
{
	char buf[128];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_WAITALL);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
	close(fd);
}

static void bind_local(struct listen_set *set)
{
	ik_err e;
	const char *spec[] = {"127.0.0.1:0"};
	memset(set, 0, sizeof *set);
	assert_int_equal(listen_bind_specs(set, spec, 1, SOCK_STREAM, 0, &e), 0);
}

static struct server *start(struct stub *t, struct loop *l, const struct listen_set *set,
			    struct shmcount *shared, const char *gen, uint64_t total,
			    uint64_t per_ip)
{
	ik_err e;
	gen_owner = t;
	struct server_opts o = {.proto = &stub_proto, .arg = t, .refused_event = "stub_refused",
				.shared = shared};
	struct server_limits lim = {total, per_ip};
	t->srv = server_new(l, set, &o, (void *)gen, &lim, &e);
	assert_non_null(t->srv);
	return t->srv;
}

/* ---- tests ---- */

static void limits_total_and_per_address(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct listen_set set;
	bind_local(&set);
	struct stub t = {0};
	start(&t, l, &set, NULL, "A", 3, 2);
	int a1 = client(&set, "127.0.0.1"), a2 = client(&set, "127.0.0.1");
	pump_until(l, &t.n, 2);
	assert_int_equal(server_sessions(t.srv), 2);
	/* A third from the same address: over max_per_ip. */
	int a3 = client(&set, "127.0.0.1");
	pump(l, 50);
	expect_refusal(a3, "421 per-ip A\r\n");
	/* Another address still gets in, up to max_total. */
	int b1 = client(&set, "127.0.0.2");
	pump_until(l, &t.n, 3);
	int c1 = client(&set, "127.0.0.3");
	pump(l, 50);
	expect_refusal(c1, "421 full A\r\n");
	assert_int_equal(server_sessions(t.srv), 3);
	assert_int_equal(server_refused(t.srv), 2);
	/* One ends: its slot is free again. */
	struct stub_conn *gone = t.conns[0];
	forget(&t, gone);
	stub_end(gone);
	int c2 = client(&set, "127.0.0.3");
	pump_until(l, &t.n, 3);
	assert_int_equal(server_sessions(t.srv), 3);
	server_free(t.srv);	/* closes the rest */
	assert_int_equal(t.gens_freed, 1);
	close(a1);
	close(a2);
	close(b1);
	close(c2);
	listen_set_close(&set);
	loop_free(l);
}

/* A child process holds sessions in the shared table; the parent's
 * server, on its own socket, counts them against the same limits. */
static void shared_table_across_processes(void **state)
{
	(void)state;
	ik_err e;
	struct shmcount *sc = shmcount_new(64, 4, &e);
	assert_non_null(sc);
	struct listen_set mine, theirs;
	bind_local(&mine);
	bind_local(&theirs);
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loop *cl = loop_new(&e);
		struct stub ct = {0};
		start(&ct, cl, &theirs, sc, "child", 2, 2);
		char b = 'r';
		if (write(up[1], &b, 1) != 1)
			_exit(2);
		pump_until(cl, &ct.n, 1);
		b = ct.n == 1 ? '1' : '0';
		if (write(up[1], &b, 1) != 1 || read(down[0], &b, 1) != 1)
			_exit(2);
		server_free(ct.srv);	/* gives its counts back */
		b = 'f';
		_exit(write(up[1], &b, 1) == 1 ? 0 : 2);
	}
	char b;
	assert_int_equal(read(up[0], &b, 1), 1);
	int held = client(&theirs, "127.0.0.1");
	assert_int_equal(read(up[0], &b, 1), 1);
	assert_int_equal(b, '1');
	assert_int_equal(shmcount_total(sc), 1);
	struct loop *l = loop_new(&e);
	struct stub t = {0};
	start(&t, l, &mine, sc, "parent", 2, 2);
	int a1 = client(&mine, "127.0.0.1");
	pump_until(l, &t.n, 1);
	/* Two in all (one each): the third is over max_total. */
	int a2 = client(&mine, "127.0.0.1");
	pump(l, 50);
	expect_refusal(a2, "421 full parent\r\n");
	/* The child lets its session go: there is room again. */
	b = 'q';
	assert_int_equal(write(down[1], &b, 1), 1);
	assert_int_equal(read(up[0], &b, 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	int a3 = client(&mine, "127.0.0.1");
	pump_until(l, &t.n, 2);
	assert_int_equal(shmcount_total(sc), 2);
	server_free(t.srv);
	assert_int_equal(shmcount_total(sc), 0);
	close(held);
	close(a1);
	close(a3);
	for (int i = 0; i < 2; i++) {
		close(up[i]);
		close(down[i]);
	}
	listen_set_close(&mine);
	listen_set_close(&theirs);
	loop_free(l);
	shmcount_free(sc);
}

static void on_done(void *arg) { ((struct stub *)arg)->done++; }

static void stop_waits_for_the_last_session(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct listen_set set;
	bind_local(&set);
	struct stub t = {0};
	start(&t, l, &set, NULL, "A", 0, 0);
	int a = client(&set, "127.0.0.1"), b = client(&set, "127.0.0.1");
	pump_until(l, &t.n, 2);
	server_stop(t.srv, on_done, &t);
	assert_true(server_stopping(t.srv));
	assert_true(t.conns[0]->asked_to_stop && t.conns[1]->asked_to_stop);
	/* No more accepting. */
	int late = client(&set, "127.0.0.1");
	pump(l, 50);
	assert_int_equal(t.n, 2);
	/* Done only when the last one has gone, and once. */
	struct stub_conn *c = t.conns[1];
	forget(&t, c);
	stub_end(c);
	pump(l, 20);
	assert_int_equal(t.done, 0);
	c = t.conns[0];
	forget(&t, c);
	stub_end(c);
	pump(l, 20);
	assert_int_equal(t.done, 1);
	/* Asked again: done again, at once (nothing is left). */
	server_stop(t.srv, on_done, &t);
	pump(l, 20);
	assert_int_equal(t.done, 2);
	/* A stopping server takes no new settings. */
	assert_int_equal(server_reload(t.srv, "B", NULL, &e), -1);
	assert_string_equal(e.msg, "the server is stopping; the new settings apply at its next "
			    "start");
	server_free(t.srv);
	close(a);
	close(b);
	close(late);
	listen_set_close(&set);
	loop_free(l);
}

static void reload_keeps_sessions_in_their_generation(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct listen_set set;
	bind_local(&set);
	struct stub t = {0};
	start(&t, l, &set, NULL, "A", 2, 0);
	int a = client(&set, "127.0.0.1");
	pump_until(l, &t.n, 1);
	struct stub_conn *old = t.conns[0];
	assert_string_equal(server_conn_gen(&old->conn), "A");
	struct server_limits lim = {2, 0};
	assert_int_equal(server_reload(t.srv, "B", &lim, &e), 0);
	assert_string_equal(server_gen(t.srv), "B");
	int b = client(&set, "127.0.0.1");
	pump_until(l, &t.n, 2);
	assert_string_equal(server_conn_gen(&t.conns[1]->conn), "B");
	/* The sessions of both count against the new limit (2). */
	int c = client(&set, "127.0.0.1");
	pump(l, 50);
	expect_refusal(c, "421 full B\r\n");
	/* Every session, newest first. */
	struct server_conn *n = server_first(t.srv);
	assert_ptr_equal(n, &t.conns[1]->conn);
	assert_ptr_equal(server_next(n), &old->conn);
	assert_null(server_next(server_next(n)));
	/* The retired generation goes with its last session. */
	assert_true(server_uses_gen(t.srv, "A"));
	assert_int_equal(t.gens_freed, 0);
	forget(&t, old);
	stub_end(old);
	assert_int_equal(t.gens_freed, 1);
	assert_false(server_uses_gen(t.srv, "A"));
	/* A generation nobody uses goes at once. */
	assert_int_equal(server_reload(t.srv, "C", &lim, &e), 0);
	assert_true(server_uses_gen(t.srv, "B"));
	assert_int_equal(server_reload(t.srv, "D", &lim, &e), 0);
	assert_int_equal(t.gens_freed, 2);	/* C */
	server_free(t.srv);
	assert_int_equal(t.gens_freed, 4);	/* B and D */
	close(a);
	close(b);
	listen_set_close(&set);
	loop_free(l);
}

static void banner_line(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	sbuf_printf(out, "%s %s %s %s %d|", (const char *)conf, ep->text, ep->host, ep->url_host,
		    ep->socktype == SOCK_DGRAM);
}

static void banner_endpoints(void **state)
{
	(void)state;
	ik_err e;
	struct listen_set set = {0};
	const char *spec[] = {"127.0.0.1:0", "[::1]:0"};
	assert_int_equal(listen_bind_specs(&set, spec, 2, SOCK_STREAM, 0, &e), 0);
	const char *udp[] = {"127.0.0.1:0"};
	assert_int_equal(listen_bind_specs(&set, udp, 1, SOCK_DGRAM, 0, &e), 0);
	struct server_endpoint ep;
	size_t i = 0;
	assert_true(server_endpoint_next(&set, &i, &ep));
	assert_int_equal(ep.index, 0);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_string_equal(ep.url_host, "127.0.0.1");
	assert_int_equal(ep.port, endpoint_port((struct sockaddr *)&set.ep[0].ss));
	struct sbuf out = SBUF_INIT(4096);
	server_describe(&set, "svc", banner_line, &out);
	char want[512];
	if (set.n == 3)		/* a machine without IPv6 has no [::1] */
		str_fmt(want, sizeof want, "svc %s 127.0.0.1 127.0.0.1 0|svc %s ::1 [::1] 0|"
			"svc %s 127.0.0.1 127.0.0.1 1|", set.ep[0].text, set.ep[1].text,
			set.ep[2].text);
	else
		str_fmt(want, sizeof want, "svc %s 127.0.0.1 127.0.0.1 0|svc %s 127.0.0.1 "
			"127.0.0.1 1|", set.ep[0].text, set.ep[1].text);
	assert_string_equal(sbuf_cstr(&out), want);
	sbuf_free(&out);
	i = set.n;
	assert_false(server_endpoint_next(&set, &i, &ep));
	listen_set_close(&set);
}

/* ---- a server_kind: generations made from confs ---- */

struct kconf {
	const char *name;
	uint64_t total;
	bool refuse, fail;	/* keep refuses; gen_new fails */
	int listen;		/* differs from the bound conf's: logged */
};

struct kgen {
	const struct kconf *conf;
	const void *bound;
	struct server *core;
};

static struct {
	const void *running, *bound;
	const char *restart;
	int keeps, checks, changed;
} kseen;

static void *kgen_new(void *conf, const struct server_genargs *a, ik_err *e)
{
	const struct kconf *c = conf;
	if (c->fail) {
		ik_err_set(e, "no generation for %s", c->name);
		return NULL;
	}
	struct kgen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->conf = c;
	g->bound = a->bound;
	return g;
}

static void kgen_core(void *gen, struct server *core) { ((struct kgen *)gen)->core = core; }

static void kgen_free(void *gen)
{
	free(gen);
	gen_owner->gens_freed++;
}

static struct server_limits klimits(const void *conf)
{
	return (struct server_limits){((const struct kconf *)conf)->total, 0};
}

static int kkeep(void *conf, const void *running, const struct server_genargs *a,
		 const char *restart, ik_err *e)
{
	(void)a;
	const struct kconf *c = conf;
	kseen.running = running;
	kseen.restart = restart;
	kseen.keeps++;
	return c->refuse ? ik_err_set(e, "%s refused", c->name) : 0;
}

static void kcheck(const void *bound, const void *conf, const char *restart)
{
	(void)restart;
	kseen.bound = bound;
	kseen.checks++;
	kseen.changed += ((const struct kconf *)bound)->listen != ((const struct kconf *)conf)->listen;
}

static const struct server_proto kproto = {
	.accept = stub_accept,
	.refusal = stub_refusal,
	.stop_conn = stub_stop_conn,
	.close_conn = stub_close_conn,
	.gen_free = kgen_free,
};

static const struct server_kind kind = {
	.proto = &kproto,
	.refused_event = "k_refused",
	.restart = "inetkit kd",
	.gen_new = kgen_new,
	.gen_core = kgen_core,
	.limits = klimits,
	.keep = kkeep,
	.listen_check = kcheck,
};

static void kind_start_and_reload(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct listen_set set;
	bind_local(&set);
	struct stub t = {0};
	gen_owner = &t;
	struct kconf a = {"A", 5, false, false, 1}, b = {"B", 5, false, false, 1},
		     c = {"C", 5, true, false, 1}, d = {"D", 5, false, true, 1},
		     f = {"F", 5, false, false, 2};
	struct server *srv = server_kind_start(&kind, &a, l, &set, NULL, &e);
	assert_non_null(srv);
	const struct kgen *g = server_gen(srv);
	assert_ptr_equal(g->conf, &a);
	assert_ptr_equal(g->bound, &a);
	assert_ptr_equal(g->core, srv);
	/* A reload: keep sees the running conf, the new generation the bound one. */
	assert_int_equal(server_service_reload(srv, &b, &e), 0);
	g = server_gen(srv);
	assert_ptr_equal(g->conf, &b);
	assert_ptr_equal(g->bound, &a);
	assert_ptr_equal(g->core, srv);
	assert_ptr_equal(kseen.running, &a);
	assert_string_equal(kseen.restart, "inetkit kd");
	assert_ptr_equal(kseen.bound, &a);
	assert_int_equal(kseen.changed, 0);
	assert_int_equal(t.gens_freed, 1);	/* A: no sessions */
	/* Refused by keep, or no generation: nothing changes. */
	assert_int_equal(server_kind_reload(srv, &c, &e), -1);
	assert_string_equal(e.msg, "C refused");
	assert_int_equal(server_kind_reload(srv, &d, &e), -1);
	assert_string_equal(e.msg, "no generation for D");
	assert_ptr_equal(((const struct kgen *)server_gen(srv))->conf, &b);
	assert_int_equal(kseen.checks, 1);
	/* Other listen addresses than the bound ones are noticed. */
	assert_int_equal(server_kind_reload(srv, &f, &e), 0);
	assert_ptr_equal(kseen.running, &b);
	assert_int_equal(kseen.changed, 1);
	server_free(srv);
	assert_int_equal(t.gens_freed, 3);
	listen_set_close(&set);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limits_total_and_per_address),
		cmocka_unit_test(shared_table_across_processes),
		cmocka_unit_test(stop_waits_for_the_last_session),
		cmocka_unit_test(reload_keeps_sessions_in_their_generation),
		cmocka_unit_test(banner_endpoints),
		cmocka_unit_test(kind_start_and_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
