#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "lib/sbuf.h"

static const char *sample =
	"; comment\n"
	"[serve]\n"
	"state_dir = ./var\n"
	"workers = 2\n"
	"\n"
	"[ftp]\n"
	"listen = 127.0.0.1:2121, [::1]:2121\n"
	"anonymous = yes\n"
	"max_size = 10M\n"
	"idle = 5m\n"
	"mode = upload\n"
	"[empty]\n";

static void typed_getters(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("test.conf", sample, &e);
	assert_non_null(c);
	const char *s;
	uint64_t u;
	bool b;
	int idx;
	assert_int_equal(cfg_get_str(c, "serve", "state_dir", NULL, "/x", &s, &e), 0);
	assert_string_equal(s, "./var");
	assert_int_equal(cfg_get_str(c, "serve", "user", NULL, "nobody", &s, &e), 0);
	assert_string_equal(s, "nobody");
	assert_int_equal(cfg_get_uint(c, "serve", "workers", NULL, 1, 1, 64, &u, &e), 0);
	assert_true(u == 2);
	assert_int_equal(cfg_get_bool(c, "ftp", "anonymous", NULL, false, &b, &e), 0);
	assert_true(b);
	assert_int_equal(cfg_get_size(c, "ftp", "max_size", NULL, 0, &u, &e), 0);
	assert_true(u == 10ULL << 20);
	assert_int_equal(cfg_get_duration(c, "ftp", "idle", NULL, 0, &u, &e), 0);
	assert_true(u == 300000);
	static const char *const modes[] = {"ro", "rw", "upload", NULL};
	assert_int_equal(cfg_get_enum(c, "ftp", "mode", NULL, modes, 0, &idx, &e), 0);
	assert_int_equal(idx, 2);
	const char *items[CFG_MAX_LIST];
	size_t n;
	assert_int_equal(cfg_get_list(c, "ftp", "listen", NULL, NULL, items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0], "127.0.0.1:2121");
	assert_string_equal(items[1], "[::1]:2121");
	assert_true(cfg_has_section(c, "empty"));
	assert_int_equal(cfg_section_count(c), 3);
	cfg_section_seen(c, "empty");
	assert_int_equal(cfg_check_unused(c, &e), 0);
	cfg_free(c);
}

static void bad_values_name_file_line_key(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("t.conf", "[a]\nn = 70000\nb = maybe\nd = 3 weeks\nm = x\n", &e);
	assert_non_null(c);
	uint64_t u;
	bool b;
	int idx;
	assert_int_equal(cfg_get_uint(c, "a", "n", NULL, 1, 1, 65535, &u, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [a] n: '70000' is not a whole number from 1 to 65535");
	assert_int_equal(cfg_get_bool(c, "a", "b", NULL, false, &b, &e), -1);
	assert_string_equal(e.msg, "t.conf:3: [a] b: 'maybe' is not yes or no");
	assert_int_equal(cfg_get_duration(c, "a", "d", NULL, 0, &u, &e), -1);
	assert_string_equal(e.msg, "t.conf:4: [a] d: '3 weeks' is not a duration (examples: 30s, 5m, 2h, 250ms)");
	static const char *const words[] = {"ro", "rw", NULL};
	assert_int_equal(cfg_get_enum(c, "a", "m", NULL, words, 0, &idx, &e), -1);
	assert_string_equal(e.msg, "t.conf:5: [a] m: 'x' is not one of: ro, rw");
	cfg_free(c);
}

static void unknown_keys_and_sections(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("t.conf", "[a]\nknown = 1\ntypo = 2\n", &e);
	const char *s;
	cfg_get_str(c, "a", "known", NULL, NULL, &s, &e);
	assert_int_equal(cfg_check_unused(c, &e), -1);
	assert_string_equal(e.msg, "t.conf:3: [a] unknown key 'typo'; see inetkit.conf(5) for the keys of [a]");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[a]\nx = 1\n\n[nosuch]\n", &e);
	cfg_get_str(c, "a", "x", NULL, NULL, &s, &e);
	assert_int_equal(cfg_check_unused(c, &e), -1);
	assert_string_equal(e.msg, "t.conf:4: unknown section [nosuch]; see inetkit.conf(5) for the sections");
	cfg_free(c);
}

static void syntax_errors(void **state)
{
	(void)state;
	ik_err e;
	assert_null(cfg_load_string("t.conf", "[a]\nx = 1\nthis line has no equals\n", &e));
	assert_string_equal(e.msg, "t.conf:3: syntax error: expected [section], key = value, or a ; comment");
	assert_null(cfg_load_string("t.conf", "x = 1\n", &e));
	assert_string_equal(e.msg, "t.conf:1: key 'x' is outside any [section]");
	assert_null(cfg_load_string("t.conf", "[a]\nx = 1\nx = 2\n", &e));
	assert_string_equal(e.msg, "t.conf:3: [a] key 'x' is set twice");
	assert_null(cfg_load_string("t.conf", "[a]\n[b]\n[a]\n", &e));
	assert_string_equal(e.msg, "t.conf:3: section [a] appears twice; merge the two");
	char big[400];
	memcpy(big, "[a]\nx = ", 8);
	memset(big + 8, 'v', 300);
	memcpy(big + 308, "\ny = 1\n", 8);
	assert_null(cfg_load_string("t.conf", big, &e));
	assert_string_equal(e.msg, "t.conf:2: line longer than 199 bytes; shorten it");
	assert_null(cfg_load("/nonexistent/inetkit.conf", &e));
	assert_string_equal(e.msg, "cannot read config file /nonexistent/inetkit.conf: No such file or directory");
}

/* serve --defaults: each key once, grouped by section in the order first
 * read, under its description, sizes and durations in their largest exact
 * unit, and only the keys that fell back to their default. */
static void recorded_defaults(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("d.conf", "[a]\nset = 1\n[b]\n", &e);
	assert_non_null(c);
	cfg_record_defaults(c);
	const char *v;
	uint64_t n;
	bool b;
	int k;
	const char *items[CFG_MAX_LIST];
	size_t ni;
	static const char *const words[] = {"one", "two", NULL};
	assert_int_equal(cfg_get_str(c, "a", "name", NULL, "x y", &v, &e), 0);
	assert_int_equal(cfg_get_uint(c, "a", "set", "Set", 7, 0, 10, &n, &e), 0);	/* given: not listed */
	assert_int_equal(cfg_get_size(c, "b", "buf", "A buffer", 4 << 20, &n, &e), 0);
	assert_int_equal(cfg_get_size(c, "b", "odd", NULL, 1000, &n, &e), 0);
	assert_int_equal(cfg_get_size(c, "b", "none", "Nothing", 0, &n, &e), 0);
	assert_int_equal(cfg_get_duration(c, "a", "idle", "Idle time", 300000, &n, &e), 0);
	assert_int_equal(cfg_get_duration(c, "a", "tick", "Tick", 1500, &n, &e), 0);
	assert_int_equal(cfg_get_bool(c, "b", "on", "On or off", true, &b, &e), 0);
	assert_int_equal(cfg_get_enum(c, "b", "mode", "one or two", words, 1, &k, &e), 0);
	assert_int_equal(cfg_get_list(c, "b", "listen", "Where", "127.0.0.1:1, [::1]:1", items, &ni,
				      &e), 0);
	assert_int_equal(cfg_get_str(c, "a", "empty", "Empty", NULL, &v, &e), 0);
	/* read twice: the description given at either read is kept */
	assert_int_equal(cfg_get_str(c, "a", "name", "A name", "x y", &v, &e), 0);
	assert_int_equal(cfg_get_duration(c, "a", "idle", NULL, 300000, &n, &e), 0);
	struct sbuf out = SBUF_INIT(4096);
	assert_int_equal(cfg_write_defaults(c, &out), 0);
	assert_string_equal(sbuf_cstr(&out),
			    "[a]\n; A name\nname = x y\n; Idle time\nidle = 5m\n; Tick\ntick = 1500ms\n"
			    "; Empty\nempty =\n"
			    "\n[b]\n; A buffer\nbuf = 4M\nodd = 1000\n; Nothing\nnone = 0\n"
			    "; On or off\non = yes\n; one or two\nmode = two\n"
			    "; Where\nlisten = 127.0.0.1:1, [::1]:1\n");
	/* and what it writes is a config that reads back */
	struct cfg *back = cfg_load_string("defaults", sbuf_cstr(&out), &e);
	assert_non_null(back);
	assert_int_equal(cfg_get_str(back, "b", "listen", NULL, NULL, &v, &e), 0);
	assert_string_equal(v, "127.0.0.1:1, [::1]:1");
	cfg_free(back);
	sbuf_free(&out);
	cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(typed_getters),
		cmocka_unit_test(bad_values_name_file_line_key),
		cmocka_unit_test(unknown_keys_and_sections),
		cmocka_unit_test(syntax_errors),
		cmocka_unit_test(recorded_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
