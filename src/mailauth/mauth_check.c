/* The inbound check: SPF, DKIM and DMARC run as plain functions over a
 * cache of DNS answers; what a run lacks is asked of the resolver, and the
 * run is repeated once every answer asked for is in. Also the cache itself
 * and the Authentication-Results header (RFC 8601). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

/* ---- the cache ---- */

static void norm_name(const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);
	while (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= outsz)
		n = outsz - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
}

static void answer_of(const struct mauth_cache_ent *e, struct mauth_dns_answer *a)
{
	a->rc = e->rc;
	a->n = e->n;
	a->rr = (const char *const *)e->rr;
}

const struct mauth_dns_answer *mauth_cache_get(struct mauth_cache *c, enum mauth_rr type,
					       const char *name, struct mauth_dns_answer *tmp)
{
	char key[300];
	norm_name(name, key, sizeof key);
	for (size_t i = 0; i < c->n; i++) {
		struct mauth_cache_ent *e = &c->e[i];
		if (e->type != type || strcmp(e->name, key) != 0)
			continue;
		if (!e->answered) {
			c->missing = true;
			return NULL;
		}
		answer_of(e, tmp);
		return tmp;
	}
	if (c->n == MAUTH_CACHE_MAX || (c->e[c->n].name = strdup(key)) == NULL) {
		/* No room: answer "try later" so that every check ends. */
		c->full = true;
		tmp->rc = MAUTH_DNS_TEMP;
		tmp->n = 0;
		tmp->rr = NULL;
		return tmp;
	}
	struct mauth_cache_ent *e = &c->e[c->n++];
	e->type = type;
	e->answered = e->asked = false;
	e->rr = NULL;
	e->n = 0;
	c->missing = true;
	return NULL;
}

int mauth_cache_put(struct mauth_cache *c, size_t idx, const struct mauth_dns_answer *a)
{
	struct mauth_cache_ent *e = &c->e[idx];
	e->answered = true;
	e->rc = a->rc;
	e->n = 0;
	if (a->rc != MAUTH_DNS_OK || a->n == 0)
		return 0;
	size_t n = a->n < 64 ? a->n : 64;	/* more than anything here needs */
	if ((e->rr = calloc(n, sizeof *e->rr)) == NULL) {
		e->rc = MAUTH_DNS_TEMP;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((e->rr[i] = strdup(a->rr[i] != NULL ? a->rr[i] : "")) == NULL) {
			e->rc = MAUTH_DNS_TEMP;
			return -1;
		}
		e->n++;
	}
	return 0;
}

void mauth_cache_clear(struct mauth_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->e[i].n; k++)
			free(c->e[i].rr[k]);
		free(c->e[i].rr);
		free(c->e[i].name);
	}
	c->n = 0;
}

/* ---- the check ---- */

struct lookup_ref {
	struct mauth_check *c;	/* NULL once the check is cancelled */
	size_t idx;
	struct lookup_ref *next;
};

struct mauth_check {
	struct mauth_dns dns;
	char *ip, *helo, *mail_from;
	const struct mauth_msg *msg;
	unsigned pct_draw;
	mauth_check_done done;
	void *arg;
	struct mauth_cache cache;
	struct spf_ctx spf;
	char spf_domain[MAUTH_DOMAIN_MAX];
	bool spf_done;
	struct dkim_pending sig[MAUTH_DKIM_MAX_SIGS];	/* shallow copies of msg's */
	size_t nsig;
	struct mauth_result res;
	struct lookup_ref *refs;	/* lookups under way */
	unsigned outstanding;
	bool running, rerun;
	unsigned runs;
	bool *finished;		/* mauth_check_start's, while it runs */
};

static void check_free(struct mauth_check *c)
{
	mauth_cache_clear(&c->cache);
	free(c->ip);
	free(c->helo);
	free(c->mail_from);
	free(c);
}

/* One pass over the cache: 0 when everything is decided, -1 when an
 * answer is missing. */
static int evaluate(struct mauth_check *c)
{
	bool pending = false;
	struct mauth_result *r = &c->res;
	if (!c->spf_done) {
		int s = spf_eval(&c->cache, &c->spf, c->spf_domain, NULL, 0);
		if (s < 0)
			pending = true;
		else
			r->spf = (enum mauth_res)s;
	}
	for (size_t i = 0; i < c->nsig; i++) {
		struct dkim_pending *p = &c->sig[i];
		if (p->done)
			continue;
		struct mauth_dns_answer tmp;
		const struct mauth_dns_answer *a =
			mauth_cache_get(&c->cache, MAUTH_TXT, p->keyname, &tmp);
		if (a == NULL)
			pending = true;
		else
			dkim_check_key(p, a);
	}
	if (c->msg != NULL && r->from_domain[0] != '\0') {
		/* Asked now, with the others, though decided last. */
		char name[MAUTH_DOMAIN_MAX + 8];
		struct mauth_dns_answer tmp;
		if (str_fmt(name, sizeof name, "_dmarc.%s", r->from_domain) >= 0)
			mauth_cache_get(&c->cache, MAUTH_TXT, name, &tmp);
	}
	if (pending)
		return -1;
	c->spf_done = true;
	r->ndkim = c->nsig;
	for (size_t i = 0; i < c->nsig; i++)
		r->dkim[i] = c->sig[i].r;
	if (c->msg != NULL && dmarc_eval(&c->cache, r, c->pct_draw) < 0)
		return -1;
	return 0;
}

static void on_answer(void *arg, const struct mauth_dns_answer *a);
static void run(struct mauth_check *c);

static void ask_missing(struct mauth_check *c)
{
	for (size_t i = 0; i < c->cache.n; i++) {
		struct mauth_cache_ent *e = &c->cache.e[i];
		if (e->asked || e->answered)
			continue;
		e->asked = true;
		struct lookup_ref *ref = calloc(1, sizeof *ref);
		if (ref != NULL) {
			ref->c = c;
			ref->idx = i;
			ref->next = c->refs;
			c->refs = ref;
			c->outstanding++;
		}
		if (ref == NULL || c->dns.lookup(c->dns.ctx, e->type, e->name, on_answer, ref) < 0) {
			if (ref != NULL) {
				c->refs = ref->next;
				free(ref);
				c->outstanding--;
			}
			struct mauth_dns_answer temp = {MAUTH_DNS_TEMP, 0, NULL};
			mauth_cache_put(&c->cache, i, &temp);
			c->rerun = true;
		}
	}
}

static void finish(struct mauth_check *c)
{
	if (c->finished != NULL)
		*c->finished = true;
	c->done(c->arg, &c->res);
	check_free(c);
}

static void run(struct mauth_check *c)
{
	if (c->running) {
		c->rerun = true;
		return;
	}
	c->running = true;
	for (;;) {
		c->rerun = false;
		/* A bound on passes: every pass adds an answer, and the cache is
		 * bounded; this only guards against a resolver that misbehaves. */
		if (evaluate(c) == 0 || ++c->runs > 2 * MAUTH_CACHE_MAX || c->cache.full) {
			if (c->outstanding == 0) {
				finish(c);
				return;
			}
		}
		ask_missing(c);
		if (!c->rerun)
			break;
	}
	c->running = false;
}

static void on_answer(void *arg, const struct mauth_dns_answer *a)
{
	struct lookup_ref *ref = arg;
	struct mauth_check *c = ref->c;
	if (c == NULL) {
		free(ref);
		return;
	}
	for (struct lookup_ref **pp = &c->refs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ref) {
			*pp = ref->next;
			break;
		}
	mauth_cache_put(&c->cache, ref->idx, a);
	free(ref);
	if (--c->outstanding == 0)
		run(c);
}

int mauth_check_start(const struct mauth_dns *dns, const struct mauth_input *in,
		      mauth_check_done done, void *arg, struct mauth_check **out, ik_err *e)
{
	*out = NULL;
	struct mauth_check *c = calloc(1, sizeof *c);
	if (c == NULL || (c->ip = strdup(in->ip)) == NULL || (c->helo = strdup(in->helo)) == NULL ||
	    (c->mail_from = strdup(in->mail_from)) == NULL) {
		if (c != NULL)
			check_free(c);
		return ik_err_set(e, "out of memory");
	}
	c->dns = *dns;
	c->msg = in->msg;
	c->pct_draw = in->pct_draw;
	c->done = done;
	c->arg = arg;
	struct mauth_result *r = &c->res;
	bool helo_id = false;
	if (spf_ctx_init(&c->spf, c->ip, c->helo, c->mail_from, c->spf_domain,
			 sizeof c->spf_domain, &helo_id) < 0) {
		c->spf_done = true;
		r->spf = MAUTH_NONE;
	}
	str_copy(r->spf_domain, sizeof r->spf_domain, c->spf_domain);
	r->spf_helo = helo_id;
	str_copy(r->spf_mailfrom, sizeof r->spf_mailfrom,
		 helo_id ? c->helo : c->mail_from);
	if (c->msg != NULL) {
		str_copy(r->from_domain, sizeof r->from_domain, mauth_msg_from_domain(c->msg));
		c->nsig = mauth_msg_nsig(c->msg);
		for (size_t i = 0; i < c->nsig; i++)
			c->sig[i] = *mauth_msg_sig(c->msg, i);
	}
	/* A resolver may answer inside lookup(): hold the check open through
	 * the first pass, then let it end (and be freed) if all is answered. */
	bool finished = false;
	c->finished = &finished;
	c->outstanding++;
	run(c);
	if (--c->outstanding == 0)
		run(c);
	if (!finished) {
		c->finished = NULL;
		*out = c;
	}
	return 0;
}

void mauth_check_cancel(struct mauth_check *c)
{
	if (c == NULL)
		return;
	for (struct lookup_ref *r = c->refs; r != NULL; r = r->next)
		r->c = NULL;
	check_free(c);
}
