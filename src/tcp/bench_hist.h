/* A latency histogram for the load generators (tcp bench, udp bench):
 * log-linear buckets, 64 per power of two, so any value is kept within
 * 1.6% and percentiles need no stored samples. Values in nanoseconds. */
#ifndef INETKIT_TCP_BENCH_HIST_H
#define INETKIT_TCP_BENCH_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/json.h"

#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 2 + HIST_SUB * 58)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at percentile p (0 < p <= 100), in ns; 0 if empty. */
uint64_t hist_percentile(const struct hist *h, double p);

/* What both load generators print. */
struct bench_result {
	const char *proto;		/* "tcp" or "udp" */
	const char *target;		/* "127.0.0.1:2007" */
	bool stream;
	unsigned conns, threads;
	uint64_t size;
	double seconds;
	uint64_t requests, bytes_out, bytes_in;
	uint64_t errors, connect_errors, lost;
	struct hist *lat;		/* NULL in stream mode */
};

void bench_print(const struct bench_result *r, bool json);

#endif
