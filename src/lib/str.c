#include "lib/str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int str_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);
	if (n < dstsz) {
		memcpy(dst, src, n + 1);
		return 0;
	}
	if (dstsz > 0) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
	}
	return -1;
}

int str_fmt(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= dstsz)
		return -1;
	return n;
}

int str_to_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s == '\0')
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Split "123abc" into the number and its unit. */
static int split_unit(const char *s, uint64_t *num, char *unit, size_t unitsz)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 19)
		return -1;
	char digits[20];
	memcpy(digits, s, i);
	digits[i] = '\0';
	if (str_to_u64(digits, UINT64_MAX, num) < 0)
		return -1;
	return str_copy(unit, unitsz, s + i);
}

static int scale(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (mul != 0 && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int str_to_size(const char *s, uint64_t *out)
{
	uint64_t v;
	char unit[4];
	if (split_unit(s, &v, unit, sizeof unit) < 0)
		return -1;
	static const struct { const char *u; uint64_t mul; } units[] = {
		{"", 1}, {"b", 1}, {"k", 1ULL << 10}, {"kb", 1ULL << 10},
		{"m", 1ULL << 20}, {"mb", 1ULL << 20}, {"g", 1ULL << 30},
		{"gb", 1ULL << 30}, {"t", 1ULL << 40}, {"tb", 1ULL << 40},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcasecmp(unit, units[i].u) == 0)
			return scale(v, units[i].mul, out);
	return -1;
}

int str_to_duration_ms(const char *s, uint64_t *out)
{
	uint64_t v;
	char unit[4];
	if (split_unit(s, &v, unit, sizeof unit) < 0)
		return -1;
	static const struct { const char *u; uint64_t mul; } units[] = {
		{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000},
		{"h", 3600000}, {"d", 86400000},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(unit, units[i].u) == 0)
			return scale(v, units[i].mul, out);
	return -1;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool str_eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

char *str_split(char *s, char sep)
{
	char *p = strchr(s, sep);
	if (p == NULL)
		return NULL;
	*p = '\0';
	return p + 1;
}

char *str_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool str_list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

int str_utf8_char(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	int n;
	uint32_t v;
	uint32_t min;
	if (c >= 0xc2 && c <= 0xdf) {	/* 0xc0 and 0xc1 only start overlong forms */
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if (len < (size_t)n)
		return -1;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	return n;
}

bool str_utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		int n = str_utf8_char(s + i, len - i);
		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}
