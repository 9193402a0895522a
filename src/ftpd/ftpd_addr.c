/* PORT/EPRT/EPSV parsing, PASV/EPSV reply text and the anti-bounce
 * policy: RFC 959 4.1.2, RFC 2428, RFC 2577 section 3. */
#include "ftpd/ftpd_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/str.h"
#include "net/endpoint.h"

static const char port_usage[] =
	"PORT needs h1,h2,h3,h4,p1,p2: six numbers 0-255 separated by commas";
static const char eprt_usage[] =
	"EPRT needs |protocol|address|port|, e.g. |1|127.0.0.1|2000| or |2|::1|2000|";

static enum ftpd_addr_status syntax(ik_err *e, const char *msg)
{
	ik_err_set(e, "%s", msg);
	return FTPD_ADDR_SYNTAX;
}

enum ftpd_addr_status ftpd_addr_parse_port(const char *arg, struct sockaddr_storage *out,
					   socklen_t *outlen, ik_err *e)
{
	unsigned v[6];
	const char *p = arg;
	for (int i = 0; i < 6; i++) {
		unsigned n = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3 || n > 255)
			return syntax(e, port_usage);
		v[i] = n;
		if (i < 5 && *p++ != ',')
			return syntax(e, port_usage);
	}
	if (*p != '\0')
		return syntax(e, port_usage);
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	memset(out, 0, sizeof *out);
	sin->sin_family = AF_INET;
	uint8_t *a = (uint8_t *)&sin->sin_addr;
	for (int i = 0; i < 4; i++)
		a[i] = (uint8_t)v[i];
	sin->sin_port = htons((uint16_t)(v[4] << 8 | v[5]));
	*outlen = sizeof *sin;
	return FTPD_ADDR_OK;
}

/* Copy field [s, end) into buf (size sz); -1 if empty or too long. */
static int field(const char *s, const char *end, char *buf, size_t sz)
{
	size_t n = (size_t)(end - s);
	if (n == 0 || n >= sz)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

enum ftpd_addr_status ftpd_addr_parse_eprt(const char *arg, struct sockaddr_storage *out,
					   socklen_t *outlen, ik_err *e)
{
	char d = arg[0];
	if (d < 33 || d > 126)
		return syntax(e, eprt_usage);
	const char *f1 = arg + 1;
	const char *f2 = strchr(f1, d);
	const char *f3 = f2 != NULL ? strchr(f2 + 1, d) : NULL;
	const char *f4 = f3 != NULL ? strchr(f3 + 1, d) : NULL;
	if (f4 == NULL || f4[1] != '\0')
		return syntax(e, eprt_usage);
	char proto[4], host[INET6_ADDRSTRLEN], port[8];
	if (field(f1, f2, proto, sizeof proto) < 0 || field(f2 + 1, f3, host, sizeof host) < 0 ||
	    field(f3 + 1, f4, port, sizeof port) < 0)
		return syntax(e, eprt_usage);
	uint64_t pr, pn;
	if (str_to_u64(proto, 999, &pr) < 0)
		return syntax(e, eprt_usage);
	if (pr != 1 && pr != 2) {
		ik_err_set(e, "%s", FTPD_ADDR_522_TEXT);
		return FTPD_ADDR_PROTOCOL;
	}
	if (str_to_u64(port, 65535, &pn) < 0)
		return syntax(e, "EPRT port must be a number 0-65535");
	memset(out, 0, sizeof *out);
	if (pr == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return syntax(e, "EPRT protocol 1 needs an IPv4 address such as "
				       "127.0.0.1");
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*outlen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return syntax(e, "EPRT protocol 2 needs an IPv6 address such as "
				       "::1");
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*outlen = sizeof *sin6;
	}
	return FTPD_ADDR_OK;
}

/* The IPv4 address in sa (plain or IPv4-mapped IPv6), or NULL. */
static const uint8_t *ipv4_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return a->s6_addr + 12;
	}
	return NULL;
}

enum ftpd_addr_status ftpd_addr_parse_epsv(const char *arg, const struct sockaddr *control_local,
					   enum ftpd_epsv_kind *kind, ik_err *e)
{
	bool v4 = ipv4_of(control_local) != NULL;
	if (arg[0] == '\0') {
		*kind = FTPD_EPSV_ANY;
		return FTPD_ADDR_OK;
	}
	if (str_eq_nocase(arg, "ALL")) {
		*kind = FTPD_EPSV_ALL;
		return FTPD_ADDR_OK;
	}
	uint64_t pr;
	if (str_to_u64(arg, 999, &pr) < 0)
		return syntax(e, "EPSV takes 1, 2, ALL or no argument");
	if ((pr == 1 && v4) || (pr == 2 && !v4)) {
		*kind = pr == 1 ? FTPD_EPSV_IPV4 : FTPD_EPSV_IPV6;
		return FTPD_ADDR_OK;
	}
	ik_err_set(e, "Network protocol not supported, use (%d)", v4 ? 1 : 2);
	return FTPD_ADDR_PROTOCOL;
}

int ftpd_addr_check_active(const struct sockaddr *target, const struct sockaddr *control_peer,
			   ik_err *e)
{
	if (target->sa_family != AF_INET && target->sa_family != AF_INET6)
		return ik_err_set(e, "Refused: not an internet address");
	if (!endpoint_same_host(target, control_peer))
		return ik_err_set(e, "Refused: data connections go only to your own address");
	if (endpoint_port(target) < 1024)
		return ik_err_set(e, "Refused: the data port must be 1024 or above");
	return 0;
}

int ftpd_addr_pasv_text(const struct sockaddr *addr, uint16_t port, char *buf, size_t bufsz)
{
	const uint8_t *a = ipv4_of(addr);
	if (a == NULL)
		return -1;
	return str_fmt(buf, bufsz, "Entering Passive Mode (%u,%u,%u,%u,%u,%u).", a[0], a[1],
		       a[2], a[3], (unsigned)(port >> 8), (unsigned)(port & 0xff)) < 0 ? -1 : 0;
}

int ftpd_addr_epsv_text(uint16_t port, char *buf, size_t bufsz)
{
	return str_fmt(buf, bufsz, "Entering Extended Passive Mode (|||%u|)", (unsigned)port) < 0
		? -1 : 0;
}

int ftpd_addr_port_text(const struct sockaddr *addr, char *buf, size_t bufsz)
{
	const uint8_t *a = ipv4_of(addr);
	if (a == NULL)
		return -1;
	uint16_t port = endpoint_port(addr);
	return str_fmt(buf, bufsz, "%u,%u,%u,%u,%u,%u", a[0], a[1], a[2], a[3],
		       (unsigned)(port >> 8), (unsigned)(port & 0xff)) < 0 ? -1 : 0;
}
