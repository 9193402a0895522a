/* libFuzzer harness for the trace IPv4/IPv6 decoder (extension headers
 * included). Checked: the header length returned is within both what
 * was captured and what the header says the packet is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/decode.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	size_t wire = n + data[0];	/* the capture may have been cut */
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1, n);
	struct tr_ip ip;
	size_t hl = tr_decode_ip(p, n, wire, &ip);
	if (hl > 0) {
		CHECK(ip.status == TR_OK);
		CHECK(hl <= n && hl <= ip.total_len && ip.total_len <= wire);
		CHECK(hl == ip.hdr_len);
	} else {
		CHECK(ip.status != TR_OK || ip.fragment || hl == 0);
	}
	free(p);
	return 0;
}
