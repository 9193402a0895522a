/* FTP server commands as data: the verb table, the command-line parser
 * and the table checks (state, TLS, arguments), before any handler runs.
 *
 * RFC 959 (commands, 4.1 syntax: verb, one SP, argument), RFC 854 (Telnet
 * IAC sequences in the command stream, e.g. IAC IP IAC DM before ABOR),
 * RFC 775 (XPWD and friends, still sent by some clients), RFC 2389
 * (FEAT/OPTS), RFC 2428 (EPRT/EPSV, EPSV ALL), RFC 3659 (MLST/MLSD, SIZE,
 * MDTM, REST STREAM), RFC 2640 (UTF8; CR NUL in path names), RFC 4217
 * (AUTH TLS, PBSZ, PROT), RFC 7151 (HOST).
 *
 * The table is declarative: each entry has an id (enum ftpd_cmd_id) and the
 * server keeps one handler per id. The flag bits SECRET, NEEDS_TLS and
 * NEEDS_LOGIN have the values of core/session.h's SESSION_CMD_* bits and
 * the states are single bits, so an entry maps one-to-one onto a
 * struct session_cmd if the server dispatches through the session core. */
#ifndef INETKIT_FTP_FTPD_CMD_H
#define INETKIT_FTP_FTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sbuf.h"

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

/* Flags. The first three equal SESSION_CMD_SECRET/NEEDS_TLS/NEEDS_LOGIN. */
enum {
	FTPD_F_SECRET = 1u << 0,	/* argument never logged (PASS, ACCT) */
	FTPD_F_NEEDS_TLS = 1u << 1,	/* only on a TLS control connection */
	FTPD_F_NEEDS_LOGIN = 1u << 2,	/* refused with 530 before login */
	FTPD_F_TAKES_PATH = 1u << 8,	/* argument is a path name, taken verbatim */
	FTPD_F_RAW_ARG = 1u << 9,	/* argument is one opaque string (may hold spaces) */
	FTPD_F_DATA = 1u << 10,		/* uses a data connection */
	FTPD_F_NO_EPSV_ALL = 1u << 11,	/* refused after EPSV ALL (PORT, PASV, EPRT) */
	FTPD_F_FEAT_TLS = 1u << 12,	/* FEAT line only when TLS is configured */
	FTPD_F_NOT_IMPL = 1u << 13,	/* answered 502 by the check, no handler */
	FTPD_F_ALIAS = 1u << 14,	/* obsolete synonym (RFC 775 X-verbs) */
};

enum ftpd_cmd_id {
	FTPD_CMD_ABOR, FTPD_CMD_ACCT, FTPD_CMD_ALLO, FTPD_CMD_APPE, FTPD_CMD_AUTH,
	FTPD_CMD_CDUP, FTPD_CMD_CWD, FTPD_CMD_DELE, FTPD_CMD_EPRT, FTPD_CMD_EPSV,
	FTPD_CMD_FEAT, FTPD_CMD_HELP, FTPD_CMD_HOST, FTPD_CMD_LIST, FTPD_CMD_MDTM,
	FTPD_CMD_MKD, FTPD_CMD_MLSD, FTPD_CMD_MLST, FTPD_CMD_MODE, FTPD_CMD_NLST,
	FTPD_CMD_NOOP, FTPD_CMD_OPTS, FTPD_CMD_PASS, FTPD_CMD_PASV, FTPD_CMD_PBSZ,
	FTPD_CMD_PORT, FTPD_CMD_PROT, FTPD_CMD_PWD, FTPD_CMD_QUIT, FTPD_CMD_REIN,
	FTPD_CMD_REST, FTPD_CMD_RETR, FTPD_CMD_RMD, FTPD_CMD_RNFR, FTPD_CMD_RNTO,
	FTPD_CMD_SITE, FTPD_CMD_SIZE, FTPD_CMD_SMNT, FTPD_CMD_STAT, FTPD_CMD_STOR,
	FTPD_CMD_STOU, FTPD_CMD_STRU, FTPD_CMD_SYST, FTPD_CMD_TYPE, FTPD_CMD_USER,
	FTPD_CMD__COUNT
};

#define FTPD_VERB_MAX 4		/* every FTP verb has 3 or 4 letters */
#define FTPD_ARGS_MAX 4		/* words kept for word-argument commands */

struct ftpd_cmd_def {
	const char *verb;	/* upper case */
	enum ftpd_cmd_id id;
	unsigned states;	/* FTPD_ST_* mask */
	unsigned flags;		/* FTPD_F_* */
	unsigned char min_args, max_args;	/* words; 0..1 for PATH/RAW */
	const char *help;	/* "RETR <sp> pathname" for HELP and 501 */
	const char *feat;	/* FEAT line, or NULL */
};

/* The table, sorted by verb; n entries. */
const struct ftpd_cmd_def *ftpd_cmd_table(size_t *n);
/* Look a verb up (any case, verblen bytes). NULL if unknown. */
const struct ftpd_cmd_def *ftpd_cmd_find(const char *verb, size_t verblen);

/* A parsed command line. arg and argv point into the caller's line. */
struct ftpd_cmd {
	char verb[FTPD_VERB_MAX + 1];	/* upper-cased; "" if not a verb */
	const struct ftpd_cmd_def *def;	/* NULL: unknown verb */
	char *arg;		/* everything after the verb and one SP; "" if none */
	size_t arglen;
	bool has_arg;		/* arglen > 0 */
	char *argv[FTPD_ARGS_MAX];	/* words of arg (word commands only) */
	size_t argc;
	bool too_many_args;	/* more words than FTPD_ARGS_MAX */
};

/* Why a line was not accepted: the reply the server should send. */
struct ftpd_cmd_refusal {
	int code;
	char text[160];
};
/* Fills r with a reply code and text (truncated to fit); returns -1. */
int ftpd_refuse(struct ftpd_cmd_refusal *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse one command line (terminator already removed) in place: Telnet
 * IAC sequences are removed (IAC IAC is a 0xFF byte), "CR NUL" becomes CR
 * (RFC 2640), leading spaces are skipped, the verb is upper-cased and
 * looked up, word arguments are split. Returns 0, or -1 with r set for a
 * line that is empty, holds a NUL byte or has no verb (500). An unknown
 * verb parses (def NULL); ftpd_cmd_check refuses it. */
int ftpd_cmd_parse(char *line, size_t len, struct ftpd_cmd *c, struct ftpd_cmd_refusal *r);

/* What the table checks need to know about the session. */
struct ftpd_cmd_ctx {
	unsigned state;		/* one FTPD_ST_* bit */
	bool tls;		/* control connection is TLS */
	bool epsv_all;		/* EPSV ALL was given */
};

/* The table checks, in order: unknown verb 500, not implemented 502,
 * state (530 before login, 503 otherwise), TLS 503, EPSV ALL 503, argument
 * count 501 with the usage. Returns 0 when the handler may run, else -1
 * with r set. */
int ftpd_cmd_check(const struct ftpd_cmd *c, const struct ftpd_cmd_ctx *ctx,
		   struct ftpd_cmd_refusal *r);

/* The argument as the log may show it: "****" for SECRET commands. */
const char *ftpd_cmd_log_arg(const struct ftpd_cmd *c);

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
