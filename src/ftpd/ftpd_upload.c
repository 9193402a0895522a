/* Uploads over the data connection (STOR, STOU, APPE; RFC 959 3.4 stream
 * mode: the data ends when the client closes): written as they arrive,
 * converted from CRLF in TYPE A (RFC 959 3.1.1.1), checked against the
 * quota as they come. An upload refused on the way (over quota, or a
 * data connection that did not resume the control connection's TLS
 * session) has the rest of it read and dropped, so that the client can
 * finish sending and read the reply instead of failing on a reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "core/fsutil.h"
#include "lib/str.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_upload.h"
#include "ftpd/ftpd_xfer.h"

#define CHUNK (64 * 1024)
#define DROP_MAX (64 * 1024 * 1024)

/* Would n more bytes break the quota? */
static bool over_quota(const struct ftpd_xfer *x, uint64_t n)
{
	const struct ftpd_sess *fs = x->fs;
	if (fs->quota == 0)
		return false;
	uint64_t after;
	if (x->tmp) {
		after = fs->used - (fs->used >= x->old_size ? x->old_size : fs->used) + x->bytes + n;
	} else {
		uint64_t end = (uint64_t)x->offset + x->bytes + n;
		uint64_t grow = end > (uint64_t)x->orig_size ? end - (uint64_t)x->orig_size : 0;
		after = fs->used + grow;
	}
	return after > fs->quota;
}

static void upload_error(struct ftpd_xfer *x, int err)
{
	int code = ftpd_reply_errno_code(err);
	if (code == FTPD_R_FILE_UNAVAILABLE || code == FTPD_R_BAD_NAME)
		code = FTPD_R_LOCAL_ERROR;
	ftpd_xfer_finish(x, code, "Write error: %s.", jail_errno_reply(err));
}

static void quota_text(const struct ftpd_xfer *x, char *buf, size_t bufsz)
{
	str_fmt(buf, bufsz, "Quota exceeded (%llu bytes allowed); the upload was removed.",
		(unsigned long long)x->fs->quota);
}

static void quota_reply(struct ftpd_xfer *x)
{
	char text[160];
	quota_text(x, text, sizeof text);
	ftpd_xfer_finish(x, FTPD_R_NO_SPACE, "%s", text);
}

void ftpd_upload_refuse(struct ftpd_xfer *x, int code, const char *text)
{
	free(x->refusal);
	x->refusal = strdup(text);
	x->refusal_code = code;
	x->drop_left = DROP_MAX;
	struct evbuffer *in = session_input(x->data);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* Over quota: what was written goes at once, the rest is dropped. */
static void quota_refused(struct ftpd_xfer *x)
{
	ftpd_xfer_discard(x, true);
	char text[160];
	quota_text(x, text, sizeof text);
	ftpd_upload_refuse(x, FTPD_R_NO_SPACE, text);
}

static void refusal_reply(struct ftpd_xfer *x)
{
	ftpd_xfer_finish(x, x->refusal_code, "%s", x->refusal != NULL ? x->refusal
			 : "Upload refused.");
}

/* Take what arrived. 0, or -1 after finish. */
int ftpd_upload_input(struct ftpd_xfer *x)
{
	struct evbuffer *in = session_input(x->data);
	int fd = x->tmp ? x->up.fd : x->file_fd;
	size_t len;
	if (x->refusal_code != 0) {
		len = evbuffer_get_length(in);
		evbuffer_drain(in, len);
		if (len <= x->drop_left) {
			x->drop_left -= len;
			return 0;
		}
		refusal_reply(x);
		return -1;
	}
	while ((len = evbuffer_get_length(in)) > 0) {
		if (x->ascii) {
			int n = evbuffer_remove(in, x->buf, CHUNK);
			if (n <= 0)
				break;
			size_t m = ftpd_ascii_from_wire(&x->asc, x->buf, (size_t)n, x->buf + CHUNK);
			if (over_quota(x, m)) {
				quota_refused(x);
				return 0;
			}
			if (fs_write_all(fd, x->buf + CHUNK, m) < 0) {
				upload_error(x, errno);
				return -1;
			}
			x->bytes += m;
			continue;
		}
		if (over_quota(x, len)) {
			quota_refused(x);
			return 0;
		}
		int w = evbuffer_write(in, fd);
		if (w < 0) {
			upload_error(x, errno);
			return -1;
		}
		x->bytes += (uint64_t)w;
	}
	return 0;
}

void ftpd_upload_end(struct ftpd_xfer *x)
{
	if (ftpd_upload_input(x) < 0)
		return;
	if (x->refusal_code != 0) {
		refusal_reply(x);
		return;
	}
	if (x->ascii) {
		char c;
		size_t n = ftpd_ascii_from_wire_end(&x->asc, &c);
		if (n > 0) {
			if (over_quota(x, n)) {
				ftpd_xfer_discard(x, true);
				quota_reply(x);
				return;
			}
			if (fs_write_all(x->tmp ? x->up.fd : x->file_fd, &c, n) < 0) {
				upload_error(x, errno);
				return;
			}
			x->bytes += n;
		}
	}
	ftpd_xfer_finish_ok(x);
}

void ftpd_upload_run(struct ftpd_xfer *x)
{
	if (x->ascii && x->buf == NULL && (x->buf = malloc(CHUNK * 3)) == NULL) {
		ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return;
	}
	/* Data that came with the handshake is already waiting. */
	if (evbuffer_get_length(session_input(x->data)) > 0)
		ftpd_upload_input(x);
}

