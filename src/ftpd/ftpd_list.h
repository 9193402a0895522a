/* Directory listings from a struct stat and a name: LIST (the `ls -l`
 * format clients parse), NLST (RFC 959: names only), MLSD/MLST (RFC 3659
 * section 7: machine-readable facts type, size, modify, perm, unique,
 * UNIX.mode) and the MDTM time (RFC 3659 section 3).
 *
 * Times are UTC (RFC 3659 requires it for facts; LIST follows, as vsftpd
 * does by default). LIST dates are "Mon DD HH:MM" for the last six months
 * and "Mon DD  YYYY" otherwise, with English month names whatever the
 * locale. A name holding CR or LF cannot be sent in a CRLF-delimited
 * listing without forging entries: such entries are skipped (return 1). */
#ifndef INETKIT_FTPD_FTPD_LIST_H
#define INETKIT_FTPD_FTPD_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "lib/sbuf.h"

/* MLSx facts. */
enum {
	FTPD_FACT_TYPE = 1u << 0,
	FTPD_FACT_SIZE = 1u << 1,
	FTPD_FACT_MODIFY = 1u << 2,
	FTPD_FACT_PERM = 1u << 3,
	FTPD_FACT_UNIQUE = 1u << 4,
	FTPD_FACT_UNIX_MODE = 1u << 5,
};
#define FTPD_FACTS_ALL 0x3fu

/* Who is looking, for the perm fact and the LIST owner columns. */
struct ftpd_list_ctx {
	time_t now;		/* for the six-month rule */
	uid_t uid;		/* the session's identity (0: everything allowed) */
	gid_t gid;
	const gid_t *groups;	/* supplementary groups, may be NULL */
	size_t ngroups;
	bool writable;		/* the account may change files at all */
	bool parent_writable;	/* the entries' directory allows create/delete */
	const char *owner;	/* LIST owner/group columns; NULL: numeric ids */
	const char *group;
	unsigned facts;		/* FTPD_FACT_* to show in MLSx lines */
};

/* Which MLSD entry this is (RFC 3659 7.5.1: cdir is the listed directory). */
enum ftpd_mlsx_kind { FTPD_MLSX_ENTRY, FTPD_MLSX_CDIR, FTPD_MLSX_PDIR };

/* Each line function returns 0 (line appended, CRLF included), 1 (name
 * holds CR or LF: nothing written, skip it), or -1 (out is full). */

/* "drwxr-xr-x    2 owner    group        4096 Jan 05 12:00 name" and for
 * symlinks " -> target" (link_target may be NULL). */
int ftpd_list_ls_line(struct sbuf *out, const struct stat *st, const char *name,
		      const char *link_target, const struct ftpd_list_ctx *ctx);
/* "name\r\n". */
int ftpd_list_nlst_line(struct sbuf *out, const char *name);
/* MLSD: "type=file;size=3;...; name\r\n". */
int ftpd_list_mlsd_line(struct sbuf *out, const struct stat *st, const char *name,
			enum ftpd_mlsx_kind kind, const struct ftpd_list_ctx *ctx);
/* MLST: the same with the leading space RFC 3659 7.2 wants inside the
 * 250- reply: " type=file;...; /path\r\n". */
int ftpd_list_mlst_line(struct sbuf *out, const struct stat *st, const char *path,
			const struct ftpd_list_ctx *ctx);

/* The 10-character mode column, e.g. "drwxr-sr-t" (buf >= 11 bytes). */
void ftpd_list_mode_string(mode_t mode, char buf[11]);
/* The LIST date column (buf >= 13 bytes). */
int ftpd_list_date(time_t t, time_t now, char *buf, size_t bufsz);
/* YYYYMMDDHHMMSS in UTC, for MDTM and the modify fact (buf >= 15).
 * -1 for a year outside 0..9999. */
int ftpd_list_timeval(time_t t, char *buf, size_t bufsz);
/* The perm fact value for st (e.g. "adfrw", "cdeflmp"). */
void ftpd_list_perm(const struct stat *st, enum ftpd_mlsx_kind kind,
		    const struct ftpd_list_ctx *ctx, char buf[16]);

/* OPTS MLST: a ";"-separated fact list (any case; unknown facts ignored as
 * RFC 3659 7.9 says) to a mask. */
unsigned ftpd_list_facts_parse(const char *list);
/* "type;size;" (the OPTS MLST reply) or, with feat, every supported fact
 * with '*' after the enabled ones: "type*;size*;modify;..." (FEAT). */
int ftpd_list_facts_text(unsigned mask, bool feat, char *buf, size_t bufsz);

/* Options clients put before a LIST/NLST path ("-la", "-a dir"): a shows
 * dot files, l is accepted (LIST is long anyway), others are ignored.
 * Returns the path part of arg (may be ""), after the options and spaces.
 * A name that starts with '-' must be given as ./-name. */
struct ftpd_list_opts {
	bool all;
};
const char *ftpd_list_parse_args(const char *arg, struct ftpd_list_opts *o);

/* false for names that cannot be listed (CR or LF inside). */
bool ftpd_list_name_ok(const char *name);

#endif
