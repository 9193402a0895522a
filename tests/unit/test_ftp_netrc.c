#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ftp/ftp_netrc.h"

static int find(const char *text, const char *host, const char *user,
		struct ftp_netrc_match *m, ik_err *e)
{
	return ftp_netrc_find("netrc", text, strlen(text), host, user, m, e);
}

static void entries(void **state)
{
	(void)state;
	struct ftp_netrc_match m;
	ik_err e;
	const char *t =
		"# comment line\n"
		"machine a.example login alice password \"p w\\\"x\"\n"
		"machine b.example\n  login bob\n  password secret\n  account x\n"
		"machine b.example login bob2 password two\n"
		"macdef init\ncd /pub\nbinary\n\n"
		"default login anonymous password me@example.org\n";
	assert_int_equal(find(t, "a.example", NULL, &m, &e), 1);
	assert_string_equal(m.login, "alice");
	assert_string_equal(m.password, "p w\"x");
	assert_int_equal(find(t, "B.EXAMPLE", NULL, &m, &e), 1);
	assert_string_equal(m.login, "bob");
	assert_string_equal(m.password, "secret");
	assert_int_equal(find(t, "b.example", "bob2", &m, &e), 1);
	assert_string_equal(m.password, "two");
	assert_int_equal(find(t, "other", NULL, &m, &e), 1);
	assert_string_equal(m.login, "anonymous");
	assert_int_equal(find(t, "other", "carol", &m, &e), 0);
	assert_int_equal(find("machine x login y", "z", NULL, &m, &e), 0);
	assert_int_equal(find("", "z", NULL, &m, &e), 0);
	/* login only: the caller asks for the password */
	assert_int_equal(find("machine h login u", "h", NULL, &m, &e), 1);
	assert_true(m.has_login);
	assert_false(m.has_password);
}

static void errors(void **state)
{
	(void)state;
	struct ftp_netrc_match m;
	ik_err e;
	assert_int_equal(find("machine h login", "h", NULL, &m, &e), -1);
	assert_string_equal(e.msg, "netrc line 1: 'login' needs a value");
	assert_int_equal(find("machine h\nfrobnicate x", "h", NULL, &m, &e), -1);
	assert_string_equal(e.msg, "netrc line 2: unknown word 'frobnicate' (expected machine, default, login, password, account or macdef)");
	assert_int_equal(find("login u", "h", NULL, &m, &e), -1);
	assert_string_equal(e.msg, "netrc line 1: 'login' before any 'machine' or 'default'");
	assert_int_equal(find("machine h password \"open", "h", NULL, &m, &e), -1);
	assert_string_equal(e.msg, "netrc line 1: missing closing '\"'");
	assert_int_equal(find("machine", "h", NULL, &m, &e), -1);
}

static void file_permissions(void **state)
{
	(void)state;
	char path[] = "/tmp/test_ftp_netrc_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *t = "machine h login u password p\n";
	assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	struct ftp_netrc_match m;
	ik_err e;
	chmod(path, 0600);
	assert_int_equal(ftp_netrc_lookup(path, "h", NULL, &m, &e), 1);
	assert_string_equal(m.password, "p");
	chmod(path, 0644);
	assert_int_equal(ftp_netrc_lookup(path, "h", NULL, &m, &e), -1);
	assert_non_null(strstr(e.msg, "others can read it; run 'chmod 600"));
	unlink(path);
	assert_int_equal(ftp_netrc_lookup(path, "h", NULL, &m, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	/* The default ~/.netrc may be missing. */
	setenv("HOME", "/nonexistent-home-for-test", 1);
	assert_int_equal(ftp_netrc_lookup(NULL, "h", NULL, &m, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries),
		cmocka_unit_test(errors),
		cmocka_unit_test(file_permissions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
