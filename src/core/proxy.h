/* Listeners behind a load balancer that speaks the PROXY protocol
 * (HAProxy's send-proxy / send-proxy-v2; core/proxy_hdr.h parses it).
 *
 * Opt-in per service section, for all its TCP listen addresses:
 *   proxy_protocol = yes           every connection must start with a header
 *   proxy_trusted  = CIDR ...      the balancers' addresses (required)
 *   proxy_timeout  = 5s            how long a header may take
 *
 * A connection from an address not in proxy_trusted is refused at
 * accept (closed, not a byte read or sent, logged): only a balancer may
 * say who the client is, and a service that takes proxied connections
 * takes no direct ones on the same sockets. A header that is malformed,
 * longer than PROXY_HDR_MAX, or not complete within proxy_timeout closes
 * the connection, logged. Only the header's bytes are read from the
 * socket, so what the client sends next (a TLS ClientHello) is intact.
 *
 * From then on the client's address in the header is the peer every
 * later step sees — allow/deny, per-IP limits, lockouts, logs, FTP's
 * data-peer checks, SMTP's Received: and relay decisions — because the
 * listener hands it to the server in place of the balancer's. A LOCAL
 * header (the balancer's health check) or UNKNOWN keeps the balancer's
 * own address. */
#ifndef INETKIT_CORE_PROXY_H
#define INETKIT_CORE_PROXY_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/acl.h"
#include "core/config.h"
#include "core/loop.h"
#include "lib/error.h"

struct listen_proxy {
	char name[ACL_NAME_MAX];	/* the service, for logs */
	struct acl *trusted;		/* allow list: the balancers */
	uint64_t timeout_ms;
};

/* The section's proxy_protocol, proxy_trusted and proxy_timeout keys;
 * *out is NULL when proxy_protocol is off. */
int proxy_configure(struct cfg *c, const char *sec, struct listen_proxy **out, ik_err *e);
void proxy_free(struct listen_proxy *p);

/* Whether peer may send a header (a balancer in proxy_trusted). */
bool proxy_trusted(const struct listen_proxy *p, const struct sockaddr *peer);

/* Connections whose header is still being read, for one listener. */
struct proxy_waits;
/* done(fd, client, len, arg): the header was read and client is the
 * real client (or the balancer for LOCAL/UNKNOWN); fd is done's. */
typedef void (*proxy_done_cb)(int fd, const struct sockaddr *client, socklen_t len, void *arg);
struct proxy_waits *proxy_waits_new(struct loop *l, proxy_done_cb done, void *arg);
/* Read the header of fd (accepted from peer, a trusted balancer) on the
 * loop, then call done; on a bad or slow header fd is closed and logged.
 * p must live until the wait ends (the listen set's, as its acl). */
void proxy_wait(struct proxy_waits *w, const struct listen_proxy *p, int fd,
		const struct sockaddr *peer, socklen_t len);
/* Close every connection still waiting, and free. NULL is ignored. */
void proxy_waits_free(struct proxy_waits *w);

#endif
