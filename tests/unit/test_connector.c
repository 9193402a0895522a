/* core/connector: connects from the loop to the first address that
 * answers, says why when none does, binds a source address first, and a
 * cancelled connector never calls back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/connector.h"
#include "core/listener.h"

struct result {
	struct loop *loop;
	int calls, fd, err;
	char why[160], at[ENDPOINT_TEXT_MAX];
};

static void on_done(int fd, const struct endpoint *ep, int err, const char *why, void *arg)
{
	struct result *r = arg;
	r->calls++;
	r->fd = fd;
	r->err = err;
	snprintf(r->why, sizeof r->why, "%s", why);
	snprintf(r->at, sizeof r->at, "%s", ep->text);
	loop_exit(r->loop);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_exit(arg);
}

static void run_one(struct result *r, const struct endpoint *eps, size_t n,
		    const struct connector_opts *o)
{
	ik_err e;
	r->loop = loop_new(&e);
	assert_non_null(r->loop);
	r->fd = -2;
	assert_non_null(connector_start(r->loop, eps, n, o, on_done, r, &e));
	assert_int_equal(r->calls, 0);	/* never from inside connector_start */
	struct event *guard = loop_timer(r->loop, 5000, false, on_guard, r->loop);
	loop_run(r->loop);
	event_free(guard);
	loop_free(r->loop);
}

/* A closed port first, then one that listens: the second is reached. */
static void first_that_answers(void **state)
{
	(void)state;
	struct listen_set set = {0};
	ik_err e;
	const char *spec[] = {"127.0.0.1:0"};
	assert_int_equal(listen_bind_specs(&set, spec, 1, SOCK_STREAM, 0, &e), 0);
	struct endpoint eps[2];
	size_t n;
	assert_int_equal(endpoint_resolve_target("127.0.0.1:1", AF_UNSPEC, SOCK_STREAM, &eps[0], 1,
						 &n, "target", &e), 0);
	eps[1] = set.ep[0];
	struct endpoint src;
	assert_int_equal(endpoint_parse_source("127.0.0.2", &src, &e), 0);
	struct connector_opts o = {.timeout_ms = 2000, .source = &src};
	struct result r = {0};
	run_one(&r, eps, 2, &o);
	assert_int_equal(r.calls, 1);
	assert_true(r.fd >= 0);
	assert_string_equal(r.at, set.ep[0].text);
	struct sockaddr_in local;
	socklen_t len = sizeof local;
	assert_int_equal(getsockname(r.fd, (struct sockaddr *)&local, &len), 0);
	assert_int_equal(ntohl(local.sin_addr.s_addr), 0x7f000002);
	close(r.fd);
	listen_set_close(&set);
}

static void none_answers(void **state)
{
	(void)state;
	struct endpoint ep;
	size_t n;
	ik_err e;
	assert_int_equal(endpoint_resolve_target("127.0.0.1:1", AF_UNSPEC, SOCK_STREAM, &ep, 1, &n,
						 "target", &e), 0);
	struct connector_opts o = {0};
	struct result r = {0};
	run_one(&r, &ep, 1, &o);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.err, ECONNREFUSED);
	assert_string_equal(r.why, "connection refused");
	assert_string_equal(r.at, "127.0.0.1:1");
	assert_int_equal(endpoint_unix("unix:/nonexistent/inetkit.sock", &ep, &e), 0);
	struct result u = {0};
	run_one(&u, &ep, 1, &o);
	assert_int_equal(u.fd, -1);
	assert_string_equal(u.why, "no such socket file");
	/* A source of the other family cannot reach an IPv4 target. */
	struct endpoint src;
	assert_int_equal(endpoint_parse_source("::1", &src, &e), 0);
	assert_int_equal(endpoint_resolve_target("127.0.0.1:1", AF_UNSPEC, SOCK_STREAM, &ep, 1, &n,
						 "target", &e), 0);
	o.source = &src;
	struct result f = {0};
	run_one(&f, &ep, 1, &o);
	assert_int_equal(f.fd, -1);
	assert_string_equal(f.why, "the source address ::1 cannot reach it (another address family)");
}

static void cancel_never_calls(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct endpoint ep;
	size_t n;
	assert_int_equal(endpoint_resolve_target("127.0.0.1:1", AF_UNSPEC, SOCK_STREAM, &ep, 1, &n,
						 "target", &e), 0);
	struct connector_opts o = {0};
	struct result r = {.loop = l};
	struct connector *c = connector_start(l, &ep, 1, &o, on_done, &r, &e);
	assert_non_null(c);
	connector_cancel(c);
	struct event *guard = loop_timer(l, 200, false, on_guard, l);
	loop_run(l);
	event_free(guard);
	assert_int_equal(r.calls, 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_that_answers),
		cmocka_unit_test(none_answers),
		cmocka_unit_test(cancel_never_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
