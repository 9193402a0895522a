/* Schema versions of accounts.db, kept in PRAGMA user_version. A new file
 * is taken through every step from 0, so the migrations that old files
 * need are the same code that every new file runs.
 *
 *   1  accounts, logins (time in seconds)
 *   2  app passwords (tokens), lockout counters (failures), quotas,
 *      login times in milliseconds with indexes for `user log` */
#include <sqlite3.h>

#include "core/account_store.h"
#include "lib/str.h"

struct step {
	int to;
	const char *sql;
};

static const struct step steps[] = {
	{1,
	 "CREATE TABLE accounts ("
	 " id INTEGER PRIMARY KEY,"
	 " name TEXT NOT NULL UNIQUE,"
	 " class TEXT NOT NULL CHECK (class IN ('real', 'guest')),"
	 " hash TEXT NOT NULL,"
	 " home TEXT NOT NULL,"
	 " rights TEXT NOT NULL DEFAULT 'rw' CHECK (rights IN ('rw', 'ro', 'upload')),"
	 " expires INTEGER NOT NULL DEFAULT 0,"
	 " disabled INTEGER NOT NULL DEFAULT 0,"
	 " created INTEGER NOT NULL);"
	 "CREATE TABLE logins ("
	 " id INTEGER PRIMARY KEY,"
	 " time INTEGER NOT NULL,"
	 " service TEXT NOT NULL,"
	 " user TEXT NOT NULL,"
	 " peer TEXT NOT NULL,"
	 " result TEXT NOT NULL);"},
	{2,
	 "ALTER TABLE accounts ADD COLUMN quota INTEGER NOT NULL DEFAULT 0;"
	 "CREATE TABLE tokens ("
	 " id INTEGER PRIMARY KEY,"
	 " account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " label TEXT NOT NULL,"
	 " digest TEXT NOT NULL UNIQUE,"
	 " services TEXT NOT NULL,"
	 " created INTEGER NOT NULL,"
	 " last_used INTEGER NOT NULL DEFAULT 0,"
	 " last_service TEXT NOT NULL DEFAULT '',"
	 " last_peer TEXT NOT NULL DEFAULT '',"
	 " UNIQUE (account, label));"
	 "CREATE INDEX tokens_account ON tokens(account);"
	 "CREATE TABLE failures ("
	 " key TEXT PRIMARY KEY,"
	 " count INTEGER NOT NULL,"
	 " since INTEGER NOT NULL,"
	 " locked_until INTEGER NOT NULL DEFAULT 0);"
	 "UPDATE logins SET time = time * 1000;"
	 "CREATE INDEX logins_time ON logins(time);"
	 "CREATE INDEX logins_user ON logins(user, time);"},
};

#define N_STEPS (sizeof steps / sizeof steps[0])

int account_schema_version(struct sqlite3 *db, int *version, ik_err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return ik_err_set(e, "cannot read the schema version: %s", sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ik_err_set(e, "cannot read the schema version: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int exec(struct sqlite3 *db, const char *sql, const char *what, ik_err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ik_err_set(e, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int account_schema_migrate(struct sqlite3 *db, const char *path, ik_err *e)
{
	int v;
	if (account_schema_version(db, &v, e) < 0)
		return -1;
	if (v == ACCOUNT_SCHEMA_VERSION)
		return 0;
	if (v > ACCOUNT_SCHEMA_VERSION)
		return ik_err_set(e, "%s has schema version %d, newer than this inetkit knows (%d); "
				  "use a newer inetkit", path, v, ACCOUNT_SCHEMA_VERSION);
	/* IMMEDIATE: two processes starting together migrate one after the
	 * other; the second then finds the work done. */
	if (exec(db, "BEGIN IMMEDIATE", "cannot lock the account store to upgrade it", e) < 0)
		return -1;
	if (account_schema_version(db, &v, e) < 0)
		goto fail;
	for (size_t i = 0; i < N_STEPS; i++) {
		if (steps[i].to <= v)
			continue;
		if (exec(db, steps[i].sql, "cannot upgrade the account store", e) < 0)
			goto fail;
		char sql[64];
		str_fmt(sql, sizeof sql, "PRAGMA user_version = %d", steps[i].to);
		if (exec(db, sql, "cannot record the schema version", e) < 0)
			goto fail;
		v = steps[i].to;
	}
	if (exec(db, "COMMIT", "cannot commit the schema upgrade", e) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ik_err_prefix(e, "%s", path);
}
