/* libFuzzer harness for the PROXY protocol header parser
 * (core/proxy_hdr.c), the first bytes a proxied listener reads.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a complete header says how many bytes it used, never more than the
 *    input nor more than PROXY_HDR_MAX, and (v1) ends in CR LF;
 *  - the same input fed in every prefix never goes DONE before the full
 *    header, and a prefix is never BAD when the whole is good: the
 *    listener may parse as bytes arrive;
 *  - a refusal always says why;
 *  - an address, when not "local", is IPv4 or IPv6 with a matching length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "core/proxy_hdr.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_proxy_hdr: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct proxy_hdr h;
	size_t used;
	char why[128];
	enum proxy_hdr_result r = proxy_hdr_parse(data, size, &h, &used, why, sizeof why);
	if (r == PROXY_HDR_BAD) {
		CHECK(why[0] != '\0');
		return 0;
	}
	if (r == PROXY_HDR_MORE)
		return 0;
	CHECK(used > 0 && used <= size && used <= PROXY_HDR_MAX);
	CHECK(h.version == 1 || h.version == 2);
	if (h.version == 1)
		CHECK(used >= 2 && data[used - 2] == '\r' && data[used - 1] == '\n');
	if (!h.local) {
		CHECK(h.src.ss_family == AF_INET || h.src.ss_family == AF_INET6);
		CHECK(h.src.ss_family == h.dst.ss_family);
		CHECK(h.srclen == (h.src.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6)));
	}
	/* Every shorter prefix: still a valid beginning. */
	struct proxy_hdr h2;
	size_t used2;
	for (size_t k = 0; k < used; k++) {
		enum proxy_hdr_result r2 = proxy_hdr_parse(data, k, &h2, &used2, why, sizeof why);
		CHECK(r2 == PROXY_HDR_MORE);
	}
	return 0;
}
