/* MAIL and RCPT: the transaction's envelope. RFC 5321 4.1.1.2 and 4.1.1.3
 * (paths and parameters: smtp_parse.c), 3.6.2 and 7.1 (relaying only for
 * authenticated clients and relay_networks: 554 5.7.1), 4.5.3.1.8 (at
 * least 100 recipients: 452 4.5.3 past max_recipients), 4.5.1 (postmaster
 * always exists); RFC 3463 (5.1.1 no such user, 4.2.2 mailbox full); RFC
 * 3461 (NOTIFY, ORCPT kept for the relay).
 *
 * Who is local is decided here, at RCPT time, never by a bounce later (no
 * backscatter): an account of the accounts module (looked up on its pool:
 * SQLite blocks; the session is paused meanwhile and, with PIPELINING, the
 * replies of the group still leave together), an alias, or postmaster.
 * An account with a quota has its mailbox's usage read on the server's
 * pool too. Mailbox names are account names (account_name_check): no
 * address ever becomes a path of its own. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/offload.h"
#include "lib/str.h"
#include "smtp/smtp_alias.h"
#include "smtp/smtp_int.h"

/* An RCPT being checked off the loop. */
struct smtp_check {
	struct smtp_sess *ss;		/* NULL once the session is gone */
	struct account_request *req;	/* the account lookup, until it answers */
	struct smtp_rcpt_args args;
	char name[ACCOUNT_NAME_MAX + 1];
	struct mailstore *store;
	uint64_t quota, used;
	bool failed;
};

/* ---- the transaction ---- */

static void rcpt_clear(struct smtp_rcpt *r)
{
	free(r->env.addr);
	free(r->env.orcpt);
	for (size_t i = 0; i < r->nlocal; i++)
		free(r->local[i]);
	free(r->local);
	free(r->quota);
	for (size_t i = 0; i < r->nremote; i++)
		free(r->remote[i]);
	free(r->remote);
}

void smtp_txn_free(struct smtp_sess *ss)
{
	struct smtp_txn *t = ss->txn;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrcpt; i++)
		rcpt_clear(&t->rcpt[i]);
	free(t->rcpt);
	mail_spool_free(t->spool);
	free(t);
	ss->txn = NULL;
}

static int add_name(char ***list, size_t *n, const char *name)
{
	char **p = realloc(*list, (*n + 1) * sizeof **list);
	if (p == NULL)
		return -1;
	*list = p;
	if ((p[*n] = strdup(name)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* The recipient is accepted: it joins the transaction. locals and remotes
 * are taken (freed here on failure too). */
static void accept_rcpt(struct smtp_sess *ss, const struct smtp_rcpt_args *a, struct smtp_rcpt *r)
{
	struct smtp_txn *t = ss->txn;
	r->env.notify = a->notify;
	r->env.addr = strdup(a->to.postmaster && a->to.addr[0] == '\0' ? "postmaster"
			     : a->to.addr);
	r->env.orcpt = a->orcpt[0] != '\0' ? strdup(a->orcpt) : NULL;
	if (r->env.addr == NULL || (a->orcpt[0] != '\0' && r->env.orcpt == NULL))
		goto oom;
	if (t->nrcpt == t->rcpt_cap) {
		size_t cap = t->rcpt_cap ? t->rcpt_cap * 2 : 4;
		struct smtp_rcpt *p = realloc(t->rcpt, cap * sizeof *p);
		if (p == NULL)
			goto oom;
		t->rcpt = p;
		t->rcpt_cap = cap;
	}
	t->rcpt[t->nrcpt++] = *r;
	smtp_set_state(ss, SMTP_ST_RCPT);
	smtp_send(ss, 250, "2.1.5", "Ok");
	return;
oom:
	rcpt_clear(r);
	smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
}

/* The domain of a parsed address, from the address itself (a copy of
 * the args has its own addr). */
static const char *domain_of(const struct smtp_path *p)
{
	return p->addr[p->local_len] == '@' ? p->addr + p->local_len + 1 : "";
}

static void unknown_user(struct smtp_sess *ss, const struct smtp_rcpt_args *a)
{
	smtp_send(ss, 550, "5.1.1", "<%s>: Recipient address rejected: no such user in domain %s",
		  a->to.addr, domain_of(&a->to));
}

/* A local part as an account name: ASCII, lower case; NULL when it
 * cannot be one (then it is no user of ours). */
static const char *local_name(const struct smtp_path *p, char *out, size_t outsz)
{
	if (p->utf8 || str_copy(out, outsz, p->local) < 0)
		return NULL;
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return out;
}

/* ---- MAIL ---- */

void smtp_cmd_mail(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	const struct smtp_conf *conf = ss->srv->conf;
	struct smtp_txn *t = calloc(1, sizeof *t);
	if (t == NULL) {
		smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
		return;
	}
	struct smtp_reply r;
	if (smtp_mail_parse(c->arg, c->arglen, SMTP_PARSE_DSN, conf->max_size,
			    &t->mail, &r) < 0) {
		free(t);
		smtp_send_reply(ss, &r);
		return;
	}
	smtp_txn_free(ss);
	ss->txn = t;
	smtp_set_state(ss, SMTP_ST_MAIL);
	smtp_send(ss, 250, "2.1.0", "Ok");
}

/* ---- RCPT: the account check, off the loop ---- */

static void check_free(struct smtp_check *k)
{
	free(k);
}

void smtp_check_cancel(struct smtp_sess *ss)
{
	struct smtp_check *k = ss->check;
	if (k == NULL)
		return;
	ss->check = NULL;
	if (k->req != NULL) {
		account_verify_cancel(k->req);
		check_free(k);
	} else {
		k->ss = NULL;		/* on the pool: its done frees it */
	}
}

/* The check is over: the session reads again. */
static struct smtp_sess *check_end(struct smtp_check *k)
{
	struct smtp_sess *ss = k->ss;
	if (ss == NULL)
		return NULL;
	ss->check = NULL;
	session_resume(ss->s);
	return ss->closing ? NULL : ss;
}

static void accept_local(struct smtp_sess *ss, const struct smtp_rcpt_args *a, const char *name,
			 uint64_t quota)
{
	struct smtp_rcpt r = {0};
	if (add_name(&r.local, &r.nlocal, name) < 0 || (r.quota = calloc(1, sizeof *r.quota)) == NULL) {
		rcpt_clear(&r);
		smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
		return;
	}
	r.quota[0] = quota;
	accept_rcpt(ss, a, &r);
}

static void usage_work(void *arg)
{
	struct smtp_check *k = arg;
	uint64_t msgs;
	ik_err e;
	if (mailstore_usage(k->store, k->name, &k->used, &msgs, &e) < 0) {
		k->failed = true;
		log_event(LOG_ERR, "smtp_quota_failed", "user=%s reason=\"%s\"", k->name, e.msg);
	}
}

static void usage_done(void *arg, enum offload_status st)
{
	struct smtp_check *k = arg;
	struct smtp_sess *ss = check_end(k);
	if (ss != NULL) {
		if (st != OFFLOAD_DONE || k->failed)
			smtp_send(ss, 451, "4.3.0", "<%s>: Temporary lookup failure; try again later",
				  k->args.to.addr);
		else if (k->used >= k->quota)
			smtp_send(ss, 452, "4.2.2", "<%s>: Mailbox full", k->args.to.addr);
		else
			accept_local(ss, &k->args, k->name, k->quota);
	}
	check_free(k);
}

static void on_lookup(const struct account_lookup_result *res, void *arg)
{
	struct smtp_check *k = arg;
	k->req = NULL;
	struct smtp_sess *ss = k->ss;
	if (ss->closing) {
		check_end(k);
		check_free(k);
		return;
	}
	/* Disabled and expired accounts are answered as unknown ones: the
	 * reply tells nobody which names exist. */
	bool usable = res->found == 1 && !res->acct.disabled &&
		      (res->acct.expires == 0 || (int64_t)time(NULL) < res->acct.expires);
	if (res->found < 0) {
		log_event(LOG_ERR, "smtp_lookup_failed", "session=%llu user=%s reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), k->name, res->error);
		check_end(k);
		smtp_send(ss, 451, "4.3.0", "<%s>: Temporary lookup failure; try again later",
			  k->args.to.addr);
		check_free(k);
		return;
	}
	if (!usable) {
		check_end(k);
		unknown_user(ss, &k->args);
		check_free(k);
		return;
	}
	k->quota = res->acct.quota;
	if (k->quota > 0) {
		ik_err e;
		k->store = ss->srv->store;
		if (offload_submit(ss->srv->pool, usage_work, usage_done, k, &e) == 0)
			return;
		check_end(k);
		smtp_send(ss, 451, "4.3.0", "<%s>: Temporary lookup failure; try again later",
			  k->args.to.addr);
		check_free(k);
		return;
	}
	check_end(k);
	accept_local(ss, &k->args, k->name, 0);
	check_free(k);
}

static void lookup_account(struct smtp_sess *ss, const struct smtp_rcpt_args *a,
			   const char *name)
{
	struct smtp_check *k = calloc(1, sizeof *k);
	if (k == NULL) {
		smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
		return;
	}
	k->ss = ss;
	k->args = *a;
	k->args.to.domain = k->args.to.addr + (a->to.domain - a->to.addr);
	str_copy(k->name, sizeof k->name, name);
	ik_err e;
	k->req = account_lookup(ss->srv->auth, name, on_lookup, k, &e);
	if (k->req == NULL) {
		free(k);
		smtp_send(ss, 451, "4.3.0", "<%s>: Temporary lookup failure; try again later",
			  a->to.addr);
		return;
	}
	ss->check = k;
	session_pause(ss->s);
}

/* An alias (or postmaster): its final targets, each a mailbox name or an
 * address for the queue. */
static void accept_alias(struct smtp_sess *ss, const struct smtp_rcpt_args *a, const char *name)
{
	char **list = NULL;
	size_t n = 0;
	ik_err e;
	if (smtp_aliases_expand(ss->srv->conf->aliases, name, &list, &n, &e) < 0) {
		log_event(LOG_ERR, "smtp_alias_failed", "session=%llu alias=%s reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), name, e.msg);
		smtp_send(ss, 451, "4.3.0", "<%s>: Temporary lookup failure; try again later",
			  a->to.addr);
		return;
	}
	struct smtp_rcpt r = {0};
	bool oom = false;
	for (size_t i = 0; i < n && !oom; i++) {
		if (strchr(list[i], '@') != NULL) {
			oom = add_name(&r.remote, &r.nremote, list[i]) < 0;
			continue;
		}
		ik_err why;
		if (account_name_check(list[i], &why) < 0 && strcmp(list[i], "postmaster") != 0) {
			log_event(LOG_WARNING, "smtp_alias_target", "alias=%s target=%s reason=\"%s\"",
				  name, list[i], why.msg);
			continue;
		}
		oom = add_name(&r.local, &r.nlocal, list[i]) < 0;
	}
	smtp_aliases_list_free(list, n);
	if (!oom && r.nlocal > 0 && (r.quota = calloc(r.nlocal, sizeof *r.quota)) == NULL)
		oom = true;
	if (oom) {
		rcpt_clear(&r);
		smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
		return;
	}
	if (r.nlocal + r.nremote == 0) {
		rcpt_clear(&r);
		log_event(LOG_WARNING, "smtp_alias_empty", "alias=%s", name);
		unknown_user(ss, a);
		return;
	}
	accept_rcpt(ss, a, &r);
}

static void rcpt_local(struct smtp_sess *ss, const struct smtp_rcpt_args *a)
{
	const struct smtp_conf *conf = ss->srv->conf;
	char buf[SMTP_LOCAL_MAX + 1];
	const char *name = a->to.postmaster && a->to.addr[0] == '\0' ? "postmaster"
			   : local_name(&a->to, buf, sizeof buf);
	if (name == NULL) {
		unknown_user(ss, a);
		return;
	}
	if (strcmp(name, "postmaster") == 0 || smtp_aliases_has(conf->aliases, name)) {
		accept_alias(ss, a, name);
		return;
	}
	ik_err e;
	if (ss->srv->auth == NULL || account_name_check(name, &e) < 0) {
		unknown_user(ss, a);
		return;
	}
	lookup_account(ss, a, name);
}

void smtp_cmd_rcpt(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	const struct smtp_conf *conf = ss->srv->conf;
	struct smtp_txn *t = ss->txn;
	t->rcpt_tried++;
	unsigned flags = SMTP_PARSE_DSN | (t->mail.smtputf8 ? SMTP_PARSE_UTF8 : 0);
	struct smtp_rcpt_args a;
	struct smtp_reply r;
	if (smtp_rcpt_parse(c->arg, c->arglen, flags, &a, &r) < 0) {
		smtp_send_reply(ss, &r);
		return;
	}
	if (t->nrcpt >= conf->max_recipients) {
		smtp_send(ss, 452, "4.5.3", "Error: too many recipients (the limit is %llu)",
			  (unsigned long long)conf->max_recipients);
		return;
	}
	if ((a.to.postmaster && a.to.addr[0] == '\0') || smtp_conf_local_domain(conf, a.to.domain)) {
		rcpt_local(ss, &a);
		return;
	}
	/* RFC 5321 7.1: never an open relay. */
	if (ss->user[0] == '\0' && !ss->relay_ok) {
		smtp_send(ss, 554, "5.7.1", "<%s>: Relay access denied", a.to.addr);
		return;
	}
	struct smtp_rcpt rc = {0};
	if (add_name(&rc.remote, &rc.nremote, a.to.addr) < 0) {
		rcpt_clear(&rc);
		smtp_send(ss, 452, "4.3.1", "Error: out of memory; try again later");
		return;
	}
	accept_rcpt(ss, &a, &rc);
}
