/* The relay: the queue runner of the [smtp] service, delivering what the
 * outbound queue (smtp_queue.h) holds. RFC 5321 sections 4.5.4 (retry
 * strategy), 4.5.5 (no report for a null reverse path), 5 (MX routing,
 * via smtp_route.h), RFC 7505 (null MX), RFC 3461/3464 (DSN reports, via
 * smtp_dsn.h).
 *
 * One runner per service, whatever the number of workers: every worker
 * starts one, and each tries, on its tick, a non-blocking flock on
 * STATE_DIR/queue/.relay.lock; the one that holds it runs, the others stay
 * idle and take over within a tick if that worker dies (the kernel drops
 * the lock with the process).
 *
 * A tick (every 500 ms) rescans the queue when its directory changed (any
 * add, update or delete renames or removes a file there), when the
 * earliest retry time passed, or when STATE_DIR/queue/.wake exists (the
 * control file `inetkit queue flush|release` creates after setting the
 * entries' next attempt to now; the runner removes it). No signal: the
 * command needs no pid and no privilege over the server's processes.
 *
 * Crash safety: an entry's envelope is rewritten (without the recipients
 * that are done) only after the remote's final reply, and a report is
 * queued (durably) before the entry that caused it is rewritten or
 * removed; a kill -9 in between means a recipient is tried again (the
 * duplicate RFC 5321 6.1 allows) or a report is sent twice, never a
 * message lost. The removals of the entries whose deliveries ended
 * together share one fsync of the queue directory, made before the next
 * batch starts.
 *
 * Connections: a dialogue that ends cleanly leaves its connection open
 * for the next message to the same route (RSET first), for 2 seconds at
 * most; see smtp_relay.c. */
#ifndef INETKIT_SMTP_SMTP_RELAY_H
#define INETKIT_SMTP_SMTP_RELAY_H

#include "lib/error.h"

struct smtp_server;
struct smtp_relay;

struct smtp_relay *smtp_relay_start(struct smtp_server *srv, ik_err *e);
/* Stop: deliveries under way are dropped (their entries stay as they were
 * and are tried again); the lock is released. */
void smtp_relay_stop(struct smtp_relay *r);

/* STATE_DIR/queue/.wake: ask the runner to scan now. */
int smtp_relay_wake_file(const char *state_dir, ik_err *e);

#endif
