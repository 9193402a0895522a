/* SMTP server commands as data: the verb table (a core/session command
 * table: the core parses, checks and calls the handler it names), the
 * EHLO keywords and HELP, and the wording of the core's refusals as SMTP
 * replies with basic and enhanced codes. No session here: the unit test
 * (tests/unit/test_smtp_cmd.c) uses it alone.
 *
 * RFC 5321 4.1 (commands, 4.1.4 their order, 4.2 reply codes, 4.3.2 which
 * replies each command may get), RFC 3463 and RFC 2034 (enhanced codes:
 * 5.5.1 invalid command, 5.5.2 syntax error, 5.5.4 invalid arguments,
 * 5.7.0 security), RFC 3207 (STARTTLS; 554 when TLS runs already), RFC
 * 4954 (AUTH; 530 5.7.0, 538 5.7.11), RFC 6409 4.3 and RFC 8314 (the
 * submission roles require TLS and AUTH), RFC 3030 (BDAT). */
#ifndef INETKIT_SMTP_SMTP_CMD_H
#define INETKIT_SMTP_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/session.h"
#include "lib/sbuf.h"
#include "smtp/smtp_parse.h"

/* Session states, one bit each (RFC 5321 4.1.4 and 3.3). */
enum {
	SMTP_ST_CONNECTED = 1u << 0,	/* greeted by us; no EHLO/HELO yet (or after STARTTLS) */
	SMTP_ST_READY = 1u << 1,	/* EHLO/HELO done, no transaction */
	SMTP_ST_MAIL = 1u << 2,		/* MAIL accepted, no recipient yet */
	SMTP_ST_RCPT = 1u << 3,		/* at least one recipient accepted */
	SMTP_ST_BDAT = 1u << 4,		/* BDAT chunks under way (RFC 3030), no LAST yet */
};
#define SMTP_ST_GREETED (SMTP_ST_READY | SMTP_ST_MAIL | SMTP_ST_RCPT | SMTP_ST_BDAT)
#define SMTP_ST_ANY (SMTP_ST_CONNECTED | SMTP_ST_GREETED)

/* SMTP's own bits of an entry (session_cmd.pflags): the before hook puts
 * the ones that do not hold now into the call's deny mask, and the core
 * refuses the command (SESSION_REFUSE_DENIED). */
enum {
	SMTP_P_TLS = 1u << 0,		/* submission roles: refused before STARTTLS (530) */
	SMTP_P_AUTH = 1u << 1,		/* submission roles: refused before AUTH (530) */
	SMTP_P_AUTH_TLS = 1u << 2,	/* AUTH: refused on plaintext unless auth_plaintext (538) */
};

/* The command set: the table (sorted by verb) with the session's hooks
 * (smtp_session.c). */
extern const struct session_cmds smtp_cmds;

/* The core's refusal of c as an SMTP reply: 500 5.5.2 unknown or empty,
 * 502 5.5.1 not implemented, 503 5.5.1 out of sequence (what to send
 * first), 530 5.7.0 STARTTLS or AUTH first, 538 5.7.11 AUTH needs TLS,
 * 501 5.5.4 with the usage, 554 5.5.1 STARTTLS with TLS on. */
void smtp_cmd_refusal_reply(const struct session_call *c, enum session_refusal why,
			    struct smtp_reply *r);

/* What EHLO offers now (RFC 5321 4.1.1.1; each extension's RFC). */
struct smtp_ehlo_offer {
	const char *hostname;
	const char *greeting;	/* the client's name, for the first line */
	unsigned long long max_size;
	bool starttls;		/* plaintext, TLS configured */
	bool auth;		/* AUTH allowed now: "AUTH PLAIN LOGIN" */
};
/* The whole 250 reply, keyword lines in a fixed order. 0, or -1 when out
 * is full (out as it was). */
int smtp_ehlo_reply(struct sbuf *out, const struct smtp_ehlo_offer *o);

/* HELP (RFC 5321 4.1.1.8): no topic: the verbs in 214 lines; "HELP VERB":
 * its usage; an unknown topic: 504 5.5.1. */
int smtp_help_reply(struct sbuf *out, const char *topic);

/* One reply line "CODE ENH text" CRLF (or "CODE-ENH text" when !last)
 * into out; a CR or LF in text becomes a space. 0 or -1 (out as it was). */
int smtp_reply_line(struct sbuf *out, int code, const char *enh, bool last, const char *text);

#endif
