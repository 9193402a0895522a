/* libFuzzer harness for the trace TCP and UDP decoders. The first byte
 * chooses TCP or UDP and how much of the segment was "cut"; an IPv4 or
 * IPv6 pseudo-header is made up so checksums are computed too. Checked:
 * the header length returned fits what was captured. */
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
	size_t wire = n + (data[0] >> 3);
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1, n);
	struct tr_ip ip;
	memset(&ip, 0, sizeof ip);
	ip.version = (data[0] & 2) ? 6 : 4;
	ip.src[0] = 127;
	ip.dst[3] = 1;
	if (data[0] & 1) {
		ip.proto = 17;
		struct tr_udp u;
		size_t h = tr_decode_udp(p, n, wire, (data[0] & 4) ? &ip : NULL, &u);
		CHECK(h == 0 || (h == 8 && u.length >= 8 && u.length <= wire));
	} else {
		ip.proto = 6;
		struct tr_tcp t;
		size_t h = tr_decode_tcp(p, n, wire, (data[0] & 4) ? &ip : NULL, &t);
		CHECK(h == 0 || (h == t.hdr_len && h <= n && h >= 20));
		CHECK(t.sack_count <= TR_SACK_MAX);
	}
	free(p);
	return 0;
}
