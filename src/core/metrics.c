/* Shared counters and their Prometheus text format (Prometheus
 * "Exposition formats", text format 0.0.4); see core/metrics.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "core/metrics.h"

struct row {
	uint32_t claimed;		/* 0 free, 1 taken (CAS) */
	uint32_t ready;			/* name written (release/acquire) */
	uint32_t mail;
	char name[METRICS_NAME_MAX];
	int64_t v[METRIC_COUNT];
};

struct table {
	int64_t errors;
	struct row row[METRICS_SERVICES];
};

static struct table *tab;

int metrics_init(ik_err *e)
{
	if (tab != NULL)
		return 0;
	void *p = mmap(NULL, sizeof *tab, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return ik_err_errno(e, errno, "cannot map shared memory for the metrics");
	tab = p;
	return 0;
}

bool metrics_enabled(void) { return tab != NULL; }

/* The row of name, claimed when new; NULL when the table is full or the
 * name unusable. Two processes naming a new service at once may claim a
 * row each: the writer adds them up. */
static struct row *row_of(const char *name, bool claim)
{
	size_t n = strlen(name);
	if (tab == NULL || n == 0 || n >= METRICS_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < METRICS_SERVICES; i++) {
		struct row *r = &tab->row[i];
		if (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) && strcmp(r->name, name) == 0)
			return r;
	}
	if (!claim)
		return NULL;
	for (size_t i = 0; i < METRICS_SERVICES; i++) {
		struct row *r = &tab->row[i];
		uint32_t free_ = 0;
		if (__atomic_compare_exchange_n(&r->claimed, &free_, 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			memcpy(r->name, name, n + 1);
			__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
			return r;
		}
	}
	return NULL;
}

void metrics_add(const char *service, enum metric m, int64_t n)
{
	struct row *r = row_of(service, true);
	if (r != NULL && (unsigned)m < METRIC_COUNT)
		__atomic_add_fetch(&r->v[m], n, __ATOMIC_RELAXED);
}

void metrics_declare(const char *service, bool mail)
{
	struct row *r = row_of(service, true);
	if (r != NULL && mail)
		__atomic_store_n(&r->mail, 1, __ATOMIC_RELAXED);
}

void metrics_error(void)
{
	if (tab != NULL)
		__atomic_add_fetch(&tab->errors, 1, __ATOMIC_RELAXED);
}

int64_t metrics_get(const char *service, enum metric m)
{
	int64_t sum = 0;
	if (tab == NULL || (unsigned)m >= METRIC_COUNT)
		return 0;
	for (size_t i = 0; i < METRICS_SERVICES; i++) {
		struct row *r = &tab->row[i];
		if (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) && strcmp(r->name, service) == 0)
			sum += __atomic_load_n(&r->v[m], __ATOMIC_RELAXED);
	}
	return sum;
}

/* ---- the text format ---- */

struct family {
	const char *name, *type, *help;
	enum metric m;
	const char *label;	/* an extra label="value", or NULL */
	bool mail;		/* only for services with mail */
	bool first;		/* writes HELP and TYPE */
};

static const struct family families[] = {
	{"inetkit_sessions_total", "counter", "Sessions accepted", METRIC_SESSIONS, NULL, false,
	 true},
	{"inetkit_sessions_open", "gauge", "Sessions open now", METRIC_SESSIONS_OPEN, NULL, false,
	 true},
	{"inetkit_logins_total", "counter", "Logins by result", METRIC_LOGINS_OK, "result=\"ok\"",
	 false, true},
	{"inetkit_logins_total", NULL, NULL, METRIC_LOGINS_FAILED, "result=\"failed\"", false,
	 false},
	{"inetkit_messages_total", "counter", "Messages by outcome: accepted (250 after DATA), "
	 "delivered (per local recipient), deferred and bounced (the relay)",
	 METRIC_MESSAGES_ACCEPTED, "outcome=\"accepted\"", true, true},
	{"inetkit_messages_total", NULL, NULL, METRIC_MESSAGES_DELIVERED, "outcome=\"delivered\"",
	 true, false},
	{"inetkit_messages_total", NULL, NULL, METRIC_MESSAGES_DEFERRED, "outcome=\"deferred\"",
	 true, false},
	{"inetkit_messages_total", NULL, NULL, METRIC_MESSAGES_BOUNCED, "outcome=\"bounced\"",
	 true, false},
	{"inetkit_bytes_total", "counter", "Bytes received and sent by sessions",
	 METRIC_BYTES_IN, "direction=\"in\"", false, true},
	{"inetkit_bytes_total", NULL, NULL, METRIC_BYTES_OUT, "direction=\"out\"", false, false},
};

/* The distinct names in row order, each with its rows summed. */
struct merged {
	const char *name;
	bool mail;
	int64_t v[METRIC_COUNT];
};

static size_t merge(struct merged *out)
{
	size_t n = 0;
	for (size_t i = 0; i < METRICS_SERVICES; i++) {
		struct row *r = &tab->row[i];
		if (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE))
			continue;
		size_t k = 0;
		while (k < n && strcmp(out[k].name, r->name) != 0)
			k++;
		if (k == n) {
			memset(&out[n], 0, sizeof out[n]);
			out[n++].name = r->name;
		}
		if (__atomic_load_n(&r->mail, __ATOMIC_RELAXED))
			out[k].mail = true;
		for (size_t m = 0; m < METRIC_COUNT; m++)
			out[k].v[m] += __atomic_load_n(&r->v[m], __ATOMIC_RELAXED);
	}
	return n;
}

int metrics_render(struct sbuf *out, int64_t queue)
{
	struct merged rows[METRICS_SERVICES];
	size_t n = tab != NULL ? merge(rows) : 0;
	int rc = 0;
	for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
		const struct family *fa = &families[f];
		if (fa->first)
			rc |= sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fa->name, fa->help,
					  fa->name, fa->type);
		for (size_t i = 0; i < n; i++) {
			if (fa->mail && !rows[i].mail)
				continue;
			/* Service names are section and protocol names: no quote
			 * or backslash to escape. */
			rc |= sbuf_printf(out, "%s{service=\"%s\"%s%s} %lld\n", fa->name, rows[i].name,
					  fa->label != NULL ? "," : "", fa->label != NULL ? fa->label : "",
					  (long long)rows[i].v[fa->m]);
		}
	}
	rc |= sbuf_printf(out, "# HELP inetkit_errors_total Lines logged at level error or worse\n"
			  "# TYPE inetkit_errors_total counter\ninetkit_errors_total %lld\n",
			  tab != NULL ? (long long)__atomic_load_n(&tab->errors, __ATOMIC_RELAXED)
				      : 0LL);
	if (queue >= 0)
		rc |= sbuf_printf(out, "# HELP inetkit_queue_messages Messages in the outbound "
				  "queue\n# TYPE inetkit_queue_messages gauge\n"
				  "inetkit_queue_messages %lld\n", (long long)queue);
	return rc < 0 ? -1 : 0;
}
