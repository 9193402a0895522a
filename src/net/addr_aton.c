/* The legacy numeric forms that inet_aton(3) accepts ("127.1",
 * "0x7f000001", "017700000001", "10.0x10.010.1") and plain integers as
 * addresses. Kept apart from addr.c because they are exactly what a
 * strict parser must refuse: the same text means different hosts to
 * different programs (is "010" 8 or 10?), which is why the tool shows a
 * note with every result. */
#include "net/addr.h"

#include <string.h>

#include "core/str.h"

enum num_kind { NUM_DEC, NUM_OCT, NUM_HEX };

/* One number in s[0..len): 0x hex, 0-led octal or decimal, at most max.
 * what names it in messages ("part '0x1g'", "'0x1g'"). */
static int parse_number(const char *s, size_t len, ik_u128 max, ik_u128 *out,
			enum num_kind *kind, const char *what, ik_err *e)
{
	size_t i = 0;
	unsigned base = 10;
	*kind = NUM_DEC;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		*kind = NUM_HEX;
		i = 2;
		if (len == 2)
			return ik_err_set(e, "%s '%.*s' has no hex digits after 0x", what, (int)len, s);
	} else if (len >= 2 && s[0] == '0') {
		base = 8;
		*kind = NUM_OCT;
		i = 1;
	}
	ik_u128 v = 0;
	for (; i < len; i++) {
		int d = str_hex_digit(s[i]);
		if (d < 0 || d >= (int)base) {
			if (base == 8 && d >= 8 && d < 10)
				return ik_err_set(e, "%s '%.*s' is not octal (a leading 0 means octal; "
						  "'%c' is not an octal digit)", what, (int)len, s, s[i]);
			unsigned char c = (unsigned char)s[i];
			if (c > 0x20 && c < 0x7f)
				return ik_err_set(e, "%s '%.*s': unexpected '%c'", what, (int)len, s, c);
			return ik_err_set(e, "%s '%.*s': unexpected byte 0x%02x", what, (int)len, s, c);
		}
		if (v > (max - (ik_u128)d) / base)
			return ik_err_set(e, "%s '%.*s' is too large", what, (int)len, s);
		v = v * base + (ik_u128)d;
	}
	*out = v;
	return 0;
}

int addr_aton_legacy(const char *s, size_t len, struct ik_addr *out, unsigned *forms,
		     ik_err *e)
{
	ik_u128 part[4];
	size_t n = 0, start = 0;
	unsigned f = 0;
	memset(out, 0, sizeof *out);
	out->family = AF_INET;
	if (len == 0)
		return ik_err_set(e, "empty input");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (n == 4)
			return ik_err_set(e, "more than 4 parts; inet_aton takes 1 to 4");
		if (i == start)
			return ik_err_set(e, "part %zu is empty", n + 1);
		enum num_kind kind;
		if (parse_number(s + start, i - start, UINT32_MAX, &part[n], &kind, "part", e) < 0)
			return -1;
		if (kind == NUM_OCT)
			f |= ADDR_ATON_OCTAL;
		else if (kind == NUM_HEX)
			f |= ADDR_ATON_HEX;
		n++;
		start = i + 1;
	}
	/* All parts but the last are one byte; the last fills what is left. */
	for (size_t k = 0; k + 1 < n; k++)
		if (part[k] > 255)
			return ik_err_set(e, "part %zu is %u, out of range 0\u2013255", k + 1,
					  (unsigned)part[k]);
	static const char *const form[] = {"a", "a.b", "a.b.c", "a.b.c.d"};
	unsigned last_bits = 8 * (unsigned)(5 - n);
	uint32_t last_max = last_bits == 32 ? UINT32_MAX : (1u << last_bits) - 1;
	if (part[n - 1] > last_max)
		return ik_err_set(e, "last part %u is out of range 0\u2013%u for the %s form",
				  (unsigned)part[n - 1], last_max, form[n - 1]);
	uint32_t v = (uint32_t)part[n - 1];
	for (size_t k = 0; k + 1 < n; k++)
		v |= (uint32_t)part[k] << (24 - 8 * k);
	if (n < 4)
		f |= ADDR_ATON_SHORT;
	addr_from_u128(out, AF_INET, v);
	*forms = f;
	return 0;
}

int addr_from_number(const char *s, size_t len, int family, struct ik_addr *out,
		     unsigned *forms, ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (len == 0)
		return ik_err_set(e, "empty input");
	ik_u128 v;
	enum num_kind kind;
	ik_u128 max = family == AF_INET ? UINT32_MAX : ~(ik_u128)0;
	if (parse_number(s, len, ~(ik_u128)0, &v, &kind, "number", e) < 0)
		return -1;
	if (v > max)
		return ik_err_set(e, "number '%.*s' does not fit in 32 bits (an IPv4 address); "
				  "use -6 for IPv6", (int)len, s);
	if (family == 0)
		family = v > UINT32_MAX ? AF_INET6 : AF_INET;
	addr_from_u128(out, family, v);
	*forms = kind == NUM_OCT ? ADDR_ATON_OCTAL : kind == NUM_HEX ? ADDR_ATON_HEX : 0;
	return 0;
}
