/* App password rows and the login log in the account store. */
#include <string.h>

#include "core/account_store_int.h"
#include "lib/str.h"

#define TOKEN_COLS "id, account, label, services, created, last_used, last_service, last_peer"

static void row_token(sqlite3_stmt *st, struct account_token *t)
{
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(st, 0);
	t->account_id = sqlite3_column_int64(st, 1);
	store_text(st, 2, t->label, sizeof t->label);
	store_text(st, 3, t->services, sizeof t->services);
	t->created = sqlite3_column_int64(st, 4);
	t->last_used = sqlite3_column_int64(st, 5);
	store_text(st, 6, t->last_service, sizeof t->last_service);
	store_text(st, 7, t->last_peer, sizeof t->last_peer);
}

int account_store_token_add(struct account_store *s, struct account_token *t,
			    const char *digest, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_add(store_pg(s), t, digest, e);
	sqlite3_stmt *st;
	if (store_prep(s, "INSERT INTO tokens (account, label, digest, services, created)"
		       " VALUES (?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->account_id);
	sqlite3_bind_text(st, 2, t->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->services, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->created);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s, st, e);
	sqlite3_finalize(st);
	t->id = sqlite3_last_insert_rowid(account_store_db(s));
	return 1;
}

int account_store_token_list(struct account_store *s, int64_t account_id, account_token_fn fn,
			     void *arg, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_list(store_pg(s), account_id, fn, arg, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT " TOKEN_COLS " FROM tokens WHERE account = ? ORDER BY id",
		       &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct account_token t;
		row_token(st, &t);
		if (fn(&t, arg) < 0)
			break;
	}
	return store_rows_end(s, st, rc, e);
}

int account_store_token_count(struct account_store *s, int64_t account_id, int64_t *n, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_count(store_pg(s), account_id, n, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT count(*) FROM tokens WHERE account = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail(s, st, e);
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* One token by a WHERE clause with the account id and one text value. */
static int token_get(struct account_store *s, const char *where, int64_t account_id,
		     const char *value, struct account_token *t, ik_err *e)
{
	char sql[256];
	if (str_fmt(sql, sizeof sql, "SELECT " TOKEN_COLS " FROM tokens WHERE account = ? AND %s",
		    where) < 0)
		return ik_err_set(e, "query too long");
	sqlite3_stmt *st;
	if (store_prep(s, sql, &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int got = store_row(s, st, e);
	if (got <= 0)
		return got;
	row_token(st, t);
	sqlite3_finalize(st);
	return 1;
}

int account_store_token_revoke(struct account_store *s, int64_t account_id, const char *which,
			       struct account_token *gone, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_revoke(store_pg(s), account_id, which, gone, e);
	uint64_t id;
	int rc = 0;
	/* A label may itself be all digits: the label wins over an id. */
	rc = token_get(s, "label = ?", account_id, which, gone, e);
	if (rc == 0 && str_to_u64(which, INT64_MAX, &id) == 0)
		rc = token_get(s, "id = CAST(? AS INTEGER)", account_id, which, gone, e);
	if (rc <= 0)
		return rc;
	sqlite3_stmt *st;
	if (store_prep(s, "DELETE FROM tokens WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, gone->id);
	return store_run(s, st, e);
}

int account_store_token_find(struct account_store *s, int64_t account_id, const char *digest,
			     struct account_token *t, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_find(store_pg(s), account_id, digest, t, e);
	return token_get(s, "digest = ?", account_id, digest, t, e);
}

int account_store_token_used(struct account_store *s, int64_t id, int64_t when,
			     const char *service, const char *peer, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_used(store_pg(s), id, when, service, peer, e);
	sqlite3_stmt *st;
	if (store_prep(s, "UPDATE tokens SET last_used = ?, last_service = ?, last_peer = ?"
		       " WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_text(st, 2, service, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, id);
	return store_run(s, st, e);
}

int account_store_token_digest(struct account_store *s, int64_t id, char *out, size_t outsz,
			       ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_token_digest(store_pg(s), id, out, outsz, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT digest FROM tokens WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int got = store_row(s, st, e);
	if (got <= 0)
		return got;
	store_text(st, 0, out, outsz);
	sqlite3_finalize(st);
	return 1;
}

int account_store_log_add(struct account_store *s, const struct account_login *l, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_log_add(store_pg(s), l, e);
	sqlite3_stmt *st;
	if (store_prep(s, "INSERT INTO logins (time, service, user, peer, result)"
		       " VALUES (?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, l->time_ms);
	sqlite3_bind_text(st, 2, l->service, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, l->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, l->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, l->result, -1, SQLITE_STATIC);
	return store_run(s, st, e) < 0 ? -1 : 0;
}

int account_store_log_list(struct account_store *s, const char *user, unsigned limit,
			   account_login_fn fn, void *arg, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_log_list(store_pg(s), user, limit, fn, arg, e);
	sqlite3_stmt *st;
	const char *sql = user != NULL
		? "SELECT time, service, user, peer, result FROM logins WHERE user = ?"
		  " ORDER BY time DESC, id DESC LIMIT ?"
		: "SELECT time, service, user, peer, result FROM logins"
		  " ORDER BY time DESC, id DESC LIMIT ?";
	if (store_prep(s, sql, &st, e) < 0)
		return -1;
	int i = 1;
	if (user != NULL)
		sqlite3_bind_text(st, i++, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct account_login l;
		memset(&l, 0, sizeof l);
		l.time_ms = sqlite3_column_int64(st, 0);
		store_text(st, 1, l.service, sizeof l.service);
		store_text(st, 2, l.user, sizeof l.user);
		store_text(st, 3, l.peer, sizeof l.peer);
		store_text(st, 4, l.result, sizeof l.result);
		if (fn(&l, arg) < 0)
			break;
	}
	return store_rows_end(s, st, rc, e);
}

int account_store_log_prune(struct account_store *s, int64_t before_ms, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_store_log_prune(store_pg(s), before_ms, e);
	sqlite3_stmt *st;
	if (store_prep(s, "DELETE FROM logins WHERE time < ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	return store_run(s, st, e) < 0 ? -1 : 0;
}
