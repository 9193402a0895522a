#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/dynload.h"

DYNLOAD_PTR(strlen);
DYNLOAD_PTR(strcmp);

/* A library that is there: every slot filled, and calls go through. */
static void loads_every_symbol(void **state)
{
	(void)state;
	const struct dynload_sym syms[] = {DYNLOAD_SYM(strlen), DYNLOAD_SYM(strcmp)};
	ik_err e = {0};
	assert_int_equal(dynload("libc.so.6", syms, 2, "a test", "libc6", &e), 0);
	assert_non_null(dl_strlen);
	assert_int_equal(dl_strlen("inetkit"), 7);
	assert_int_equal(dl_strcmp("a", "a"), 0);
}

/* A missing library: the message names it, what needed it and the
 * package to install. */
static void missing_library_says_what_to_install(void **state)
{
	(void)state;
	const struct dynload_sym syms[] = {DYNLOAD_SYM(strlen)};
	ik_err e = {0};
	assert_int_equal(dynload("libinetkit-none.so.9", syms, 1, "a test", "libnone9", &e), -1);
	assert_non_null(strstr(e.msg, "cannot use a test: libinetkit-none.so.9 could not be loaded"));
	assert_non_null(strstr(e.msg, "(Debian: apt-get install libnone9)"));
}

/* A symbol the library lacks: no slot is left half filled. */
static void missing_symbol_clears_every_slot(void **state)
{
	(void)state;
	void (*dl_no_such_function_here)(void) = NULL;
	const struct dynload_sym syms[] = {
		DYNLOAD_SYM(strlen),
		{"no_such_function_here", (void **)&dl_no_such_function_here},
	};
	ik_err e = {0};
	assert_int_equal(dynload("libc.so.6", syms, 2, "a test", "libc6", &e), -1);
	assert_string_equal(e.msg, "cannot use a test: libc.so.6 lacks no_such_function_here; "
			    "install a newer one (Debian: apt-get install libc6)");
	assert_null(dl_strlen);
	assert_null(dl_no_such_function_here);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_every_symbol),
		cmocka_unit_test(missing_library_says_what_to_install),
		cmocka_unit_test(missing_symbol_clears_every_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
