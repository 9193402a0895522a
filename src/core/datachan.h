/* Data channels: the second connection of a protocol that moves its data
 * apart from its commands (FTP: RFC 959 sections 3.2 and 5.2), made by
 * the core for one control session, so that the protocol never opens,
 * accepts or connects a socket itself.
 *
 *   passive  (PASV, EPSV; RFC 2428 section 3) a port from a range on the
 *            control connection's local address; a connection from any
 *            host but the control connection's peer is closed and logged
 *            (RFC 2577 section 5, "port stealing"). Nothing connected by
 *            the deadline: DATACHAN_FAILED with ETIMEDOUT.
 *   active   (PORT, EPRT; RFC 2428 section 2) a connection to an address
 *            the protocol has checked, from the control connection's
 *            local address (the client sees the same host), through
 *            core/connector.
 *
 * The protocol takes a connection as a core session (raw mode, optionally
 * TLS as the server side) with datachan_take, moves its data with the
 * session API (session_send_file uses sendfile(2)) and ends it with
 * datachan_end.
 *
 * TLS (RFC 4217 section 10.2; vsftpd's require_ssl_reuse): a server can
 * ask that a data connection resume the control connection's TLS session,
 * proof that both come from the same client. RFC 5077 / RFC 8446 section
 * 4.6.1: sessions travel as tickets, so each ticket the control connection
 * issues carries a random token of its data channel (OpenSSL's ticket
 * application data), and a data connection counts as resuming only a
 * ticket with that same token. A session resumed by ID from the server's
 * cache (TLS 1.2 without tickets) is the object the control connection
 * made, marked when its handshake completed. */
#ifndef INETKIT_CORE_DATACHAN_H
#define INETKIT_CORE_DATACHAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "lib/error.h"
#include "core/session.h"

struct datachan;

enum datachan_event {
	DATACHAN_READY,		/* a connection waits: datachan_take it */
	DATACHAN_FAILED,	/* none came: err is ETIMEDOUT or the connect's errno */
};

/* Called from the loop, never inside a datachan_* call. */
typedef void (*datachan_cb)(struct datachan *dc, enum datachan_event ev, int err, void *arg);

/* A data channel for control; proto names it in log lines
 * ("ftp" logs ftp_data_refused). NULL only when out of memory. */
struct datachan *datachan_new(struct session *control, const char *proto, datachan_cb cb,
			      void *arg, ik_err *e);
/* Before the control session is freed. */
void datachan_free(struct datachan *dc);
/* Close the passive port, a connection not taken, a connect under way. */
void datachan_reset(struct datachan *dc);

/* Passive: listen on a port of [port_min, port_max] (0, 0: any port the
 * kernel gives), tried from a random start. A port in TIME_WAIT is reused
 * (SO_REUSEADDR), or a small range would run dry. The deadline timeout_ms
 * starts now and covers the connection until it is taken; a connection
 * nobody took by then is closed without an event. 0 and *port, or -1 with
 * errno (EADDRINUSE: every port of the range is busy) and e. */
int datachan_listen(struct datachan *dc, uint16_t port_min, uint16_t port_max,
		    uint64_t timeout_ms, uint16_t *port, ik_err *e);
/* Passive: the transfer wants the connection now; the deadline starts
 * again (the protocol may have waited long since the port opened). */
void datachan_restart(struct datachan *dc);
/* Active: connect to `to`; READY or FAILED follows. 0, or -1 with e. */
int datachan_connect(struct datachan *dc, const struct sockaddr *to, socklen_t len,
		     uint64_t timeout_ms, ik_err *e);
bool datachan_listening(const struct datachan *dc);
bool datachan_ready(const struct datachan *dc);

struct datachan_conn_opts {
	SSL_CTX *tls;			/* TLS, server side; NULL: plain */
	int send_buffer, recv_buffer;	/* SO_SNDBUF / SO_RCVBUF; 0: the kernel's */
	struct session_opts session;	/* mode is forced to raw */
};

/* The waiting connection as a session (it owns the socket). NULL with e
 * when none waits or the session cannot be made (the socket is closed). */
struct session *datachan_take(struct datachan *dc, const struct datachan_conn_opts *o,
			      session_io_fn io, void *arg, ik_err *e);
/* The end of a data session: the protocol gets no more events; with TLS
 * established, close_notify; the peer sees the end (FIN) now; the session
 * is freed from the loop. */
void datachan_end(struct session *data);

/* ---- TLS session resumption ---- */

/* Once per server SSL_CTX shared by control and data connections. */
int datachan_tls_setup(SSL_CTX *ctx, ik_err *e);
/* The control connection speaks TLS (or just finished its handshake):
 * its tickets carry this channel's token from now on. */
void datachan_tls_control(struct datachan *dc);
/* The control connection stops vouching (it is going away). */
void datachan_tls_release(struct datachan *dc);

enum datachan_resume {
	DATACHAN_RESUMED,		/* the control connection's own session */
	DATACHAN_NO_CONTROL_TLS,	/* the control connection has no TLS session */
	DATACHAN_NOT_RESUMED,		/* a full handshake */
	DATACHAN_OTHER_SESSION,		/* another control connection's session */
};

/* After data's handshake (SESSION_EV_TLS_READY). */
enum datachan_resume datachan_tls_resumed(const struct datachan *dc, struct session *data);

#endif
