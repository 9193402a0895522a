#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/log.h"

static void quote_values(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(log_quote(buf, sizeof buf, "plain"), "plain");
	assert_string_equal(log_quote(buf, sizeof buf, ""), "\"\"");
	assert_string_equal(log_quote(buf, sizeof buf, "two words"), "\"two words\"");
	assert_string_equal(log_quote(buf, sizeof buf, "a\"b"), "\"a\\\"b\"");
	assert_string_equal(log_quote(buf, sizeof buf, "k=v"), "\"k=v\"");
	assert_string_equal(log_quote(buf, sizeof buf, "x\r\ny"), "\"x\\x0d\\x0ay\"");
	char small[12];
	assert_string_equal(log_quote(small, sizeof small, "abcdefghijklmnop"), "abcdefg...");
}

static void levels(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("warn"), LOG_WARNING);
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("loud"), -1);
	ik_err e;
	assert_int_equal(log_open("carrier-pigeon", "t", &e), -1);
	assert_string_equal(e.msg, "unknown log target 'carrier-pigeon': use stderr, syslog or none");
	assert_int_equal(log_open("stderr", "t", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quote_values),
		cmocka_unit_test(levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
