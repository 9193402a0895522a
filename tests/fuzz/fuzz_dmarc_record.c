/* libFuzzer harness for DMARC records and the organizational domain:
 * arbitrary text as a record (parsed) and as a domain name.
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *  - a record that parses has pct 0..100 and known policies;
 *  - the organizational domain of a name is a suffix of it, and its own
 *    organizational domain. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailauth/mailauth_int.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_dmarc_record: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *txt = malloc(size + 1);
	if (txt == NULL)
		return 0;
	memcpy(txt, data, size);
	txt[size] = '\0';
	struct dmarc_record r;
	ik_err e;
	if (dmarc_record_parse(txt, &r, &e) == 0) {
		CHECK(r.pct <= 100);
		CHECK(r.p <= DMARC_P_REJECT && (!r.has_sp || r.sp <= DMARC_P_REJECT));
	}
	char org[MAUTH_DOMAIN_MAX], org2[MAUTH_DOMAIN_MAX];
	if (strlen(txt) < MAUTH_DOMAIN_MAX && mauth_org_domain(txt, org, sizeof org) == 0) {
		size_t n = strlen(txt), k = strlen(org);
		while (n > 0 && txt[n - 1] == '.')
			n--;
		CHECK(k <= n && strncasecmp(txt + n - k, org, k) == 0);
		CHECK(mauth_org_domain(org, org2, sizeof org2) == 0 && strcmp(org, org2) == 0);
	}
	free(txt);
	return 0;
}
