/* The asynchronous authenticator: a login check runs on the offload pool
 * (yescrypt takes tens of milliseconds by design) and its result comes back
 * to the loop; a failure is held for failure_delay before the caller hears
 * of it, on a loop timer so that no thread sleeps. Each pool thread borrows
 * its own SQLite connection from a small free list. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/account.h"
#include "core/account_hash.h"
#include "core/account_store.h"
#include "core/account_verify.h"
#include "core/log.h"
#include "core/offload.h"
#include "core/metrics.h"
#include "lib/str.h"

struct account_auth {
	struct loop *loop;
	struct account_policy policy;
	struct offload *pool;
	char dummy_hash[ACCOUNT_HASH_MAX];
	pthread_mutex_t mu;		/* guards conns and policy */
	struct account_store *conns[OFFLOAD_MAX_THREADS];
	size_t nconns;
	struct account_request *delayed;	/* waiting out failure_delay */
	bool closing;
};

struct account_request {
	struct account_auth *auth;
	char name[ACCOUNT_LABEL_MAX + 1];
	char password[ACCOUNT_PASSWORD_MAX + 1];
	char service[16];
	char peer[ACCOUNT_PEER_MAX];
	struct account_anon anon;
	bool has_anon;
	struct account_challenge challenge;	/* its ctx is ours (account.h) */
	bool has_challenge;
	account_verify_cb cb;
	account_lookup_cb lookup_cb;	/* set: an account_lookup, not a login */
	void *arg;
	bool cancelled;			/* set on the loop thread only */
	struct account_result result;
	struct account_lookup_result found;	/* account_lookup */
	char error[IK_ERR_MAX];
	struct event *delay;
	struct account_request *prev, *next;	/* in auth->delayed */
};


static struct account_store *conn_get(struct account_auth *a, ik_err *e)
{
	pthread_mutex_lock(&a->mu);
	struct account_store *s = a->nconns > 0 ? a->conns[--a->nconns] : NULL;
	pthread_mutex_unlock(&a->mu);
	if (s == NULL && account_store_open(a->policy.db_path, 0, &s, e) < 0)
		return NULL;
	return s;
}

static void conn_put(struct account_auth *a, struct account_store *s)
{
	pthread_mutex_lock(&a->mu);
	if (a->nconns < OFFLOAD_MAX_THREADS) {
		a->conns[a->nconns++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&a->mu);
	account_store_close(s);
}

/* On a pool thread: an account_lookup. */
static void lookup_work(struct account_request *r)
{
	ik_err e = {""};
	struct account_store *s = conn_get(r->auth, &e);
	r->found.found = -1;
	if (s != NULL) {
		r->found.found = account_store_get(s, r->name, &r->found.acct, NULL, 0, &e);
		conn_put(r->auth, s);
	}
	if (r->found.found < 0)
		str_copy(r->found.error, sizeof r->found.error, e.msg[0] ? e.msg : "store failed");
}

/* On a pool thread. */
static void work(void *arg)
{
	struct account_request *r = arg;
	if (r->lookup_cb != NULL) {
		lookup_work(r);
		return;
	}
	ik_err e = {""};
	struct account_store *s = conn_get(r->auth, &e);
	if (s == NULL) {
		r->result.status = ACCOUNT_ERROR;
	} else {
		struct account_query q = {r->name, r->password, r->service, r->peer,
					  r->has_anon ? &r->anon : NULL,
					  r->has_challenge ? &r->challenge : NULL};
		struct account_policy p;
		pthread_mutex_lock(&r->auth->mu);
		p = r->auth->policy;	/* a reload may change it meanwhile */
		pthread_mutex_unlock(&r->auth->mu);
		account_verify_sync(s, &p, &q, r->auth->dummy_hash, account_now_ms(),
				    &r->result, &e);
		conn_put(r->auth, s);
	}
	str_copy(r->error, sizeof r->error, e.msg);
	account_wipe(r->password, sizeof r->password);
}

static void request_free(struct account_request *r)
{
	if (r->delay != NULL)
		event_free(r->delay);
	if (r->has_challenge && r->challenge.ctx_free != NULL)
		r->challenge.ctx_free(r->challenge.ctx);
	account_wipe(r->password, sizeof r->password);
	free(r);
}

static void unlink_delayed(struct account_request *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (r->auth->delayed == r)
		r->auth->delayed = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void answer(struct account_request *r)
{
	account_verify_cb cb = r->cb;
	void *arg = r->arg;
	struct account_result res = r->result;
	request_free(r);
	cb(&res, arg);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct account_request *r = arg;
	unlink_delayed(r);
	answer(r);
}

static void log_result(const struct account_request *r)
{
	char user[96], peer[96];
	log_quote(user, sizeof user, r->name);
	log_quote(peer, sizeof peer, r->peer);
	int level = r->result.status == ACCOUNT_OK ? LOG_INFO : LOG_NOTICE;
	if (r->result.status != ACCOUNT_ERROR)
		metrics_add(r->service, r->result.status == ACCOUNT_OK ? METRIC_LOGINS_OK
								: METRIC_LOGINS_FAILED, 1);
	if (r->result.status == ACCOUNT_ERROR) {
		char why[IK_ERR_MAX + 8];
		log_event(LOG_ERR, "login", "service=%s user=%s peer=%s result=error reason=%s",
			  r->service, user, peer, log_quote(why, sizeof why, r->error));
		return;
	}
	const char *via = r->result.via_app_password ? "app_password"
			  : r->has_challenge && r->challenge.mech != NULL ? r->challenge.mech : NULL;
	log_event(level, "login", "service=%s user=%s peer=%s result=%s%s%s", r->service, user,
		  peer, account_status_word(r->result.status), via != NULL ? " via=" : "",
		  via != NULL ? via : "");
}

/* On the loop thread. */
static void done(void *arg, enum offload_status st)
{
	struct account_request *r = arg;
	if (st == OFFLOAD_CANCELLED) {
		r->result.status = ACCOUNT_ERROR;
		str_copy(r->error, sizeof r->error, "shutting down");
	}
	if (r->cancelled || r->auth->closing) {
		request_free(r);
		return;
	}
	if (r->lookup_cb != NULL) {
		if (st == OFFLOAD_CANCELLED) {
			r->found.found = -1;
			str_copy(r->found.error, sizeof r->found.error, "shutting down");
		}
		account_lookup_cb cb = r->lookup_cb;
		void *cb_arg = r->arg;
		struct account_lookup_result res = r->found;
		request_free(r);
		cb(&res, cb_arg);
		return;
	}
	log_result(r);
	struct account_auth *a = r->auth;
	if (r->result.status == ACCOUNT_OK || a->policy.failure_delay_ms == 0 ||
	    st == OFFLOAD_CANCELLED) {
		answer(r);
		return;
	}
	r->delay = loop_timer(a->loop, a->policy.failure_delay_ms, false, on_delay, r);
	if (r->delay == NULL) {
		answer(r);
		return;
	}
	r->next = a->delayed;
	if (a->delayed != NULL)
		a->delayed->prev = r;
	a->delayed = r;
}

struct account_auth *account_auth_new(struct loop *l, const struct account_policy *p,
				      ik_err *e)
{
	struct account_auth *a = calloc(1, sizeof *a);
	if (a == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	a->loop = l;
	a->policy = *p;
	pthread_mutex_init(&a->mu, NULL);
	/* One connection now: the store must open (and be migrated) before
	 * any client is told anything. */
	struct account_store *s;
	if (account_store_open(p->db_path, 0, &s, e) < 0) {
		account_auth_free(a);
		return NULL;
	}
	conn_put(a, s);
	if (account_hash_password("unknown-user", p->hash_cost, a->dummy_hash,
				  sizeof a->dummy_hash, e) < 0) {
		account_auth_free(a);
		return NULL;
	}
	a->pool = offload_new(l, p->hash_threads, p->hash_queue, e);
	if (a->pool == NULL) {
		account_auth_free(a);
		return NULL;
	}
	return a;
}

void account_auth_free(struct account_auth *a)
{
	if (a == NULL)
		return;
	/* Pending callbacks are not called: their owners are going too. */
	while (a->delayed != NULL) {
		struct account_request *r = a->delayed;
		unlink_delayed(r);
		request_free(r);
	}
	/* done() then only frees what the pool hands back. */
	a->closing = true;
	offload_free(a->pool);
	for (size_t i = 0; i < a->nconns; i++)
		account_store_close(a->conns[i]);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void account_auth_set_policy(struct account_auth *a, const struct account_policy *p)
{
	pthread_mutex_lock(&a->mu);
	/* The pool and the store stay as they are: only the rules change. */
	a->policy.failure_delay_ms = p->failure_delay_ms;
	a->policy.user_failures = p->user_failures;
	a->policy.ip_failures = p->ip_failures;
	a->policy.window_ms = p->window_ms;
	a->policy.lockout_ms = p->lockout_ms;
	a->policy.log_keep_ms = p->log_keep_ms;
	a->policy.hash_cost = p->hash_cost;
	pthread_mutex_unlock(&a->mu);
}

struct account_request *account_verify(struct account_auth *a, const struct account_query *q,
				       account_verify_cb cb, void *arg, ik_err *e)
{
	struct account_request *r = calloc(1, sizeof *r);
	if (r == NULL) {
		if (q->challenge != NULL && q->challenge->ctx_free != NULL)
			q->challenge->ctx_free(q->challenge->ctx);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	if (q->challenge != NULL) {
		r->challenge = *q->challenge;
		r->has_challenge = true;
	}
	r->auth = a;
	r->cb = cb;
	r->arg = arg;
	if (q->password == NULL || strlen(q->password) > ACCOUNT_PASSWORD_MAX) {
		/* Never hashed: a failure answered like any other. */
		r->password[0] = '\0';
	} else {
		str_copy(r->password, sizeof r->password, q->password);
	}
	str_copy(r->name, sizeof r->name, q->name ? q->name : "");
	str_copy(r->service, sizeof r->service, q->service ? q->service : "");
	str_copy(r->peer, sizeof r->peer, q->peer ? q->peer : "");
	if (q->anon != NULL) {
		r->anon = *q->anon;
		r->has_anon = true;
	}
	if (offload_submit(a->pool, work, done, r, e) < 0) {
		request_free(r);
		return NULL;
	}
	return r;
}

void account_verify_cancel(struct account_request *r)
{
	if (r == NULL)
		return;
	if (r->delay != NULL) {
		unlink_delayed(r);
		request_free(r);
		return;
	}
	r->cancelled = true;
}

struct account_request *account_lookup(struct account_auth *a, const char *name,
				       account_lookup_cb cb, void *arg, ik_err *e)
{
	struct account_request *r = calloc(1, sizeof *r);
	if (r == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	r->auth = a;
	r->lookup_cb = cb;
	r->arg = arg;
	str_copy(r->name, sizeof r->name, name != NULL ? name : "");
	if (offload_submit(a->pool, work, done, r, e) < 0) {
		request_free(r);
		return NULL;
	}
	return r;
}
