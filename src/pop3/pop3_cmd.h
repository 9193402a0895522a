/* POP3 server commands as data: the verb table (a core/session command
 * table), CAPA, POP3's wording of the core's refusals, and the parsers of
 * the arguments. No session here: the unit test (tests/unit/
 * test_pop3_cmd.c) and the fuzzer (tests/fuzz/fuzz_pop3_cmd.c) use it
 * alone.
 *
 * RFC 1939 (the commands and the states they are valid in: 3, 4, 5, 6,
 * 7), RFC 2449 (CAPA and its tags; response codes in brackets), RFC 3206
 * ([AUTH], [SYS/TEMP], [SYS/PERM]), RFC 2595 (STLS), RFC 5034 (AUTH). */
#ifndef INETKIT_POP3_POP3_CMD_H
#define INETKIT_POP3_POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/session.h"
#include "lib/sbuf.h"

/* Session states, one bit each (RFC 1939 3). UPDATE is not a state a
 * command is read in: QUIT in TRANSACTION runs it and closes. */
enum {
	POP3_ST_AUTH = 1u << 0,		/* AUTHORIZATION */
	POP3_ST_TRANS = 1u << 1,	/* TRANSACTION: the maildrop is open and locked */
};
#define POP3_ST_ANY (POP3_ST_AUTH | POP3_ST_TRANS)

/* POP3's own bits of an entry (session_cmd.pflags): the before hook puts
 * the ones that do not hold now into the deny mask. */
enum {
	POP3_P_PLAIN = 1u << 0,	/* a password in clear: refused without TLS unless allowed */
	POP3_P_APOP = 1u << 1,	/* APOP: refused unless configured */
};

extern const struct session_cmds pop3_cmds;

/* The core's refusal of c as one "-ERR ..." line (CRLF not included). */
void pop3_cmd_refusal_text(const struct session_call *c, enum session_refusal why, char *out,
			   size_t outsz);

/* What CAPA lists now (RFC 2449 6). */
struct pop3_capa {
	bool stls;		/* plaintext session, TLS available */
	bool user;		/* USER/PASS may be used now */
	bool sasl;		/* AUTH may be used now */
	uint64_t login_delay_s;	/* 0: not listed */
	int64_t expire_days;	/* -1: not listed, -2: NEVER */
};
/* The whole multi-line reply, "+OK" line to ".". 0, or -1 (out as it was). */
int pop3_capa_reply(struct sbuf *out, const struct pop3_capa *o);

/* A message number (RFC 1939: a decimal 1.. n; no sign, no leading
 * spaces, at most 9 digits). 0 and -1 for a bad one. */
int pop3_parse_msgno(const char *s, uint64_t *out);
/* TOP's line count: a decimal of at most 9 digits, 0 allowed. */
int pop3_parse_lines(const char *s, uint64_t *out);

/* A UIDL value for a Maildir base name (RFC 1939 7: 1 to 70 characters
 * from 0x21 to 0x7E): the name itself when it qualifies, else "X" and a
 * hex SHA-256 prefix of it (stable, never the same for two names in
 * practice). out holds 71 bytes. */
void pop3_uidl_of(const char *base, char *out, size_t outsz);

#endif
