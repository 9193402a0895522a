/* `inetkit tcp bench`: a load generator in the spirit of redis-benchmark,
 * for RFC 862 echo servers over TCP (RFC 9293).
 * Request/response: every connection sends SIZE bytes, waits until SIZE
 * bytes come back (an echo server), records the round trip in a
 * histogram, and sends again. --stream: every connection writes as fast
 * as the server takes it and counts what comes back (one-way bulk).
 * Event-driven, one event loop per thread, no locks on the hot path. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/cli.h"
#include "core/str.h"
#include "net/endpoint.h"
#include "tools/tcp_hist.h"
#include "tools/tcp_int.h"

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
	"  --json          the result as JSON\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -h, --help      this help\n"
	"\n"
	"Example: inetkit tcp bench --conns 100 --duration 3 127.0.0.1 2007\n";

enum { OPT_CONNS = 256, OPT_SIZE, OPT_DURATION, OPT_REQUESTS, OPT_THREADS, OPT_STREAM, OPT_JSON };

static const struct option bench_opts[] = {
	{"conns", required_argument, NULL, OPT_CONNS},
	{"size", required_argument, NULL, OPT_SIZE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"requests", required_argument, NULL, OPT_REQUESTS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"stream", no_argument, NULL, OPT_STREAM},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct bench;
struct bthread;

struct bconn {
	struct bthread *t;
	int fd;
	struct event *rev, *wev;
	uint64_t sent, recvd;	/* of the current request */
	uint64_t t0;
	bool connected, dead;
};

struct bthread {
	struct bench *b;
	pthread_t tid;
	struct event_base *base;
	struct event *stop;
	struct bconn *c;
	unsigned n, pending_connects;
	uint64_t quota;		/* --requests: this thread's share */
	uint64_t started;	/* requests started */
	uint64_t requests, bytes_out, bytes_in, errors, connect_errors;
	int last_errno;
	struct hist lat;
	unsigned char *rbuf;
	bool stopping;
};

struct bench {
	struct endpoint ep;
	unsigned conns, nthreads;
	uint64_t size, duration_ms, requests;
	bool stream;
	unsigned char *payload;
	pthread_barrier_t ready;
	struct timespec start, end;
	struct bthread *t;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

static bool may_start(struct bthread *t)
{
	if (t->stopping)
		return false;
	return t->b->requests == 0 || t->started < t->quota;
}

/* Write what is left of the current request (or, streaming, a chunk). */
static void conn_write(struct bconn *c)
{
	struct bthread *t = c->t;
	uint64_t size = t->b->size;
	while (c->sent < size) {
		ssize_t k = send(c->fd, t->b->payload + c->sent, size - c->sent, MSG_NOSIGNAL);
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
		if (t->b->stream && c->sent == size)
			c->sent = 0;	/* the next chunk, until told to stop */
		if (t->b->stream && t->stopping)
			return;
	}
}

static void request_start(struct bconn *c)
{
	struct bthread *t = c->t;
	t->started++;
	c->sent = c->recvd = 0;
	c->t0 = now_ns();
	conn_write(c);
}

static void thread_check_done(struct bthread *t)
{
	if (t->b->requests > 0 && t->requests + t->errors >= t->quota)
		event_base_loopbreak(t->base);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct bconn *c = arg;
	struct bthread *t = c->t;
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
			thread_check_done(t);
			return;
		}
		t->bytes_in += (uint64_t)k;
		if (t->b->stream)
			continue;
		uint64_t left = t->b->size - c->recvd;
		uint64_t got = (uint64_t)k < left ? (uint64_t)k : left;
		if (memcmp(t->rbuf, t->b->payload + c->recvd, got) != 0)
			t->errors++;	/* not an echo of what we sent */
		c->recvd += got;
		if (c->recvd < t->b->size)
			continue;
		hist_add(&t->lat, now_ns() - c->t0);
		t->requests++;
		if (may_start(t))
			request_start(c);
		else
			thread_check_done(t);
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
	struct bthread *t = c->t;
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

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bthread *t = arg;
	t->stopping = true;
	event_base_loopbreak(t->base);
}

static int thread_connect(struct bthread *t)
{
	struct bench *b = t->b;
	for (unsigned i = 0; i < t->n; i++) {
		struct bconn *c = &t->c[i];
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
	return 0;
}

static void *thread_run(void *arg)
{
	struct bthread *t = arg;
	struct bench *b = t->b;
	thread_connect(t);
	pthread_barrier_wait(&b->ready);	/* everyone connected: go */
	if (t == &b->t[0])
		clock_gettime(CLOCK_MONOTONIC, &b->start);
	pthread_barrier_wait(&b->ready);
	if (b->duration_ms > 0) {
		struct timeval tv = loop_tv(b->duration_ms);
		t->stop = evtimer_new(t->base, on_stop, t);
		event_add(t->stop, &tv);
	}
	unsigned live = 0;
	for (unsigned i = 0; i < t->n; i++) {
		struct bconn *c = &t->c[i];
		if (c->dead)
			continue;
		live++;
		event_add(c->rev, NULL);
		if (b->stream)
			conn_write(c);
		else if (may_start(t))
			request_start(c);
	}
	if (live > 0 && t->started + (b->stream ? 1 : 0) + (b->duration_ms > 0 ? 1 : 0) > 0)
		event_base_dispatch(t->base);
	return NULL;
}

static int parse_u64(const char *opt, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (str_to_u64(v, max, out) < 0 || *out < min)
		return cli_usage_error("tcp", "%s '%s' must be a number from %llu to %llu", opt, v,
				       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static void bench_free(struct bench *b)
{
	for (unsigned i = 0; b->t != NULL && i < b->nthreads; i++) {
		struct bthread *t = &b->t[i];
		for (unsigned k = 0; t->c != NULL && k < t->n; k++) {
			if (t->c[k].rev != NULL)
				event_free(t->c[k].rev);
			if (t->c[k].wev != NULL)
				event_free(t->c[k].wev);
			if (t->c[k].fd >= 0)
				close(t->c[k].fd);
		}
		if (t->stop != NULL)
			event_free(t->stop);
		if (t->base != NULL)
			event_base_free(t->base);
		free(t->c);
		free(t->rbuf);
	}
	free(b->t);
	free(b->payload);
}

static int bench_run(struct bench *b, bool json)
{
	uint64_t fds = tcp_raise_nofile((uint64_t)b->conns + 64);
	if (fds < (uint64_t)b->conns + 16)
		return cli_error("tcp", CLI_USAGE, "--conns %u needs more open files than the limit "
				 "(%llu); raise it with ulimit -n", b->conns, (unsigned long long)fds);
	b->payload = malloc(b->size);
	b->t = calloc(b->nthreads, sizeof *b->t);
	if (b->payload == NULL || b->t == NULL)
		return cli_error("tcp", CLI_FAIL, "out of memory");
	for (uint64_t i = 0; i < b->size; i++)
		b->payload[i] = (unsigned char)('a' + i % 26);
	pthread_barrier_init(&b->ready, NULL, b->nthreads);
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct bthread *t = &b->t[i];
		t->b = b;
		t->n = b->conns / b->nthreads + (i < b->conns % b->nthreads ? 1 : 0);
		if (b->requests > 0)
			t->quota = b->requests / b->nthreads + (i < b->requests % b->nthreads ? 1 : 0);
		hist_init(&t->lat);
		t->base = event_base_new();
		t->c = calloc(t->n, sizeof *t->c);
		t->rbuf = malloc(READ_BUF);
		if (t->base == NULL || t->c == NULL || t->rbuf == NULL)
			return cli_error("tcp", CLI_FAIL, "out of memory");
		for (unsigned k = 0; k < t->n; k++)
			t->c[k].fd = -1;
	}
	for (unsigned i = 1; i < b->nthreads; i++)
		pthread_create(&b->t[i].tid, NULL, thread_run, &b->t[i]);
	thread_run(&b->t[0]);
	for (unsigned i = 1; i < b->nthreads; i++)
		pthread_join(b->t[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b->end);
	pthread_barrier_destroy(&b->ready);

	struct hist lat;
	hist_init(&lat);
	struct bench_result r = {.proto = "tcp", .target = b->ep.text, .stream = b->stream,
				 .conns = b->conns, .threads = b->nthreads, .size = b->size};
	int last_errno = 0;
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct bthread *t = &b->t[i];
		r.requests += t->requests;
		r.bytes_out += t->bytes_out;
		r.bytes_in += t->bytes_in;
		r.errors += t->errors;
		r.connect_errors += t->connect_errors;
		if (t->last_errno != 0)
			last_errno = t->last_errno;
		hist_merge(&lat, &t->lat);
	}
	if (r.connect_errors == b->conns)
		return cli_error("tcp", CLI_FAIL, "cannot connect to %s: %s", b->ep.text,
				 last_errno == ECONNREFUSED ? "connection refused"
				 : last_errno == ETIMEDOUT ? "timed out" : strerror(last_errno));
	r.seconds = (double)(b->end.tv_sec - b->start.tv_sec) +
		    (double)(b->end.tv_nsec - b->start.tv_nsec) / 1e9;
	r.lat = b->stream ? NULL : &lat;
	bench_print(&r, json);
	if (r.connect_errors > 0)
		fprintf(stderr, "inetkit tcp: %llu of %u connections failed: %s\n",
			(unsigned long long)r.connect_errors, b->conns, strerror(last_errno));
	return r.errors > 0 || r.connect_errors > 0 ? CLI_FAIL : CLI_OK;
}

int tcp_bench_main(int argc, char **argv)
{
	struct bench b = {0};
	uint64_t conns = 50, threads = 1, secs_ms = 0;
	bool size_set = false, json = false;
	int family = AF_UNSPEC, o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h46", bench_opts, NULL)) != -1) {
		int rc = 0;
		switch (o) {
		case OPT_CONNS: rc = parse_u64("--conns", optarg, 1, 100000, &conns); break;
		case OPT_SIZE: rc = parse_u64("--size", optarg, 1, 16 << 20, &b.size); size_set = true; break;
		case OPT_DURATION:
			if (tcp_parse_seconds(optarg, &secs_ms) < 0 || secs_ms == 0)
				rc = cli_usage_error("tcp", "--duration '%s' is not a duration above 0", optarg);
			break;
		case OPT_REQUESTS: rc = parse_u64("--requests", optarg, 1, UINT64_MAX / 2, &b.requests); break;
		case OPT_THREADS: rc = parse_u64("--threads", optarg, 1, 64, &threads); break;
		case OPT_STREAM: b.stream = true; break;
		case OPT_JSON: json = true; break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 'h': return cli_help(bench_help);
		case ':': return cli_usage_error("tcp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("tcp", "unknown option '%s'", argv[optind - 1]);
		}
		if (rc != 0)
			return rc;
	}
	if (argc - optind != 2)
		return cli_usage_error("tcp", argc - optind < 2 ? "missing HOST and PORT" : "too many arguments");
	if (b.stream && b.requests > 0)
		return cli_usage_error("tcp", "--stream runs for --duration, not --requests");
	if (secs_ms > 0 && b.requests > 0)
		return cli_usage_error("tcp", "give --duration or --requests, not both");
	uint16_t port;
	ik_err e;
	if (endpoint_parse_port(argv[optind + 1], &port, &e) < 0 || port == 0)
		return cli_usage_error("tcp", "port '%s' is not a number from 1 to 65535", argv[optind + 1]);
	size_t n = 0;
	if (endpoint_resolve_connect(argv[optind], port, family, SOCK_STREAM, &b.ep, 1, &n, &e) < 0 ||
	    n == 0)
		return cli_error("tcp", CLI_FAIL, "%s", n == 0 && e.msg[0] == '\0' ? "no address" : e.msg);
	if (!size_set)
		b.size = b.stream ? 65536 : 64;
	if (threads > conns)
		threads = conns;
	b.conns = (unsigned)conns;
	b.nthreads = (unsigned)threads;
	b.duration_ms = b.requests > 0 ? 0 : secs_ms > 0 ? secs_ms : 5000;
	int rc = bench_run(&b, json);
	bench_free(&b);
	return rc;
}
