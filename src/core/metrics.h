/* Counters for operators and load balancers, shared by every worker
 * process of a server, read out in the Prometheus text exposition format
 * (version 0.0.4: "# HELP", "# TYPE", then NAME{LABELS} VALUE lines) by
 * the [metrics] service (src/metrics/).
 *
 * The table is anonymous shared memory (MAP_SHARED | MAP_ANONYMOUS) made
 * once by the supervisor before it forks (metrics_init); each worker
 * inherits it, and adds with relaxed atomic operations: no lock, and a
 * worker that dies mid-way cannot leave one held. In a process that never
 * called metrics_init (a client tool, a unit test) every add is a no-op.
 *
 * Counters are by service, named as the session core names protocols in
 * its logs ("ftp", "ftp-data", "smtp", "tcp-echo"); a name is given a
 * slot the first time it is used, up to METRICS_SERVICES of them. Counters
 * only grow, except METRIC_SESSIONS_OPEN, a gauge; a worker killed with
 * SIGKILL leaves its open sessions counted until a restart of serve. */
#ifndef INETKIT_CORE_METRICS_H
#define INETKIT_CORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/sbuf.h"

#define METRICS_SERVICES 32
#define METRICS_NAME_MAX 24

enum metric {
	METRIC_SESSIONS,		/* sessions accepted */
	METRIC_SESSIONS_OPEN,		/* gauge */
	METRIC_LOGINS_OK,
	METRIC_LOGINS_FAILED,		/* wrong password, unknown user, locked, expired */
	METRIC_MESSAGES_ACCEPTED,	/* answered 250 after DATA/BDAT */
	METRIC_MESSAGES_DELIVERED,	/* into a local mailbox, one per recipient */
	METRIC_MESSAGES_DEFERRED,	/* the relay: a temporary failure, retried later */
	METRIC_MESSAGES_BOUNCED,	/* the relay: given up, a bounce sent */
	METRIC_BYTES_IN,
	METRIC_BYTES_OUT,
	METRIC_COUNT
};

/* Map the table (once per process tree; again is a no-op). */
int metrics_init(ik_err *e);
/* Whether this process has a table. */
bool metrics_enabled(void);

/* Add n (negative for the gauge) to service's metric. */
void metrics_add(const char *service, enum metric m, int64_t n);
/* Make service's row exist now, so that it reads 0 before its first
 * event (a scraper then sees every family from the start); mail: its
 * messages families are written too. */
void metrics_declare(const char *service, bool mail);
/* One more line logged at level error or worse (core/log.c). */
void metrics_error(void);

/* Read one value (tests, the health check). */
int64_t metrics_get(const char *service, enum metric m);

/* The whole table in the text format into out; queue: the outbound
 * queue's size in messages, or -1 to leave it out. */
int metrics_render(struct sbuf *out, int64_t queue);

#endif
