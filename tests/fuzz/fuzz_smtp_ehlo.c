/* libFuzzer harness for the SMTP client's reading of a server's EHLO
 * reply lines (smtp/smtp_client.c, smtp_client_ehlo_line; the reply
 * framing itself is core/reply_num's, fuzzed by fuzz_reply_num), and for
 * its xtext encoder (RFC 3461 4) over any bytes.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - only the keyword bits the client knows come back;
 *  - SIZE is reported only for a line whose keyword is SIZE;
 *  - xtext output is NUL-terminated inside its buffer, printable ASCII
 *    without '=' or a bare '+' (every '+' starts +XX). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_client.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_smtp_ehlo: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned known = SMTP_EXT_STARTTLS | SMTP_EXT_PIPELINING | SMTP_EXT_8BITMIME |
			       SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN | SMTP_EXT_CHUNKING |
			       SMTP_EXT_SIZE | SMTP_EXT_AUTH_PLAIN | SMTP_EXT_AUTH_LOGIN;
	uint64_t sz = 0;
	unsigned f = smtp_client_ehlo_line((const char *)data, size, &sz);
	CHECK((f & ~known) == 0);
	if (f & SMTP_EXT_SIZE)
		CHECK(size >= 4 && strncasecmp((const char *)data, "SIZE", 4) == 0);
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char out[300];
	memset(out, 'Z', sizeof out);
	size_t cap = size % sizeof out + 1;
	smtp_client_xtext(s, out, cap);
	size_t l = strnlen(out, cap);
	CHECK(l < cap);
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)out[i];
		CHECK(c >= 0x21 && c <= 0x7e && c != '=');
		if (c == '+')
			CHECK(i + 2 < l);
	}
	free(s);
	return 0;
}
