/* DKIM verification (RFC 6376 6): each DKIM-Signature field is parsed and
 * its hashes computed once, off the loop (mauth_msg_prepare); the key
 * lookup and the signature check come later, when the key record is in.
 * rsa-sha1 is refused (RFC 8301 3.1). */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

struct mauth_msg {
	char from_domain[MAUTH_DOMAIN_MAX];
	struct dkim_pending sig[MAUTH_DKIM_MAX_SIGS];
	size_t nsig;
};

static void decide(struct dkim_pending *p, enum mauth_res r, const char *why)
{
	p->r.res = r;
	str_copy(p->r.why, sizeof p->r.why, why);
	p->done = true;
}

/* A domain name or selector as DKIM allows (RFC 6376 3.5: labels of
 * letters, digits, '-', '_'); lower-cased copy into out. */
static int dns_label_copy(const char *s, char *out, size_t outsz)
{
	size_t n = strlen(s);
	if (n == 0 || n >= outsz || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

/* Whether the colon-separated list names from. */
static bool lists_from(const char *hl)
{
	const char *p = hl;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		const char *s = p;
		while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (p - s == 4 && strncasecmp(s, "from", 4) == 0)
			return true;
		while (*p && *p != ':')
			p++;
		if (*p == ':')
			p++;
	}
	return false;
}

/* RFC 6376 3.5 (i=): the AUID's domain is d or a subdomain of it. */
static bool auid_in_domain(const char *auid, const char *d)
{
	const char *at = strrchr(auid, '@');
	const char *ad = at != NULL ? at + 1 : auid;
	size_t an = strlen(ad), dn = strlen(d);
	if (an < dn || strcasecmp(ad + an - dn, d) != 0)
		return false;
	return an == dn || ad[an - dn - 1] == '.';
}

void dkim_prepare_sig(const struct mauth_header *h, size_t fi, int64_t now, struct dkim_pending *p)
{
	memset(p, 0, sizeof *p);
	const struct mauth_field *f = &h->f[fi];
	const char *colon = memchr(f->p, ':', f->len);
	struct mauth_tags t;
	ik_err e;
	if (colon == NULL ||
	    mauth_tags_parse(colon + 1, f->len - (size_t)(colon + 1 - f->p), &t, &e) < 0) {
		decide(p, MAUTH_PERMERROR, "signature syntax");
		return;
	}
	const char *v = mauth_tags_get(&t, "v"), *a = mauth_tags_get(&t, "a");
	const char *b = mauth_tags_get(&t, "b"), *bh = mauth_tags_get(&t, "bh");
	const char *d = mauth_tags_get(&t, "d"), *hl = mauth_tags_get(&t, "h");
	const char *s = mauth_tags_get(&t, "s"), *c = mauth_tags_get(&t, "c");
	const char *l = mauth_tags_get(&t, "l"), *x = mauth_tags_get(&t, "x");
	const char *q = mauth_tags_get(&t, "q"), *ai = mauth_tags_get(&t, "i");
	if (d != NULL && dns_label_copy(d, p->r.d, sizeof p->r.d) < 0)
		p->r.d[0] = '\0';
	if (s != NULL && dns_label_copy(s, p->r.s, sizeof p->r.s) < 0)
		p->r.s[0] = '\0';
	if (a != NULL)
		str_copy(p->r.a, sizeof p->r.a, a);
	if (b != NULL) {
		size_t k = 0;
		for (const char *z = b; *z && k < 8; z++)
			if (!isspace((unsigned char)*z))
				p->r.b8[k++] = *z;
		p->r.b8[k] = '\0';
	}
	enum dkim_canon hc, bc;
	uint64_t limit = UINT64_MAX, exp = 0;
	unsigned char want[32], got[32];
	size_t wantlen = 0;
	unsigned char *bhraw = NULL;
	if (v == NULL || strcmp(v, "1") != 0 || a == NULL || b == NULL || bh == NULL ||
	    d == NULL || hl == NULL || s == NULL) {
		decide(p, MAUTH_PERMERROR, "signature lacks a required tag");
	} else if (p->r.d[0] == '\0' || p->r.s[0] == '\0') {
		decide(p, MAUTH_PERMERROR, "bad d= or s=");
	} else if (strcmp(a, "rsa-sha256") == 0) {
		p->alg = DKIM_RSA_SHA256;
	} else if (strcmp(a, "ed25519-sha256") == 0) {
		p->alg = DKIM_ED25519_SHA256;
	} else {
		decide(p, MAUTH_PERMERROR, strcmp(a, "rsa-sha1") == 0 ? "rsa-sha1 is not accepted"
		       : "unknown algorithm");
	}
	if (p->done)
		goto out;
	if (dkim_canon_parse(c, &hc, &bc) < 0)
		decide(p, MAUTH_PERMERROR, "bad c=");
	else if (q != NULL && strncmp(q, "dns/txt", 7) != 0)
		decide(p, MAUTH_PERMERROR, "unknown q=");
	else if (!lists_from(hl))
		decide(p, MAUTH_PERMERROR, "h= does not sign From");
	else if (ai != NULL && !auid_in_domain(ai, p->r.d))
		decide(p, MAUTH_PERMERROR, "i= is not within d=");
	else if (l != NULL && str_to_u64(l, UINT64_MAX, &limit) < 0)
		decide(p, MAUTH_PERMERROR, "bad l=");
	else if (x != NULL && str_to_u64(x, UINT64_MAX, &exp) < 0)
		decide(p, MAUTH_PERMERROR, "bad x=");
	else if (x != NULL && now > 0 && exp < (uint64_t)now)
		decide(p, MAUTH_FAIL, "signature expired");
	else if ((bhraw = mauth_b64_decode(bh, &wantlen)) == NULL || wantlen != 32)
		decide(p, MAUTH_PERMERROR, "bad bh=");
	else if ((p->sig = mauth_b64_decode(b, &p->siglen)) == NULL || p->siglen == 0)
		decide(p, MAUTH_PERMERROR, "bad b=");
	if (p->done)
		goto out;
	memcpy(want, bhraw, 32);
	struct dkim_body_hash bhc;
	if (dkim_bh_init(&bhc, bc, limit) < 0) {
		decide(p, MAUTH_TEMPERROR, "out of memory");
		goto out;
	}
	dkim_bh_update(&bhc, h->body, h->bodylen);
	uint64_t total = bhc.total + (bc == DKIM_SIMPLE && !bhc.any ? 2 : 0);
	if (dkim_bh_final(&bhc, got) < 0) {
		decide(p, MAUTH_TEMPERROR, "hash failed");
		goto out;
	}
	if (limit != UINT64_MAX && total < limit) {
		decide(p, MAUTH_PERMERROR, "l= is longer than the body");
		goto out;
	}
	if (memcmp(want, got, 32) != 0) {
		decide(p, MAUTH_FAIL, "body hash did not verify");
		goto out;
	}
	size_t slen = 0;
	char *stripped = dkim_strip_b(f->p, f->len, &slen);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (stripped == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    dkim_hash_fields(md, hc, h, hl) < 0 ||
	    dkim_hash_field(md, hc, stripped, slen, false) < 0 ||
	    EVP_DigestFinal_ex(md, p->hdr_digest, NULL) != 1)
		decide(p, MAUTH_TEMPERROR, "header hash failed");
	EVP_MD_CTX_free(md);
	free(stripped);
	if (p->done)
		goto out;
	size_t kn = strlen(p->r.s) + strlen(p->r.d) + 13;
	if ((p->keyname = malloc(kn)) == NULL ||
	    str_fmt(p->keyname, kn, "%s._domainkey.%s", p->r.s, p->r.d) < 0 || kn > 254)
		decide(p, MAUTH_PERMERROR, "key name too long");
out:
	free(bhraw);
	mauth_tags_free(&t);
}

void dkim_pending_clear(struct dkim_pending *p)
{
	free(p->sig);
	free(p->keyname);
	p->sig = NULL;
	p->keyname = NULL;
}

static bool verify_with(EVP_PKEY *pk, const struct dkim_pending *p)
{
	bool ok;
	if (p->alg == DKIM_ED25519_SHA256) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(md, p->sig, p->siglen, p->hdr_digest, 32) == 1;
		EVP_MD_CTX_free(md);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
		ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		     EVP_PKEY_verify(ctx, p->sig, p->siglen, p->hdr_digest, 32) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	return ok;
}

void dkim_check_key(struct dkim_pending *p, const struct mauth_dns_answer *a)
{
	if (a->rc == MAUTH_DNS_TEMP) {
		decide(p, MAUTH_TEMPERROR, "key lookup failed");
		return;
	}
	if (a->rc == MAUTH_DNS_NXDOMAIN || a->n == 0) {
		decide(p, MAUTH_PERMERROR, "no key for signature");
		return;
	}
	char why[64] = "";
	for (size_t i = 0; i < a->n; i++) {
		EVP_PKEY *pk = dkim_key_record_parse(a->rr[i], p->alg, why, sizeof why);
		if (pk == NULL)
			continue;
		bool ok = verify_with(pk, p);
		EVP_PKEY_free(pk);
		if (ok)
			decide(p, MAUTH_PASS, "");
		else
			decide(p, MAUTH_FAIL, "signature did not verify");
		return;
	}
	decide(p, MAUTH_PERMERROR, why);
}

struct mauth_msg *mauth_msg_prepare(const char *msg, size_t len, ik_err *e)
{
	struct mauth_msg *m = calloc(1, sizeof *m);
	struct mauth_header h;
	if (m == NULL || mauth_header_split(msg, len, &h) < 0) {
		free(m);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	if (mauth_from_domain(msg, len, m->from_domain, sizeof m->from_domain) < 0)
		m->from_domain[0] = '\0';
	for (size_t i = 0; i < h.n && m->nsig < MAUTH_DKIM_MAX_SIGS; i++)
		if (mauth_field_is(&h.f[i], "dkim-signature"))
			dkim_prepare_sig(&h, i, (int64_t)time(NULL), &m->sig[m->nsig++]);
	mauth_header_free(&h);
	return m;
}

void mauth_msg_free(struct mauth_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nsig; i++)
		dkim_pending_clear(&m->sig[i]);
	free(m);
}

/* For the check driver (mauth_check.c). */
const char *mauth_msg_from_domain(const struct mauth_msg *m)
{
	return m->from_domain;
}

size_t mauth_msg_nsig(const struct mauth_msg *m)
{
	return m->nsig;
}

const struct dkim_pending *mauth_msg_sig(const struct mauth_msg *m, size_t i)
{
	return &m->sig[i];
}
