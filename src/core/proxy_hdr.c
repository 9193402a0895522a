/* PROXY protocol v1 and v2 headers (HAProxy's "The PROXY protocol,
 * versions 1 & 2"); see core/proxy_hdr.h. Every check a receiver is told
 * to make is made here: the exact signature, the version and command
 * nibbles, an address block as long as its family needs, TLVs that fit,
 * a v1 line of printable bytes with single spaces and ports without
 * leading zeros. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/proxy_hdr.h"
#include "lib/str.h"

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";

static enum proxy_hdr_result bad(char *why, size_t whysz, const char *text)
{
	str_copy(why, whysz, text);
	return PROXY_HDR_BAD;
}

/* ---- v1 ---- */

/* A decimal port: 1 to 5 digits, no leading zero, at most 65535. */
static bool v1_port(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool v1_addr(int family, const char *s, size_t n, uint16_t port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	char text[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			return false;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof *s4;
		return true;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
		return false;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	*len = sizeof *s6;
	return true;
}

static enum proxy_hdr_result parse_v1(const unsigned char *p, size_t len, struct proxy_hdr *h,
				      size_t *used, char *why, size_t whysz)
{
	size_t sig = sizeof v1_sig - 1;
	if (memcmp(p, v1_sig, len < sig ? len : sig) != 0)
		return bad(why, whysz, "not a PROXY header");
	size_t end = 0;
	bool found = false;
	for (size_t i = 0; i < len && i < PROXY_V1_MAX; i++) {
		if (p[i] == '\r') {
			if (i + 1 == len)
				break;	/* the LF may be on its way */
			if (p[i + 1] != '\n')
				return bad(why, whysz, "v1 line has a CR without LF");
			end = i;
			found = true;
			break;
		}
		if (p[i] < 0x20 || p[i] > 0x7e)
			return bad(why, whysz, "v1 line has a byte that is not printable ASCII");
	}
	if (!found)
		return len >= PROXY_V1_MAX ? bad(why, whysz, "v1 line longer than 107 bytes")
					   : PROXY_HDR_MORE;
	if (end < sig)
		return bad(why, whysz, "v1 line too short");
	memset(h, 0, sizeof *h);
	h->version = 1;
	*used = end + 2;
	if (end - sig >= 7 && memcmp(p + sig, "UNKNOWN", 7) == 0 &&
	    (end - sig == 7 || p[sig + 7] == ' ')) {
		/* The rest of the line is to be ignored. */
		h->local = 1;
		return PROXY_HDR_DONE;
	}
	/* The fields after "PROXY ", separated by exactly one space. */
	const char *f[6];
	size_t fl[6], nf = 0;
	const char *s = (const char *)p + sig, *stop = (const char *)p + end;
	while (s <= stop) {
		const char *sp = memchr(s, ' ', (size_t)(stop - s));
		const char *fe = sp != NULL ? sp : stop;
		if (nf == 6)
			return bad(why, whysz, "v1 line has too many fields");
		f[nf] = s;
		fl[nf++] = (size_t)(fe - s);
		if (sp == NULL)
			break;
		s = sp + 1;
	}
	int family;
	if (fl[0] == 4 && memcmp(f[0], "TCP4", 4) == 0)
		family = AF_INET;
	else if (fl[0] == 4 && memcmp(f[0], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return bad(why, whysz, "v1 protocol is not TCP4, TCP6 or UNKNOWN");
	if (nf != 5)
		return bad(why, whysz, "v1 line needs: protocol, two addresses, two ports");
	uint16_t sport, dport;
	if (!v1_port(f[3], fl[3], &sport) || !v1_port(f[4], fl[4], &dport))
		return bad(why, whysz, "v1 port is not a number from 0 to 65535");
	if (!v1_addr(family, f[1], fl[1], sport, &h->src, &h->srclen) ||
	    !v1_addr(family, f[2], fl[2], dport, &h->dst, &h->dstlen))
		return bad(why, whysz, family == AF_INET ? "v1 address is not an IPv4 address"
							 : "v1 address is not an IPv6 address");
	return PROXY_HDR_DONE;
}

/* ---- v2 ---- */

static enum proxy_hdr_result parse_v2(const unsigned char *p, size_t len, struct proxy_hdr *h,
				      size_t *used, char *why, size_t whysz)
{
	if (memcmp(p, v2_sig, len < sizeof v2_sig ? len : sizeof v2_sig) != 0)
		return bad(why, whysz, "not a PROXY header");
	if (len < 16)
		return PROXY_HDR_MORE;
	if ((p[12] >> 4) != 2)
		return bad(why, whysz, "v2 version is not 2");
	unsigned cmd = p[12] & 0x0f, fam = p[13] >> 4, proto = p[13] & 0x0f;
	if (cmd > 1)
		return bad(why, whysz, "v2 command is not LOCAL or PROXY");
	if (fam > 3 || proto > 2)
		return bad(why, whysz, "v2 address family or transport unknown");
	size_t body = ((size_t)p[14] << 8) | p[15];
	if (16 + body > PROXY_HDR_MAX)
		return bad(why, whysz, "v2 header longer than we take (1024 bytes)");
	if (len < 16 + body)
		return PROXY_HDR_MORE;
	static const size_t addr_len[4] = {0, 12, 36, 216};
	if (body < addr_len[fam])
		return bad(why, whysz, "v2 address block shorter than its family needs");
	/* The TLVs after the addresses must fill the rest exactly. */
	for (size_t at = 16 + addr_len[fam]; at < 16 + body;) {
		if (16 + body - at < 3)
			return bad(why, whysz, "v2 TLV truncated");
		size_t tl = ((size_t)p[at + 1] << 8) | p[at + 2];
		if (tl > 16 + body - at - 3)
			return bad(why, whysz, "v2 TLV longer than the header");
		at += 3 + tl;
	}
	memset(h, 0, sizeof *h);
	h->version = 2;
	*used = 16 + body;
	if (cmd == 0 || fam == 0 || fam == 3 || proto == 0) {
		/* LOCAL (the balancer's own check), or nothing we can use as
		 * an address: the connection's endpoints stand. */
		h->local = 1;
		return PROXY_HDR_DONE;
	}
	if (proto != 1)
		return bad(why, whysz, "v2 transport is not STREAM on a TCP listener");
	const unsigned char *a = p + 16;
	if (fam == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
		h->srclen = h->dstlen = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src,
				    *d = (struct sockaddr_in6 *)&h->dst;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
		h->srclen = h->dstlen = sizeof *s;
	}
	return PROXY_HDR_DONE;
}

enum proxy_hdr_result proxy_hdr_parse(const unsigned char *p, size_t len, struct proxy_hdr *h,
				      size_t *used, char *why, size_t whysz)
{
	*used = 0;
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (len == 0)
		return PROXY_HDR_MORE;
	if (p[0] == v2_sig[0])
		return parse_v2(p, len, h, used, why, whysz);
	if (p[0] == (unsigned char)v1_sig[0])
		return parse_v1(p, len, h, used, why, whysz);
	return bad(why, whysz, "not a PROXY header");
}
