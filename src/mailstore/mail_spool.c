/* The spool file of a message being received: written through a buffer of
 * our own (the event loop writes to the page cache only, in large writes),
 * turned from the network's CRLF into LF on the way, fsync'ed once on an
 * offload thread, then linked (or copied) wherever the message belongs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "mailstore/mailstore_int.h"

#define MAIL_SPOOL_BUF (64u * 1024)

struct mail_spool *mail_spool_new(struct mailstore *ms, ik_err *e)
{
	struct mail_spool *sp = calloc(1, sizeof *sp);
	if (sp == NULL) {
		ik_err_errno(e, ENOMEM, "cannot start a spool file");
		return NULL;
	}
	sp->ms = ms;
	for (int tries = 0;; tries++) {
		if (mailstore_unique(sp->id, sizeof sp->id) < 0) {
			ik_err_set(e, "cannot make a spool name");
			break;
		}
		sp->fd = openat(ms->spool_fd, sp->id,
				O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (sp->fd >= 0)
			return sp;
		/* EEXIST: a leftover from a process that had our pid. */
		if (errno != EEXIST || tries == 3) {
			ik_err_errno(e, errno, "cannot create a spool file in mail/" MAILSTORE_SPOOL_DIR);
			break;
		}
	}
	free(sp);
	return NULL;
}

static int spool_failed(struct mail_spool *sp, ik_err *e)
{
	errno = sp->failed;
	return ik_err_errno(e, sp->failed, "cannot write the spool file %s", sp->id);
}

static int flush_buf(struct mail_spool *sp, ik_err *e)
{
	if (sp->blen == 0)
		return 0;
	if (fs_write_all(sp->fd, sp->buf, sp->blen) < 0) {
		sp->failed = errno;
		return spool_failed(sp, e);
	}
	sp->blen = 0;
	return 0;
}

/* Queue bytes as they are; a write of a full buffer goes straight out. */
static int emit(struct mail_spool *sp, const char *p, size_t n, ik_err *e)
{
	if (sp->failed)
		return spool_failed(sp, e);
	if (sp->synced) {
		errno = EINVAL;
		return ik_err_set(e, "spool file %s is already synced: nothing may be added",
				  sp->id);
	}
	if (sp->buf == NULL && (sp->buf = malloc(MAIL_SPOOL_BUF)) == NULL) {
		sp->failed = ENOMEM;
		return spool_failed(sp, e);
	}
	sp->size += n;
	if (sp->blen + n > MAIL_SPOOL_BUF) {
		if (flush_buf(sp, e) < 0)
			return -1;
		if (n >= MAIL_SPOOL_BUF) {
			if (fs_write_all(sp->fd, p, n) < 0) {
				sp->failed = errno;
				return spool_failed(sp, e);
			}
			return 0;
		}
	}
	memcpy(sp->buf + sp->blen, p, n);
	sp->blen += n;
	return 0;
}

/* A CR held back by put_crlf that no LF followed: it is data. */
static int release_cr(struct mail_spool *sp, ik_err *e)
{
	if (!sp->held_cr)
		return 0;
	sp->held_cr = false;
	return emit(sp, "\r", 1, e);
}

int mail_spool_put(struct mail_spool *sp, const void *data, size_t len, ik_err *e)
{
	if (release_cr(sp, e) < 0)
		return -1;
	return len == 0 ? 0 : emit(sp, data, len, e);
}

int mail_spool_put_crlf(struct mail_spool *sp, const void *data, size_t len, ik_err *e)
{
	const char *p = data, *end = p + len;
	if (len == 0)
		return 0;
	if (sp->held_cr) {
		sp->held_cr = false;
		if (*p == '\n') {
			if (emit(sp, "\n", 1, e) < 0)
				return -1;
			p++;
		} else if (emit(sp, "\r", 1, e) < 0) {
			return -1;
		}
	}
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (cr == NULL)
			return emit(sp, p, (size_t)(end - p), e);
		if (cr + 1 == end) {
			sp->held_cr = true;	/* the next call says what it is */
			return emit(sp, p, (size_t)(cr - p), e);
		}
		/* Up to the CR; the CR itself only when no LF follows it. */
		size_t keep = (size_t)(cr - p) + (cr[1] == '\n' ? 0 : 1);
		if (emit(sp, p, keep, e) < 0)
			return -1;
		p = cr + 1;
	}
	return 0;
}

uint64_t mail_spool_size(const struct mail_spool *sp)
{
	return sp->size;
}

const char *mail_spool_id(const struct mail_spool *sp)
{
	return sp->id;
}

int mail_spool_fd(const struct mail_spool *sp)
{
	return sp->fd;
}

const char *mail_spool_name(const struct mail_spool *sp)
{
	return sp->id;
}

int mail_spool_sync(struct mail_spool *sp, ik_err *e)
{
	if (sp->synced)
		return 0;
	if (release_cr(sp, e) < 0 || flush_buf(sp, e) < 0)
		return -1;
	if (sp->failed)
		return spool_failed(sp, e);
	/* fsync, not fdatasync: the file is new, its size and the blocks it
	 * points at are metadata that must be on disk too. */
	if (fsync(sp->fd) < 0) {
		sp->failed = errno;
		return ik_err_errno(e, errno, "cannot fsync the spool file %s", sp->id);
	}
	free(sp->buf);
	sp->buf = NULL;
	sp->synced = true;
	return 0;
}

int mail_spool_read_all(struct mail_spool *sp, struct sbuf *out, ik_err *e)
{
	if (!sp->synced && (release_cr(sp, e) < 0 || flush_buf(sp, e) < 0))
		return -1;
	if (sp->failed)
		return spool_failed(sp, e);
	size_t n = (size_t)sp->size;
	char *p = sbuf_reserve(out, n);
	if (p == NULL)
		return ik_err_set(e, "spool file %s: too big to read into memory", sp->id);
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(sp->fd, p + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ik_err_errno(e, r < 0 ? errno : EIO, "cannot read the spool file %s",
					    sp->id);
		got += (size_t)r;
	}
	sbuf_commit(out, n);
	return 0;
}

int mail_spool_replace(struct mail_spool *sp, const void *data, size_t len, ik_err *e)
{
	if (sp->synced) {
		errno = EINVAL;
		return ik_err_set(e, "spool file %s is already synced: it may not change", sp->id);
	}
	if (sp->failed)
		return spool_failed(sp, e);
	/* Nothing may stay buffered: it would land after the new text. */
	sp->blen = 0;
	sp->size = 0;
	sp->held_cr = false;
	if (ftruncate(sp->fd, 0) < 0 || lseek(sp->fd, 0, SEEK_SET) < 0) {
		sp->failed = errno;
		return spool_failed(sp, e);
	}
	return emit(sp, data, len, e);
}

/* Copy the spool's bytes to fd (blocking). */
static int copy_to(struct mail_spool *sp, int fd)
{
	char buf[16384];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(sp->fd, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (fs_write_all(fd, buf, (size_t)n) < 0)
			return -1;
		off += n;
	}
}

/* renameat that keeps an existing target (EEXIST), where the file system
 * can say so. */
static int rename_noreplace(int from_fd, const char *from, int to_fd, const char *to)
{
	if (renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (faccessat(to_fd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from_fd, from, to_fd, to);
}

static int copy_in(struct mail_spool *sp, int tmp_fd, const char *tmp_name, int dir_fd,
		   const char *name, ik_err *e)
{
	int fd = openat(tmp_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot create the copy %s", tmp_name);
	const char *what = "write";
	if (copy_to(sp, fd) == 0 && (what = "fsync", fsync(fd) == 0) &&
	    (what = "rename", rename_noreplace(tmp_fd, tmp_name, dir_fd, name) == 0)) {
		close(fd);
		return 0;
	}
	int err = errno;
	close(fd);
	unlinkat(tmp_fd, tmp_name, 0);
	errno = err;
	return ik_err_errno(e, err, "cannot %s the copy %s of %s", what, tmp_name, sp->id);
}

int mail_spool_link(struct mail_spool *sp, int tmp_fd, const char *tmp_name, int dir_fd,
		    const char *name, ik_err *e)
{
	if (!sp->synced) {
		errno = EINVAL;
		return ik_err_set(e, "spool file %s is placed before it is synced", sp->id);
	}
	if (linkat(sp->ms->spool_fd, sp->id, dir_fd, name, 0) == 0)
		return 0;
	int err = errno;
	if (err == EXDEV || err == EMLINK || err == EPERM)
		return copy_in(sp, tmp_fd, tmp_name, dir_fd, name, e);
	errno = err;
	return ik_err_errno(e, err, "cannot link %s as %s", sp->id, name);
}

void mail_spool_free(struct mail_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0) {
		close(sp->fd);
		unlinkat(sp->ms->spool_fd, sp->id, 0);
	}
	free(sp->buf);
	free(sp);
}
