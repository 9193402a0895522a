/* Login failure counters and temporary lockout, in the account store. */
#include "core/account_lockout.h"

#include "core/account_store_int.h"
#include "lib/str.h"

void account_lockout_key(char *out, size_t outsz, const char *kind, const char *value)
{
	/* Truncation is fine: a key only has to be stable for one value. */
	if (str_fmt(out, outsz, "%s:%s", kind, value) < 0 && outsz > 0)
		out[outsz - 1] = '\0';
}

int account_lockout_check(struct account_store *s, const char *key, int64_t now_ms,
			  int64_t *until, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_lockout_check(store_pg(s), key, now_ms, until, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT locked_until FROM failures WHERE key = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int got = store_row(s, st, e);
	if (got <= 0)
		return got;
	int64_t t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (t <= now_ms)
		return 0;
	*until = t;
	return 1;
}

int account_lockout_fail(struct account_store *s, const char *key, unsigned limit,
			 uint64_t window_ms, uint64_t lockout_ms, int64_t now_ms, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_lockout_fail(store_pg(s), key, limit, window_ms, lockout_ms, now_ms, e);
	if (limit == 0)
		return 0;
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT count, since, locked_until FROM failures WHERE key = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int got = store_row(s, st, e);
	if (got < 0)
		return -1;
	int64_t count = 0, since = now_ms, locked = 0;
	if (got) {
		count = sqlite3_column_int64(st, 0);
		since = sqlite3_column_int64(st, 1);
		locked = sqlite3_column_int64(st, 2);
		sqlite3_finalize(st);
	}
	if (locked > now_ms)
		return 0;	/* already locked: a failure now does not extend it */
	if (now_ms - since >= (int64_t)window_ms || locked != 0) {
		count = 0;
		since = now_ms;
		locked = 0;
	}
	count++;
	int locked_now = 0;
	if (count >= (int64_t)limit) {
		locked = now_ms + (int64_t)lockout_ms;
		count = 0;
		since = now_ms;
		locked_now = 1;
	}
	if (store_prep(s, "INSERT INTO failures (key, count, since, locked_until) VALUES (?, ?, ?, ?)"
		       " ON CONFLICT (key) DO UPDATE SET count = excluded.count,"
		       " since = excluded.since, locked_until = excluded.locked_until", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, count);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, locked);
	if (store_run(s, st, e) < 0)
		return -1;
	return locked_now;
}

int account_lockout_clear(struct account_store *s, const char *key, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_lockout_clear(store_pg(s), key, e);
	sqlite3_stmt *st;
	if (store_prep(s, "DELETE FROM failures WHERE key = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return store_run(s, st, e) < 0 ? -1 : 0;
}

int account_lockout_prune(struct account_store *s, uint64_t window_ms, int64_t now_ms, ik_err *e)
{
	if (store_pg(s) != NULL)
		return pg_lockout_prune(store_pg(s), window_ms, now_ms, e);
	sqlite3_stmt *st;
	if (store_prep(s, "DELETE FROM failures WHERE locked_until <= ? AND since < ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, now_ms - (int64_t)window_ms);
	return store_run(s, st, e) < 0 ? -1 : 0;
}
