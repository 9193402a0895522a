/* The client command -> reply core ("pingpong") shared by the FTP, SMTP,
 * POP3 and IMAP clients.
 *
 * Protocols differ only in how the end of a reply is recognised and in
 * their state machine. The end rules are the core's, chosen per command
 * (enum client_expect): one line; numeric "NNN-" ... "NNN " (FTP and SMTP,
 * RFC 959 4.2, RFC 5321 4.2; core/reply_num.h); a status line then a
 * dot-terminated, dot-unstuffed body (POP3, RFC 1939 3; core/dotstuff.h);
 * tagged completion (IMAP, RFC 3501 2.2: the core makes the tags A0001,
 * A0002 ...); or the dialect's own hook, which may also ask for an n-byte
 * literal (IMAP {n}, RFC 3501 4.3). Bodies and literals can stream to a
 * sink (a callback or an fd, e.g. a Maildir tmp file) under a size limit
 * instead of being collected in memory. Everything else lives here, once:
 * connecting with a timeout to every address of a host in turn, sending
 * commands (refusing CR, LF and NUL inside them so that user input can
 * never smuggle a second command), a bounded line length, a bounded reply
 * size and a deadline, upgrading to TLS in place (AUTH TLS, STARTTLS,
 * STLS; RFC 4217, 3207, 2595) or starting with it (implicit TLS), and a
 * --trace of the dialogue in which secret commands (PASS, AUTH, LOGIN)
 * show as "****" and bodies only as their size.
 *
 * One engine, two ways to drive it. Reading a reply is a push parser over
 * the connection's input buffer ("complete", "need more bytes", "error"),
 * kept apart from how the bytes arrive. The driver here blocks, with poll()
 * timeouts: a command-line client (`inetkit ftp`, later `inetkit mail`)
 * talks to one server at a time and waits for each reply anyway, so an
 * event loop would only add callbacks. Parallel work (mirror --parallel N)
 * runs one client per thread; a struct client is never shared between
 * threads.
 *
 * Decision: the relay queue (SMTP outbound delivery) will drive this core
 * non-blocking on the event loop -- a second driver feeding the same
 * engine from a bufferevent (bufferevent_openssl for STARTTLS) -- and not
 * the blocking driver on offload threads (core/offload.h). Why:
 *  - hundreds of deliveries at once, each mostly waiting on a remote
 *    server (RFC 5321 4.5.3.2 grants 5 minutes per reply and 10 for the end
 *    of DATA): on the loop a waiting delivery costs a struct and a socket;
 *    on threads it holds a thread, and the offload pool (at most 64,
 *    shared with password hashing and SQLite) would be taken by stalled
 *    peers, starving logins;
 *  - OpenSSL handshakes run non-blocking and libevent already drives them
 *    for our servers; a handshake's CPU time is small beside its waits;
 *  - MX and address lookups come from c-ares on the same loop: the connect
 *    that follows belongs there, not a hop to a thread and back;
 *  - what does block in a delivery (fsync of the queue file, SQLite) is
 *    short and goes to offload, as it does everywhere else.
 * The blocking driver stays for the command-line clients. */
#ifndef INETKIT_CORE_CLIENT_H
#define INETKIT_CORE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "lib/error.h"
#include "lib/sbuf.h"

/* Defaults; each client may set its own in struct client_opts. */
#define CLIENT_LINE_MAX_DEFAULT (16 * 1024)	/* one reply line */
#define CLIENT_REPLY_MAX_DEFAULT (1024 * 1024)	/* a whole multi-line reply */
#define CLIENT_CONNECT_TIMEOUT_DEFAULT 30000	/* ms */
#define CLIENT_REPLY_TIMEOUT_DEFAULT 60000	/* ms */
#define CLIENT_HOST_MAX 256

/* ---- Transport: one TCP connection, optionally TLS, with timeouts. ----
 * Used for control connections (through struct client) and for data
 * connections (FTP) alike. The socket is non-blocking; every wait is a
 * poll() bounded by the timeout the caller gives. */
struct client_conn {
	int fd;				/* -1 when closed */
	SSL *ssl;			/* NULL while plain */
	int pipe[2];			/* for splice, made on first use */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct sockaddr_storage local;
	socklen_t locallen;
	char peer_text[80];		/* "127.0.0.1:21", for messages */
};

void client_conn_init(struct client_conn *cc);
/* Connect to every address of host:port in turn (family AF_UNSPEC, AF_INET
 * or AF_INET6), each attempt bounded by timeout_ms. */
int client_conn_connect(struct client_conn *cc, const char *host, uint16_t port, int family,
			uint64_t timeout_ms, ik_err *e);
int client_conn_connect_addr(struct client_conn *cc, const struct sockaddr *sa, socklen_t len,
			     uint64_t timeout_ms, ik_err *e);
/* Take over a connected socket (an accepted data connection). */
int client_conn_adopt(struct client_conn *cc, int fd, ik_err *e);
/* TLS client handshake on the connection. verify_host is the name (or
 * address literal) the certificate must match, also sent as SNI when it is
 * a name; NULL skips the name check (the context decides about the chain).
 * reuse, if not NULL, is offered for resumption (FTP data channels). */
int client_conn_tls(struct client_conn *cc, SSL_CTX *ctx, const char *verify_host,
		    SSL_SESSION *reuse, uint64_t timeout_ms, ik_err *e);
/* Up to n bytes; returns the count, 0 at end of stream, -1 on error or when
 * nothing arrived within timeout_ms (e says which). */
ssize_t client_conn_read(struct client_conn *cc, void *buf, size_t n, uint64_t timeout_ms,
			 ik_err *e);
/* All n bytes; each wait for the socket to drain is bounded by timeout_ms. */
int client_conn_write(struct client_conn *cc, const void *buf, size_t n, uint64_t timeout_ms,
		      ik_err *e);
/* Up to count bytes of a file from *off (sendfile on plain connections,
 * read + write under TLS); returns bytes sent, 0 at end of file, -1. */
ssize_t client_conn_sendfile(struct client_conn *cc, int filefd, off_t *off, size_t count,
			     uint64_t timeout_ms, ik_err *e);
/* Plain connections only: move up to max bytes from the socket into
 * outfd (a regular file) through a pipe, without copying them through
 * user space. Returns bytes moved, 0 at end of stream, -1. */
ssize_t client_conn_splice(struct client_conn *cc, int outfd, size_t max, uint64_t timeout_ms,
			   ik_err *e);
/* Send TLS close_notify if TLS is on (best effort, bounded), then close. */
void client_conn_close(struct client_conn *cc, uint64_t timeout_ms);
/* Just close (after an error: nothing more is sent). */
void client_conn_abort(struct client_conn *cc);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" when plain. */
const char *client_conn_tls_info(const struct client_conn *cc, char *buf, size_t bufsz);

/* A listening socket for an active-mode data connection, on the same
 * local address as the control connection, any port. */
int client_listen_like(const struct client_conn *control, int *lfd,
		       struct sockaddr_storage *bound, socklen_t *boundlen, ik_err *e);
/* Accept one connection on lfd within timeout_ms. Connections from any
 * host other than expect_host are refused and closed (a third party must
 * not be able to inject or steal data). Closes lfd. */
int client_accept_from(int lfd, const struct sockaddr *expect_host, uint64_t timeout_ms,
		       struct client_conn *cc, ik_err *e);

/* ---- The command -> reply dialogue. ---- */

/* How the reply to a command ends. */
enum client_expect {
	CLIENT_EXPECT_DEFAULT = 0,	/* the dialect's default_expect */
	/* One line (a POP3 +OK/-ERR, a greeting). The hook, if any, sees it
	 * and may ask for a literal, after which the line goes on. */
	CLIENT_EXPECT_LINE,
	/* "NNN text", or "NNN-text" ... "NNN text" (core/reply_num.h); sets
	 * r->code. The hook is not called. */
	CLIENT_EXPECT_NUMERIC,
	/* A status line, then -- unless the hook returns 1 for it (POP3
	 * -ERR) -- a body up to the line ".", dot-unstuffed, into the call's
	 * sink or r->body. Lines of the body do not go to the hook. */
	CLIENT_EXPECT_DOT,
	/* The command goes out as "A0001 VERB ARG" (the tag in r->tag); every
	 * line goes to the hook; the reply ends at the line starting with the
	 * tag and a space. A line starting with "+" (a continuation request)
	 * returns early with r->continuation set: send the rest (a literal,
	 * a SASL response), then read on with client_read_reply. */
	CLIENT_EXPECT_TAGGED,
	/* The hook alone decides where the reply ends. */
	CLIENT_EXPECT_HOOK,
};

/* A reply as collected so far. Lines are stored without CR LF, joined with
 * '\n', with control bytes shown as '?' so that a hostile server cannot
 * send escape sequences to the user's terminal. A dot-terminated body and
 * literals are bytes, kept apart in body (when no sink takes them). */
struct client_reply {
	int code;		/* the numeric rule's, or what the hook sets */
	int phase;		/* the hook's own progress through a reply */
	size_t nlines;
	struct sbuf text;
	struct sbuf body;	/* unstuffed body and literals, as received */
	uint64_t body_len;	/* body and literal bytes, in body or the sink */
	unsigned nliterals;
	bool continuation;	/* TAGGED: the server asked for more ("+") */
	bool segment;		/* for the hook: this line goes on from a literal */
	char tag[16];		/* TAGGED: the command's tag */
	/* the core's own */
	bool want_literal;
	uint64_t literal;
	bool num_multi;
};

void client_reply_init(struct client_reply *r);
void client_reply_free(struct client_reply *r);
const char *client_reply_text(const struct client_reply *r);
/* The last line (for an FTP reply: the one with the final code). */
const char *client_reply_last(const struct client_reply *r);
/* The body and literals collected in memory (NUL-terminated too). */
const char *client_reply_body(const struct client_reply *r, size_t *len);
/* From a reply_line hook: exactly n bytes follow the line just seen (IMAP
 * "{n}" at its end). They go to the call's sink or to r->body, after the
 * call's literal_max is checked (before any is read); then reading goes on
 * and the rest of the line reaches the hook with r->segment set. Ignored
 * for the tagged line and a continuation request. */
void client_reply_literal(struct client_reply *r, uint64_t n);

/* Where a body or literals go instead of memory: a callback, or an fd when
 * write is NULL (a Maildir tmp file). max bounds the bytes of one reply;
 * a literal that would pass it is refused before it is read. */
#define CLIENT_SINK_SIZE_UNKNOWN UINT64_MAX
struct client_sink {
	int (*write)(void *arg, const void *p, size_t n, ik_err *e);
	/* Optional: before the first and after the last byte of each body
	 * or literal; size is the literal's, or CLIENT_SINK_SIZE_UNKNOWN for
	 * a dot-terminated body. */
	int (*begin)(void *arg, uint64_t size, ik_err *e);
	int (*end)(void *arg, ik_err *e);
	void *arg;
	int fd;
	uint64_t max;
};

void client_sink_fd(struct client_sink *s, int fd, uint64_t max);

/* What one command expects, beyond the dialect's defaults. */
struct client_call {
	enum client_expect expect;
	bool secret;			/* never traced: "VERB ****" */
	struct client_sink *sink;	/* NULL: bodies and literals to r->body */
	uint64_t literal_max;		/* 0: the client's max_literal */
};

struct client;

/* What a protocol supplies. Every hook gets the per-connection context
 * given to client_new. */
struct client_dialect {
	const char *name;			/* "ftp", "smtp" ...: logs */
	const char *label;			/* "FTP", "SMTP" ...: messages */
	const char *const *state_names;		/* indexed by state, for logs */
	int nstates;
	enum client_expect default_expect;	/* DEFAULT here means HOOK */
	/* Called with reply lines (CR LF removed) as the expectation says.
	 * Returns 1 when the reply is complete, 0 when more lines belong to
	 * it, -1 with e set when the line breaks the protocol. It may set
	 * r->code and r->phase, and ask for a literal. */
	int (*reply_line)(void *ctx, struct client_reply *r, const char *line, size_t len,
			  ik_err *e);
	/* Verbs whose arguments are secret (NULL-terminated, matched without
	 * case): traced as "VERB ****". */
	const char *const *secret_verbs;
};

#define CLIENT_LITERAL_MAX_DEFAULT (64ull * 1024 * 1024)

struct client_opts {
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */
	uint64_t connect_timeout_ms;
	/* A reply must arrive by then; while a body or literal is read,
	 * the time runs from the last bytes received. */
	uint64_t reply_timeout_ms;
	size_t max_line;
	size_t max_reply;		/* lines, and a body kept in memory */
	uint64_t max_literal;		/* one literal; 0: the default */
	FILE *trace;			/* dialogue written here when not NULL */
	char trace_tag[16];		/* prefix for trace lines ("[2] "), may be "" */
};

void client_opts_default(struct client_opts *o);

/* ctx: the dialect's per-connection state, passed to its hooks. */
struct client *client_new(const struct client_dialect *d, void *ctx, const struct client_opts *o);
void client_free(struct client *c);
void *client_dialect_ctx(const struct client *c);

int client_connect(struct client *c, const char *host, uint16_t port, ik_err *e);
/* Send "VERB" or "VERB ARG" + CRLF. A CR, LF or NUL anywhere in the line is
 * refused before anything is sent. The expectation for the next reply is
 * not changed (the rest of a tagged command goes out this way too). */
int client_send(struct client *c, const char *verb, const char *arg, ik_err *e);
/* As client_send with an argument of explicit length (may hold NUL, which
 * is then refused). */
int client_sendn(struct client *c, const char *verb, const char *arg, size_t arglen, ik_err *e);
/* A whole line whose content is secret (a SASL response): traced as ****. */
int client_send_secret_line(struct client *c, const char *line, ik_err *e);
/* Bytes as they are, no line end added (an IMAP literal's content, after
 * the server's "+"): traced as their count, or "****" when secret. */
int client_send_raw(struct client *c, const void *buf, size_t n, bool secret, ik_err *e);
/* A message body from fd (read to its end) after SMTP DATA's 354:
 * dot-stuffed, every line end sent as CR LF, then the end line ".". The
 * trace shows the size, not the message. *sent, if not NULL, gets the
 * bytes put on the wire. */
int client_send_dot_body(struct client *c, int fd, uint64_t *sent, ik_err *e);
/* Send a command with its expectation (call NULL: the defaults); the next
 * client_read_reply reads its reply that way. Tags TAGGED commands. */
int client_send_call(struct client *c, const struct client_call *call, const char *verb,
		     const char *arg, ik_err *e);
/* Expect the next reply (one no command asks for: a greeting) that way. */
void client_expect_next(struct client *c, const struct client_call *call);
/* Collect one reply, as the last call (or the dialect) expects. The server
 * closing, a timeout, an over-long line or reply, a body or literal over
 * its limit, a sink's error or a line the dialect rejects are errors (-1,
 * e set); the connection is then out of step and should be closed. After
 * a complete reply the expectation returns to the dialect's default (not
 * after a continuation request). */
int client_read_reply(struct client *c, struct client_reply *r, ik_err *e);
/* Wait at most timeout_ms for a complete line from the peer, without
 * consuming it (client_read_reply reads it next): for a server's greeting,
 * which may be given less time than a reply so that a peer that does not
 * speak first is recognised early. 1 when a line is waiting, 0 when none
 * came in time (e says so), -1 when the peer closed or on an error. */
int client_wait_line(struct client *c, uint64_t timeout_ms, ik_err *e);
/* A command with the dialect's expectation (tagged when that is TAGGED)
 * and its reply: client_call with call NULL. */
int client_command(struct client *c, const char *verb, const char *arg,
		   struct client_reply *r, ik_err *e);
/* client_send_call + client_read_reply. */
int client_call(struct client *c, const struct client_call *call, const char *verb,
		const char *arg, struct client_reply *r, ik_err *e);
/* Upgrade the connection to TLS in place (after the server's go-ahead, or
 * at once for implicit TLS). Bytes the server sent before the handshake
 * could only be an injection attempt: they are an error, never read as
 * protocol data. */
int client_starttls(struct client *c, SSL_CTX *ctx, bool verify_name, ik_err *e);

/* The one place a client's state changes; logs the transition at debug
 * level and on the trace. */
void client_set_state(struct client *c, int state);
int client_state(const struct client *c);

struct client_conn *client_connection(struct client *c);
const char *client_host(const struct client *c);
const struct client_opts *client_options(const struct client *c);
/* Write a note to the trace ("* text"), when tracing. */
void client_trace_note(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
