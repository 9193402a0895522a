/* libFuzzer harness for DKIM-Signature fields and key records: arbitrary
 * text as a message header (whose DKIM-Signature fields are parsed and
 * hashed), as a tag list, and as a key record.
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *  - a tag list that parses has unique names and values without control
 *    characters other than folding white space;
 *  - a signature either is decided at once or names a key to look up;
 *  - stripping b= never makes a field longer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/mailauth_int.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_dkim_sig: check failed: %s (line %d)\n",    \
				#cond, __LINE__);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	const char *text = (const char *)data;
	struct mauth_tags t;
	ik_err e;
	if (mauth_tags_parse(text, size, &t, &e) == 0) {
		for (size_t i = 0; i < t.n; i++) {
			for (size_t k = 0; k < i; k++)
				CHECK(strcmp(t.t[i].name, t.t[k].name) != 0);
			for (const char *p = t.t[i].val; *p; p++)
				CHECK((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\r' ||
				      *p == '\n');
		}
		mauth_tags_free(&t);
	}
	/* As a header: prefixed so that the first field is a signature. */
	char *msg = malloc(size + 17);
	if (msg == NULL)
		return 0;
	memcpy(msg, "DKIM-Signature: ", 16);
	memcpy(msg + 16, data, size);
	msg[size + 16] = '\0';
	struct mauth_msg *m = mauth_msg_prepare(msg, size + 16, &e);
	if (m != NULL) {
		for (size_t i = 0; i < mauth_msg_nsig(m); i++) {
			const struct dkim_pending *p = mauth_msg_sig(m, i);
			CHECK(p->done || p->keyname != NULL);
		}
		mauth_msg_free(m);
	}
	struct mauth_header h;
	if (mauth_header_split(msg, size + 16, &h) == 0) {
		if (h.n > 0) {
			size_t n;
			char *s = dkim_strip_b(h.f[0].p, h.f[0].len, &n);
			if (s != NULL)
				CHECK(n <= h.f[0].len);
			free(s);
		}
		mauth_header_free(&h);
	}
	/* As a key record (NUL-terminated copy). */
	char why[64];
	EVP_PKEY *pk = dkim_key_record_parse(msg + 16, DKIM_RSA_SHA256, why, sizeof why);
	EVP_PKEY_free(pk);
	pk = dkim_key_record_parse(msg + 16, DKIM_ED25519_SHA256, why, sizeof why);
	EVP_PKEY_free(pk);
	free(msg);
	return 0;
}
