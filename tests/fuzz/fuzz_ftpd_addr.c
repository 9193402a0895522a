/* libFuzzer harness for PORT, EPRT and EPSV arguments (RFC 959, RFC 2428)
 * and the anti-bounce policy (RFC 2577). Whatever parses must format back
 * to text that parses to the same address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/str.h"
#include "ftpd/ftpd_addr.h"
#include "net/endpoint.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static struct sockaddr_storage peer4, peer6;

static void init_peers(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	struct sockaddr_in *a = (struct sockaddr_in *)&peer4;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in6 *b = (struct sockaddr_in6 *)&peer6;
	b->sin6_family = AF_INET6;
	b->sin6_addr = in6addr_loopback;
}

static bool same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return endpoint_same_host((const struct sockaddr *)a, (const struct sockaddr *)b) &&
	       endpoint_port((const struct sockaddr *)a) == endpoint_port((const struct sockaddr *)b);
}

static void policy(const struct sockaddr_storage *t)
{
	const struct sockaddr *sa = (const struct sockaddr *)t;
	ik_err e;
	int r4 = ftpd_addr_check_active(sa, (const struct sockaddr *)&peer4, &e);
	int r6 = ftpd_addr_check_active(sa, (const struct sockaddr *)&peer6, &e);
	if (r4 == 0 || r6 == 0)
		CHECK(endpoint_port(sa) >= 1024);
	CHECK(!(r4 == 0 && r6 == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_peers();
	if (size > 512)
		return 0;
	char arg[513];
	memcpy(arg, data, size);
	arg[size] = '\0';
	struct sockaddr_storage ss, again;
	socklen_t len, len2;
	ik_err e;
	char text[128];

	if (ftpd_addr_parse_port(arg, &ss, &len, &e) == FTPD_ADDR_OK) {
		CHECK(ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in));
		CHECK(ftpd_addr_port_text((struct sockaddr *)&ss, text, sizeof text) == 0);
		CHECK(ftpd_addr_parse_port(text, &again, &len2, &e) == FTPD_ADDR_OK);
		CHECK(same(&ss, &again));
		CHECK(ftpd_addr_pasv_text((struct sockaddr *)&ss, endpoint_port((struct sockaddr *)&ss),
					  text, sizeof text) == 0);
		policy(&ss);
	}

	enum ftpd_addr_status st = ftpd_addr_parse_eprt(arg, &ss, &len, &e);
	CHECK(st == FTPD_ADDR_OK || st == FTPD_ADDR_SYNTAX || st == FTPD_ADDR_PROTOCOL);
	if (st == FTPD_ADDR_OK) {
		CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
		char host[INET6_ADDRSTRLEN];
		const void *a = ss.ss_family == AF_INET
			? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		CHECK(inet_ntop(ss.ss_family, a, host, sizeof host) != NULL);
		CHECK(str_fmt(text, sizeof text, "|%d|%s|%u|", ss.ss_family == AF_INET ? 1 : 2, host,
			      (unsigned)endpoint_port((struct sockaddr *)&ss)) > 0);
		CHECK(ftpd_addr_parse_eprt(text, &again, &len2, &e) == FTPD_ADDR_OK);
		CHECK(len == len2 && same(&ss, &again));
		policy(&ss);
	}

	enum ftpd_epsv_kind k;
	ftpd_addr_parse_epsv(arg, (const struct sockaddr *)&peer4, &k, &e);
	ftpd_addr_parse_epsv(arg, (const struct sockaddr *)&peer6, &k, &e);
	return 0;
}
