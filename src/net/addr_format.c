/* Text forms of addresses: RFC 5952 canonical IPv6 (with the mixed
 * notation of its §5 for IPv4-mapped and NAT64 addresses), the expanded
 * form, reverse names (RFC 1035 §3.5, RFC 3596 §2.5), hex, binary and
 * 128-bit decimal.
 *
 * Batch mode formats a dozen of these per input line, so the writers are
 * plain pointer bumps into a buffer known to be large enough; the public
 * functions check the caller's size once at the end. */
#include "net/addr.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";
static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static char *put_u8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_v4(char *p, const uint8_t b[4])
{
	p = put_u8(p, b[0]);
	*p++ = '.';
	p = put_u8(p, b[1]);
	*p++ = '.';
	p = put_u8(p, b[2]);
	*p++ = '.';
	return put_u8(p, b[3]);
}

/* A group without leading zeros (RFC 5952 §4.1), lowercase (§4.3). */
static char *put_group(char *p, unsigned v)
{
	int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;
	for (; shift >= 0; shift -= 4)
		*p++ = hexdig[(v >> shift) & 15];
	return p;
}

static bool is_mixed(const uint8_t b[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	return memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0;
}

static char *put_v6(char *p, const uint8_t b[16])
{
	unsigned g[8];
	for (int k = 0; k < 8; k++)
		g[k] = (unsigned)b[2 * k] << 8 | b[2 * k + 1];
	bool mixed = is_mixed(b);
	int ng = mixed ? 6 : 8;
	/* RFC 5952 §4.2: the longest run of zero groups, the first of equal
	 * runs, and never a single group. */
	int bs = -1, bl = 1;
	for (int k = 0; k < ng;) {
		if (g[k] != 0) {
			k++;
			continue;
		}
		int s = k;
		while (k < ng && g[k] == 0)
			k++;
		if (k - s > bl) {
			bs = s;
			bl = k - s;
		}
	}
	bool after_gap = false;
	for (int k = 0; k < ng;) {
		if (k == bs) {
			*p++ = ':';
			*p++ = ':';
			k += bl;
			after_gap = true;
			continue;
		}
		if (k > 0 && !after_gap)
			*p++ = ':';
		p = put_group(p, g[k]);
		after_gap = false;
		k++;
	}
	if (mixed) {
		if (!after_gap)
			*p++ = ':';
		p = put_v4(p, b + 12);
	}
	return p;
}

static char *put_zone(char *p, const struct ik_addr *a)
{
	if (a->family == AF_INET6 && a->zone[0] != '\0') {
		size_t n = strnlen(a->zone, sizeof a->zone - 1);
		*p++ = '%';
		memcpy(p, a->zone, n);
		p += n;
	}
	return p;
}

/* Copy the finished text out if it fits (a no-op when it was written in
 * place: see OUT). */
static size_t finish(const char *tmp, const char *end, char *buf, size_t bufsz)
{
	size_t n = (size_t)(end - tmp);
	if (n >= bufsz) {
		if (bufsz > 0)
			buf[0] = '\0';
		return 0;
	}
	if (tmp != buf)
		memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* Write straight into the caller's buffer when it has the guaranteed
 * room, else into a local one that finish() copies from. */
#define OUT(tmp, buf, bufsz) ((bufsz) >= sizeof(tmp) ? (buf) : (tmp))

static char *put_addr(char *p, const struct ik_addr *a)
{
	p = a->family == AF_INET ? put_v4(p, a->bytes) : put_v6(p, a->bytes);
	return put_zone(p, a);
}

size_t addr_format(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_TEXT_MAX], *o = OUT(tmp, buf, bufsz);
	return finish(o, put_addr(o, a), buf, bufsz);
}

size_t addr_format_net(const struct ik_net *n, char *buf, size_t bufsz)
{
	char tmp[ADDR_TEXT_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = put_addr(o, &n->addr);
	*p++ = '/';
	p = put_u8(p, n->prefix);
	return finish(o, p, buf, bufsz);
}

size_t addr_format_full(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_TEXT_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	if (a->family == AF_INET) {
		p = put_v4(p, a->bytes);
	} else {
		for (int i = 0; i < 16; i++) {
			if (i > 0 && i % 2 == 0)
				*p++ = ':';
			*p++ = hexdig[a->bytes[i] >> 4];
			*p++ = hexdig[a->bytes[i] & 15];
		}
		p = put_zone(p, a);
	}
	return finish(o, p, buf, bufsz);
}

size_t addr_reverse_name(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_REVERSE_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	if (a->family == AF_INET) {
		for (int i = 3; i >= 0; i--) {
			p = put_u8(p, a->bytes[i]);
			*p++ = '.';
		}
		memcpy(p, "in-addr.arpa", 12);
		p += 12;
	} else {
		for (int i = 15; i >= 0; i--) {
			*p++ = hexdig[a->bytes[i] & 15];
			*p++ = '.';
			*p++ = hexdig[a->bytes[i] >> 4];
			*p++ = '.';
		}
		memcpy(p, "ip6.arpa", 8);
		p += 8;
	}
	return finish(o, p, buf, bufsz);
}

size_t addr_format_hex(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_NUMBER_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	*p++ = '0';
	*p++ = 'x';
	unsigned n = a->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < n; i++) {
		*p++ = hexdig[a->bytes[i] >> 4];
		*p++ = hexdig[a->bytes[i] & 15];
	}
	return finish(o, p, buf, bufsz);
}

size_t addr_format_bytes(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_BYTES_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	unsigned n = a->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ' ';
		*p++ = hexdig[a->bytes[i] >> 4];
		*p++ = hexdig[a->bytes[i] & 15];
	}
	return finish(o, p, buf, bufsz);
}

/* Python's repr of bytes: single quotes unless only a double quote avoids
 * an escape; \\, \t, \n, \r, printable ASCII as itself, the rest \xhh. */
size_t addr_format_pybytes(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_BYTES_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	unsigned n = a->family == AF_INET ? 4 : 16;
	bool single = memchr(a->bytes, '\'', n) != NULL, dbl = memchr(a->bytes, '"', n) != NULL;
	char quote = single && !dbl ? '"' : '\'';
	*p++ = 'b';
	*p++ = quote;
	for (unsigned i = 0; i < n; i++) {
		unsigned c = a->bytes[i];
		if (c == (unsigned char)quote || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			*p++ = '\\';
			*p++ = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		} else if (c >= 0x20 && c < 0x7f) {
			*p++ = (char)c;
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hexdig[c >> 4];
			*p++ = hexdig[c & 15];
		}
	}
	*p++ = quote;
	return finish(o, p, buf, bufsz);
}

/* Eight '0'/'1' characters, most significant bit first. */
static char *put_bits8(char *p, unsigned b)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The multiply puts bit 7-j of b at the top of byte j (the terms do
	 * not overlap, so nothing carries); byte j is character j. */
	uint64_t x = ((b * 0x8040201008040201ULL) & 0x8080808080808080ULL) >> 7;
	x += 0x3030303030303030ULL;
	memcpy(p, &x, 8);
	return p + 8;
#else
	for (int bit = 7; bit >= 0; bit--)
		*p++ = (char)('0' + ((b >> bit) & 1));
	return p;
#endif
}

size_t addr_format_binary(const struct ik_addr *a, char *buf, size_t bufsz)
{
	char tmp[ADDR_BINARY_MAX], *o = OUT(tmp, buf, bufsz);
	char *p = o;
	bool v4 = a->family == AF_INET;
	unsigned n = v4 ? 4 : 16;
	for (unsigned i = 0; i < n; i++) {
		if (i > 0 && (v4 || i % 2 == 0))
			*p++ = v4 ? '.' : ':';
		p = put_bits8(p, a->bytes[i]);
	}
	return finish(o, p, buf, bufsz);
}

size_t addr_format_u128(ik_u128 v, char *buf, size_t bufsz)
{
	char tmp[ADDR_NUMBER_MAX];
	char *end = tmp + sizeof tmp, *p = end;
	/* Chunks of 19 digits keep most divisions in 64 bits. */
	const uint64_t chunk = 10000000000000000000ULL;
	while (v > UINT64_MAX) {
		ik_u128 q = v / chunk;
		uint64_t low = (uint64_t)(v - q * chunk);
		v = q;
		for (int i = 0; i < 9; i++) {
			p -= 2;
			memcpy(p, digits2 + 2 * (low % 100), 2);
			low /= 100;
		}
		*--p = (char)('0' + low);
	}
	uint64_t w = (uint64_t)v;
	while (w >= 100) {
		unsigned d = (unsigned)(w % 100);
		w /= 100;
		p -= 2;
		memcpy(p, digits2 + 2 * d, 2);
	}
	if (w >= 10) {
		p -= 2;
		memcpy(p, digits2 + 2 * w, 2);
	} else {
		*--p = (char)('0' + w);
	}
	size_t n = (size_t)(end - p);
	if (n >= bufsz) {
		if (bufsz > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return n;
}
