/* Mailbox names: modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8 (RFC 3629),
 * for clients that ENABLE UTF8=ACCEPT (RFC 6855 3: they send and are sent
 * UTF-8 names). Names stay modified UTF-7 on disk, as Dovecot keeps its
 * Maildir++ folders (".Entw&APw-rfe"), so both servers show one folder
 * list. Pure functions (fuzzed by tests/fuzz/fuzz_imap_mime.c).
 *
 * Modified UTF-7: printable US-ASCII but '&' stands for itself; "&-" is
 * '&'; anything else is "&" + base64 (',' for '/', no padding) of its
 * UTF-16BE code units + "-". Only the shortest form is valid (RFC 3501:
 * no encoded printable ASCII, no two adjacent encoded runs). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "imap/imap_parse.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_val(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;
	return p != NULL ? (int)(p - b64) : -1;
}

/* Append one code point as UTF-8; -1 when out is full. */
static int put_utf8(char *out, size_t outsz, size_t *o, uint32_t cp)
{
	unsigned char buf[4];
	size_t n;
	if (cp < 0x80) {
		buf[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		buf[0] = (unsigned char)(0xc0 | cp >> 6);
		buf[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		buf[0] = (unsigned char)(0xe0 | cp >> 12);
		buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		buf[0] = (unsigned char)(0xf0 | cp >> 18);
		buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		buf[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n >= outsz)
		return -1;
	memcpy(out + *o, buf, n);
	*o += n;
	return 0;
}

int imap_utf7_to_utf8(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	bool after_run = false;	/* the previous thing was an encoded run */
	if (outsz == 0)
		return -1;
	for (const char *p = in; *p;) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
			p++;
			after_run = false;
			continue;
		}
		p++;
		if (*p == '-') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '&';
			p++;
			after_run = false;
			continue;
		}
		if (after_run)
			return -1;	/* two runs in a row: not the shortest form */
		uint32_t bits = 0, high = 0;
		unsigned nbits = 0;
		size_t chars = 0;
		for (; *p != '-'; p++, chars++) {
			int v = b64_val(*p);
			if (v < 0)
				return -1;	/* includes the end of the string */
			bits = bits << 6 | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t unit = bits >> nbits & 0xffff;
			bits &= (1u << nbits) - 1;
			if (high != 0) {
				if (unit < 0xdc00 || unit > 0xdfff)
					return -1;
				uint32_t cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00);
				high = 0;
				if (put_utf8(out, outsz, &o, cp) < 0)
					return -1;
			} else if (unit >= 0xd800 && unit <= 0xdbff) {
				high = unit;
			} else if (unit >= 0xdc00 && unit <= 0xdfff) {
				return -1;
			} else {
				/* Printable ASCII must not be encoded; control
				 * characters (NUL too) are not in names. */
				if (unit < 0x80)
					return -1;
				if (put_utf8(out, outsz, &o, unit) < 0)
					return -1;
			}
		}
		/* An empty run, a dangling surrogate or leftover bits that are
		 * not zero padding: malformed. */
		if (chars == 0 || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
			return -1;
		p++;
		after_run = true;
	}
	out[o] = '\0';
	return 0;
}

/* The next code point of UTF-8 s (shortest form, no surrogates); -1. */
static int32_t next_cp(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	size_t n;
	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	} else if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else {
		return -1;
	}
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + n + 1;
	return (int32_t)cp;
}

int imap_utf8_to_utf7(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)in;
	if (outsz == 0)
		return -1;
	while (*p) {
		if (*p >= 0x20 && *p <= 0x7e) {
			size_t need = *p == '&' ? 2 : 1;
			if (o + need >= outsz)
				return -1;
			out[o++] = (char)*p;
			if (*p == '&')
				out[o++] = '-';
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			return -1;	/* control characters are not in names */
		/* A run of characters that need encoding. */
		if (o + 1 >= outsz)
			return -1;
		out[o++] = '&';
		uint32_t bits = 0;
		unsigned nbits = 0;
		while (*p && (*p < 0x20 || *p > 0x7e)) {
			int32_t cp = next_cp(&p);
			if (cp < 0 || cp < 0x20 || cp == 0x7f)
				return -1;
			uint32_t units[2];
			size_t nu = 1;
			if (cp >= 0x10000) {
				units[0] = 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
				units[1] = 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff);
				nu = 2;
			} else {
				units[0] = (uint32_t)cp;
			}
			for (size_t u = 0; u < nu; u++) {
				bits = bits << 16 | units[u];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					if (o + 1 >= outsz)
						return -1;
					out[o++] = b64[bits >> nbits & 0x3f];
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = b64[(bits << (6 - nbits)) & 0x3f];
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = '-';
	}
	out[o] = '\0';
	return 0;
}
