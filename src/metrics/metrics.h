/* The [metrics] service (metrics_service.c): Prometheus text format and a
 * health check over HTTP, for operators and load balancers. */
#ifndef INETKIT_METRICS_METRICS_H
#define INETKIT_METRICS_METRICS_H

#include "core/service.h"

#define METRICS_DEFAULT_LISTEN "127.0.0.1:9465"

extern const struct service_ops service_metrics;

#endif
