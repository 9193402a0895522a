/* libFuzzer harness for the SASL server side (PLAIN, LOGIN) and base64.
 * The first byte chooses the mechanism, whether the first line is an
 * initial response, and whether each line is base64-encoded by the
 * harness first (so that the fuzzer reaches the PLAIN/LOGIN parsers, not
 * only the decoder); the lines follow, split at '\n'.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - CONTINUE comes with one of the three challenges; DONE with a non-empty
 *    user name free of control bytes and a password within the limits;
 *    FAIL and CANCELLED leave no password behind, and no message holds it;
 *  - base64: decode(encode(x)) == x; anything that decodes is the
 *    canonical encoding of what it decodes to (strictness). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sasl.h"
#include "lib/base64.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_sasl: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

static char enc[4 * 4096 / 3 + 16];
static char dec[4096 + 8];
static char enc2[4 * 4096 / 3 + 16];

static void base64_round_trip(const char *s, size_t len)
{
	long n = base64_encode(s, len, enc, sizeof enc);
	CHECK(n >= 0 && (size_t)n + 1 == base64_encoded_size(len));
	CHECK(base64_decode(enc, (size_t)n, dec, sizeof dec) == (long)len);
	CHECK(memcmp(dec, s, len) == 0);
	CHECK(base64_encode(s, len, enc, (size_t)n) == -1);
	if (len > 0)
		CHECK(base64_decode(enc, (size_t)n, dec, len - 1) == -1);

	long d = base64_decode(s, len, dec, sizeof dec);
	if (d < 0)
		return;
	long m = base64_encode(dec, (size_t)d, enc2, sizeof enc2);
	CHECK(m == (long)len && memcmp(enc2, s, len) == 0);
}

/* Every message is one of the fixed texts of sasl.c: none quotes what the
 * client sent (a password must never reach a reply or a log). */
static bool known_message(const char *m)
{
	static const char *const texts[] = {
		"the PLAIN response is empty: ",
		"the PLAIN response must be three parts ",
		"the user name is empty",
		"the user name is longer than 256 bytes",
		"the user name contains a NUL byte",
		"the user name contains a control character",
		"the user name is not valid UTF-8",
		"the authorization id is longer than 256 bytes",
		"the authorization id contains a control character",
		"the authorization id is not valid UTF-8",
		"the password is empty",
		"the password is longer than 1024 bytes",
		"the password contains a NUL byte",
		"the response is too long ",
		"the response is not valid base64: ",
		"authentication cancelled by the client",
		"no authentication exchange is in progress",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (strncmp(m, texts[i], strlen(texts[i])) == 0)
			return true;
	fprintf(stderr, "fuzz_sasl: unexpected message: %s\n", m);
	return false;
}

static void check_step(enum sasl_step r, const struct sasl *st, const ik_err *e)
{
	switch (r) {
	case SASL_CONTINUE:
		CHECK(strcmp(st->challenge, "") == 0 || strcmp(st->challenge, "VXNlcm5hbWU6") == 0 ||
		      strcmp(st->challenge, "UGFzc3dvcmQ6") == 0);
		break;
	case SASL_DONE:
		CHECK(st->authcid[0] != '\0' && st->password[0] != '\0');
		CHECK(strlen(st->password) <= SASL_PASS_MAX);
		for (const char *p = st->authcid; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		for (const char *p = st->authzid; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		break;
	case SASL_FAIL:
	case SASL_CANCELLED:
		CHECK(st->password[0] == '\0');
		CHECK(known_message(e->msg));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	unsigned mode = data[0];
	const char *s = (const char *)data + 1;
	size_t len = size - 1;
	base64_round_trip(s, len);

	enum sasl_mech mech = mode & 1 ? SASL_LOGIN : SASL_PLAIN;
	bool initial = mode & 2;
	bool encode = mode & 4;
	struct sasl st;
	ik_err e = {""};
	enum sasl_step r = SASL_CONTINUE;
	bool started = false;
	static char line[4 * 4096 + 8];
	for (size_t i = 0; i <= len && r == SASL_CONTINUE;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - s) : len;
		size_t n = end - i;
		if (encode) {
			long k = base64_encode(s + i, n, line, sizeof line);
			CHECK(k >= 0);
			n = (size_t)k;
		} else {
			memcpy(line, s + i, n);
			line[n] = '\0';
		}
		if (!started) {
			started = true;
			r = sasl_start(&st, mech, NULL, &e);
			check_step(r, &st, &e);
			if (initial && strlen(line) == n) {
				r = sasl_start(&st, mech, n == 0 ? "=" : line, &e);
				check_step(r, &st, &e);
				i = end + 1;
				continue;
			}
		}
		r = sasl_step(&st, line, n, &e);
		check_step(r, &st, &e);
		i = end + 1;
	}
	/* One step more after the end is refused. */
	if (started && r != SASL_CONTINUE) {
		sasl_clear(&st);
		CHECK(sasl_step(&st, "AGEAYg==", 8, &e) == SASL_FAIL);
		CHECK(st.password[0] == '\0');
	}
	return 0;
}
