/* Where a recipient's mail goes, and when to try again: the relay's pure
 * decisions, kept apart from its I/O so that they are unit-tested.
 * RFC 5321 section 5.1 (MX by preference, equal preferences in random
 * order, no MX: the domain's own A/AAAA as an implicit MX of 0), RFC 7505
 * (a single "MX 0 ." says the domain takes no mail: bounce at once),
 * RFC 5321 4.5.4.1 (retry: at least 30 minutes apart in the RFC's words;
 * here a configurable first interval doubling up to a cap), RFC 3463 (the
 * enhanced status codes of a report). */
#ifndef INETKIT_SMTP_SMTP_ROUTE_H
#define INETKIT_SMTP_SMTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dns.h"
#include "lib/error.h"

#define SMTP_ROUTE_HOST_MAX 256

/* "[HOST]:PORT", "HOST:PORT", "[HOST]" or "HOST" (port 25). The brackets
 * only say "no MX lookup" (RFC 5321 4.1.3 style); relayhost and transport
 * targets are never MX-resolved. IPv6 literals go in brackets: [::1]:25. */
struct smtp_hostport {
	char host[SMTP_ROUTE_HOST_MAX];
	uint16_t port;
};
int smtp_route_hostport(const char *s, struct smtp_hostport *out, ik_err *e);

/* The domain of an address ("" when it has none); points into addr. */
const char *smtp_route_domain(const char *addr);

/* Order MX records for delivery: by preference, equal preferences shuffled
 * with rnd (a uniform 0..n-1 source; NULL keeps the answer's order). 1 when
 * the set is a null MX (RFC 7505: one record, host "."), else 0. */
int smtp_route_mx_order(struct dns_mx *mx, size_t n, size_t (*rnd)(void *arg, size_t n),
			void *arg);

/* The wait before attempt number `attempts` + 1 (attempts >= 1 made):
 * first_ms, doubled per attempt, capped at max_ms. */
uint64_t smtp_route_backoff(unsigned attempts, uint64_t first_ms, uint64_t max_ms);

/* The RFC 3463 status of a reply: the "X.Y.Z" its text starts with when
 * its class agrees with the code, else code's class .0.0. */
void smtp_route_status(int code, const char *text, char *out, size_t outsz);

#endif
