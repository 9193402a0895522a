/* DMARC (RFC 7489): the record (6.3), its discovery at _dmarc.FROM then at
 * the organizational domain (6.6.3), identifier alignment (3.1), and which
 * policy applies (p, or sp for a subdomain; pct). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

static int policy_word(const char *w, enum dmarc_policy *p)
{
	if (strcasecmp(w, "none") == 0)
		*p = DMARC_P_NONE;
	else if (strcasecmp(w, "quarantine") == 0)
		*p = DMARC_P_QUARANTINE;
	else if (strcasecmp(w, "reject") == 0)
		*p = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

static int align_word(const char *w, bool *strict)
{
	if (w == NULL)
		return 0;
	if (strcasecmp(w, "s") == 0)
		*strict = true;
	else if (strcasecmp(w, "r") != 0)
		return -1;
	return 0;
}

int dmarc_record_parse(const char *txt, struct dmarc_record *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	r->pct = 100;
	struct mauth_tags t;
	if (mauth_tags_parse(txt, strlen(txt), &t, e) < 0)
		return -1;
	int rc = -1;
	const char *p = mauth_tags_get(&t, "p"), *sp = mauth_tags_get(&t, "sp");
	const char *pct = mauth_tags_get(&t, "pct");
	uint64_t v = 100;
	if (t.n == 0 || strcmp(t.t[0].name, "v") != 0 || strcmp(t.t[0].val, "DMARC1") != 0) {
		ik_err_set(e, "DMARC: the record must start with v=DMARC1");
	} else if (p == NULL || policy_word(p, &r->p) < 0) {
		/* RFC 7489 6.6.3: with a report address, a bad or missing p is
		 * taken as none; without one the record is ignored. */
		if (mauth_tags_get(&t, "rua") != NULL) {
			r->p = DMARC_P_NONE;
			rc = 0;
		} else {
			ik_err_set(e, "DMARC: no valid p=");
		}
	} else {
		rc = 0;
	}
	if (rc == 0 && sp != NULL) {
		r->has_sp = policy_word(sp, &r->sp) == 0;
	}
	if (rc == 0 && (align_word(mauth_tags_get(&t, "adkim"), &r->adkim_strict) < 0 ||
			align_word(mauth_tags_get(&t, "aspf"), &r->aspf_strict) < 0))
		rc = ik_err_set(e, "DMARC: adkim= and aspf= are r or s");
	if (rc == 0 && pct != NULL && str_to_u64(pct, 100, &v) < 0)
		rc = ik_err_set(e, "DMARC: pct= is 0 to 100");
	r->pct = (unsigned)v;
	mauth_tags_free(&t);
	return rc;
}

/* ---- the organizational domain ---- */

/* Second-level labels under which country registries sell names. */
static const char *const registry_sld[] = {
	"ac", "co", "com", "edu", "gov", "gob", "go", "ltd", "me", "mil", "ne", "net", "nic",
	"or", "org", "plc", "sch", "nhs", "police", "info", "biz",
};

int mauth_org_domain(const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);
	while (n > 0 && name[n - 1] == '.')
		n--;
	/* Find the starts of the last three labels. */
	size_t starts[3] = {0, 0, 0};
	size_t nl = 0;
	for (size_t i = n; i-- > 0;) {
		if (i == 0 || name[i - 1] == '.') {
			if (nl < 3)
				starts[nl] = i;
			nl++;
			if (nl == 3)
				break;
		}
	}
	size_t keep = nl >= 2 ? 1 : 0;	/* index into starts: two labels */
	if (nl >= 3) {
		size_t tld = n - starts[0];
		size_t sld = starts[0] - 1 - starts[1];
		if (tld == 2)
			for (size_t k = 0; k < sizeof registry_sld / sizeof registry_sld[0]; k++)
				if (strlen(registry_sld[k]) == sld &&
				    strncasecmp(name + starts[1], registry_sld[k], sld) == 0)
					keep = 2;
	}
	size_t s = nl == 0 ? 0 : starts[keep];
	if (n - s >= outsz)
		return -1;
	for (size_t i = s; i < n; i++)
		out[i - s] = (char)tolower((unsigned char)name[i]);
	out[n - s] = '\0';
	return 0;
}

bool dmarc_aligned(const char *a, const char *b, bool strict)
{
	if (a[0] == '\0' || b[0] == '\0')
		return false;
	if (strict)
		return strcasecmp(a, b) == 0;
	char oa[MAUTH_DOMAIN_MAX], ob[MAUTH_DOMAIN_MAX];
	return mauth_org_domain(a, oa, sizeof oa) == 0 && mauth_org_domain(b, ob, sizeof ob) == 0 &&
	       strcmp(oa, ob) == 0;
}

/* The one DMARC record at _dmarc.domain: 1 found, 0 none, -1 pending,
 * -2 temporary failure. */
static int find_record(struct mauth_cache *c, const char *domain, struct dmarc_record *rec)
{
	char name[MAUTH_DOMAIN_MAX + 8];
	if (str_fmt(name, sizeof name, "_dmarc.%s", domain) < 0)
		return 0;
	struct mauth_dns_answer tmp;
	const struct mauth_dns_answer *a = mauth_cache_get(c, MAUTH_TXT, name, &tmp);
	if (a == NULL)
		return -1;
	if (a->rc == MAUTH_DNS_TEMP)
		return -2;
	size_t found = 0;
	for (size_t i = 0; a->rc == MAUTH_DNS_OK && i < a->n; i++) {
		struct dmarc_record r;
		if (strncmp(a->rr[i], "v=DMARC1", 8) != 0 || dmarc_record_parse(a->rr[i], &r, NULL) < 0)
			continue;
		*rec = r;
		found++;
	}
	return found == 1 ? 1 : 0;	/* RFC 7489 6.6.3: more than one is none */
}

int dmarc_eval(struct mauth_cache *c, struct mauth_result *r, unsigned pct_draw)
{
	r->dmarc = MAUTH_NONE;
	r->reject = false;
	r->policy = DMARC_P_NONE;
	if (r->from_domain[0] == '\0')
		return 0;
	struct dmarc_record rec;
	bool at_org = false;
	int f = find_record(c, r->from_domain, &rec);
	if (f == 0) {
		char org[MAUTH_DOMAIN_MAX];
		if (mauth_org_domain(r->from_domain, org, sizeof org) == 0 &&
		    strcmp(org, r->from_domain) != 0) {
			f = find_record(c, org, &rec);
			at_org = true;
		}
	}
	if (f == -1)
		return -1;
	if (f == -2) {
		r->dmarc = MAUTH_TEMPERROR;
		return 0;
	}
	if (f == 0)
		return 0;
	r->policy = at_org && rec.has_sp ? rec.sp : rec.p;
	bool pass = r->spf == MAUTH_PASS &&
		    dmarc_aligned(r->spf_domain, r->from_domain, rec.aspf_strict);
	for (size_t i = 0; i < r->ndkim && !pass; i++)
		pass = r->dkim[i].res == MAUTH_PASS &&
		       dmarc_aligned(r->dkim[i].d, r->from_domain, rec.adkim_strict);
	r->dmarc = pass ? MAUTH_PASS : MAUTH_FAIL;
	r->reject = !pass && r->policy == DMARC_P_REJECT && pct_draw < rec.pct;
	return 0;
}
