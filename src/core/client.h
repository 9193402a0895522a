/* The client command -> reply core ("pingpong") shared by the FTP, SMTP,
 * POP3 and IMAP clients.
 *
 * Protocols differ only in how the end of a reply is recognised (FTP and
 * SMTP "NNN-" ... "NNN " -- RFC 959 4.2, RFC 5321 4.2; POP3 "+OK"/"-ERR"
 * with dot-terminated data -- RFC 1939 3; IMAP tags -- RFC 3501 2.2) and in
 * their state machine. Everything else lives here, once: connecting with a
 * timeout to every address of a host in turn, sending commands (refusing
 * CR, LF and NUL inside them so that user input can never smuggle a second
 * command), collecting a reply with a bounded line length, a bounded total
 * size and a deadline, upgrading to TLS in place (AUTH TLS, STARTTLS, STLS;
 * RFC 4217, 3207, 2595) or starting with it (implicit TLS), and a --trace of
 * the dialogue with secrets masked.
 *
 * I/O is blocking with poll() timeouts: a command-line client talks to one
 * server at a time and waits for each reply anyway, so an event loop would
 * only add callbacks. Parallel work (mirror --parallel N) runs one client
 * per thread; a struct client is never shared between threads. */
#ifndef INETKIT_CORE_CLIENT_H
#define INETKIT_CORE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "core/error.h"
#include "core/sbuf.h"

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

/* A reply as collected so far: the dialect sets code (and uses phase for
 * its own progress through a multi-line reply). Lines are stored without
 * CR LF, joined with '\n', with control bytes shown as '?' so that a
 * hostile server cannot send escape sequences to the user's terminal. */
struct client_reply {
	int code;
	int phase;
	size_t nlines;
	struct sbuf text;
};

void client_reply_init(struct client_reply *r);
void client_reply_free(struct client_reply *r);
const char *client_reply_text(const struct client_reply *r);
/* The last line (for an FTP reply: the one with the final code). */
const char *client_reply_last(const struct client_reply *r);

struct client;

/* What a protocol supplies. */
struct client_dialect {
	const char *name;			/* "ftp", "smtp" ... */
	const char *const *state_names;		/* indexed by state, for logs */
	int nstates;
	/* Called with each reply line (CR LF removed). Returns 1 when the
	 * reply is complete, 0 when more lines belong to it, -1 with e set
	 * when the line breaks the protocol. */
	int (*reply_line)(struct client_reply *r, const char *line, size_t len, ik_err *e);
	/* Verbs whose arguments are secret (NULL-terminated, matched without
	 * case): traced as "VERB ****". */
	const char *const *secret_verbs;
};

struct client_opts {
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */
	uint64_t connect_timeout_ms;
	uint64_t reply_timeout_ms;	/* a whole reply must arrive by then */
	size_t max_line;
	size_t max_reply;
	FILE *trace;			/* dialogue written here when not NULL */
	char trace_tag[16];		/* prefix for trace lines ("[2] "), may be "" */
};

void client_opts_default(struct client_opts *o);

struct client *client_new(const struct client_dialect *d, const struct client_opts *o);
void client_free(struct client *c);

int client_connect(struct client *c, const char *host, uint16_t port, ik_err *e);
/* Send "VERB" or "VERB ARG" + CRLF. A CR, LF or NUL anywhere in the line is
 * refused before anything is sent. */
int client_send(struct client *c, const char *verb, const char *arg, ik_err *e);
/* As client_send with an argument of explicit length (may hold NUL, which
 * is then refused). */
int client_sendn(struct client *c, const char *verb, const char *arg, size_t arglen, ik_err *e);
/* A whole line whose content is secret (a SASL response): traced as ****. */
int client_send_secret_line(struct client *c, const char *line, ik_err *e);
/* Collect one reply. The server closing, a timeout, an over-long line or
 * reply, or a line the dialect rejects are errors (-1, e set). */
int client_read_reply(struct client *c, struct client_reply *r, ik_err *e);
/* Wait at most timeout_ms for a complete line from the peer, without
 * consuming it (client_read_reply reads it next): for a server's greeting,
 * which may be given less time than a reply so that a peer that does not
 * speak first is recognised early. 1 when a line is waiting, 0 when none
 * came in time (e says so), -1 when the peer closed or on an error. */
int client_wait_line(struct client *c, uint64_t timeout_ms, ik_err *e);
/* client_send + client_read_reply. */
int client_command(struct client *c, const char *verb, const char *arg,
		   struct client_reply *r, ik_err *e);
/* Raw bytes that follow a reply line on the same stream (IMAP literals,
 * POP3/SMTP data): up to n bytes, buffered ones first. */
ssize_t client_read_raw(struct client *c, void *buf, size_t n, ik_err *e);
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
