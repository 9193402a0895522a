/* libFuzzer harness for SPF records and macros: arbitrary text as a TXT
 * record (parsed), and as a macro-string (expanded).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *  - a record that parses has at most SPF_TERMS_MAX terms, each with a
 *    known qualifier and CIDR lengths in range;
 *  - an expansion that succeeds is at most 253 characters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/mailauth_int.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_spf_record: check failed: %s (line %d)\n",  \
				#cond, __LINE__);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *txt = malloc(size + 1);
	if (txt == NULL)
		return 0;
	memcpy(txt, data, size);
	txt[size] = '\0';
	struct spf_record r;
	ik_err e;
	if (spf_record_parse(txt, &r, &e) == 0) {
		CHECK(r.n <= SPF_TERMS_MAX);
		for (size_t i = 0; i < r.n; i++) {
			CHECK(strchr("+-~?", r.t[i].qual) != NULL && r.t[i].qual != '\0');
			CHECK(r.t[i].cidr4 >= 0 && r.t[i].cidr4 <= 32);
			CHECK(r.t[i].cidr6 >= 0 && r.t[i].cidr6 <= 128);
		}
		spf_record_free(&r);
	} else {
		CHECK(e.msg[0] != '\0');
	}
	struct spf_ctx x;
	char dom[256], out[1024];
	bool helo;
	if (spf_ctx_init(&x, size % 2 ? "2001:db8::1" : "192.0.2.1", "mx.example.org",
			 "user@example.com", dom, sizeof dom, &helo) == 0 &&
	    spf_macro_expand(&x, dom, txt, out, sizeof out) == 0)
		CHECK(strlen(out) <= 253);
	free(txt);
	return 0;
}
