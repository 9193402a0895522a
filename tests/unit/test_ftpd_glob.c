#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ftpd/ftpd_glob.h"

static void basics(void **state)
{
	(void)state;
	static const struct { const char *pat, *name; bool want; } cases[] = {
		{"*", "anything", true},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a", "a", true},
		{"a", "b", false},
		{"*.txt", "notes.txt", true},
		{"*.txt", "notes.txt.bak", false},
		{"*.txt", ".txt", false},		/* hidden name: '*' may not take the dot */
		{".*", ".profile", true},
		{".*", "profile", false},
		{"?", "a", true},
		{"?", "", false},
		{"?", ".", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a*", "banana", true},
		{"**", "x", true},
		{"a**b", "ab", true},
		{"[abc]", "b", true},
		{"[abc]", "d", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{"[]a]", "a", true},
		{"[!]]", "]", false},
		{"[!]]", "x", true},
		{"[a-]", "-", true},
		{"[", "[", true},		/* unclosed: literal */
		{"[ab", "[ab", true},
		{"[ab", "a", false},
		{"\\*", "*", true},
		{"\\*", "x", false},
		{"a\\?", "a?", true},
		{"\\.hid", ".hid", true},
		{"x\\", "x\\", true},		/* trailing backslash is itself */
		{"file[0-9].log", "file7.log", true},
		{"file[0-9].log", "fileX.log", false},
		{"*[0-9]", "v10", true},
		{"caf\xc3\xa9*", "caf\xc3\xa9s", true},	/* UTF-8 byte-wise */
		{"A*", "abc", false},			/* no case folding */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (ftpd_glob_match(cases[i].pat, cases[i].name) != cases[i].want)
			fail_msg("pattern '%s' name '%s': want %d", cases[i].pat, cases[i].name,
				 cases[i].want);
	}
}

static void magic(void **state)
{
	(void)state;
	assert_true(ftpd_glob_has_magic("*.txt"));
	assert_true(ftpd_glob_has_magic("a?"));
	assert_true(ftpd_glob_has_magic("[ab]"));
	assert_false(ftpd_glob_has_magic("plain.txt"));
	assert_false(ftpd_glob_has_magic("file[1"));
	assert_false(ftpd_glob_has_magic("\\*"));
	assert_false(ftpd_glob_has_magic(""));
}

/* The classic exponential cases for backtracking matchers: answered in
 * bounded work here (pattern x name steps at most). */
static void pathological(void **state)
{
	(void)state;
	size_t n = 10000;
	char *name = malloc(n + 1);
	memset(name, 'a', n);
	name[n] = '\0';
	assert_false(ftpd_glob_match("a*a*a*a*a*a*a*a*b", name));
	assert_true(ftpd_glob_match("a*a*a*a*a*a*a*a*a", name));
	assert_false(ftpd_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
	assert_false(ftpd_glob_match("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*[b]", name));
	name[n - 1] = 'b';
	assert_true(ftpd_glob_match("a*a*a*a*a*a*a*a*b", name));
	free(name);
}

static void counting(void **state)
{
	(void)state;
	struct ftpd_glob g;
	ftpd_glob_init(&g, "*.c", 2);
	assert_int_equal(ftpd_glob_next(&g, "a.c"), 1);
	assert_int_equal(ftpd_glob_next(&g, "a.h"), 0);
	assert_int_equal(ftpd_glob_next(&g, "b.c"), 1);
	assert_int_equal(ftpd_glob_next(&g, "c.c"), -1);
	assert_int_equal(ftpd_glob_next(&g, "d.h"), 0);
	assert_int_equal(g.count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basics),
		cmocka_unit_test(magic),
		cmocka_unit_test(pathological),
		cmocka_unit_test(counting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
