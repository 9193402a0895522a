/* mailauth: tag lists, canonicalization (RFC 6376 3.4.6's example), DKIM
 * signing and verification with both key types, SPF (RFC 7208 7.4's macro
 * examples, crafted records, the limits), DMARC, the header, and the
 * check driver over a fake DNS table answering at once or later. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

/* ---- a fake DNS table ---- */

struct fake_rr {
	enum mauth_rr type;
	const char *name;
	enum mauth_dns_rc rc;
	const char *rr[4];	/* NULL-terminated */
};

struct deferred {
	mauth_dns_cb cb;
	void *arg;
	const struct fake_rr *ans;
};

struct fake_dns {
	const struct fake_rr *tab;
	size_t n;
	bool defer;
	struct deferred q[128];
	size_t nq;
	unsigned asked;
};

static const struct fake_rr nx = {MAUTH_TXT, "", MAUTH_DNS_NXDOMAIN, {NULL}};

static void answer(const struct fake_rr *f, mauth_dns_cb cb, void *arg)
{
	size_t n = 0;
	while (n < 4 && f->rr[n] != NULL)
		n++;
	struct mauth_dns_answer a = {f->rc, n, f->rr};
	cb(arg, &a);
}

static int fake_lookup(void *ctx, enum mauth_rr type, const char *name, mauth_dns_cb cb,
		       void *arg)
{
	struct fake_dns *d = ctx;
	d->asked++;
	const struct fake_rr *f = &nx;
	for (size_t i = 0; i < d->n; i++)
		if (d->tab[i].type == type && strcmp(d->tab[i].name, name) == 0)
			f = &d->tab[i];
	if (d->defer) {
		assert_true(d->nq < 128);
		d->q[d->nq++] = (struct deferred){cb, arg, f};
		return 0;
	}
	answer(f, cb, arg);
	return 0;
}

static void fake_flush(struct fake_dns *d)
{
	while (d->nq > 0) {
		struct deferred x = d->q[0];
		memmove(d->q, d->q + 1, (d->nq - 1) * sizeof d->q[0]);
		d->nq--;
		answer(x.ans, x.cb, x.arg);
	}
}

/* Evaluate SPF over a cache filled from the table (synchronously). */
static int spf_run(const struct fake_rr *tab, size_t n, const char *ip, const char *from,
		   char *why)
{
	struct mauth_cache c;
	memset(&c, 0, sizeof c);
	struct spf_ctx x;
	char domain[256];
	bool helo;
	assert_int_equal(spf_ctx_init(&x, ip, "mx.example.org", from, domain, sizeof domain,
				      &helo), 0);
	int r;
	for (int pass = 0;; pass++) {
		assert_true(pass < 100);
		c.missing = false;
		r = spf_eval(&c, &x, domain, why, 128);
		if (r >= 0)
			break;
		for (size_t i = 0; i < c.n; i++) {
			if (c.e[i].answered)
				continue;
			const struct fake_rr *f = &nx;
			for (size_t k = 0; k < n; k++)
				if (tab[k].type == c.e[i].type && strcmp(tab[k].name, c.e[i].name) == 0)
					f = &tab[k];
			size_t m = 0;
			while (m < 4 && f->rr[m] != NULL)
				m++;
			struct mauth_dns_answer a = {f->rc, m, f->rr};
			mauth_cache_put(&c, i, &a);
		}
	}
	mauth_cache_clear(&c);
	return r;
}

#define SPF(tab, ip, from) spf_run(tab, sizeof tab / sizeof tab[0], ip, from, why)

/* ---- tag lists ---- */

static void tags(void **state)
{
	(void)state;
	struct mauth_tags t;
	ik_err e;
	const char *s = " v=1; a = rsa-sha256 ;\r\n\tb=ab cd\r\n ef; x=;";
	assert_int_equal(mauth_tags_parse(s, strlen(s), &t, &e), 0);
	assert_int_equal(t.n, 4);
	assert_string_equal(mauth_tags_get(&t, "v"), "1");
	assert_string_equal(mauth_tags_get(&t, "a"), "rsa-sha256");
	assert_string_equal(mauth_tags_get(&t, "b"), "ab cd\r\n ef");
	assert_string_equal(mauth_tags_get(&t, "x"), "");
	assert_null(mauth_tags_get(&t, "bh"));
	mauth_tags_free(&t);
	assert_int_equal(mauth_tags_parse("a=1; a=2", 8, &t, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(mauth_tags_parse("1a=1", 4, &t, &e), -1);
	assert_int_equal(mauth_tags_parse("a", 1, &t, &e), -1);
	assert_int_equal(mauth_tags_parse("a=\x01", 3, &t, &e), -1);
	assert_int_equal(mauth_tags_parse("", 0, &t, &e), 0);
	assert_int_equal(t.n, 0);
	mauth_tags_free(&t);
}

/* ---- canonicalization: RFC 6376 3.4.6 ---- */

static const char example[] = "A: X\nB : Y\t\n\tZ  \n\n C \nD \t E\n\n\n";

static void sha(const char *s, size_t n, unsigned char out[32])
{
	SHA256((const unsigned char *)s, n, out);
}

static void body_digest(const char *body, enum dkim_canon c, unsigned char out[32])
{
	struct dkim_body_hash b;
	assert_int_equal(dkim_bh_init(&b, c, UINT64_MAX), 0);
	dkim_bh_update(&b, body, strlen(body));
	assert_int_equal(dkim_bh_final(&b, out), 0);
}

static void header_digest(const struct mauth_header *h, enum dkim_canon c, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(dkim_hash_fields(md, c, h, "a:b"), 0);
	assert_int_equal(EVP_DigestFinal_ex(md, out, NULL), 1);
	EVP_MD_CTX_free(md);
}

static void canon_rfc6376(void **state)
{
	(void)state;
	struct mauth_header h;
	assert_int_equal(mauth_header_split(example, strlen(example), &h), 0);
	assert_int_equal(h.n, 2);
	unsigned char got[32], want[32];
	header_digest(&h, DKIM_RELAXED, got);
	const char rh[] = "a:X\r\nb:Y Z\r\n";
	sha(rh, strlen(rh), want);
	assert_memory_equal(got, want, 32);
	header_digest(&h, DKIM_SIMPLE, got);
	const char sh[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
	sha(sh, strlen(sh), want);
	assert_memory_equal(got, want, 32);
	body_digest(h.body, DKIM_RELAXED, got);
	const char rb[] = " C\r\nD E\r\n";
	sha(rb, strlen(rb), want);
	assert_memory_equal(got, want, 32);
	body_digest(h.body, DKIM_SIMPLE, got);
	const char sb[] = " C \r\nD \t E\r\n";
	sha(sb, strlen(sb), want);
	assert_memory_equal(got, want, 32);
	mauth_header_free(&h);
	/* Empty bodies: CRLF for simple, nothing for relaxed (RFC 6376 3.4.3, 3.4.4). */
	body_digest("\n\n", DKIM_SIMPLE, got);
	sha("\r\n", 2, want);
	assert_memory_equal(got, want, 32);
	body_digest("", DKIM_RELAXED, got);
	sha("", 0, want);
	assert_memory_equal(got, want, 32);
	/* CRLF-stored text canonicalizes as LF-stored text does. */
	body_digest(" C \r\nD \t E\r\n\r\n", DKIM_SIMPLE, got);
	sha(sb, strlen(sb), want);
	assert_memory_equal(got, want, 32);
	/* A missing final line end is added. */
	body_digest("x", DKIM_SIMPLE, got);
	sha("x\r\n", 3, want);
	assert_memory_equal(got, want, 32);
}

static void strip_b(void **state)
{
	(void)state;
	const char f[] = "DKIM-Signature: v=1; b=abc\n\t def; bh=xyz";
	size_t n;
	char *s = dkim_strip_b(f, strlen(f), &n);
	assert_non_null(s);
	assert_string_equal(s, "DKIM-Signature: v=1; b=; bh=xyz");
	free(s);
	const char g[] = "DKIM-Signature: v=1; bh=xyz; b = abc";
	s = dkim_strip_b(g, strlen(g), &n);
	assert_string_equal(s, "DKIM-Signature: v=1; bh=xyz; b =");
	free(s);
}

static void from_domain(void **state)
{
	(void)state;
	char d[64];
	const char *m = "Subject: x\nFrom: \"Ann\" <ann@Mail.Example.COM>\n\nbody\n";
	assert_int_equal(mauth_from_domain(m, strlen(m), d, sizeof d), 0);
	assert_string_equal(d, "mail.example.com");
	m = "From: bob@example.org (Bob)\n\n";
	assert_int_equal(mauth_from_domain(m, strlen(m), d, sizeof d), 0);
	assert_string_equal(d, "example.org");
	m = "To: x@y.z\n\n";
	assert_int_equal(mauth_from_domain(m, strlen(m), d, sizeof d), -1);
}

/* ---- DKIM sign and verify ---- */

static const char msg[] =
	"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n"
	"From: Joe SixPack <joe@football.example.com>\n"
	"To: Suzie Q <suzie@shopping.example.net>\n"
	"Subject: Is dinner ready?\n"
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
	"\n"
	"Hi.\n"
	"\n"
	"We lost the game.  Are you hungry yet?\n"
	"\n"
	"Joe.\n\n\n";

struct verdict {
	bool called;
	struct mauth_result r;
};

static void on_done(void *arg, const struct mauth_result *r)
{
	struct verdict *v = arg;
	assert_false(v->called);
	v->called = true;
	v->r = *r;
}

/* Sign msg with a new key, publish it at sel._domainkey.football.example.com
 * and verify (optionally altered) through the check. */
static struct mauth_result sign_verify(enum dkim_alg alg, enum dkim_canon hc, enum dkim_canon bc,
				       const char *from_find, const char *to_replace,
				       bool defer)
{
	ik_err e;
	struct dkim_key *k = dkim_key_generate(alg, 2048, &e);
	assert_non_null(k);
	struct sbuf txt = SBUF_INIT(8192), out = SBUF_INIT(1 << 20);
	assert_int_equal(dkim_key_txt(k, &txt, &e), 0);
	struct dkim_sign_opts o = {"football.example.com", "sel", hc, bc, 1700000000};
	assert_int_equal(dkim_sign(k, &o, msg, strlen(msg), &out, &e), 0);
	assert_true(strncmp(out.data, "DKIM-Signature: v=1; a=", 23) == 0);
	assert_non_null(strstr(out.data, "h=from:from:subject:date:message-id:to;"));
	assert_int_equal(sbuf_addstr(&out, msg), 0);
	char *signed_msg = strdup(out.data);
	if (from_find != NULL) {
		char *p = strstr(signed_msg, from_find);
		assert_non_null(p);
		assert_int_equal(strlen(from_find), strlen(to_replace));
		memcpy(p, to_replace, strlen(to_replace));
	}
	const struct fake_rr tab[] = {
		{MAUTH_TXT, "sel._domainkey.football.example.com", MAUTH_DNS_OK, {txt.data, NULL}},
		{MAUTH_TXT, "_dmarc.football.example.com", MAUTH_DNS_OK,
		 {"v=DMARC1; p=reject", NULL}},
		{MAUTH_TXT, "example.org", MAUTH_DNS_OK, {"v=spf1 -all", NULL}},
	};
	struct fake_dns d = {tab, 3, defer, {{0}}, 0, 0};
	struct mauth_dns dns = {fake_lookup, &d};
	struct mauth_msg *m = mauth_msg_prepare(signed_msg, strlen(signed_msg), &e);
	assert_non_null(m);
	struct mauth_input in = {"192.0.2.1", "mx.example.org", "a@example.org", m, 0};
	struct verdict v = {0};
	struct mauth_check *c = NULL;
	assert_int_equal(mauth_check_start(&dns, &in, on_done, &v, &c, &e), 0);
	if (defer) {
		assert_non_null(c);
		assert_false(v.called);
		fake_flush(&d);
	}
	assert_true(v.called);
	mauth_msg_free(m);
	free(signed_msg);
	sbuf_free(&txt);
	sbuf_free(&out);
	dkim_key_free(k);
	return v.r;
}

static void dkim_roundtrip(void **state)
{
	(void)state;
	enum dkim_alg algs[] = {DKIM_RSA_SHA256, DKIM_ED25519_SHA256};
	for (int a = 0; a < 2; a++)
		for (int hc = 0; hc < 2; hc++)
			for (int bc = 0; bc < 2; bc++) {
				struct mauth_result r = sign_verify(algs[a], hc, bc, NULL, NULL,
								    (a + hc + bc) % 2 == 0);
				assert_int_equal(r.ndkim, 1);
				assert_int_equal(r.dkim[0].res, MAUTH_PASS);
				assert_string_equal(r.dkim[0].d, "football.example.com");
				assert_string_equal(r.dkim[0].s, "sel");
				assert_int_equal(r.spf, MAUTH_FAIL);
				assert_int_equal(r.dmarc, MAUTH_PASS);
				assert_false(r.reject);
			}
}

static void dkim_tampered(void **state)
{
	(void)state;
	/* The body changed: body hash mismatch. */
	struct mauth_result r = sign_verify(DKIM_ED25519_SHA256, DKIM_RELAXED, DKIM_RELAXED,
					    "We lost", "We won!", false);
	assert_int_equal(r.dkim[0].res, MAUTH_FAIL);
	assert_string_equal(r.dkim[0].why, "body hash did not verify");
	assert_int_equal(r.dmarc, MAUTH_FAIL);
	assert_int_equal(r.policy, DMARC_P_REJECT);
	assert_true(r.reject);
	/* A signed header changed: the signature fails. */
	r = sign_verify(DKIM_RSA_SHA256, DKIM_RELAXED, DKIM_SIMPLE, "dinner", "supper", true);
	assert_int_equal(r.dkim[0].res, MAUTH_FAIL);
	assert_string_equal(r.dkim[0].why, "signature did not verify");
	/* Relaxed survives re-folding and case changes of header names. */
	r = sign_verify(DKIM_RSA_SHA256, DKIM_RELAXED, DKIM_RELAXED, "Subject: Is", "Subject:\tIs",
			false);
	assert_int_equal(r.dkim[0].res, MAUTH_PASS);
	r = sign_verify(DKIM_RSA_SHA256, DKIM_RELAXED, DKIM_RELAXED, "lost the", "lost\tthe",
			false);
	assert_int_equal(r.dkim[0].res, MAUTH_PASS);
	r = sign_verify(DKIM_RSA_SHA256, DKIM_RELAXED, DKIM_RELAXED, "Subject:", "SUBJECT:",
			false);
	assert_int_equal(r.dkim[0].res, MAUTH_PASS);
	r = sign_verify(DKIM_RSA_SHA256, DKIM_SIMPLE, DKIM_SIMPLE, "Subject:", "SUBJECT:", false);
	assert_int_equal(r.dkim[0].res, MAUTH_FAIL);
	/* A From added above the signed one: oversigning makes it fail. */
	r = sign_verify(DKIM_RSA_SHA256, DKIM_RELAXED, DKIM_RELAXED, "Received: from x by y;",
			"From: ev@attack.exampl", false);
	assert_int_equal(r.dkim[0].res, MAUTH_FAIL);
}

static void dkim_bad_sigs(void **state)
{
	(void)state;
	struct mauth_header h;
	const char *cases[][2] = {
		{"DKIM-Signature: v=1; a=rsa-sha1; d=x.example; s=s; h=from; bh=AA==; b=AA==\n"
		 "From: a@x.example\n\n", "rsa-sha1 is not accepted"},
		{"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=to; bh=AA==; b=AA==\n"
		 "From: a@x.example\n\n", "h= does not sign From"},
		{"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; h=from; bh=AA==; b=AA==\n"
		 "From: a@x.example\n\n", "signature lacks a required tag"},
		{"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AA==; b=AA==; "
		 "x=1000\nFrom: a@x.example\n\n", "signature expired"},
		{"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; l=99; "
		 "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AA==\nFrom: a@x.example\n\n",
		 "l= is longer than the body"},
		{"DKIM-Signature: v=1; v=1\n\n", "signature syntax"},
		{"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AA==; b=AA==; "
		 "i=a@notx.example\nFrom: a@x.example\n\n", "i= is not within d="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(mauth_header_split(cases[i][0], strlen(cases[i][0]), &h), 0);
		struct dkim_pending p;
		dkim_prepare_sig(&h, 0, 2000, &p);
		assert_true(p.done);
		assert_string_equal(p.r.why, cases[i][1]);
		dkim_pending_clear(&p);
		mauth_header_free(&h);
	}
}

static void key_records(void **state)
{
	(void)state;
	char why[64];
	assert_null(dkim_key_record_parse("v=DKIM1; k=rsa; p=", DKIM_RSA_SHA256, why, sizeof why));
	assert_string_equal(why, "key revoked");
	assert_null(dkim_key_record_parse("v=DKIM1; k=ed25519; p=AAAA", DKIM_RSA_SHA256, why,
					  sizeof why));
	assert_string_equal(why, "key type does not match a=");
	assert_null(dkim_key_record_parse("k=rsa; v=DKIM1; p=AAAA", DKIM_RSA_SHA256, why,
					  sizeof why));
	assert_null(dkim_key_record_parse("v=DKIM1; p=!!!", DKIM_RSA_SHA256, why, sizeof why));
	assert_string_equal(why, "key record p= is not base64");
	/* RFC 8463 A.2's published key. */
	EVP_PKEY *pk = dkim_key_record_parse("v=DKIM1; k=ed25519; "
					     "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
					     DKIM_ED25519_SHA256, why, sizeof why);
	assert_non_null(pk);
	EVP_PKEY_free(pk);
	ik_err e;
	assert_null(dkim_key_generate(DKIM_RSA_SHA256, 512, &e));
	assert_non_null(strstr(e.msg, "1024 to 8192"));
}

/* RFC 8463 Appendix A: the example message signed with ed25519-sha256
 * (and rsa-sha256), verified against the published keys. */
static void rfc8463_example(void **state)
{
	(void)state;
	const char *m =
		"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
		" d=football.example.com; i=@football.example.com;\n"
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
		" subject : date : message-id : from : subject : date;\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
		" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n"
		" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\n"
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
		" d=football.example.com; i=@football.example.com;\n"
		" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
		" date : message-id : from : subject : date;\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
		" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n"
		" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n"
		" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\n"
		"From: Joe SixPack <joe@football.example.com>\n"
		"To: Suzie Q <suzie@shopping.example.net>\n"
		"Subject: Is dinner ready?\n"
		"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
		"Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
		"\n"
		"Hi.\n"
		"\n"
		"We lost the game.  Are you hungry yet?\n"
		"\n"
		"Joe.\n";
	const struct fake_rr tab[] = {
		{MAUTH_TXT, "brisbane._domainkey.football.example.com", MAUTH_DNS_OK,
		 {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", NULL}},
		{MAUTH_TXT, "test._domainkey.football.example.com", MAUTH_DNS_OK,
		 {"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3id"
		  "Y6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lx"
		  "j+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB", NULL}},
	};
	struct fake_dns d = {tab, 2, false, {{0}}, 0, 0};
	struct mauth_dns dns = {fake_lookup, &d};
	ik_err e;
	struct mauth_msg *mm = mauth_msg_prepare(m, strlen(m), &e);
	struct mauth_input in = {"192.0.2.1", "mx.example.org", "", mm, 0};
	struct verdict v = {0};
	struct mauth_check *c;
	assert_int_equal(mauth_check_start(&dns, &in, on_done, &v, &c, &e), 0);
	assert_true(v.called);
	assert_int_equal(v.r.ndkim, 2);
	assert_int_equal(v.r.dkim[0].res, MAUTH_PASS);
	/* The RFC's RSA key has 1024 bits: still accepted (RFC 8301). */
	assert_int_equal(v.r.dkim[1].res, MAUTH_PASS);
	mauth_msg_free(mm);
}

/* ---- SPF ---- */

static void spf_macros(void **state)
{
	(void)state;
	struct spf_ctx x;
	char dom[256], out[512];
	bool helo;
	assert_int_equal(spf_ctx_init(&x, "192.0.2.3", "mx.example.org",
				      "strong-bad@email.example.com", dom, sizeof dom, &helo), 0);
	assert_false(helo);
	assert_string_equal(dom, "email.example.com");
	static const char *const ex[][2] = {
		{"%{s}", "strong-bad@email.example.com"},
		{"%{o}", "email.example.com"},
		{"%{d}", "email.example.com"},
		{"%{d4}", "email.example.com"},
		{"%{d3}", "email.example.com"},
		{"%{d2}", "example.com"},
		{"%{d1}", "com"},
		{"%{dr}", "com.example.email"},
		{"%{d2r}", "example.email"},
		{"%{l}", "strong-bad"},
		{"%{l-}", "strong.bad"},
		{"%{lr}", "strong-bad"},
		{"%{lr-}", "bad.strong"},
		{"%{l1r-}", "strong"},
		{"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{"%%%_%-", "% %20"},
	};
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		assert_int_equal(spf_macro_expand(&x, dom, ex[i][0], out, sizeof out), 0);
		assert_string_equal(out, ex[i][1]);
	}
	assert_int_equal(spf_macro_expand(&x, dom, "%{z}", out, sizeof out), -1);
	assert_int_equal(spf_macro_expand(&x, dom, "%{d0}", out, sizeof out), -1);
	assert_int_equal(spf_macro_expand(&x, dom, "%x", out, sizeof out), -1);
	assert_int_equal(spf_ctx_init(&x, "2001:db8::cb01", "h", "strong-bad@email.example.com",
				      dom, sizeof dom, &helo), 0);
	assert_int_equal(spf_macro_expand(&x, dom, "%{ir}.%{v}._spf.%{d2}", out, sizeof out), 0);
	assert_string_equal(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
			    "ip6._spf.example.com");
}

static void spf_parse(void **state)
{
	(void)state;
	struct spf_record r;
	ik_err e;
	assert_int_equal(spf_record_parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:m.example"
					  "/24//64 a//96 -include:i.example ~exists:%{i}.x.example "
					  "?all redirect=r.example foo=bar", &r, &e), 0);
	assert_int_equal(r.n, 8);
	assert_int_equal(r.t[0].cidr4, 24);
	assert_int_equal(r.t[1].cidr6, 32);
	assert_int_equal(r.t[3].cidr4, 24);
	assert_int_equal(r.t[3].cidr6, 64);
	assert_string_equal(r.t[3].arg, "m.example");
	assert_int_equal(r.t[4].cidr6, 96);
	assert_int_equal(r.t[5].qual, '-');
	assert_string_equal(r.redirect, "r.example");
	spf_record_free(&r);
	static const char *const bad[] = {
		"v=spf1 ip4:300.0.0.1", "v=spf1 ip4:1.2.3.4/33", "v=spf1 bogus", "v=spf1 include",
		"v=spf1 redirect=a.example redirect=b.example", "v=spf2 -all", "v=spf1 all:x",
		"v=spf1 a/40", "v=spf1 exists:%{z}", "v=spf1 ip6:::1/129",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(spf_record_parse(bad[i], &r, &e), -1);
}

static void spf_results(void **state)
{
	(void)state;
	char why[128];
	const struct fake_rr t1[] = {
		{MAUTH_TXT, "example.com", MAUTH_DNS_OK,
		 {"v=spf1 ip4:192.0.2.0/24 include:inc.example.com a:web.example.com/28 "
		  "mx -all", "some other text", NULL}},
		{MAUTH_TXT, "inc.example.com", MAUTH_DNS_OK, {"v=spf1 ip6:2001:db8::/32 ~all", NULL}},
		{MAUTH_A, "web.example.com", MAUTH_DNS_OK, {"198.51.100.17", NULL}},
		{MAUTH_MX, "example.com", MAUTH_DNS_OK, {"mx1.example.com", "mx2.example.com", NULL}},
		{MAUTH_A, "mx2.example.com", MAUTH_DNS_OK, {"203.0.113.5", NULL}},
	};
	assert_int_equal(SPF(t1, "192.0.2.77", "u@example.com"), MAUTH_PASS);
	assert_int_equal(SPF(t1, "2001:db8::1", "u@example.com"), MAUTH_PASS);	/* include */
	assert_int_equal(SPF(t1, "198.51.100.30", "u@example.com"), MAUTH_PASS);	/* a/28 */
	assert_int_equal(SPF(t1, "198.51.100.33", "u@example.com"), MAUTH_FAIL);
	assert_int_equal(SPF(t1, "203.0.113.5", "u@example.com"), MAUTH_PASS);	/* mx */
	assert_int_equal(SPF(t1, "::ffff:203.0.113.5", "u@example.com"), MAUTH_PASS);
	/* AAAA of web, mx1 and mx2 are all void: the third is one too many. */
	assert_int_equal(SPF(t1, "2001:db9::1", "u@example.com"), MAUTH_PERMERROR);
	assert_int_equal(SPF(t1, "192.0.2.1", "u@nowhere.example"), MAUTH_NONE);
	/* <> : the HELO name is checked. */
	assert_int_equal(SPF(t1, "192.0.2.1", ""), MAUTH_NONE);

	const struct fake_rr t2[] = {
		{MAUTH_TXT, "two.example", MAUTH_DNS_OK, {"v=spf1 -all", "v=spf1 +all", NULL}},
		{MAUTH_TXT, "temp.example", MAUTH_DNS_TEMP, {NULL}},
		{MAUTH_TXT, "soft.example", MAUTH_DNS_OK, {"v=spf1 ~all", NULL}},
		{MAUTH_TXT, "neutral.example", MAUTH_DNS_OK, {"v=spf1 ?all", NULL}},
		{MAUTH_TXT, "empty.example", MAUTH_DNS_OK, {"v=spf1", NULL}},
		{MAUTH_TXT, "redir.example", MAUTH_DNS_OK, {"v=spf1 redirect=soft.example", NULL}},
		{MAUTH_TXT, "redir-none.example", MAUTH_DNS_OK, {"v=spf1 redirect=nx.example", NULL}},
		{MAUTH_TXT, "inc-none.example", MAUTH_DNS_OK, {"v=spf1 include:nx.example", NULL}},
		{MAUTH_TXT, "inc-temp.example", MAUTH_DNS_OK, {"v=spf1 include:temp.example", NULL}},
		{MAUTH_TXT, "syntax.example", MAUTH_DNS_OK, {"v=spf1 ip4:1.2.3", NULL}},
		{MAUTH_TXT, "exists.example", MAUTH_DNS_OK,
		 {"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", NULL}},
		{MAUTH_A, "1.2.0.192.bob._spf.exists.example", MAUTH_DNS_OK, {"127.0.0.2", NULL}},
		{MAUTH_TXT, "void.example", MAUTH_DNS_OK,
		 {"v=spf1 a:n1.example a:n2.example a:n3.example -all", NULL}},
		{MAUTH_TXT, "void2.example", MAUTH_DNS_OK,
		 {"v=spf1 a:n1.example a:n2.example ?all", NULL}},
		{MAUTH_TXT, "loop.example", MAUTH_DNS_OK, {"v=spf1 include:loop.example", NULL}},
	};
	assert_int_equal(SPF(t2, "192.0.2.1", "a@two.example"), MAUTH_PERMERROR);
	assert_string_equal(why, "more than one SPF record");
	assert_int_equal(SPF(t2, "192.0.2.1", "a@temp.example"), MAUTH_TEMPERROR);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@soft.example"), MAUTH_SOFTFAIL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@neutral.example"), MAUTH_NEUTRAL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@empty.example"), MAUTH_NEUTRAL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@redir.example"), MAUTH_SOFTFAIL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@redir-none.example"), MAUTH_PERMERROR);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@inc-none.example"), MAUTH_PERMERROR);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@inc-temp.example"), MAUTH_TEMPERROR);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@syntax.example"), MAUTH_PERMERROR);
	assert_int_equal(SPF(t2, "192.0.2.1", "bob+x@exists.example"), MAUTH_PASS);
	assert_int_equal(SPF(t2, "192.0.2.9", "bob@exists.example"), MAUTH_FAIL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@void.example"), MAUTH_PERMERROR);
	assert_string_equal(why, "more than 2 void lookups");
	assert_int_equal(SPF(t2, "192.0.2.1", "a@void2.example"), MAUTH_NEUTRAL);
	assert_int_equal(SPF(t2, "192.0.2.1", "a@loop.example"), MAUTH_PERMERROR);
	assert_string_equal(why, "more than 10 DNS lookups");
}

static void spf_lookup_limit(void **state)
{
	(void)state;
	char why[128];
	/* A chain of includes: 10 lookups pass, the 11th is a permerror. */
	const struct fake_rr chain[] = {
		{MAUTH_TXT, "c0.example", MAUTH_DNS_OK, {"v=spf1 include:c1.example", NULL}},
		{MAUTH_TXT, "c1.example", MAUTH_DNS_OK, {"v=spf1 include:c2.example", NULL}},
		{MAUTH_TXT, "c2.example", MAUTH_DNS_OK, {"v=spf1 include:c3.example", NULL}},
		{MAUTH_TXT, "c3.example", MAUTH_DNS_OK, {"v=spf1 include:c4.example", NULL}},
		{MAUTH_TXT, "c4.example", MAUTH_DNS_OK, {"v=spf1 include:c5.example", NULL}},
		{MAUTH_TXT, "c5.example", MAUTH_DNS_OK, {"v=spf1 include:c6.example", NULL}},
		{MAUTH_TXT, "c6.example", MAUTH_DNS_OK, {"v=spf1 include:c7.example", NULL}},
		{MAUTH_TXT, "c7.example", MAUTH_DNS_OK, {"v=spf1 include:c8.example", NULL}},
		{MAUTH_TXT, "c8.example", MAUTH_DNS_OK, {"v=spf1 include:c9.example", NULL}},
		{MAUTH_TXT, "c9.example", MAUTH_DNS_OK, {"v=spf1 include:c10.example", NULL}},
		{MAUTH_TXT, "c10.example", MAUTH_DNS_OK, {"v=spf1 +all", NULL}},
		{MAUTH_TXT, "d0.example", MAUTH_DNS_OK, {"v=spf1 include:c0.example", NULL}},
	};
	assert_int_equal(SPF(chain, "192.0.2.1", "a@c0.example"), MAUTH_PASS);
	assert_int_equal(SPF(chain, "192.0.2.1", "a@d0.example"), MAUTH_PERMERROR);
	assert_string_equal(why, "more than 10 DNS lookups");
}

/* ---- DMARC ---- */

static void dmarc_records(void **state)
{
	(void)state;
	struct dmarc_record r;
	ik_err e;
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; sp=none; adkim=s; pct=50; "
					    "rua=mailto:d@example.com", &r, &e), 0);
	assert_int_equal(r.p, DMARC_P_REJECT);
	assert_true(r.has_sp);
	assert_int_equal(r.sp, DMARC_P_NONE);
	assert_true(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_int_equal(r.pct, 50);
	assert_int_equal(dmarc_record_parse("p=reject; v=DMARC1", &r, &e), -1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=bogus", &r, &e), -1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=bogus; rua=mailto:x@y", &r, &e), 0);
	assert_int_equal(r.p, DMARC_P_NONE);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; pct=101", &r, &e), -1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; aspf=x", &r, &e), -1);
	char o[64];
	assert_int_equal(mauth_org_domain("a.b.example.com", o, sizeof o), 0);
	assert_string_equal(o, "example.com");
	assert_int_equal(mauth_org_domain("mail.example.co.uk", o, sizeof o), 0);
	assert_string_equal(o, "example.co.uk");
	assert_int_equal(mauth_org_domain("Example.COM.", o, sizeof o), 0);
	assert_string_equal(o, "example.com");
	assert_int_equal(mauth_org_domain("com", o, sizeof o), 0);
	assert_string_equal(o, "com");
	assert_true(dmarc_aligned("mail.example.com", "example.com", false));
	assert_false(dmarc_aligned("mail.example.com", "example.com", true));
	assert_true(dmarc_aligned("Example.com", "example.COM", true));
	assert_false(dmarc_aligned("example.net", "example.com", false));
	assert_false(dmarc_aligned("", "example.com", false));
}

static void dmarc_policies(void **state)
{
	(void)state;
	const struct fake_rr tab[] = {
		{MAUTH_TXT, "_dmarc.example.com", MAUTH_DNS_OK,
		 {"v=DMARC1; p=reject; sp=quarantine; aspf=s", NULL}},
		{MAUTH_TXT, "_dmarc.half.example", MAUTH_DNS_OK, {"v=DMARC1; p=reject; pct=50", NULL}},
		{MAUTH_TXT, "_dmarc.temp.example", MAUTH_DNS_TEMP, {NULL}},
	};
	struct mauth_cache c;
	struct mauth_result r;
	struct {
		const char *from, *spf_domain;
		enum mauth_res spf, want;
		enum dmarc_policy pol;
		unsigned draw;
		bool reject;
	} cases[] = {
		{"example.com", "example.com", MAUTH_PASS, MAUTH_PASS, DMARC_P_REJECT, 0, false},
		{"example.com", "mail.example.com", MAUTH_PASS, MAUTH_FAIL, DMARC_P_REJECT, 0, true},
		{"example.com", "example.com", MAUTH_SOFTFAIL, MAUTH_FAIL, DMARC_P_REJECT, 99, true},
		{"sub.example.com", "x.example", MAUTH_PASS, MAUTH_FAIL, DMARC_P_QUARANTINE, 0, false},
		{"half.example", "x.example", MAUTH_PASS, MAUTH_FAIL, DMARC_P_REJECT, 49, true},
		{"half.example", "x.example", MAUTH_PASS, MAUTH_FAIL, DMARC_P_REJECT, 50, false},
		{"none.example", "none.example", MAUTH_FAIL, MAUTH_NONE, DMARC_P_NONE, 0, false},
		{"temp.example", "x.example", MAUTH_FAIL, MAUTH_TEMPERROR, DMARC_P_NONE, 0, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&c, 0, sizeof c);
		memset(&r, 0, sizeof r);
		str_copy(r.from_domain, sizeof r.from_domain, cases[i].from);
		str_copy(r.spf_domain, sizeof r.spf_domain, cases[i].spf_domain);
		r.spf = cases[i].spf;
		int rc;
		for (int pass = 0; (rc = dmarc_eval(&c, &r, cases[i].draw)) < 0; pass++) {
			assert_true(pass < 5);
			for (size_t k = 0; k < c.n; k++) {
				if (c.e[k].answered)
					continue;
				const struct fake_rr *f = &nx;
				for (size_t t = 0; t < 3; t++)
					if (strcmp(tab[t].name, c.e[k].name) == 0)
						f = &tab[t];
				size_t m = 0;
				while (m < 4 && f->rr[m] != NULL)
					m++;
				struct mauth_dns_answer a = {f->rc, m, f->rr};
				mauth_cache_put(&c, k, &a);
			}
		}
		assert_int_equal(r.dmarc, cases[i].want);
		assert_int_equal(r.policy, cases[i].pol);
		assert_int_equal(r.reject, cases[i].reject);
		mauth_cache_clear(&c);
	}
}

/* ---- the header and the driver ---- */

static void ar_header(void **state)
{
	(void)state;
	struct mauth_result r;
	memset(&r, 0, sizeof r);
	r.spf = MAUTH_PASS;
	str_copy(r.spf_mailfrom, sizeof r.spf_mailfrom, "joe@example.com");
	r.ndkim = 1;
	r.dkim[0].res = MAUTH_FAIL;
	str_copy(r.dkim[0].d, sizeof r.dkim[0].d, "example.com");
	str_copy(r.dkim[0].s, sizeof r.dkim[0].s, "sel");
	str_copy(r.dkim[0].a, sizeof r.dkim[0].a, "rsa-sha256");
	str_copy(r.dkim[0].b8, sizeof r.dkim[0].b8, "abc+/de=");
	str_copy(r.dkim[0].why, sizeof r.dkim[0].why, "body hash did not verify");
	r.dmarc = MAUTH_PASS;
	r.policy = DMARC_P_REJECT;
	str_copy(r.from_domain, sizeof r.from_domain, "example.com");
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(mauth_ar_format("mx.example.org", &r, &b), 0);
	assert_string_equal(b.data,
		"Authentication-Results: mx.example.org;\n"
		"\tspf=pass smtp.mailfrom=joe@example.com;\n"
		"\tdkim=fail (body hash did not verify) header.d=example.com header.s=sel "
		"header.a=rsa-sha256 header.b=\"abc+/de=\";\n"
		"\tdmarc=pass (p=reject) header.from=example.com\n");
	sbuf_reset(&b);
	memset(&r, 0, sizeof r);
	r.spf = MAUTH_NONE;
	r.spf_helo = true;
	str_copy(r.spf_mailfrom, sizeof r.spf_mailfrom, "mx.example.org");
	assert_int_equal(mauth_ar_format("h", &r, &b), 0);
	assert_string_equal(b.data, "Authentication-Results: h;\n\tspf=none smtp.helo=mx.example.org;"
			    "\n\tdkim=none\n");
	sbuf_free(&b);
}

static void check_cancel(void **state)
{
	(void)state;
	const struct fake_rr tab[] = {
		{MAUTH_TXT, "example.com", MAUTH_DNS_OK, {"v=spf1 a mx -all", NULL}},
	};
	struct fake_dns d = {tab, 1, true, {{0}}, 0, 0};
	struct mauth_dns dns = {fake_lookup, &d};
	struct mauth_input in = {"192.0.2.1", "h.example", "a@example.com", NULL, 0};
	struct verdict v = {0};
	struct mauth_check *c;
	ik_err e;
	assert_int_equal(mauth_check_start(&dns, &in, on_done, &v, &c, &e), 0);
	assert_non_null(c);
	assert_int_equal(d.nq, 1);
	mauth_check_cancel(c);
	fake_flush(&d);	/* answered into nothing */
	assert_false(v.called);
	/* And run to the end: TXT, then A, then MX. */
	d.asked = 0;
	assert_int_equal(mauth_check_start(&dns, &in, on_done, &v, &c, &e), 0);
	for (int i = 0; i < 10 && d.nq > 0; i++)
		fake_flush(&d);
	assert_true(v.called);
	assert_int_equal(v.r.spf, MAUTH_FAIL);
	assert_int_equal(d.asked, 3);
	assert_int_equal(v.r.ndkim, 0);
	assert_string_equal(v.r.from_domain, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tags),
		cmocka_unit_test(canon_rfc6376),
		cmocka_unit_test(strip_b),
		cmocka_unit_test(from_domain),
		cmocka_unit_test(dkim_roundtrip),
		cmocka_unit_test(dkim_tampered),
		cmocka_unit_test(dkim_bad_sigs),
		cmocka_unit_test(key_records),
		cmocka_unit_test(rfc8463_example),
		cmocka_unit_test(spf_macros),
		cmocka_unit_test(spf_parse),
		cmocka_unit_test(spf_results),
		cmocka_unit_test(spf_lookup_limit),
		cmocka_unit_test(dmarc_records),
		cmocka_unit_test(dmarc_policies),
		cmocka_unit_test(ar_header),
		cmocka_unit_test(check_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
