/* Server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN (the
 * draft every mail client speaks), shared by SMTP AUTH (RFC 4954), POP3
 * AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 9051 6.2.2). Pure: it turns
 * the client's base64 lines into the challenges to send and, at the end,
 * the credentials; the protocol sends, reads (core session SASL mode, so
 * nothing is logged) and verifies with the accounts module.
 *
 * Secrets: the state holds the password until sasl_clear, which wipes it
 * (explicit_bzero); the protocol calls it as soon as the password went to
 * account_verify. */
#ifndef INETKIT_CORE_SASL_H
#define INETKIT_CORE_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define SASL_NAME_MAX 256
#define SASL_PASS_MAX 1024

enum sasl_mech { SASL_PLAIN, SASL_LOGIN };

enum sasl_step {
	SASL_CONTINUE,		/* send the challenge (base64 text, may be "") and read a line */
	SASL_DONE,		/* credentials complete: verify them */
	SASL_FAIL,		/* malformed: e says what (the protocol answers 501 / -ERR / BAD) */
	SASL_CANCELLED,		/* the client sent "*" */
};

struct sasl {
	enum sasl_mech mech;
	int stage;
	char authzid[SASL_NAME_MAX + 1];	/* PLAIN: who to act as; "" = authcid */
	char authcid[SASL_NAME_MAX + 1];	/* the login name */
	char password[SASL_PASS_MAX + 1];
	char challenge[64];	/* base64 challenge to send with SASL_CONTINUE */
};

/* Mechanism by name, any case ("PLAIN", "LOGIN"); -1 when unknown. */
int sasl_mech_parse(const char *name, enum sasl_mech *out);
/* The space-separated list a server advertises ("PLAIN LOGIN"). */
const char *sasl_mech_list(void);

/* Begin with the optional initial response (RFC 4954 4: "=" means an
 * empty one; NULL means none was given). */
enum sasl_step sasl_start(struct sasl *st, enum sasl_mech mech, const char *initial,
			  ik_err *e);
/* One client line (base64, or "*"). */
enum sasl_step sasl_step(struct sasl *st, const char *line, size_t len, ik_err *e);
/* Wipe the secrets. */
void sasl_clear(struct sasl *st);

#endif
