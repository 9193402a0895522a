/* libFuzzer harness for the trace application decoder (first lines, DNS
 * over UDP and TCP, password masking). The first byte picks the ports;
 * checked: the line is always NUL-terminated within its buffer and a
 * masked line holds only spaces and stars after "PASS ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/decode.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s\n", #c); abort(); } } while (0)

static const uint16_t ports[] = {21, 25, 110, 143, 80, 53, 5353, 2121, 40000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1, n);
	struct tr_app a;
	uint16_t port = ports[(data[0] & 0x7f) % (sizeof ports / sizeof ports[0])];
	tr_decode_app((data[0] & 0x80) ? 17 : 6, 40001, port, p, n, n + (data[0] & 1), &a);
	CHECK(memchr(a.line, '\0', sizeof a.line) != NULL);
	CHECK(memchr(a.dns_name, '\0', sizeof a.dns_name) != NULL);
	if (strncmp(a.line, "PASS ", 5) == 0)
		CHECK(strspn(a.line + 4, " *") == strlen(a.line + 4));
	free(p);
	return 0;
}
