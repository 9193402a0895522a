/* The account store on SQLite: opening (WAL, busy timeout, migration,
 * file ownership) and the account rows. App passwords and the login log
 * are in account_rows.c. */
#include "core/account_store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/account_store_int.h"
#include "lib/str.h"

struct account_store {
	sqlite3 *db;
	struct pgstore *pg;		/* set: a PostgreSQL store, db is NULL */
	char path[ACCOUNT_PATH_MAX];	/* for a URL: without its password */
};

struct pgstore *store_pg(struct account_store *s) { return s->pg; }

sqlite3 *account_store_db(struct account_store *s) { return s->db; }
const char *account_store_path(const struct account_store *s) { return s->path; }

int store_prep(struct account_store *s, const char *sql, sqlite3_stmt **st, ik_err *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return ik_err_set(e, "%s: %s", s->path, sqlite3_errmsg(s->db));
	return 0;
}

int store_fail(struct account_store *s, sqlite3_stmt *st, ik_err *e)
{
	ik_err_set(e, "%s: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return -1;
}

/* Step a statement that returns no rows: 1 if it changed a row, else 0. */
int store_run(struct account_store *s, sqlite3_stmt *st, ik_err *e)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, st, e);
	sqlite3_finalize(st);
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int store_row(struct account_store *s, sqlite3_stmt *st, ik_err *e)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return store_fail(s, st, e);
	sqlite3_finalize(st);
	return 0;
}

int store_rows_end(struct account_store *s, sqlite3_stmt *st, int rc, ik_err *e)
{
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, st, e);
	sqlite3_finalize(st);
	return 0;
}

void store_text(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	str_copy(out, outsz, t ? (const char *)t : "");
}

/* A database written by root in a state directory that belongs to the
 * service user must stay writable by that user. */
static void give_to_dir_owner(const char *path)
{
	if (geteuid() != 0)
		return;
	char copy[ACCOUNT_PATH_MAX];
	if (str_copy(copy, sizeof copy, path) < 0)
		return;
	struct stat dir;
	if (stat(dirname(copy), &dir) < 0 || dir.st_uid == 0)
		return;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[ACCOUNT_PATH_MAX + 8];
		if (str_fmt(p, sizeof p, "%s%s", path, suffix[i]) < 0)
			continue;
		if (chown(p, dir.st_uid, dir.st_gid) < 0 && errno != ENOENT)
			continue;	/* best effort: serve reports what it cannot open */
	}
}

static int pragma(sqlite3 *db, const char *sql, const char *want, const char *path, ik_err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return ik_err_set(e, "%s: %s", path, sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ik_err_set(e, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	if (want != NULL) {
		const unsigned char *got = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
		if (got == NULL || strcmp((const char *)got, want) != 0) {
			ik_err_set(e, "%s: cannot switch to %s mode (got %s)", path, want,
				   got ? (const char *)got : "nothing");
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int open_pg(const char *url, struct account_store **out, ik_err *e)
{
	struct account_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return ik_err_set(e, "out of memory");
	if (pg_store_open(url, &s->pg, e) < 0) {
		free(s);
		return -1;
	}
	str_copy(s->path, sizeof s->path, pg_store_name(s->pg));
	*out = s;
	return 0;
}

int account_store_schema_version(struct account_store *s, int *version, ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_schema_version(s->pg, version, e);
	return account_schema_version(s->db, version, e);
}

int account_store_open(const char *path, unsigned flags, struct account_store **out, ik_err *e)
{
	*out = NULL;
	if (account_store_is_url(path))
		return open_pg(path, out, e);
	struct stat stbuf;
	if (stat(path, &stbuf) < 0) {
		if (errno != ENOENT)
			return ik_err_errno(e, errno, "cannot open the account store %s", path);
		if (!(flags & ACCOUNT_STORE_CREATE))
			return ik_err_set(e, "no account store at %s; create one with 'inetkit user add' "
					  "or by starting 'inetkit serve'", path);
		/* Created here, not by SQLite, to get mode 0600 (it holds hashes);
		 * SQLite gives the -wal and -shm files the same mode. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return ik_err_errno(e, errno, "cannot create the account store %s", path);
		if (fd >= 0)
			close(fd);
	} else if (!S_ISREG(stbuf.st_mode)) {
		return ik_err_set(e, "%s is not a file; --db names the accounts.db file", path);
	}
	struct account_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return ik_err_set(e, "out of memory");
	if (str_copy(s->path, sizeof s->path, path) < 0) {
		free(s);
		return ik_err_set(e, "path too long: %s", path);
	}
	/* NOMUTEX: each connection is used by one thread at a time. */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
	    != SQLITE_OK) {
		ik_err_set(e, "cannot open the account store %s: %s", path,
			   s->db ? sqlite3_errmsg(s->db) : "out of memory");
		account_store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, ACCOUNT_BUSY_TIMEOUT_MS);
	if (pragma(s->db, "PRAGMA journal_mode = WAL", "wal", path, e) < 0 ||
	    pragma(s->db, "PRAGMA synchronous = NORMAL", NULL, path, e) < 0 ||
	    pragma(s->db, "PRAGMA foreign_keys = ON", NULL, path, e) < 0 ||
	    account_schema_migrate(s->db, path, e) < 0) {
		if (e != NULL && strstr(e->msg, "file is not a database") != NULL)
			ik_err_set(e, "%s is not an SQLite database (is --db the accounts.db file?)", path);
		account_store_close(s);
		return -1;
	}
	give_to_dir_owner(path);
	*out = s;
	return 0;
}

void account_store_close(struct account_store *s)
{
	if (s == NULL)
		return;
	pg_store_close(s->pg);
	sqlite3_close_v2(s->db);
	free(s);
}

int account_store_tx(struct account_store *s, int (*fn)(struct account_store *s, void *arg),
		     void *arg, ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_tx(s, s->pg, fn, arg, e);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return ik_err_set(e, "%s: %s", s->path, sqlite3_errmsg(s->db));
	int rc = fn(s, arg);
	if (rc < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ik_err_set(e, "%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return rc;
}

#define ACCOUNT_COLS "id, name, class, home, rights, quota, expires, disabled, created, hash"

static void row_account(sqlite3_stmt *st, struct account *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	store_text(st, 1, a->name, sizeof a->name);
	char word[16];
	store_text(st, 2, word, sizeof word);
	a->cls = strcmp(word, "guest") == 0 ? ACCOUNT_GUEST : ACCOUNT_REAL;
	store_text(st, 3, a->home, sizeof a->home);
	store_text(st, 4, word, sizeof word);
	if (account_rights_parse(word, &a->rights) < 0)
		a->rights = ACCOUNT_RO;	/* unreadable: the least rights */
	a->quota = (uint64_t)sqlite3_column_int64(st, 5);
	a->expires = sqlite3_column_int64(st, 6);
	a->disabled = sqlite3_column_int(st, 7) != 0;
	a->created = sqlite3_column_int64(st, 8);
}

int account_store_add(struct account_store *s, const struct account *a, const char *hash,
		      ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_add(s->pg, a, hash, e);
	sqlite3_stmt *st;
	if (store_prep(s, "INSERT INTO accounts (name, class, hash, home, rights, quota, expires,"
		       " disabled, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, account_class_name(a->cls), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->home, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, account_rights_name(a->rights), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)a->quota);
	sqlite3_bind_int64(st, 7, a->expires);
	sqlite3_bind_int(st, 8, a->disabled);
	sqlite3_bind_int64(st, 9, a->created ? a->created : (int64_t)time(NULL));
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s, st, e);
	sqlite3_finalize(st);
	return 1;
}

int account_store_get(struct account_store *s, const char *name, struct account *a,
		      char *hash, size_t hashsz, ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_get(s->pg, name, a, hash, hashsz, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT " ACCOUNT_COLS " FROM accounts WHERE name = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int got = store_row(s, st, e);
	if (got <= 0)
		return got;
	row_account(st, a);
	if (hash != NULL)
		store_text(st, 9, hash, hashsz);
	sqlite3_finalize(st);
	return 1;
}

int account_store_list(struct account_store *s, account_each_fn fn, void *arg, ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_list(s->pg, fn, arg, e);
	sqlite3_stmt *st;
	if (store_prep(s, "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY name", &st, e) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct account a;
		row_account(st, &a);
		if (fn(&a, arg) < 0)
			break;
	}
	return store_rows_end(s, st, rc, e);
}

int account_store_del(struct account_store *s, const char *name, ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_del(s->pg, name, e);
	sqlite3_stmt *st;
	if (store_prep(s, "DELETE FROM accounts WHERE name = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_run(s, st, e);
}

int account_store_set_hash(struct account_store *s, const char *name, const char *hash,
			   ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_set_hash(s->pg, name, hash, e);
	sqlite3_stmt *st;
	if (store_prep(s, "UPDATE accounts SET hash = ? WHERE name = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return store_run(s, st, e);
}

int account_store_set_disabled(struct account_store *s, const char *name, bool disabled,
			       ik_err *e)
{
	if (s->pg != NULL)
		return pg_store_set_disabled(s->pg, name, disabled, e);
	sqlite3_stmt *st;
	if (store_prep(s, "UPDATE accounts SET disabled = ? WHERE name = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int(st, 1, disabled);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return store_run(s, st, e);
}
