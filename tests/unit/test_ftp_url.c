#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ftp/ftp_url.h"

static void forms(void **state)
{
	(void)state;
	struct ftp_url u;
	ik_err e;
	assert_int_equal(ftp_url_parse("ftp://example.org", &u, &e), 0);
	assert_string_equal(u.host, "example.org");
	assert_int_equal(u.port, 21);
	assert_false(u.has_user);
	assert_string_equal(u.path, "");
	assert_true(u.is_dir);

	assert_int_equal(ftp_url_parse("ftp://bob:s%40cret@host:2121/pub/a%20b.txt", &u, &e), 0);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.pass, "s@cret");
	assert_true(u.has_pass);
	assert_int_equal(u.port, 2121);
	assert_string_equal(u.path, "pub/a b.txt");
	assert_false(u.is_dir);

	assert_int_equal(ftp_url_parse("ftps://[::1]/dir/", &u, &e), 0);
	assert_true(u.implicit_tls);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 990);
	assert_string_equal(u.path, "dir");
	assert_true(u.is_dir);

	assert_int_equal(ftp_url_parse("FTP://[::1]:2100/%2Fetc/passwd", &u, &e), 0);
	assert_string_equal(u.path, "/etc/passwd");
	assert_int_equal(u.port, 2100);

	assert_int_equal(ftp_url_parse("ftp://h/a.txt;type=a", &u, &e), 0);
	assert_int_equal(u.type, 'a');
	assert_string_equal(u.path, "a.txt");

	/* user@ with an '@' in the user name: the last '@' ends it */
	assert_int_equal(ftp_url_parse("ftp://me@mail.org@h/", &u, &e), 0);
	assert_string_equal(u.user, "me@mail.org");
	assert_false(u.has_pass);

	/* UTF-8, raw and encoded */
	assert_int_equal(ftp_url_parse("ftp://h/%E4%B8%AD/文件", &u, &e), 0);
	assert_string_equal(u.path, "中/文件");
}

static void errors(void **state)
{
	(void)state;
	struct ftp_url u;
	ik_err e;
	assert_int_equal(ftp_url_parse("http://h/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'http://h/': scheme 'http' is not ftp:// or ftps://");
	assert_int_equal(ftp_url_parse("h/x", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'h/x': it must start with ftp:// or ftps://");
	assert_int_equal(ftp_url_parse("ftp:///x", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp:///x': missing host name");
	assert_int_equal(ftp_url_parse("ftp://h:99999/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://h:99999/': port '99999' is not a number from 1 to 65535");
	assert_int_equal(ftp_url_parse("ftp://h:/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://h:/': port '' is not a number from 1 to 65535");
	assert_int_equal(ftp_url_parse("ftp://[::1/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://[::1/': missing ']' after the IPv6 address in the host");
	assert_int_equal(ftp_url_parse("ftp://::1/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://::1/': write an IPv6 address in brackets, as ftp://[::1]/");
	assert_int_equal(ftp_url_parse("ftp://[zz]/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://[zz]/': 'zz' in brackets is not an IPv6 address");
	assert_int_equal(ftp_url_parse("ftp://h/a%0D%0ADELE%20x", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://h/a%0D%0ADELE%20x': the path has a control character (CR, LF, NUL ... cannot be sent to a server)");
	assert_int_equal(ftp_url_parse("ftp://h/a%zz", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://h/a%zz': the path has a '%' that is not followed by two hex digits");
	assert_int_equal(ftp_url_parse("ftp://h/a%4", &u, &e), -1);
	assert_int_equal(ftp_url_parse("ftp://u%ZZ@h/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://u%ZZ@h/': the user name has a '%' that is not followed by two hex digits");
	/* The password never shows in a message. */
	assert_int_equal(ftp_url_parse("ftp://u:topsecret@h:x/", &u, &e), -1);
	assert_null(strstr(e.msg, "topsecret"));
	assert_string_equal(e.msg, "malformed URL 'ftp://u:****@h:x/': port 'x' is not a number from 1 to 65535");
	assert_int_equal(ftp_url_parse("ftp://u:p%0A@h/", &u, &e), -1);
	assert_null(strstr(e.msg, "p%0A"));
	assert_int_equal(ftp_url_parse("ftp://@h/", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://@h/': empty user name before '@'");
	assert_int_equal(ftp_url_parse("ftp://h o/", &u, &e), -1);
	assert_int_equal(ftp_url_parse("ftp://h/x;type=z", &u, &e), -1);
	assert_string_equal(e.msg, "malformed URL 'ftp://h/x;type=z': ';type=' must be a, i or d");
}

static void host_forms(void **state)
{
	(void)state;
	struct ftp_url u;
	ik_err e;
	assert_int_equal(ftp_url_parse_host("localhost", &u, &e), 0);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 21);
	assert_int_equal(ftp_url_parse_host("127.0.0.1:2121", &u, &e), 0);
	assert_int_equal(u.port, 2121);
	assert_int_equal(ftp_url_parse_host("[::1]:2121", &u, &e), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(ftp_url_parse_host("ftps://h/", &u, &e), 0);
	assert_true(u.implicit_tls);
	assert_int_equal(ftp_url_parse_host("h:abc", &u, &e), -1);
	assert_string_equal(e.msg, "bad host 'h:abc': port 'abc' is not a number from 1 to 65535");
}

static void paths(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(ftp_path_base("a/b/c.txt"), "c.txt");
	assert_string_equal(ftp_path_base("c.txt"), "c.txt");
	assert_int_equal(ftp_path_dir("a/b/c", buf, sizeof buf), 0);
	assert_string_equal(buf, "a/b");
	assert_int_equal(ftp_path_dir("/c", buf, sizeof buf), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(ftp_path_dir("c", buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ftp_path_join(buf, sizeof buf, "/", "x"), 0);
	assert_string_equal(buf, "/x");
	assert_int_equal(ftp_path_join(buf, sizeof buf, "/a", "x"), 0);
	assert_string_equal(buf, "/a/x");
	assert_int_equal(ftp_path_join(buf, sizeof buf, "", "x"), 0);
	assert_string_equal(buf, "x");
	assert_true(ftp_name_safe("a.txt"));
	assert_true(ftp_name_safe("..."));
	assert_true(ftp_name_safe("中文.txt"));
	assert_false(ftp_name_safe(".."));
	assert_false(ftp_name_safe("."));
	assert_false(ftp_name_safe(""));
	assert_false(ftp_name_safe("../x"));
	assert_false(ftp_name_safe("a/b"));
	assert_false(ftp_name_safe("a\nb"));
	assert_false(ftp_name_safe("\x1b[2J"));
}

static void masked(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(ftp_url_masked("ftp://u:pw@h/x", buf, sizeof buf), "ftp://u:****@h/x");
	assert_string_equal(ftp_url_masked("ftp://u@h/x:y", buf, sizeof buf), "ftp://u@h/x:y");
	assert_string_equal(ftp_url_masked("ftp://h:21/", buf, sizeof buf), "ftp://h:21/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms),
		cmocka_unit_test(errors),
		cmocka_unit_test(host_forms),
		cmocka_unit_test(paths),
		cmocka_unit_test(masked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
