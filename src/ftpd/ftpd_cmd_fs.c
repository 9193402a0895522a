/* File-system commands on the control connection: RFC 959 (CWD, CDUP,
 * PWD, MKD, RMD, DELE, RNFR/RNTO, SITE, STAT with a path; 257 quoting in
 * appendix II), RFC 3659 (SIZE, MDTM, MLST). Every path goes through
 * ftpd_path (rights) and core/jail (openat2 beneath the user's root). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/str.h"
#include "ftpd/ftpd_ascii.h"
#include "ftpd/ftpd_dir.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_list.h"

static void log_fs(struct ftpd_sess *fs, const char *what, const char *path, const char *extra)
{
	char q[256], q2[256];
	log_event(LOG_INFO, what, "session=%llu user=%s path=%s%s%s",
		  (unsigned long long)session_id(fs->s), ftpd_who(fs), log_quote(q, sizeof q, path),
		  extra != NULL ? " to=" : "", extra != NULL ? log_quote(q2, sizeof q2, extra) : "");
}

/* Answers with errno and returns true when a jail call (its result rc)
 * failed on the virtual path v. */
static bool refused(struct ftpd_sess *fs, int rc, const char *v)
{
	if (rc >= 0)
		return false;
	ftpd_send_errno(fs, errno, v);
	return true;
}

/* The command's path for WRITE, and the lstat of that name (a link itself,
 * not what it points to: DELE and RNFR act on the name). Answers and
 * returns -1 when either fails. */
static int target_lstat(struct ftpd_sess *fs, const struct session_call *c, struct ftpd_target *t,
			struct stat *st)
{
	if (ftpd_target(fs, c, FTPD_WRITE, t) < 0)
		return -1;
	return refused(fs, jail_lstat(t->j, t->k, st), t->v) ? -1 : 0;
}

void ftpd_cmd_cwd(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_NAV, &t) < 0)
		return;
	int fd = jail_open(t.j, t.k, O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		ftpd_send_errno(fs, errno, t.v);
		return;
	}
	close(fd);
	char *dup = strdup(t.v);
	if (dup == NULL) {
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return;
	}
	free(fs->cwd);
	fs->cwd = dup;
	ftpd_send(fs, FTPD_R_FILE_OK, "Directory successfully changed.");
}

void ftpd_cmd_cdup(struct session_call *c)
{
	static char up[] = "..";
	c->arg = up;
	c->arglen = 2;
	ftpd_cmd_cwd(c);
}

void ftpd_cmd_pwd(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct sbuf b = SBUF_INIT(JAIL_VPATH_MAX * 2 + 128);
	if (ftpd_reply_path(&b, FTPD_R_PATH_CREATED, fs->cwd, "is the current directory") < 0) {
		sbuf_free(&b);
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "The current directory's name cannot be "
			  "shown (it holds a line feed).");
		return;
	}
	ftpd_send_sbuf(fs, &b);
}

void ftpd_cmd_mkd(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_WRITE, &t) < 0)
		return;
	if (refused(fs, jail_mkdir(t.j, t.k, fs->srv->conf->dir_mode), t.v))
		return;
	log_fs(fs, "ftp_mkdir", t.v, NULL);
	struct sbuf b = SBUF_INIT(JAIL_VPATH_MAX * 2 + 128);
	if (ftpd_reply_path(&b, FTPD_R_PATH_CREATED, t.v, "created") < 0) {
		sbuf_free(&b);
		ftpd_send(fs, FTPD_R_PATH_CREATED, "Directory created.");
		return;
	}
	ftpd_send_sbuf(fs, &b);
}

void ftpd_cmd_rmd(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_WRITE, &t) < 0)
		return;
	if (strcmp(t.v, "/") == 0) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "/: the root cannot be removed.");
		return;
	}
	if (refused(fs, jail_rmdir(t.j, t.k), t.v))
		return;
	log_fs(fs, "ftp_rmdir", t.v, NULL);
	ftpd_send(fs, FTPD_R_FILE_OK, "Directory removed.");
}

void ftpd_cmd_dele(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	struct stat st;
	if (target_lstat(fs, c, &t, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: Is a directory (use RMD).", t.v);
		return;
	}
	if (refused(fs, jail_unlink(t.j, t.k), t.v))
		return;
	if (S_ISREG(st.st_mode))
		fs->used = fs->used > (uint64_t)st.st_size ? fs->used - (uint64_t)st.st_size : 0;
	log_fs(fs, "ftp_delete", t.v, NULL);
	ftpd_send(fs, FTPD_R_FILE_OK, "File deleted.");
}

void ftpd_cmd_rnfr(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	struct stat st;
	if (target_lstat(fs, c, &t, &st) < 0)
		return;
	if (strcmp(t.v, "/") == 0) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "/: the root cannot be renamed.");
		return;
	}
	free(fs->rnfr);
	if ((fs->rnfr = strdup(t.v)) == NULL) {
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return;
	}
	ftpd_set_state(fs, FTPD_ST_RNFR);
	ftpd_send(fs, FTPD_R_PENDING, "Ready for RNTO.");
}

void ftpd_cmd_rnto(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	char *from = fs->rnfr;
	fs->rnfr = NULL;
	ftpd_set_state(fs, FTPD_ST_READY);
	if (from == NULL) {
		ftpd_send(fs, FTPD_R_BAD_SEQUENCE, "Send RNFR first.");
		return;
	}
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_WRITE, &t) < 0) {
		free(from);
		return;
	}
	if (jail_rename(t.j, from, t.k) < 0)
		ftpd_send_errno(fs, errno, t.v);
	else {
		log_fs(fs, "ftp_rename", from, t.v);
		ftpd_send(fs, FTPD_R_FILE_OK, "Rename successful.");
	}
	free(from);
}

void ftpd_cmd_size(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_READ, &t) < 0)
		return;
	int fd = jail_open_file(t.j, t.k, O_RDONLY, 0);
	if (fd < 0) {
		ftpd_send_errno(fs, errno, t.v);
		return;
	}
	struct stat st;
	uint64_t size = 0;
	int rc = fstat(fd, &st);
	if (rc == 0)
		size = (uint64_t)st.st_size;
	if (rc == 0 && fs->type == 'A') {
		uint64_t limit = fs->srv->conf->ascii_size_max;
		rc = ftpd_ascii_size(fd, limit, &size);
		if (rc < 0 && errno == EFBIG) {
			close(fd);
			ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "SIZE in ASCII mode is computed only "
				  "for files up to %llu bytes; send TYPE I first.",
				  (unsigned long long)limit);
			return;
		}
	}
	int err = errno;
	close(fd);
	if (rc < 0) {
		ftpd_send_errno(fs, err, t.v);
		return;
	}
	ftpd_send(fs, FTPD_R_FILE_STATUS, "%llu", (unsigned long long)size);
}

void ftpd_cmd_mdtm(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_target t;
	if (ftpd_target(fs, c, FTPD_READ, &t) < 0)
		return;
	struct stat st;
	char stamp[32];
	if (refused(fs, jail_stat(t.j, t.k, &st), t.v))
		return;
	if (!S_ISREG(st.st_mode)) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: Not a regular file.", t.v);
		return;
	}
	if (ftpd_list_timeval(st.st_mtime, stamp, sizeof stamp) < 0) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: modification time out of range.", t.v);
		return;
	}
	ftpd_send(fs, FTPD_R_FILE_STATUS, "%s", stamp);
}

void ftpd_cmd_site(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_site site;
	struct ftpd_cmd_refusal r;
	if (ftpd_site_parse(c->arg, &site, &r) < 0) {
		ftpd_send(fs, r.code, "%s", r.text);
		return;
	}
	if (site.def->id == FTPD_SITE_HELP) {
		struct sbuf b = SBUF_INIT(4096);
		ftpd_site_help(&b);
		ftpd_send_sbuf(fs, &b);
		return;
	}
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
	if (ftpd_path(fs, site.path, strlen(site.path), FTPD_WRITE, v, sizeof v, &j, &k) < 0)
		return;
	if (refused(fs, jail_chmod(j, k, site.mode), v))
		return;
	char mode[8];
	str_fmt(mode, sizeof mode, "%04o", site.mode);
	log_fs(fs, "ftp_chmod", v, mode);
	ftpd_send(fs, FTPD_R_OK, "SITE CHMOD command ok.");
}

/* The listing context for what fs sees in the directory vdir. */
void ftpd_list_ctx_for(const struct ftpd_sess *fs, struct ftpd_list_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->now = time(NULL);
	ctx->uid = geteuid();
	ctx->gid = getegid();
	ctx->writable = fs->cls != ACCOUNT_ANON && fs->rights == ACCOUNT_RW;
	ctx->parent_writable = ctx->writable;
	ctx->owner = "ftp";
	ctx->group = "ftp";
	ctx->facts = fs->facts;
}

void ftpd_cmd_mlst(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
	const char *arg = c->arglen > 0 ? c->arg : ".";
	size_t len = c->arglen > 0 ? c->arglen : 1;
	if (ftpd_path(fs, arg, len, FTPD_READ, v, sizeof v, &j, &k) < 0)
		return;
	struct stat st;
	if (refused(fs, jail_stat(j, k, &st), v))
		return;
	struct ftpd_list_ctx ctx;
	ftpd_list_ctx_for(fs, &ctx);
	struct sbuf b = SBUF_INIT(JAIL_VPATH_MAX * 2 + 1024);
	int rc = ftpd_reply_begin(&b, FTPD_R_FILE_OK, "Listing %s", v);
	if (rc == 0)
		rc = ftpd_list_mlst_line(&b, &st, v, &ctx);
	if (rc == 1) {
		sbuf_free(&b);
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "This name cannot be listed (it holds a line "
			  "break).");
		return;
	}
	if (rc == 0)
		rc = ftpd_reply_end(&b, FTPD_R_FILE_OK, "End");
	if (rc < 0) {
		sbuf_free(&b);
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Listing too long.");
		return;
	}
	ftpd_send_sbuf(fs, &b);
}

void ftpd_cmd_stat_path(struct ftpd_sess *fs, struct session_call *c)
{
	struct ftpd_dir *d = ftpd_dir_open(fs, FTPD_LIST_STAT, c->arg, c->arglen);
	if (d == NULL)
		return;
	size_t max = (size_t)fs->srv->conf->stat_max;
	struct sbuf lines = SBUF_INIT(max + 64 * 1024);
	int more = ftpd_dir_fill(d, &lines, max);
	ftpd_dir_free(d);
	if (more < 0) {
		sbuf_free(&lines);
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Cannot read the directory.");
		return;
	}
	struct sbuf b = SBUF_INIT(max + 128 * 1024);
	int rc = ftpd_reply_begin(&b, FTPD_R_FILE_STATUS, "Status follows:");
	if (rc == 0 && lines.len > 0)
		rc = ftpd_reply_body(&b, sbuf_cstr(&lines));
	if (rc == 0 && more > 0)
		rc = ftpd_reply_body(&b, "(output cut at the STAT limit; use LIST for the rest)");
	if (rc == 0)
		rc = ftpd_reply_end(&b, FTPD_R_FILE_STATUS, "End of status.");
	sbuf_free(&lines);
	if (rc < 0) {
		sbuf_free(&b);
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Status output too long.");
		return;
	}
	ftpd_send_sbuf(fs, &b);
}
