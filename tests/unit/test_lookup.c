/* net/lookup: the pure parts (port ranges, argument parsing), the timed
 * worker, and the host/reverse lookups over a fake resolver, so that slow,
 * failing and duplicate-laden answers are tested without any network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "net/lookup.h"

static void port_ranges(void **state)
{
	(void)state;
	static const struct { uint16_t port; const char *name; } cases[] = {
		{0, "well-known"}, {80, "well-known"}, {1023, "well-known"},
		{1024, "registered"}, {8080, "registered"}, {49151, "registered"},
		{49152, "dynamic"}, {60000, "dynamic"}, {65535, "dynamic"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(lookup_port_range_name(cases[i].port), cases[i].name);
	assert_int_equal(lookup_port_range(1023), LOOKUP_RANGE_WELL_KNOWN);
	assert_int_equal(lookup_port_range(1024), LOOKUP_RANGE_REGISTERED);
	assert_int_equal(lookup_port_range(49152), LOOKUP_RANGE_DYNAMIC);
	uint16_t first, last;
	lookup_port_range_bounds(LOOKUP_RANGE_WELL_KNOWN, &first, &last);
	assert_int_equal(first, 0);
	assert_int_equal(last, 1023);
	lookup_port_range_bounds(LOOKUP_RANGE_REGISTERED, &first, &last);
	assert_int_equal(first, 1024);
	assert_int_equal(last, 49151);
	lookup_port_range_bounds(LOOKUP_RANGE_DYNAMIC, &first, &last);
	assert_int_equal(first, 49152);
	assert_int_equal(last, 65535);
}

static void parse_ports(void **state)
{
	(void)state;
	ik_err e = {{0}};
	uint16_t port = 1;
	assert_int_equal(lookup_parse_port("0", &port, &e), LOOKUP_ARG_NUMBER);
	assert_int_equal(port, 0);
	assert_int_equal(lookup_parse_port("65535", &port, &e), LOOKUP_ARG_NUMBER);
	assert_int_equal(port, 65535);
	assert_int_equal(lookup_parse_port("080", &port, &e), LOOKUP_ARG_NUMBER);
	assert_int_equal(port, 80);
	assert_int_equal(lookup_parse_port("http", &port, &e), LOOKUP_ARG_NAME);
	assert_int_equal(lookup_parse_port("x11-ssh-offset", &port, &e), LOOKUP_ARG_NAME);
	assert_int_equal(lookup_parse_port("3com-tsmux", &port, &e), LOOKUP_ARG_NAME);

	assert_int_equal(lookup_parse_port("65536", &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "port 65536 is out of range 0-65535");
	assert_int_equal(lookup_parse_port("-1", &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "port -1 is out of range 0-65535");
	assert_int_equal(lookup_parse_port("99999999999999999999999", &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "port 99999999999999999999999 is out of range 0-65535");
	assert_int_equal(lookup_parse_port("", &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "empty service name: give a name or a number");
	assert_int_equal(lookup_parse_port("http/tcp", &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "invalid service name 'http/tcp': names in /etc/services "
			    "have no spaces, '/' or '#'");
	assert_int_equal(lookup_parse_port("a b", &port, &e), LOOKUP_ARG_INVALID);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(lookup_parse_port(longname, &port, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "service name is 299 bytes long; names in /etc/services "
			    "are shorter than 256");
}

static void parse_protos(void **state)
{
	(void)state;
	ik_err e = {{0}};
	uint8_t n = 1;
	assert_int_equal(lookup_parse_proto("0", &n, &e), LOOKUP_ARG_NUMBER);
	assert_int_equal(n, 0);
	assert_int_equal(lookup_parse_proto("255", &n, &e), LOOKUP_ARG_NUMBER);
	assert_int_equal(n, 255);
	assert_int_equal(lookup_parse_proto("ipv6-icmp", &n, &e), LOOKUP_ARG_NAME);
	assert_int_equal(lookup_parse_proto("256", &n, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "protocol number 256 is out of range 0-255");
	assert_int_equal(lookup_parse_proto("-6", &n, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "protocol number -6 is out of range 0-255");
	assert_int_equal(lookup_parse_proto("", &n, &e), LOOKUP_ARG_INVALID);
	assert_string_equal(e.msg, "empty protocol name: give a name or a number");

	assert_string_equal(lookup_parse_proto_filter("tcp", &e), "tcp");
	assert_string_equal(lookup_parse_proto_filter("udp", &e), "udp");
	assert_null(lookup_parse_proto_filter("icmp", &e));
	assert_string_equal(e.msg, "unknown protocol 'icmp' for --proto: use tcp or udp");
	assert_null(lookup_parse_proto_filter("TCP", &e));
}

static void parse_timeouts(void **state)
{
	(void)state;
	ik_err e = {{0}};
	int ms = 0;
	static const struct { const char *s; int ms; } good[] = {
		{"5", 5000}, {"1", 1000}, {"0.5", 500}, {"0.05", 50}, {"2.250", 2250},
		{"500ms", 500}, {"2s", 2000}, {"1m", 60000}, {"3600", 3600000}, {"0.001", 1},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(lookup_parse_timeout(good[i].s, &ms, &e), 0);
		assert_int_equal(ms, good[i].ms);
	}
	static const char *const bad[] = {
		"0", "0.0", "0ms", "", "abc", "-1", "1.", ".5", "0.0001", "3601", "2h", "1.5s", "5 s",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lookup_parse_timeout(bad[i], &ms, &e), -1);
	lookup_parse_timeout("0", &ms, &e);
	assert_string_equal(e.msg, "invalid timeout '0': give seconds from 0.001 to 3600, "
			    "e.g. 5, 0.5 or 500ms");
}

static void check_hostnames(void **state)
{
	(void)state;
	ik_err e = {{0}};
	assert_int_equal(lookup_check_hostname("localhost", &e), 0);
	assert_int_equal(lookup_check_hostname("::1", &e), 0);
	assert_int_equal(lookup_check_hostname("", &e), -1);
	assert_string_equal(e.msg, "empty host name: give a name such as localhost or an address");
	assert_int_equal(lookup_check_hostname("a b", &e), -1);
	assert_string_equal(e.msg, "host name 'a b' contains a space or control character");
	char name[256];
	memset(name, 'a', 253);
	name[253] = '\0';
	assert_int_equal(lookup_check_hostname(name, &e), 0);
	name[253] = '.';	/* a trailing dot is allowed on top */
	name[254] = '\0';
	assert_int_equal(lookup_check_hostname(name, &e), 0);
	name[253] = 'a';
	assert_int_equal(lookup_check_hostname(name, &e), -1);
	assert_string_equal(e.msg, "host name is 254 bytes long; the limit is 253");
}

static void parse_ips(void **state)
{
	(void)state;
	ik_err e = {{0}};
	struct lookup_address a;
	assert_int_equal(lookup_parse_ip("127.0.0.1", &a, &e), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.salen, sizeof(struct sockaddr_in));
	assert_string_equal(a.text, "127.0.0.1");
	assert_int_equal(lookup_parse_ip("0:0:0:0:0:0:0:1", &a, &e), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(a.text, "::1");
	assert_int_equal(lookup_parse_ip("fe80::1%1", &a, &e), 0);
	assert_int_equal(((struct sockaddr_in6 *)&a.sa)->sin6_scope_id, 1);
	assert_int_equal(lookup_parse_ip("fe80::1%lo", &a, &e), 0);
	assert_true(((struct sockaddr_in6 *)&a.sa)->sin6_scope_id != 0);
	assert_string_equal(a.text, "fe80::1%lo");

	static const char *const bad[] = {
		"127.1", "127.0.0.01", "256.0.0.1", "localhost", "", "1.2.3.4.5", ":::1", "::1/128",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lookup_parse_ip(bad[i], &a, &e), -1);
	lookup_parse_ip("127.1", &a, &e);
	assert_string_equal(e.msg, "'127.1' is not an IPv4 or IPv6 address");
	assert_int_equal(lookup_parse_ip("fe80::1%nosuchif0", &a, &e), -1);
	assert_string_equal(e.msg, "unknown interface 'nosuchif0' in 'fe80::1%nosuchif0'");
	assert_int_equal(lookup_parse_ip("fe80::1%", &a, &e), -1);
	assert_string_equal(e.msg, "empty zone after '%' in 'fe80::1%': name an interface, "
			    "e.g. fe80::1%lo");
}

static void gai_classes(void **state)
{
	(void)state;
	assert_int_equal(lookup_status_from_gai(0), LOOKUP_OK);
	assert_int_equal(lookup_status_from_gai(EAI_NONAME), LOOKUP_NOT_FOUND);
	assert_int_equal(lookup_status_from_gai(EAI_NODATA), LOOKUP_NOT_FOUND);
	assert_int_equal(lookup_status_from_gai(EAI_ADDRFAMILY), LOOKUP_NOT_FOUND);
	assert_int_equal(lookup_status_from_gai(EAI_AGAIN), LOOKUP_TEMPORARY);
	assert_int_equal(lookup_status_from_gai(EAI_FAIL), LOOKUP_FAILED);
	assert_int_equal(lookup_status_from_gai(EAI_MEMORY), LOOKUP_FAILED);
	assert_int_equal(lookup_status_from_gai(EAI_SYSTEM), LOOKUP_FAILED);
}

/* ---- the timed worker ---------------------------------------------------- */

/* The slow resolver waits for the test to let it go, so "slow" never
 * depends on how busy the machine is. */
static sem_t release_slow, slow_finished;

static void wait_for_abandoned(void)
{
	sem_wait(&slow_finished);
	/* The worker frees its job just after the function returns. */
	for (int i = 0; i < 2000 && lookup_abandoned_count() != 0; i++)
		usleep(1000);
	assert_int_equal(lookup_abandoned_count(), 0);
}

struct square_job { int in, out; char pad[100]; };

static void square(void *p)
{
	struct square_job *j = p;
	j->out = j->in * j->in;
}

static void slow_square(void *p)
{
	sem_wait(&release_slow);
	square(p);
	sem_post(&slow_finished);
}

static void run_timed(void **state)
{
	(void)state;
	ik_err e = {{0}};
	struct square_job j = {.in = 7};
	assert_int_equal(lookup_run_timed(square, &j, sizeof j, 10000, &e), LOOKUP_OK);
	assert_int_equal(j.out, 49);
	j = (struct square_job){.in = 3};
	assert_int_equal(lookup_run_timed(square, &j, sizeof j, 0, &e), LOOKUP_OK);
	assert_int_equal(j.out, 9);

	j = (struct square_job){.in = 5, .out = -1};
	assert_int_equal(lookup_run_timed(slow_square, &j, sizeof j, 50, &e), LOOKUP_TIMEOUT);
	assert_int_equal(j.out, -1);	/* the abandoned worker never writes here */
	assert_int_equal(lookup_abandoned_count(), 1);
	sem_post(&release_slow);
	wait_for_abandoned();
	assert_int_equal(j.out, -1);
}

static void abandoned_limit(void **state)
{
	(void)state;
	ik_err e = {{0}};
	struct square_job j = {.in = 2};
	for (int i = 0; i < LOOKUP_ABANDONED_MAX; i++)
		assert_int_equal(lookup_run_timed(slow_square, &j, sizeof j, 1, &e), LOOKUP_TIMEOUT);
	assert_int_equal(lookup_run_timed(square, &j, sizeof j, 1000, &e), LOOKUP_TEMPORARY);
	assert_string_equal(e.msg, "32 earlier lookups are still waiting for the resolver; "
			    "try again later");
	for (int i = 0; i < LOOKUP_ABANDONED_MAX; i++)
		sem_post(&release_slow);
	for (int i = 0; i < LOOKUP_ABANDONED_MAX - 1; i++)
		sem_wait(&slow_finished);
	wait_for_abandoned();
	assert_int_equal(lookup_run_timed(square, &j, sizeof j, 1000, &e), LOOKUP_OK);
	assert_int_equal(j.out, 4);
}

/* ---- hosts and addresses over a fake resolver ---------------------------- */

static int fake_gai_rc;
static bool fake_slow;
static int fake_flags_seen;

static struct addrinfo *fake_node(int family, int socktype, const char *addr,
				  const char *canon)
{
	/* Runs on the lookup's worker thread, where a cmocka failure could not
	 * unwind: the fakes abort instead, and record what they saw. */
	struct addrinfo *ai = calloc(1, sizeof *ai);
	struct sockaddr_storage *ss = calloc(1, sizeof *ss);
	if (ai == NULL || ss == NULL)
		abort();
	ai->ai_family = family;
	ai->ai_socktype = socktype;
	ai->ai_addr = (struct sockaddr *)ss;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(99);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		ai->ai_addrlen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		ai->ai_addrlen = sizeof *sin6;
	}
	if (canon != NULL)
		ai->ai_canonname = strdup(canon);
	return ai;
}

static void fake_freeaddrinfo(struct addrinfo *ai)
{
	while (ai != NULL) {
		struct addrinfo *next = ai->ai_next;
		free(ai->ai_canonname);
		free(ai->ai_addr);
		free(ai);
		ai = next;
	}
}

/* Like glibc: one entry per socket type, canonical name on the first. */
static int fake_getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints, struct addrinfo **res)
{
	(void)service;
	if (fake_slow) {
		sem_wait(&release_slow);
		sem_post(&slow_finished);
	}
	if (fake_gai_rc != 0)
		return fake_gai_rc;
	fake_flags_seen = hints->ai_flags;
	struct addrinfo *head = NULL, **tail = &head;
	static const struct { int family; const char *addr; } addrs[] = {
		{AF_INET6, "::1"}, {AF_INET, "127.0.0.2"}, {AF_INET, "127.0.0.3"},
		{AF_INET6, "::1"},	/* a repeat from a second hosts line */
	};
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		if (hints->ai_family != AF_UNSPEC && hints->ai_family != addrs[i].family)
			continue;
		for (int st = SOCK_STREAM; st <= SOCK_RAW; st++) {
			*tail = fake_node(addrs[i].family, st, addrs[i].addr,
					  head == NULL ? "canon.test" : NULL);
			tail = &(*tail)->ai_next;
		}
	}
	(void)node;
	*res = head;
	return 0;
}

static int fake_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
			    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	(void)salen;
	(void)serv;
	(void)servlen;
	fake_flags_seen = flags;
	if (fake_slow) {
		sem_wait(&release_slow);
		sem_post(&slow_finished);
	}
	if (fake_gai_rc != 0)
		return fake_gai_rc;
	str_copy(host, hostlen, sa->sa_family == AF_INET ? "four.test" : "six.test");
	return 0;
}

static const struct lookup_resolver fake = {
	fake_getaddrinfo, fake_freeaddrinfo, fake_getnameinfo,
};

static int use_fake(void **state)
{
	(void)state;
	fake_gai_rc = 0;
	fake_slow = false;
	lookup_set_resolver(&fake);
	return 0;
}

static int use_system(void **state)
{
	(void)state;
	lookup_set_resolver(NULL);
	return 0;
}

static void host_dedup(void **state)
{
	(void)state;
	ik_err e = {{0}};
	static struct lookup_host_result r;
	assert_int_equal(lookup_host("multi.test", AF_UNSPEC, 5000, &r, &e), LOOKUP_OK);
	assert_string_equal(r.canonical, "canon.test");
	assert_int_equal(fake_flags_seen, AI_CANONNAME);	/* no AI_ADDRCONFIG */
	assert_int_equal(r.count, 3);
	assert_false(r.truncated);
	assert_string_equal(r.addrs[0].text, "::1");
	assert_string_equal(r.addrs[1].text, "127.0.0.2");
	assert_string_equal(r.addrs[2].text, "127.0.0.3");
	assert_int_equal(((struct sockaddr_in *)&r.addrs[1].sa)->sin_port, 0);

	assert_int_equal(lookup_host("multi.test", AF_INET, 0, &r, &e), LOOKUP_OK);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.addrs[0].family, AF_INET);
	assert_int_equal(lookup_host("multi.test", AF_INET6, 0, &r, &e), LOOKUP_OK);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.addrs[0].text, "::1");
}

static void host_errors(void **state)
{
	(void)state;
	ik_err e = {{0}};
	static struct lookup_host_result r;
	char want[IK_ERR_MAX];

	fake_gai_rc = EAI_NONAME;
	assert_int_equal(lookup_host("nosuch.test", AF_UNSPEC, 5000, &r, &e), LOOKUP_NOT_FOUND);
	str_fmt(want, sizeof want, "cannot resolve 'nosuch.test': %s", gai_strerror(EAI_NONAME));
	assert_string_equal(e.msg, want);

	fake_gai_rc = EAI_AGAIN;
	assert_int_equal(lookup_host("flaky.test", AF_INET6, 5000, &r, &e), LOOKUP_TEMPORARY);
	str_fmt(want, sizeof want, "cannot resolve 'flaky.test' as IPv6: %s; try again later",
		gai_strerror(EAI_AGAIN));
	assert_string_equal(e.msg, want);

	fake_gai_rc = EAI_FAIL;
	assert_int_equal(lookup_host("broken.test", AF_UNSPEC, 5000, &r, &e), LOOKUP_FAILED);

	assert_int_equal(lookup_host("", AF_UNSPEC, 5000, &r, &e), LOOKUP_BAD_INPUT);
}

static void host_timeout(void **state)
{
	(void)state;
	ik_err e = {{0}};
	static struct lookup_host_result r;
	fake_slow = true;
	assert_int_equal(lookup_host("slow.test", AF_UNSPEC, 100, &r, &e), LOOKUP_TIMEOUT);
	assert_string_equal(e.msg, "timed out after 0.1 s looking up 'slow.test'");
	assert_int_equal(r.count, 0);
	/* The abandoned worker finishes later and frees what getaddrinfo gave
	 * it (a leak or a use after free here fails under ASan). */
	sem_post(&release_slow);
	wait_for_abandoned();

	static struct lookup_hostname_result h;
	assert_int_equal(lookup_hostname(200, &h, &e), LOOKUP_TIMEOUT);
	char want[IK_ERR_MAX];
	str_fmt(want, sizeof want, "timed out after 0.2 s looking up '%s'", h.hostname);
	assert_string_equal(e.msg, want);
	sem_post(&release_slow);
	wait_for_abandoned();
}

static void hostname_fqdn(void **state)
{
	(void)state;
	ik_err e = {{0}};
	static struct lookup_hostname_result h;
	assert_int_equal(lookup_hostname(5000, &h, &e), LOOKUP_OK);
	assert_true(h.hostname[0] != '\0');
	assert_string_equal(h.fqdn, "canon.test");
	fake_gai_rc = EAI_NONAME;
	assert_int_equal(lookup_hostname(5000, &h, &e), LOOKUP_NOT_FOUND);
	assert_true(str_has_prefix(e.msg, "cannot find the fully qualified name of this host: "
				   "cannot resolve '"));
}

static void reverse(void **state)
{
	(void)state;
	ik_err e = {{0}};
	struct lookup_reverse_result r;
	assert_int_equal(lookup_reverse("127.0.0.1", 5000, &r, &e), LOOKUP_OK);
	assert_string_equal(r.name, "four.test");
	assert_int_equal(fake_flags_seen, NI_NAMEREQD);
	assert_string_equal(r.addr.text, "127.0.0.1");
	assert_int_equal(lookup_reverse("::1", 0, &r, &e), LOOKUP_OK);
	assert_string_equal(r.name, "six.test");

	assert_int_equal(lookup_reverse("127.1", 5000, &r, &e), LOOKUP_BAD_INPUT);
	assert_string_equal(e.msg, "'127.1' is not an IPv4 or IPv6 address");

	fake_gai_rc = EAI_NONAME;
	char want[IK_ERR_MAX];
	assert_int_equal(lookup_reverse("127.0.0.9", 5000, &r, &e), LOOKUP_NOT_FOUND);
	str_fmt(want, sizeof want, "no name for address 127.0.0.9: %s", gai_strerror(EAI_NONAME));
	assert_string_equal(e.msg, want);
	fake_gai_rc = EAI_AGAIN;
	assert_int_equal(lookup_reverse("::1", 5000, &r, &e), LOOKUP_TEMPORARY);

	fake_gai_rc = 0;
	fake_slow = true;
	assert_int_equal(lookup_reverse("::1", 150, &r, &e), LOOKUP_TIMEOUT);
	assert_string_equal(e.msg, "timed out after 0.15 s looking up '::1'");
	sem_post(&release_slow);
	wait_for_abandoned();
}

int main(void)
{
	sem_init(&release_slow, 0, 0);
	sem_init(&slow_finished, 0, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_ranges),
		cmocka_unit_test(parse_ports),
		cmocka_unit_test(parse_protos),
		cmocka_unit_test(parse_timeouts),
		cmocka_unit_test(check_hostnames),
		cmocka_unit_test(parse_ips),
		cmocka_unit_test(gai_classes),
		cmocka_unit_test(run_timed),
		cmocka_unit_test(abandoned_limit),
		cmocka_unit_test_setup_teardown(host_dedup, use_fake, use_system),
		cmocka_unit_test_setup_teardown(host_errors, use_fake, use_system),
		cmocka_unit_test_setup_teardown(host_timeout, use_fake, use_system),
		cmocka_unit_test_setup_teardown(hostname_fqdn, use_fake, use_system),
		cmocka_unit_test_setup_teardown(reverse, use_fake, use_system),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
