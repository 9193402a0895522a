#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <getopt.h>

#include "core/cli.h"

/* What cli_closest suggests for word among names, or "" for nothing. */
static const char *near(const char *word, struct cli_names names)
{
	static char buf[64];
	if (!cli_closest(word, names, buf, sizeof buf))
		buf[0] = '\0';
	return buf;
}

static void typos_of_verbs(void **state)
{
	(void)state;
	static const char *const verbs[] = {"listen", "connect", "bench"};
	struct cli_names n = CLI_NAMES(verbs);
	assert_string_equal(near("lisen", n), "listen");	/* a letter left out */
	assert_string_equal(near("listne", n), "listen");	/* two swapped */
	assert_string_equal(near("LISTEN", n), "listen");	/* case */
	assert_string_equal(near("conect", n), "connect");
	assert_string_equal(near("bnech", n), "bench");
	assert_string_equal(near("con", n), "connect");	/* the one name it begins */
	assert_string_equal(near("b", n), "");			/* too short to begin one */
	assert_string_equal(near("frobnicate", n), "");
	assert_string_equal(near("", n), "");
	/* far enough to be another word: at most a third of the length */
	assert_string_equal(near("lsn", n), "");
}

/* A table of structs whose first member is the name, as in each tool. */
static void tables_of_structs(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int n;
	} verbs[] = {{"add", 1}, {"list", 2}, {"token add", 3}, {"token list", 4},
		     {"token revoke", 5}};
	struct cli_names n = CLI_NAMES(verbs);
	assert_string_equal(near("ad", n), "add");
	assert_string_equal(near("tokn", n), "token");		/* first word of two-word names */
	assert_string_equal(near("to", n), "token");		/* begins only "token ..." */
	assert_string_equal(near("token ad", n), "token add");
	assert_string_equal(near("token revok", n), "token revoke");
	assert_string_equal(near("lst", n), "list");
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"prefix", required_argument, NULL, 'p'},
		{"parallel", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0},
	};
	struct cli_names o = CLI_NAMES(opts);
	assert_string_equal(near("jsn", o), "json");
	assert_string_equal(near("prefx", o), "prefix");
	assert_string_equal(near("p", o), "");			/* the NULL end is skipped */
	assert_string_equal(near("pa", o), "parallel");
}

static void long_words(void **state)
{
	(void)state;
	static const char *const verbs[] = {"split"};
	char word[200];
	memset(word, 's', sizeof word - 1);
	word[sizeof word - 1] = '\0';
	assert_string_equal(near(word, CLI_NAMES(verbs)), "");
	char small[3];
	assert_false(cli_closest("splt", CLI_NAMES(verbs), small, sizeof small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(typos_of_verbs),
		cmocka_unit_test(tables_of_structs),
		cmocka_unit_test(long_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
