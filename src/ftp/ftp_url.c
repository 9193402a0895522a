/* ftp:// URLs: RFC 1738 section 3.2 (FTP URL scheme, ;type=), RFC 3986
 * (percent-encoding, bracketed IPv6 literals). */
#include "ftp/ftp_url.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "net/endpoint.h"

int ftp_url_decode(const char *s, size_t len, char *out, size_t outsz, const char **why)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 1 < len ? str_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < len ? str_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*why = "a '%' that is not followed by two hex digits";
				return -1;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "a control character (CR, LF, NUL ... cannot be sent to a server)";
			return -1;
		}
		if (n + 1 >= outsz) {
			*why = "more text than fits";
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

const char *ftp_url_masked(const char *text, char *buf, size_t bufsz)
{
	const char *scheme = strstr(text, "://");
	const char *auth = scheme != NULL ? scheme + 3 : text;
	size_t alen = strcspn(auth, "/");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;	/* the last '@' ends the user info */
	const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		str_copy(buf, bufsz, text);
		return buf;
	}
	str_fmt(buf, bufsz, "%.*s:****%s", (int)(colon - text), text, at);
	return buf;
}

static int url_error(ik_err *e, const char *text, const char *fmt, const char *detail)
{
	char masked[600];
	ftp_url_masked(text, masked, sizeof masked);
	char msg[300];
	str_fmt(msg, sizeof msg, fmt, detail);
	return ik_err_set(e, "malformed URL '%s': %s", masked, msg);
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* host[:port] or [v6][:port] in s[0..len). */
static int parse_hostport(const char *text, const char *s, size_t len, struct ftp_url *u,
			  ik_err *e)
{
	const char *portp = NULL;
	size_t hlen;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return url_error(e, text, "%s", "missing ']' after the IPv6 address in the host");
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof u->host)
			return url_error(e, text, "%s", "bad IPv6 address in the host");
		memcpy(u->host, s + 1, hlen);
		u->host[hlen] = '\0';
		struct in6_addr a;
		if (inet_pton(AF_INET6, u->host, &a) != 1)
			return url_error(e, text, "'%s' in brackets is not an IPv6 address", u->host);
		const char *after = close + 1;
		if (after < s + len) {
			if (*after != ':')
				return url_error(e, text, "%s", "unexpected text after ']' in the host");
			portp = after + 1;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL && memchr(colon + 1, ':', len - hlen - 1) != NULL)
			return url_error(e, text, "%s",
					 "write an IPv6 address in brackets, as ftp://[::1]/");
		if (hlen == 0)
			return url_error(e, text, "%s", "missing host name");
		if (hlen >= sizeof u->host)
			return url_error(e, text, "%s", "host name is too long");
		for (size_t i = 0; i < hlen; i++)
			if (!host_char_ok(s[i]))
				return url_error(e, text, "%s",
						 "the host name has a character other than letters, "
						 "digits, '-', '.' and '_'");
		memcpy(u->host, s, hlen);
		u->host[hlen] = '\0';
		if (colon != NULL)
			portp = colon + 1;
	}
	if (portp != NULL) {
		char port[16];
		size_t plen = (size_t)(s + len - portp);
		uint64_t v = 0;
		str_fmt(port, sizeof port, "%.*s%s", (int)(plen < 8 ? plen : 8), portp,
			plen > 8 ? "..." : "");
		if (plen > 8 || str_to_u64(port, 65535, &v) < 0 || v == 0)
			return url_error(e, text, "port '%s' is not a number from 1 to 65535", port);
		u->port = (uint16_t)v;
	}
	return 0;
}

static int parse_userinfo(const char *text, const char *s, size_t len, struct ftp_url *u,
			  ik_err *e)
{
	const char *colon = memchr(s, ':', len);
	size_t ulen = colon != NULL ? (size_t)(colon - s) : len;
	const char *why = "";
	if (ftp_url_decode(s, ulen, u->user, sizeof u->user, &why) < 0)
		return url_error(e, text, "the user name has %s", why);
	if (u->user[0] == '\0')
		return url_error(e, text, "%s", "empty user name before '@'");
	u->has_user = true;
	if (colon != NULL) {
		if (ftp_url_decode(colon + 1, len - ulen - 1, u->pass, sizeof u->pass, &why) < 0)
			return url_error(e, text, "the password has %s", why);
		u->has_pass = true;
	}
	return 0;
}

static int parse_path(const char *text, const char *s, struct ftp_url *u, ik_err *e)
{
	size_t len = strlen(s);
	/* ;type=X ends the path (RFC 1738 3.2.2). */
	const char *semi = NULL;
	if (len >= 7 && strncasecmp(s + len - 7, ";type=", 6) == 0)
		semi = s + len - 7;
	if (semi != NULL) {
		char t = (char)(semi[6] | 0x20);
		if (t != 'a' && t != 'i' && t != 'd')
			return url_error(e, text, "%s", "';type=' must be a, i or d");
		u->type = t;
		len -= 7;
	}
	const char *why = "";
	if (ftp_url_decode(s, len, u->path, sizeof u->path, &why) < 0)
		return url_error(e, text, "the path has %s", why);
	u->is_dir = len == 0 || s[len - 1] == '/' || u->type == 'd';
	/* "dir/" names the directory: keep the path without the slash. */
	size_t plen = strlen(u->path);
	while (plen > 1 && u->path[plen - 1] == '/')
		u->path[--plen] = '\0';
	return 0;
}

int ftp_url_parse(const char *text, struct ftp_url *u, ik_err *e)
{
	memset(u, 0, sizeof *u);
	const char *rest;
	if (strncasecmp(text, "ftp://", 6) == 0) {
		rest = text + 6;
		u->port = FTP_PORT_DEFAULT;
	} else if (strncasecmp(text, "ftps://", 7) == 0) {
		rest = text + 7;
		u->port = FTPS_PORT_DEFAULT;
		u->implicit_tls = true;
	} else {
		const char *sep = strstr(text, "://");
		if (sep != NULL) {
			char scheme[32];
			str_fmt(scheme, sizeof scheme, "%.*s", (int)(sep - text), text);
			return url_error(e, text, "scheme '%s' is not ftp:// or ftps://", scheme);
		}
		return url_error(e, text, "%s", "it must start with ftp:// or ftps://");
	}
	size_t alen = strcspn(rest, "/");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (rest[i] == '@')
			at = rest + i;
	const char *hp = rest;
	if (at != NULL) {
		if (parse_userinfo(text, rest, (size_t)(at - rest), u, e) < 0)
			return -1;
		hp = at + 1;
	}
	if (parse_hostport(text, hp, (size_t)(rest + alen - hp), u, e) < 0)
		return -1;
	if (rest[alen] == '\0') {
		u->is_dir = true;
		return 0;
	}
	return parse_path(text, rest + alen + 1, u, e);
}

int ftp_url_parse_host(const char *text, struct ftp_url *u, ik_err *e)
{
	if (strstr(text, "://") != NULL)
		return ftp_url_parse(text, u, e);
	char buf[FTP_URL_FIELD_MAX + 16];
	if (str_fmt(buf, sizeof buf, "ftp://%s/", text) < 0 || strchr(text, '/') != NULL)
		return ik_err_set(e, "'%s' is not a host, HOST:PORT or ftp:// URL", text);
	if (ftp_url_parse(buf, u, e) < 0) {
		/* Name the user's text, not our rewrite of it. */
		const char *msg = strstr(e->msg, "': ");
		char tail[300];
		str_copy(tail, sizeof tail, msg != NULL ? msg + 3 : e->msg);
		return ik_err_set(e, "bad host '%s': %s", text, tail);
	}
	return 0;
}

const char *ftp_path_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

int ftp_path_dir(const char *path, char *dir, size_t dirsz)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return str_copy(dir, dirsz, "");
	if (slash == path)
		return str_copy(dir, dirsz, "/");
	return str_fmt(dir, dirsz, "%.*s", (int)(slash - path), path) < 0 ? -1 : 0;
}

int ftp_path_join(char *out, size_t outsz, const char *dir, const char *name)
{
	if (*dir == '\0')
		return str_copy(out, outsz, name);
	if (*name == '\0')
		return str_copy(out, outsz, dir);
	size_t dl = strlen(dir);
	const char *sep = dir[dl - 1] == '/' ? "" : "/";
	return str_fmt(out, outsz, "%s%s%s", dir, sep, name) < 0 ? -1 : 0;
}

bool ftp_name_safe(const char *name)
{
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}
