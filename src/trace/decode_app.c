/* Application layer, one packet at a time: which protocol the payload is
 * (by well-known port, then by the shape of its first line), its first
 * line with passwords masked, and for DNS (RFC 1035 4.1; over TCP with its
 * two-byte length, 4.2.2) the header and the first question. Anything else
 * is DATA, shown by the views as hex and ASCII. */
#include <string.h>

#include "lib/str.h"
#include "trace/decode.h"
#include "trace/mask.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static enum tr_app_proto by_port(uint16_t port)
{
	switch (port) {
	case 21: return TR_APP_FTP;
	case 25: case 465: case 587: return TR_APP_SMTP;
	case 110: case 995: return TR_APP_POP3;
	case 143: case 993: return TR_APP_IMAP;
	case 80: case 8000: case 8080: return TR_APP_HTTP;
	case 53: case 5353: return TR_APP_DNS;
	default: return TR_APP_NONE;
	}
}

static bool starts(const char *s, const char *w) { return str_has_prefix(s, w); }

static bool is_reply(const char *s)
{
	return s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	       s[2] <= '9' && (s[3] == ' ' || s[3] == '-' || s[3] == '\0');
}

/* The protocol a first line looks like, when its port says nothing. */
static enum tr_app_proto by_line(const char *s)
{
	static const char *const http[] = {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
					   "OPTIONS ", "PATCH ", "CONNECT ", "HTTP/1.", "HTTP/2"};
	for (size_t i = 0; i < sizeof http / sizeof http[0]; i++)
		if (starts(s, http[i]))
			return TR_APP_HTTP;
	if (starts(s, "+OK") || starts(s, "-ERR"))
		return TR_APP_POP3;
	if (starts(s, "* OK") || starts(s, "* BYE") || starts(s, "* PREAUTH") ||
	    starts(s, "* CAPABILITY"))
		return TR_APP_IMAP;
	if (is_reply(s)) {
		if (strstr(s, "SMTP") != NULL || strstr(s, "smtp") != NULL)
			return TR_APP_SMTP;
		if (strstr(s, "FTP") != NULL || strstr(s, "ftp") != NULL)
			return TR_APP_FTP;
		return TR_APP_NONE;
	}
	static const char *const ftp[] = {"USER ", "PASS ", "PASV", "EPSV", "PORT ", "EPRT ",
					  "RETR ", "STOR ", "LIST", "NLST", "CWD ", "PWD",
					  "TYPE ", "SYST", "FEAT", "SIZE ", "MDTM "};
	for (size_t i = 0; i < sizeof ftp / sizeof ftp[0]; i++)
		if (starts(s, ftp[i]))
			return TR_APP_FTP;
	static const char *const smtp[] = {"HELO ", "EHLO ", "MAIL FROM:", "RCPT TO:", "DATA",
					   "STARTTLS"};
	for (size_t i = 0; i < sizeof smtp / sizeof smtp[0]; i++)
		if (starts(s, smtp[i]))
			return TR_APP_SMTP;
	return TR_APP_NONE;
}

/* The first line of p[0, len) into a->line: stops at CR or LF; any other
 * control byte makes the payload binary (returns false). */
static bool first_line(const uint8_t *p, size_t len, struct tr_app *a)
{
	size_t n = 0, i = 0;
	for (; i < len; i++) {
		uint8_t c = p[i];
		if (c == '\r' || c == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
		if (n + 1 < sizeof a->line)
			a->line[n++] = (char)c;
		else
			a->line_cut = true;
	}
	a->line[n] = '\0';
	if (i == len && i > 0)
		a->line_cut = true;	/* no end of line in this packet */
	return n > 0;
}

/* A DNS name at off (RFC 1035 4.1.4 compression allowed, bounded). Returns
 * the offset after the name where it started, or 0 if it is bad. */
static size_t dns_name(const uint8_t *m, size_t len, size_t off, char *out, size_t outsz)
{
	size_t n = 0, end = 0;
	int jumps = 0;
	out[0] = '\0';
	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = m[off];
		if (l == 0) {
			if (end == 0)
				end = off + 1;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++jumps > 16)
				return 0;
			if (end == 0)
				end = off + 2;
			off = (size_t)(l & 0x3f) << 8 | m[off + 1];
			continue;
		}
		if ((l & 0xc0) != 0 || off + 1 + l > len)
			return 0;
		for (size_t i = 0; i < l; i++) {
			char c = (char)m[off + 1 + i];
			if (n + 2 < outsz)
				out[n++] = c > 0x20 && c < 0x7f ? c : '?';
		}
		if (n + 2 < outsz)
			out[n++] = '.';
		out[n] = '\0';
		off += 1 + (size_t)l;
	}
	if (n == 0 && outsz > 1) {
		out[0] = '.';
		out[1] = '\0';
	}
	return end;
}

static void dns(const uint8_t *p, size_t len, struct tr_app *a)
{
	a->proto = TR_APP_DNS;
	if (len < 12) {
		a->status = TR_TRUNCATED;
		return;
	}
	a->dns_id = be16(p);
	a->dns_flags = be16(p + 2);
	a->dns_qd = be16(p + 4);
	a->dns_an = be16(p + 6);
	a->status = TR_OK;
	if (a->dns_qd == 0)
		return;
	size_t end = dns_name(p, len, 12, a->dns_name, sizeof a->dns_name);
	if (end == 0 || end + 4 > len) {
		a->status = end == 0 ? TR_MALFORMED : TR_TRUNCATED;
		return;
	}
	a->dns_qtype = be16(p + end);
	str_fmt(a->line, sizeof a->line, "%s id=%u %s qtype=%u", (a->dns_flags & 0x8000) ? "response" : "query",
		a->dns_id, a->dns_name, a->dns_qtype);
}

void tr_decode_app(uint8_t ipproto, uint16_t sport, uint16_t dport, const uint8_t *p,
		   size_t len, size_t wire_len, struct tr_app *a)
{
	memset(a, 0, sizeof *a);
	if (wire_len == 0)
		return;
	a->status = len < wire_len ? TR_TRUNCATED : TR_OK;
	enum tr_app_proto port = by_port(sport < dport ? sport : dport);
	if (port == TR_APP_NONE)
		port = by_port(sport < dport ? dport : sport);
	if (port == TR_APP_DNS) {
		if (ipproto == 6) {
			/* Over TCP a message starts with its length; a later
			 * segment of a long one has none and stays DATA. */
			if (len >= 2 && (size_t)be16(p) + 2 >= len && len >= 14) {
				dns(p + 2, len - 2, a);
				return;
			}
		} else {
			dns(p, len, a);
			return;
		}
	}
	if (!first_line(p, len, a)) {
		a->proto = TR_APP_DATA;
		a->line[0] = '\0';
		a->line_cut = false;
		return;
	}
	a->proto = port != TR_APP_NONE && port != TR_APP_DNS ? port : by_line(a->line);
	if (a->proto == TR_APP_NONE)
		a->proto = TR_APP_DATA;
	tr_mask_line(a->line);
}
