/* The shared half of the load generators for RFC 862 echo servers
 * (`tcp bench` over RFC 9293, `udp bench` over RFC 768): options, one
 * event loop per thread started together behind a barrier, --duration and
 * --requests accounting, and the totals handed to bench_print. No locks on
 * the hot path: each thread counts on its own and the totals are summed
 * after the join. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/loop.h"
#include "lib/str.h"
#include "tcp/bench_common.h"
#include "tcp/tcp_int.h"

enum { OPT_CONNS = 256, OPT_SIZE, OPT_DURATION, OPT_REQUESTS, OPT_THREADS, OPT_JSON };

static const struct option common_opts[] = {
	{"conns", required_argument, NULL, OPT_CONNS},
	{"size", required_argument, NULL, OPT_SIZE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"requests", required_argument, NULL, OPT_REQUESTS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
};

#define COMMON_OPTS (sizeof common_opts / sizeof common_opts[0])
#define EXTRA_MAX 8

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool bench_may_start(const struct bench_thread *t)
{
	return !t->stopping && (t->b->requests == 0 || t->started < t->quota);
}

void bench_check_done(struct bench_thread *t)
{
	if (t->b->requests > 0 && t->requests + t->lost + t->errors >= t->quota)
		event_base_loopbreak(t->base);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bench_thread *t = arg;
	t->stopping = true;
	event_base_loopbreak(t->base);
}

static void *thread_run(void *arg)
{
	struct bench_thread *t = arg;
	struct bench *b = t->b;
	if (b->ops->connect != NULL)
		b->ops->connect(t);
	pthread_barrier_wait(&b->ready);	/* everyone set up: go */
	if (t == &b->t[0])
		clock_gettime(CLOCK_MONOTONIC, &b->start);
	pthread_barrier_wait(&b->ready);
	if (b->duration_ms > 0) {
		struct timeval tv = loop_tv(b->duration_ms);
		t->stop = evtimer_new(t->base, on_stop, t);
		event_add(t->stop, &tv);
	}
	if (b->ops->start(t))
		event_base_dispatch(t->base);
	return NULL;
}

/* n split over k as evenly as it goes; the first n % k get one more. */
static uint64_t share(uint64_t n, unsigned k, unsigned i)
{
	return n / k + (i < n % k ? 1 : 0);
}

static int bench_run(struct bench *b)
{
	const struct bench_ops *ops = b->ops;
	int rc = ops->prepare(b);
	if (rc != 0)
		return rc;
	b->t = calloc(b->nthreads, sizeof *b->t);
	if (b->t == NULL)
		return cli_error(ops->proto, CLI_FAIL, "out of memory");
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct bench_thread *t = &b->t[i];
		t->b = b;
		t->n = (unsigned)share(b->conns, b->nthreads, i);
		if (b->requests > 0)
			t->quota = share(b->requests, b->nthreads, i);
		hist_init(&t->lat);
		t->base = event_base_new();
		t->rbuf = malloc(b->rbuf_size);
		rc = ops->setup(t);	/* also reports a failed base or rbuf */
		if (rc != 0)
			return rc;
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
	struct bench_result r = {.proto = ops->proto, .target = b->ep.text, .stream = b->stream,
				 .conns = b->conns, .threads = b->nthreads, .size = b->size,
				 .lat = &lat};
	int last_errno = 0;
	for (unsigned i = 0; i < b->nthreads; i++) {
		struct bench_thread *t = &b->t[i];
		r.requests += t->requests;
		r.bytes_out += t->bytes_out;
		r.bytes_in += t->bytes_in;
		r.errors += t->errors;
		r.connect_errors += t->connect_errors;
		r.lost += t->lost;
		if (t->last_errno != 0)
			last_errno = t->last_errno;
		hist_merge(&lat, &t->lat);
	}
	r.seconds = (double)(b->end.tv_sec - b->start.tv_sec) +
		    (double)(b->end.tv_nsec - b->start.tv_nsec) / 1e9;
	return ops->finish(b, &r, last_errno);
}

static void bench_free(struct bench *b)
{
	for (unsigned i = 0; b->t != NULL && i < b->nthreads; i++) {
		struct bench_thread *t = &b->t[i];
		b->ops->free_thread(t);	/* its events first, then the base */
		if (t->stop != NULL)
			event_free(t->stop);
		if (t->base != NULL)
			event_base_free(t->base);
		free(t->socks);
		free(t->rbuf);
	}
	free(b->t);
	free(b->payload);
	if (b->payload_fd >= 0)
		close(b->payload_fd);
}

static int parse_u64(const char *proto, const char *opt, const char *v, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	if (str_to_u64(v, max, out) < 0 || *out < min)
		return cli_usage_error(proto, "%s '%s' must be a number from %llu to %llu", opt, v,
				       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int bench_main(const struct bench_ops *ops, struct bench *b, int argc, char **argv)
{
	const char *p = ops->proto;
	struct option opts[COMMON_OPTS + EXTRA_MAX + 1] = {{0}};
	size_t nopts = 0;
	for (size_t i = 0; i < COMMON_OPTS; i++)
		opts[nopts++] = common_opts[i];
	for (size_t i = 0; ops->extra != NULL && ops->extra[i].name != NULL && i < EXTRA_MAX; i++)
		opts[nopts++] = ops->extra[i];

	b->ops = ops;
	uint64_t conns = 50, threads = 1, secs_ms = 0;
	int family = AF_UNSPEC, o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h46", opts, NULL)) != -1) {
		int rc = 0;
		switch (o) {
		case OPT_CONNS: rc = parse_u64(p, "--conns", optarg, 1, 100000, &conns); break;
		case OPT_SIZE: rc = parse_u64(p, "--size", optarg, 1, ops->size_max, &b->size); break;
		case OPT_DURATION:
			if (tcp_parse_seconds(optarg, &secs_ms) < 0 || secs_ms == 0)
				rc = cli_usage_error(p, "--duration '%s' is not a duration above 0", optarg);
			break;
		case OPT_REQUESTS:
			rc = parse_u64(p, "--requests", optarg, 1, UINT64_MAX / 2, &b->requests);
			break;
		case OPT_THREADS: rc = parse_u64(p, "--threads", optarg, 1, 64, &threads); break;
		case OPT_JSON: b->json = true; break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 'h': return cli_help(ops->help);
		case ':': return cli_usage_error(p, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (o >= BENCH_OPT_EXTRA) {
				rc = ops->option(b, o, optarg);
				break;
			}
			return cli_unknown_option(p, argv[optind - 1], CLI_NAMES(opts));
		}
		if (rc != 0)
			return rc;
	}
	if (argc - optind != 2)
		return cli_usage_error(p, argc - optind < 2 ? "missing HOST and PORT" : "too many arguments");
	int rc = ops->check != NULL ? ops->check(b) : 0;
	if (rc != 0)
		return rc;
	if (secs_ms > 0 && b->requests > 0)
		return cli_usage_error(p, "give --duration or --requests, not both");
	uint16_t port;
	ik_err e;
	if (endpoint_parse_port(argv[optind + 1], &port, &e) < 0 || port == 0)
		return cli_usage_error(p, "port '%s' is not a number from 1 to 65535", argv[optind + 1]);
	size_t n = 0;
	if (endpoint_resolve_connect(argv[optind], port, family, ops->socktype, &b->ep, 1, &n, &e) < 0 ||
	    n == 0)
		return cli_error(p, CLI_FAIL, "%s", n == 0 && e.msg[0] == '\0' ? "no address" : e.msg);
	if (b->size == 0)
		b->size = b->stream ? 65536 : 64;
	if (threads > conns)
		threads = conns;
	b->conns = (unsigned)conns;
	b->nthreads = (unsigned)threads;
	b->duration_ms = b->requests > 0 ? 0 : secs_ms > 0 ? secs_ms : 5000;
	rc = bench_run(b);
	bench_free(b);
	return rc;
}
