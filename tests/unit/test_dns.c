#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/dns.h"
#include "core/loop.h"
#include "dns_fake.h"

static const struct fake_rr table[] = {
	{ "example.test", FAKE_T_MX, 0, "20 mx2.example.test" },
	{ "example.test", FAKE_T_MX, 0, "10 mx1.example.test" },
	{ "example.test", FAKE_T_MX, 0, "20 mx3.example.test" },
	{ "example.test", FAKE_T_TXT, 0, "v=spf1 |-all" },
	{ "example.test", FAKE_T_TXT, 0, "other" },
	{ "mx1.example.test", FAKE_T_A, 0, "192.0.2.1" },
	{ "mx1.example.test", FAKE_T_A, 0, "192.0.2.2" },
	{ "mx1.example.test", FAKE_T_AAAA, 0, "2001:db8::1" },
	{ "nullmx.test", FAKE_T_MX, 0, "0 ." },
	{ "aonly.test", FAKE_T_A, 0, "127.0.0.2" },
	{ "broken.test", 0, 2, NULL },
	{ "refused.test", 0, 5, NULL },
	{ "silent.test", 0, -1, NULL },
};

struct got {
	struct loop *loop;
	int pending;
	enum dns_status status;
	size_t n;
	struct dns_mx mx[8];
	struct in_addr a[8];
	struct in6_addr aaaa[8];
	char txt[4][64];
	char msg[160];
	int calls;
};

static void on_result(void *arg, const struct dns_result *r)
{
	struct got *g = arg;
	g->calls++;
	g->status = r->status;
	g->n = r->n;
	snprintf(g->msg, sizeof(g->msg), "%s", r->msg);
	for (size_t i = 0; i < r->n && i < 8; i++) {
		if (r->mx)
			g->mx[i] = r->mx[i];
		if (r->a)
			g->a[i] = r->a[i];
		if (r->aaaa)
			g->aaaa[i] = r->aaaa[i];
		if (r->txt && i < 4)
			snprintf(g->txt[i], sizeof(g->txt[i]), "%s", r->txt[i].data);
	}
	if (--g->pending == 0)
		loop_exit(g->loop);
}

struct fx {
	struct loop *loop;
	struct dns_fake fake;
	struct dns *dns;
};

static int setup(void **state)
{
	static struct fx fx;
	ik_err e;
	fx.loop = loop_new(&e);
	assert_non_null(fx.loop);
	assert_int_equal(dns_fake_start(&fx.fake, loop_base(fx.loop), table,
					sizeof(table) / sizeof(table[0])), 0);
	struct dns_opts o;
	dns_opts_default(&o);
	o.timeout_ms = 300;
	o.tries = 1;
	o.servers = fx.fake.servers;
	fx.dns = dns_new(fx.loop, &o, &e);
	assert_non_null(fx.dns);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	dns_free(fx->dns);
	dns_fake_stop(&fx->fake);
	loop_free(fx->loop);
	return 0;
}

static void run_one(struct fx *fx, const char *name, enum dns_type t, struct got *g)
{
	ik_err e;
	memset(g, 0, sizeof(*g));
	g->loop = fx->loop;
	g->pending = 1;
	assert_non_null(dns_lookup(fx->dns, name, t, on_result, g, &e));
	/* Never called back from inside dns_lookup. */
	assert_int_equal(g->calls, 0);
	loop_run(fx->loop);
	assert_int_equal(g->calls, 1);
}

static void mx_sorted_by_preference(void **state)
{
	struct got g;
	run_one(*state, "example.test", DNS_MX, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.mx[0].pref, 10);
	assert_string_equal(g.mx[0].host, "mx1.example.test");
	assert_int_equal(g.mx[1].pref, 20);
	assert_int_equal(g.mx[2].pref, 20);
}

static void null_mx_is_empty_host(void **state)
{
	struct got g;
	run_one(*state, "nullmx.test", DNS_MX, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.mx[0].pref, 0);
	assert_string_equal(g.mx[0].host, "");
}

static void a_and_aaaa(void **state)
{
	struct got g;
	char buf[64];
	run_one(*state, "mx1.example.test.", DNS_A, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(g.n, 2);
	assert_string_equal(inet_ntop(AF_INET, &g.a[0], buf, sizeof(buf)), "192.0.2.1");
	assert_string_equal(inet_ntop(AF_INET, &g.a[1], buf, sizeof(buf)), "192.0.2.2");
	run_one(*state, "mx1.example.test", DNS_AAAA, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(inet_ntop(AF_INET6, &g.aaaa[0], buf, sizeof(buf)), "2001:db8::1");
}

static void txt_strings_joined(void **state)
{
	struct got g;
	run_one(*state, "example.test", DNS_TXT, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.txt[0], "v=spf1 -all");
	assert_string_equal(g.txt[1], "other");
}

static void nxdomain_nodata_tempfail(void **state)
{
	struct fx *fx = *state;
	struct got g;
	run_one(fx, "nowhere.test", DNS_MX, &g);
	assert_int_equal(g.status, DNS_NXDOMAIN);
	run_one(fx, "aonly.test", DNS_MX, &g);
	assert_int_equal(g.status, DNS_NODATA);
	run_one(fx, "aonly.test", DNS_AAAA, &g);
	assert_int_equal(g.status, DNS_NODATA);
	run_one(fx, "broken.test", DNS_MX, &g);
	assert_int_equal(g.status, DNS_TEMPFAIL);
	assert_non_null(strstr(g.msg, "SERVFAIL"));
	run_one(fx, "refused.test", DNS_A, &g);
	assert_int_equal(g.status, DNS_TEMPFAIL);
	run_one(fx, "silent.test", DNS_A, &g);
	assert_int_equal(g.status, DNS_TEMPFAIL);
	assert_non_null(strstr(g.msg, "timeout"));
}

static void parallel_lookups(void **state)
{
	struct fx *fx = *state;
	ik_err e;
	struct got g[4];
	memset(g, 0, sizeof(g));
	struct got all = { .loop = fx->loop, .pending = 4 };
	static const char *names[] = { "example.test", "mx1.example.test", "aonly.test",
				       "nowhere.test" };
	static const enum dns_type types[] = { DNS_MX, DNS_A, DNS_A, DNS_TXT };
	for (int i = 0; i < 4; i++)
		assert_non_null(dns_lookup(fx->dns, names[i], types[i], on_result, &all, &e));
	loop_run(fx->loop);
	assert_int_equal(all.calls, 4);
}

static void cancelled_lookup_is_silent(void **state)
{
	struct fx *fx = *state;
	ik_err e;
	struct got dropped = { .loop = fx->loop, .pending = 1 };
	struct dns_query *q = dns_lookup(fx->dns, "example.test", DNS_MX, on_result, &dropped, &e);
	assert_non_null(q);
	dns_cancel(q);
	struct got g;
	run_one(fx, "aonly.test", DNS_A, &g);
	assert_int_equal(g.status, DNS_OK);
	assert_int_equal(dropped.calls, 0);
}

static void free_cancels_pending(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	assert_non_null(l);
	struct dns_fake f;
	assert_int_equal(dns_fake_start(&f, loop_base(l), table, sizeof(table) / sizeof(table[0])),
			 0);
	struct dns_opts o;
	dns_opts_default(&o);
	o.servers = f.servers;
	struct dns *d = dns_new(l, &o, &e);
	assert_non_null(d);
	struct got g = { .loop = l, .pending = 2 };
	assert_non_null(dns_lookup(d, "silent.test", DNS_A, on_result, &g, &e));
	assert_non_null(dns_lookup(d, "example.test", DNS_MX, on_result, &g, &e));
	dns_free(d);
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.status, DNS_CANCELLED);
	dns_fake_stop(&f);
	loop_free(l);
}

static void bad_names_and_servers(void **state)
{
	struct fx *fx = *state;
	ik_err e;
	char longlabel[80];
	memset(longlabel, 'a', 70);
	memcpy(longlabel + 70, ".test", 6);
	assert_null(dns_lookup(fx->dns, "", DNS_A, on_result, NULL, &e));
	assert_null(dns_lookup(fx->dns, "a..b", DNS_A, on_result, NULL, &e));
	assert_null(dns_lookup(fx->dns, longlabel, DNS_A, on_result, NULL, &e));
	assert_null(dns_lookup(fx->dns, "a b.test", DNS_A, on_result, NULL, &e));
	assert_int_equal(dns_servers_check("127.0.0.1:5353 [::1]:53, 192.0.2.1", &e), 0);
	assert_int_equal(dns_servers_check("::1", &e), 0);
	assert_int_equal(dns_servers_check("[::1]", &e), 0);
	assert_int_equal(dns_servers_check("", &e), -1);
	assert_int_equal(dns_servers_check("ns.example:53", &e), -1);
	assert_non_null(strstr(e.msg, "not an IP address"));
	assert_int_equal(dns_servers_check("127.0.0.1:99999", &e), -1);
	assert_int_equal(dns_servers_check("127.0.0.1:0", &e), -1);
}

static void unreachable_server_is_tempfail(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	assert_non_null(l);
	struct dns_opts o;
	dns_opts_default(&o);
	o.timeout_ms = 200;
	o.tries = 1;
	o.servers = "127.0.0.1:1";	/* nothing listens: ICMP refused or time-out */
	struct dns *d = dns_new(l, &o, &e);
	assert_non_null(d);
	struct got g = { .loop = l, .pending = 1 };
	assert_non_null(dns_lookup(d, "example.test", DNS_MX, on_result, &g, &e));
	loop_run(l);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, DNS_TEMPFAIL);
	dns_free(d);
	loop_free(l);
}

static void garbage_answer_is_not_ok(void **state)
{
	(void)state;
	static const unsigned char junk[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 3, 'a' };
	for (int t = DNS_A; t <= DNS_TXT; t++) {
		struct dns_result r;
		dns_result_from_answer((enum dns_type)t, junk, sizeof(junk), &r);
		assert_int_not_equal(r.status, DNS_OK);
		dns_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mx_sorted_by_preference),
		cmocka_unit_test(null_mx_is_empty_host),
		cmocka_unit_test(a_and_aaaa),
		cmocka_unit_test(txt_strings_joined),
		cmocka_unit_test(nxdomain_nodata_tempfail),
		cmocka_unit_test(parallel_lookups),
		cmocka_unit_test(cancelled_lookup_is_silent),
		cmocka_unit_test(bad_names_and_servers),
	};
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(free_cancels_pending),
		cmocka_unit_test(unreachable_server_is_tempfail),
		cmocka_unit_test(garbage_answer_is_not_ok),
	};
	int fails = cmocka_run_group_tests(tests, setup, teardown);
	return fails + cmocka_run_group_tests(alone, NULL, NULL);
}
