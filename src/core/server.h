/* The server side of every connection-oriented protocol (FTP, the tcp
 * servers; SMTP, POP3 and IMAP next): one service's listeners in one
 * process, the registry of its sessions, the limits on them, the refusal
 * of a client over a limit, graceful stop and reload generations.
 *
 * RFC 2577 section 5 (limit connections per address against denial of
 * service); RFC 959 section 5.4, RFC 5321 section 3.8, RFC 1939 and
 * RFC 9051 each give the one-line reply a refused client gets (FTP's and
 * SMTP's 421, POP3's -ERR, IMAP's * BYE): the protocol words it, the core
 * sends it.
 *
 * A protocol gives a struct server_proto: how to make a session for an
 * accepted connection, how to end one gracefully or at once, and the text
 * of a refusal. The core does the rest:
 *
 *   accept    a connection on a listening socket is counted against the
 *             limits of the current generation, then handed to
 *             proto->accept, which makes its session and registers it
 *             (server_conn_add) before it returns;
 *   limits    max_total sessions at once and max_per_ip from one address
 *             (0: no limit). With a shared table (core/shmcount.h, made
 *             by the supervisor before it forks) they hold for all the
 *             worker processes together; without one, for this process.
 *             The sessions of every generation count;
 *   refusal   a client over a limit (or arriving while the server stops)
 *             gets the protocol's one line, then the connection is
 *             closed; one log line says why (proto->refusal);
 *   stop      server_stop: the listeners close, every session is asked to
 *             end (proto->stop_conn: a last reply, a half-close) and
 *             done() runs, from the loop, once the last one has gone;
 *   reload    server_reload: a new generation (the protocol's state made
 *             from the new settings) takes the listeners over; sessions
 *             already open stay in theirs and keep its settings; a retired
 *             generation is freed (proto->gen_free) with its last session;
 *   free      server_free closes what is left (proto->close_conn) and
 *             lets the loop run their deferred frees.
 *
 * A generation is an opaque pointer: FTP's holds its conf, offload pool
 * and rate buckets; tcp's is its conf. The core never looks inside. */
#ifndef INETKIT_CORE_SERVER_H
#define INETKIT_CORE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/error.h"
#include "core/listener.h"
#include "core/loop.h"
#include "lib/sbuf.h"

struct server;
struct server_gen;
struct shmcount;

/* One session as the registry holds it. The protocol embeds it in its
 * session object and passes it to server_conn_add and server_conn_remove;
 * the fields are the core's. */
struct server_conn {
	struct server_conn *prev, *next;
	struct server_gen *gen;
	void *arg;				/* the protocol's session */
	unsigned char key[16];			/* its address, as shmcount_key makes it */
	bool counted;				/* holds a count in the shared table */
	bool linked;
};

enum server_refusal {
	SERVER_REFUSE_STOPPING,		/* the server is stopping */
	SERVER_REFUSE_TOTAL,		/* max_total sessions already */
	SERVER_REFUSE_PER_IP,		/* max_per_ip from this address already */
	SERVER_REFUSE_TABLE_FULL,	/* more addresses than the shared table holds */
};

struct server_limits {
	uint64_t max_total;		/* sessions at once; 0: no limit */
	uint64_t max_per_ip;		/* from one address; 0: no limit */
};

struct server_proto {
	/* A connection accepted on socket i of the set, under generation
	 * gen (the current one); arg is server_opts.arg. fd is the callee's,
	 * non-blocking. Make the session and register it with
	 * server_conn_add before returning; one not registered gives its
	 * count back. */
	void (*accept)(void *arg, void *gen, int fd, const struct sockaddr *peer, socklen_t len,
		       size_t i);
	/* A client turned away: into reply the one line to send it, CRLF
	 * included ("" sends nothing: implicit TLS, or a protocol that just
	 * closes), into why the reason for the log line ("" logs nothing). */
	void (*refusal)(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			size_t replysz, char *why, size_t whysz);
	/* server_stop: end this session gracefully; it calls
	 * server_conn_remove when it is gone (now or later). */
	void (*stop_conn)(void *conn);
	/* End it now (grace over, server_free). */
	void (*close_conn)(void *conn, const char *reason);
	/* A generation nothing uses any more; may be NULL. */
	void (*gen_free)(void *gen);
};

struct server_opts {
	const struct server_proto *proto;
	void *arg;			/* passed to accept and refusal */
	/* The log line of a refusal: event refused_event, then log_fields
	 * (e.g. "proto=tcp ", may be ""), then peer=... reason=... */
	const char *refused_event;
	const char *log_fields;
	/* Counts shared by the workers (core/shmcount.h), or NULL: this
	 * process counts its own. Not owned. */
	struct shmcount *shared;
};

/* Accept on every SOCK_STREAM socket of set (which must outlive the
 * server), with generation gen and its limits. In a restarted worker the
 * shared table is first cleared of what its dead predecessor held.
 * Returns NULL with e set. */
struct server *server_new(struct loop *l, const struct listen_set *set,
			  const struct server_opts *o, void *gen, const struct server_limits *lim,
			  ik_err *e);
/* New settings: gen (with its limits) takes the listeners over from now
 * on; the current generation keeps its sessions and is freed with the
 * last. Refused (-1, e set, nothing changed) while stopping. */
int server_reload(struct server *srv, void *gen, const struct server_limits *lim, ik_err *e);
/* Graceful, see above; done may be NULL. Calling it again only replaces
 * done (and runs it if nothing is left). */
void server_stop(struct server *srv, void (*done)(void *arg), void *arg);
bool server_stopping(const struct server *srv);
/* Stop or start accepting for a while (a one-shot server holds its one
 * client). Connections wait in the kernel's queue meanwhile. */
void server_pause(struct server *srv);
void server_resume(struct server *srv);
/* proto->close_conn on every session. */
void server_close_all(struct server *srv, const char *reason);
/* Close what is left and free; the generations too. NULL is ignored. */
void server_free(struct server *srv);

/* ---- a session server's generations, made from its conf ----
 *
 * FTP, SMTP, POP3 and IMAP each make a generation from a conf the same
 * way: at start, and again at every reload, with the same loop, sockets,
 * runner context and bound conf (the one the sockets were opened from).
 * A struct server_kind says what differs; server_kind_start and
 * server_kind_reload (service_ops.reload: server_service_reload) do the
 * rest: the generation, its limits, the hand-over, and the log line
 * "listen_changed" when a reload names other sockets than those open. */

struct service_ctx;

/* What a generation is made with. */
struct server_genargs {
	struct loop *loop;
	const struct listen_set *set;
	const struct service_ctx *ctx;	/* the runner's; NULL: none (no accounts) */
	const void *bound;		/* the conf the sockets were bound from */
};

struct server_kind {
	const struct server_proto *proto;	/* its gen_free undoes gen_new */
	const char *refused_event;		/* "pop3_refused" */
	const char *restart;			/* without ctx->restart: "inetkit pop3d" */
	/* The generation for conf: what it needs made from it (pools,
	 * stores; a TLS context not yet made), and a kept as its sessions
	 * need it. NULL with e set. */
	void *(*gen_new)(void *conf, const struct server_genargs *a, ik_err *e);
	/* gen's struct server, for its sessions to register with. */
	void (*gen_core)(void *gen, struct server *core);
	struct server_limits (*limits)(const void *conf);
	/* Reload, before gen_new: into conf from running (the current
	 * generation's conf) what the open sockets fix (the index where each
	 * listen list starts) and the certificate made in memory
	 * (server_conf_tls_keep); -1 (e set) refuses what those sockets
	 * cannot serve. restart names what to restart. */
	int (*keep)(void *conf, const void *running, const struct server_genargs *a,
		    const char *restart, ik_err *e);
	/* Reload, after: listen_log_changed when conf's listen lists are not
	 * those of bound. */
	void (*listen_check)(const void *bound, const void *conf, const char *restart);
};

/* server_new with k's first generation, made from conf (which the sockets
 * of set were bound from). NULL with e set. */
struct server *server_kind_start(const struct server_kind *k, void *conf, struct loop *l,
				 const struct listen_set *set, const struct service_ctx *ctx,
				 ik_err *e);
/* A new generation from conf (see struct server_kind); -1 with e set and
 * nothing changed. */
int server_kind_reload(struct server *srv, void *conf, ik_err *e);

/* service_ops.stop, .reload (a server started with server_kind_start)
 * and .free_running (core/service.h) of a service whose running object
 * is a struct server. */
void server_service_stop(void *running, void (*done)(void *arg), void *arg);
int server_service_reload(void *running, void *new_conf, ik_err *e);
void server_service_free(void *running);

/* What every generation struct of a server_kind holds, under these
 * names: its conf, loop, sockets, runner context, the accounts from it
 * and the bound conf. In gen_new: SERVER_GEN_SET(srv, c, a). */
#define SERVER_GEN_SET(g, c, a)                                                         \
	do {                                                                            \
		(g)->conf = (c);                                                        \
		(g)->loop = (a)->loop;                                                  \
		(g)->set = (a)->set;                                                    \
		(g)->ctx = (a)->ctx;                                                    \
		(g)->auth = (a)->ctx != NULL ? (a)->ctx->auth : NULL;                   \
		(g)->bound = (a)->bound;                                                \
	} while (0)

/* The current generation, and whether gen is one still in use. */
void *server_gen(const struct server *srv);
bool server_uses_gen(const struct server *srv, const void *gen);
/* Sessions open, of every generation; clients refused so far. */
size_t server_sessions(const struct server *srv);
uint64_t server_refused(const struct server *srv);

/* ---- the registry: used by the protocol's sessions ---- */

/* Register conn (arg: the protocol's session) in the current generation;
 * called from proto->accept, it takes the count of the connection being
 * accepted. */
void server_conn_add(struct server *srv, struct server_conn *conn, void *arg);
/* The session is gone (its last act): its count is given back, and its
 * generation freed if it was the last of a retired one. */
void server_conn_remove(struct server_conn *conn);
/* The generation conn was accepted under. */
void *server_conn_gen(const struct server_conn *conn);
/* Every session of every generation, newest first:
 *   for (struct server_conn *c = server_first(srv); c; c = server_next(c)) */
struct server_conn *server_first(const struct server *srv);
struct server_conn *server_next(const struct server_conn *conn);

/* ---- banner lines (service_ops.describe) ---- */

/* An endpoint of a listen set as a banner names it: the bound address as
 * text, the host as a command line takes it and as a URL takes it (an
 * IPv6 address in brackets), and the port. */
struct server_endpoint {
	size_t index;			/* in the set */
	int socktype;
	const char *text;		/* "127.0.0.1:2121", "[::1]:2121", "unix:/path" */
	char host[ENDPOINT_TEXT_MAX];	/* "::1" */
	char url_host[ENDPOINT_TEXT_MAX + 2];	/* "[::1]" */
	unsigned port;
};
/* The socket at *i into ep; false past the end.
 *   for (size_t i = 0; server_endpoint_next(set, &i, &ep); i++) */
bool server_endpoint_next(const struct listen_set *set, size_t *i, struct server_endpoint *ep);
/* line(conf, ep, out) for every socket of set: a service's banner lines. */
void server_describe(const struct listen_set *set, void *conf,
		     void (*line)(void *conf, const struct server_endpoint *ep, struct sbuf *out),
		     struct sbuf *out);

#endif
