/* FTP server commands as data: the verb table (a core/session command
 * table; the core parses, checks and calls the handler it names), the
 * Telnet clean-up done before the core sees a line, and the wording of
 * the core's refusals as FTP replies.
 *
 * RFC 959 (commands, 4.1 syntax: verb, one SP, argument), RFC 854 (Telnet
 * IAC sequences in the command stream, e.g. IAC IP IAC DM before ABOR),
 * RFC 775 (XPWD and friends, still sent by some clients), RFC 2389
 * (FEAT/OPTS), RFC 2428 (EPRT/EPSV, EPSV ALL), RFC 3659 (MLST/MLSD, SIZE,
 * MDTM, REST STREAM), RFC 2640 (UTF8; CR NUL in path names), RFC 4217
 * (AUTH TLS, PBSZ, PROT), RFC 7151 (HOST). */
#ifndef INETKIT_FTPD_FTPD_CMD_H
#define INETKIT_FTPD_FTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/sbuf.h"
#include "core/session.h"

/* Session states, one bit each (session_set_state takes one of them). */
enum {
	FTPD_ST_AUTH = 1u << 0,		/* connected, no USER yet (or login failed) */
	FTPD_ST_PASS = 1u << 1,		/* USER accepted, PASS expected */
	FTPD_ST_READY = 1u << 2,	/* logged in */
	FTPD_ST_RNFR = 1u << 3,		/* logged in, RNFR accepted, RNTO expected */
	FTPD_ST_XFER = 1u << 4,		/* logged in, a data transfer is running */
};
#define FTPD_ST_PRELOGIN (FTPD_ST_AUTH | FTPD_ST_PASS)
#define FTPD_ST_LOGGED (FTPD_ST_READY | FTPD_ST_RNFR)
#define FTPD_ST_ANY (FTPD_ST_PRELOGIN | FTPD_ST_LOGGED | FTPD_ST_XFER)

/* FTP's own bits of an entry (session_cmd.pflags). */
enum {
	FTPD_P_DATA = 1u << 0,		/* uses a data connection */
	FTPD_P_NO_EPSV_ALL = 1u << 1,	/* refused after EPSV ALL (PORT, PASV, EPRT) */
	FTPD_P_FEAT_TLS = 1u << 2,	/* FEAT line only when TLS is configured */
	FTPD_P_FEAT_FACTS = 1u << 3,	/* FEAT line followed by the MLST facts */
	FTPD_P_ALIAS = 1u << 4,		/* obsolete synonym (RFC 775 X-verbs) */
};

/* FTP's own data of an entry (session_cmd.pdata, may be NULL). */
struct ftpd_verb {
	const char *feat;		/* its FEAT line, or NULL */
	/* 503 text when sent in a state it is not allowed in, before or
	 * after login (NULL: "Bad sequence of commands."). */
	const char *seq_before_login, *seq_after_login;
};

/* The command set: the table (sorted by verb, the order HELP lists them
 * in) with the control connection's hooks (ftpd_session.c). */
extern const struct session_cmds ftpd_cmds;

/* Why a line was not accepted: the reply the server should send. */
struct ftpd_cmd_refusal {
	int code;
	char text[160];
};
/* Fills r with a reply code and text (truncated to fit); returns -1. */
int ftpd_refuse(struct ftpd_cmd_refusal *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Before the core parses a line (terminator already removed): Telnet IAC
 * sequences are removed (IAC IAC is a 0xFF byte), "CR NUL" becomes CR
 * (RFC 2640) and the line is NUL-terminated at its new end. Returns 0, or
 * -1 with r set (500) for a NUL byte that is not after a CR. */
int ftpd_cmd_clean(char *line, size_t len, struct ftpd_cmd_refusal *r);

/* The core's refusal of c, worded as an FTP reply: 500 empty or unknown,
 * 502 not implemented, 530 not logged in, 503 out of sequence (the verb's
 * own text; during a transfer "ABOR stops it"), 503 TLS needed or already
 * on, 503 after EPSV ALL (DENIED), 501 with the usage. */
void ftpd_cmd_refusal_reply(const struct session_call *c, enum session_refusal why,
			    struct ftpd_cmd_refusal *r);

/* The whole FEAT reply (RFC 2389): 211-Features:, one " LINE" per
 * feature in the table (TLS ones only when tls_available), the MLST line
 * built from mlst_facts (e.g. "type*;size*;modify*;"), 211 End. */
int ftpd_cmd_feat(struct sbuf *out, bool tls_available, const char *mlst_facts);

/* HELP: with no topic the 214 multi-line list of verbs; "HELP VERB" gives
 * "214 Syntax: ..."; "HELP SITE" lists the SITE commands. An unknown topic
 * is answered 502. */
int ftpd_cmd_help(struct sbuf *out, const char *topic);

/* SITE subcommands, a small table of their own. */
enum ftpd_site_id { FTPD_SITE_CHMOD, FTPD_SITE_HELP };

struct ftpd_site_def {
	const char *name;
	enum ftpd_site_id id;
	const char *help;
};

/* Parse "SITE" arguments: name, then for CHMOD the mode word and the path
 * (the rest of the line, verbatim). Returns 0, or -1 with r set (500
 * unknown SITE command, 501 bad arguments). */
struct ftpd_site {
	const struct ftpd_site_def *def;
	unsigned mode;		/* CHMOD: 0..07777 */
	char *path;		/* CHMOD: the path; HELP: the topic or "" */
};
int ftpd_site_parse(char *arg, struct ftpd_site *s, struct ftpd_cmd_refusal *r);
int ftpd_site_help(struct sbuf *out);

#endif
