/* What `tcp bench` and `udp bench` share: the options, the threads with
 * one event loop each, the clock and the report. A protocol says only how
 * its sockets are set up, how a request goes out and how its reply is
 * recognised (the ops below). Echo servers per RFC 862. */
#ifndef INETKIT_TCP_BENCH_COMMON_H
#define INETKIT_TCP_BENCH_COMMON_H

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "net/endpoint.h"
#include "tcp/bench_hist.h"

/* Option values a protocol may add to the common ones. */
enum { BENCH_OPT_EXTRA = 512 };

struct bench;

/* One event loop; a protocol keeps its sockets in `socks`. */
struct bench_thread {
	struct bench *b;
	pthread_t tid;
	struct event_base *base;
	struct event *stop;
	void *socks;
	unsigned n;			/* sockets of this thread */
	unsigned pending_connects;	/* tcp: connects still in flight */
	uint64_t quota;			/* --requests: this thread's share */
	uint64_t started;		/* requests started */
	uint64_t requests, bytes_out, bytes_in, errors, connect_errors, lost;
	int last_errno;
	struct hist lat;
	unsigned char *rbuf;
	bool stopping;
};

struct bench_ops {
	const char *proto;		/* "tcp": messages and the report */
	const char *help;
	int socktype;			/* for resolving HOST */
	uint64_t size_max;
	const struct option *extra;	/* more long options, {NULL} ended */
	/* An extra option (val >= BENCH_OPT_EXTRA): 0, or an exit code. */
	int (*option)(struct bench *b, int opt, const char *arg);
	/* After the operands are counted, before the common checks. */
	int (*check)(const struct bench *b);
	/* Before any thread exists: limits, shared buffers; 0 or an exit code. */
	int (*prepare)(struct bench *b);
	/* Sockets of one thread (t->n, t->base are set); 0 or an exit code. */
	int (*setup)(struct bench_thread *t);
	/* In the thread, before the start line (connecting). May be NULL. */
	void (*connect)(struct bench_thread *t);
	/* First requests; true if the loop has anything to wait for. */
	bool (*start)(struct bench_thread *t);
	/* The totals are in r; report them and give the exit code. */
	int (*finish)(struct bench *b, struct bench_result *r, int last_errno);
	void (*free_thread)(struct bench_thread *t);
};

struct bench {
	const struct bench_ops *ops;
	struct endpoint ep;
	unsigned conns, nthreads;
	uint64_t size;			/* 0 until given: each protocol has a default */
	uint64_t duration_ms, requests;
	bool json;
	bool stream;			/* tcp: --stream */
	uint64_t timeout_ms;		/* udp: --timeout */
	unsigned char *payload;		/* tcp: what every connection sends */
	bool zerocopy;			/* tcp --zerocopy: sendfile from payload_fd */
	int payload_fd;			/* a memfd holding payload, or -1 */
	size_t rbuf_size;
	pthread_barrier_t ready;
	struct timespec start, end;
	struct bench_thread *t;
};

uint64_t bench_now_ns(void);
/* May this thread start another request? */
bool bench_may_start(const struct bench_thread *t);
/* --requests: ends the loop once this thread's share is answered or failed. */
void bench_check_done(struct bench_thread *t);
/* `inetkit PROTO bench`: parse, run, report; the exit code. */
int bench_main(const struct bench_ops *ops, struct bench *b, int argc, char **argv);

#endif
