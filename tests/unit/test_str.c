#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/str.h"

static void copy_and_truncation(void **state)
{
	(void)state;
	char buf[4];
	assert_int_equal(str_copy(buf, sizeof buf, "abc"), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, sizeof buf, "abcd"), -1);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_fmt(buf, sizeof buf, "%d", 123), 3);
	assert_int_equal(str_fmt(buf, sizeof buf, "%d", 1234), -1);
}

static void numbers(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(str_to_u64("65535", 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(str_to_u64("65536", 65535, &v), -1);
	assert_int_equal(str_to_u64("", 10, &v), -1);
	assert_int_equal(str_to_u64("-1", 10, &v), -1);
	assert_int_equal(str_to_u64(" 1", 10, &v), -1);
	assert_int_equal(str_to_u64("1x", 10, &v), -1);
	assert_int_equal(str_to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("18446744073709551616", UINT64_MAX, &v), -1);
}

static void sizes_and_durations(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(str_to_size("10M", &v), 0);
	assert_true(v == 10ULL << 20);
	assert_int_equal(str_to_size("4k", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(str_to_size("12", &v), 0);
	assert_true(v == 12);
	assert_int_equal(str_to_size("1X", &v), -1);
	assert_int_equal(str_to_size("M", &v), -1);
	assert_int_equal(str_to_duration_ms("30", &v), 0);
	assert_true(v == 30000);
	assert_int_equal(str_to_duration_ms("250ms", &v), 0);
	assert_true(v == 250);
	assert_int_equal(str_to_duration_ms("2h", &v), 0);
	assert_true(v == 7200000);
	assert_int_equal(str_to_duration_ms("2 h", &v), -1);
}

static void split_trim(void **state)
{
	(void)state;
	char s[] = "  key = value  ";
	char *t = str_trim(s);
	assert_string_equal(t, "key = value");
	char *rest = str_split(t, '=');
	assert_non_null(rest);
	assert_string_equal(str_trim(t), "key");
	assert_string_equal(str_trim(rest), "value");
	assert_null(str_split(t, ':'));
	assert_true(str_has_prefix("inetkit", "inet"));
	assert_true(str_eq_nocase("QUIT", "quit"));
	char *a[] = {"127.0.0.1:21", "[::1]:21"}, *b[] = {"127.0.0.1:21", "[::1]:21"};
	char *c[] = {"[::1]:21", "127.0.0.1:21"};
	assert_true(str_list_equal(a, 2, b, 2));
	assert_false(str_list_equal(a, 2, c, 2));
	assert_false(str_list_equal(a, 2, b, 1));
	assert_true(str_list_equal(a, 0, c, 0));
}

static void utf8(void **state)
{
	(void)state;
	assert_true(str_utf8_valid("", 0));
	assert_true(str_utf8_valid("plain ascii", 11));
	assert_true(str_utf8_valid("J\xc3\xb6rg", 5));			/* ö */
	assert_true(str_utf8_valid("\xe2\x82\xac", 3));			/* € */
	assert_true(str_utf8_valid("\xf0\x9f\x98\x80", 4));		/* U+1F600 */
	assert_true(str_utf8_valid("\xf4\x8f\xbf\xbf", 4));		/* U+10FFFF */
	assert_int_equal(str_utf8_char("\xe2\x82\xac!", 4), 3);
	assert_false(str_utf8_valid("\xc0\xaf", 2));			/* overlong '/' */
	assert_false(str_utf8_valid("\xc1\xbf", 2));
	assert_false(str_utf8_valid("\xe0\x80\xaf", 3));		/* overlong, 3 bytes */
	assert_false(str_utf8_valid("\xf0\x80\x80\xaf", 4));		/* overlong, 4 bytes */
	assert_false(str_utf8_valid("\xed\xa0\x80", 3));		/* surrogate U+D800 */
	assert_false(str_utf8_valid("\xed\xbf\xbf", 3));		/* surrogate U+DFFF */
	assert_false(str_utf8_valid("\xf4\x90\x80\x80", 4));		/* U+110000 */
	assert_false(str_utf8_valid("\xf5\x80\x80\x80", 4));
	assert_false(str_utf8_valid("\x80", 1));				/* stray continuation */
	assert_false(str_utf8_valid("\xc3", 1));				/* truncated */
	assert_false(str_utf8_valid("\xe2\x82", 2));
	assert_false(str_utf8_valid("\xc3(", 2));
	assert_false(str_utf8_valid("\xff", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copy_and_truncation),
		cmocka_unit_test(numbers),
		cmocka_unit_test(sizes_and_durations),
		cmocka_unit_test(split_trim),
		cmocka_unit_test(utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
