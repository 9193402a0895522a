/* `inetkit tcp bench`: a load generator in the spirit of redis-benchmark,
 * for RFC 862 echo servers over TCP (RFC 9293).
 * Request/response: every connection sends SIZE bytes, waits until SIZE
 * bytes come back (an echo server), records the round trip in a
 * histogram, and sends again. --stream: every connection writes as fast
 * as the server takes it and counts what comes back (one-way bulk).
 * Event-driven, one event loop per thread, no locks on the hot path. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/cli.h"
#include "core/fsutil.h"
#include "core/loop.h"
#include "core/workers.h"
#include "tcp/bench_common.h"
#include "tcp/tcp_int.h"

#define CONNECT_MS 5000
#define READ_BUF (256 * 1024)

static const char bench_help[] =
	"Usage: inetkit tcp bench [OPTIONS] HOST PORT\n"
	"\n"
	"Load an echo server: each connection sends a request and waits for the\n"
	"same bytes back, again and again; prints requests/s, bytes/s and the\n"
	"latency percentiles p50, p90, p99 and max.\n"
	"  --conns N       connections at once (default 50)\n"
	"  --size BYTES    request size (default 64; --stream: write size, 64k)\n"
	"  --duration S    run S seconds (default 5)\n"
	"  --requests N    stop after N requests in all instead\n"
	"  --threads N     event loops in threads (default 1)\n"
	"  --stream        one-way bulk: write without waiting, count what returns\n"
	"  --zerocopy      --stream: send with sendfile(2) from memory, no copy on\n"
	"                  our side (as iperf3 -Z)\n"
	"  --json          the result as JSON\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -h, --help      this help\n"
	"\n"
	"Example: inetkit tcp bench --conns 100 --duration 3 127.0.0.1 2007\n";

static int tcp_bench_option(struct bench *b, int opt, const char *arg)
{
	(void)arg;
	if (opt == BENCH_OPT_EXTRA)
		b->stream = true;
	else
		b->zerocopy = true;
	return 0;
}

static const struct option tcp_bench_opts[] = {
	{"stream", no_argument, NULL, BENCH_OPT_EXTRA},
	{"zerocopy", no_argument, NULL, BENCH_OPT_EXTRA + 1},
	{NULL, 0, NULL, 0},
};

struct bconn {
	struct bench_thread *t;
	int fd;
	struct event *rev, *wev;
	uint64_t sent, recvd;	/* of the current request */
	uint64_t t0;
	bool connected, dead;
};

static void conn_dead(struct bconn *c, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	c->t->errors++;
	c->t->last_errno = err;
	event_del(c->rev);
	event_del(c->wev);
}

/* Write what is left of the current request (or, streaming, a chunk). */
static void conn_write(struct bconn *c)
{
	struct bench_thread *t = c->t;
	uint64_t size = t->b->size;
	while (c->sent < size) {
		ssize_t k;
		if (t->b->zerocopy) {
			/* The kernel takes the memfd's pages by reference. */
			off_t off = (off_t)c->sent;
			k = sendfile(c->fd, t->b->payload_fd, &off, size - c->sent);
		} else {
			k = send(c->fd, t->b->payload + c->sent, size - c->sent, MSG_NOSIGNAL);
		}
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(c->wev, NULL);
				return;
			}
			conn_dead(c, errno);
			return;
		}
		c->sent += (uint64_t)k;
		t->bytes_out += (uint64_t)k;
		if (t->b->stream && c->sent == size) {
			/* The next chunk, until told to stop: after a loop turn,
			 * so that reading what comes back takes its turns too. */
			c->sent = 0;
			if (!t->stopping)
				event_add(c->wev, NULL);
			return;
		}
	}
}

static void request_start(struct bconn *c)
{
	struct bench_thread *t = c->t;
	t->started++;
	c->sent = c->recvd = 0;
	c->t0 = bench_now_ns();
	conn_write(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct bconn *c = arg;
	struct bench_thread *t = c->t;
	for (;;) {
		ssize_t k = recv((int)fd, t->rbuf, READ_BUF, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_dead(c, errno);
			return;
		}
		if (k == 0) {
			conn_dead(c, ECONNRESET);
			bench_check_done(t);
			return;
		}
		t->bytes_in += (uint64_t)k;
		if (t->b->stream)
			return;		/* one read a turn, taking turns with writing */
		uint64_t left = t->b->size - c->recvd;
		uint64_t got = (uint64_t)k < left ? (uint64_t)k : left;
		if (memcmp(t->rbuf, t->b->payload + c->recvd, got) != 0)
			t->errors++;	/* not an echo of what we sent */
		c->recvd += got;
		if (c->recvd < t->b->size)
			continue;
		hist_add(&t->lat, bench_now_ns() - c->t0);
		t->requests++;
		if (bench_may_start(t))
			request_start(c);
		else
			bench_check_done(t);
		return;
	}
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bconn *c = arg;
	if (c->t->b->stream && c->t->stopping)
		return;
	conn_write(c);
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
	struct bconn *c = arg;
	struct bench_thread *t = c->t;
	int err = ETIMEDOUT;
	if (what & EV_WRITE) {
		socklen_t len = sizeof err;
		if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
	if (err != 0) {
		c->dead = true;
		t->connect_errors++;
		t->last_errno = err;
	} else {
		c->connected = true;
	}
	if (--t->pending_connects == 0)
		event_base_loopbreak(t->base);
}

/* In the thread, before the start line: connect every socket at once. */
static void tcp_bench_connect(struct bench_thread *t)
{
	struct bench *b = t->b;
	struct bconn *conns = t->socks;
	for (unsigned i = 0; i < t->n; i++) {
		struct bconn *c = &conns[i];
		c->t = t;
		c->fd = socket(b->ep.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			c->dead = true;
			t->connect_errors++;
			t->last_errno = errno;
			continue;
		}
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->rev = event_new(t->base, c->fd, EV_READ | EV_PERSIST, on_readable, c);
		c->wev = event_new(t->base, c->fd, EV_WRITE, on_writable, c);
		if (connect(c->fd, (struct sockaddr *)&b->ep.ss, b->ep.len) == 0) {
			c->connected = true;
			continue;
		}
		if (errno != EINPROGRESS) {
			c->dead = true;
			t->connect_errors++;
			t->last_errno = errno;
			continue;
		}
		struct timeval tv = loop_tv(CONNECT_MS);
		event_base_once(t->base, c->fd, EV_WRITE, on_connected, c, &tv);
		t->pending_connects++;
	}
	if (t->pending_connects > 0)
		event_base_dispatch(t->base);
}

static bool tcp_bench_start(struct bench_thread *t)
{
	struct bench *b = t->b;
	struct bconn *conns = t->socks;
	unsigned live = 0;
	for (unsigned i = 0; i < t->n; i++) {
		struct bconn *c = &conns[i];
		if (c->dead)
			continue;
		live++;
		event_add(c->rev, NULL);
		if (b->stream)
			conn_write(c);
		else if (bench_may_start(t))
			request_start(c);
	}
	return live > 0 && t->started + (b->stream ? 1 : 0) + (b->duration_ms > 0 ? 1 : 0) > 0;
}

static int tcp_bench_check(const struct bench *b)
{
	if (b->stream && b->requests > 0)
		return cli_usage_error("tcp", "--stream runs for --duration, not --requests");
	if (b->zerocopy && !b->stream)
		return cli_usage_error("tcp", "--zerocopy goes with --stream (requests are small)");
	return 0;
}

static int tcp_bench_prepare(struct bench *b)
{
	uint64_t fds = workers_raise_nofile((uint64_t)b->conns + 64);
	if (fds < (uint64_t)b->conns + 16)
		return cli_error("tcp", CLI_USAGE, "--conns %u needs more open files than the limit "
				 "(%llu); raise it with ulimit -n", b->conns, (unsigned long long)fds);
	b->payload = malloc(b->size);
	if (b->payload == NULL)
		return cli_error("tcp", CLI_FAIL, "out of memory");
	for (uint64_t i = 0; i < b->size; i++)
		b->payload[i] = (unsigned char)('a' + i % 26);
	if (b->zerocopy) {
		b->payload_fd = memfd_create("inetkit-bench", MFD_CLOEXEC);
		if (b->payload_fd < 0 || fs_write_all(b->payload_fd, b->payload, b->size) < 0)
			return cli_error("tcp", CLI_FAIL, "--zerocopy: cannot make the memory file: %s",
					 strerror(errno));
	}
	return 0;
}

static int tcp_bench_setup(struct bench_thread *t)
{
	struct bconn *conns = calloc(t->n, sizeof *conns);
	t->socks = conns;
	if (t->base == NULL || conns == NULL || t->rbuf == NULL)
		return cli_error("tcp", CLI_FAIL, "out of memory");
	for (unsigned k = 0; k < t->n; k++)
		conns[k].fd = -1;
	return 0;
}

static int tcp_bench_finish(struct bench *b, struct bench_result *r, int last_errno)
{
	if (r->connect_errors == b->conns)
		return cli_error("tcp", CLI_FAIL, "cannot connect to %s: %s", b->ep.text,
				 last_errno == ECONNREFUSED ? "connection refused"
				 : last_errno == ETIMEDOUT ? "timed out" : strerror(last_errno));
	if (b->stream)
		r->lat = NULL;
	bench_print(r, b->json);
	if (r->connect_errors > 0)
		fprintf(stderr, "inetkit tcp: %llu of %u connections failed: %s\n",
			(unsigned long long)r->connect_errors, b->conns, strerror(last_errno));
	return r->errors > 0 || r->connect_errors > 0 ? CLI_FAIL : CLI_OK;
}

static void tcp_bench_free_thread(struct bench_thread *t)
{
	struct bconn *conns = t->socks;
	for (unsigned k = 0; conns != NULL && k < t->n; k++) {
		if (conns[k].rev != NULL)
			event_free(conns[k].rev);
		if (conns[k].wev != NULL)
			event_free(conns[k].wev);
		if (conns[k].fd >= 0)
			close(conns[k].fd);
	}
}

static const struct bench_ops tcp_bench_ops = {
	.proto = "tcp",
	.help = bench_help,
	.socktype = SOCK_STREAM,
	.size_max = 16 << 20,
	.extra = tcp_bench_opts,
	.option = tcp_bench_option,
	.check = tcp_bench_check,
	.prepare = tcp_bench_prepare,
	.setup = tcp_bench_setup,
	.connect = tcp_bench_connect,
	.start = tcp_bench_start,
	.finish = tcp_bench_finish,
	.free_thread = tcp_bench_free_thread,
};

int tcp_bench_main(int argc, char **argv)
{
	struct bench b = {.rbuf_size = READ_BUF, .payload_fd = -1};
	return bench_main(&tcp_bench_ops, &b, argc, argv);
}
