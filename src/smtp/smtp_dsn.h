/* Delivery status notifications (RFC 3464) as the relay sends them to an
 * envelope sender: a multipart/report (RFC 6522) with a human part, the
 * message/delivery-status part (per-message and per-recipient fields) and
 * the returned message (message/rfc822 whole for RET=FULL or when RET was
 * not given, text/rfc822-headers for RET=HDRS, RFC 3461 4.3). Auto-
 * Submitted: auto-replied (RFC 3834) so that no responder answers it, and
 * the relay queues it with the null reverse path <> so that it can never
 * bounce back (RFC 5321 4.5.5). Pure: text in, text out. */
#ifndef INETKIT_SMTP_SMTP_DSN_H
#define INETKIT_SMTP_SMTP_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/sbuf.h"
#include "smtp/smtp_queue.h"

enum smtp_dsn_action { SMTP_DSN_FAILED, SMTP_DSN_DELAYED, SMTP_DSN_DELIVERED };

struct smtp_dsn_rcpt {
	const struct smtp_env_rcpt *rcpt;	/* address, ORCPT */
	enum smtp_dsn_action action;
	char status[16];			/* "5.1.1" */
	const char *diag;			/* "550 5.1.1 no such user", or NULL */
	const char *remote;			/* "mx.example [192.0.2.1]", or NULL */
};

struct smtp_dsn {
	const char *hostname;		/* the reporting MTA */
	const struct smtp_envelope *env;
	const struct smtp_dsn_rcpt *rcpt;
	size_t n;
	int64_t now;
	int64_t retry_until;		/* delayed: when the relay gives up */
	const char *message;		/* the original message (LF line ends) */
	size_t message_len;
	const char *boundary;		/* unique per report */
};

/* Append the whole report (headers and body, LF line ends) to out. */
int smtp_dsn_build(const struct smtp_dsn *d, struct sbuf *out, ik_err *e);

/* Whether env's recipient r asked (or, not asking, defaults) to be told of
 * this action (RFC 3461 4.1: no NOTIFY means FAILURE, and DELAY at the
 * MTA's choice: here yes). Never for the null reverse path. */
int smtp_dsn_wanted(const struct smtp_envelope *env, const struct smtp_env_rcpt *r,
		    enum smtp_dsn_action a);

#endif
