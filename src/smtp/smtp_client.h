/* The SMTP client dialect, non-blocking on an event loop: one connection
 * that delivers one message to a list of recipients and reports a result
 * per recipient. No queue logic: the relay (smtp_relay.c) decides what a
 * result means, and `inetkit mail send` can drive the same dialect.
 *
 * RFC 5321 (the dialogue, 4.5.3.2 time-outs), RFC 1869/5321 EHLO with the
 * HELO fallback, RFC 3207 STARTTLS (opportunistic: any certificate; or
 * required: chain and host name checked, no plaintext fallback), RFC 4954
 * with RFC 4616 AUTH PLAIN (LOGIN when only it is offered), RFC 1870 SIZE,
 * RFC 2920 PIPELINING (MAIL and every RCPT in one group), RFC 6152
 * 8BITMIME (BODY=8BITMIME when offered), RFC 6531 SMTPUTF8 (a message that
 * needs it is refused, permanently, by a server without it), RFC 3461 DSN
 * parameters passed on when the server offers DSN, RFC 3030 CHUNKING
 * (BDAT when offered: each chunk is converted to CR LF line ends before
 * its size is written, so no second pass over the file is needed; with
 * PIPELINING the chunks follow each other without waiting). A connection
 * may carry several transactions (opts.keep_open): RSET, then the next
 * envelope (RFC 5321 4.1.1.5), while the caller decides how long an idle
 * connection lives. The reply rule is core/reply_num's, the
 * body's dot-stuffing core/dotstuff's: the same code as the blocking
 * client core uses; this is the event-loop driver the client core's
 * header anticipates. */
#ifndef INETKIT_SMTP_SMTP_CLIENT_H
#define INETKIT_SMTP_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/loop.h"
#include "lib/error.h"
#include "smtp/smtp_queue.h"

enum smtp_tls_policy {
	SMTP_TLS_MAY,		/* STARTTLS when offered, certificate not checked */
	SMTP_TLS_REQUIRED,	/* STARTTLS or fail; chain and name checked */
	SMTP_TLS_NONE,		/* never (tests, a local hop) */
};

struct smtp_client_opts {
	const char *helo;		/* our name for EHLO */
	enum smtp_tls_policy tls;
	SSL_CTX *tls_may;		/* no verification (opportunistic) */
	SSL_CTX *tls_verify;		/* verifying (required) */
	const char *tls_name;		/* the name the certificate must match */
	const char *auth_user;		/* NULL: no AUTH */
	const char *auth_pass;
	uint64_t connect_ms;
	uint64_t reply_ms;		/* greeting and each command */
	uint64_t data_ms;		/* the end of DATA */
	bool keep_open;			/* a clean end leaves the connection open for
					 * smtp_client_next (result.reusable) */
	/* `inetkit mail send`: TLS from the first byte (port 465, RFC 8314),
	 * under the same policy's context; and the dialogue on trace with
	 * each step labelled, AUTH arguments as "****", the body as its size. */
	bool implicit_tls;
	FILE *trace;
};

/* What the dialogue gave, per recipient: code is the RCPT reply when that
 * was not 2xx, else the end-of-DATA reply; 0 when the connection failed
 * before either (then code/text of the result as a whole say why). */
struct smtp_client_rcpt {
	int code;
	char text[400];
};

struct smtp_client_result {
	int code;		/* the failure that stopped the dialogue; 0 if none */
	bool temp;		/* that failure is temporary */
	char text[400];
	bool connected;		/* a greeting came (a later MX is not tried) */
	struct smtp_client_rcpt *rcpt;	/* env->nrcpt entries */
	char remote[160];	/* "host [addr]" */
	bool reusable;		/* keep_open: the connection waits, idle, for
				 * smtp_client_next or smtp_client_quit; the
				 * client is not freed until then */
	bool stale;		/* a reused connection failed before MAIL (closed
				 * while idle, RSET refused): nothing was tried,
				 * a new connection may be */
	unsigned transactions;	/* on this connection so far, this one included */
	bool chunking;		/* the body went as BDAT chunks */
};

struct smtp_client;
typedef void (*smtp_client_cb)(void *arg, const struct smtp_client_result *r);

/* Deliver env's recipients where idx[0..n) select them (indexes into
 * env->rcpt) with the message in msg_fd (LF line ends; not closed) to
 * sa. host names the server in the result and, under TLS required, is
 * the certificate's expected name unless o->tls_name is set. The
 * callback runs once from the loop (never from inside this call); the
 * client frees itself after it. NULL with e set when it cannot start. */
struct smtp_client *smtp_client_start(struct loop *l, const struct sockaddr *sa, socklen_t salen,
				      const char *host, const struct smtp_client_opts *o,
				      const struct smtp_envelope *env, const size_t *idx,
				      size_t n, int msg_fd, smtp_client_cb cb, void *arg,
				      ik_err *e);
/* Stop at once (server shutting down): the callback does not run. */
void smtp_client_abort(struct smtp_client *c);
/* On a connection whose last result was reusable: RSET, then deliver the
 * next message as smtp_client_start does (the callback runs from the loop).
 * -1 with e set when the connection closed while idle: then call
 * smtp_client_quit and start a new one. */
int smtp_client_next(struct smtp_client *c, const struct smtp_envelope *env, const size_t *idx,
		     size_t n, int msg_fd, smtp_client_cb cb, void *arg, ik_err *e);
/* An idle connection is not wanted any more: QUIT, close, free (later,
 * from the loop). */
void smtp_client_quit(struct smtp_client *c);

/* Parse one line of an EHLO reply (without the code): the extension
 * keywords the client uses, into flags; SIZE's value into *size. Exported
 * for the unit tests. */
enum {
	SMTP_EXT_STARTTLS = 1 << 0,
	SMTP_EXT_PIPELINING = 1 << 1,
	SMTP_EXT_8BITMIME = 1 << 2,
	SMTP_EXT_SMTPUTF8 = 1 << 3,
	SMTP_EXT_DSN = 1 << 4,
	SMTP_EXT_CHUNKING = 1 << 5,
	SMTP_EXT_SIZE = 1 << 6,
	SMTP_EXT_AUTH_PLAIN = 1 << 7,
	SMTP_EXT_AUTH_LOGIN = 1 << 8,
};
unsigned smtp_client_ehlo_line(const char *line, size_t len, uint64_t *size);
/* xtext (RFC 3461 4): '+', '=' and bytes outside 0x21-0x7e as +XX. */
void smtp_client_xtext(const char *s, char *out, size_t outsz);

#endif
