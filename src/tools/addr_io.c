/* Input and output plumbing of `inetkit addr`: one large output buffer
 * drained with write(2), and a block reader that cuts stdin into lines
 * with a hard length limit (a line over it is reported and skipped, never
 * buffered whole). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "tools/addr_tool.h"

#define OUT_CAP (1u << 20)
#define IN_CAP (1u << 20)

int addr_out_init(struct addr_out *o, int fd)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->buf = malloc(OUT_CAP);
	if (o->buf == NULL)
		return -1;
	o->cap = OUT_CAP;
	return 0;
}

void addr_out_free(struct addr_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

int addr_out_flush(struct addr_out *o)
{
	size_t done = 0;
	while (done < o->len && o->err == 0) {
		ssize_t w = write(o->fd, o->buf + done, o->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			o->err = w < 0 ? errno : EIO;
		else
			done += (size_t)w;
	}
	o->len = 0;	/* after an error the rest is dropped; err reports it */
	return o->err == 0 ? 0 : -1;
}

char *addr_out_reserve(struct addr_out *o, size_t n)
{
	if (o->cap - o->len < n)
		addr_out_flush(o);
	return o->buf + o->len;
}

void addr_out_commit(struct addr_out *o, char *end)
{
	o->len = (size_t)(end - o->buf);
}

void addr_out_add(struct addr_out *o, const char *s, size_t n)
{
	while (n > 0) {
		if (o->len == o->cap)
			addr_out_flush(o);
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void addr_out_str(struct addr_out *o, const char *s)
{
	addr_out_add(o, s, strlen(s));
}

void addr_quote(char *buf, size_t bufsz, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const size_t shown = 64;
	size_t o = 0;
	for (size_t i = 0; i < len && i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 5 >= bufsz)
			break;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (len > shown && o + 4 < bufsz) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

void addr_report(struct addr_ctx *ctx, const struct addr_line *line, const char *s, size_t len,
		 const char *why)
{
	char q[300];
	addr_quote(q, sizeof q, s, len);
	ctx->bad = true;
	if (line != NULL)
		cli_error(ADDR_CMD, CLI_USAGE, "line %lu: '%s': %s", line->no, q, why);
	else
		cli_error(ADDR_CMD, CLI_USAGE, "'%s': %s", q, why);
}

void addr_report_line(struct addr_ctx *ctx, const struct addr_line *line, const char *why)
{
	addr_report(ctx, line, line->s, line->len, why);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One complete line (without its '\n'): trim, skip blanks and comments. */
static void deliver(struct addr_ctx *ctx, addr_line_fn fn, const char *s, size_t len,
		    unsigned long no)
{
	if (len > 0 && s[len - 1] == '\r')
		len--;	/* CRLF files: the CR belongs to the line ending */
	if (len > ADDR_LINE_MAX) {
		struct addr_line l = {s, len, no, true};
		fn(ctx, &l);
		return;
	}
	while (len > 0 && is_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len == 0 || *s == '#')
		return;
	struct addr_line l = {s, len, no, false};
	fn(ctx, &l);
}

int addr_read_lines(struct addr_ctx *ctx, int fd, addr_line_fn fn, ik_err *e)
{
	char *buf = malloc(IN_CAP);
	if (buf == NULL)
		return ik_err_set(e, "out of memory");
	size_t have = 0;
	unsigned long no = 0;
	/* While a line is over the limit its bytes are dropped as they come;
	 * head keeps its start for the message. */
	bool skipping = false;
	char head[ADDR_LINE_MAX + 1];
	size_t skipped = 0;
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, IN_CAP - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = ik_err_errno(e, errno, "reading standard input");
			break;
		}
		have += (size_t)r;
		size_t pos = 0;
		char *nl;
		while ((nl = memchr(buf + pos, '\n', have - pos)) != NULL) {
			size_t len = (size_t)(nl - (buf + pos));
			no++;
			if (skipping) {
				struct addr_line l = {head, skipped + len, no, true};
				fn(ctx, &l);
				skipping = false;
			} else {
				deliver(ctx, fn, buf + pos, len, no);
			}
			pos += len + 1;
		}
		size_t rest = have - pos;
		if (r == 0) {
			if (skipping) {
				struct addr_line l = {head, skipped + rest, ++no, true};
				fn(ctx, &l);
			} else if (rest > 0) {
				deliver(ctx, fn, buf + pos, rest, ++no);
			}
			break;
		}
		if (skipping) {
			skipped += rest;
			have = 0;
		} else if (rest > ADDR_LINE_MAX + 1) {	/* +1: a CR may still end it */
			memcpy(head, buf + pos, ADDR_LINE_MAX);
			skipped = rest;
			skipping = true;
			have = 0;
		} else {
			memmove(buf, buf + pos, rest);
			have = rest;
		}
	}
	free(buf);
	return rc;
}
