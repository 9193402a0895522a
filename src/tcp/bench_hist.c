/* Log-linear latency histogram and the load generators' report. No wire
 * protocol here; the JSON report follows RFC 8259 (core/json). */
#include "tcp/bench_hist.h"

#include <stdio.h>
#include <string.h>

#include "lib/sbuf.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

/* Values below 2*HIST_SUB have a bucket each; above, a power of two is
 * split into HIST_SUB buckets. */
static unsigned bucket_of(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	unsigned log2 = 63u - (unsigned)__builtin_clzll(v);
	unsigned e = log2 - 6;	/* v >> e lands in [HIST_SUB, 2 * HIST_SUB) */
	unsigned idx = e * HIST_SUB + (unsigned)(v >> e);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of a bucket's range. */
static uint64_t value_of(unsigned idx)
{
	if (idx < 2 * HIST_SUB)
		return idx;
	unsigned e = idx / HIST_SUB - 1;
	uint64_t m = idx - (uint64_t)e * HIST_SUB;
	return (m << e) + ((1ull << e) >> 1);
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->count == 0)
		return 0;
	uint64_t want = (uint64_t)((double)h->count * p / 100.0 + 0.999999);
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = value_of(i);
			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static void human_bytes(char *buf, size_t n, double bytes)
{
	if (bytes >= 1e9)
		snprintf(buf, n, "%.2f GB", bytes / 1e9);
	else if (bytes >= 1e6)
		snprintf(buf, n, "%.2f MB", bytes / 1e6);
	else if (bytes >= 1e3)
		snprintf(buf, n, "%.1f kB", bytes / 1e3);
	else
		snprintf(buf, n, "%.0f B", bytes);
}

static void print_json(const struct bench_result *r)
{
	struct sbuf out = SBUF_INIT(1 << 16);
	struct json j;
	json_init(&j, &out);
	char num[64];
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	json_obj_begin(&j);
	json_kv_str(&j, "proto", r->proto);
	json_kv_str(&j, "target", r->target);
	json_kv_str(&j, "mode", r->stream ? "stream" : "request");
	json_kv_uint(&j, "conns", r->conns);
	json_kv_uint(&j, "threads", r->threads);
	json_kv_uint(&j, "size", r->size);
	json_key(&j, "seconds");
	snprintf(num, sizeof num, "%.3f", r->seconds);
	json_raw(&j, num);
	json_kv_uint(&j, "requests", r->requests);
	json_key(&j, "requests_per_sec");
	snprintf(num, sizeof num, "%.1f", (double)r->requests / secs);
	json_raw(&j, num);
	json_kv_uint(&j, "bytes_sent", r->bytes_out);
	json_kv_uint(&j, "bytes_received", r->bytes_in);
	json_key(&j, "sent_mb_per_sec");
	snprintf(num, sizeof num, "%.2f", (double)r->bytes_out / secs / 1e6);
	json_raw(&j, num);
	json_key(&j, "received_mb_per_sec");
	snprintf(num, sizeof num, "%.2f", (double)r->bytes_in / secs / 1e6);
	json_raw(&j, num);
	if (r->lat != NULL) {
		json_key(&j, "latency_ms");
		json_obj_begin(&j);
		static const double ps[] = {50, 90, 99, 99.9};
		static const char *const names[] = {"p50", "p90", "p99", "p99.9"};
		for (int i = 0; i < 4; i++) {
			json_key(&j, names[i]);
			snprintf(num, sizeof num, "%.3f", ms(hist_percentile(r->lat, ps[i])));
			json_raw(&j, num);
		}
		json_key(&j, "max");
		snprintf(num, sizeof num, "%.3f", ms(r->lat->count ? r->lat->max : 0));
		json_raw(&j, num);
		json_key(&j, "mean");
		snprintf(num, sizeof num, "%.3f",
			 r->lat->count ? ms(r->lat->sum / r->lat->count) : 0.0);
		json_raw(&j, num);
		json_obj_end(&j);
	}
	json_kv_uint(&j, "errors", r->errors);
	json_kv_uint(&j, "connect_errors", r->connect_errors);
	if (r->lost > 0 || !strcmp(r->proto, "udp"))
		json_kv_uint(&j, "lost", r->lost);
	json_obj_end(&j);
	printf("%s\n", sbuf_cstr(&out));
	sbuf_free(&out);
}

void bench_print(const struct bench_result *r, bool json)
{
	if (json) {
		print_json(r);
		return;
	}
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	char a[32], b[32];
	printf("inetkit %s bench %s: %s, %u connection%s, %llu-byte %s, %u thread%s, %.2f s\n",
	       r->proto, r->target, r->stream ? "stream" : "request/response", r->conns,
	       r->conns == 1 ? "" : "s", (unsigned long long)r->size,
	       r->stream ? "writes" : "requests", r->threads, r->threads == 1 ? "" : "s", r->seconds);
	if (!r->stream)
		printf("  requests    %llu (%.0f/s)\n", (unsigned long long)r->requests,
		       (double)r->requests / secs);
	human_bytes(a, sizeof a, (double)r->bytes_out);
	human_bytes(b, sizeof b, (double)r->bytes_in);
	printf("  sent        %s (%.2f MB/s)\n", a, (double)r->bytes_out / secs / 1e6);
	printf("  received    %s (%.2f MB/s)\n", b, (double)r->bytes_in / secs / 1e6);
	if (r->lat != NULL && r->lat->count > 0)
		printf("  latency     p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  "
		       "(mean %.3f ms)\n", ms(hist_percentile(r->lat, 50)),
		       ms(hist_percentile(r->lat, 90)), ms(hist_percentile(r->lat, 99)),
		       ms(r->lat->max), ms(r->lat->sum / r->lat->count));
	if (r->lost > 0)
		printf("  lost        %llu (no reply in time)\n", (unsigned long long)r->lost);
	printf("  errors      %llu%s\n", (unsigned long long)r->errors,
	       r->connect_errors ? " (some connections failed)" : "");
}
