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
 *   data    (session_read_data) an SMTP DATA body, RFC 5321 4.1.1.4 and
 *           4.5.2: bytes up to the strict CRLF "." CRLF end (the CRLF
 *           before the dot ends the body's last line and is part of it; the
 *           DATA command's own CRLF counts as the one before the first
 *           line). Only CRLF ends a line: "\n.\n", "\r.\n" and "\r\n.\n"
 *           (the SMTP smuggling markers) are body bytes, not an end. A
 *           line's leading dot is removed (dot-unstuffing). The body comes
 *           as SESSION_EV_BODY chunks of unstuffed bytes (stream them to a
 *           file), then one SESSION_EV_BODY_END whose ev->body gives the
 *           size and flags: bare CR, bare LF and NUL bytes are counted and
 *           reported, never repaired (RFC 5321 2.3.8: the protocol
 *           refuses). The byte limit holds while reading: past it nothing
 *           more is delivered, the rest is read and dropped up to the end
 *           marker, and the end says TOO_BIG. Then line mode again, by
 *           itself; what follows the end marker is read as lines. An end of
 *           file before the end marker is SESSION_EV_EOF, with no BODY_END.
 *   counted (session_read_counted) exactly n bytes: BDAT chunks (RFC
 *           3030), IMAP literals {n} and {n+} and APPEND (RFC 9051 4.3,
 *           RFC 7888). n is checked against the limit before anything is
 *           read (refused: still line mode, nothing consumed); the bytes
 *           come as SESSION_EV_BODY chunks, then SESSION_EV_BODY_END (NUL
 *           bytes counted, for literals that may not hold them), then line
 *           mode again. session_discard_counted reads n bytes and drops
 *           them: a refused BDAT chunk or {n+} literal the client sends
 *           anyway must not be read as commands.
 *   sasl    (session_set_mode) each line is a SASL response (RFC 4954
 *           section 4, RFC 5034, RFC 9051 section 6.2.2): delivered as
 *           SESSION_EV_SASL_LINE, never as a command line, never logged at
 *           any level; the core's copies of it are wiped after the
 *           callback. The line "*" (the client cancels) sets ev->cancel.
 *           The limits of line mode apply; the protocol sets line mode
 *           again when the exchange is over.
 *   paused  (session_pause) reading stopped while offloaded work runs;
 *           buffered lines wait and are delivered on session_resume.
 *
 * In data and counted modes ev->data points into the session's input
 * during the callback only; the protocol must not touch session_input()
 * then. A mode change inside a callback applies to the very next byte.
 * The line limit and the idle timeout can change at any time
 * (session_set_max_line, session_set_idle_timeout: a longer AUTH line, a
 * 30-minute IMAP IDLE).
 *
 * Last reply, then close (every protocol's QUIT, timeout, "too many
 * errors", server stopping): session_reply_close() queues the reply,
 * delivers no more input (what still arrives is read and dropped, so that
 * closing never resets the connection under the reply), sends it, shuts
 * the write side, and closes when the peer closes too, or after close_ms
 * (default 5 s) at the latest. Its reason is the close log line's.
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

#include "core/dotstuff.h"
#include "lib/error.h"
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

/* ---- the DATA body scanner: dotstuff_scan, strict, with a byte limit (pure;
 * fuzzed by tests/fuzz/fuzz_session_data.c) ---- */

/* What a body held (data and counted modes), reported at its end. */
enum {
	SESSION_BODY_TOO_BIG = 1 << 0,	/* over the limit: the rest was read and dropped */
	SESSION_BODY_BARE_CR = 1 << 1,	/* a CR not followed by LF (data mode) */
	SESSION_BODY_BARE_LF = 1 << 2,	/* a LF without a CR before it (data mode) */
	SESSION_BODY_NUL = 1 << 3,	/* a NUL byte */
};

struct session_body {
	uint64_t size;		/* bytes (unstuffed), delivered or dropped */
	unsigned flags;		/* SESSION_BODY_* */
	uint64_t bare_cr, bare_lf, nul;	/* how many of each */
};

/* Zeroed, a scanner at the start of a body; max may be set. */
struct session_datascan {
	uint64_t max;		/* most bytes delivered; 0 = no limit */
	struct dot_unstuffer dot;	/* strict: only CRLF ends a line */
	struct session_body body;
};

enum session_data_status {
	SESSION_DATA_MORE,	/* call again with the rest, or with more input */
	SESSION_DATA_END,	/* the end marker was consumed: the body is complete */
};

/* Look at the buffered body bytes buf[0, n). Sets *consumed to the bytes
 * to drop from the front of the input, and *chunk to how many of them,
 * from buf[0], are body bytes to deliver (never past the limit). Bytes it
 * cannot decide yet (a CR at the end, a line's leading dot) are left
 * unconsumed: at most 2, and with n >= 3 it always consumes something. */
enum session_data_status session_data_scan(struct session_datascan *ds, const char *buf,
					   size_t n, size_t *consumed, size_t *chunk);

/* ---- sessions ---- */

struct session;

/* DATA and COUNTED are entered with session_read_data / session_read_counted. */
enum session_mode {
	SESSION_MODE_LINE,
	SESSION_MODE_RAW,
	SESSION_MODE_DATA,
	SESSION_MODE_COUNTED,
	SESSION_MODE_SASL,
};

enum session_ev_type {
	SESSION_EV_LINE,	/* ev->line, ev->len: one line, terminator removed */
	SESSION_EV_LINE_ERROR,	/* ev->error: a line was refused and discarded */
	SESSION_EV_DATA,	/* raw mode: bytes wait in session_input() */
	SESSION_EV_BODY,	/* data, counted: ev->data, ev->len, a chunk of the body */
	SESSION_EV_BODY_END,	/* data, counted: ev->body; line mode again */
	SESSION_EV_SASL_LINE,	/* sasl: ev->line, ev->len, ev->cancel ("*") */
	SESSION_EV_DRAINED,	/* output fell under out_high / 2 after being over, or
				 * to the mark asked with session_notify_drained */
	SESSION_EV_EOF,		/* the peer shut its write side */
	SESSION_EV_TLS_READY,	/* the TLS handshake completed */
	SESSION_EV_TIMEOUT,	/* idle: a last reply may be written, then it closes */
	SESSION_EV_CLOSED,	/* last event, ev->reason says why; free your state */
};

struct session_ev {
	enum session_ev_type type;
	char *line;		/* LINE, SASL_LINE: NUL-terminated, writable, valid during the call */
	const char *data;	/* BODY: valid during the call */
	size_t len;
	bool cancel;		/* SASL_LINE: the line is "*" */
	const struct session_body *body;	/* BODY_END */
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
	uint64_t close_ms;	/* session_reply_close: longest wait for the peer; default 5 s */
	bool log_close;		/* one log line per session when it ends */
	/* Urgent data (TCP MSG_OOB) is read inline, as ordinary bytes: FTP's
	 * ABOR comes that way (RFC 959 4.1.3) and must stay one line. */
	bool oob_inline;
	/* RFC 2920 (SMTP PIPELINING) section 3.2 item 6 and 4: the replies
	 * to a group of pipelined commands go out together. The core always
	 * sends what a callback wrote when it returns, after every complete
	 * line waiting was handled; with this set, it also holds replies
	 * while a line-mode session is paused (offloaded work for one
	 * command: an RCPT lookup) with more pipelined input waiting, and
	 * while the resume's re-read is due: the replies before, during and
	 * after the pause leave in one write. Output over out_high is sent
	 * anyway. Plain sockets only; a TLS session's records go out as the
	 * TLS layer writes them. */
	bool pipelining;
	/* Reads and writes paced by this token bucket (libevent's rate
	 * limit; not owned, must outlive the session); NULL: no limit. */
	struct ev_token_bucket_cfg *rate;
};

#define SESSION_DEFAULT_MAX_LINE 1024
#define SESSION_DEFAULT_OUT_HIGH (256 * 1024)
#define SESSION_DEFAULT_IN_MAX (256 * 1024)
#define SESSION_DEFAULT_CLOSE_MS 5000

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

/* LINE, RAW or SASL; leaving DATA or COUNTED this way abandons the body
 * (no BODY_END). */
void session_set_mode(struct session *s, enum session_mode mode);
enum session_mode session_mode(const struct session *s);
/* Data mode, after the protocol queued its go-ahead (354): the body's
 * bytes up to CRLF "." CRLF, at most max of them delivered (0 = no limit). */
void session_read_data(struct session *s, uint64_t max);
/* Counted mode: exactly n bytes. n over max (0 = no limit) is refused at
 * once, before anything is read: -1, e says so, the mode is unchanged. */
int session_read_counted(struct session *s, uint64_t n, uint64_t max, ik_err *e);
/* Read n bytes and drop them; BODY_END (size n, TOO_BIG) when done. */
void session_discard_counted(struct session *s, uint64_t n);
/* Run-time limits: the longest line (0 = the default), and the idle
 * timeout (0 = never), counted from the last traffic either way; when
 * write_ms was not given it follows the idle timeout. */
void session_set_max_line(struct session *s, size_t max);
void session_set_idle_timeout(struct session *s, uint64_t ms);
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

/* Output. Writes are ignored once the session is closing or its last
 * reply is queued (session_reply_close); going over out_max closes the
 * session ("slow reader") and returns -1. Outside the session's own
 * callback they are sent at once; inside, when it returns. */
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

/* The protocol's last word, see the top of this file: queue data (may be
 * NULL), read no more input, send it, FIN, close when the peer closes or
 * after close_ms. Later writes are ignored. reason is copied into the
 * close log line. Called again, or on a closing session, it does nothing. */
void session_reply_close(struct session *s, const void *data, size_t len, const char *reason);

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

/* Verbs are data: each protocol is one table of struct session_cmd. The
 * core parses a line (optionally "tag SP verb args"), finds the verb
 * (one or two words, any case, the longest match), checks the entry's
 * flags, the state and the arguments in a fixed order, then calls the
 * handler; handlers never re-check what the table says. A line that fails
 * a check goes to the protocol's refuse hook with the reason, and the
 * protocol words the reply in its own format. Each command is logged at
 * debug level ("command" event), SECRET arguments as "***".
 *
 * The checks, in this order (the first that fails is the reason):
 *   EMPTY      blank line (or a tag alone)
 *   UNKNOWN    no entry for the verb
 *   NOT_IMPL   the entry is SESSION_CMD_NOT_IMPL
 *   LOGIN      NEEDS_LOGIN and nobody is logged in
 *   STATE      the session's state is not in the entry's states
 *   TLS        NEEDS_TLS on a plaintext session
 *   DENIED     the entry's pflags meet the call's deny mask (set by the
 *              protocol's before hook: FTP's EPSV ALL fences off PORT)
 *   ARGS       the arguments break the entry's rule
 *   PLAINTEXT  NEEDS_PLAINTEXT on a TLS session (after the syntax, as
 *              Postfix answers STARTTLS: a malformed command is a syntax
 *              error whatever the channel) */
enum {
	SESSION_CMD_SECRET = 1 << 0,	/* arguments never logged (PASS, AUTH) */
	SESSION_CMD_NEEDS_TLS = 1 << 1,	/* refused on a plaintext session */
	SESSION_CMD_NEEDS_LOGIN = 1 << 2,	/* refused before session_set_login(s, true) */
	SESSION_CMD_NEEDS_PLAINTEXT = 1 << 3,	/* refused once TLS runs (STARTTLS, AUTH TLS) */
	SESSION_CMD_BEFORE_LOGIN = 1 << 4,	/* allowed before login (see table_check) */
	SESSION_CMD_NOT_IMPL = 1 << 5,	/* known, not implemented: refused, no handler */
};

/* What may follow the verb. The argument starts after the verb and ONE
 * space; RAW and PATH take the rest verbatim (leading spaces included),
 * WORDS splits it on runs of spaces. */
enum session_arg_rule {
	SESSION_ARG_NONE,	/* nothing but spaces */
	SESSION_ARG_WORDS,	/* min..max words (at most SESSION_CMD_WORDS_MAX kept) */
	SESSION_ARG_RAW,	/* one string that may hold spaces; min 0 or 1, max 1 */
	SESSION_ARG_PATH,	/* as RAW, and the string names a path */
};
#define SESSION_CMD_WORDS_MAX 8

/* Why a line was not run (SESSION_REFUSE_NONE: it was). */
enum session_refusal {
	SESSION_REFUSE_NONE,
	SESSION_REFUSE_EMPTY,
	SESSION_REFUSE_UNKNOWN,
	SESSION_REFUSE_NOT_IMPL,
	SESSION_REFUSE_LOGIN,
	SESSION_REFUSE_STATE,
	SESSION_REFUSE_TLS,
	SESSION_REFUSE_DENIED,
	SESSION_REFUSE_ARGS,
	SESSION_REFUSE_PLAINTEXT,
	SESSION_REFUSE_HOOK,	/* the before hook took the line (returned only) */
};

struct session_call;
typedef void (*session_cmd_fn)(struct session_call *c);

struct session_cmd {
	const char *verb;	/* "RETR", or two words "UID FETCH" */
	unsigned states;	/* bit mask of the session states it is allowed in */
	unsigned flags;		/* SESSION_CMD_* */
	enum session_arg_rule args;
	unsigned char min, max;	/* WORDS: words; RAW, PATH: 0 or 1 .. 1 */
	const char *help;	/* usage, for HELP and a bad-arguments reply */
	session_cmd_fn handler;	/* NULL only with SESSION_CMD_NOT_IMPL */
	unsigned pflags;	/* the protocol's own bits (the core only ANDs them with deny) */
	const void *pdata;	/* the protocol's own data; never read by the core */
};

/* One command line being run: what the handler, the hooks and the refuse
 * hook see. Pointers point into the line given to session_cmd_run. */
struct session_call {
	struct session *s;
	void *proto;		/* what session_cmd_run was given */
	const struct session_cmd *cmd;	/* NULL: empty line or unknown verb */
	const char *tag;	/* tagged tables: the tag; else NULL */
	const char *verb;	/* the verb as sent (unknown: the first word); "" if none */
	char *arg;		/* after the verb and one space, verbatim; "" if none */
	size_t arglen;		/* as sent (a WORDS split does not change it) */
	char *argv[SESSION_CMD_WORDS_MAX];	/* WORDS, once checked: arg split in place */
	size_t argc;
	/* What the checks look at, filled from the session after the before
	 * hook ran (tests fill them by hand). */
	unsigned state;
	bool logged_in, tls;
	unsigned deny;		/* pflags refused for now (set by the before hook) */
};

/* A protocol's command set. */
struct session_cmds {
	const struct session_cmd *table;
	size_t n;
	bool tagged;		/* lines are "tag SP verb [SP args]" (IMAP) */
	unsigned prelogin;	/* states before login, for session_cmd_table_check */
	/* Required: word the refusal in the protocol's reply format. */
	void (*refuse)(struct session_call *c, enum session_refusal why);
	/* Optional, around every line that has a verb (known or not):
	 * before runs ahead of the checks (logging, rate limits, state a
	 * command resets, the deny mask); false means it took the line
	 * (replied or closed) and nothing else runs. after runs once the
	 * handler or the refuse hook is done, with the reason. */
	bool (*before)(struct session_call *c);
	void (*after)(struct session_call *c, enum session_refusal why);
};

/* Parse, log, check and run (or refuse) one line. line is modified. */
enum session_refusal session_cmd_run(struct session *s, const struct session_cmds *set,
				     char *line, void *proto);

/* The steps of session_cmd_run, pure, for tests and fuzzers: parse
 * (EMPTY, UNKNOWN or NONE; arg is not split yet), check (the fixed order
 * above, from what c holds), then split a WORDS argument into argv. */
enum session_refusal session_cmd_parse(const struct session_cmds *set, char *line,
				       struct session_call *c);
enum session_refusal session_cmd_check(const struct session_call *c);
void session_cmd_split(struct session_call *c);

/* The entry whose verb the text starts with (then a space or its end),
 * the longest if several; NULL if none. */
const struct session_cmd *session_cmd_lookup(const struct session_cmds *set, const char *text);
/* A table's consistency, for unit tests: verbs of one or two words,
 * unique; states set; argument bounds that fit the rule; a handler unless
 * NOT_IMPL; not both NEEDS_TLS and NEEDS_PLAINTEXT; and when set->prelogin
 * is given, every entry is exactly one of NEEDS_LOGIN (no pre-login
 * state) and BEFORE_LOGIN (a pre-login state). -1 with e naming the verb. */
int session_cmd_table_check(const struct session_cmds *set, ik_err *e);
const char *session_refusal_text(enum session_refusal why);

/* The protocol state (one bit of a session_cmd.states mask). The only way
 * to change it; every transition is logged at debug level. */
void session_set_state(struct session *s, unsigned state, const char *name);
unsigned session_state(const struct session *s);
void session_set_login(struct session *s, bool logged_in);
bool session_logged_in(const struct session *s);

#endif
