/* mailauth over core/dns: the checks' lookups go through c-ares to a DNS
 * server on loopback (dns_fake.h), answers and failures map to what the
 * checks read (records, NXDOMAIN, NODATA as no answer, SERVFAIL and
 * time-outs as temporary), and a check cancelled while lookups are under
 * way is never called back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dns_fake.h"

#include "core/loop.h"
#include "mailauth/mailauth_dns.h"

static const struct fake_rr table[] = {
	{"pass.test", FAKE_T_TXT, 0, "v=spf1 a:web.pass.test mx |-all"},
	{"pass.test", FAKE_T_MX, 0, "10 mx.pass.test"},
	{"web.pass.test", FAKE_T_A, 0, "192.0.2.9"},
	{"mx.pass.test", FAKE_T_A, 0, "192.0.2.1"},
	{"_dmarc.pass.test", FAKE_T_TXT, 0, "v=DMARC1; p=reject"},
	{"six.test", FAKE_T_TXT, 0, "v=spf1 a -all"},
	{"six.test", FAKE_T_AAAA, 0, "2001:db8::25"},
	{"nodata.test", FAKE_T_A, 0, "192.0.2.7"},
	{"broken.test", 0, 2, NULL},
	{"silent.test", 0, -1, NULL},
};

struct fx {
	struct loop *loop;
	struct dns_fake fake;
	struct dns *dns;
	struct mauth_dns md;
};

struct verdict {
	struct loop *loop;
	int calls;
	struct mauth_result r;
};

static void on_done(void *arg, const struct mauth_result *r)
{
	struct verdict *v = arg;
	v->calls++;
	v->r = *r;
	loop_exit(v->loop);
}

static int setup(void **state)
{
	static struct fx fx;
	ik_err e;
	fx.loop = loop_new(&e);
	assert_non_null(fx.loop);
	assert_int_equal(dns_fake_start(&fx.fake, loop_base(fx.loop), table,
					sizeof table / sizeof table[0]), 0);
	struct dns_opts o;
	dns_opts_default(&o);
	o.timeout_ms = 300;
	o.tries = 1;
	o.servers = fx.fake.servers;
	fx.dns = dns_new(fx.loop, &o, &e);
	assert_non_null(fx.dns);
	mauth_dns_on_core(&fx.md, fx.dns);
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

static struct mauth_result check(struct fx *fx, const char *ip, const char *from,
				 const char *msg)
{
	ik_err e;
	struct mauth_msg *m = msg != NULL ? mauth_msg_prepare(msg, strlen(msg), &e) : NULL;
	struct mauth_input in = {ip, "helo.test", from, m, 0};
	struct verdict v = {fx->loop, 0, {0}};
	struct mauth_check *c = NULL;
	assert_int_equal(mauth_check_start(&fx->md, &in, on_done, &v, &c, &e), 0);
	/* core/dns never answers from inside the lookup. */
	assert_non_null(c);
	assert_int_equal(v.calls, 0);
	loop_run(fx->loop);
	assert_int_equal(v.calls, 1);
	mauth_msg_free(m);
	return v.r;
}

static void spf_and_dmarc_over_c_ares(void **state)
{
	struct fx *fx = *state;
	const char *msg = "From: a@pass.test\nSubject: x\n\nbody\n";
	struct mauth_result r = check(fx, "192.0.2.1", "a@pass.test", msg);	/* mx */
	assert_int_equal(r.spf, MAUTH_PASS);
	assert_int_equal(r.dmarc, MAUTH_PASS);
	assert_int_equal(r.policy, DMARC_P_REJECT);
	r = check(fx, "192.0.2.9", "a@pass.test", NULL);	/* a */
	assert_int_equal(r.spf, MAUTH_PASS);
	r = check(fx, "192.0.2.66", "a@pass.test", msg);
	assert_int_equal(r.spf, MAUTH_FAIL);
	assert_int_equal(r.dmarc, MAUTH_FAIL);
	assert_true(r.reject);
	r = check(fx, "2001:db8::25", "a@six.test", NULL);	/* AAAA */
	assert_int_equal(r.spf, MAUTH_PASS);
	r = check(fx, "192.0.2.7", "a@nodata.test", NULL);	/* TXT: NODATA */
	assert_int_equal(r.spf, MAUTH_NONE);
	r = check(fx, "192.0.2.7", "a@nx.test", NULL);		/* NXDOMAIN */
	assert_int_equal(r.spf, MAUTH_NONE);
	r = check(fx, "192.0.2.7", "a@broken.test", NULL);	/* SERVFAIL */
	assert_int_equal(r.spf, MAUTH_TEMPERROR);
	r = check(fx, "192.0.2.7", "a@silent.test", NULL);	/* no answer */
	assert_int_equal(r.spf, MAUTH_TEMPERROR);
}

static void dkim_key_lookup_over_c_ares(void **state)
{
	struct fx *fx = *state;
	/* No key published: permerror, and DMARC fails on it. */
	const char *msg = "DKIM-Signature: v=1; a=rsa-sha256; d=pass.test; s=none; h=from; "
			  "bh=Ck5SoRNWUpSR4X0COv7R5ub2pUTtl6xz4dTFz++ji4M=; b=AAAA\n"
			  "From: a@pass.test\n\nbody\n";
	struct mauth_result r = check(fx, "192.0.2.66", "", msg);
	assert_int_equal(r.ndkim, 1);
	assert_int_equal(r.dkim[0].res, MAUTH_PERMERROR);
	assert_string_equal(r.dkim[0].why, "no key for signature");
	assert_true(r.spf_helo);
	assert_int_equal(r.dmarc, MAUTH_FAIL);
}

static void cancelled_check_is_not_called(void **state)
{
	struct fx *fx = *state;
	struct mauth_input in = {"192.0.2.1", "helo.test", "a@silent.test", NULL, 0};
	struct verdict v = {fx->loop, 0, {0}};
	struct mauth_check *c = NULL;
	ik_err e;
	assert_int_equal(mauth_check_start(&fx->md, &in, on_done, &v, &c, &e), 0);
	assert_non_null(c);
	mauth_check_cancel(c);
	/* The time-out answers into nothing; a later check still works. */
	struct mauth_result r = check(fx, "192.0.2.1", "a@pass.test", NULL);
	assert_int_equal(r.spf, MAUTH_PASS);
	assert_int_equal(v.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spf_and_dmarc_over_c_ares),
		cmocka_unit_test(dkim_key_lookup_over_c_ares),
		cmocka_unit_test(cancelled_check_is_not_called),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
