/* Endpoints: "HOST:PORT" text <-> socket addresses (no I/O but the
 * resolver for host names). Shared by listeners and clients so that every
 * subcommand writes and reads addresses the same way:
 *   127.0.0.1:2007   [::1]:2007   localhost:2007   *:2007   2007
 * IPv6 literals need brackets when a port follows (RFC 3986 style). */
#ifndef INETKIT_NET_ENDPOINT_H
#define INETKIT_NET_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/error.h"

/* "[ffff:...:ffff]:65535" plus NUL, with room for a zone id. */
#define ENDPOINT_TEXT_MAX 72

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard;		/* from "*:PORT" or "PORT": any address */
	char text[ENDPOINT_TEXT_MAX];	/* as endpoint_format writes it */
};

/* Split "HOST:PORT", "[V6]:PORT", "*:PORT" or "PORT" into host ("" for
 * none/wildcard) and port. Returns 0, or -1 with e naming what is wrong. */
int endpoint_split(const char *spec, char *host, size_t hostsz, uint16_t *port, ik_err *e);

/* Parse a port number 0..65535; "port 'x' is not a number 0-65535". */
int endpoint_parse_port(const char *s, uint16_t *port, ik_err *e);

/* Resolve a listen spec into up to max endpoints (numeric hosts, names
 * such as localhost, or the wildcard = 0.0.0.0 and ::). */
int endpoint_resolve_listen(const char *spec, struct endpoint *out, size_t max,
			    size_t *n, ik_err *e);

/* Resolve host + port for connecting: every address getaddrinfo gives, in
 * its order. family: AF_UNSPEC, AF_INET or AF_INET6. */
int endpoint_resolve_connect(const char *host, uint16_t port, int family, int socktype,
			     struct endpoint *out, size_t max, size_t *n, ik_err *e);

/* "127.0.0.1:2007" or "[::1]:2007" (IPv4-mapped IPv6 is shown as IPv4). */
const char *endpoint_format(const struct sockaddr *sa, char *buf, size_t bufsz);
/* Just the address, without port or brackets. */
const char *endpoint_format_host(const struct sockaddr *sa, char *buf, size_t bufsz);
uint16_t endpoint_port(const struct sockaddr *sa);
void endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa, socklen_t len);
/* Same address (ignoring port); IPv4-mapped IPv6 equals its IPv4 form. */
bool endpoint_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
