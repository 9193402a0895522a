/* Connecting on the event loop: a non-blocking connect(2) (RFC 9293
 * three-way handshake; unix(7) for unix:PATH) to each address of a target
 * in turn, each attempt bounded by a timeout, optionally from a chosen
 * source address (bound before the connect, as `nc -s` does). What servers
 * that open connections of their own use (`tcp relay`), and the
 * netcat-style client; a blocking client uses core/client instead.
 *
 * The callback always runs from the loop, never inside connector_start,
 * exactly once unless the connector is cancelled first; the connector is
 * freed when it returns. */
#ifndef INETKIT_CORE_CONNECTOR_H
#define INETKIT_CORE_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "core/loop.h"
#include "net/endpoint.h"

#define CONNECTOR_MAX_ADDRS 16

struct connector;

/* fd >= 0: connected (non-blocking, close-on-exec; the callee owns it), ep
 * the address it reached. fd < 0: every address failed; err is the last
 * errno (ETIMEDOUT when one timed out), ep the last address tried, and
 * why says it in words ("connection refused", "timed out after 5000 ms"). */
typedef void (*connector_cb)(int fd, const struct endpoint *ep, int err, const char *why,
			     void *arg);

struct connector_opts {
	uint64_t timeout_ms;		/* per address; 0: 10 s */
	const struct endpoint *source;	/* bind here first, or NULL; port 0: any */
};

/* Start connecting to eps[0, n) (copied). Returns NULL only when out of
 * memory (e set). Addresses of a family other than the source's are
 * skipped. */
struct connector *connector_start(struct loop *l, const struct endpoint *eps, size_t n,
				  const struct connector_opts *o, connector_cb cb, void *arg,
				  ik_err *e);
/* Stop: the callback will not run; a socket being connected is closed. */
void connector_cancel(struct connector *c);

/* Bind fd to source before connecting (IP_BIND_ADDRESS_NO_PORT when the
 * port is 0, so that the kernel picks the port at connect time). */
int connector_bind_source(int fd, const struct endpoint *source, ik_err *e);

#endif
