/* The account store: rows, the v1 -> v2 migration, lockout counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "core/account_lockout.h"
#include "core/account_store.h"

static char dir[64];
static char db[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ik-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof db, "%s/accounts.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", db, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static struct account sample(const char *name, enum account_class cls)
{
	struct account a;
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	a.cls = cls;
	a.rights = cls == ACCOUNT_GUEST ? ACCOUNT_UPLOAD : ACCOUNT_RW;
	snprintf(a.home, sizeof a.home, "/srv/%s", name);
	a.quota = 1024;
	a.expires = cls == ACCOUNT_GUEST ? 2000000000 : 0;
	a.created = 1700000000;
	return a;
}

static int count_cb(const struct account *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static void rows(void **state)
{
	(void)state;
	ik_err e;
	struct account_store *s;
	assert_int_equal(account_store_open(db, 0, &s, &e), -1);
	char want[256];
	snprintf(want, sizeof want, "no account store at %s; create one with 'inetkit user add' or "
		 "by starting 'inetkit serve'", db);
	assert_string_equal(e.msg, want);
	assert_int_equal(account_store_open(db, ACCOUNT_STORE_CREATE, &s, &e), 0);
	struct stat st;
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct account a = sample("alice", ACCOUNT_REAL), b = sample("bob", ACCOUNT_GUEST), got;
	assert_int_equal(account_store_add(s, &a, "$y$hash-a", &e), 1);
	assert_int_equal(account_store_add(s, &b, "$y$hash-b", &e), 1);
	assert_int_equal(account_store_add(s, &a, "$y$again", &e), 0);
	char hash[64];
	assert_int_equal(account_store_get(s, "bob", &got, hash, sizeof hash, &e), 1);
	assert_string_equal(hash, "$y$hash-b");
	assert_string_equal(got.name, "bob");
	assert_int_equal(got.cls, ACCOUNT_GUEST);
	assert_int_equal(got.rights, ACCOUNT_UPLOAD);
	assert_string_equal(got.home, "/srv/bob");
	assert_true(got.quota == 1024 && got.expires == 2000000000 && got.created == 1700000000);
	assert_int_equal(account_store_get(s, "carol", &got, NULL, 0, &e), 0);
	int n = 0;
	assert_int_equal(account_store_list(s, count_cb, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(account_store_set_hash(s, "alice", "$y$new", &e), 1);
	assert_int_equal(account_store_set_disabled(s, "alice", true, &e), 1);
	assert_int_equal(account_store_get(s, "alice", &got, hash, sizeof hash, &e), 1);
	assert_string_equal(hash, "$y$new");
	assert_true(got.disabled);
	assert_int_equal(account_store_set_disabled(s, "carol", true, &e), 0);

	/* App passwords: unique label per account, gone with the account. */
	struct account_token t = {0};
	t.account_id = got.id;
	snprintf(t.label, sizeof t.label, "phone");
	snprintf(t.services, sizeof t.services, "imap");
	assert_int_equal(account_store_token_add(s, &t, "d1", &e), 1);
	assert_true(t.id > 0);
	assert_int_equal(account_store_token_add(s, &t, "d2", &e), 0);
	snprintf(t.label, sizeof t.label, "7");
	assert_int_equal(account_store_token_add(s, &t, "d3", &e), 1);
	struct account_token f;
	assert_int_equal(account_store_token_find(s, got.id, "d1", &f, &e), 1);
	assert_string_equal(f.label, "phone");
	assert_int_equal(account_store_token_used(s, f.id, 1800000000, "imap", "::1", &e), 1);
	assert_int_equal(account_store_token_find(s, got.id, "d1", &f, &e), 1);
	assert_true(f.last_used == 1800000000);
	assert_string_equal(f.last_peer, "::1");
	/* "7" is a label here, even though the id 7 might exist. */
	assert_int_equal(account_store_token_revoke(s, got.id, "7", &f, &e), 1);
	assert_string_equal(f.label, "7");
	char idtext[24];
	int64_t cnt;
	assert_int_equal(account_store_token_find(s, got.id, "d1", &f, &e), 1);
	snprintf(idtext, sizeof idtext, "%lld", (long long)f.id);
	assert_int_equal(account_store_token_revoke(s, got.id, "nope", &f, &e), 0);
	assert_int_equal(account_store_token_count(s, got.id, &cnt, &e), 0);
	assert_true(cnt == 1);
	assert_int_equal(account_store_del(s, "alice", &e), 1);
	assert_int_equal(account_store_token_count(s, got.id, &cnt, &e), 0);
	assert_true(cnt == 0);
	assert_int_equal(account_store_token_revoke(s, got.id, idtext, &f, &e), 0);
	assert_int_equal(account_store_del(s, "alice", &e), 0);
	account_store_close(s);
}

static void create_v1(const char *path)
{
	sqlite3 *d;
	assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
	const char *sql =
		"CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
		" class TEXT NOT NULL CHECK (class IN ('real', 'guest')), hash TEXT NOT NULL,"
		" home TEXT NOT NULL, rights TEXT NOT NULL DEFAULT 'rw'"
		" CHECK (rights IN ('rw', 'ro', 'upload')), expires INTEGER NOT NULL DEFAULT 0,"
		" disabled INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
		"CREATE TABLE logins (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
		" service TEXT NOT NULL, user TEXT NOT NULL, peer TEXT NOT NULL, result TEXT NOT NULL);"
		"INSERT INTO accounts (name, class, hash, home, rights, expires, created)"
		" VALUES ('olduser', 'guest', '$y$x', '/srv/old', 'ro', 2000000000, 1600000000);"
		"INSERT INTO logins (time, service, user, peer, result)"
		" VALUES (1600000123, 'ftp', 'olduser', '127.0.0.1', 'ok');"
		"PRAGMA user_version = 1;";
	assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(d);
}

static int keep_login(const struct account_login *l, void *arg)
{
	*(struct account_login *)arg = *l;
	return 0;
}

static void migrates_v1(void **state)
{
	(void)state;
	ik_err e;
	create_v1(db);
	struct account_store *s;
	assert_int_equal(account_store_open(db, 0, &s, &e), 0);
	int v = 0;
	assert_int_equal(account_schema_version(account_store_db(s), &v, &e), 0);
	assert_int_equal(v, ACCOUNT_SCHEMA_VERSION);
	struct account a;
	assert_int_equal(account_store_get(s, "olduser", &a, NULL, 0, &e), 1);
	assert_int_equal(a.cls, ACCOUNT_GUEST);
	assert_int_equal(a.rights, ACCOUNT_RO);
	assert_true(a.quota == 0);	/* the column v2 added */
	assert_true(a.expires == 2000000000);
	/* v1 kept login times in seconds; v2 in milliseconds. */
	struct account_login l;
	memset(&l, 0, sizeof l);
	assert_int_equal(account_store_log_list(s, "olduser", 5, keep_login, &l, &e), 0);
	assert_true(l.time_ms == 1600000123000LL);
	/* The v2 tables work. */
	struct account_token t = {0};
	t.account_id = a.id;
	snprintf(t.label, sizeof t.label, "x");
	snprintf(t.services, sizeof t.services, "ftp");
	assert_int_equal(account_store_token_add(s, &t, "dd", &e), 1);
	assert_int_equal(account_lockout_fail(s, "user:olduser", 5,
					      1000, 1000, 1, &e), 0);
	account_store_close(s);
	/* Opening again changes nothing. */
	assert_int_equal(account_store_open(db, 0, &s, &e), 0);
	assert_int_equal(account_store_log_list(s, "olduser", 5, keep_login, &l, &e), 0);
	assert_true(l.time_ms == 1600000123000LL);
	account_store_close(s);
}

static void refuses_newer_and_foreign_files(void **state)
{
	(void)state;
	ik_err e;
	sqlite3 *d;
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(d);
	struct account_store *s;
	assert_int_equal(account_store_open(db, 0, &s, &e), -1);
	char want[256];
	snprintf(want, sizeof want, "%s has schema version 9, newer than this inetkit knows (2); "
		 "use a newer inetkit", db);
	assert_string_equal(e.msg, want);
	unlink(db);
	FILE *f = fopen(db, "w");
	fputs("this is not a database, just some text that is long enough to matter\n"
	      "..............................................................................", f);
	fclose(f);
	assert_int_equal(account_store_open(db, 0, &s, &e), -1);
	snprintf(want, sizeof want, "%s is not an SQLite database (is --db the accounts.db file?)", db);
	assert_string_equal(e.msg, want);
	assert_int_equal(account_store_open(dir, 0, &s, &e), -1);
	snprintf(want, sizeof want, "%s is not a file; --db names the accounts.db file", dir);
	assert_string_equal(e.msg, want);
}

static void lockout(void **state)
{
	(void)state;
	ik_err e;
	struct account_store *s;
	assert_int_equal(account_store_open(db, ACCOUNT_STORE_CREATE, &s, &e), 0);
	const char *k = "user:alice";
	int64_t t0 = 1000000, until = 0;
	/* limit 3 in a 10 s window, locked for 5 s */
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 100, &e), 0);
	assert_int_equal(account_lockout_check(s, k, t0 + 200, &until, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 200, &e), 1);
	assert_int_equal(account_lockout_check(s, k, t0 + 300, &until, &e), 1);
	assert_true(until == t0 + 5200);
	/* Failing while locked does not extend the lock. */
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 400, &e), 0);
	assert_int_equal(account_lockout_check(s, k, t0 + 5199, &until, &e), 1);
	assert_int_equal(account_lockout_check(s, k, t0 + 5200, &until, &e), 0);
	/* After the lock, a fresh count. */
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 5300, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 5400, &e), 0);
	/* Failures spread wider than the window never lock. */
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 15300, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 15400, &e), 0);
	assert_int_equal(account_lockout_check(s, k, t0 + 15500, &until, &e), 0);
	/* Cleared by a success. */
	assert_int_equal(account_lockout_clear(s, k, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 15600, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 15700, &e), 0);
	assert_int_equal(account_lockout_check(s, k, t0 + 15800, &until, &e), 0);
	/* limit 0: off */
	for (int i = 0; i < 10; i++)
		assert_int_equal(account_lockout_fail(s, "ip:x", 0, 10000, 5000, t0, &e), 0);
	assert_int_equal(account_lockout_check(s, "ip:x", t0, &until, &e), 0);
	assert_int_equal(account_lockout_prune(s, 10000, t0 + 100000, &e), 0);
	assert_int_equal(account_lockout_fail(s, k, 3, 10000, 5000, t0 + 100000, &e), 0);
	account_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rows, setup, teardown),
		cmocka_unit_test_setup_teardown(migrates_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_newer_and_foreign_files, setup, teardown),
		cmocka_unit_test_setup_teardown(lockout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
