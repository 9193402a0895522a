#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "net/endpoint.h"

static void split_forms(void **state)
{
	(void)state;
	char host[64];
	uint16_t port;
	ik_err e;
	assert_int_equal(endpoint_split("127.0.0.1:2007", host, sizeof host, &port, &e), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 2007);
	assert_int_equal(endpoint_split("[::1]:21", host, sizeof host, &port, &e), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 21);
	assert_int_equal(endpoint_split("*:80", host, sizeof host, &port, &e), 0);
	assert_string_equal(host, "");
	assert_int_equal(endpoint_split("8080", host, sizeof host, &port, &e), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 8080);
	assert_int_equal(endpoint_split("localhost:0", host, sizeof host, &port, &e), 0);
	assert_int_equal(port, 0);
}

static void split_errors(void **state)
{
	(void)state;
	char host[64];
	uint16_t port;
	ik_err e;
	assert_int_equal(endpoint_split("127.0.0.1:65536", host, sizeof host, &port, &e), -1);
	assert_string_equal(e.msg, "'127.0.0.1:65536': port '65536' is not a number from 0 to 65535");
	assert_int_equal(endpoint_split("::1:80", host, sizeof host, &port, &e), -1);
	assert_string_equal(e.msg, "'::1:80': write an IPv6 address in brackets, as [::1]:PORT");
	assert_int_equal(endpoint_split("[::1:80", host, sizeof host, &port, &e), -1);
	assert_string_equal(e.msg, "'[::1:80': missing ']' after the IPv6 address");
	assert_int_equal(endpoint_split(":80", host, sizeof host, &port, &e), -1);
	assert_string_equal(e.msg, "':80': empty host before ':' (use *:PORT for every address)");
	assert_int_equal(endpoint_split("host:http", host, sizeof host, &port, &e), -1);
	assert_string_equal(e.msg, "'host:http': port 'http' is not a number from 0 to 65535");
}

static void resolve_and_format(void **state)
{
	(void)state;
	struct endpoint ep[8];
	size_t n;
	ik_err e;
	assert_int_equal(endpoint_resolve_listen("[::1]:2121", ep, 8, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ep[0].text, "[::1]:2121");
	assert_int_equal(endpoint_resolve_listen("2121", ep, 8, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ep[0].text, "0.0.0.0:2121");
	assert_string_equal(ep[1].text, "[::]:2121");
	assert_true(ep[0].wildcard);
	assert_int_equal(endpoint_resolve_listen("127.0.0.1:7", ep, 8, &n, &e), 0);
	assert_string_equal(ep[0].text, "127.0.0.1:7");
}

static void same_host_mapped(void **state)
{
	(void)state;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_port = htons(2)};
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &b.sin6_addr);
	struct sockaddr_in6 c = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::1", &c.sin6_addr);
	assert_true(endpoint_same_host((struct sockaddr *)&a, (struct sockaddr *)&b));
	assert_false(endpoint_same_host((struct sockaddr *)&a, (struct sockaddr *)&c));
	char buf[ENDPOINT_TEXT_MAX];
	assert_string_equal(endpoint_format((struct sockaddr *)&b, buf, sizeof buf), "127.0.0.1:2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_forms),
		cmocka_unit_test(split_errors),
		cmocka_unit_test(resolve_and_format),
		cmocka_unit_test(same_host_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
