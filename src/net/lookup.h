/* Names, addresses, services and protocols through the system's resolver
 * (NSS: /etc/hosts and DNS, /etc/services, /etc/protocols).
 *
 * Follows RFC 3493 (getaddrinfo/getnameinfo), RFC 6724 (the resolver's
 * address order is kept as it is), RFC 4007 (IPv6 zone index "%eth0"),
 * RFC 1123 (host name length) and RFC 6335 (port number ranges).
 *
 * Every call fills a fixed-size struct (no pointers, nothing to free) and
 * returns a status; nothing here prints. Only the thread-safe resolver calls
 * are used: getaddrinfo, getnameinfo and the _r database lookups. A lookup
 * that may wait on the network runs on a worker thread and is given up after
 * timeout_ms, because getaddrinfo itself has no timeout (see
 * lookup_run_timed). */
#ifndef INETKIT_NET_LOOKUP_H
#define INETKIT_NET_LOOKUP_H

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/error.h"

enum lookup_status {
	LOOKUP_OK = 0,
	LOOKUP_BAD_INPUT,	/* the argument cannot be looked up as given */
	LOOKUP_NOT_FOUND,	/* the resolver answered: no such name or entry */
	LOOKUP_TEMPORARY,	/* no answer now (EAI_AGAIN); a retry may work */
	LOOKUP_TIMEOUT,		/* no answer within the time allowed */
	LOOKUP_FAILED,		/* system failure: memory, threads, EAI_FAIL */
};

#define LOOKUP_HOST_MAX 1025	/* NI_MAXHOST: longest name getnameinfo gives */
#define LOOKUP_HOSTNAME_MAX 253	/* RFC 1123/1035, without a trailing dot */
#define LOOKUP_ADDRS_MAX 64
#define LOOKUP_NAME_MAX 256	/* a service or protocol name or alias */
#define LOOKUP_ALIASES_MAX 16
#define LOOKUP_TIMEOUT_MAX_MS 3600000
/* Workers still running after their caller gave up; past this, new lookups
 * fail as temporary rather than pile up threads behind a dead resolver. */
#define LOOKUP_ABANDONED_MAX 32

struct lookup_address {
	int family;			/* AF_INET or AF_INET6 */
	socklen_t salen;
	struct sockaddr_storage sa;	/* port 0 */
	char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];	/* "fe80::1%eth0" */
};

struct lookup_host_result {
	char canonical[LOOKUP_HOST_MAX];	/* "" if the resolver gave none */
	size_t count;
	bool truncated;			/* more than LOOKUP_ADDRS_MAX addresses */
	struct lookup_address addrs[LOOKUP_ADDRS_MAX];
};

struct lookup_reverse_result {
	struct lookup_address addr;
	char name[LOOKUP_HOST_MAX];
};

struct lookup_hostname_result {
	char hostname[LOOKUP_HOST_MAX];	/* gethostname() */
	char fqdn[LOOKUP_HOST_MAX];	/* its canonical name from the resolver */
};

struct lookup_service_entry {
	char name[LOOKUP_NAME_MAX];
	char proto[16];			/* "tcp", "udp", ... as the database says */
	uint16_t port;
	size_t alias_count;
	char aliases[LOOKUP_ALIASES_MAX][LOOKUP_NAME_MAX];
	bool truncated;			/* a name or some aliases did not fit */
};

struct lookup_service_result {
	bool by_port;			/* the query was a port number */
	uint16_t port;			/* that number, or the first entry's port */
	size_t count;
	struct lookup_service_entry entries[2];	/* tcp first, then udp */
};

struct lookup_proto_result {
	char name[LOOKUP_NAME_MAX];
	int number;
	size_t alias_count;
	char aliases[LOOKUP_ALIASES_MAX][LOOKUP_NAME_MAX];
	bool truncated;
};

/* All addresses of a host name (or numeric address), de-duplicated across
 * socket types, in the resolver's order, with the canonical name.
 * family: AF_UNSPEC, AF_INET or AF_INET6. timeout_ms <= 0 waits as long as
 * the resolver does, in the calling thread. */
enum lookup_status lookup_host(const char *name, int family, int timeout_ms,
			       struct lookup_host_result *r, ik_err *e);

/* The name of a numeric IPv4 or IPv6 address (NI_NAMEREQD: an address with
 * no name is LOOKUP_NOT_FOUND, never its own text). */
enum lookup_status lookup_reverse(const char *ip, int timeout_ms,
				  struct lookup_reverse_result *r, ik_err *e);

/* This machine's host name and its fully qualified name. */
enum lookup_status lookup_hostname(int timeout_ms,
				   struct lookup_hostname_result *r, ik_err *e);

/* A service by name or port number ("http", "80"). proto "tcp" or "udp"
 * restricts the search; NULL searches tcp and udp, then any protocol. A port
 * number with no entry is LOOKUP_OK with count 0. */
enum lookup_status lookup_service(const char *query, const char *proto,
				  int timeout_ms,
				  struct lookup_service_result *r, ik_err *e);

/* A protocol by name or number ("tcp", "6"). */
enum lookup_status lookup_proto(const char *query, int timeout_ms,
				struct lookup_proto_result *r, ik_err *e);

/* Port ranges of RFC 6335 section 6. */
enum lookup_port_range {
	LOOKUP_RANGE_WELL_KNOWN,	/* 0-1023, "system ports" */
	LOOKUP_RANGE_REGISTERED,	/* 1024-49151, "user ports" */
	LOOKUP_RANGE_DYNAMIC,		/* 49152-65535, private/ephemeral */
};
enum lookup_port_range lookup_port_range(uint16_t port);
/* "well-known", "registered" or "dynamic". */
const char *lookup_port_range_name(uint16_t port);
void lookup_port_range_bounds(enum lookup_port_range range, uint16_t *first,
			      uint16_t *last);

/* What a command-line argument is. */
enum lookup_arg { LOOKUP_ARG_INVALID = -1, LOOKUP_ARG_NAME, LOOKUP_ARG_NUMBER };

/* A service argument: all digits is a port (0-65535, else invalid naming the
 * value, as is "-5"); anything else must be a plausible service name. */
enum lookup_arg lookup_parse_port(const char *s, uint16_t *port, ik_err *e);
/* A protocol argument: a number 0-255 or a name. */
enum lookup_arg lookup_parse_proto(const char *s, uint8_t *number, ik_err *e);
/* --proto: "tcp" or "udp"; returns the static name or NULL with e set. */
const char *lookup_parse_proto_filter(const char *s, ik_err *e);
/* --timeout: seconds ("5", "0.5") or a duration ("500ms", "2s", "1m"),
 * from 1 ms up to LOOKUP_TIMEOUT_MAX_MS. Returns 0 or -1. */
int lookup_parse_timeout(const char *s, int *ms, ik_err *e);
/* A host name argument: not empty, no white space or control bytes, at most
 * LOOKUP_HOSTNAME_MAX bytes (plus a trailing dot). Returns 0 or -1. */
int lookup_check_hostname(const char *name, ik_err *e);
/* A numeric IPv4 address (dotted quad only) or IPv6 address with an
 * optional %zone (interface name or index). Never touches the resolver. */
int lookup_parse_ip(const char *text, struct lookup_address *out, ik_err *e);

/* How a getaddrinfo/getnameinfo error code is classified. */
enum lookup_status lookup_status_from_gai(int rc);

/* Run fn(job) on a worker thread and wait at most timeout_ms for it
 * (timeout_ms <= 0: run it here). job (size bytes) is copied to memory the
 * worker owns and copied back only if fn finishes in time; on a timeout the
 * worker is abandoned and frees its copy when fn returns, so job must hold no
 * pointer to the caller's memory. Returns LOOKUP_OK, LOOKUP_TIMEOUT (e not
 * set: the caller knows what was being looked up), or LOOKUP_TEMPORARY /
 * LOOKUP_FAILED with e set when no worker could be started. */
enum lookup_status lookup_run_timed(void (*fn)(void *job), void *job,
				    size_t size, int timeout_ms, ik_err *e);
/* Workers that timed out and are still running. */
int lookup_abandoned_count(void);

/* The resolver calls used for hosts and addresses; tests swap in slow or
 * failing ones. The struct must outlive every lookup started with it. */
struct lookup_resolver {
	int (*getaddrinfo)(const char *node, const char *service,
			   const struct addrinfo *hints, struct addrinfo **res);
	void (*freeaddrinfo)(struct addrinfo *res);
	int (*getnameinfo)(const struct sockaddr *sa, socklen_t salen,
			   char *host, socklen_t hostlen, char *serv,
			   socklen_t servlen, int flags);
};
/* NULL restores the system's. Not for use while lookups are starting. */
void lookup_set_resolver(const struct lookup_resolver *r);

#endif
