#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <syslog.h>
#include <cmocka.h>

#include "core/acl.h"
#include "core/config.h"
#include "core/log.h"

/* A peer address as accept() gives it. */
static const struct sockaddr *peer(const char *text)
{
	static struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
	}
	return (const struct sockaddr *)&ss;
}

static struct acl *make(const char *allow, const char *deny)
{
	ik_err e;
	struct acl *a = acl_new("test", &e);
	assert_non_null(a);
	char buf[256];
	const char *lists[2] = {allow, deny};
	for (int w = ACL_ALLOW; w <= ACL_DENY; w++) {
		if (lists[w] == NULL)
			continue;
		snprintf(buf, sizeof buf, "%s", lists[w]);
		for (char *p = buf, *end; p != NULL && *p != '\0'; p = end) {
			end = strchr(p, ' ');
			if (end != NULL)
				*end++ = '\0';
			assert_int_equal(acl_add(a, (enum acl_list)w, p, &e), 0);
		}
	}
	return a;
}

static void empty_takes_everyone(void **state)
{
	(void)state;
	struct acl *a = make(NULL, NULL);
	assert_int_equal(acl_check(a, peer("127.0.0.2")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("2001:db8::1")), ACL_PASS);
	acl_free(a);
	assert_false(acl_refuse(NULL, peer("127.0.0.2"), LOG_NOTICE));
}

static void allow_only_the_listed(void **state)
{
	(void)state;
	struct acl *a = make("127.0.0.1 10.0.0.0/8 2001:db8::/32", NULL);
	assert_int_equal(acl_check(a, peer("127.0.0.1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("127.0.0.2")), ACL_NOT_ALLOWED);
	assert_int_equal(acl_check(a, peer("10.255.255.255")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("11.0.0.0")), ACL_NOT_ALLOWED);
	assert_int_equal(acl_check(a, peer("2001:db8:ffff::1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("2001:db9::1")), ACL_NOT_ALLOWED);
	assert_int_equal(acl_check(a, peer("::1")), ACL_NOT_ALLOWED);
	acl_free(a);
}

static void deny_wins(void **state)
{
	(void)state;
	struct acl *a = make("127.0.0.0/8", "127.0.0.2 ::1");
	assert_int_equal(acl_check(a, peer("127.0.0.1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("127.0.0.2")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("127.0.0.3")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("::1")), ACL_DENIED);
	acl_free(a);
	a = make(NULL, "0.0.0.0/0");
	assert_int_equal(acl_check(a, peer("192.0.2.1")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("::1")), ACL_PASS);	/* IPv4 only */
	acl_free(a);
}

static void ipv4_mapped_matches_ipv4(void **state)
{
	(void)state;
	struct acl *a = make("192.0.2.0/24", "192.0.2.66");
	assert_int_equal(acl_check(a, peer("::ffff:192.0.2.1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("::ffff:192.0.2.66")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("::ffff:198.51.100.1")), ACL_NOT_ALLOWED);
	/* The same address, not mapped, is IPv6 and not in an IPv4 list. */
	assert_int_equal(acl_check(a, peer("::c000:201")), ACL_NOT_ALLOWED);
	acl_free(a);
	/* A mapped entry stands for its IPv4 block. */
	a = make("::ffff:10.0.0.0/104", "::ffff:10.9.9.9");
	assert_int_equal(acl_check(a, peer("10.1.2.3")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("::ffff:10.1.2.3")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("10.9.9.9")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("11.1.2.3")), ACL_NOT_ALLOWED);
	acl_free(a);
}

static void bad_entries_say_what_is_wrong(void **state)
{
	(void)state;
	ik_err e;
	struct acl *a = acl_new("test", &e);
	assert_int_equal(acl_add(a, ACL_ALLOW, "10.0.0.1/8", &e), -1);
	assert_string_equal(e.msg, "'10.0.0.1/8' has host bits set: write 10.0.0.0/8 (or the "
			    "address alone for one host)");
	assert_int_equal(acl_add(a, ACL_DENY, "2001:db8::1/32", &e), -1);
	assert_string_equal(e.msg, "'2001:db8::1/32' has host bits set: write 2001:db8::/32 (or "
			    "the address alone for one host)");
	assert_int_equal(acl_add(a, ACL_ALLOW, "fe80::1%eth0", &e), -1);
	assert_string_equal(e.msg, "'fe80::1%eth0': a zone id cannot be matched here; write the "
			    "address without '%eth0'");
	assert_int_equal(acl_add(a, ACL_ALLOW, "localhost", &e), -1);
	assert_true(strncmp(e.msg, "'localhost' is not a CIDR or an address: ", 41) == 0);
	assert_int_equal(acl_add(a, ACL_ALLOW, "10.0.0.0/33", &e), -1);
	assert_true(strncmp(e.msg, "'10.0.0.0/33' is not a CIDR or an address: ", 43) == 0);
	assert_int_equal(acl_add(a, ACL_ALLOW, "", &e), -1);
	assert_string_equal(e.msg, "an empty entry; give a CIDR such as 192.0.2.0/24 or an address");
	/* Nothing was added: everyone is still taken. */
	assert_int_equal(acl_check(a, peer("127.0.0.2")), ACL_PASS);
	acl_free(a);
}

static void options_name_themselves(void **state)
{
	(void)state;
	ik_err e;
	struct acl *a = NULL;
	assert_int_equal(acl_option(&a, "tcp", ACL_DENY, "127.0.0.2", &e), 0);
	assert_non_null(a);
	assert_int_equal(acl_option(&a, "tcp", ACL_ALLOW, "127.0.0.0/8", &e), 0);
	assert_int_equal(acl_option(&a, "tcp", ACL_ALLOW, "127.1/8", &e), -1);
	assert_true(strncmp(e.msg, "--allow: '127.1/8' is not a CIDR or an address: ", 47) == 0);
	assert_int_equal(acl_check(a, peer("127.0.0.2")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("127.0.0.9")), ACL_PASS);
	acl_free(a);
}

static void config_keys(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("t.conf", "[ftp]\nallow = 127.0.0.0/8, ::1\n"
					"deny = 127.0.0.2 127.0.0.3\n[tcp-echo]\n"
					"[udp-echo]\ndeny = 10.0.0.1/8\n", &e);
	assert_non_null(c);
	struct acl *a;
	assert_int_equal(acl_configure(c, "ftp", &a, &e), 0);
	assert_non_null(a);
	assert_int_equal(acl_check(a, peer("127.0.0.1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("::1")), ACL_PASS);
	assert_int_equal(acl_check(a, peer("127.0.0.3")), ACL_DENIED);
	assert_int_equal(acl_check(a, peer("192.0.2.1")), ACL_NOT_ALLOWED);
	acl_free(a);
	assert_int_equal(acl_configure(c, "tcp-echo", &a, &e), 0);
	assert_null(a);		/* nothing to check */
	assert_int_equal(acl_configure(c, "udp-echo", &a, &e), -1);
	assert_null(a);
	assert_string_equal(e.msg, "t.conf:6: [udp-echo] deny: '10.0.0.1/8' has host bits set: "
			    "write 10.0.0.0/8 (or the address alone for one host)");
	assert_int_equal(cfg_check_unused(c, &e), 0);	/* the keys count as read */
	cfg_free(c);
}

static void refusals_are_counted(void **state)
{
	(void)state;
	log_set_level(LOG_ERR);		/* quiet */
	struct acl *a = make(NULL, "127.0.0.2");
	assert_false(acl_refuse(a, peer("127.0.0.1"), LOG_NOTICE));
	assert_true(acl_refuse(a, peer("127.0.0.2"), LOG_NOTICE));
	assert_true(acl_refuse(a, peer("::ffff:127.0.0.2"), LOG_DEBUG));
	assert_int_equal(acl_refused(a), 2);
	struct acl *b = make(NULL, "127.0.0.3");
	acl_take_count(b, a);		/* a reload's list goes on counting */
	assert_true(acl_refuse(b, peer("127.0.0.3"), LOG_NOTICE));
	assert_int_equal(acl_refused(b), 3);
	acl_take_count(b, b);
	assert_int_equal(acl_refused(b), 3);
	acl_take_count(NULL, b);
	assert_int_equal(acl_refused(NULL), 0);
	acl_free(a);
	acl_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_takes_everyone),
		cmocka_unit_test(allow_only_the_listed),
		cmocka_unit_test(deny_wins),
		cmocka_unit_test(ipv4_mapped_matches_ipv4),
		cmocka_unit_test(bad_entries_say_what_is_wrong),
		cmocka_unit_test(options_name_themselves),
		cmocka_unit_test(config_keys),
		cmocka_unit_test(refusals_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
