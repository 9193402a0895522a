#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/base64.h"

static void check_pair(const char *plain, const char *b64)
{
	char enc[64];
	size_t n = strlen(plain);
	assert_int_equal(base64_encoded_size(n), strlen(b64) + 1);
	assert_int_equal(base64_encode(plain, n, enc, sizeof enc), (long)strlen(b64));
	assert_string_equal(enc, b64);
	char dec[64];
	assert_int_equal(base64_decode(b64, strlen(b64), dec, sizeof dec), (long)n);
	assert_memory_equal(dec, plain, n);
}

/* The test vectors of RFC 4648 10. */
static void rfc4648_vectors(void **state)
{
	(void)state;
	check_pair("", "");
	check_pair("f", "Zg==");
	check_pair("fo", "Zm8=");
	check_pair("foo", "Zm9v");
	check_pair("foob", "Zm9vYg==");
	check_pair("fooba", "Zm9vYmE=");
	check_pair("foobar", "Zm9vYmFy");
	check_pair("Username:", "VXNlcm5hbWU6");
	check_pair("Password:", "UGFzc3dvcmQ6");
}

static void binary_and_all_bytes(void **state)
{
	(void)state;
	unsigned char in[256];
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	char enc[400];
	long n = base64_encode(in, sizeof in, enc, sizeof enc);
	assert_int_equal(n, 344);
	unsigned char out[256];
	assert_int_equal(base64_decode(enc, (size_t)n, out, sizeof out), 256);
	assert_memory_equal(in, out, 256);
	assert_string_equal(enc + 336, "/P3+/w==");
	/* "\0u\0p" as SASL PLAIN sends it. */
	assert_int_equal(base64_encode("\0u\0p", 4, enc, sizeof enc), 8);
	assert_string_equal(enc, "AHUAcA==");
}

static void strict_refusals(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(base64_decode("Zg", 2, out, sizeof out), -1);		/* no padding */
	assert_int_equal(base64_decode("Zg=", 3, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zh==", 4, out, sizeof out), -1);		/* bits after the byte */
	assert_int_equal(base64_decode("Zm9=", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm8=", 4, out, sizeof out), 2);
	assert_int_equal(base64_decode("Z===", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("====", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zg==Zg==", 8, out, sizeof out), -1);	/* padding inside */
	assert_int_equal(base64_decode("Z=g=", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm9v ", 5, out, sizeof out), -1);
	assert_int_equal(base64_decode(" Zm9v", 5, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm 9v", 5, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm9v\r\n", 6, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm9-", 4, out, sizeof out), -1);		/* base64url */
	assert_int_equal(base64_decode("Zm9_", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("Zm\0v", 4, out, sizeof out), -1);
	assert_int_equal(base64_decode("*", 1, out, sizeof out), -1);
}

static void buffer_sizes(void **state)
{
	(void)state;
	char enc[9];
	assert_int_equal(base64_encode("foobar", 6, enc, 8), -1);	/* no room for the NUL */
	assert_int_equal(base64_encode("foobar", 6, enc, 9), 8);
	assert_int_equal(base64_encode("", 0, enc, 1), 0);
	assert_string_equal(enc, "");
	assert_int_equal(base64_encode("", 0, enc, 0), -1);
	char out[6];
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6), 6);
	assert_int_equal(base64_decode("", 0, out, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(binary_and_all_bytes),
		cmocka_unit_test(strict_refusals),
		cmocka_unit_test(buffer_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
