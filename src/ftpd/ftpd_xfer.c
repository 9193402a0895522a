/* The transfer engine: one data connection from the 150 reply to the
 * final 226 (or 4xx/5xx). RFC 959 3.2 and 4.1.3 (stream mode: the end of
 * the data is the close of the connection; the reply comes after it),
 * RFC 959 4.1.3 ABOR (426 for the aborted transfer, then 226), RFC 4217
 * section 7 (TLS on the data connection, PROT P), RFC 3659 section 5
 * (REST STREAM), RFC 959 3.1.1.1 (TYPE A conversion on the wire).
 *
 * The data connection is a core session (core/datachan made it). Plain
 * binary downloads are queued whole as a file segment, which the session
 * sends with sendfile(2): no copy through user space. Everything else
 * (TLS, TYPE A, listings) goes through a bounded buffer, refilled as the
 * connection drains. Uploads are written as they arrive. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "core/log.h"
#include "lib/str.h"
#include "core/timeutil.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_dir.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_upload.h"
#include "ftpd/ftpd_xfer.h"
#include "ftpd/ftpd_xferlog.h"

#define CHUNK (64 * 1024)
#define FILL_HIGH (256 * 1024)
#define FILL_LOW (64 * 1024)	/* at most the session's out_high / 2 */

bool ftpd_xfer_is_upload(const struct ftpd_xfer *x)
{
	return x->kind == FTPD_X_STOR || x->kind == FTPD_X_APPE || x->kind == FTPD_X_STOU;
}

const char *ftpd_xfer_name(const struct ftpd_xfer *x) { return x->vpath; }

/* A download's bytes are what its session has handed to the kernel. */
uint64_t ftpd_xfer_bytes(const struct ftpd_xfer *x)
{
	return x->data != NULL && !ftpd_xfer_is_upload(x) ? session_bytes_out(x->data) : x->bytes;
}

struct ftpd_xfer *ftpd_xfer_new(struct ftpd_sess *fs, enum ftpd_xfer_kind kind, const char *vpath)
{
	struct ftpd_xfer *x = calloc(1, sizeof *x);
	if (x == NULL || (x->vpath = strdup(vpath)) == NULL) {
		free(x);
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return NULL;
	}
	x->fs = fs;
	x->kind = kind;
	x->file_fd = -1;
	x->up.fd = -1;
	x->up.dir_fd = -1;
	x->ascii = fs->type == 'A' && kind != FTPD_X_LIST;
	ftpd_ascii_init(&x->asc);
	return x;
}

void ftpd_xfer_free(struct ftpd_xfer *x)
{
	if (x == NULL)
		return;
	if (x->data != NULL)
		datachan_end(x->data);
	if (x->file_fd >= 0)
		close(x->file_fd);
	if (x->tmp)
		jail_abort_upload(&x->up);
	ftpd_dir_free(x->dir);
	free(x->buf);
	free(x->refusal);
	free(x->kpath);
	free(x->vpath);
	free(x);
}

/* ---- the end of a transfer ---- */

static void write_xferlog(struct ftpd_xfer *x, bool complete)
{
	struct ftpd_sess *fs = x->fs;
	const struct ftpd_conf *c = fs->srv->conf;
	if (x->kind == FTPD_X_LIST)
		return;
	uint64_t ms = time_mono_coarse_ms() - x->start_ms;
	char q[256];
	log_event(LOG_INFO, "ftp_transfer", "session=%llu user=%s dir=%s path=%s bytes=%llu ms=%llu "
		  "tls=%s result=%s", (unsigned long long)session_id(fs->s), ftpd_who(fs),
		  ftpd_xfer_is_upload(x) ? "in" : "out", log_quote(q, sizeof q, x->vpath),
		  (unsigned long long)x->bytes, (unsigned long long)ms, x->tls ? "yes" : "no",
		  complete ? "complete" : "incomplete");
	if (c->xferlog_fd < 0)
		return;
	struct ftpd_xferlog_rec r = {
		.when = time(NULL),
		.seconds = (unsigned long)((ms + 999) / 1000),
		.host = fs->host,
		.bytes = x->bytes,
		.path = x->vpath,
		.ascii = x->ascii,
		.direction = ftpd_xfer_is_upload(x) ? FTPD_XFER_INCOMING : FTPD_XFER_OUTGOING,
		.access = fs->cls == ACCOUNT_ANON ? FTPD_XFER_ANONYMOUS
			  : fs->cls == ACCOUNT_GUEST ? FTPD_XFER_GUEST : FTPD_XFER_REAL,
		/* The anonymous "password" is what xferlog(5) wants here, but a
		 * password is never logged: the account name instead. */
		.user = fs->name,
		.service = "ftp",
		.complete = complete,
	};
	struct sbuf b = SBUF_INIT(8192);
	if (ftpd_xferlog_format(&b, &r) == 0) {
		ssize_t n = write(c->xferlog_fd, b.data, b.len);
		(void)n;
	}
	sbuf_free(&b);
}

/* Close the data connection (TLS says close_notify first), keeping the
 * count of what it sent. */
static void close_data(struct ftpd_xfer *x)
{
	if (x->data == NULL)
		return;
	x->bytes = ftpd_xfer_bytes(x);
	datachan_end(x->data);
	x->data = NULL;
}

static void finish_v(struct ftpd_xfer *x, int code, const char *fmt, va_list ap)
{
	struct ftpd_sess *fs = x->fs;
	char text[FTPD_REPLY_LINE_MAX];
	vsnprintf(text, sizeof text, fmt, ap);
	close_data(x);
	bool ok = code < 400;
	if (ftpd_xfer_is_upload(x)) {
		if (ok && ftpd_xfer_commit(x, &code, text, sizeof text) < 0)
			ok = false;
		else if (!ok)
			ftpd_xfer_discard(x, code == FTPD_R_NO_SPACE);
	}
	write_xferlog(x, ok);
	ftpd_send(fs, code, "%s", text);
	fs->xfer = NULL;
	ftpd_set_state(fs, FTPD_ST_READY);
	ftpd_xfer_free(x);
	ftpd_xfer_ended(fs);
}

void ftpd_xfer_finish(struct ftpd_xfer *x, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	finish_v(x, code, fmt, ap);
	va_end(ap);
}

void ftpd_xfer_finish_ok(struct ftpd_xfer *x)
{
	if (x->kind == FTPD_X_LIST)
		ftpd_xfer_finish(x, FTPD_R_TRANSFER_DONE, "Directory send OK.");
	else
		ftpd_xfer_finish(x, FTPD_R_TRANSFER_DONE, "Transfer complete (%llu bytes).",
		       (unsigned long long)ftpd_xfer_bytes(x));
}

void ftpd_xfer_failed(struct ftpd_xfer *x, int code, const char *text)
{
	ftpd_xfer_finish(x, code, "%s", text);
}

/* The end of a transfer that did not finish (ABOR, or the session goes):
 * no more data, an upload's temporary removed (an in-place one is kept for
 * resuming), and an incomplete xferlog line. */
static void cut_short(struct ftpd_sess *fs, struct ftpd_xfer *x)
{
	if (x->waiting)
		ftpd_data_reset(fs);
	close_data(x);
	if (ftpd_xfer_is_upload(x))
		ftpd_xfer_discard(x, false);
	write_xferlog(x, false);
}

void ftpd_xfer_abort(struct ftpd_sess *fs)
{
	struct ftpd_xfer *x = fs->xfer;
	cut_short(fs, x);
	ftpd_send(fs, FTPD_R_TRANSFER_ABORTED, "Connection closed; transfer aborted.");
	ftpd_send(fs, FTPD_R_TRANSFER_DONE, "ABOR successful.");
	fs->xfer = NULL;
	ftpd_set_state(fs, FTPD_ST_READY);
	ftpd_xfer_free(x);
	ftpd_xfer_ended(fs);
}

void ftpd_xfer_drop(struct ftpd_sess *fs)
{
	struct ftpd_xfer *x = fs->xfer;
	if (x == NULL)
		return;
	cut_short(fs, x);
	fs->xfer = NULL;
	if (fs->state == FTPD_ST_XFER)
		ftpd_set_state(fs, FTPD_ST_READY);
	ftpd_xfer_free(x);
}

/* ---- downloads and listings ---- */

/* Refill the output from the file or the listing. 0, or -1 after finish. */
static int fill(struct ftpd_xfer *x)
{
	struct evbuffer *out = session_output(x->data);
	while (!x->file_eof && evbuffer_get_length(out) < FILL_HIGH) {
		if (x->dir != NULL) {
			struct sbuf b = SBUF_INIT(CHUNK * 2);
			int r = ftpd_dir_fill(x->dir, &b, CHUNK);
			if (b.len > 0)
				evbuffer_add(out, b.data, b.len);
			sbuf_free(&b);
			if (r < 0) {
				ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Cannot read the directory.");
				return -1;
			}
			x->file_eof = r == 0;
			continue;
		}
		ssize_t n = read(x->file_fd, x->buf, CHUNK);
		if (n < 0) {
			ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Read error: %s.", strerror(errno));
			return -1;
		}
		if (n == 0) {
			x->file_eof = true;
			break;
		}
		const char *data = x->buf;
		size_t len = (size_t)n;
		if (x->ascii) {
			len = ftpd_ascii_to_wire(&x->asc, x->buf, len, x->buf + CHUNK);
			data = x->buf + CHUNK;
			size_t drop = x->skip < len ? (size_t)x->skip : len;
			data += drop;
			len -= drop;
			x->skip -= drop;
		}
		if (len > 0)
			evbuffer_add(out, data, len);
	}
	session_flush(x->data);
	return 0;
}

/* Refill at the low mark; after the last byte, the end. */
static void drained(struct ftpd_xfer *x)
{
	if (!x->file_eof && fill(x) < 0)
		return;
	if (x->file_eof && evbuffer_get_length(session_output(x->data)) == 0) {
		ftpd_xfer_finish_ok(x);
		return;
	}
	session_notify_drained(x->data, x->file_eof ? 0 : FILL_LOW);
}

static void run_download(struct ftpd_xfer *x)
{
	if (x->sendfile) {
		off_t len = x->size - x->offset;
		x->file_eof = true;
		if (len == 0) {
			ftpd_xfer_finish_ok(x);
			return;
		}
		/* The session owns the file from here and closes it. */
		int fd = x->file_fd;
		x->file_fd = -1;
		if (session_send_file(x->data, fd, x->offset, len) < 0) {
			ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Cannot send the file.");
			return;
		}
		session_notify_drained(x->data, 0);
		return;
	}
	if (x->dir == NULL && x->buf == NULL && (x->buf = malloc(CHUNK * 3)) == NULL) {
		ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return;
	}
	if (x->file_fd >= 0 && !x->ascii && lseek(x->file_fd, x->offset, SEEK_SET) < 0) {
		ftpd_xfer_finish(x, FTPD_R_LOCAL_ERROR, "Cannot seek: %s.", strerror(errno));
		return;
	}
	drained(x);
}

static void run(struct ftpd_xfer *x)
{
	x->running = true;
	if (ftpd_xfer_is_upload(x))
		ftpd_upload_run(x);
	else
		run_download(x);
}

/* ---- connection events ---- */

static void timed_out(struct ftpd_xfer *x)
{
	ftpd_xfer_finish(x, FTPD_R_TRANSFER_ABORTED, "Data connection timed out (%llu s without "
			 "progress); transfer aborted.",
			 (unsigned long long)(x->fs->srv->conf->data_ms / 1000));
}

static void tls_failed(struct ftpd_xfer *x, const char *reason)
{
	/* The core says "tls: " and OpenSSL's words when TLS itself failed. */
	const char *why = reason != NULL && strncmp(reason, "tls: ", 5) == 0 ? reason + 5
			  : "connection closed";
	ftpd_xfer_finish(x, FTPD_R_BAD_PROTOCOL, "TLS negotiation on the data connection failed: %s.",
			 why);
}

static void on_tls_ready(struct ftpd_xfer *x)
{
	x->tls_ready = true;
	char why[FTPD_REPLY_LINE_MAX], q[FTPD_REPLY_LINE_MAX + 8];
	if (ftpd_tls_check_reuse(x->fs, x->data, why, sizeof why) < 0) {
		log_event(LOG_NOTICE, "ftp_tls_reuse_refused", "session=%llu reason=%s",
			  (unsigned long long)session_id(x->fs->s), log_quote(q, sizeof q, why));
		if (!ftpd_xfer_is_upload(x)) {
			ftpd_xfer_finish(x, FTPD_R_DATA_TLS_REFUSED, "%s", why);
			return;
		}
		/* An uploading client is still sending: closing now would
		 * reset it before it reads the reply (Python's ftplib). */
		ftpd_upload_refuse(x, FTPD_R_DATA_TLS_REFUSED, why);
	}
	run(x);
}

static void on_eof(struct ftpd_xfer *x)
{
	if (x->running && ftpd_xfer_is_upload(x)) {
		ftpd_upload_end(x);
		return;
	}
	if (x->tls && !x->tls_ready) {
		tls_failed(x, NULL);
		return;
	}
	/* Everything was out already: the client only closed first. */
	if (x->running && x->file_eof && evbuffer_get_length(session_output(x->data)) == 0) {
		ftpd_xfer_finish_ok(x);
		return;
	}
	ftpd_xfer_finish(x, FTPD_R_TRANSFER_ABORTED, "Connection closed by the client; transfer "
			 "aborted.");
}

/* The core closed the data session (an error, a stall). */
static void on_closed(struct ftpd_xfer *x, const struct session_ev *ev)
{
	x->bytes = ftpd_xfer_bytes(x);
	x->data = NULL;		/* freed by the core */
	if (ev->timed_out) {
		timed_out(x);
		return;
	}
	if (x->tls && !x->tls_ready) {
		tls_failed(x, ev->reason);
		return;
	}
	ftpd_xfer_finish(x, FTPD_R_TRANSFER_ABORTED, "Data connection error: %s; transfer aborted.",
			 ev->err != 0 ? strerror(ev->err) : "connection reset");
}

/* The data session's one entry point. */
static void data_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct ftpd_xfer *x = arg;
	switch (ev->type) {
	case SESSION_EV_TLS_READY:
		on_tls_ready(x);
		break;
	case SESSION_EV_DATA:
		if (x->running && ftpd_xfer_is_upload(x))
			ftpd_upload_input(x);
		else	/* nothing to read here */
			evbuffer_drain(session_input(s), evbuffer_get_length(session_input(s)));
		break;
	case SESSION_EV_DRAINED:
		if (x->running && !ftpd_xfer_is_upload(x))
			drained(x);
		break;
	case SESSION_EV_EOF:
		on_eof(x);
		break;
	case SESSION_EV_TIMEOUT:
		timed_out(x);
		break;
	case SESSION_EV_CLOSED:
		on_closed(x, ev);
		break;
	default:
		break;
	}
}

static const char *opening_text(const struct ftpd_xfer *x, char *buf, size_t bufsz)
{
	switch (x->kind) {
	case FTPD_X_LIST:
		return "Here comes the directory listing.";
	case FTPD_X_RETR:
		str_fmt(buf, bufsz, "Opening %s mode data connection for %s (%llu bytes).",
			x->ascii ? "ASCII" : "BINARY", x->vpath, (unsigned long long)x->size);
		return buf;
	case FTPD_X_STOU:
		str_fmt(buf, bufsz, "FILE: %s", jail_vpath_base(x->kpath));
		return buf;
	default:
		str_fmt(buf, bufsz, "Ok to send data (%s mode).", x->ascii ? "ASCII" : "BINARY");
		return buf;
	}
}

void ftpd_xfer_connected(struct ftpd_xfer *x)
{
	struct ftpd_sess *fs = x->fs;
	const struct ftpd_conf *c = fs->srv->conf;
	bool up = ftpd_xfer_is_upload(x);
	x->waiting = false;
	char buf[FTPD_REPLY_LINE_MAX];
	ftpd_send(fs, FTPD_R_OPENING_DATA, "%s", opening_text(x, buf, sizeof buf));
	session_flush(fs->s);	/* the 150 before the first byte of data */
	x->tls = fs->prot == 'P';
	/* RFC 4217 12.6: a truncated upload is still the client's choice to
	 * make; its FIN ends the data (the core takes a TLS end without
	 * close_notify as an end of file). */
	struct datachan_conn_opts o = {
		.tls = x->tls ? c->ssl : NULL,
		.send_buffer = !up && c->data_send_buffer > 0 ? (int)c->data_send_buffer : 0,
		.session = {
			.proto = "ftp-data",
			/* Before the transfer runs (the TLS handshake) either
			 * way can stall; then only the way the data goes. */
			.idle_ms = c->data_ms,
			.write_ms = c->data_ms,
			.rate = up ? fs->srv->rate_up : fs->srv->rate_down,
		},
	};
	ik_err e;
	x->data = datachan_take(fs->data->dc, &o, data_io, x, &e);
	if (x->data == NULL) {
		ftpd_xfer_finish(x, FTPD_R_NO_DATA_CONN, "Cannot set up the data connection.");
		return;
	}
	if (x->tls)
		return;		/* the handshake first: SESSION_EV_TLS_READY runs it */
	x->sendfile = x->kind == FTPD_X_RETR && !x->ascii && x->skip == 0;
	run(x);
}

void ftpd_xfer_begin(struct ftpd_xfer *x)
{
	struct ftpd_sess *fs = x->fs;
	fs->xfer = x;
	fs->rest = 0;
	x->waiting = true;
	x->start_ms = time_mono_coarse_ms();
	ftpd_set_state(fs, FTPD_ST_XFER);
	ftpd_data_open(fs, x);
}
