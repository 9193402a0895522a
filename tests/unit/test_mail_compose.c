/* The mail client's pure pieces: --header checking, the MIME type table,
 * the server/port/TLS choice (RFC 8314 ports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mail/mail.h"

static void headers(void **state)
{
	(void)state;
	char name[64];
	const char *v;
	ik_err e;
	assert_int_equal(mail_header_check("X-Tag: some value", name, sizeof name, &v, &e), 0);
	assert_string_equal(name, "X-Tag");
	assert_string_equal(v, "some value");
	assert_int_equal(mail_header_check("Reply-To:a@b.c", name, sizeof name, &v, &e), 0);
	assert_string_equal(v, "a@b.c");
	assert_int_equal(mail_header_check("X-A: 中文", name, sizeof name, &v, &e), 0);
	/* CR/LF: a second header (or a body) smuggled in */
	assert_int_equal(mail_header_check("X-A: a\r\nBcc: x@y", name, sizeof name, &v, &e), -1);
	assert_non_null(strstr(e.msg, "CR and LF"));
	assert_int_equal(mail_header_check("X-A: a\nb", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("X-A: a\rb", name, sizeof name, &v, &e), -1);
	/* the composer's own headers */
	assert_int_equal(mail_header_check("bcc: x@y", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("Subject: s", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("Content-Type: text/html", name, sizeof name, &v, &e),
			 -1);
	assert_int_equal(mail_header_check("MIME-Version: 1.0", name, sizeof name, &v, &e), -1);
	/* names */
	assert_int_equal(mail_header_check("Bad Name: v", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check(": v", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("novalue", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("X-\xc3\xa9: v", name, sizeof name, &v, &e), -1);
	assert_int_equal(mail_header_check("X-A: \xff", name, sizeof name, &v, &e), -1);
}

static void mime_types(void **state)
{
	(void)state;
	assert_string_equal(mail_mime_type("a/b/report.PDF"), "application/pdf");
	assert_string_equal(mail_mime_type("photo.jpeg"), "image/jpeg");
	assert_string_equal(mail_mime_type("data.csv"), "text/csv");
	assert_string_equal(mail_mime_type("x.tar.gz"), "application/gzip");
	assert_string_equal(mail_mime_type("noext"), "application/octet-stream");
	assert_string_equal(mail_mime_type(".bashrc"), "application/octet-stream");
	assert_string_equal(mail_mime_type("dir.pdf/file"), "application/octet-stream");
	assert_string_equal(mail_mime_type("报告.txt"), "text/plain");
}

static void servers(void **state)
{
	(void)state;
	static struct mail_cli c;
	char host[256];
	uint16_t port;
	bool imp;
	ik_err e;
	memset(&c, 0, sizeof c);
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), -1);
	c.server = "mail.example";
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_string_equal(host, "mail.example");
	assert_int_equal(port, 587);
	assert_false(imp);
	assert_int_equal(mail_server_for(&c, false, MAIL_PROTO_IMAP, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_int_equal(port, 993);
	assert_true(imp);
	assert_int_equal(mail_server_for(&c, false, MAIL_PROTO_POP3, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_int_equal(port, 995);
	assert_true(imp);
	c.server = "mail.example:465";
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_int_equal(port, 465);
	assert_true(imp);
	c.no_tls = true;
	c.server = "[::1]";
	assert_int_equal(mail_server_for(&c, false, MAIL_PROTO_IMAP, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 143);
	assert_false(imp);
	c.server = "[::1]:1465";
	c.no_tls = false;
	c.implicit_tls = true;
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_int_equal(port, 1465);
	assert_true(imp);
	c.server = "::1";
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 465);
	c.server = "h:0";
	assert_int_equal(mail_server_for(&c, true, MAIL_PROTO_UNSET, host, sizeof host, &port,
					 &imp, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(headers),
		cmocka_unit_test(mime_types),
		cmocka_unit_test(servers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
