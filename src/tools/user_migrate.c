/* `inetkit user migrate --from STORE --to STORE`: copy every account (with
 * its password hash), its app passwords (their digests, labels, services
 * and last use) and the login log from one account store to another, such
 * as from a node's SQLite file to the PostgreSQL database several nodes
 * will share. A STORE is sqlite:PATH, a PATH, or a postgresql:// URI.
 *
 * The copy is one transaction on the destination: it lands whole or not
 * at all. A name the destination already has stops it (nothing is
 * overwritten). Lockout counters are not copied: they are minutes long
 * and start afresh. */
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "lib/str.h"
#include "tools/user_tool.h"

struct copy {
	struct account_store *from, *to;
	struct account *acct;
	size_t nacct, cap;
	struct account_login *log;
	size_t nlog, logcap;
	size_t ntokens;
	char clash[ACCOUNT_LABEL_MAX + 1];
	ik_err *e;
};

static int keep_account(const struct account *a, void *arg)
{
	struct copy *c = arg;
	if (c->nacct == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct account *n = realloc(c->acct, cap * sizeof *n);
		if (n == NULL)
			return -1;
		c->acct = n;
		c->cap = cap;
	}
	c->acct[c->nacct++] = *a;
	return 0;
}

static int keep_login(const struct account_login *l, void *arg)
{
	struct copy *c = arg;
	if (c->nlog == c->logcap) {
		size_t cap = c->logcap ? c->logcap * 2 : 256;
		struct account_login *n = realloc(c->log, cap * sizeof *n);
		if (n == NULL)
			return -1;
		c->log = n;
		c->logcap = cap;
	}
	c->log[c->nlog++] = *l;
	return 0;
}

struct token_copy {
	struct copy *c;
	int64_t new_account;
	int rc;
};

static int copy_token(const struct account_token *t, void *arg)
{
	struct token_copy *tc = arg;
	struct copy *c = tc->c;
	char digest[256];
	struct account_token n = *t;
	n.account_id = tc->new_account;
	if (account_store_token_digest(c->from, t->id, digest, sizeof digest, c->e) <= 0 ||
	    account_store_token_add(c->to, &n, digest, c->e) <= 0 ||
	    (t->last_used != 0 &&
	     account_store_token_used(c->to, n.id, t->last_used, t->last_service, t->last_peer,
				      c->e) < 0)) {
		if (c->e->msg[0] == '\0')
			ik_err_set(c->e, "app password '%s' could not be copied", t->label);
		tc->rc = -1;
		return -1;
	}
	c->ntokens++;
	return 0;
}

/* In the destination's transaction. */
static int copy_all(struct account_store *to, void *arg)
{
	struct copy *c = arg;
	(void)to;
	for (size_t i = 0; i < c->nacct; i++) {
		struct account *a = &c->acct[i];
		char hash[ACCOUNT_HASH_MAX];
		struct account src;
		if (account_store_get(c->from, a->name, &src, hash, sizeof hash, c->e) <= 0)
			return -1;
		int rc = account_store_add(c->to, &src, hash, c->e);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			str_copy(c->clash, sizeof c->clash, a->name);
			return ik_err_set(c->e, "the destination already has an account named '%s'; "
					  "nothing was copied (migrate into an empty store)", a->name);
		}
		struct account made;
		if (account_store_get(c->to, a->name, &made, NULL, 0, c->e) <= 0)
			return -1;
		struct token_copy tc = {c, made.id, 0};
		if (account_store_token_list(c->from, src.id, copy_token, &tc, c->e) < 0 || tc.rc < 0)
			return -1;
	}
	/* Oldest first, so that the destination's ids keep the order. */
	for (size_t i = c->nlog; i-- > 0;)
		if (account_store_log_add(c->to, &c->log[i], c->e) < 0)
			return -1;
	return 0;
}

/* sqlite:PATH, a PATH, or a URI as account_store_open takes it. */
static const char *store_path(const char *spec)
{
	return str_has_prefix(spec, "sqlite:") ? spec + 7 : spec;
}

int user_migrate(struct user_ctx *uc)
{
	if (uc->from == NULL || uc->to == NULL)
		return cli_usage_error(USER_CMD, "'user migrate' needs --from STORE and --to STORE "
				       "(sqlite:PATH or postgresql://...)");
	if (strcmp(store_path(uc->from), store_path(uc->to)) == 0)
		return cli_usage_error(USER_CMD, "--from and --to name the same store");
	ik_err e = {""};
	struct copy c = {.e = &e};
	int rc = CLI_FAIL;
	if (account_store_open(store_path(uc->from), 0, &c.from, &e) < 0 ||
	    account_store_open(store_path(uc->to), ACCOUNT_STORE_CREATE, &c.to, &e) < 0)
		goto out;
	if (account_store_list(c.from, keep_account, &c, &e) < 0 ||
	    account_store_log_list(c.from, NULL, 100000000, keep_login, &c, &e) < 0)
		goto out;
	if (account_store_tx(c.to, copy_all, &c, &e) < 0)
		goto out;
	char from[ACCOUNT_PATH_MAX], to[ACCOUNT_PATH_MAX];
	account_store_url_redact(uc->from, from, sizeof from);
	account_store_url_redact(uc->to, to, sizeof to);
	printf("Copied %zu account%s, %zu app password%s and %zu login log row%s from %s to %s.\n",
	       c.nacct, c.nacct == 1 ? "" : "s", c.ntokens, c.ntokens == 1 ? "" : "s", c.nlog,
	       c.nlog == 1 ? "" : "s", from, to);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_error(USER_CMD, CLI_FAIL, "%s", e.msg[0] ? e.msg : "migration failed");
	account_store_close(c.from);
	account_store_close(c.to);
	free(c.acct);
	free(c.log);
	return rc;
}
