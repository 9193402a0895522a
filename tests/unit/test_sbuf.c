#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lib/sbuf.h"

static void append_within_limit(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(10);
	assert_string_equal(sbuf_cstr(&b), "");
	assert_int_equal(sbuf_addstr(&b, "hello"), 0);
	assert_int_equal(sbuf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(sbuf_cstr(&b), "hello12345");
	sbuf_free(&b);
}

static void refuses_growth_past_max(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(8);
	assert_int_equal(sbuf_addstr(&b, "12345678"), 0);
	errno = 0;
	assert_int_equal(sbuf_addch(&b, 'x'), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_string_equal(sbuf_cstr(&b), "12345678");
	assert_int_equal(sbuf_printf(&b, "%s", "more"), -1);
	assert_int_equal(b.len, 8);
	sbuf_free(&b);
}

static void long_printf(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	char big[1000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(sbuf_printf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[1000], '>');
	sbuf_reset(&b);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
}

static void reserve_commit_truncate(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(100);
	char *p = sbuf_reserve(&b, 3);
	assert_non_null(p);
	memcpy(p, "abc", 3);
	sbuf_commit(&b, 3);
	sbuf_truncate(&b, 1);
	assert_string_equal(sbuf_cstr(&b), "a");
	assert_null(sbuf_reserve(&b, 100));
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_within_limit),
		cmocka_unit_test(refuses_growth_past_max),
		cmocka_unit_test(long_printf),
		cmocka_unit_test(reserve_commit_truncate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
