/* libFuzzer harness for the HTTP request line of the [metrics] service
 * (metrics/metrics_http.c).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a taken line gives a path that starts with "/", fits the buffer and
 *    holds neither a space, a control byte nor the query;
 *  - a refused one says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_http.h"

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_metrics_http: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                           \
			abort();                                                            \
		}                                                                           \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	enum metrics_http_method m;
	char path[METRICS_HTTP_PATH_MAX];
	ik_err e = {""};
	if (metrics_http_request((const char *)data, size, &m, path, sizeof path, &e) < 0) {
		CHECK(e.msg[0] != '\0');
		return 0;
	}
	size_t n = strlen(path);
	CHECK(n > 0 && n < sizeof path && path[0] == '/');
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)path[i] > 0x20 && (unsigned char)path[i] < 0x7f && path[i] != '?');
	CHECK(m == METRICS_HTTP_GET || m == METRICS_HTTP_HEAD || m == METRICS_HTTP_OTHER);
	return 0;
}
