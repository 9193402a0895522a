/* FTP reply parsing for the client: the text of RFC 959 replies (PASV,
 * PWD), RFC 2428 (EPSV/EPRT), RFC 3659 (SIZE, MDTM), RFC 2389 (FEAT), RFC
 * 4217. Every input here comes from the network: bounded, never trusted,
 * never crashing. */
#include "ftp/ftp_reply.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "core/reply_num.h"
#include "lib/str.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *skip_code(const char *text)
{
	size_t n = strlen(text);
	if (reply_num_code(text, n) >= 0 && (n == 3 || text[3] == ' ' || text[3] == '-'))
		text += 3;
	return text;
}

/* Reads a decimal number of at most max; advances *p. */
static int read_num(const char **p, uint32_t max, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;
	int digits = 0;
	while (is_digit(*s)) {
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > max || ++digits > 10)
			return -1;
		s++;
	}
	if (digits == 0)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int ftp_parse_pasv(const char *text, uint8_t addr[4], uint16_t *port)
{
	const char *s = skip_code(text);
	/* The numbers are usually in parentheses, but RFC 959 does not
	 * promise it: take the first run of six that parses. */
	for (; *s; s++) {
		if (!is_digit(*s))
			continue;
		const char *p = s;
		uint32_t v[6];
		int i;
		for (i = 0; i < 6; i++) {
			while (*p == ' ')
				p++;
			if (read_num(&p, 255, &v[i]) < 0)
				break;
			while (*p == ' ')
				p++;
			if (i < 5 && *p++ != ',')
				break;
		}
		if (i == 6) {
			for (int k = 0; k < 4; k++)
				addr[k] = (uint8_t)v[k];
			*port = (uint16_t)(v[4] * 256 + v[5]);
			return *port == 0 ? -1 : 0;
		}
		while (is_digit(s[1]))
			s++;
	}
	return -1;
}

int ftp_parse_epsv(const char *text, uint16_t *port)
{
	const char *s = strchr(skip_code(text), '(');
	if (s == NULL)
		return -1;
	s++;
	char d = *s;
	if (d < 33 || d > 126 || s[1] != d || s[2] != d)
		return -1;
	s += 3;
	uint32_t v;
	if (read_num(&s, 65535, &v) < 0 || v == 0 || *s != d || s[1] != ')')
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int ftp_parse_pwd(const char *text, char *path, size_t pathsz)
{
	const char *s = strchr(skip_code(text), '"');
	if (s == NULL || pathsz == 0)
		return -1;
	s++;
	size_t n = 0;
	for (;;) {
		if (*s == '\0' || *s == '\n')
			return -1;	/* no closing quote */
		if (*s == '"') {
			if (s[1] != '"')
				break;
			s++;	/* "" is one quote */
		}
		if (n + 1 >= pathsz)
			return -1;
		path[n++] = *s++;
	}
	path[n] = '\0';
	return n > 0 ? 0 : -1;
}

int ftp_parse_size(const char *text, uint64_t *size)
{
	const char *s = skip_code(text);
	while (*s == ' ')
		s++;
	char digits[24];
	size_t n = 0;
	while (is_digit(s[n]) && n < sizeof digits - 1) {
		digits[n] = s[n];
		n++;
	}
	digits[n] = '\0';
	if (n == 0 || is_digit(s[n]) || (s[n] != '\0' && s[n] != ' ' && s[n] != '\n'))
		return -1;
	return str_to_u64(digits, UINT64_MAX, size);
}

static int two(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

int ftp_parse_time(const char *text, time_t *t)
{
	const char *s = skip_code(text);
	while (*s == ' ')
		s++;
	for (int i = 0; i < 14; i++)
		if (!is_digit(s[i]))
			return -1;
	size_t end = 14;
	if (s[14] == '.') {
		end = 15;
		while (is_digit(s[end]) && end < 24)
			end++;
		if (end == 15)
			return -1;	/* fraction ignored: our times are seconds */
	}
	if (s[end] != '\0' && s[end] != ' ' && s[end] != '\n' && s[end] != '\r')
		return -1;
	struct tm tm = {0};
	tm.tm_year = two(s) * 100 + two(s + 2) - 1900;
	tm.tm_mon = two(s + 4) - 1;
	tm.tm_mday = two(s + 6);
	tm.tm_hour = two(s + 8);
	tm.tm_min = two(s + 10);
	tm.tm_sec = two(s + 12);
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*t = timegm(&tm);
	return 0;
}

void ftp_parse_feat(const char *text, struct ftp_features *f)
{
	memset(f, 0, sizeof *f);
	const char *line = text;
	while (line != NULL && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		/* Feature lines start with a space; the first and last carry
		 * the code. */
		if (len > 1 && line[0] == ' ') {
			char word[32];
			size_t n = 0, i = 1;
			while (i < len && line[i] == ' ')
				i++;
			while (i < len && line[i] != ' ' && n < sizeof word - 1)
				word[n++] = line[i++];
			word[n] = '\0';
			const char *rest = line + i;
			size_t restlen = len - i;
			if (strcasecmp(word, "MLST") == 0)
				f->mlsd = true;
			else if (strcasecmp(word, "SIZE") == 0)
				f->size = true;
			else if (strcasecmp(word, "MDTM") == 0)
				f->mdtm = true;
			else if (strcasecmp(word, "MFMT") == 0)
				f->mfmt = true;
			else if (strcasecmp(word, "UTF8") == 0)
				f->utf8 = true;
			else if (strcasecmp(word, "EPSV") == 0)
				f->epsv = true;
			else if (strcasecmp(word, "TVFS") == 0)
				f->tvfs = true;
			else if (strcasecmp(word, "REST") == 0 && restlen >= 7 &&
				 strncasecmp(rest + 1, "STREAM", 6) == 0)
				f->rest_stream = true;
			else if (strcasecmp(word, "AUTH") == 0 && restlen >= 4 &&
				 (strncasecmp(rest + 1, "TLS", 3) == 0 ||
				  strncasecmp(rest + 1, "SSL", 3) == 0))
				f->auth_tls = true;
		}
		line = end != NULL ? end + 1 : NULL;
	}
}

int ftp_format_eprt(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	char host[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		return str_fmt(buf, bufsz, "|1|%s|%u|", host, ntohs(s4->sin_port)) < 0 ? -1 : 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		return str_fmt(buf, bufsz, "|2|%s|%u|", host, ntohs(s6->sin6_port)) < 0 ? -1 : 0;
	}
	return -1;
}

int ftp_format_port(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	if (sa->sa_family != AF_INET)
		return -1;	/* PORT cannot express IPv6 (RFC 2428) */
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const uint8_t *a = (const uint8_t *)&s4->sin_addr;
	unsigned p = ntohs(s4->sin_port);
	return str_fmt(buf, bufsz, "%u,%u,%u,%u,%u,%u", a[0], a[1], a[2], a[3], p >> 8,
		       p & 255) < 0 ? -1 : 0;
}
