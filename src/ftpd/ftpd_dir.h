/* Directory reading for LIST, NLST, MLSD, STAT (ftpd_dir.c) and a session's listing context. */
#ifndef INETKIT_FTPD_FTPD_DIR_H
#define INETKIT_FTPD_FTPD_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/sbuf.h"

struct ftpd_sess;
struct ftpd_list_ctx;
struct jail;

enum ftpd_list_kind { FTPD_LIST_LS, FTPD_LIST_NLST, FTPD_LIST_MLSD, FTPD_LIST_STAT };

struct ftpd_dir {
	enum ftpd_list_kind kind;
	int dir_fd;			/* the listed directory (O_RDONLY) */
	char *vdir;			/* its virtual path */
	char *prefix;			/* NLST: what to put before each name */
	char **names;			/* sorted; NULL for a single entry */
	size_t n, next;
	char *single;			/* listing one non-directory: its name */
	bool truncated;
	bool cdir_done;
	struct ftpd_list_ctx *ctx;	/* owned */
	const struct jail *jail;
};

/* Read what a LIST/NLST/MLSD/STAT argument names. Replies and returns
 * NULL when refused. */
struct ftpd_dir *ftpd_dir_open(struct ftpd_sess *fs, enum ftpd_list_kind kind,
			       const char *arg, size_t arglen);
/* Append lines to out until it holds about want bytes or the listing
 * ends. Returns 1 when more remain, 0 at the end, -1 on error. */
int ftpd_dir_fill(struct ftpd_dir *d, struct sbuf *out, size_t want);
void ftpd_dir_free(struct ftpd_dir *d);

/* ftpd_cmd_fs.c: the listing context (facts, rights, owner) for fs. */
void ftpd_list_ctx_for(const struct ftpd_sess *fs, struct ftpd_list_ctx *ctx);

#endif
