/* Non-blocking connects on the loop; see connector.h. */
#include "core/connector.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/str.h"

#define CONNECTOR_DEFAULT_MS 10000

struct connector {
	struct loop *loop;
	struct endpoint eps[CONNECTOR_MAX_ADDRS];
	size_t n, cur;
	struct endpoint source;
	bool has_source;
	uint64_t timeout_ms;
	int fd;
	int last_err;
	char why[160];
	struct event *ev;	/* the socket being connected: EV_WRITE, with the timeout */
	struct event *step;	/* runs the next step from the loop */
	connector_cb cb;
	void *arg;
};

int connector_bind_source(int fd, const struct endpoint *source, ik_err *e)
{
	int family = source->ss.ss_family;
	if (family == AF_INET || family == AF_INET6) {
		bool any_port = endpoint_port((const struct sockaddr *)&source->ss) == 0;
		int one = 1;
		/* The port comes with the connect: a source address alone does not
		 * use up one of the ephemeral ports for every destination. */
		if (any_port)
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		else
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	if (bind(fd, (const struct sockaddr *)&source->ss, source->len) < 0) {
		int err = errno;
		if (err == EADDRNOTAVAIL)
			return ik_err_set(e, "cannot use source address %s: this machine has no such "
					  "address", source->text);
		if (err == EADDRINUSE)
			return ik_err_set(e, "cannot use source address %s: the port is in use; give "
					  "the address alone to let the system choose a port", source->text);
		return ik_err_errno(e, err, "cannot use source address %s", source->text);
	}
	return 0;
}

static void finish(struct connector *c, int fd)
{
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = NULL;
	const struct endpoint *ep = &c->eps[c->cur < c->n ? c->cur : (c->n > 0 ? c->n - 1 : 0)];
	connector_cb cb = c->cb;
	void *arg = c->arg;
	int err = fd >= 0 ? 0 : c->last_err;
	char why[sizeof c->why];
	str_copy(why, sizeof why, fd >= 0 ? "" : c->why);
	struct endpoint at = *ep;
	event_free(c->step);
	free(c);
	cb(fd, &at, err, why, arg);
}

static void set_error(struct connector *c, int err)
{
	c->last_err = err;
	if (err == ETIMEDOUT)
		str_fmt(c->why, sizeof c->why, "timed out after %llu ms",
			(unsigned long long)c->timeout_ms);
	else if (err == ECONNREFUSED)
		str_copy(c->why, sizeof c->why, "connection refused");
	else if (err == ENOENT && c->cur < c->n && c->eps[c->cur].ss.ss_family == AF_UNIX)
		str_copy(c->why, sizeof c->why, "no such socket file");
	else if (err == EAGAIN && c->cur < c->n && c->eps[c->cur].ss.ss_family == AF_UNIX)
		str_copy(c->why, sizeof c->why, "the server's accept queue is full");
	else
		str_copy(c->why, sizeof c->why, strerror(err));
}

static void try_next(struct connector *c);

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct connector *c = arg;
	int err = ETIMEDOUT;
	if (what & EV_WRITE) {
		socklen_t len = sizeof err;
		if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
	event_free(c->ev);
	c->ev = NULL;
	if (err == 0) {
		int done = c->fd;
		c->fd = -1;
		finish(c, done);
		return;
	}
	close(c->fd);
	c->fd = -1;
	set_error(c, err);
	c->cur++;
	try_next(c);
}

static void try_next(struct connector *c)
{
	for (; c->cur < c->n; c->cur++) {
		const struct endpoint *ep = &c->eps[c->cur];
		if (c->has_source && ep->ss.ss_family != c->source.ss.ss_family) {
			c->last_err = EAFNOSUPPORT;
			str_fmt(c->why, sizeof c->why, "the source address %s cannot reach it (another "
				"address family)", c->source.text);
			continue;
		}
		c->fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			set_error(c, errno);
			continue;
		}
		ik_err e;
		if (c->has_source && connector_bind_source(c->fd, &c->source, &e) < 0) {
			c->last_err = EADDRNOTAVAIL;
			str_copy(c->why, sizeof c->why, e.msg);
			close(c->fd);
			c->fd = -1;
			continue;
		}
		if (connect(c->fd, (const struct sockaddr *)&ep->ss, ep->len) == 0) {
			int done = c->fd;
			c->fd = -1;
			finish(c, done);
			return;
		}
		if (errno == EINPROGRESS) {
			c->ev = event_new(loop_base(c->loop), c->fd, EV_WRITE, on_writable, c);
			struct timeval tv = loop_tv(c->timeout_ms);
			if (c->ev != NULL && event_add(c->ev, &tv) == 0)
				return;
			if (c->ev != NULL)
				event_free(c->ev);
			c->ev = NULL;
			set_error(c, ENOMEM);
		} else {
			set_error(c, errno);
		}
		close(c->fd);
		c->fd = -1;
	}
	if (c->cur >= c->n && c->n > 0)
		c->cur = c->n - 1;
	finish(c, -1);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	try_next(arg);
}

struct connector *connector_start(struct loop *l, const struct endpoint *eps, size_t n,
				  const struct connector_opts *o, connector_cb cb, void *arg,
				  ik_err *e)
{
	struct connector *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->loop = l;
	c->n = n < CONNECTOR_MAX_ADDRS ? n : CONNECTOR_MAX_ADDRS;
	memcpy(c->eps, eps, c->n * sizeof *eps);
	if (o->source != NULL) {
		c->source = *o->source;
		c->has_source = true;
	}
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CONNECTOR_DEFAULT_MS;
	c->fd = -1;
	c->cb = cb;
	c->arg = arg;
	c->last_err = EDESTADDRREQ;
	str_copy(c->why, sizeof c->why, "no address to connect to");
	c->step = event_new(loop_base(l), -1, 0, on_step, c);
	if (c->step == NULL) {
		free(c);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	event_active(c->step, EV_TIMEOUT, 0);
	return c;
}

void connector_cancel(struct connector *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	event_free(c->step);
	free(c);
}
