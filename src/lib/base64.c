/* Base64, RFC 4648 section 4, strict.
 *
 * Written here rather than taken from OpenSSL: EVP_DecodeBlock skips
 * leading and trailing white space, counts padding as decoded zero bytes
 * and accepts non-zero bits after the last byte, so two different texts
 * could decode to the same credentials, and lib/ stays free of
 * dependencies. RFC 4648 3.5 lets a decoder refuse non-canonical input;
 * SASL (RFC 4422 3.3) asks it to. */
#include "lib/base64.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* Largest input either way whose result length still fits in a long (and
 * whose encoded size fits in a size_t). */
#define B64_MAX_BYTES ((size_t)(LONG_MAX / 4) * 3 - 3)

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

long base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
	if (n > B64_MAX_BYTES || outsz < base64_encoded_size(n))
		return -1;
	const uint8_t *p = in;
	size_t o = 0;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *s, size_t len, void *out, size_t outsz)
{
	if (len % 4 != 0 || len / 4 * 3 > B64_MAX_BYTES)
		return -1;
	uint8_t *o = out;
	size_t w = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = s[i + k];
			if (c == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)	/* "=" then a letter: "ab=c" */
				return -1;
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		size_t nb = 3 - (size_t)pad;
		/* The bits the padding stands for must be zero (RFC 4648 3.5). */
		if ((pad == 1 && (q & 0xff) != 0) || (pad == 2 && (q & 0xffff) != 0))
			return -1;
		if (outsz - w < nb)
			return -1;
		o[w++] = (uint8_t)(q >> 16);
		if (nb > 1)
			o[w++] = (uint8_t)(q >> 8);
		if (nb > 2)
			o[w++] = (uint8_t)q;
	}
	return (long)w;
}
