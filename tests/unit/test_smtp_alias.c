#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "smtp/smtp_alias.h"

static struct smtp_aliases *load(const char *text)
{
	struct smtp_aliases *a = NULL;
	ik_err e = {""};
	if (smtp_aliases_parse(text, strlen(text), "aliases", &a, &e) != 0)
		fail_msg("%s", e.msg);
	return a;
}

static void refused(const char *text, const char *msg)
{
	struct smtp_aliases *a = (struct smtp_aliases *)1;
	ik_err e = {""};
	assert_int_equal(smtp_aliases_parse(text, strlen(text), "aliases", &a, &e), -1);
	assert_null(a);
	assert_string_equal(e.msg, msg);
}

/* The expansion of name, joined with spaces. */
static const char *expand(const struct smtp_aliases *a, const char *name)
{
	static char buf[4096];
	char **list;
	size_t n;
	ik_err e = {""};
	if (smtp_aliases_expand(a, name, &list, &n, &e) != 0) {
		snprintf(buf, sizeof buf, "ERROR %s", e.msg);
		return buf;
	}
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", list[i]);
	smtp_aliases_list_free(list, n);
	return buf;
}

static void syntax(void **state)
{
	(void)state;
	struct smtp_aliases *a = load(
		"# the aliases file\n"
		"\n"
		"postmaster: root\n"
		"Root:\talice ,  Bob@Example.ORG\n"
		"staff: alice,\n"
		"   bob,\n"
		"\tcarol\n"
		"  # a comment inside\n"
		"\n"
		"sales.team: \"a b\"@x.org, \\alice\r\n"
		"info : staff\n");
	assert_true(smtp_aliases_has(a, "postmaster"));
	assert_true(smtp_aliases_has(a, "ROOT"));
	assert_true(smtp_aliases_has(a, "Sales.Team"));
	assert_true(smtp_aliases_has(a, "info"));
	assert_false(smtp_aliases_has(a, "alice"));
	assert_string_equal(expand(a, "root"), "alice Bob@example.org");
	assert_string_equal(expand(a, "STAFF"), "alice bob carol");
	assert_string_equal(expand(a, "sales.team"), "\"a b\"@x.org alice");
	assert_string_equal(expand(a, "info"), "alice bob carol");
	assert_string_equal(expand(a, "postmaster"), "alice Bob@example.org");
	assert_string_equal(expand(a, "Alice"), "alice");	/* not an alias: itself */
	smtp_aliases_free(a);

	a = load("");
	assert_false(smtp_aliases_has(a, "postmaster"));
	assert_string_equal(expand(a, "postmaster"), "postmaster");
	smtp_aliases_free(a);
	assert_string_equal(expand(NULL, "Postmaster"), "postmaster");
	assert_false(smtp_aliases_has(NULL, "postmaster"));
	smtp_aliases_free(NULL);
}

static void programs_files_includes_refused(void **state)
{
	(void)state;
	refused("a: b\nbackup: |/usr/bin/backup\n",
		"aliases:2: alias 'backup': program targets (\"|command\") are not supported: "
		"inetkit never runs programs or writes files for an alias");
	refused("x: \"|/bin/sh -c 'id'\"\n",
		"aliases:1: alias 'x': program targets (\"|command\") are not supported: "
		"inetkit never runs programs or writes files for an alias");
	refused("x: alice, \\|cmd\n",
		"aliases:1: alias 'x': program targets (\"|command\") are not supported: "
		"inetkit never runs programs or writes files for an alias");
	refused("x: \\/tmp/x\n",
		"aliases:1: alias 'x': file targets (\"/path\") are not supported: "
		"inetkit never runs programs or writes files for an alias");
	refused("log: alice, /var/log/mail.copy\n",
		"aliases:1: alias 'log': file targets (\"/path\") are not supported: "
		"inetkit never runs programs or writes files for an alias");
	refused("list: alice,\n  :INCLUDE:/etc/list\n",
		"aliases:2: alias 'list': \":include:\" lists are not supported: "
		"inetkit never runs programs or writes files for an alias");
}

static void bad_files(void **state)
{
	(void)state;
	refused("a: b\nA: c\n", "aliases:2: alias 'a' is defined twice (first on line 1): "
		"merge the two lines");
	refused("z: b\na: b\nz: c\na: d\n", "aliases:3: alias 'z' is defined twice (first on "
		"line 1): merge the two lines");
	refused("just words\n", "aliases:1: expected 'name: target, ...'");
	refused(": b\n", "aliases:1: the alias name before ':' is empty");
	refused("a b: c\n", "aliases:1: 'a b' is not a valid alias name (use a local part such as "
		"info or sales.team)");
	refused("a(b: c\n", "aliases:1: 'a(b' is not a valid alias name (use a local part such "
		"as info or sales.team)");
	refused("\"a\": c\n", "aliases:1: '\"a\"' is not a valid alias name (use a local part "
		"such as info or sales.team)");
	refused("  b, c\n", "aliases:1: a continuation line (starting with a space) with no "
		"alias before it");
	refused("a:\nb: c\n", "aliases:1: alias 'a' has no targets (write 'name: user, "
		"user@domain, ...')");
	refused("a: ,\n", "aliases:1: alias 'a' has no targets (write 'name: user, user@domain, "
		"...')");
	refused("a: b c\n", "aliases:1: alias 'a': 'b c' is not a valid local name or address "
		"(write a user name, another alias, or user@domain)");
	refused("a: b@\n", "aliases:1: alias 'a': 'b@' is not a valid address: empty domain");
	refused("a: b@x>y\n", "aliases:1: alias 'a': 'b@x>y' is not a valid address: text after "
		"the address");
	refused("a: b\x01\n", "aliases:1: control character 0x01: the aliases file is text");
	struct smtp_aliases *a = NULL;
	ik_err e = {""};
	const char nul[] = "a: b\nc: d\0e\n";
	assert_int_equal(smtp_aliases_parse(nul, sizeof nul - 1, "f", &a, &e), -1);
	assert_string_equal(e.msg, "f:2: control character 0x00: the aliases file is text");
}

static void loops_depth_dedupe(void **state)
{
	(void)state;
	struct smtp_aliases *a = load(
		"root: root, admin\n"
		"admin: alice, root\n"
		"a: b\n"
		"b: a\n"
		"all: sales, support, alice\n"
		"sales: staff, zed\n"
		"support: staff, alice\n"
		"staff: alice, bob\n");
	assert_string_equal(expand(a, "root"), "root alice");
	assert_string_equal(expand(a, "admin"), "alice root admin");
	assert_string_equal(expand(a, "a"), "a");
	/* staff reached twice: once in the list, in file order. */
	assert_string_equal(expand(a, "all"), "alice bob zed");
	smtp_aliases_free(a);

	/* Eight levels are followed, a ninth is an error. */
	a = load("l1: l2\nl2: l3\nl3: l4\nl4: l5\nl5: l6\nl6: l7\nl7: l8\nl8: end\n"
		 "m1: m2\nm2: m3\nm3: m4\nm4: m5\nm5: m6\nm6: m7\nm7: m8\nm8: m9\nm9: end\n");
	assert_string_equal(expand(a, "l1"), "end");
	assert_string_equal(expand(a, "m1"), "ERROR aliases nested more than 8 deep at 'm9' "
			    "(aliases:17): shorten the chain");
	smtp_aliases_free(a);
}

static void fanout(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(1 << 20);
	sbuf_addstr(&b, "big: ");
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%su%d", i ? ", " : "", i);
	sbuf_addstr(&b, "\nbigger: big, one-more\nsame: big, big, u1\n");
	struct smtp_aliases *a = load(sbuf_cstr(&b));
	char **list;
	size_t n;
	ik_err e = {""};
	assert_int_equal(smtp_aliases_expand(a, "big", &list, &n, &e), 0);
	assert_int_equal(n, 1000);
	assert_string_equal(list[0], "u0");
	assert_string_equal(list[999], "u999");
	smtp_aliases_list_free(list, n);
	assert_int_equal(smtp_aliases_expand(a, "same", &list, &n, &e), 0);
	assert_int_equal(n, 1000);
	smtp_aliases_list_free(list, n);
	assert_int_equal(smtp_aliases_expand(a, "bigger", &list, &n, &e), -1);
	assert_string_equal(e.msg, "alias expands to more than 1000 addresses: split it in aliases");
	smtp_aliases_free(a);
	sbuf_free(&b);
}

static void load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/ik-aliases-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "postmaster: alice\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	struct smtp_aliases *a = NULL;
	ik_err e = {""};
	assert_int_equal(smtp_aliases_load(path, &a, &e), 0);
	assert_string_equal(expand(a, "postmaster"), "alice");
	smtp_aliases_free(a);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "x: |cmd\n", 8), 8);
	close(fd);
	assert_int_equal(smtp_aliases_load(path, &a, &e), -1);
	char want[256];
	snprintf(want, sizeof want, "%s:2: alias 'x': program targets (\"|command\") are not "
		 "supported: inetkit never runs programs or writes files for an alias", path);
	assert_string_equal(e.msg, want);
	unlink(path);
	assert_int_equal(smtp_aliases_load(path, &a, &e), -1);
	snprintf(want, sizeof want, "aliases: cannot open '%s': No such file or directory", path);
	assert_string_equal(e.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syntax),
		cmocka_unit_test(programs_files_includes_refused),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(loops_depth_dedupe),
		cmocka_unit_test(fanout),
		cmocka_unit_test(load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
