/* The account store: one SQLite file (accounts.db in the state directory)
 * in WAL mode, shared by the `user` command and every worker process. Each
 * process or thread opens its own connection; writers wait up to
 * busy_timeout for each other instead of failing. The schema carries its
 * version in PRAGMA user_version and is migrated forward on open.
 *
 * Or, for several nodes sharing accounts, a PostgreSQL database: a path
 * that is a postgresql:// (or postgres://) connection URI opens that
 * (account_store_pg.c), with the same tables, the same migrations and
 * every function below doing the same. The choice is made once, at open.
 *
 * Lookups return 1 (found / done), 0 (no such row) or -1 (error in e). */
#ifndef INETKIT_CORE_ACCOUNT_STORE_H
#define INETKIT_CORE_ACCOUNT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/account.h"
#include "core/account_hash.h"

#define ACCOUNT_SCHEMA_VERSION 2
#define ACCOUNT_BUSY_TIMEOUT_MS 5000

struct sqlite3;
struct account_store;

enum {
	ACCOUNT_STORE_CREATE = 1 << 0,	/* create the file if it is missing */
};

int account_store_open(const char *path, unsigned flags, struct account_store **out, ik_err *e);
/* Whether path is a PostgreSQL connection URI rather than a file. */
bool account_store_is_url(const char *path);
/* url with its password replaced by "***", for messages and logs. */
void account_store_url_redact(const char *url, char *out, size_t outsz);
/* The schema version of an open store, whichever backend. */
int account_store_schema_version(struct account_store *s, int *version, ik_err *e);
void account_store_close(struct account_store *s);
/* The SQLite connection; NULL for a PostgreSQL store. */
struct sqlite3 *account_store_db(struct account_store *s);
const char *account_store_path(const struct account_store *s);

/* Migrate an open database to ACCOUNT_SCHEMA_VERSION (account_schema.c). */
int account_schema_migrate(struct sqlite3 *db, const char *path, ik_err *e);
int account_schema_version(struct sqlite3 *db, int *version, ik_err *e);

/* Run fn inside one IMMEDIATE transaction (committed when fn returns >= 0). */
int account_store_tx(struct account_store *s, int (*fn)(struct account_store *s, void *arg),
		     void *arg, ik_err *e);

/* Accounts. add returns 0 when the name is taken. */
int account_store_add(struct account_store *s, const struct account *a, const char *hash,
		      ik_err *e);
int account_store_get(struct account_store *s, const char *name, struct account *a,
		      char *hash, size_t hashsz, ik_err *e);
typedef int (*account_each_fn)(const struct account *a, void *arg);
int account_store_list(struct account_store *s, account_each_fn fn, void *arg, ik_err *e);
int account_store_del(struct account_store *s, const char *name, ik_err *e);
int account_store_set_hash(struct account_store *s, const char *name, const char *hash,
			   ik_err *e);
int account_store_set_disabled(struct account_store *s, const char *name, bool disabled,
			       ik_err *e);

/* App passwords. */
struct account_token {
	int64_t id;
	int64_t account_id;
	char label[ACCOUNT_LABEL_MAX + 1];
	char services[ACCOUNT_SERVICES_MAX];
	int64_t created;	/* unix seconds */
	int64_t last_used;	/* unix seconds, 0 = never */
	char last_service[16];
	char last_peer[ACCOUNT_PEER_MAX];
};
/* Returns 0 when the account already has that label. */
int account_store_token_add(struct account_store *s, struct account_token *t,
			    const char *digest, ik_err *e);
typedef int (*account_token_fn)(const struct account_token *t, void *arg);
int account_store_token_list(struct account_store *s, int64_t account_id, account_token_fn fn,
			     void *arg, ik_err *e);
int account_store_token_count(struct account_store *s, int64_t account_id, int64_t *n, ik_err *e);
/* By label, or by id when which is all digits and such an id exists. */
int account_store_token_revoke(struct account_store *s, int64_t account_id, const char *which,
			       struct account_token *gone, ik_err *e);
int account_store_token_find(struct account_store *s, int64_t account_id, const char *digest,
			     struct account_token *t, ik_err *e);
int account_store_token_used(struct account_store *s, int64_t id, int64_t when,
			     const char *service, const char *peer, ik_err *e);
/* The stored digest of token id (`user migrate` copies it as it is). */
int account_store_token_digest(struct account_store *s, int64_t id, char *out, size_t outsz,
			       ik_err *e);

/* The login log. */
struct account_login {
	int64_t time_ms;
	char service[16];
	char user[ACCOUNT_LABEL_MAX + 1];	/* as typed, truncated */
	char peer[ACCOUNT_PEER_MAX];
	char result[24];
};
int account_store_log_add(struct account_store *s, const struct account_login *l, ik_err *e);
typedef int (*account_login_fn)(const struct account_login *l, void *arg);
/* Newest first; user NULL for all. */
int account_store_log_list(struct account_store *s, const char *user, unsigned limit,
			   account_login_fn fn, void *arg, ik_err *e);
int account_store_log_prune(struct account_store *s, int64_t before_ms, ik_err *e);

#endif
