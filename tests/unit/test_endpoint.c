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

static void unix_paths(void **state)
{
	(void)state;
	struct endpoint ep[2];
	size_t n;
	ik_err e;
	assert_true(endpoint_is_unix("unix:/tmp/x.sock"));
	assert_false(endpoint_is_unix("127.0.0.1:7"));
	assert_int_equal(endpoint_resolve_listen("unix:/tmp/x.sock", ep, 2, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ep[0].ss.ss_family, AF_UNIX);
	assert_string_equal(ep[0].text, "unix:/tmp/x.sock");
	assert_string_equal(endpoint_unix_path((struct sockaddr *)&ep[0].ss, ep[0].len), "/tmp/x.sock");
	char host[ENDPOINT_TEXT_MAX];
	assert_string_equal(endpoint_format_host((struct sockaddr *)&ep[0].ss, host, sizeof host),
			    "/tmp/x.sock");
	assert_int_equal(endpoint_unix("unix:", &ep[0], &e), -1);
	assert_string_equal(e.msg, "'unix:': give a socket path after unix:, e.g. unix:/tmp/x.sock");
	char longpath[200] = "unix:/";
	memset(longpath + 6, 'a', 120);
	assert_int_equal(endpoint_unix(longpath, &ep[0], &e), -1);
	assert_true(strstr(e.msg, "a UNIX socket path has at most 107 bytes") != NULL);
	/* An unnamed one (an accepted client) shows as the bare prefix. */
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	assert_string_equal(endpoint_format((struct sockaddr *)&un, host, sizeof host), "unix:");
}

static void targets_and_sources(void **state)
{
	(void)state;
	struct endpoint ep[4];
	size_t n;
	ik_err e;
	assert_int_equal(endpoint_resolve_target("127.0.0.1:80", AF_UNSPEC, SOCK_STREAM, ep, 4, &n,
						 "target", &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ep[0].text, "127.0.0.1:80");
	assert_int_equal(endpoint_resolve_target("unix:/run/a", AF_UNSPEC, SOCK_STREAM, ep, 4, &n,
						 "target", &e), 0);
	assert_string_equal(ep[0].text, "unix:/run/a");
	assert_int_equal(endpoint_resolve_target("80", AF_UNSPEC, SOCK_STREAM, ep, 4, &n,
						 "target", &e), -1);
	assert_string_equal(e.msg, "target '80': name the host, as HOST:PORT (or unix:PATH)");
	assert_int_equal(endpoint_resolve_target("127.0.0.1:0", AF_UNSPEC, SOCK_STREAM, ep, 4, &n,
						 "target", &e), -1);
	assert_string_equal(e.msg, "target '127.0.0.1:0': port 0 cannot be connected to; give a "
			    "port from 1 to 65535");
	assert_int_equal(endpoint_parse_source("127.0.0.2", &ep[0], &e), 0);
	assert_string_equal(ep[0].text, "127.0.0.2");
	assert_int_equal(endpoint_port((struct sockaddr *)&ep[0].ss), 0);
	assert_int_equal(endpoint_parse_source("127.0.0.2:5000", &ep[0], &e), 0);
	assert_string_equal(ep[0].text, "127.0.0.2:5000");
	assert_int_equal(endpoint_parse_source("::1", &ep[0], &e), 0);
	assert_string_equal(ep[0].text, "::1");
	assert_int_equal(endpoint_parse_source("[::1]:7", &ep[0], &e), 0);
	assert_string_equal(ep[0].text, "[::1]:7");
	assert_int_equal(endpoint_parse_source("[::1]", &ep[0], &e), 0);
	assert_int_equal(ep[0].ss.ss_family, AF_INET6);
	assert_int_equal(endpoint_parse_source("127.0.0.2:x", &ep[0], &e), -1);
	assert_string_equal(e.msg, "source address: '127.0.0.2:x': port 'x' is not a number from 0 "
			    "to 65535");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_forms),
		cmocka_unit_test(split_errors),
		cmocka_unit_test(resolve_and_format),
		cmocka_unit_test(same_host_mapped),
		cmocka_unit_test(unix_paths),
		cmocka_unit_test(targets_and_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
