/* SPF evaluation: check_host() (RFC 7208 4), over the DNS answer cache.
 * Limits of 4.6.4: at most 10 terms that cause DNS lookups (include, a,
 * mx, ptr, exists, redirect), at most 10 MX names looked at per mx, at
 * most 2 void lookups (no such name, or no answer); past them, permerror.
 * ptr is never matched (RFC 7208 5.5 says not to use it; this resolver
 * interface has no PTR), but it counts as a lookup. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_MX 10
#define SPF_PENDING (-1)

struct spf_state {
	struct mauth_cache *c;
	const struct spf_ctx *x;
	unsigned lookups, voids;
	char *why;
	size_t whysz;
};

static int fail_with(struct spf_state *st, int res, const char *why)
{
	if (st->why != NULL && st->why[0] == '\0')
		str_copy(st->why, st->whysz, why);
	return res;
}

/* RFC 7208 4.3: a name that is not a valid FQDN gives "none". */
static bool valid_domain(const char *d)
{
	size_t n = strlen(d), label = 0;
	if (n == 0 || n > 253 || strchr(d, '.') == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '.') {
			if (label == 0 && i != n - 1)
				return false;
			label = 0;
		} else if (++label > 63 || (unsigned char)d[i] <= 0x20) {
			return false;
		}
	}
	return true;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Whether one of the address answers is within the CIDR of the client. */
static bool addr_match(const struct spf_state *st, const struct mauth_dns_answer *a, int c4,
		       int c6)
{
	const struct spf_ctx *x = st->x;
	for (size_t i = 0; i < a->n; i++) {
		unsigned char ip[16];
		if (inet_pton(x->v6 ? AF_INET6 : AF_INET, a->rr[i], ip) == 1 &&
		    prefix_match(ip, x->ip, x->v6 ? c6 : c4))
			return true;
	}
	return false;
}

static int count_lookup(struct spf_state *st)
{
	if (++st->lookups > SPF_MAX_LOOKUPS)
		return fail_with(st, MAUTH_PERMERROR, "more than 10 DNS lookups");
	return 0;
}

/* A lookup's answer: NULL and *res set when it decides the result (pending,
 * temperror, or too many void lookups). */
static const struct mauth_dns_answer *look(struct spf_state *st, enum mauth_rr type,
					   const char *name, struct mauth_dns_answer *tmp,
					   int *res, bool *isvoid)
{
	const struct mauth_dns_answer *a = mauth_cache_get(st->c, type, name, tmp);
	*isvoid = false;
	if (a == NULL) {
		*res = SPF_PENDING;
		return NULL;
	}
	if (a->rc == MAUTH_DNS_TEMP) {
		*res = fail_with(st, MAUTH_TEMPERROR, "DNS lookup failed");
		return NULL;
	}
	if (a->rc == MAUTH_DNS_NXDOMAIN || a->n == 0) {
		*isvoid = true;
		if (++st->voids > SPF_MAX_VOID) {
			*res = fail_with(st, MAUTH_PERMERROR, "more than 2 void lookups");
			return NULL;
		}
	}
	return a;
}

static int check_host(struct spf_state *st, const char *domain, unsigned depth);

/* Whether term t matches (1) or not (0); -2 when evaluation stops here
 * with *res (pending, temperror, permerror). */
static int term_match(struct spf_state *st, const struct spf_term *t, const char *domain,
		      unsigned depth, int *res)
{
	const struct spf_ctx *x = st->x;
	char target[300];
	struct mauth_dns_answer tmp;
	bool isvoid;
	enum mauth_rr atype = x->v6 ? MAUTH_AAAA : MAUTH_A;
	if (t->mech != SPF_ALL && t->mech != SPF_IP4 && t->mech != SPF_IP6) {
		if (t->mech != SPF_PTR && t->mech != SPF_EXISTS && t->mech != SPF_INCLUDE &&
		    t->arg == NULL) {
			str_copy(target, sizeof target, domain);
		} else if (t->arg != NULL &&
			   spf_macro_expand(x, domain, t->arg, target, sizeof target) < 0) {
			*res = fail_with(st, MAUTH_PERMERROR, "bad macro");
			return -2;
		}
		if ((*res = count_lookup(st)) != 0)
			return -2;
	}
	switch (t->mech) {
	case SPF_ALL:
		return 1;
	case SPF_IP4:
		return !x->v6 && prefix_match(t->ip, x->ip, t->cidr4);
	case SPF_IP6:
		return x->v6 && prefix_match(t->ip, x->ip, t->cidr6);
	case SPF_PTR:
		return 0;
	case SPF_INCLUDE: {
		int r = check_host(st, target, depth + 1);
		if (r == SPF_PENDING || r == MAUTH_TEMPERROR) {
			*res = r;
			return -2;
		}
		if (r == MAUTH_PERMERROR || r == MAUTH_NONE) {
			*res = fail_with(st, MAUTH_PERMERROR, "include of a domain without SPF");
			return -2;
		}
		return r == MAUTH_PASS;
	}
	case SPF_EXISTS: {
		const struct mauth_dns_answer *a = look(st, MAUTH_A, target, &tmp, res, &isvoid);
		if (a == NULL)
			return -2;
		return !isvoid;
	}
	case SPF_A: {
		const struct mauth_dns_answer *a = look(st, atype, target, &tmp, res, &isvoid);
		if (a == NULL)
			return -2;
		return addr_match(st, a, t->cidr4, t->cidr6);
	}
	case SPF_MX: {
		const struct mauth_dns_answer *a = look(st, MAUTH_MX, target, &tmp, res, &isvoid);
		if (a == NULL)
			return -2;
		if (a->n > SPF_MAX_MX) {
			*res = fail_with(st, MAUTH_PERMERROR, "more than 10 MX names");
			return -2;
		}
		/* Copy the names: the cache may grow while they are looked up. */
		char names[SPF_MAX_MX][256];
		size_t n = a->n;
		for (size_t i = 0; i < n; i++)
			str_copy(names[i], sizeof names[i], a->rr[i]);
		for (size_t i = 0; i < n; i++) {
			const struct mauth_dns_answer *b =
				look(st, atype, names[i], &tmp, res, &isvoid);
			if (b == NULL)
				return -2;
			if (addr_match(st, b, t->cidr4, t->cidr6))
				return 1;
		}
		return 0;
	}
	}
	return 0;
}

static int qual_result(char q)
{
	switch (q) {
	case '-':
		return MAUTH_FAIL;
	case '~':
		return MAUTH_SOFTFAIL;
	case '?':
		return MAUTH_NEUTRAL;
	default:
		return MAUTH_PASS;
	}
}

static int check_host(struct spf_state *st, const char *domain, unsigned depth)
{
	if (!valid_domain(domain))
		return fail_with(st, MAUTH_NONE, "no valid domain");
	if (depth > SPF_MAX_LOOKUPS)
		return fail_with(st, MAUTH_PERMERROR, "include loop");
	struct mauth_dns_answer tmp;
	const struct mauth_dns_answer *a = mauth_cache_get(st->c, MAUTH_TXT, domain, &tmp);
	if (a == NULL)
		return SPF_PENDING;
	if (a->rc == MAUTH_DNS_TEMP)
		return fail_with(st, MAUTH_TEMPERROR, "DNS lookup of the SPF record failed");
	const char *rec = NULL;
	size_t nrec = 0;
	for (size_t i = 0; a->rc == MAUTH_DNS_OK && i < a->n; i++)
		if (spf_is_record(a->rr[i])) {
			rec = a->rr[i];
			nrec++;
		}
	if (nrec == 0)
		return fail_with(st, MAUTH_NONE, "no SPF record");
	if (nrec > 1)
		return fail_with(st, MAUTH_PERMERROR, "more than one SPF record");
	struct spf_record *r = malloc(sizeof *r);
	ik_err e;
	if (r == NULL)
		return fail_with(st, MAUTH_TEMPERROR, "out of memory");
	if (spf_record_parse(rec, r, &e) < 0) {
		free(r);
		return fail_with(st, MAUTH_PERMERROR, "SPF record syntax");
	}
	int res = MAUTH_NEUTRAL;
	bool decided = false;
	for (size_t i = 0; i < r->n && !decided; i++) {
		int m = term_match(st, &r->t[i], domain, depth, &res);
		if (m == -2 || m == 1) {
			decided = true;
			if (m == 1)
				res = qual_result(r->t[i].qual);
		}
	}
	if (!decided && r->redirect != NULL) {
		char target[300];
		if (spf_macro_expand(st->x, domain, r->redirect, target, sizeof target) < 0) {
			res = fail_with(st, MAUTH_PERMERROR, "bad macro");
		} else if ((res = count_lookup(st)) == 0) {
			res = check_host(st, target, depth + 1);
			if (res == MAUTH_NONE)
				res = fail_with(st, MAUTH_PERMERROR, "redirect to a domain without SPF");
		}
	}
	spf_record_free(r);
	free(r);
	return res;
}

int spf_eval(struct mauth_cache *c, const struct spf_ctx *x, const char *domain, char *why,
	     size_t whysz)
{
	struct spf_state st = {.c = c, .x = x, .why = why, .whysz = whysz};
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	return check_host(&st, domain, 0);
}

int spf_ctx_init(struct spf_ctx *x, const char *ip, const char *helo, const char *mail_from,
		 char *domain, size_t domsz, bool *helo_id)
{
	memset(x, 0, sizeof *x);
	x->helo = helo;
	if (inet_pton(AF_INET, ip, x->ip) == 1) {
		x->v6 = false;
	} else if (inet_pton(AF_INET6, ip, x->ip) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		x->v6 = memcmp(x->ip, mapped, 12) != 0;
		if (!x->v6)
			memmove(x->ip, x->ip + 12, 4);
	} else {
		return -1;
	}
	inet_ntop(x->v6 ? AF_INET6 : AF_INET, x->ip, x->ipstr, sizeof x->ipstr);
	const char *at = strrchr(mail_from, '@');
	*helo_id = mail_from[0] == '\0' || at == NULL;
	/* RFC 7208 2.4: with MAIL FROM <>, the HELO name is checked as
	 * postmaster@helo. */
	if (*helo_id) {
		str_fmt(x->sender, sizeof x->sender, "postmaster@%s", helo);
		str_copy(domain, domsz, helo);
	} else {
		str_copy(x->sender, sizeof x->sender, mail_from);
		str_copy(domain, domsz, at + 1);
	}
	for (char *p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}
