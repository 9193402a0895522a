/* The little of HTTP/1.x (RFC 9112 section 3: the request line; RFC 9110
 * section 9: GET and HEAD) that a Prometheus scraper and a load
 * balancer's health check need from the [metrics] service. Pure parsing,
 * no I/O. */
#ifndef INETKIT_METRICS_HTTP_H
#define INETKIT_METRICS_HTTP_H

#include <stddef.h>

#include "lib/error.h"

enum metrics_http_method { METRICS_HTTP_GET, METRICS_HTTP_HEAD, METRICS_HTTP_OTHER };

#define METRICS_HTTP_PATH_MAX 256

/* "METHOD SP TARGET SP HTTP/1.x" (no CR or LF in line): the method, and
 * the target's path without its query ("/metrics?x" is "/metrics").
 * -1 with e set: not a request line we take (400); an origin-form target
 * must start with "/". */
int metrics_http_request(const char *line, size_t len, enum metrics_http_method *method,
			 char *path, size_t pathsz, ik_err *e);

#endif
