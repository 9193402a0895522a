#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <syslog.h>
#include <event2/event.h>

#include "core/acl.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/loop.h"

static void port_in_use_is_named(void **state)
{
	(void)state;
	struct listen_set a = {0}, b = {0};
	ik_err e;
	const char *spec[] = {"127.0.0.1:0"};
	assert_int_equal(listen_bind_specs(&a, spec, 1, SOCK_STREAM, 0, &e), 0);
	assert_int_equal(a.n, 1);
	char again[64];
	snprintf(again, sizeof again, "%s", a.ep[0].text);
	const char *spec2[] = {again};
	assert_int_equal(listen_bind_specs(&b, spec2, 1, SOCK_STREAM, 0, &e), -1);
	char want[256];
	snprintf(want, sizeof want, "cannot listen on %s (tcp): address already in use; another "
		 "program has this port (see: ss -lnp 'sport = :%u') or choose another port",
		 again, endpoint_port((struct sockaddr *)&a.ep[0].ss));
	assert_string_equal(e.msg, want);
	listen_set_close(&a);
	listen_set_close(&b);
}

static void reuseport_shares(void **state)
{
	(void)state;
	struct listen_set a = {0}, b = {0};
	ik_err e;
	const char *spec[] = {"127.0.0.1:0"};
	assert_int_equal(listen_bind_specs(&a, spec, 1, SOCK_STREAM, LISTEN_REUSEPORT, &e), 0);
	const char *spec2[] = {a.ep[0].text};
	assert_int_equal(listen_bind_specs(&b, spec2, 1, SOCK_STREAM, LISTEN_REUSEPORT, &e), 0);
	listen_set_close(&a);
	listen_set_close(&b);
}

static void unavailable_address(void **state)
{
	(void)state;
	struct listen_set a = {0};
	ik_err e;
	const char *spec[] = {"192.0.2.1:0"};	/* TEST-NET-1: never on this machine */
	assert_int_equal(listen_bind_specs(&a, spec, 1, SOCK_DGRAM, 0, &e), -1);
	assert_string_equal(e.msg, "cannot listen on 192.0.2.1:0 (udp): this machine has no such address");
}

static void spec_list(void **state)
{
	(void)state;
	char *list[LISTEN_MAX_SOCKETS];
	size_t n = 0;
	ik_err e;
	assert_int_equal(listen_spec_add(list, &n, "[::1]:21", &e), 0);
	assert_int_equal(listen_spec_add(list, &n, "::1:21", &e), -1);
	assert_string_equal(e.msg, "'::1:21': write an IPv6 address in brackets, as [::1]:PORT");
	while (n < LISTEN_MAX_SOCKETS)
		assert_int_equal(listen_spec_add(list, &n, "127.0.0.1:21", &e), 0);
	assert_int_equal(listen_spec_add(list, &n, "127.0.0.1:22", &e), -1);
	assert_string_equal(e.msg, "too many listen addresses (at most 32)");
	assert_string_equal(list[0], "[::1]:21");
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

struct accept_state {
	struct loop *loop;
	int accepted;
};

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
	(void)peer;
	(void)len;
	struct accept_state *st = arg;
	st->accepted++;
	close(fd);
	loop_exit(st->loop);
}

static void accepts_on_loop(void **state)
{
	(void)state;
	ik_err e;
	struct accept_state st = {0};
	st.loop = loop_new(&e);
	assert_non_null(st.loop);
	struct listen_set set = {0};
	const char *spec[] = {"[::1]:0"};
	assert_int_equal(listen_bind_specs(&set, spec, 1, SOCK_STREAM, 0, &e), 0);
	struct listener *li = listener_new(st.loop, &set, 0, on_accept, &st, &e);
	assert_non_null(li);
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&set.ep[0].ss, set.ep[0].len), 0);
	loop_run(st.loop);
	assert_int_equal(st.accepted, 1);
	close(c);
	listener_free(li);
	listen_set_close(&set);
	loop_free(st.loop);
}

/* A client the set's acl refuses is closed before the callback sees it:
 * it reads end of file, not a byte; an allowed one goes through. A new
 * acl put on the set applies to the next connection. */
static void acl_refuses_before_the_callback(void **state)
{
	(void)state;
	ik_err e;
	struct accept_state st = {0};
	st.loop = loop_new(&e);
	assert_non_null(st.loop);
	log_set_level(LOG_ERR);
	struct listen_set set = {0};
	const char *spec[] = {"127.0.0.1:0"};
	assert_int_equal(listen_bind_specs(&set, spec, 1, SOCK_STREAM, 0, &e), 0);
	struct acl *deny2 = NULL, *deny1 = NULL;
	assert_int_equal(acl_option(&deny2, "test", ACL_DENY, "127.0.0.2", &e), 0);
	assert_int_equal(acl_option(&deny1, "test", ACL_DENY, "127.0.0.1", &e), 0);
	listen_set_acl(&set, deny2);
	struct listener *li = listener_new(st.loop, &set, 0, on_accept, &st, &e);
	assert_non_null(li);
	const char *from[] = {"127.0.0.2", "127.0.0.1", "127.0.0.1"};
	for (int i = 0; i < 3; i++) {
		if (i == 2)
			listen_set_acl(&set, deny1);	/* a reload */
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in src = {.sin_family = AF_INET};
		inet_pton(AF_INET, from[i], &src.sin_addr);
		assert_int_equal(bind(c, (struct sockaddr *)&src, sizeof src), 0);
		assert_int_equal(connect(c, (struct sockaddr *)&set.ep[0].ss, set.ep[0].len), 0);
		if (i == 1) {
			loop_run(st.loop);	/* on_accept leaves the loop */
		} else {
			/* Refused: the loop runs until the close reaches us. */
			char b;
			while (recv(c, &b, 1, MSG_DONTWAIT) < 0)
				event_base_loop(loop_base(st.loop), EVLOOP_ONCE | EVLOOP_NONBLOCK);
			assert_int_equal(recv(c, &b, 1, 0), 0);
		}
		close(c);
	}
	assert_int_equal(st.accepted, 1);
	assert_int_equal(acl_refused(deny1), 2);	/* counted on from deny2's one */
	listener_free(li);
	listen_set_close(&set);
	acl_free(deny2);
	acl_free(deny1);
	loop_free(st.loop);
}

static int order[8];
static int norder;

static void deferred(void *arg) { order[norder++] = (int)(long)arg; }

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	order[norder++] = 3;
	raise(SIGTERM);	/* the default stop handler leaves the loop */
	(void)arg;
}

static void defer_timer_and_stop_signal(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	assert_non_null(l);
	struct event *t = loop_timer(l, 20, false, on_timer, NULL);
	loop_defer(l, deferred, (void *)1L);
	loop_defer(l, deferred, (void *)2L);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_stopping(l));
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 3);
	event_free(t);
	loop_free(l);
}

/* unix:PATH: made owner-only whatever the umask, a live socket refused, a
 * stale one replaced, another file never touched, and at the end only our
 * own socket file removed; workers share one socket. */
static void unix_sockets(void **state)
{
	(void)state;
	char dir[] = "/tmp/inetkit-listener-XXXXXX", spec[128], path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	const char *specs[] = {spec};
	ik_err e;
	mode_t old = umask(0);
	struct worker_sets ws = {0};
	assert_int_equal(worker_sets_bind(&ws, specs, 1, SOCK_STREAM, 2, &e), 0);
	umask(old);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ws.sets[1].n, 1);
	assert_string_equal(ws.sets[1].ep[0].text, spec);
	struct listen_set b = {0};
	assert_int_equal(listen_bind_specs(&b, specs, 1, SOCK_STREAM, 0, &e), -1);
	assert_true(strstr(e.msg, "address already in use; another program serves this socket")
		    != NULL);
	worker_sets_close(&ws);
	assert_int_equal(lstat(path, &st), -1);
	/* A socket left behind by a server that is gone. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
	close(fd);
	assert_int_equal(listen_bind_specs(&b, specs, 1, SOCK_STREAM, 0, &e), 0);
	/* Someone else's file now at the path: not ours to remove. */
	unlink(path);
	int f = open(path, O_CREAT | O_WRONLY, 0600);
	close(f);
	listen_set_unlink(&b);
	listen_set_close(&b);
	assert_int_equal(lstat(path, &st), 0);
	struct listen_set c = {0};
	assert_int_equal(listen_bind_specs(&c, specs, 1, SOCK_STREAM, 0, &e), -1);
	char want[300];
	snprintf(want, sizeof want, "cannot listen on %s: '%s' exists and is not a socket; remove "
		 "it or choose another path", spec, path);
	assert_string_equal(e.msg, want);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_in_use_is_named),
		cmocka_unit_test(reuseport_shares),
		cmocka_unit_test(unavailable_address),
		cmocka_unit_test(spec_list),
		cmocka_unit_test(accepts_on_loop),
		cmocka_unit_test(acl_refuses_before_the_callback),
		cmocka_unit_test(defer_timer_and_stop_signal),
		cmocka_unit_test(unix_sockets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
