#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "ftpd/ftpd_addr.h"
#include "net/endpoint.h"

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void port_parsing(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	ik_err e;
	char host[64];
	assert_int_equal(ftpd_addr_parse_port("127,0,0,1,4,1", &ss, &len, &e), FTPD_ADDR_OK);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_string_equal(endpoint_format(SA(ss), host, sizeof host), "127.0.0.1:1025");
	assert_int_equal(ftpd_addr_parse_port("255,255,255,255,255,255", &ss, &len, &e), 0);
	assert_int_equal(endpoint_port(SA(ss)), 65535);
	assert_int_equal(ftpd_addr_parse_port("010,0,0,1,0,21", &ss, &len, &e), 0);
	assert_string_equal(endpoint_format(SA(ss), host, sizeof host), "10.0.0.1:21");
	static const char *bad[] = {
		"", "127,0,0,1,4", "127,0,0,1,4,1,", "127,0,0,1,4,1,9", "256,0,0,1,4,1",
		"127,0,0,1,4,256", "127, 0,0,1,4,1", "127,0,0,1,4,1 ", "-1,0,0,1,4,1",
		"127,,0,1,4,1", "0127,0,0,1,4,1", "a,b,c,d,e,f", "127.0.0.1,4,1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ftpd_addr_parse_port(bad[i], &ss, &len, &e), FTPD_ADDR_SYNTAX);
		assert_string_equal(e.msg, "PORT needs h1,h2,h3,h4,p1,p2: six numbers 0-255 "
				    "separated by commas");
	}
	char text[32];
	struct sockaddr_storage a = v4("192.168.1.2", 5001);
	assert_int_equal(ftpd_addr_port_text(SA(a), text, sizeof text), 0);
	assert_string_equal(text, "192,168,1,2,19,137");
}

static void eprt_parsing(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	ik_err e;
	char host[64];
	assert_int_equal(ftpd_addr_parse_eprt("|1|132.235.1.2|6275|", &ss, &len, &e), 0);
	assert_string_equal(endpoint_format(SA(ss), host, sizeof host), "132.235.1.2:6275");
	assert_int_equal(ftpd_addr_parse_eprt("|2|1080::8:800:200C:417A|5282|", &ss, &len, &e), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_string_equal(endpoint_format(SA(ss), host, sizeof host),
			    "[1080::8:800:200c:417a]:5282");
	/* Any printable delimiter (RFC 2428 section 2). */
	assert_int_equal(ftpd_addr_parse_eprt("!2!::1!2000!", &ss, &len, &e), 0);
	assert_string_equal(endpoint_format(SA(ss), host, sizeof host), "[::1]:2000");
	/* Unknown protocol numbers: 522. */
	assert_int_equal(ftpd_addr_parse_eprt("|3|1.2.3.4|2000|", &ss, &len, &e),
			 FTPD_ADDR_PROTOCOL);
	assert_string_equal(e.msg, "Network protocol not supported, use (1,2)");
	assert_int_equal(ftpd_addr_parse_eprt("|0|1.2.3.4|2000|", &ss, &len, &e),
			 FTPD_ADDR_PROTOCOL);
	static const char *bad[] = {
		"", "|", "||||", "|1|1.2.3.4|2000", "|1|1.2.3.4|2000||", " |1|1.2.3.4|2000|",
		"|x|1.2.3.4|2000|", "|1||2000|", "|1|1.2.3.4||", "\x01" "1\x01" "1.2.3.4\x01" "1\x01",
		"|1|1.2.3.4|2000| ", "|-1|1.2.3.4|2000|",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ftpd_addr_parse_eprt(bad[i], &ss, &len, &e), FTPD_ADDR_SYNTAX);
		assert_string_equal(e.msg, "EPRT needs |protocol|address|port|, e.g. "
				    "|1|127.0.0.1|2000| or |2|::1|2000|");
	}
	assert_int_equal(ftpd_addr_parse_eprt("|1|::1|2000|", &ss, &len, &e), FTPD_ADDR_SYNTAX);
	assert_string_equal(e.msg, "EPRT protocol 1 needs an IPv4 address such as 127.0.0.1");
	assert_int_equal(ftpd_addr_parse_eprt("|2|1.2.3.4|2000|", &ss, &len, &e), FTPD_ADDR_SYNTAX);
	assert_string_equal(e.msg, "EPRT protocol 2 needs an IPv6 address such as ::1");
	assert_int_equal(ftpd_addr_parse_eprt("|2|fe80::1%eth0|2000|", &ss, &len, &e),
			 FTPD_ADDR_SYNTAX);
	assert_int_equal(ftpd_addr_parse_eprt("|1|1.2.3.4|65536|", &ss, &len, &e), FTPD_ADDR_SYNTAX);
	assert_string_equal(e.msg, "EPRT port must be a number 0-65535");
	assert_int_equal(ftpd_addr_parse_eprt("|1|01.2.3.4|2000|", &ss, &len, &e), FTPD_ADDR_SYNTAX);
}

static void epsv_arguments(void **state)
{
	(void)state;
	struct sockaddr_storage l4 = v4("127.0.0.1", 21), l6 = v6("::1", 21);
	struct sockaddr_storage mapped = v6("::ffff:127.0.0.1", 21);
	enum ftpd_epsv_kind k;
	ik_err e;
	assert_int_equal(ftpd_addr_parse_epsv("", SA(l4), &k, &e), 0);
	assert_int_equal(k, FTPD_EPSV_ANY);
	assert_int_equal(ftpd_addr_parse_epsv("1", SA(l4), &k, &e), 0);
	assert_int_equal(k, FTPD_EPSV_IPV4);
	assert_int_equal(ftpd_addr_parse_epsv("1", SA(mapped), &k, &e), 0);
	assert_int_equal(ftpd_addr_parse_epsv("2", SA(l6), &k, &e), 0);
	assert_int_equal(k, FTPD_EPSV_IPV6);
	assert_int_equal(ftpd_addr_parse_epsv("all", SA(l6), &k, &e), 0);
	assert_int_equal(k, FTPD_EPSV_ALL);
	assert_int_equal(ftpd_addr_parse_epsv("2", SA(l4), &k, &e), FTPD_ADDR_PROTOCOL);
	assert_string_equal(e.msg, "Network protocol not supported, use (1)");
	assert_int_equal(ftpd_addr_parse_epsv("1", SA(l6), &k, &e), FTPD_ADDR_PROTOCOL);
	assert_string_equal(e.msg, "Network protocol not supported, use (2)");
	assert_int_equal(ftpd_addr_parse_epsv("7", SA(l4), &k, &e), FTPD_ADDR_PROTOCOL);
	assert_int_equal(ftpd_addr_parse_epsv("x", SA(l4), &k, &e), FTPD_ADDR_SYNTAX);
	assert_string_equal(e.msg, "EPSV takes 1, 2, ALL or no argument");
}

static void active_policy(void **state)
{
	(void)state;
	ik_err e;
	struct sockaddr_storage peer4 = v4("127.0.0.1", 40000);
	struct sockaddr_storage peer_m = v6("::ffff:127.0.0.1", 40000);
	struct sockaddr_storage peer6 = v6("::1", 40000);
	struct sockaddr_storage t = v4("127.0.0.1", 2000);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer4), &e), 0);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer_m), &e), 0);
	t = v6("::1", 2000);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer6), &e), 0);
	/* FTP bounce: another host. */
	t = v4("127.0.0.2", 2000);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer4), &e), -1);
	assert_string_equal(e.msg, "Refused: data connections go only to your own address");
	t = v4("127.0.0.1", 2000);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer6), &e), -1);
	/* Privileged ports. */
	t = v4("127.0.0.1", 25);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer4), &e), -1);
	assert_string_equal(e.msg, "Refused: the data port must be 1024 or above");
	t = v4("127.0.0.1", 1023);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer4), &e), -1);
	t = v4("127.0.0.1", 1024);
	assert_int_equal(ftpd_addr_check_active(SA(t), SA(peer4), &e), 0);
}

static void passive_replies(void **state)
{
	(void)state;
	char buf[80];
	struct sockaddr_storage l4 = v4("127.0.0.1", 21);
	assert_int_equal(ftpd_addr_pasv_text(SA(l4), 50000, buf, sizeof buf), 0);
	assert_string_equal(buf, "Entering Passive Mode (127,0,0,1,195,80).");
	struct sockaddr_storage mapped = v6("::ffff:10.1.2.3", 21);
	assert_int_equal(ftpd_addr_pasv_text(SA(mapped), 1025, buf, sizeof buf), 0);
	assert_string_equal(buf, "Entering Passive Mode (10,1,2,3,4,1).");
	struct sockaddr_storage l6 = v6("::1", 21);
	assert_int_equal(ftpd_addr_pasv_text(SA(l6), 1025, buf, sizeof buf), -1);
	assert_int_equal(ftpd_addr_pasv_text(SA(l4), 50000, buf, 10), -1);
	assert_int_equal(ftpd_addr_epsv_text(6446, buf, sizeof buf), 0);
	assert_string_equal(buf, "Entering Extended Passive Mode (|||6446|)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_parsing),
		cmocka_unit_test(eprt_parsing),
		cmocka_unit_test(epsv_arguments),
		cmocka_unit_test(active_policy),
		cmocka_unit_test(passive_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
