/* libFuzzer harness for core/dns.c's conversion of a DNS answer (RFC 1035
 * 4.1) into a result: c-ares parses the packet, this module sorts MX
 * records, joins TXT strings and copies names and addresses. Input: one
 * byte choosing the record type (A, AAAA, MX, TXT), then the packet.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - an OK result has n >= 1 entries of its type and no message;
 *  - a failed result has n == 0 and a message;
 *  - MX entries are in preference order, host names fit and hold no dot
 *    at the end;
 *  - every TXT record is NUL-terminated at its length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_dns_answer: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum dns_type t = (enum dns_type)(data[0] % 4);
	struct dns_result r;
	dns_result_from_answer(t, data + 1, size - 1, &r);
	CHECK(r.type == t);
	if (r.status == DNS_OK) {
		CHECK(r.n >= 1);
		CHECK(r.msg[0] == '\0');
		for (size_t i = 0; i < r.n; i++) {
			if (t == DNS_MX) {
				size_t l = strlen(r.mx[i].host);
				CHECK(l < DNS_NAME_MAX);
				CHECK(l == 0 || r.mx[i].host[l - 1] != '.');
				if (i > 0)
					CHECK(r.mx[i - 1].pref <= r.mx[i].pref);
			} else if (t == DNS_TXT) {
				CHECK(r.txt[i].data != NULL);
				CHECK(r.txt[i].data[r.txt[i].len] == '\0');
			}
		}
		CHECK(t != DNS_A || r.a != NULL);
		CHECK(t != DNS_AAAA || r.aaaa != NULL);
	} else {
		CHECK(r.n == 0);
		CHECK(r.msg[0] != '\0');
	}
	dns_result_free(&r);
	return 0;
}
