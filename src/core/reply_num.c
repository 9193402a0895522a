/* The numeric reply rule (RFC 959 4.2, RFC 5321 4.2.1): reading it for the
 * FTP and SMTP clients, writing it for servers. Every line read here comes
 * from the network: bounded, never trusted. */
#include "core/reply_num.h"

#include <string.h>

void reply_num_init(struct reply_num *p)
{
	p->code = 0;
	p->multi = false;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int reply_num_code(const char *s, size_t len)
{
	if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) ||
	    s[0] < '1' || s[0] > '5')
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* A short, printable excerpt of a line for an error message. */
static void excerpt(char *out, size_t outsz, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < outsz && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = (char)(c < 0x20 || c >= 0x7f ? '?' : c);
	}
	if (len > 40 && n + 4 < outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

int reply_num_line(struct reply_num *p, const char *line, size_t len, const char *proto,
		   ik_err *e)
{
	if (!p->multi) {
		int code = reply_num_code(line, len);
		if (code < 0 || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			char ex[64];
			excerpt(ex, sizeof ex, line, len);
			return ik_err_set(e, "malformed %s reply '%s' (expected a 3-digit code "
					  "from 100 to 599)", proto, ex);
		}
		p->code = code;
		if (len > 3 && line[3] == '-') {
			p->multi = true;
			return 0;
		}
		return 1;
	}
	if (reply_num_code(line, len) == p->code && (len == 3 || line[3] == ' ')) {
		p->multi = false;
		return 1;
	}
	return 0;
}

static void put_code(char *dst, int code, bool last)
{
	dst[0] = (char)('0' + code / 100);
	dst[1] = (char)('0' + code / 10 % 10);
	dst[2] = (char)('0' + code % 10);
	dst[3] = last ? ' ' : '-';
}

int reply_num_write_code(struct sbuf *out, int code, bool last)
{
	if (code < 100 || code > 599)
		return -1;
	char p[4];
	put_code(p, code, last);
	return sbuf_add(out, p, sizeof p);
}

int reply_num_write_line(struct sbuf *out, int code, bool last, const char *text, size_t len)
{
	if (code < 100 || code > 599)
		return -1;
	if (len > REPLY_NUM_LINE_MAX - 6)
		len = REPLY_NUM_LINE_MAX - 6;	/* "NNN-" and CR LF */
	char *dst = sbuf_reserve(out, len + 6);
	if (dst == NULL)
		return -1;
	put_code(dst, code, last);
	for (size_t i = 0; i < len; i++)
		dst[4 + i] = text[i] == '\r' || text[i] == '\n' ? ' ' : text[i];
	dst[4 + len] = '\r';
	dst[5 + len] = '\n';
	sbuf_commit(out, len + 6);
	return 0;
}

int reply_num_write(struct sbuf *out, int code, const char *text)
{
	size_t mark = out->len;
	for (;;) {
		const char *nl = strchr(text, '\n');
		size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
		bool last = nl == NULL || nl[1] == '\0';
		if (n > 0 && text[n - 1] == '\r')
			n--;
		if (reply_num_write_line(out, code, last, text, n) < 0) {
			sbuf_truncate(out, mark);
			return -1;
		}
		if (last)
			return 0;
		text = nl + 1;
	}
}
