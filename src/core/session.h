/* The server line-session core: one connection over a libevent bufferevent,
 * shared by every server (tcp modes now; FTP, SMTP, POP3, IMAP later).
 *
 * Follows RFC 5321 section 2.3.8 / 4.5.3.1 (lines end in CRLF, a line has a
 * maximum length and an over-long line is an error, not a bigger buffer),
 * RFC 3207 / RFC 2595 / RFC 4217 section 6 (after STARTTLS, STLS or
 * AUTH TLS, plaintext the client sent before the handshake is discarded),
 * RFC 8446 section 6.1 (close_notify before the TCP FIN) and RFC 793 /
 * RFC 9293 half-close.
 *
 * A protocol gives ONE I/O entry point; everything a session does starts
 * there, switching on the event type (a line in, bytes in, output drained,
 * end of file, timeout, closed). The core owns the input modes, limits,
 * timeouts, back-pressure, TLS, the end-of-file policy and freeing:
 *
 *   line    complete lines only; the limit is enforced before the line is
 *           complete (an over-long partial line is reported once, counted,
 *           and the rest of it discarded up to its end); a line holding a
 *           NUL byte is rejected; LF or CRLF endings, or strict CRLF.
 *   raw     bytes as they come (echo, exec, file transfer); the protocol
 *           drains session_input() itself; unread input stops reading at
 *           in_max.
 *   paused  (session_pause) reading stopped while offloaded work runs;
 *           buffered lines wait and are delivered on session_resume.
 *
 * End-of-file policy (the same for every protocol and over TLS): when the
 * peer shuts its write side the protocol gets SESSION_EV_EOF; then, unless
 * it called session_keep_writing(), the core finishes sending what is
 * queued, sends close_notify (TLS), shuts the write side (FIN), and since
 * both directions are then done, closes. A protocol that is done first
 * calls session_shutdown_write(): queued output is sent, then FIN; the
 * session closes when the peer's EOF arrives (or at the idle timeout).
 *
 * Back-pressure: when a session's output is over out_high the core stops
 * reading from that peer until the output falls under out_high / 2
 * (SESSION_EV_DRAINED). A peer whose queued output makes no progress for
 * write_ms is dropped with a log line ("client not reading"); writing past
 * out_max drops it at once ("slow reader").
 *
 * Freeing: session_close() may be called from anywhere, including the
 * session's own callback; the session is freed after the callback returns
 * (loop_defer), after the protocol got SESSION_EV_CLOSED. Writes to a
 * closing session are ignored. */
#ifndef INETKIT_CORE_SESSION_H
#define INETKIT_CORE_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <openssl/ssl.h>

#include "core/error.h"
#include "core/loop.h"

struct ev_token_bucket_cfg;

/* ---- the line splitter (pure; fuzzed by tests/fuzz/fuzz_session.c) ---- */

enum session_eol {
	SESSION_EOL_LF,		/* a line ends at LF; a CR before it is dropped */
	SESSION_EOL_CRLF,	/* only CRLF ends a line; a bare LF is an error */
};

enum session_line_status {
	SESSION_LINE_MORE,	/* no complete line yet (consumed: bytes to drop) */
	SESSION_LINE_OK,	/* buf[0, *linelen) is a line */
	SESSION_LINE_TOO_LONG,	/* over max: reported once, the rest is skipped */
	SESSION_LINE_NUL,	/* a complete line holding a NUL byte: dropped */
	SESSION_LINE_BARE_LF,	/* strict CRLF, and the line ended in a bare LF */
};

struct session_linescan {
	size_t max;		/* longest line, terminator not counted (>= 1) */
	enum session_eol eol;
	bool skipping;		/* inside an over-long line, dropping to its end */
};

/* Look at the buffered input buf[0, n) for the next line. Always sets
 * *consumed to the bytes to drop from the front of the input (the line and
 * its terminator, or skipped bytes); *linelen is set for SESSION_LINE_OK.
 * Only the first max + 2 bytes are ever examined, so a caller can pass a
 * window of that size. Call again while it returns anything but MORE, or
 * MORE with *consumed > 0. */
enum session_line_status session_line_scan(struct session_linescan *ls, const char *buf,
					   size_t n, size_t *linelen, size_t *consumed);
const char *session_line_status_text(enum session_line_status st);

/* ---- sessions ---- */

struct session;

enum session_mode { SESSION_MODE_LINE, SESSION_MODE_RAW };

enum session_ev_type {
	SESSION_EV_LINE,	/* ev->line, ev->len: one line, terminator removed */
	SESSION_EV_LINE_ERROR,	/* ev->error: a line was refused and discarded */
	SESSION_EV_DATA,	/* raw mode: bytes wait in session_input() */
	SESSION_EV_DRAINED,	/* output fell under out_high / 2 after being over, or
				 * to the mark asked with session_notify_drained */
	SESSION_EV_EOF,		/* the peer shut its write side */
	SESSION_EV_TLS_READY,	/* the TLS handshake completed */
	SESSION_EV_TIMEOUT,	/* idle: a last reply may be written, then it closes */
	SESSION_EV_CLOSED,	/* last event, ev->reason says why; free your state */
};

struct session_ev {
	enum session_ev_type type;
	char *line;		/* LINE: NUL-terminated, writable, valid during the call */
	size_t len;
	enum session_line_status error;	/* LINE_ERROR */
	const char *reason;	/* TIMEOUT, CLOSED */
	/* CLOSED: the errno of the read or write that failed (0: none), and
	 * whether the idle timeout or a stalled write (write_ms) ended it. */
	int err;
	bool timed_out;
};

typedef void (*session_io_fn)(struct session *s, const struct session_ev *ev, void *arg);

struct session_opts {
	const char *proto;	/* names the protocol in log lines, e.g. "tcp-echo" */
	enum session_mode mode;
	size_t max_line;	/* line mode limit; default 1024 */
	enum session_eol eol;
	size_t out_high;	/* back-pressure mark; default 256 KiB */
	size_t out_max;		/* hard output limit; 0 = out_high * 4 */
	size_t in_max;		/* raw mode: stop reading with this much unread; default 256 KiB */
	uint64_t idle_ms;	/* no traffic either way for this long: closed; 0 = never */
	uint64_t write_ms;	/* queued output stalled this long: dropped; 0 = idle_ms */
	bool log_close;		/* one log line per session when it ends */
	/* Urgent data (TCP MSG_OOB) is read inline, as ordinary bytes: FTP's
	 * ABOR comes that way (RFC 959 4.1.3) and must stay one line. */
	bool oob_inline;
	/* Reads and writes paced by this token bucket (libevent's rate
	 * limit; not owned, must outlive the session); NULL: no limit. */
	struct ev_token_bucket_cfg *rate;
};

#define SESSION_DEFAULT_MAX_LINE 1024
#define SESSION_DEFAULT_OUT_HIGH (256 * 1024)
#define SESSION_DEFAULT_IN_MAX (256 * 1024)

/* Take over the connected socket fd (also on failure: it is then closed).
 * With tls set, the session speaks TLS from the first byte (implicit TLS)
 * as the server side. opts is copied. */
struct session *session_new(struct loop *l, int fd, const struct sockaddr *peer,
			    socklen_t peerlen, SSL_CTX *tls, const struct session_opts *opts,
			    session_io_fn io, void *arg, ik_err *e);

/* A connection we made (core/connector) rather than accepted: as
 * session_new, and with tls set (tls_client_ssl: the name to check), the
 * session is the TLS client; the handshake starts at once and what is
 * written before it ends waits. SESSION_EV_TLS_READY follows it; a
 * certificate our check refused closes the session with the reason in
 * words ("tls: certificate verify failed: ..."). tls is owned from now
 * on, also on failure. */
struct session *session_new_connected(struct loop *l, int fd, const struct sockaddr *peer,
				      socklen_t peerlen, SSL *tls, const struct session_opts *opts,
				      session_io_fn io, void *arg, ik_err *e);

void session_set_mode(struct session *s, enum session_mode mode);
enum session_mode session_mode(const struct session *s);
/* Reflect mode (RFC 862 echo done by the core): every byte read is sent
 * back; the protocol gets no SESSION_EV_DATA, only EOF, TIMEOUT and
 * CLOSED. A plain socket that streams moves the bytes with splice(2)
 * through a pipe made for it, never through user space. The protocol must
 * not write to a reflecting session. */
void session_reflect(struct session *s);
bool session_splicing(const struct session *s);
/* Link two sessions (a relay, `tcp relay`): what a reads is sent to b's
 * peer and what b reads to a's, by the core, as session_reflect does for
 * one: splice(2) between two plain sockets once a stream flows, buffered
 * copies when either side is TLS. Input already buffered is sent first.
 * Back-pressure: a session stops reading while the other's output (or
 * its own pipe) is full. Half-close: a peer's end of file reaches the
 * protocol as SESSION_EV_EOF, then (once its bytes are out) the other
 * session shuts its write side (FIN); each session closes when both its
 * directions have ended. When one closes before that, the other closes
 * too ("other side closed: REASON"), unless it only has left to send
 * what it holds. The protocol sees no SESSION_EV_DATA and must not write
 * to linked sessions; an EOF delivered before the link (the protocol
 * called session_keep_writing) is passed on. */
void session_link(struct session *a, struct session *b);
bool session_linked(const struct session *s);
/* Stop reading (offloaded work is running) / read again; buffered input is
 * delivered on resume, from the loop, not inside the resume call. */
void session_pause(struct session *s);
void session_resume(struct session *s);
/* Raw mode: deliver SESSION_EV_DATA again for input the protocol left in
 * session_input() (it could not take it before). Runs from the loop. */
void session_kick(struct session *s);

/* Output. Writes are ignored once the session is closing; going over
 * out_max closes the session ("slow reader") and returns -1. Outside the
 * session's own callback they are sent at once; inside, when it returns. */
int session_write(struct session *s, const void *data, size_t len);
int session_printf(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Queue len bytes of the file fd from offset (sendfile where possible);
 * the session owns fd from now on, also on failure. */
int session_send_file(struct session *s, int fd, off_t offset, off_t len);
/* Deliver one SESSION_EV_DRAINED when the output holds low bytes or fewer
 * (0: everything handed to the kernel), from the loop; for a producer
 * that refills (a file, a listing) or must know its last byte went out.
 * One-shot: ask again for the next time. low must not be over
 * out_high / 2. */
void session_notify_drained(struct session *s, size_t low);
/* After adding to session_output() directly outside the session's own
 * callback: send now and apply the output limits. */
void session_flush(struct session *s);

/* The end-of-file policy, see the top of this file. */
void session_shutdown_write(struct session *s);
/* In the SESSION_EV_EOF callback: do not shut our side yet (e.g. an exec
 * child still writes); call session_shutdown_write() when done. */
void session_keep_writing(struct session *s);

/* Close now: queued output is given one non-blocking try, then dropped.
 * reason is copied into the close log line. Safe from any callback. */
void session_close(struct session *s, const char *reason);
bool session_closing(const struct session *s);

/* Upgrade to TLS in place (server side) for STARTTLS / STLS / AUTH TLS.
 * Call after queueing the plaintext "go ahead" reply: it is sent before
 * the handshake. Input already buffered is DISCARDED (RFC 3207 section
 * 4.2), counted and logged. SESSION_EV_TLS_READY follows the handshake. */
int session_starttls(struct session *s, SSL_CTX *ctx, ik_err *e);
bool session_is_tls(const struct session *s);
SSL *session_ssl(struct session *s);

struct evbuffer *session_input(struct session *s);
struct evbuffer *session_output(struct session *s);
struct loop *session_loop(struct session *s);
const char *session_peer(const struct session *s);	/* "127.0.0.1:5555" */
const struct sockaddr *session_peer_addr(const struct session *s, socklen_t *len);
/* The address of our end (what the peer connected to): 0, or -1 with errno. */
int session_local_addr(const struct session *s, struct sockaddr_storage *ss, socklen_t *len);
int session_fd(const struct session *s);
uint64_t session_id(const struct session *s);
uint64_t session_bytes_in(const struct session *s);
uint64_t session_bytes_out(const struct session *s);
/* Lines refused so far: too long, NUL byte, bare LF. */
uint64_t session_lines_refused(const struct session *s);
void session_set_arg(struct session *s, session_io_fn io, void *arg);

/* ---- command tables (core/session_cmd.c) ---- */

/* Verbs are data: each protocol is one table. The core finds the verb
 * (case-insensitive), checks the state and the flags, then calls the
 * handler; handlers never re-check what the table says. */
enum {
	SESSION_CMD_SECRET = 1 << 0,	/* arguments never logged (PASS, AUTH) */
	SESSION_CMD_NEEDS_TLS = 1 << 1,
	SESSION_CMD_NEEDS_LOGIN = 1 << 2,
};

struct session_cmd {
	const char *verb;
	unsigned states;	/* bit mask of the session states it is allowed in */
	unsigned flags;
	/* args: what follows the verb and its spaces ("" when none); writable. */
	void (*handler)(struct session *s, void *proto, char *args);
};

enum session_cmd_result {
	SESSION_CMD_DONE,		/* the handler ran */
	SESSION_CMD_EMPTY,		/* blank line */
	SESSION_CMD_UNKNOWN,		/* no such verb */
	SESSION_CMD_BAD_STATE,		/* not allowed in this state */
	SESSION_CMD_TLS_REQUIRED,	/* NEEDS_TLS and the session is plaintext */
	SESSION_CMD_LOGIN_REQUIRED,	/* NEEDS_LOGIN and nobody logged in */
};

/* Find line's verb in table[0, n) and run it if the session's state and
 * flags allow; otherwise return why not (the protocol words the reply).
 * *found (may be NULL) is the entry, or NULL when the verb is unknown.
 * The line is modified in place. Each command is logged at debug level,
 * arguments masked for SECRET verbs. */
enum session_cmd_result session_cmd_dispatch(struct session *s, const struct session_cmd *table,
					     size_t n, char *line, void *proto,
					     const struct session_cmd **found);
const struct session_cmd *session_cmd_find(const struct session_cmd *table, size_t n,
					   const char *verb, size_t verblen);

/* The protocol state (one bit of a session_cmd.states mask). The only way
 * to change it; every transition is logged at debug level. */
void session_set_state(struct session *s, unsigned state, const char *name);
unsigned session_state(const struct session *s);
void session_set_login(struct session *s, bool logged_in);
bool session_logged_in(const struct session *s);

#endif
