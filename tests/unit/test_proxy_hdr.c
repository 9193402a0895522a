#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "core/proxy_hdr.h"

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static enum proxy_hdr_result parse(const void *p, size_t len, struct proxy_hdr *h, size_t *used,
				   char *why)
{
	return proxy_hdr_parse(p, len, h, used, why, 128);
}

static void check_addr(const struct sockaddr_storage *ss, const char *text, unsigned port)
{
	char buf[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
		assert_int_equal(ntohs(s->sin_port), port);
	} else {
		assert_int_equal(ss->ss_family, AF_INET6);
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
		assert_int_equal(ntohs(s->sin6_port), port);
	}
	assert_string_equal(buf, text);
}

static void test_v1_tcp4(void **st)
{
	(void)st;
	const char *t = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\nEHLO x\r\n";
	struct proxy_hdr h;
	size_t used;
	char why[128];
	assert_int_equal(parse(t, strlen(t), &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(used, strlen("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"));
	assert_int_equal(h.version, 1);
	assert_int_equal(h.local, 0);
	check_addr(&h.src, "192.0.2.7", 56324);
	check_addr(&h.dst, "198.51.100.1", 25);
	assert_int_equal(h.srclen, sizeof(struct sockaddr_in));
}

static void test_v1_tcp6_and_unknown(void **st)
{
	(void)st;
	const char *t = "PROXY TCP6 2001:db8::7 ::1 0 65535\r\n";
	struct proxy_hdr h;
	size_t used;
	char why[128];
	assert_int_equal(parse(t, strlen(t), &h, &used, why), PROXY_HDR_DONE);
	check_addr(&h.src, "2001:db8::7", 0);
	check_addr(&h.dst, "::1", 65535);
	t = "PROXY UNKNOWN\r\n";
	assert_int_equal(parse(t, strlen(t), &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(used, 15);
	assert_int_equal(h.local, 1);
	/* After UNKNOWN the rest of the line is ignored. */
	t = "PROXY UNKNOWN whatever may follow 1 2\r\nX";
	assert_int_equal(parse(t, strlen(t), &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(used, strlen(t) - 1);
}

static void test_v1_partial(void **st)
{
	(void)st;
	const char *t = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n";
	struct proxy_hdr h;
	size_t used;
	char why[128];
	for (size_t n = 0; n < strlen(t); n++)
		assert_int_equal(parse(t, n, &h, &used, why), PROXY_HDR_MORE);
}

static void test_v1_bad(void **st)
{
	(void)st;
	static const char *const bads[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",		/* no dport */
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 25 9\r\n",	/* extra */
		"PROXY TCP4 192.0.2.7  198.51.100.1 56324 25\r\n",	/* two spaces */
		"PROXY TCP4 192.0.2.7 198.51.100.1 056324 25\r\n",	/* leading 0 */
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n",	/* range */
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 25\r\n",		/* family */
		"PROXY TCP6 192.0.2.7 ::1 1 25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 25\n",		/* bare LF */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 25\rX",		/* CR alone */
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 25\r\n",
		"PROXY\r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 25\r\n",
		"GET / HTTP/1.0\r\n",
		"EHLO x\r\n",
	};
	struct proxy_hdr h;
	size_t used;
	char why[128];
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		enum proxy_hdr_result r = parse(bads[i], strlen(bads[i]), &h, &used, why);
		if (r != PROXY_HDR_BAD)
			fail_msg("%s: %d", bads[i], (int)r);
		assert_true(why[0] != '\0');
	}
	/* 107 bytes and no CRLF: over the limit, not "more". */
	char longl[200];
	memset(longl, 'A', sizeof longl);
	memcpy(longl, "PROXY UNKNOWN ", 14);
	assert_int_equal(parse(longl, 107, &h, &used, why), PROXY_HDR_BAD);
	assert_int_equal(parse(longl, 106, &h, &used, why), PROXY_HDR_MORE);
}

static size_t v2(unsigned char *b, unsigned vc, unsigned fam, const void *body, size_t blen)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(blen >> 8);
	b[15] = (unsigned char)blen;
	if (blen > 0)
		memcpy(b + 16, body, blen);
	return 16 + blen;
}

static void test_v2_inet(void **st)
{
	(void)st;
	unsigned char body[12 + 7] = {192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0, 25,
				      /* a TLV: PP2_TYPE_UNIQUE_ID, 4 bytes */
				      0x05, 0, 4, 1, 2, 3, 4};
	unsigned char b[64];
	size_t n = v2(b, 0x21, 0x11, body, sizeof body);
	b[n] = 'X';
	struct proxy_hdr h;
	size_t used;
	char why[128];
	assert_int_equal(parse(b, n + 1, &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(used, n);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.local, 0);
	check_addr(&h.src, "192.0.2.7", 0xdc04);
	check_addr(&h.dst, "198.51.100.1", 25);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(parse(b, k, &h, &used, why), PROXY_HDR_MORE);
}

static void test_v2_inet6_local_unspec(void **st)
{
	(void)st;
	unsigned char body[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7, [31] = 1, [32] = 0x30, [33] = 0x39,
				  [34] = 0, [35] = 143};
	unsigned char b[80];
	size_t n = v2(b, 0x21, 0x21, body, sizeof body);
	struct proxy_hdr h;
	size_t used;
	char why[128];
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_DONE);
	check_addr(&h.src, "2001:db8::7", 12345);
	check_addr(&h.dst, "::1", 143);
	/* LOCAL: a health check of the balancer's own; the body is skipped. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(h.local, 1);
	assert_int_equal(used, 16);
	n = v2(b, 0x20, 0x11, body, 12);
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(h.local, 1);
	/* PROXY with UNSPEC: the connection's own addresses stand. */
	n = v2(b, 0x21, 0x00, NULL, 0);
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_DONE);
	assert_int_equal(h.local, 1);
}

static void test_v2_bad(void **st)
{
	(void)st;
	unsigned char body[40] = {0};
	unsigned char b[2048];
	struct proxy_hdr h;
	size_t used;
	char why[128];
	size_t n = v2(b, 0x11, 0x11, body, 12);	/* version 1 in the v2 form */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x22, 0x11, body, 12);	/* command 2 */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x21, 0x41, body, 12);	/* family 4 */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x21, 0x11, body, 11);	/* short IPv4 block */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x21, 0x21, body, 12);	/* short IPv6 block */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x21, 0x12, body, 12);	/* DGRAM on a TCP listener */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	body[12] = 1;
	body[13] = 0;
	body[14] = 9;	/* a TLV longer than what is left */
	n = v2(b, 0x21, 0x11, body, 16);
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	n = v2(b, 0x21, 0x11, body, 14);	/* a TLV cut short */
	assert_int_equal(parse(b, n, &h, &used, why), PROXY_HDR_BAD);
	/* Longer than PROXY_HDR_MAX: refused at once, before it arrives. */
	n = v2(b, 0x21, 0x11, body, 12);
	b[14] = 0x10;
	assert_int_equal(parse(b, 16, &h, &used, why), PROXY_HDR_BAD);
	/* A wrong byte in the signature. */
	memcpy(b, sig, 12);
	b[7] = 'q';
	assert_int_equal(parse(b, 8, &h, &used, why), PROXY_HDR_BAD);
	assert_int_equal(parse(b, 7, &h, &used, why), PROXY_HDR_MORE);
	assert_int_equal(parse("\x16\x03\x01", 3, &h, &used, why), PROXY_HDR_BAD);	/* TLS */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6_and_unknown),
		cmocka_unit_test(test_v1_partial),
		cmocka_unit_test(test_v1_bad),
		cmocka_unit_test(test_v2_inet),
		cmocka_unit_test(test_v2_inet6_local_unspec),
		cmocka_unit_test(test_v2_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
