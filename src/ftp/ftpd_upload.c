#include "core/fsutil.h"
/* Uploads over the data connection (STOR, STOU, APPE; RFC 959 3.4 stream
#include "core/fsutil.h"
 * mode: the data ends when the client closes): written as they arrive,
#include "core/fsutil.h"
 * converted from CRLF in TYPE A (RFC 959 3.1.1.1), checked against the
#include "core/fsutil.h"
 * quota as they come. An upload over quota is removed at once and the
#include "core/fsutil.h"
 * rest of it read and dropped, so that the client can finish sending and
#include "core/fsutil.h"
 * read the 452 instead of failing on a reset. */
#include "core/fsutil.h"
#include <errno.h>
#include "core/fsutil.h"
#include <stdlib.h>
#include "core/fsutil.h"
#include <string.h>
#include "core/fsutil.h"
#include <unistd.h>
#include "core/fsutil.h"

#include "core/fsutil.h"
#include <event2/buffer.h>
#include "core/fsutil.h"

#include "core/fsutil.h"
#include "ftp/ftpd_int.h"
#include "core/fsutil.h"

#include "core/fsutil.h"
#define CHUNK (64 * 1024)
#include "core/fsutil.h"
#define QUOTA_DROP_MAX (64 * 1024 * 1024)
#include "core/fsutil.h"

#include "core/fsutil.h"
/* Would n more bytes break the quota? */
#include "core/fsutil.h"
static bool over_quota(const struct ftpd_xfer *x, uint64_t n)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	const struct ftpd_sess *fs = x->fs;
#include "core/fsutil.h"
	if (fs->quota == 0)
#include "core/fsutil.h"
		return false;
#include "core/fsutil.h"
	uint64_t after;
#include "core/fsutil.h"
	if (x->tmp) {
#include "core/fsutil.h"
		after = fs->used - (fs->used >= x->old_size ? x->old_size : fs->used) + x->bytes + n;
#include "core/fsutil.h"
	} else {
#include "core/fsutil.h"
		uint64_t end = (uint64_t)x->offset + x->bytes + n;
#include "core/fsutil.h"
		uint64_t grow = end > (uint64_t)x->orig_size ? end - (uint64_t)x->orig_size : 0;
#include "core/fsutil.h"
		after = fs->used + grow;
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	return after > fs->quota;
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
static void upload_error(struct ftpd_xfer *x, int err)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	int code = ftpd_reply_errno_code(err);
#include "core/fsutil.h"
	if (code == FTPD_R_FILE_UNAVAILABLE || code == FTPD_R_BAD_NAME)
#include "core/fsutil.h"
		code = FTPD_R_LOCAL_ERROR;
#include "core/fsutil.h"
	ftpd_xfer_finish(x, code, "Write error: %s.", jail_errno_reply(err));
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
static void quota_reply(struct ftpd_xfer *x)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	ftpd_xfer_finish(x, FTPD_R_NO_SPACE, "Quota exceeded (%llu bytes allowed); the upload "
#include "core/fsutil.h"
			 "was removed.", (unsigned long long)x->fs->quota);
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
/* Over quota: what was written goes at once; the rest of the upload is
#include "core/fsutil.h"
 * read and dropped (up to QUOTA_DROP_MAX), so that the client finishes
#include "core/fsutil.h"
 * sending and then reads the 452 instead of failing on a reset. */
#include "core/fsutil.h"
static void quota_refused(struct ftpd_xfer *x)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	ftpd_xfer_discard(x, true);
#include "core/fsutil.h"
	x->over_quota = true;
#include "core/fsutil.h"
	x->drop_left = QUOTA_DROP_MAX;
#include "core/fsutil.h"
	struct evbuffer *in = bufferevent_get_input(x->bev);
#include "core/fsutil.h"
	evbuffer_drain(in, evbuffer_get_length(in));
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
/* Take what arrived. 0, or -1 after finish. */
#include "core/fsutil.h"
int ftpd_upload_input(struct ftpd_xfer *x)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	struct evbuffer *in = bufferevent_get_input(x->bev);
#include "core/fsutil.h"
	int fd = x->tmp ? x->up.fd : x->file_fd;
#include "core/fsutil.h"
	size_t len;
#include "core/fsutil.h"
	if (x->over_quota) {
#include "core/fsutil.h"
		len = evbuffer_get_length(in);
#include "core/fsutil.h"
		evbuffer_drain(in, len);
#include "core/fsutil.h"
		if (len <= x->drop_left) {
#include "core/fsutil.h"
			x->drop_left -= len;
#include "core/fsutil.h"
			return 0;
#include "core/fsutil.h"
		}
#include "core/fsutil.h"
		quota_reply(x);
#include "core/fsutil.h"
		return -1;
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	while ((len = evbuffer_get_length(in)) > 0) {
#include "core/fsutil.h"
		if (x->ascii) {
#include "core/fsutil.h"
			int n = evbuffer_remove(in, x->buf, CHUNK);
#include "core/fsutil.h"
			if (n <= 0)
#include "core/fsutil.h"
				break;
#include "core/fsutil.h"
			size_t m = ftpd_ascii_from_wire(&x->asc, x->buf, (size_t)n, x->buf + CHUNK);
#include "core/fsutil.h"
			if (over_quota(x, m)) {
#include "core/fsutil.h"
				quota_refused(x);
#include "core/fsutil.h"
				return 0;
#include "core/fsutil.h"
			}
#include "core/fsutil.h"
			if (fs_write_all(fd, x->buf + CHUNK, m) < 0) {
#include "core/fsutil.h"
				upload_error(x, errno);
#include "core/fsutil.h"
				return -1;
#include "core/fsutil.h"
			}
#include "core/fsutil.h"
			x->bytes += m;
#include "core/fsutil.h"
			continue;
#include "core/fsutil.h"
		}
#include "core/fsutil.h"
		if (over_quota(x, len)) {
#include "core/fsutil.h"
			quota_refused(x);
#include "core/fsutil.h"
			return 0;
#include "core/fsutil.h"
		}
#include "core/fsutil.h"
		int w = evbuffer_write(in, fd);
#include "core/fsutil.h"
		if (w < 0) {
#include "core/fsutil.h"
			upload_error(x, errno);
#include "core/fsutil.h"
			return -1;
#include "core/fsutil.h"
		}
#include "core/fsutil.h"
		x->bytes += (uint64_t)w;
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	return 0;
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
void ftpd_upload_end(struct ftpd_xfer *x)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	if (ftpd_upload_input(x) < 0)
#include "core/fsutil.h"
		return;
#include "core/fsutil.h"
	if (x->over_quota) {
#include "core/fsutil.h"
		quota_reply(x);
#include "core/fsutil.h"
		return;
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	if (x->ascii) {
#include "core/fsutil.h"
		char c;
#include "core/fsutil.h"
		size_t n = ftpd_ascii_from_wire_end(&x->asc, &c);
#include "core/fsutil.h"
		if (n > 0) {
#include "core/fsutil.h"
			if (over_quota(x, n)) {
#include "core/fsutil.h"
				ftpd_xfer_discard(x, true);
#include "core/fsutil.h"
				quota_reply(x);
#include "core/fsutil.h"
				return;
#include "core/fsutil.h"
			}
#include "core/fsutil.h"
			if (fs_write_all(x->tmp ? x->up.fd : x->file_fd, &c, n) < 0) {
#include "core/fsutil.h"
				upload_error(x, errno);
#include "core/fsutil.h"
				return;
#include "core/fsutil.h"
			}
#include "core/fsutil.h"
			x->bytes += n;
#include "core/fsutil.h"
		}
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	ftpd_xfer_finish_ok(x);
#include "core/fsutil.h"
}
#include "core/fsutil.h"

#include "core/fsutil.h"
void ftpd_upload_run(struct ftpd_xfer *x)
#include "core/fsutil.h"
{
#include "core/fsutil.h"
	struct ftpd_sess *fs = x->fs;
#include "core/fsutil.h"
	if (x->ascii && x->buf == NULL && (x->buf = malloc(CHUNK * 3)) == NULL) {
#include "core/fsutil.h"
		ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Out of memory.");
#include "core/fsutil.h"
		return;
#include "core/fsutil.h"
	}
#include "core/fsutil.h"
	if (fs->srv->rate_up != NULL)
#include "core/fsutil.h"
		bufferevent_set_rate_limit(x->bev, fs->srv->rate_up);
#include "core/fsutil.h"
	bufferevent_set_max_single_read(x->bev, 256 * 1024);
#include "core/fsutil.h"
	bufferevent_enable(x->bev, EV_READ);
#include "core/fsutil.h"
	/* Data that came with the handshake is already waiting. */
#include "core/fsutil.h"
	if (evbuffer_get_length(bufferevent_get_input(x->bev)) > 0)
#include "core/fsutil.h"
		ftpd_upload_input(x);
#include "core/fsutil.h"
}
#include "core/fsutil.h"

