/* Base64 (RFC 4648 section 4), strict: what SASL (RFC 4422, RFC 4954)
 * and MIME exchange. Pure, no I/O. */
#ifndef INETKIT_LIB_BASE64_H
#define INETKIT_LIB_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, NUL included. */
size_t base64_encoded_size(size_t n);
/* Encode in[0, n) into out (outsz >= base64_encoded_size(n)); returns the
 * length written (NUL not counted), or -1 when out is too small. */
long base64_encode(const void *in, size_t n, char *out, size_t outsz);
/* Decode s[0, len): padding required, no spaces or line breaks, no bits
 * after the last byte; returns the bytes written, or -1 on bad input or
 * when out (outsz) is too small. "" decodes to 0 bytes. */
long base64_decode(const char *s, size_t len, void *out, size_t outsz);

#endif
