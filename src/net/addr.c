/* Parsing IPv4 and IPv6 text (RFC 791, RFC 4291 §2.2, RFC 4007 §11) and
 * the integer view of addresses.
 *
 * Strict on purpose: a dotted quad with a leading zero is refused, because
 * inet_aton(3) would read "010" as 8 and two programs would disagree about
 * which host the text names. The legacy forms live in addr_aton.c. */
#include "net/addr.h"

#include <string.h>

#include "lib/error.h"
#include "lib/str.h"

/* Describe the byte at s[i] for a message: 'x' or 0x07. */
static int err_char(ik_err *e, const char *s, size_t i, const char *expect)
{
	unsigned char c = (unsigned char)s[i];
	if (c > 0x20 && c < 0x7f)
		return ik_err_set(e, "unexpected '%c' at position %zu; %s", c, i + 1, expect);
	return ik_err_set(e, "unexpected byte 0x%02x at position %zu; %s", c, i + 1, expect);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Strict dotted quad in s[0..len); also reads dotted netmasks. */
static int parse_v4(const char *s, size_t len, uint8_t out[4], ik_err *e)
{
	size_t start = 0;
	unsigned n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && is_digit(s[i]))
			continue;
		if (i < len && s[i] != '.') {
			if (s[i] == '%')
				return ik_err_set(e, "a zone id ('%%...') is allowed only on IPv6 addresses");
			if ((s[i] == 'x' || s[i] == 'X') && i == start + 1 && s[start] == '0')
				return ik_err_set(e, "hexadecimal '%.*s' is not a dotted quad (for inet_aton "
						  "forms see 'inetkit addr aton')", (int)(len - start), s + start);
			return err_char(e, s, i, "expected a digit or '.'");
		}
		/* s[start..i) is one octet */
		size_t dl = i - start;
		if (dl == 0 && i == len && n > 0)
			return ik_err_set(e, "ends with '.'; an IPv4 address is four numbers "
					  "joined by dots");
		if (n == 4)
			return ik_err_set(e, "more than 4 octets; an IPv4 address has exactly 4");
		if (dl == 0)
			return ik_err_set(e, "octet %u is empty", n + 1);
		unsigned v = 0;
		for (size_t k = start; k < i && v <= 255; k++)
			v = v * 10 + (unsigned)(s[k] - '0');
		if (v > 255 || dl > 3)
			return ik_err_set(e, "octet %.*s is out of range 0\u2013255", (int)dl, s + start);
		if (dl > 1 && s[start] == '0')
			return ik_err_set(e, "leading zero in octet '%.*s' is ambiguous (octal in "
					  "inet_aton); write %u", (int)dl, s + start, v);
		out[n++] = (uint8_t)v;
		start = i + 1;
	}
	if (n < 4)
		return ik_err_set(e, "only %u octet%s; an IPv4 address has 4 (for short forms such "
				  "as 127.1 see 'inetkit addr aton')", n, n == 1 ? "" : "s");
	return 0;
}

/* RFC 4291 §2.2 forms in s[0..len) (no zone, no prefix). */
static int parse_v6(const char *s, size_t len, uint8_t out[16], ik_err *e)
{
	uint16_t groups[8];
	int n = 0, gap = -1;	/* gap: index in groups where "::" stands */
	size_t i = 0;
	if (len >= 1 && s[0] == ':') {
		if (len < 2 || s[1] != ':')
			return ik_err_set(e, "a single ':' may not start an address (write '::' for "
					  "leading zero groups)");
		gap = 0;
		i = 2;
		if (i < len && s[i] == ':')
			return ik_err_set(e, "':::' is not valid; '::' stands for one or more zero groups");
	}
	while (i < len) {
		size_t start = i;
		while (i < len && s[i] != ':' && s[i] != '.')
			i++;
		if (i < len && s[i] == '.') {
			/* embedded dotted quad: the rest of the text, two groups */
			size_t end = start;
			while (end < len && s[end] != ':')
				end++;
			if (end < len)
				return ik_err_set(e, "an embedded IPv4 address may only be the last 32 bits");
			if (n > 6)
				return ik_err_set(e, "too many groups before the embedded IPv4 address "
						  "(at most 6)");
			uint8_t q[4];
			ik_err sub;
			if (parse_v4(s + start, len - start, q, &sub) < 0)
				return ik_err_set(e, "embedded IPv4 '%.*s': %s", (int)(len - start),
						  s + start, sub.msg);
			groups[n++] = (uint16_t)(q[0] << 8 | q[1]);
			groups[n++] = (uint16_t)(q[2] << 8 | q[3]);
			i = len;
			break;
		}
		size_t dl = i - start;
		if (n == 8)
			return ik_err_set(e, "more than 8 groups; an IPv6 address has 8");
		unsigned v = 0;
		for (size_t k = start; k < i; k++) {
			int h = str_hex_digit(s[k]);
			if (h < 0)
				return err_char(e, s, k, "expected a hex digit, ':' or '.'");
			v = (v << 4) | (unsigned)h;
			if (k - start >= 4)
				return ik_err_set(e, "group '%.*s' has more than 4 hex digits",
						  (int)dl, s + start);
		}
		if (dl == 0)	/* only after "::", which the code below consumes */
			return ik_err_set(e, "empty group");
		groups[n++] = (uint16_t)v;
		if (i == len)
			break;
		i++;	/* the ':' */
		if (i == len)
			return ik_err_set(e, "a single ':' may not end an address (write '::' for "
					  "trailing zero groups)");
		if (s[i] == ':') {
			if (gap >= 0)
				return ik_err_set(e, "'::' may appear only once");
			gap = n;
			i++;
			if (i < len && s[i] == ':')
				return ik_err_set(e, "':::' is not valid; '::' stands for one or more "
						  "zero groups");
		}
	}
	if (gap < 0 && n != 8)
		return ik_err_set(e, "only %d group%s and no '::'; an IPv6 address has 8", n,
				  n == 1 ? "" : "s");
	if (gap >= 0 && n == 8)
		return ik_err_set(e, "'::' must stand for at least one zero group, but there are "
				  "already 8");
	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : n - gap;	/* groups after "::" */
	int head = gap < 0 ? n : gap;
	for (int k = 0; k < head; k++) {
		out[2 * k] = (uint8_t)(groups[k] >> 8);
		out[2 * k + 1] = (uint8_t)groups[k];
	}
	for (int k = 0; k < tail; k++) {
		int pos = 8 - tail + k;
		out[2 * pos] = (uint8_t)(groups[head + k] >> 8);
		out[2 * pos + 1] = (uint8_t)groups[head + k];
	}
	return 0;
}

/* Interface names are printable; these bytes would break the text forms
 * ("%", "/") or need quoting in JSON and shells. */
static bool zone_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%' && c != '/' && c != '"' && c != '\\' &&
	       c != '\'';
}

bool addr_looks_like_hostname(const char *s, size_t len)
{
	if (len > 1 && s[len - 1] == '.')	/* a fully qualified name */
		len--;
	bool letter = false, last_alpha = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!alpha && !is_digit(c) && c != '-' && c != '.')
			return false;
		/* 0x starts a hexadecimal inet_aton part, not a label */
		if ((c == 'x' || c == 'X') && i > 0 && s[i - 1] == '0' &&
		    (i == 1 || s[i - 2] == '.'))
			return false;
		if (c == '.')
			last_alpha = false;
		else if (alpha || c == '-')
			last_alpha = true;
		letter |= alpha;
	}
	return letter && last_alpha;
}

int addr_parse_addr(const char *s, size_t len, struct ik_addr *out, ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (len == 0)
		return ik_err_set(e, "empty input");
	const char *pct = memchr(s, '%', len);
	size_t alen = pct != NULL ? (size_t)(pct - s) : len;
	/* A colon before any zone id is what makes the text IPv6. */
	if (memchr(s, ':', alen) == NULL) {
		out->family = AF_INET;
		return parse_v4(s, len, out->bytes, e);
	}
	out->family = AF_INET6;
	if (pct != NULL) {
		size_t zl = len - alen - 1;
		const char *z = pct + 1;
		if (zl == 0)
			return ik_err_set(e, "empty zone id after '%%'");
		if (zl >= IF_NAMESIZE)
			return ik_err_set(e, "zone id '%.*s' is longer than %d characters",
					  (int)zl, z, IF_NAMESIZE - 1);
		for (size_t k = 0; k < zl; k++)
			if (!zone_char_ok((unsigned char)z[k]))
				return err_char(e, s, alen + 1 + k,
						"a zone id is an interface name or number");
		memcpy(out->zone, z, zl);
		out->zone[zl] = '\0';
	}
	return parse_v6(s, alen, out->bytes, e);
}

/* "/24" or, for IPv4, "/255.255.255.0". */
static int parse_prefix(const char *p, size_t pl, const struct ik_addr *a, unsigned *prefix,
			ik_err *e)
{
	unsigned bits = addr_bits(a);
	if (pl == 0)
		return ik_err_set(e, "missing prefix length after '/'");
	if (memchr(p, '/', pl) != NULL)
		return ik_err_set(e, "more than one '/'");
	bool digits = true;
	for (size_t i = 0; i < pl; i++)
		if (!is_digit(p[i]))
			digits = false;
	if (digits) {
		unsigned v = 0;
		for (size_t i = 0; i < pl && v <= bits; i++)
			v = v * 10 + (unsigned)(p[i] - '0');
		if (v > bits || pl > 3)
			return ik_err_set(e, "prefix %.*s is out of range 0\u2013%u", (int)pl, p, bits);
		if (pl > 1 && p[0] == '0')
			return ik_err_set(e, "leading zero in prefix '%.*s'; write %u", (int)pl, p, v);
		*prefix = v;
		return 0;
	}
	if (a->family != AF_INET || memchr(p, '.', pl) == NULL)
		return ik_err_set(e, "prefix '%.*s' is not a number 0\u2013%u%s", (int)pl, p, bits,
				  a->family == AF_INET ? " or a dotted netmask" : "");
	uint8_t m[4];
	ik_err sub;
	if (parse_v4(p, pl, m, &sub) < 0)
		return ik_err_set(e, "netmask '%.*s': %s", (int)pl, p, sub.msg);
	uint32_t mask = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	uint32_t inv = ~mask;
	if ((inv & (inv + 1)) != 0) {
		/* 0.0.0.255 is a wildcard (Cisco ACL) mask, worth naming */
		if ((mask & (mask + 1)) == 0)
			return ik_err_set(e, "netmask %.*s is not contiguous (it looks like a wildcard "
					  "mask; the netmask is its inverse)", (int)pl, p);
		return ik_err_set(e, "netmask %.*s is not contiguous (its 1 bits must all come "
				  "first)", (int)pl, p);
	}
	*prefix = (unsigned)__builtin_popcount(mask);
	return 0;
}

int addr_parse(const char *s, size_t len, struct ik_net *out, ik_err *e)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len;
	if (len == 0)
		return ik_err_set(e, "empty input");
	if (alen == 0)
		return ik_err_set(e, "no address before '/'");
	if (addr_parse_addr(s, alen, &out->addr, e) < 0)
		return -1;
	out->prefix = addr_bits(&out->addr);
	if (slash == NULL)
		return 0;
	return parse_prefix(slash + 1, len - alen - 1, &out->addr, &out->prefix, e);
}

ik_u128 addr_to_u128(const struct ik_addr *a)
{
	ik_u128 v = 0;
	unsigned n = a->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | a->bytes[i];
	return v;
}

void addr_from_u128(struct ik_addr *a, int family, ik_u128 v)
{
	memset(a, 0, sizeof *a);
	a->family = family;
	unsigned n = family == AF_INET ? 4 : 16;
	for (unsigned i = n; i-- > 0;) {
		a->bytes[i] = (uint8_t)v;
		v >>= 8;
	}
}

int addr_compare(const struct ik_addr *a, const struct ik_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16);
}

bool addr_equal(const struct ik_addr *a, const struct ik_addr *b)
{
	return addr_compare(a, b) == 0;
}

ik_u128 addr_mask(int family, unsigned prefix)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	if (prefix == 0)
		return 0;
	ik_u128 all = bits == 128 ? ~(ik_u128)0 : ((ik_u128)1 << bits) - 1;
	return (all << (bits - prefix)) & all;
}
