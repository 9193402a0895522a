/* File transfers: RETR and STOR/APPE (RFC 959), resuming with SIZE + REST
 * (RFC 3659 4 and 5) or APPE, ASCII type with CR LF <-> LF conversion
 * (RFC 959 3.1.1.1), --limit-rate, progress, and a stall timeout on the
 * data connection. Uploads use sendfile(2) on plain connections; downloads
 * read in large blocks and write them whole. */
#include "ftp/ftp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/str.h"
#include "core/term.h"

#define XFER_BUF (1024 * 1024)

/* Where downloaded bytes go; the local file is opened only once the
 * server has agreed to send (a 550 must not leave an empty file). */
struct sink {
	const char *path;	/* NULL: fd is already open */
	int fd;
	uint64_t offset;	/* resume point, or 0 */
	bool pending_cr;	/* ASCII: a CR ended the previous block */
};

static int sink_open(struct sink *s, ik_err *e)
{
	if (s->path == NULL)
		return 0;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	if (s->offset == 0)
		flags |= O_TRUNC;
	s->fd = open(s->path, flags, 0644);
	if (s->fd < 0)
		return ik_err_errno(e, errno, "cannot write %s", s->path);
	if (s->offset > 0 && lseek(s->fd, (off_t)s->offset, SEEK_SET) < 0)
		return ik_err_errno(e, errno, "cannot seek in %s", s->path);
	return 0;
}

static int write_all(int fd, const char *p, size_t n, const char *what, ik_err *e)
{
	if (fs_write_all(fd, p, n) < 0)
		return ik_err_errno(e, errno, "write %s", what);
	return 0;
}

/* CR LF -> LF in place; a CR at the end of a block waits for the next. */
static size_t ascii_in(struct sink *s, char *buf, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (s->pending_cr) {
			s->pending_cr = false;
			if (c != '\n')
				buf[o++] = '\r';
		}
		if (c == '\r') {
			s->pending_cr = true;
			continue;
		}
		buf[o++] = c;
	}
	return o;
}

static int retr(struct ftp *f, const char *rpath, struct sink *s, uint64_t total,
		uint64_t *got, ik_err *e)
{
	if (ftp_set_type(f, f->ascii, e) < 0)
		return -1;
	struct ftp_data d;
	if (ftp_data_open(f, &d, "RETR", rpath, s->offset, e) < 0)
		return -1;
	if (sink_open(s, e) < 0) {
		ftp_data_abort(f, &d);
		return -1;
	}
	char *buf = malloc(XFER_BUF);
	if (buf == NULL) {
		ftp_data_abort(f, &d);
		return ik_err_set(e, "out of memory");
	}
	struct ftp_progress pr;
	ftp_progress_begin(&pr, f->o.progress, ftp_path_base(rpath), total, s->offset);
	pr.batch = f->batch;
	struct ftp_limiter lim;
	ftp_limiter_begin(&lim, f->o.limit_rate);
	size_t chunk = XFER_BUF;
	if (f->o.limit_rate > 0 && f->o.limit_rate / 8 + 1 < chunk)
		chunk = (size_t)(f->o.limit_rate / 8 + 1);
	uint64_t n = 0;
	int rc = 0;
	/* Binary into a regular file over plain TCP: splice, no copy through
	 * our buffer. Not worth its pipe for small files. */
	struct stat st;
	bool zero_copy = !f->ascii && d.conn.ssl == NULL &&
			 (total == 0 || total - s->offset >= 256 * 1024) &&
			 fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
	for (;;) {
		/* Zero copy: splice writes to s->fd itself. */
		ssize_t r = zero_copy
			? client_conn_splice(&d.conn, s->fd, chunk, f->o.data_timeout_ms, e)
			: client_conn_read(&d.conn, buf, chunk, f->o.data_timeout_ms, e);
		if (r == 0)
			break;
		if (r < 0) {
			ik_err_prefix(e, "transfer of %s stopped after %llu bytes", rpath,
				      (unsigned long long)(s->offset + n));
			rc = -1;
			break;
		}
		n += (uint64_t)r;
		if (!zero_copy) {
			size_t len = f->ascii ? ascii_in(s, buf, (size_t)r) : (size_t)r;
			if (write_all(s->fd, buf, len, s->path ? s->path : "output", e) < 0) {
				rc = -1;
				break;
			}
		}
		ftp_progress_add(&pr, (uint64_t)r);
		ftp_limiter_wait(&lim, (uint64_t)r);
	}
	free(buf);
	if (rc == 0 && s->pending_cr)
		rc = write_all(s->fd, "\r", 1, s->path ? s->path : "output", e);
	ftp_progress_end(&pr);
	if (got != NULL)
		*got = n;
	if (rc < 0) {
		ftp_data_abort(f, &d);
		return -1;
	}
	if (ftp_data_finish(f, &d, e) < 0)
		return -1;
	if (!f->ascii && total > 0 && s->offset + n != total)
		return ik_err_set(e, "transfer of %s ended early: %llu of %llu bytes", rpath,
				  (unsigned long long)(s->offset + n), (unsigned long long)total);
	return 0;
}

int ftp_get_fd(struct ftp *f, const char *rpath, int fd, uint64_t offset, uint64_t total,
	       const char *label, uint64_t *got, ik_err *e)
{
	(void)label;
	struct sink s = {.path = NULL, .fd = fd, .offset = offset};
	return retr(f, rpath, &s, total, got, e);
}

int ftp_get(struct ftp *f, const char *rpath, const char *lpath, ik_err *e)
{
	uint64_t total = 0;
	if (!f->ascii && ftp_size(f, rpath, &total, e) < 0)
		return -1;
	if (strcmp(lpath, "-") == 0)
		return ftp_get_fd(f, rpath, STDOUT_FILENO, 0, total, rpath, NULL, e);
	struct sink s = {.path = lpath, .fd = -1};
	if (f->o.cont) {
		if (f->ascii)
			return ik_err_set(e, "--continue needs binary mode");
		struct stat st;
		if (stat(lpath, &st) == 0 && S_ISREG(st.st_mode))
			s.offset = (uint64_t)st.st_size;
		if (total > 0 && s.offset == total) {
			if (f->o.progress)
				fprintf(stderr, "%s: already complete\n", lpath);
			return 0;
		}
		if (total > 0 && s.offset > total)
			return ik_err_set(e, "%s is larger (%llu bytes) than %s on the server (%llu); "
					  "not resuming", lpath, (unsigned long long)s.offset, rpath,
					  (unsigned long long)total);
	}
	int r = retr(f, rpath, &s, total, NULL, e);
	if (s.fd >= 0) {
		if (close(s.fd) < 0 && r == 0)
			r = ik_err_errno(e, errno, "write %s", lpath);
	}
	if (r < 0 && s.fd >= 0 && e != NULL) {
		char msg[IK_ERR_MAX];
		str_copy(msg, sizeof msg, e->msg);
		ik_err_set(e, "%s (partial file %s kept: run again with --continue to finish it)",
			   msg, lpath);
	}
	return r;
}

/* LF -> CR LF for an ASCII upload. */
static int stor_ascii(struct ftp_data *d, int fd, struct ftp *f, struct ftp_progress *pr,
		      ik_err *e)
{
	char in[64 * 1024], out[128 * 1024];
	for (;;) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ik_err_errno(e, errno, "read local file");
		}
		if (r == 0)
			return 0;
		size_t o = 0;
		for (ssize_t i = 0; i < r; i++) {
			if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
				out[o++] = '\r';
			out[o++] = in[i];
		}
		if (client_conn_write(&d->conn, out, o, f->o.data_timeout_ms, e) < 0)
			return -1;
		ftp_progress_add(pr, (uint64_t)r);
	}
}

static int stor(struct ftp *f, int fd, uint64_t size, uint64_t offset, const char *rpath,
		bool append, const char *lpath, ik_err *e)
{
	if (ftp_set_type(f, f->ascii, e) < 0)
		return -1;
	struct ftp_data d;
	if (ftp_data_open(f, &d, append ? "APPE" : "STOR", rpath, 0, e) < 0)
		return -1;
	struct ftp_progress pr;
	ftp_progress_begin(&pr, f->o.progress, ftp_path_base(lpath), size, offset);
	pr.batch = f->batch;
	int rc = 0;
	if (f->ascii) {
		rc = stor_ascii(&d, fd, f, &pr, e);
	} else {
		struct ftp_limiter lim;
		ftp_limiter_begin(&lim, f->o.limit_rate);
		size_t chunk = 4 * XFER_BUF;
		if (f->o.limit_rate > 0 && f->o.limit_rate / 8 + 1 < chunk)
			chunk = (size_t)(f->o.limit_rate / 8 + 1);
		off_t off = (off_t)offset;
		for (;;) {
			ssize_t r = client_conn_sendfile(&d.conn, fd, &off, chunk,
							 f->o.data_timeout_ms, e);
			if (r == 0)
				break;
			if (r < 0) {
				ik_err_prefix(e, "upload of %s stopped after %lld bytes", lpath,
					      (long long)off);
				rc = -1;
				break;
			}
			ftp_progress_add(&pr, (uint64_t)r);
			ftp_limiter_wait(&lim, (uint64_t)r);
		}
	}
	ftp_progress_end(&pr);
	if (rc < 0) {
		ftp_data_abort(f, &d);
		return -1;
	}
	return ftp_data_finish(f, &d, e);
}

int ftp_put(struct ftp *f, const char *lpath, const char *rpath, ik_err *e)
{
	int fd = open(lpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot read %s", lpath);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ik_err_set(e, "%s is not a regular file", lpath);
	}
	uint64_t size = (uint64_t)st.st_size, offset = 0;
	bool append = false;
	if (f->o.cont) {
		if (f->ascii) {
			close(fd);
			return ik_err_set(e, "--continue needs binary mode");
		}
		uint64_t remote = 0;
		int k = ftp_size(f, rpath, &remote, e);
		if (k < 0) {
			close(fd);
			return -1;
		}
		if (k == 1 && remote == size) {
			close(fd);
			if (f->o.progress)
				fprintf(stderr, "%s: already complete on the server\n", rpath);
			return 0;
		}
		if (k == 1 && remote > size) {
			close(fd);
			return ik_err_set(e, "%s on the server is larger (%llu bytes) than %s (%llu); "
					  "not resuming", rpath, (unsigned long long)remote, lpath,
					  (unsigned long long)size);
		}
		if (k == 1 && remote > 0) {
			offset = remote;
			append = true;
		}
	}
	int r = stor(f, fd, size, offset, rpath, append, lpath, e);
	close(fd);
	return r;
}
