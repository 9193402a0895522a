/* The text parsers of FTP replies; where a reply ends is core/reply_num
 * (test_reply_num.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ftp/ftp_reply.h"

static void pasv(void **state)
{
	(void)state;
	uint8_t a[4];
	uint16_t port;
	assert_int_equal(ftp_parse_pasv("227 Entering Passive Mode (127,0,0,1,156,64).", a, &port), 0);
	assert_int_equal(a[0], 127);
	assert_int_equal(a[3], 1);
	assert_int_equal(port, 156 * 256 + 64);
	assert_int_equal(ftp_parse_pasv("227 =10,1,2,3,4,5", a, &port), 0);
	assert_int_equal(a[0], 10);
	assert_int_equal(port, 4 * 256 + 5);
	assert_int_equal(ftp_parse_pasv("227 Entering Passive Mode (127, 0, 0, 1, 0, 21)", a, &port), 0);
	assert_int_equal(port, 21);
	assert_int_equal(ftp_parse_pasv("227 Entering Passive Mode (256,0,0,1,1,1)", a, &port), -1);
	assert_int_equal(ftp_parse_pasv("227 Entering Passive Mode (1,2,3,4,5)", a, &port), -1);
	assert_int_equal(ftp_parse_pasv("227 nothing here", a, &port), -1);
	assert_int_equal(ftp_parse_pasv("227 (1,2,3,4,0,0)", a, &port), -1);
	assert_int_equal(ftp_parse_pasv("227 (99999999999,2,3,4,5,6)", a, &port), -1);
}

static void epsv(void **state)
{
	(void)state;
	uint16_t port;
	assert_int_equal(ftp_parse_epsv("229 Entering Extended Passive Mode (|||6446|)", &port), 0);
	assert_int_equal(port, 6446);
	assert_int_equal(ftp_parse_epsv("229 ok (!!!21!)", &port), 0);
	assert_int_equal(port, 21);
	assert_int_equal(ftp_parse_epsv("229 (|||70000|)", &port), -1);
	assert_int_equal(ftp_parse_epsv("229 (|||0|)", &port), -1);
	assert_int_equal(ftp_parse_epsv("229 (||6446|)", &port), -1);
	assert_int_equal(ftp_parse_epsv("229 (|||6446)", &port), -1);
	assert_int_equal(ftp_parse_epsv("229 no parens", &port), -1);
	assert_int_equal(ftp_parse_epsv("229 (", &port), -1);
}

static void pwd_size_time(void **state)
{
	(void)state;
	char p[64];
	assert_int_equal(ftp_parse_pwd("257 \"/home/ftp\" is the current directory", p, sizeof p), 0);
	assert_string_equal(p, "/home/ftp");
	assert_int_equal(ftp_parse_pwd("257 \"/a \"\"quoted\"\" dir\" ok", p, sizeof p), 0);
	assert_string_equal(p, "/a \"quoted\" dir");
	assert_int_equal(ftp_parse_pwd("257 \"/unterminated", p, sizeof p), -1);
	assert_int_equal(ftp_parse_pwd("257 no quotes", p, sizeof p), -1);
	assert_int_equal(ftp_parse_pwd("257 \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", p, sizeof p), -1);
	uint64_t sz;
	assert_int_equal(ftp_parse_size("213 1234", &sz), 0);
	assert_int_equal(sz, 1234);
	assert_int_equal(ftp_parse_size("213 18446744073709551615", &sz), 0);
	assert_int_equal(ftp_parse_size("213 18446744073709551616", &sz), -1);
	assert_int_equal(ftp_parse_size("213 12ab", &sz), -1);
	assert_int_equal(ftp_parse_size("213 ", &sz), -1);
	time_t t;
	assert_int_equal(ftp_parse_time("213 20261122015400", &t), 0);
	assert_int_equal(t, 1795312440);
	assert_int_equal(ftp_parse_time("20261122015400.123", &t), 0);
	assert_int_equal(t, 1795312440);
	assert_int_equal(ftp_parse_time("213 20261322015400", &t), -1);
	assert_int_equal(ftp_parse_time("213 2026112201540", &t), -1);
	assert_int_equal(ftp_parse_time("213 20261122015400x", &t), -1);
	assert_int_equal(ftp_parse_time("213 20261122015400.", &t), -1);
}

static void feat(void **state)
{
	(void)state;
	struct ftp_features f;
	ftp_parse_feat("211-Features:\n EPRT\n EPSV\n MDTM\n PASV\n REST STREAM\n SIZE\n"
		       " TVFS\n UTF8\n MLST type*;size*;modify*;\n AUTH TLS\n211 End", &f);
	assert_true(f.epsv && f.mdtm && f.rest_stream && f.size && f.tvfs && f.utf8 && f.mlsd &&
		    f.auth_tls);
	assert_false(f.mfmt);
	ftp_parse_feat("211-Features:\n MFMT\n211 End", &f);
	assert_true(f.mfmt);
	assert_false(f.mlsd);
	ftp_parse_feat("500 unknown", &f);
	assert_false(f.size);
}

static void eprt_port(void **state)
{
	(void)state;
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(5000)};
	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	char buf[80];
	assert_int_equal(ftp_format_eprt((struct sockaddr *)&s4, buf, sizeof buf), 0);
	assert_string_equal(buf, "|1|127.0.0.1|5000|");
	assert_int_equal(ftp_format_port((struct sockaddr *)&s4, buf, sizeof buf), 0);
	assert_string_equal(buf, "127,0,0,1,19,136");
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(21)};
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	assert_int_equal(ftp_format_eprt((struct sockaddr *)&s6, buf, sizeof buf), 0);
	assert_string_equal(buf, "|2|::1|21|");
	assert_int_equal(ftp_format_port((struct sockaddr *)&s6, buf, sizeof buf), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pasv),
		cmocka_unit_test(epsv),
		cmocka_unit_test(pwd_size_time),
		cmocka_unit_test(feat),
		cmocka_unit_test(eprt_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
