/* Socketpair fixtures of the session tests (test_session.c,
 * test_session_modes.c): a real session on one end, driven by the event
 * loop; the test plays the peer on the other end. Include after cmocka.h. */
#ifndef INETKIT_TEST_SESSION_FIXTURE_H
#define INETKIT_TEST_SESSION_FIXTURE_H

#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/session.h"

static inline void fx_on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_exit(arg);
}

/* A session on a new loop; *peer is the other end (non-blocking). */
static inline struct session *fx_start(struct loop **l, struct session_opts *o, session_io_fn io,
				       void *arg, int *peer)
{
	int sv[2];
	ik_err e;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	*l = loop_new(&e);
	assert_non_null(*l);
	if (o->proto == NULL)
		o->proto = "test";
	struct session *s = session_new(*l, sv[0], NULL, 0, NULL, o, io, arg, &e);
	assert_non_null(s);
	*peer = sv[1];
	return s;
}

/* Run the loop until loop_exit() or for ms at most. */
static inline void fx_run(struct loop *l, uint64_t ms)
{
	struct event *guard = loop_timer(l, ms, false, fx_on_guard, l);
	loop_run(l);
	event_free(guard);
}

static inline void fx_put(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

/* Everything the peer can read now (up to bufsz - 1), NUL-terminated. */
static inline size_t fx_get_all(int fd, char *buf, size_t bufsz)
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

#endif
