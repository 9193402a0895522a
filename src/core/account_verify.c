/* Synchronous login verification (see account_verify.h). */
#include "core/account_verify.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/account_hash.h"
#include "core/account_lockout.h"
#include "lib/str.h"

/* Old log rows and counters are removed every this many logins. */
#define PRUNE_EVERY 1000

int64_t account_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct outcome {
	const struct account_policy *p;
	const struct account_query *q;
	struct account_result *r;
	const char *name;		/* as looked up (lower case) */
	const char *peer;
	int64_t now_ms;
	int64_t token_id;		/* app password used, or 0 */
	ik_err *e;
};

static bool is_failure(enum account_status s)
{
	return s == ACCOUNT_UNKNOWN || s == ACCOUNT_BAD_PASSWORD || s == ACCOUNT_WRONG_SERVICE;
}

/* Counters and log, in one write transaction. */
static int record(struct account_store *s, void *arg)
{
	struct outcome *o = arg;
	const struct account_policy *p = o->p;
	char ukey[ACCOUNT_LOCKOUT_KEY_MAX], ikey[ACCOUNT_LOCKOUT_KEY_MAX];
	account_lockout_key(ukey, sizeof ukey, "user", o->name);
	account_lockout_key(ikey, sizeof ikey, "ip", o->peer);
	enum account_status st = o->r->status;
	if (is_failure(st)) {
		if (account_lockout_fail(s, ukey, p->user_failures, p->window_ms, p->lockout_ms,
					 o->now_ms, o->e) < 0 ||
		    account_lockout_fail(s, ikey, p->ip_failures, p->window_ms, p->lockout_ms,
					 o->now_ms, o->e) < 0)
			return -1;
	} else if (st == ACCOUNT_OK && o->r->acct.cls != ACCOUNT_ANON) {
		if (account_lockout_clear(s, ukey, o->e) < 0)
			return -1;
		if (o->token_id != 0 &&
		    account_store_token_used(s, o->token_id, o->now_ms / 1000, o->q->service,
					     o->peer, o->e) < 0)
			return -1;
	}
	struct account_login l;
	memset(&l, 0, sizeof l);
	l.time_ms = o->now_ms;
	str_copy(l.service, sizeof l.service, o->q->service);
	str_copy(l.user, sizeof l.user, o->name);
	str_copy(l.peer, sizeof l.peer, o->peer);
	str_copy(l.result, sizeof l.result, account_status_word(st));
	if (account_store_log_add(s, &l, o->e) < 0)
		return -1;
	static atomic_uint logged;
	if (atomic_fetch_add(&logged, 1) % PRUNE_EVERY == PRUNE_EVERY - 1) {
		if (account_store_log_prune(s, o->now_ms - (int64_t)p->log_keep_ms, o->e) < 0 ||
		    account_lockout_prune(s, p->window_ms, o->now_ms, o->e) < 0)
			return -1;
	}
	return 0;
}

/* Check the password (or an app password) of a stored account. */
static int check_secret(struct account_store *s, const struct account_query *q,
			const char *hash, struct outcome *o, ik_err *e)
{
	struct account_result *r = o->r;
	if (q->challenge != NULL) {
		/* The service's own secret: never an app password. */
		int rc = q->challenge->check(o->name, q->password ? q->password : "",
					     q->challenge->ctx, e);
		if (rc < 0)
			return -1;
		r->status = rc > 0 ? ACCOUNT_OK : ACCOUNT_BAD_PASSWORD;
		return 0;
	}
	if (account_hash_check(q->password, hash)) {
		r->status = ACCOUNT_OK;
		return 0;
	}
	r->status = ACCOUNT_BAD_PASSWORD;
	char digest[ACCOUNT_DIGEST_LEN + 1];
	if (account_token_digest(q->password, digest) < 0)
		return 0;
	struct account_token t;
	int rc = account_store_token_find(s, r->acct.id, digest, &t, e);
	if (rc <= 0)
		return rc;
	if (!account_services_has(t.services, q->service)) {
		r->status = ACCOUNT_WRONG_SERVICE;
		return 0;
	}
	r->status = ACCOUNT_OK;
	r->via_app_password = true;
	str_copy(r->app_label, sizeof r->app_label, t.label);
	o->token_id = t.id;
	return 0;
}

/* The service's anonymous login, or a name reserved for one elsewhere. */
static bool anonymous_name(const struct account_query *q, const char *name, bool *offered)
{
	*offered = q->anon != NULL && q->anon->names != NULL &&
		   account_names_has(q->anon->names->names, name);
	return *offered || account_reserved_find(name) != NULL;
}

static int verify_anonymous(const struct account_query *q, bool offered,
			    struct account_result *r)
{
	if (!offered || !q->anon->enabled) {
		r->status = ACCOUNT_NO_ANONYMOUS;
		return 0;
	}
	r->status = ACCOUNT_OK;
	account_anon_account(q->anon, &r->acct);
	return 0;
}

static int verify_stored(struct account_store *s, const struct account_policy *p,
			 const struct account_query *q, const char *dummy_hash,
			 struct outcome *o, ik_err *e)
{
	struct account_result *r = o->r;
	char ukey[ACCOUNT_LOCKOUT_KEY_MAX], ikey[ACCOUNT_LOCKOUT_KEY_MAX];
	account_lockout_key(ukey, sizeof ukey, "user", o->name);
	account_lockout_key(ikey, sizeof ikey, "ip", o->peer);
	int64_t until = 0;
	int rc = account_lockout_check(s, ukey, o->now_ms, &until, e);
	if (rc == 0)
		rc = account_lockout_check(s, ikey, o->now_ms, &until, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		r->status = ACCOUNT_LOCKED;
		r->locked_until = until;
		return 0;
	}
	char hash[ACCOUNT_HASH_MAX] = "";
	rc = 0;
	if (account_name_check(o->name, NULL) == 0)
		rc = account_store_get(s, o->name, &r->acct, hash, sizeof hash, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		/* Same work as for a real account, so timing does not tell. */
		char made[ACCOUNT_HASH_MAX];
		if (q->challenge != NULL) {
			ik_err ignored;
			q->challenge->check(o->name, q->password ? q->password : "",
					    q->challenge->ctx, &ignored);
		} else if (dummy_hash == NULL) {
			if (account_hash_password("x", p->hash_cost, made, sizeof made, e) < 0)
				return -1;
			dummy_hash = made;
		}
		if (q->challenge == NULL)
			account_hash_check(q->password, dummy_hash);
		memset(&r->acct, 0, sizeof r->acct);
		r->status = ACCOUNT_UNKNOWN;
		return 0;
	}
	if (check_secret(s, q, hash, o, e) < 0)
		return -1;
	if (r->status != ACCOUNT_OK)
		return 0;
	/* Told only to someone who knows the password. */
	if (r->acct.disabled)
		r->status = ACCOUNT_DISABLED;
	else if (r->acct.expires != 0 && o->now_ms / 1000 >= r->acct.expires)
		r->status = ACCOUNT_EXPIRED;
	return 0;
}

int account_verify_sync(struct account_store *s, const struct account_policy *p,
			const struct account_query *q, const char *dummy_hash, int64_t now_ms,
			struct account_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	/* Names are stored in lower case; a client may type them otherwise. */
	char name[ACCOUNT_LABEL_MAX + 1];
	str_copy(name, sizeof name, q->name ? q->name : "");
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	struct outcome o = {p, q, r, name, q->peer && *q->peer ? q->peer : "local", now_ms, 0, e};
	int rc;
	bool offered;
	if (anonymous_name(q, name, &offered))
		rc = verify_anonymous(q, offered, r);
	else
		rc = verify_stored(s, p, q, dummy_hash, &o, e);
	if (rc == 0)
		rc = account_store_tx(s, record, &o, e);
	if (rc < 0) {
		r->status = ACCOUNT_ERROR;
		return -1;
	}
	if (r->status != ACCOUNT_OK)
		memset(&r->acct, 0, sizeof r->acct);
	return 0;
}
