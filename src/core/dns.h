/* Asynchronous DNS on the event loop: MX, A, AAAA and TXT lookups with a
 * callback, for mail routing (RFC 5321 section 5, RFC 7505 null MX) and
 * mail authentication (SPF RFC 7208, DKIM RFC 6376, DMARC RFC 7489 TXT).
 *
 * Built on c-ares (Debian libc-ares-dev) rather than libunbound: c-ares is
 * a stub resolver that hands its sockets to the caller's loop (a socket
 * state callback and a timeout), which is exactly libevent's model, so no
 * thread is needed; libunbound is a full recursive/validating resolver
 * whose async mode wants its own thread or fd and a trust anchor, more
 * than a mail relay that talks to the system's (or the configured) servers
 * needs. c-ares parses the packets; this module turns its answers into
 * plain structs (no TTLs: callers never cache) and sorts errors into the
 * classes a mail relay acts on:
 *   DNS_NXDOMAIN  the name does not exist          -> permanent (bounce)
 *   DNS_NODATA    the name exists, no such record  -> e.g. MX: use A/AAAA
 *   DNS_TEMPFAIL  SERVFAIL, REFUSED, timeout, no server reachable -> retry
 *   DNS_BADNAME   the name cannot be a DNS name    -> permanent
 *
 * Servers: the system's (/etc/resolv.conf) unless a "HOST:PORT ..." list is
 * given (the dns_servers config key; tests point it at their own loopback
 * server). Names are looked up as given (no search list, no /etc/hosts). */
#ifndef INETKIT_CORE_DNS_H
#define INETKIT_CORE_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "lib/error.h"

#define DNS_NAME_MAX 256		/* a domain name as text, with NUL */
#define DNS_TIMEOUT_DEFAULT 5000	/* ms per try */
#define DNS_TRIES_DEFAULT 2

enum dns_type { DNS_A, DNS_AAAA, DNS_MX, DNS_TXT };

enum dns_status {
	DNS_OK = 0,
	DNS_NXDOMAIN,
	DNS_NODATA,
	DNS_TEMPFAIL,
	DNS_BADNAME,
	DNS_CANCELLED,	/* the resolver was freed before an answer came */
};

struct dns_mx {
	uint16_t pref;
	/* Without a trailing dot; "" for the root, i.e. the "." of a null MX
	 * (RFC 7505: a single MX 0 .). */
	char host[DNS_NAME_MAX];
};

/* One TXT record: its character-strings joined (RFC 7208 3.3 and RFC 6376
 * 3.6.2.2 both read a record as the concatenation of its strings). data
 * is NUL-terminated too; len counts the bytes (a string may hold NUL). */
struct dns_txt {
	char *data;
	size_t len;
};

struct dns_result {
	enum dns_status status;
	enum dns_type type;
	size_t n;			/* entries in the array of type */
	struct dns_mx *mx;		/* sorted by preference (stable) */
	struct in_addr *a;
	struct in6_addr *aaaa;
	struct dns_txt *txt;
	char msg[160];			/* why, when status != DNS_OK */
};

/* The callback owns nothing: r and its arrays are freed after it returns. */
typedef void (*dns_cb)(void *arg, const struct dns_result *r);

struct dns_opts {
	uint64_t timeout_ms;		/* per try; 0: DNS_TIMEOUT_DEFAULT */
	unsigned tries;			/* 0: DNS_TRIES_DEFAULT */
	const char *servers;		/* "HOST:PORT ..." or NULL: system's */
};

struct dns;
struct dns_query;

void dns_opts_default(struct dns_opts *o);
struct dns *dns_new(struct loop *l, const struct dns_opts *o, ik_err *e);
/* Pending callbacks run with DNS_CANCELLED (unless cancelled by the
 * caller) before this returns. */
void dns_free(struct dns *d);
/* "127.0.0.1:5353 [::1]:53 192.0.2.1" (port 53 when none; commas or
 * spaces between). */
int dns_set_servers(struct dns *d, const char *list, ik_err *e);
/* Check a servers list without a resolver (config validation). */
int dns_servers_check(const char *list, ik_err *e);

/* Start a lookup. cb runs later from the loop, never from inside this
 * call. Returns a handle valid until cb has run or dns_cancel, or NULL
 * with e set (bad name, out of memory). */
struct dns_query *dns_lookup(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
			     void *arg, ik_err *e);
/* The callback will not run; the lookup's answer is dropped. */
void dns_cancel(struct dns_query *q);

const char *dns_type_name(enum dns_type t);
const char *dns_status_name(enum dns_status s);

/* The conversion of a raw answer into a result (exported for the unit
 * tests and the fuzz harness; not needed by callers). rcode_status is
 * what the transport said (DNS_OK when an answer packet arrived).
 * Fills r (free with dns_result_free). */
void dns_result_from_answer(enum dns_type type, const unsigned char *abuf, size_t alen,
			    struct dns_result *r);
void dns_result_free(struct dns_result *r);

#endif
