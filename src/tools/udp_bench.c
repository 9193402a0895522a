/* `inetkit udp bench`: request/response load on a UDP (RFC 768) echo
 * server (RFC 862). Each
 * "connection" is a connected UDP socket with one datagram in flight; a
 * reply that does not come within --timeout counts as lost and the next
 * request goes out. Requests carry a sequence number in their first 8
 * bytes (when the size allows) so that a late reply is not taken for the
 * current one. Same report as tcp bench. */
#include <errno.h>
#include <getopt.h>
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
#include "tools/udp_int.h"

static const char bench_help[] =
	"Usage: inetkit udp bench [OPTIONS] HOST PORT\n"
	"\n"
	"Load a UDP echo server: each socket sends a datagram and waits for it\n"
	"to come back; prints requests/s, bytes/s, latency percentiles and lost\n"
	"datagrams.\n"
	"  --conns N       sockets at once (default 50)\n"
	"  --size BYTES    datagram size (default 64)\n"
	"  --duration S    run S seconds (default 5)\n"
	"  --requests N    stop after N replies in all instead\n"
	"  --threads N     event loops in threads (default 1)\n"
	"  --timeout T     a reply later than T is lost (default 1s)\n"
	"  --json          the result as JSON\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -h, --help      this help\n";

enum { OPT_CONNS = 256, OPT_SIZE, OPT_DURATION, OPT_REQUESTS, OPT_THREADS, OPT_TIMEOUT, OPT_JSON };

static const struct option bench_opts[] = {
	{"conns", required_argument, NULL, OPT_CONNS},
	{"size", required_argument, NULL, OPT_SIZE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"requests", required_argument, NULL, OPT_REQUESTS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct ubench;

struct usock {
	struct uthread *t;
	int fd;
	struct event *ev;
	uint64_t seq, t0;
	unsigned char *req;
};

struct uthread {
	struct ubench *b;
	pthread_t tid;
	struct event_base *base;
	struct event *stop;
	struct usock *s;
	unsigned n;
	uint64_t quota, started, requests, lost, errors, bytes_out, bytes_in;
	int last_errno;
	struct hist lat;
	unsigned char *rbuf;
	bool stopping;
};

struct ubench {
	struct endpoint ep;
	unsigned conns, nthreads;
	uint64_t size, duration_ms, requests, timeout_ms;
	pthread_barrier_t ready;
	struct timespec start, end;
	struct uthread *t;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool may_start(struct uthread *t)
{
	return !t->stopping && (t->b->requests == 0 || t->started < t->quota);
}

static void send_request(struct usock *s)
{
	struct uthread *t = s->t;
	if (!may_start(t)) {
		event_del(s->ev);
		if (t->b->requests > 0 && t->requests + t->lost + t->errors >= t->quota)
			event_base_loopbreak(t->base);
		return;
	}
	t->started++;
	s->seq++;
	if (t->b->size >= 8)
		memcpy(s->req, &s->seq, 8);
	s->t0 = now_ns();
	struct timeval tv = loop_tv(t->b->timeout_ms);
	event_add(s->ev, &tv);	/* re-arms the reply timeout */
	if (send(s->fd, s->req, t->b->size, 0) < 0) {
		t->errors++;
		t->last_errno = errno;
		return;		/* the timeout sends the next one */
	}
	t->bytes_out += t->b->size;
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct usock *s = arg;
	struct uthread *t = s->t;
	if (what & EV_TIMEOUT) {
		t->lost++;
		send_request(s);
		return;
	}
	for (;;) {
		ssize_t n = recv((int)fd, t->rbuf, UDP_DEFAULT_BUFFER, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				t->errors++;
				t->last_errno = errno;
			}
			return;
		}
		t->bytes_in += (uint64_t)n;
		if ((uint64_t)n != t->b->size || memcmp(t->rbuf, s->req, t->b->size) != 0) {
			if (t->b->size >= 8 && (uint64_t)n == t->b->size)
				continue;	/* a late reply to an earlier request */
			t->errors++;
			continue;
		}
		hist_add(&t->lat, now_ns() - s->t0);
		t->requests++;
		send_request(s);
		return;
	}
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct uthread *t = arg;
	t->stopping = true;
	event_base_loopbreak(t->base);
}

static void *thread_run(void *arg)
{
	struct uthread *t = arg;
	struct ubench *b = t->b;
	pthread_barrier_wait(&b->ready);
	if (t == &b->t[0])
		clock_gettime(CLOCK_MONOTONIC, &b->start);
	pthread_barrier_wait(&b->ready);
	if (b->duration_ms > 0) {
		struct timeval tv = loop_tv(b->duration_ms);
		t->stop = evtimer_new(t->base, on_stop, t);
		event_add(t->stop, &tv);
	}
	bool any = false;
	for (unsigned i = 0; i < t->n; i++)
		if (t->s[i].fd >= 0 && may_start(t)) {
			send_request(&t->s[i]);
			any = true;
		}
	if (any)
		event_base_dispatch(t->base);
	return NULL;
}

static int setup_thread(struct ubench *b, struct uthread *t)
{
	t->b = b;
	hist_init(&t->lat);
	t->base = event_base_new();
	t->s = calloc(t->n, sizeof *t->s);
	t->rbuf = malloc(UDP_DEFAULT_BUFFER);
	if (t->base == NULL || t->s == NULL || t->rbuf == NULL)
		return -1;
	for (unsigned i = 0; i < t->n; i++) {
		struct usock *s = &t->s[i];
		s->t = t;
		s->fd = socket(b->ep.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s->req = malloc(b->size);
		if (s->fd < 0 || s->req == NULL)
			return -1;
		for (uint64_t k = 0; k < b->size; k++)
			s->req[k] = (unsigned char)('a' + (k + i) % 26);
		if (connect(s->fd, (struct sockaddr *)&b->ep.ss, b->ep.len) < 0)
			return -1;
		s->ev = event_new(t->base, s->fd, EV_READ | EV_PERSIST, on_sock, s);
		if (s->ev == NULL)
			return -1;
	}
	return 0;
}

static void bench_free(struct ubench *b)
{
	for (unsigned i = 0; b->t != NULL && i < b->nthreads; i++) {
		struct uthread *t = &b->t[i];
		for (unsigned k = 0; t->s != NULL && k < t->n; k++) {
			if (t->s[k].ev != NULL)
				event_free(t->s[k].ev);
			if (t->s[k].fd >= 0)
				close(t->s[k].fd);
			free(t->s[k].req);
		}
		if (t->stop != NULL)
			event_free(t->stop);
		if (t->base != NULL)
			event_base_free(t->base);
		free(t->s);
		free(t->rbuf);
	}
	free(b->t);
}

static int bench_run(struct ubench *b, bool json)
{
	if (tcp_raise_nofile((uint64_t)b->conns + 64) < (uint64_t)b->conns + 16)
		return cli_error("udp", CLI_USAGE, "--conns %u needs more open files than the limit; "
				 "raise it with ulimit -n", b->conns);
	b->t = calloc(b->nthreads, sizeof *b->t);
	if (b->t == NULL)
		return cli_error("udp", CLI_FAIL, "out of memory");
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct uthread *t = &b->t[i];
		t->n = b->conns / b->nthreads + (i < b->conns % b->nthreads ? 1 : 0);
		if (b->requests > 0)
			t->quota = b->requests / b->nthreads + (i < b->requests % b->nthreads ? 1 : 0);
		if (setup_thread(b, t) < 0)
			return cli_error("udp", CLI_FAIL, "cannot set up the sockets: %s", strerror(errno));
	}
	pthread_barrier_init(&b->ready, NULL, b->nthreads);
	for (unsigned i = 1; i < b->nthreads; i++)
		pthread_create(&b->t[i].tid, NULL, thread_run, &b->t[i]);
	thread_run(&b->t[0]);
	for (unsigned i = 1; i < b->nthreads; i++)
		pthread_join(b->t[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b->end);
	pthread_barrier_destroy(&b->ready);
	struct hist lat;
	hist_init(&lat);
	struct bench_result r = {.proto = "udp", .target = b->ep.text, .conns = b->conns,
				 .threads = b->nthreads, .size = b->size, .lat = &lat};
	int last_errno = 0;
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct uthread *t = &b->t[i];
		r.requests += t->requests;
		r.bytes_out += t->bytes_out;
		r.bytes_in += t->bytes_in;
		r.errors += t->errors;
		r.lost += t->lost;
		if (t->last_errno != 0)
			last_errno = t->last_errno;
		hist_merge(&lat, &t->lat);
	}
	if (r.requests == 0 && last_errno == ECONNREFUSED)
		return cli_error("udp", CLI_FAIL, "nothing listens on %s (port unreachable: connection "
				 "refused)", b->ep.text);
	r.seconds = (double)(b->end.tv_sec - b->start.tv_sec) +
		    (double)(b->end.tv_nsec - b->start.tv_nsec) / 1e9;
	bench_print(&r, json);
	if (r.requests == 0)
		return cli_error("udp", CLI_FAIL, "no reply from %s", b->ep.text);
	return CLI_OK;
}

static int parse_u64(const char *opt, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (str_to_u64(v, max, out) < 0 || *out < min)
		return cli_usage_error("udp", "%s '%s' must be a number from %llu to %llu", opt, v,
				       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int udp_bench_main(int argc, char **argv)
{
	struct ubench b = {.size = 64, .timeout_ms = 1000};
	uint64_t conns = 50, threads = 1, secs_ms = 0;
	bool json = false;
	int family = AF_UNSPEC, o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h46", bench_opts, NULL)) != -1) {
		int rc = 0;
		switch (o) {
		case OPT_CONNS: rc = parse_u64("--conns", optarg, 1, 100000, &conns); break;
		case OPT_SIZE: rc = parse_u64("--size", optarg, 1, UDP_MAX_V4, &b.size); break;
		case OPT_DURATION:
			if (tcp_parse_seconds(optarg, &secs_ms) < 0 || secs_ms == 0)
				rc = cli_usage_error("udp", "--duration '%s' is not a duration above 0", optarg);
			break;
		case OPT_REQUESTS: rc = parse_u64("--requests", optarg, 1, UINT64_MAX / 2, &b.requests); break;
		case OPT_THREADS: rc = parse_u64("--threads", optarg, 1, 64, &threads); break;
		case OPT_TIMEOUT:
			if (tcp_parse_seconds(optarg, &b.timeout_ms) < 0 || b.timeout_ms == 0)
				rc = cli_usage_error("udp", "--timeout '%s' is not a duration above 0", optarg);
			break;
		case OPT_JSON: json = true; break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 'h': return cli_help(bench_help);
		case ':': return cli_usage_error("udp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("udp", "unknown option '%s'", argv[optind - 1]);
		}
		if (rc != 0)
			return rc;
	}
	if (argc - optind != 2)
		return cli_usage_error("udp", argc - optind < 2 ? "missing HOST and PORT" : "too many arguments");
	if (secs_ms > 0 && b.requests > 0)
		return cli_usage_error("udp", "give --duration or --requests, not both");
	uint16_t port;
	ik_err e;
	if (endpoint_parse_port(argv[optind + 1], &port, &e) < 0 || port == 0)
		return cli_usage_error("udp", "port '%s' is not a number from 1 to 65535", argv[optind + 1]);
	size_t n = 0;
	if (endpoint_resolve_connect(argv[optind], port, family, SOCK_DGRAM, &b.ep, 1, &n, &e) < 0 ||
	    n == 0)
		return cli_error("udp", CLI_FAIL, "%s", n == 0 && e.msg[0] == '\0' ? "no address" : e.msg);
	if (threads > conns)
		threads = conns;
	b.conns = (unsigned)conns;
	b.nthreads = (unsigned)threads;
	b.duration_ms = b.requests > 0 ? 0 : secs_ms > 0 ? secs_ms : 5000;
	int rc = bench_run(&b, json);
	bench_free(&b);
	return rc;
}
