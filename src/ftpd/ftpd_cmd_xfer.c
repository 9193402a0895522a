/* The transfer commands: RETR, STOR, APPE, STOU (RFC 959 4.1.3, RFC 1123
 * 4.1.2.9 for STOU's "150 FILE:" reply), LIST, NLST (RFC 959), MLSD
 * (RFC 3659 7), with REST STREAM (RFC 3659 5) for RETR and STOR.
 *
 * Uploads: a new STOR or STOU is written to a hidden temporary in the
 * target's directory and renamed into place when complete, so a reader
 * never sees half a file and a failed upload leaves nothing; APPE and STOR
 * after REST resume the file in place. Each command is checked (rights,
 * the file) before anything is opened on the data side. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_dir.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_xfer.h"

#define R_BAD_REST 554
#define STOU_TRIES 1000

static bool data_checks(struct ftpd_sess *fs)
{
	if (ftpd_tls_required_for_data(fs)) {
		ftpd_send(fs, 521, "Data connections must be encrypted here: send PROT P first.");
		return false;
	}
	return ftpd_data_ready_check(fs);
}

void ftpd_cmd_retr(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (!data_checks(fs))
		return;
	struct ftpd_target t;
	uint64_t rest = fs->rest;
	fs->rest = 0;
	if (ftpd_target(fs, c, FTPD_READ, &t) < 0)
		return;
	int fd = jail_open_file(t.j, t.k, O_RDONLY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		ftpd_send_errno(fs, err, t.v);
		return;
	}
	if (fs->type != 'A' && rest > (uint64_t)st.st_size) {
		close(fd);
		ftpd_send(fs, R_BAD_REST, "Restart offset %llu is past the end of %s (%lld bytes).",
			  (unsigned long long)rest, t.v, (long long)st.st_size);
		return;
	}
	struct ftpd_xfer *x = ftpd_xfer_new(fs, FTPD_X_RETR, t.v);
	if (x == NULL) {
		close(fd);
		return;
	}
	x->file_fd = fd;
	x->size = st.st_size;
	/* TYPE A offsets count bytes on the wire: skip that many converted. */
	if (x->ascii)
		x->skip = rest;
	else
		x->offset = (off_t)rest;
	ftpd_xfer_begin(x);
}

/* The first free name among base, base.1, base.2, ... */
static char *unique_name(const struct jail *j, const char *base)
{
	char cand[JAIL_VPATH_MAX];
	for (unsigned n = 0; n < STOU_TRIES; n++) {
		if (n == 0)
			str_copy(cand, sizeof cand, base);
		else if (str_fmt(cand, sizeof cand, "%s.%u", base, n) < 0)
			break;
		struct stat st;
		if (jail_lstat(j, cand, &st) < 0 && errno == ENOENT)
			return strdup(cand);
	}
	errno = EEXIST;
	return NULL;
}

/* Give x's virtual path a new last component (STOU's chosen name). */
static int rename_vpath(struct ftpd_xfer *x, const char *name)
{
	char v[JAIL_VPATH_MAX];
	const char *slash = strrchr(x->vpath, '/');
	int n = slash != NULL ? (int)(slash - x->vpath) : 0;
	if (str_fmt(v, sizeof v, "%.*s/%s", n, x->vpath, name) < 0)
		return -1;
	char *dup = strdup(v);
	if (dup == NULL)
		return -1;
	free(x->vpath);
	x->vpath = dup;
	return 0;
}

static void upload_start(struct ftpd_sess *fs, struct session_call *c, enum ftpd_xfer_kind kind)
{
	if (!data_checks(fs))
		return;
	uint64_t rest = fs->rest;
	fs->rest = 0;
	bool inplace = kind == FTPD_X_APPE || (kind == FTPD_X_STOR && rest > 0);
	if (kind == FTPD_X_STOR && rest > 0 && fs->type == 'A') {
		ftpd_send(fs, FTPD_R_BAD_PARAMETER, "REST before STOR is not supported in ASCII "
			  "mode; send TYPE I.");
		return;
	}
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
	static char dflt[] = "ftp-upload";
	const char *arg = c->arglen > 0 ? c->arg : dflt;
	size_t arglen = c->arglen > 0 ? c->arglen : strlen(dflt);
	if (ftpd_path(fs, arg, arglen, inplace ? FTPD_WRITE : FTPD_CREATE, v, sizeof v, &j, &k) < 0)
		return;
	struct stat st;
	bool exists = jail_stat(j, k, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: Is a directory.", v);
		return;
	}
	if (kind == FTPD_X_STOR && !inplace && exists && !ftpd_may_overwrite(fs)) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: File exists, and this account may not "
			  "replace files.", v);
		return;
	}
	struct ftpd_xfer *x = ftpd_xfer_new(fs, kind, v);
	if (x == NULL)
		return;
	x->jail = j;
	x->kpath = kind == FTPD_X_STOU ? unique_name(j, k) : strdup(k);
	if (x->kpath == NULL) {
		ftpd_send_errno(fs, errno == EEXIST ? EEXIST : ENOMEM, v);
		ftpd_xfer_free(x);
		return;
	}
	if (kind == FTPD_X_STOU && rename_vpath(x, jail_vpath_base(x->kpath)) < 0) {
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory.");
		ftpd_xfer_free(x);
		return;
	}
	unsigned mode = fs->srv->conf->file_mode;
	if (inplace) {
		x->created = !exists;
		x->file_fd = jail_open_file(j, k, O_WRONLY | O_CREAT, mode);
		if (x->file_fd < 0 || fstat(x->file_fd, &st) < 0) {
			ftpd_send_errno(fs, errno, v);
			ftpd_xfer_free(x);
			return;
		}
		x->orig_size = st.st_size;
		x->offset = kind == FTPD_X_APPE ? st.st_size : (off_t)rest;
		if (rest > (uint64_t)st.st_size && kind == FTPD_X_STOR) {
			ftpd_send(fs, R_BAD_REST, "Restart offset %llu is past the end of %s (%lld "
				  "bytes).", (unsigned long long)rest, v, (long long)st.st_size);
			ftpd_xfer_free(x);
			return;
		}
		if (lseek(x->file_fd, x->offset, SEEK_SET) < 0) {
			ftpd_send_errno(fs, errno, v);
			ftpd_xfer_free(x);
			return;
		}
	} else {
		x->noreplace = !ftpd_may_overwrite(fs) || kind == FTPD_X_STOU;
		x->old_size = exists && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		if (jail_open_tmp_for_upload(j, x->kpath, mode, &x->up) < 0) {
			ftpd_send_errno(fs, errno, v);
			ftpd_xfer_free(x);
			return;
		}
		x->tmp = true;
	}
	ftpd_xfer_begin(x);
}

void ftpd_cmd_stor(struct session_call *c) { upload_start(c->proto, c, FTPD_X_STOR); }
void ftpd_cmd_appe(struct session_call *c) { upload_start(c->proto, c, FTPD_X_APPE); }
void ftpd_cmd_stou(struct session_call *c) { upload_start(c->proto, c, FTPD_X_STOU); }

/* STOU: the name announced may have been taken meanwhile; the next free
 * one is used (RENAME_NOREPLACE, so never over another upload). */
static int commit_unique(struct ftpd_xfer *x)
{
	const char *base = jail_vpath_base(x->kpath);
	char name[NAME_MAX + 1];
	for (unsigned n = 0; n < STOU_TRIES; n++) {
		int rc = n == 0 ? str_copy(name, sizeof name, base)
				: (str_fmt(name, sizeof name, "%s.%u", base, n) < 0 ? -1 : 0);
		if (rc < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (jail_commit_upload(&x->up, name, JAIL_NOREPLACE) == 0) {
			if (n > 0)
				rename_vpath(x, name);	/* report the name really used */
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int ftpd_xfer_commit(struct ftpd_xfer *x, int *code, char *text, size_t textsz)
{
	struct ftpd_sess *fs = x->fs;
	if (x->tmp) {
		int rc = x->kind == FTPD_X_STOU ? commit_unique(x)
			 : jail_commit_upload(&x->up, NULL, x->noreplace ? JAIL_NOREPLACE : 0);
		if (rc < 0) {
			int err = errno;
			jail_abort_upload(&x->up);
			x->tmp = false;
			*code = err == EEXIST ? FTPD_R_FILE_UNAVAILABLE : ftpd_reply_errno_code(err);
			str_fmt(text, textsz, "%s: %s; the upload was discarded.", x->vpath,
				err == EEXIST ? "File exists, and this account may not replace files"
				: jail_errno_reply(err));
			return -1;
		}
		x->tmp = false;
		uint64_t freed = x->old_size < fs->used ? x->old_size : fs->used;
		fs->used = fs->used - freed + x->bytes;
		if (x->kind == FTPD_X_STOU)
			str_fmt(text, textsz, "Transfer complete (%llu bytes); stored as %s.",
				(unsigned long long)x->bytes, jail_vpath_base(x->vpath));
		return 0;
	}
	off_t end = x->offset + (off_t)x->bytes;
	/* STOR after REST: the file now ends where the new data ends. */
	if (x->kind == FTPD_X_STOR && end < x->orig_size && ftruncate(x->file_fd, end) < 0) {
		*code = FTPD_R_LOCAL_ERROR;
		str_fmt(text, textsz, "%s: %s.", x->vpath, jail_errno_reply(errno));
		return -1;
	}
	int rc = close(x->file_fd);
	x->file_fd = -1;
	if (rc < 0) {
		*code = ftpd_reply_errno_code(errno) == FTPD_R_FILE_UNAVAILABLE
			? FTPD_R_LOCAL_ERROR : ftpd_reply_errno_code(errno);
		str_fmt(text, textsz, "%s: %s.", x->vpath, jail_errno_reply(errno));
		return -1;
	}
	off_t size = end > x->orig_size ? end : x->orig_size;
	if (x->kind == FTPD_X_STOR && end < x->orig_size)
		size = end;
	if (size > x->orig_size)
		fs->used += (uint64_t)(size - x->orig_size);
	else
		fs->used -= (uint64_t)(x->orig_size - size) < fs->used
			    ? (uint64_t)(x->orig_size - size) : fs->used;
	return 0;
}

void ftpd_xfer_discard(struct ftpd_xfer *x, bool quota)
{
	if (x->tmp) {
		jail_abort_upload(&x->up);
		x->tmp = false;
		return;
	}
	if (!quota || x->file_fd < 0)
		return;	/* kept: the client may resume it */
	/* Over quota: what this upload added goes again. */
	if (x->created) {
		close(x->file_fd);
		x->file_fd = -1;
		jail_unlink(x->jail, x->kpath);
	} else if (ftruncate(x->file_fd, x->orig_size) < 0) {
		/* Nothing more to do: the reply says the upload failed. */
	}
}

static void list_start(struct ftpd_sess *fs, struct session_call *c, enum ftpd_list_kind kind)
{
	if (!data_checks(fs))
		return;
	fs->rest = 0;
	struct ftpd_dir *d = ftpd_dir_open(fs, kind, c->arg, c->arglen);
	if (d == NULL)
		return;
	struct ftpd_xfer *x = ftpd_xfer_new(fs, FTPD_X_LIST, d->vdir);
	if (x == NULL) {
		ftpd_dir_free(d);
		return;
	}
	x->dir = d;
	ftpd_xfer_begin(x);
}

void ftpd_cmd_list(struct session_call *c) { list_start(c->proto, c, FTPD_LIST_LS); }
void ftpd_cmd_nlst(struct session_call *c) { list_start(c->proto, c, FTPD_LIST_NLST); }
void ftpd_cmd_mlsd(struct session_call *c) { list_start(c->proto, c, FTPD_LIST_MLSD); }
