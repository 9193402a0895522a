/* The legacy numeric forms that inet_aton(3) accepts ("127.1",
 * "0x7f000001", "017700000001", "10.0x10.010.1") and plain integers as
 * addresses. Kept apart from addr.c because they are exactly what a
 * strict parser must refuse: the same text means different hosts to
 * different programs (is "010" 8 or 10?), which is why the tool shows a
 * note with every result.
 *
 * Also the bytes that inet_aton writes, as people copy them: from a hex
 * dump ("c6 a8 01 02") or from Python (b'\xc6\xa8\x01\x02', the repr of
 * socket.inet_aton("198.168.1.2")). */
#include "net/addr.h"

#include <string.h>

#include "lib/str.h"

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
	ik_u128 max = family == AF_INET6 ? ~(ik_u128)0 : UINT32_MAX;
	if (parse_number(s, len, ~(ik_u128)0, &v, &kind, "number", e) < 0)
		return -1;
	if (v > max)
		return ik_err_set(e, "number '%.*s' is more than 32 bits, too large for an IPv4 "
				  "address; give -6 to read it as an IPv6 address", (int)len, s);
	addr_from_u128(out, family == 0 ? AF_INET : family, v);
	*forms = kind == NUM_OCT ? ADDR_ATON_OCTAL : kind == NUM_HEX ? ADDR_ATON_HEX : 0;
	return 0;
}

/* Four bytes are IPv4, sixteen IPv6; -4 or -6 must agree. */
static int from_bytes(const uint8_t *b, size_t n, int family, struct ik_addr *out, ik_err *e)
{
	if (n != 4 && n != 16)
		return ik_err_set(e, "%zu byte%s; an IPv4 address is 4 bytes (8 hex digits), an "
				  "IPv6 address 16 (32 hex digits)", n, n == 1 ? "" : "s");
	int fam = n == 4 ? AF_INET : AF_INET6;
	if (family != 0 && family != fam)
		return ik_err_set(e, "%zu bytes make an IPv%c address; drop -%c", n,
				  fam == AF_INET ? '4' : '6', fam == AF_INET ? '6' : '4');
	memset(out, 0, sizeof *out);
	out->family = fam;
	memcpy(out->bytes, b, n);
	return 0;
}

/* One escape after a backslash at s[0] (s[0..len) holds the rest):
 * Python's \xhh, \ooo, \\ \' \" and the letters. Returns its length. */
static size_t py_escape(const char *s, size_t len, uint8_t *byte, ik_err *e)
{
	static const char letters[] = "\\'\"abfnrtv";
	static const uint8_t values[] = {'\\', '\'', '"', 7, 8, 12, 10, 13, 9, 11};
	if (len < 2) {
		ik_err_set(e, "ends in a lone backslash");
		return 0;
	}
	if (s[1] == 'x') {
		int hi = len > 2 ? str_hex_digit(s[2]) : -1;
		int lo = len > 3 ? str_hex_digit(s[3]) : -1;
		if (hi < 0 || lo < 0) {
			ik_err_set(e, "\\x needs two hex digits, as in \\xc6");
			return 0;
		}
		*byte = (uint8_t)(hi << 4 | lo);
		return 4;
	}
	if (s[1] >= '0' && s[1] <= '7') {
		unsigned v = 0;
		size_t k = 1;
		while (k < 4 && k < len && s[k] >= '0' && s[k] <= '7')
			v = v * 8 + (unsigned)(s[k++] - '0');
		if (v > 255) {
			ik_err_set(e, "octal escape \\%.*s is more than a byte (\\377)",
				   (int)(k - 1), s + 1);
			return 0;
		}
		*byte = (uint8_t)v;
		return k;
	}
	const char *at = s[1] != '\0' ? strchr(letters, s[1]) : NULL;
	if (at == NULL) {
		unsigned char c = (unsigned char)s[1];
		if (c > 0x20 && c < 0x7f)
			ik_err_set(e, "unknown escape '\\%c'; Python bytes use \\xhh", c);
		else
			ik_err_set(e, "unknown escape: backslash, then byte 0x%02x", c);
		return 0;
	}
	*byte = values[at - letters];
	return 2;
}

/* b'...', b"...", '...' (Python 2's str), or, with the quotes taken away
 * by a shell, b\x.. and \x.. (then it starts with an escape). */
static int parse_pybytes(const char *s, size_t len, int family, struct ik_addr *out, ik_err *e)
{
	size_t i = s[0] == 'b' || s[0] == 'B' ? 1 : 0, end = len;
	char quote = 0;
	if (i < len && (s[i] == '\'' || s[i] == '"')) {
		quote = s[i++];
		if (len < i + 1 || s[len - 1] != quote)
			return ik_err_set(e, "a Python bytes literal ends with the quote it starts "
					  "with (%c)", quote);
		end = len - 1;
	}
	uint8_t b[16];
	size_t n = 0;
	while (i < end) {
		uint8_t byte;
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			size_t k = py_escape(s + i, end - i, &byte, e);
			if (k == 0)
				return -1;
			i += k;
		} else if (c == (unsigned char)quote) {
			return ik_err_set(e, "a %c inside the literal is written \\%c", c, c);
		} else if (c >= 0x20 && c < 0x7f) {
			byte = c;
			i++;
		} else {
			return ik_err_set(e, "byte 0x%02x in a Python bytes literal; write it as "
					  "\\x%02x", c, c);
		}
		if (n == sizeof b)
			return ik_err_set(e, "more than 16 bytes; an IPv6 address is 16, IPv4 4");
		b[n++] = byte;
	}
	return from_bytes(b, n, family, out, e);
}

/* Whole bytes of hex digits, optionally in groups separated by blanks. */
static int parse_hexbytes(const char *s, size_t len, int family, struct ik_addr *out, ik_err *e)
{
	uint8_t b[16];
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if ((i - start) % 2 != 0)
			return ik_err_set(e, "'%.*s' has an odd number of hex digits; write whole "
					  "bytes, two digits each (c6 a8 01 02), or a number "
					  "with 0x", (int)(i - start), s + start);
		for (size_t k = start; k < i; k += 2) {
			if (n == sizeof b)
				return ik_err_set(e, "more than 16 bytes; an IPv6 address is 16, "
						  "IPv4 4");
			b[n++] = (uint8_t)(str_hex_digit(s[k]) << 4 | str_hex_digit(s[k + 1]));
		}
	}
	return from_bytes(b, n, family, out, e);
}

int addr_from_ntoa_text(const char *s, size_t len, int family, struct ik_addr *out,
			unsigned *forms, ik_err *e)
{
	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	memset(out, 0, sizeof *out);
	if (len == 0)
		return ik_err_set(e, "empty input");
	size_t q = s[0] == 'b' || s[0] == 'B' ? 1 : 0;
	if (q < len && (s[q] == '\'' || s[q] == '"' || s[q] == '\\')) {
		*forms = ADDR_NUM_PYBYTES;
		return parse_pybytes(s, len, family, out, e);
	}
	bool blank = false, letter = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			blank = true;
		else if (str_hex_digit(s[i]) < 0)
			return addr_from_number(s, len, family, out, forms, e);
		else if (s[i] > '9')
			letter = true;
	}
	/* Digits alone are a decimal (or 0-led octal) number, as always. */
	if (!blank && !letter)
		return addr_from_number(s, len, family, out, forms, e);
	*forms = ADDR_NUM_BYTES;
	return parse_hexbytes(s, len, family, out, e);
}
