/* Endpoints: "HOST:PORT" text <-> socket addresses (no I/O but the
 * resolver for host names). Shared by listeners and clients so that every
 * subcommand writes and reads addresses the same way:
 *   127.0.0.1:2007   [::1]:2007   localhost:2007   *:2007   2007
 * IPv6 literals need brackets when a port follows (RFC 3986 style).
 * A UNIX-domain socket is written unix:PATH (unix(7)), e.g. unix:/run/x.sock;
 * its text is the same, and an unnamed one (an accepted client) is "unix:". */
#ifndef INETKIT_NET_ENDPOINT_H
#define INETKIT_NET_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/error.h"

/* "unix:" and the longest socket path (107 bytes) plus NUL; an IPv6
 * "[ffff:...:ffff]:65535" with a zone id fits too. */
#define ENDPOINT_TEXT_MAX 120
#define ENDPOINT_UNIX_PREFIX "unix:"


struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard;		/* from "*:PORT" or "PORT": any address */
	char text[ENDPOINT_TEXT_MAX];	/* as endpoint_format writes it */
};

/* Split "HOST:PORT", "[V6]:PORT", "*:PORT" or "PORT" into host ("" for
 * none/wildcard) and port. Returns 0, or -1 with e naming what is wrong. */
int endpoint_split(const char *spec, char *host, size_t hostsz, uint16_t *port, ik_err *e);

/* spec names a UNIX-domain socket: it starts with "unix:". */
bool endpoint_is_unix(const char *spec);
/* "unix:PATH" into ep (AF_UNIX). The path must be non-empty and fit
 * sun_path (at most 107 bytes). */
int endpoint_unix(const char *spec, struct endpoint *ep, ik_err *e);
/* The file name of an AF_UNIX address, or NULL (another family, unnamed). */
const char *endpoint_unix_path(const struct sockaddr *sa, socklen_t len);

/* Parse a port number 0..65535; "port 'x' is not a number 0-65535". */
int endpoint_parse_port(const char *s, uint16_t *port, ik_err *e);

/* Resolve a listen spec into up to max endpoints (numeric hosts, names
 * such as localhost, the wildcard = 0.0.0.0 and ::, or unix:PATH). */
int endpoint_resolve_listen(const char *spec, struct endpoint *out, size_t max,
			    size_t *n, ik_err *e);

/* Resolve host + port for connecting: every address getaddrinfo gives, in
 * its order. family: AF_UNSPEC, AF_INET or AF_INET6. */
int endpoint_resolve_connect(const char *host, uint16_t port, int family, int socktype,
			     struct endpoint *out, size_t max, size_t *n, ik_err *e);

/* A place to connect to, "HOST:PORT" (a host and a port from 1 up; every
 * address of the host, as endpoint_resolve_connect) or "unix:PATH". what
 * names it in errors ("target", "--source"). */
int endpoint_resolve_target(const char *spec, int family, int socktype, struct endpoint *out,
			    size_t max, size_t *n, const char *what, ik_err *e);

/* A local address to bind before connecting (`-s`, `--source`): ADDR,
 * ADDR:PORT, [V6], [V6]:PORT or a bare IPv6 address; port 0 (or none): the
 * system chooses. A name is resolved to its first address. */
int endpoint_parse_source(const char *spec, struct endpoint *ep, ik_err *e);

/* "127.0.0.1:2007" or "[::1]:2007" (IPv4-mapped IPv6 is shown as IPv4);
 * "unix:PATH" for AF_UNIX. */
const char *endpoint_format(const struct sockaddr *sa, char *buf, size_t bufsz);
/* Just the address, without port or brackets (the path for AF_UNIX). */
const char *endpoint_format_host(const struct sockaddr *sa, char *buf, size_t bufsz);
uint16_t endpoint_port(const struct sockaddr *sa);
void endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa, socklen_t len);
/* Same address (ignoring port); IPv4-mapped IPv6 equals its IPv4 form. */
bool endpoint_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
