/* Statement helpers shared by the account store's files (not for
 * services: they use core/account_store.h). */
#ifndef INETKIT_CORE_ACCOUNT_STORE_INT_H
#define INETKIT_CORE_ACCOUNT_STORE_INT_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/account_store.h"

int store_prep(struct account_store *s, const char *sql, sqlite3_stmt **st, ik_err *e);
/* Set e from the connection's last error, finalize st; returns -1. */
int store_fail(struct account_store *s, sqlite3_stmt *st, ik_err *e);
/* Step a statement without rows and finalize it: 1 if a row changed, 0 if
 * none, -1 on error. */
int store_run(struct account_store *s, sqlite3_stmt *st, ik_err *e);
/* Step a statement that yields at most one row: 1 with the row ready to
 * read (the caller finalizes st), 0 if none, -1 on error (both finalized). */
int store_row(struct account_store *s, sqlite3_stmt *st, ik_err *e);
/* After a `while ((rc = sqlite3_step(st)) == SQLITE_ROW)` loop, which may
 * have stopped early: finalize st; 0, or -1 if rc was an error. */
int store_rows_end(struct account_store *s, sqlite3_stmt *st, int rc, ik_err *e);
void store_text(sqlite3_stmt *st, int col, char *out, size_t outsz);

/* The PostgreSQL backend (account_store_pg.c): the same operations, each
 * public function of core/account_store.h and core/account_lockout.h
 * hands its call over when the store is one (store_pg). */
struct pgstore;
struct pgstore *store_pg(struct account_store *s);
int pg_store_open(const char *url, struct pgstore **out, ik_err *e);
void pg_store_close(struct pgstore *p);
const char *pg_store_name(const struct pgstore *p);
int pg_store_schema_version(struct pgstore *p, int *version, ik_err *e);
int pg_store_tx(struct account_store *s, struct pgstore *p,
		int (*fn)(struct account_store *s, void *arg), void *arg, ik_err *e);
int pg_store_add(struct pgstore *p, const struct account *a, const char *hash, ik_err *e);
int pg_store_get(struct pgstore *p, const char *name, struct account *a, char *hash,
		 size_t hashsz, ik_err *e);
int pg_store_list(struct pgstore *p, account_each_fn fn, void *arg, ik_err *e);
int pg_store_del(struct pgstore *p, const char *name, ik_err *e);
int pg_store_set_hash(struct pgstore *p, const char *name, const char *hash, ik_err *e);
int pg_store_set_disabled(struct pgstore *p, const char *name, bool disabled, ik_err *e);
int pg_store_token_add(struct pgstore *p, struct account_token *t, const char *digest,
		       ik_err *e);
int pg_store_token_list(struct pgstore *p, int64_t account_id, account_token_fn fn, void *arg,
			ik_err *e);
int pg_store_token_count(struct pgstore *p, int64_t account_id, int64_t *n, ik_err *e);
int pg_store_token_revoke(struct pgstore *p, int64_t account_id, const char *which,
			  struct account_token *gone, ik_err *e);
int pg_store_token_find(struct pgstore *p, int64_t account_id, const char *digest,
			struct account_token *t, ik_err *e);
int pg_store_token_used(struct pgstore *p, int64_t id, int64_t when, const char *service,
			const char *peer, ik_err *e);
int pg_store_token_digest(struct pgstore *p, int64_t id, char *out, size_t outsz, ik_err *e);
int pg_store_log_add(struct pgstore *p, const struct account_login *l, ik_err *e);
int pg_store_log_list(struct pgstore *p, const char *user, unsigned limit, account_login_fn fn,
		      void *arg, ik_err *e);
int pg_store_log_prune(struct pgstore *p, int64_t before_ms, ik_err *e);
int pg_lockout_check(struct pgstore *p, const char *key, int64_t now_ms, int64_t *until,
		     ik_err *e);
int pg_lockout_fail(struct pgstore *p, const char *key, unsigned limit, uint64_t window_ms,
		    uint64_t lockout_ms, int64_t now_ms, ik_err *e);
int pg_lockout_clear(struct pgstore *p, const char *key, ik_err *e);
int pg_lockout_prune(struct pgstore *p, uint64_t window_ms, int64_t now_ms, ik_err *e);

#endif
