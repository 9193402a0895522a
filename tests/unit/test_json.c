#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/json.h"

static void object_with_all_types(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(1024);
	struct json j;
	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "a", "x\"y\\z\n");
	json_kv_int(&j, "n", -42);
	json_kv_uint(&j, "u", UINT64_MAX);
	json_kv_bool(&j, "t", true);
	json_kv_null(&j, "z");
	json_key(&j, "list");
	json_arr_begin(&j);
	json_uint(&j, 1);
	json_str(&j, "two");
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	assert_int_equal(json_status(&j), 0);
	assert_string_equal(sbuf_cstr(&b),
		"{\"a\":\"x\\\"y\\\\z\\n\",\"n\":-42,\"u\":18446744073709551615,"
		"\"t\":true,\"z\":null,\"list\":[1,\"two\",{}]}");
	sbuf_free(&b);
}

static void control_and_invalid_utf8(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(1024);
	struct json j;
	json_init(&j, &b);
	json_str(&j, "\x01\xff\xc3\xa9\xe4\xb8\xad");	/* ctrl, bad byte, é, 中 */
	assert_string_equal(sbuf_cstr(&b), "\"\\u0001\\ufffd\xc3\xa9\xe4\xb8\xad\"");
	sbuf_free(&b);
}

static void limit_reported(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(8);
	struct json j;
	json_init(&j, &b);
	json_str(&j, "far too long for eight bytes");
	assert_int_equal(json_status(&j), -1);
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(object_with_all_types),
		cmocka_unit_test(control_and_invalid_utf8),
		cmocka_unit_test(limit_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
