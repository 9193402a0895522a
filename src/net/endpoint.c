#include "net/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "lib/str.h"

bool endpoint_is_unix(const char *spec)
{
	return str_has_prefix(spec, ENDPOINT_UNIX_PREFIX);
}

int endpoint_unix(const char *spec, struct endpoint *ep, ik_err *e)
{
	const char *path = spec + strlen(ENDPOINT_UNIX_PREFIX);
	struct sockaddr_un *un = (struct sockaddr_un *)&ep->ss;
	size_t n = strlen(path);
	memset(ep, 0, sizeof *ep);
	if (n == 0)
		return ik_err_set(e, "'%s': give a socket path after unix:, e.g. unix:/tmp/x.sock",
				  spec);
	if (n >= sizeof un->sun_path)
		return ik_err_set(e, "'%s': a UNIX socket path has at most %zu bytes", spec,
				  sizeof un->sun_path - 1);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n + 1);
	ep->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	endpoint_format((struct sockaddr *)un, ep->text, sizeof ep->text);
	return 0;
}

const char *endpoint_unix_path(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	if (sa->sa_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) ||
	    un->sun_path[0] == '\0')
		return NULL;
	return un->sun_path;
}

int endpoint_parse_port(const char *s, uint16_t *port, ik_err *e)
{
	uint64_t v;
	if (str_to_u64(s, 65535, &v) < 0)
		return ik_err_set(e, "port '%s' is not a number from 0 to 65535", s);
	*port = (uint16_t)v;
	return 0;
}

int endpoint_split(const char *spec, char *host, size_t hostsz, uint16_t *port, ik_err *e)
{
	const char *portstr;
	host[0] = '\0';
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL)
			return ik_err_set(e, "'%s': missing ']' after the IPv6 address", spec);
		if (close[1] != ':')
			return ik_err_set(e, "'%s': expected ':PORT' after ']'", spec);
		size_t n = (size_t)(close - spec - 1);
		if (n == 0 || n >= hostsz)
			return ik_err_set(e, "'%s': bad IPv6 address in brackets", spec);
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		portstr = close + 2;
	} else {
		const char *colon = strrchr(spec, ':');
		if (colon == NULL) {
			portstr = spec;
		} else {
			if (memchr(spec, ':', (size_t)(colon - spec)) != NULL)
				return ik_err_set(e, "'%s': write an IPv6 address in brackets, as [::1]:PORT", spec);
			size_t n = (size_t)(colon - spec);
			if (n >= hostsz)
				return ik_err_set(e, "'%s': host name too long", spec);
			memcpy(host, spec, n);
			host[n] = '\0';
			if (strcmp(host, "*") == 0)
				host[0] = '\0';
			else if (n == 0)
				return ik_err_set(e, "'%s': empty host before ':' (use *:PORT for every address)", spec);
			portstr = colon + 1;
		}
	}
	if (endpoint_parse_port(portstr, port, e) < 0)
		return ik_err_prefix(e, "'%s'", spec);
	return 0;
}

void endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa, socklen_t len)
{
	memset(ep, 0, sizeof *ep);
	if (len > sizeof ep->ss)
		len = sizeof ep->ss;
	memcpy(&ep->ss, sa, len);
	ep->len = len;
	endpoint_format(sa, ep->text, sizeof ep->text);
}

static int add_wildcard(struct endpoint *out, size_t max, size_t *n, int family, uint16_t port)
{
	if (*n >= max)
		return 0;
	struct endpoint *ep = &out[*n];
	memset(ep, 0, sizeof *ep);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ep->ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		ep->len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ep->ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_any;
		ep->len = sizeof *s6;
	}
	ep->wildcard = true;
	endpoint_format((struct sockaddr *)&ep->ss, ep->text, sizeof ep->text);
	(*n)++;
	return 0;
}

static int resolve(const char *host, uint16_t port, int family, int socktype, int flags,
		   struct endpoint *out, size_t max, size_t *n, ik_err *e)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = family;
	hints.ai_socktype = socktype ? socktype : SOCK_STREAM;
	hints.ai_flags = flags | AI_NUMERICSERV;
	char portstr[8];
	str_fmt(portstr, sizeof portstr, "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		if (rc == EAI_SYSTEM)
			return ik_err_errno(e, errno, "cannot resolve '%s'", host);
		return ik_err_set(e, "cannot resolve '%s': %s", host, gai_strerror(rc));
	}
	for (struct addrinfo *ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		bool dup = false;
		for (size_t i = 0; i < *n; i++)
			if (out[i].len == ai->ai_addrlen && memcmp(&out[i].ss, ai->ai_addr, ai->ai_addrlen) == 0)
				dup = true;
		if (!dup)
			endpoint_from_sockaddr(&out[(*n)++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	return 0;
}

int endpoint_resolve_listen(const char *spec, struct endpoint *out, size_t max,
			    size_t *n, ik_err *e)
{
	char host[256];
	uint16_t port;
	*n = 0;
	if (endpoint_is_unix(spec)) {
		if (max == 0)
			return 0;
		if (endpoint_unix(spec, &out[0], e) < 0)
			return -1;
		*n = 1;
		return 0;
	}
	if (endpoint_split(spec, host, sizeof host, &port, e) < 0)
		return -1;
	if (host[0] == '\0') {
		add_wildcard(out, max, n, AF_INET, port);
		add_wildcard(out, max, n, AF_INET6, port);
		return 0;
	}
	if (resolve(host, port, AF_UNSPEC, SOCK_STREAM, AI_PASSIVE, out, max, n, e) < 0)
		return ik_err_prefix(e, "listen address '%s'", spec);
	return 0;
}

int endpoint_resolve_connect(const char *host, uint16_t port, int family, int socktype,
			     struct endpoint *out, size_t max, size_t *n, ik_err *e)
{
	*n = 0;
	return resolve(host, port, family, socktype, 0, out, max, n, e);
}

int endpoint_resolve_target(const char *spec, int family, int socktype, struct endpoint *out,
			    size_t max, size_t *n, const char *what, ik_err *e)
{
	*n = 0;
	if (endpoint_is_unix(spec)) {
		if (max == 0 || endpoint_unix(spec, &out[0], e) < 0)
			return ik_err_prefix(e, "%s", what);
		*n = 1;
		return 0;
	}
	char host[256];
	uint16_t port;
	if (endpoint_split(spec, host, sizeof host, &port, e) < 0)
		return ik_err_prefix(e, "%s", what);
	if (host[0] == '\0')
		return ik_err_set(e, "%s '%s': name the host, as HOST:PORT (or unix:PATH)", what, spec);
	if (port == 0)
		return ik_err_set(e, "%s '%s': port 0 cannot be connected to; give a port from 1 to "
				  "65535", what, spec);
	if (resolve(host, port, family, socktype, 0, out, max, n, e) < 0)
		return ik_err_prefix(e, "%s", what);
	if (*n == 0)
		return ik_err_set(e, "%s '%s': no address%s", what, spec,
				  family == AF_INET ? " for IPv4" : family == AF_INET6 ? " for IPv6" : "");
	return 0;
}

int endpoint_parse_source(const char *spec, struct endpoint *ep, ik_err *e)
{
	char host[256];
	uint16_t port = 0;
	size_t len = strlen(spec);
	const char *colon = strrchr(spec, ':');
	if (spec[0] == '[' && len > 2 && spec[len - 1] == ']') {
		if (len - 2 >= sizeof host)
			return ik_err_set(e, "source address '%s' is too long", spec);
		memcpy(host, spec + 1, len - 2);
		host[len - 2] = '\0';
	} else if (spec[0] == '[' || (colon != NULL && memchr(spec, ':', (size_t)(colon - spec)) == NULL)) {
		if (endpoint_split(spec, host, sizeof host, &port, e) < 0)
			return ik_err_prefix(e, "source address");
	} else if (str_copy(host, sizeof host, spec) < 0) {
		return ik_err_set(e, "source address '%s' is too long", spec);
	}
	if (host[0] == '\0')
		return ik_err_set(e, "source address '%s': give the local address to use, e.g. "
				  "127.0.0.2 or 127.0.0.2:5000", spec);
	size_t n = 0;
	if (resolve(host, port, AF_UNSPEC, SOCK_STREAM, AI_PASSIVE, ep, 1, &n, e) < 0)
		return ik_err_prefix(e, "source address");
	if (n == 0)
		return ik_err_set(e, "source address '%s': no address", spec);
	if (port == 0)	/* any port: the address alone names it */
		endpoint_format_host((struct sockaddr *)&ep->ss, ep->text, sizeof ep->text);
	return 0;
}

const char *endpoint_format_host(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		/* Unnamed addresses (accepted clients) hold no path; a caller
		 * that got one from the kernel zeroes the rest (listener.c). */
		str_fmt(buf, bufsz, "%.*s", (int)strnlen(un->sun_path, sizeof un->sun_path),
			un->sun_path);
	} else if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)bufsz);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)bufsz);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)bufsz);
	} else {
		str_copy(buf, bufsz, "?");
	}
	return buf;
}

uint16_t endpoint_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *endpoint_format(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	if (sa->sa_family == AF_UNIX) {
		char path[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
		str_fmt(buf, bufsz, ENDPOINT_UNIX_PREFIX "%s", endpoint_format_host(sa, path, sizeof path));
		return buf;
	}
	char host[INET6_ADDRSTRLEN];
	endpoint_format_host(sa, host, sizeof host);
	bool v6 = strchr(host, ':') != NULL;
	str_fmt(buf, bufsz, v6 ? "[%s]:%u" : "%s:%u", host, endpoint_port(sa));
	return buf;
}

/* The 4 bytes of an IPv4 address, also when written as IPv4-mapped IPv6. */
static const uint8_t *v4_bytes(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			return &s6->sin6_addr.s6_addr[12];
	}
	return NULL;
}

bool endpoint_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	const uint8_t *a4 = v4_bytes(a), *b4 = v4_bytes(b);
	if (a4 != NULL || b4 != NULL)
		return a4 != NULL && b4 != NULL && memcmp(a4, b4, 4) == 0;
	if (a->sa_family != AF_INET6 || b->sa_family != AF_INET6)
		return false;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}
