/* FTP reply formatting: RFC 959 4.2 (single and multi-line replies; the
 * numeric lines are core/reply_num's, the body lines between them FTP's),
 * RFC 959 appendix II (257 path quoting), RFC 2640 3.1 (CR NUL). */
#include "ftpd/ftpd_reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/jail.h"

/* A CR or LF inside reply text would end the line early and let the rest
 * pose as another reply; a space keeps the text readable. */
static void scrub(char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			*s = ' ';
}

static int add_line(struct sbuf *out, int code, bool last, const char *fmt, va_list ap)
{
	char text[FTPD_REPLY_LINE_MAX - 6];
	vsnprintf(text, sizeof text, fmt, ap);
	return reply_num_write_line(out, code, last, text, strlen(text));
}

int ftpd_reply_v(struct sbuf *out, int code, const char *fmt, va_list ap)
{
	return add_line(out, code, true, fmt, ap);
}

int ftpd_reply(struct sbuf *out, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = add_line(out, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int ftpd_reply_begin(struct sbuf *out, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = add_line(out, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int ftpd_reply_end(struct sbuf *out, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = add_line(out, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int ftpd_reply_body(struct sbuf *out, const char *text)
{
	size_t mark = out->len;
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
		size_t keep = n;
		if (keep > 0 && text[keep - 1] == '\r')
			keep--;
		/* RFC 959 4.2: a line starting with a digit could be read as
		 * the closing "NNN " line; indent it. */
		int r = 0;
		if (keep > 0 && text[0] >= '0' && text[0] <= '9')
			r = sbuf_addch(out, ' ');
		/* Copy runs without CR at once; a stray CR becomes a space. */
		for (size_t i = 0; i < keep && r == 0;) {
			const char *cr = memchr(text + i, '\r', keep - i);
			size_t run = cr != NULL ? (size_t)(cr - (text + i)) : keep - i;
			r = sbuf_add(out, text + i, run);
			i += run;
			if (r == 0 && i < keep) {
				r = sbuf_addch(out, ' ');
				i++;
			}
		}
		if (r == 0)
			r = sbuf_add(out, "\r\n", 2);
		if (r < 0) {
			sbuf_truncate(out, mark);
			return -1;
		}
		text += n + (nl != NULL ? 1 : 0);
	}
	return 0;
}

int ftpd_reply_multi(struct sbuf *out, int code, const char *first, const char *body,
		     const char *last)
{
	size_t mark = out->len;
	if (ftpd_reply_begin(out, code, "%s", first) < 0 ||
	    ftpd_reply_body(out, body) < 0 ||
	    ftpd_reply_end(out, code, "%s", last) < 0) {
		sbuf_truncate(out, mark);
		return -1;
	}
	return 0;
}

int ftpd_reply_quote_path(struct sbuf *out, const char *path)
{
	if (strchr(path, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	size_t mark = out->len;
	int r = sbuf_addch(out, '"');
	for (const char *p = path; *p && r == 0; p++) {
		if (*p == '"')
			r = sbuf_add(out, "\"\"", 2);
		else if (*p == '\r')
			r = sbuf_add(out, "\r\0", 2);
		else
			r = sbuf_addch(out, *p);
	}
	if (r == 0)
		r = sbuf_addch(out, '"');
	if (r < 0) {
		sbuf_truncate(out, mark);
		errno = EMSGSIZE;
	}
	return r;
}

int ftpd_reply_path(struct sbuf *out, int code, const char *path, const char *text)
{
	size_t mark = out->len;
	char t[FTPD_REPLY_LINE_MAX];
	snprintf(t, sizeof t, "%s", text);
	scrub(t);
	if (reply_num_write_code(out, code, true) < 0 || ftpd_reply_quote_path(out, path) < 0 ||
	    sbuf_printf(out, "%s%s\r\n", t[0] != '\0' ? " " : "", t) < 0) {
		int saved = errno;
		sbuf_truncate(out, mark);
		errno = saved;
		return -1;
	}
	return 0;
}

int ftpd_reply_errno_code(int err)
{
	switch (err) {
	case ENOSPC: return FTPD_R_NO_SPACE;
	case EDQUOT:
	case EFBIG: return FTPD_R_QUOTA;
	case EINVAL:
	case ENAMETOOLONG: return FTPD_R_BAD_NAME;
	default: return FTPD_R_FILE_UNAVAILABLE;
	}
}

int ftpd_reply_errno(struct sbuf *out, int err, const char *what)
{
	int code = ftpd_reply_errno_code(err);
	if (what == NULL || what[0] == '\0')
		return ftpd_reply(out, code, "%s.", jail_errno_reply(err));
	return ftpd_reply(out, code, "%s: %s.", what, jail_errno_reply(err));
}

/* One status body line with its values scrubbed of CR/LF. */
static int status_line(struct sbuf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int status_line(struct sbuf *out, const char *fmt, ...)
{
	char line[FTPD_REPLY_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	scrub(line);
	return sbuf_printf(out, " %s\r\n", line);
}

int ftpd_reply_status(struct sbuf *out, const struct ftpd_status *s)
{
	size_t mark = out->len;
	int r = ftpd_reply_begin(out, FTPD_R_STATUS, "%s status:",
				 s->server != NULL ? s->server : "FTP server");
	if (r == 0)
		r = status_line(out, "Connected from %s", s->peer != NULL ? s->peer : "?");
	if (r == 0)
		r = s->user != NULL ? status_line(out, "Logged in as %s", s->user)
				    : status_line(out, "Not logged in");
	if (r == 0)
		r = status_line(out, "Control connection: %s; data connections: %s",
				s->tls_control ? "TLS" : "plain",
				s->tls_data ? "TLS (PROT P)" : "clear (PROT C)");
	if (r == 0)
		r = status_line(out, "TYPE: %s; STRUcture: File; transfer MODE: Stream",
				s->type == 'A' ? "ASCII" : "BINARY");
	if (r == 0)
		r = status_line(out, "Idle timeout: %u seconds", s->idle_timeout_s);
	if (r == 0)
		r = status_line(out, "Bytes received: %llu; bytes sent: %llu",
				s->bytes_in, s->bytes_out);
	if (r == 0)
		r = s->transfer_active
			? status_line(out, "Transferring %s: %llu bytes so far",
				      s->transfer_name != NULL ? s->transfer_name : "data",
				      s->transfer_bytes)
			: status_line(out, "No data connection");
	if (r == 0)
		r = ftpd_reply_end(out, FTPD_R_STATUS, "End of status");
	if (r < 0)
		sbuf_truncate(out, mark);
	return r;
}
