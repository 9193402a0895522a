/* The account store on PostgreSQL (libpq), for several nodes sharing one
 * set of accounts, app passwords, lockout counters and login log. The
 * tables, columns and migration steps are those of the SQLite store
 * (account_schema.c), written in PostgreSQL's dialect; the version is kept
 * in a one-row table, inetkit_schema, and a migration holds an advisory
 * lock so that nodes starting together migrate one after the other.
 *
 * One connection per struct account_store, used by one thread at a time:
 * core/account_auth keeps a pool of them for its offload threads. A
 * connection found broken is reset before the next statement, so a
 * restarted server costs the logins in flight, not the node.
 *
 * Lockout counters are read with SELECT ... FOR UPDATE inside the
 * transaction that writes them: two nodes failing the same key at once
 * are serialised by the row lock, and neither loses the other's count. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <libpq-fe.h>

#include "core/account_store_int.h"
#include "lib/dynload.h"
#include "lib/str.h"

/* libpq is loaded when a store URL is first opened, not linked: it brings
 * about twenty libraries (Kerberos, LDAP, GnuTLS...) that every other
 * inetkit command would otherwise map and relocate at each start (a third
 * of a short command's run time: `inetkit mail send`, `inetkit addr`). The
 * header gives the types and constants at build time. */
DYNLOAD_PTR(PQclear);
DYNLOAD_PTR(PQntuples);
DYNLOAD_PTR(PQexec);
DYNLOAD_PTR(PQerrorMessage);
DYNLOAD_PTR(PQstatus);
DYNLOAD_PTR(PQresultStatus);
DYNLOAD_PTR(PQresultErrorMessage);
DYNLOAD_PTR(PQgetvalue);
DYNLOAD_PTR(PQsetNoticeProcessor);
DYNLOAD_PTR(PQreset);
DYNLOAD_PTR(PQfinish);
DYNLOAD_PTR(PQexecParams);
DYNLOAD_PTR(PQconnectdb);
DYNLOAD_PTR(PQcmdTuples);

static const struct dynload_sym pq_syms[] = {
	DYNLOAD_SYM(PQclear),
	DYNLOAD_SYM(PQntuples),
	DYNLOAD_SYM(PQexec),
	DYNLOAD_SYM(PQerrorMessage),
	DYNLOAD_SYM(PQstatus),
	DYNLOAD_SYM(PQresultStatus),
	DYNLOAD_SYM(PQresultErrorMessage),
	DYNLOAD_SYM(PQgetvalue),
	DYNLOAD_SYM(PQsetNoticeProcessor),
	DYNLOAD_SYM(PQreset),
	DYNLOAD_SYM(PQfinish),
	DYNLOAD_SYM(PQexecParams),
	DYNLOAD_SYM(PQconnectdb),
	DYNLOAD_SYM(PQcmdTuples),
};
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static ik_err pq_err;
static int pq_rc = -1;

static void pq_load_once(void)
{
	pq_rc = dynload("libpq.so.5", pq_syms, sizeof pq_syms / sizeof pq_syms[0],
			"a PostgreSQL account store", "libpq5", &pq_err);
}

static int pq_load(ik_err *e)
{
	pthread_once(&pq_once, pq_load_once);
	if (pq_rc == 0)
		return 0;
	return ik_err_set(e, "%s", pq_err.msg);
}

#define PQclear dl_PQclear
#define PQntuples dl_PQntuples
#define PQexec dl_PQexec
#define PQerrorMessage dl_PQerrorMessage
#define PQstatus dl_PQstatus
#define PQresultStatus dl_PQresultStatus
#define PQresultErrorMessage dl_PQresultErrorMessage
#define PQgetvalue dl_PQgetvalue
#define PQsetNoticeProcessor dl_PQsetNoticeProcessor
#define PQreset dl_PQreset
#define PQfinish dl_PQfinish
#define PQexecParams dl_PQexecParams
#define PQconnectdb dl_PQconnectdb
#define PQcmdTuples dl_PQcmdTuples

#define SCHEMA_LOCK_KEY "7596005620264370276"	/* any constant, the same for every node */

struct pgstore {
	PGconn *conn;
	char name[ACCOUNT_PATH_MAX];	/* the URL without its password, for messages */
	bool in_tx;
};

bool account_store_is_url(const char *path)
{
	return str_has_prefix(path, "postgresql://") || str_has_prefix(path, "postgres://");
}

void account_store_url_redact(const char *url, char *out, size_t outsz)
{
	str_copy(out, outsz, url);
	char *rest = strstr(out, "://");
	if (rest == NULL)
		return;
	rest += 3;
	char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
	if (at == NULL || (slash != NULL && slash < at))
		return;
	char *colon = memchr(rest, ':', (size_t)(at - rest));
	if (colon == NULL)
		return;
	char tail[ACCOUNT_PATH_MAX];
	str_copy(tail, sizeof tail, at);
	colon[1] = '\0';
	size_t used = strlen(out);
	str_fmt(out + used, outsz - used, "***%s", tail);
}

/* A message without libpq's trailing newline. */
static int fail_msg(struct pgstore *p, const char *msg, ik_err *e)
{
	char text[IK_ERR_MAX];
	str_copy(text, sizeof text, msg != NULL && *msg ? msg : "unknown error");
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	return ik_err_set(e, "%s: %s", p->name, text);
}

/* Run sql with text parameters; the result when it succeeded (the caller
 * clears it), else NULL with e set. A broken connection is reset for the
 * next statement (never inside a transaction: that one is lost anyway). */
static PGresult *run(struct pgstore *p, const char *sql, int n, const char *const *v, ik_err *e)
{
	if (PQstatus(p->conn) == CONNECTION_BAD && !p->in_tx)
		PQreset(p->conn);
	PGresult *res = PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		return res;
	fail_msg(p, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(p->conn), e);
	PQclear(res);
	return NULL;
}

/* A statement without rows: 1 if it changed a row, 0 if none, -1. */
static int run_changes(struct pgstore *p, const char *sql, int n, const char *const *v, ik_err *e)
{
	PGresult *res = run(p, sql, n, v, e);
	if (res == NULL)
		return -1;
	const char *k = PQcmdTuples(res);
	int changed = k != NULL && *k != '\0' && strcmp(k, "0") != 0;
	PQclear(res);
	return changed;
}

static int64_t col_i64(const PGresult *res, int row, int col)
{
	const char *t = PQgetvalue(res, row, col);
	return t != NULL ? strtoll(t, NULL, 10) : 0;
}

static void col_text(const PGresult *res, int row, int col, char *out, size_t outsz)
{
	const char *t = PQgetvalue(res, row, col);
	str_copy(out, outsz, t != NULL ? t : "");
}

struct num {
	char s[24];
};

static const char *num(struct num *n, int64_t v)
{
	str_fmt(n->s, sizeof n->s, "%" PRId64, v);
	return n->s;
}

/* ---- schema ---- */

struct pg_step {
	int to;
	const char *sql;
};

/* The steps of account_schema.c, version for version. */
static const struct pg_step pg_steps[] = {
	{1,
	 "CREATE TABLE accounts ("
	 " id BIGSERIAL PRIMARY KEY,"
	 " name TEXT NOT NULL UNIQUE,"
	 " class TEXT NOT NULL CHECK (class IN ('real', 'guest')),"
	 " hash TEXT NOT NULL,"
	 " home TEXT NOT NULL,"
	 " rights TEXT NOT NULL DEFAULT 'rw' CHECK (rights IN ('rw', 'ro', 'upload')),"
	 " expires BIGINT NOT NULL DEFAULT 0,"
	 " disabled INTEGER NOT NULL DEFAULT 0,"
	 " created BIGINT NOT NULL);"
	 "CREATE TABLE logins ("
	 " id BIGSERIAL PRIMARY KEY,"
	 " time BIGINT NOT NULL,"
	 " service TEXT NOT NULL,"
	 " \"user\" TEXT NOT NULL,"
	 " peer TEXT NOT NULL,"
	 " result TEXT NOT NULL);"},
	{2,
	 "ALTER TABLE accounts ADD COLUMN quota BIGINT NOT NULL DEFAULT 0;"
	 "CREATE TABLE tokens ("
	 " id BIGSERIAL PRIMARY KEY,"
	 " account BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " label TEXT NOT NULL,"
	 " digest TEXT NOT NULL UNIQUE,"
	 " services TEXT NOT NULL,"
	 " created BIGINT NOT NULL,"
	 " last_used BIGINT NOT NULL DEFAULT 0,"
	 " last_service TEXT NOT NULL DEFAULT '',"
	 " last_peer TEXT NOT NULL DEFAULT '',"
	 " UNIQUE (account, label));"
	 "CREATE INDEX tokens_account ON tokens(account);"
	 "CREATE TABLE failures ("
	 " key TEXT PRIMARY KEY,"
	 " count BIGINT NOT NULL,"
	 " since BIGINT NOT NULL,"
	 " locked_until BIGINT NOT NULL DEFAULT 0);"
	 "UPDATE logins SET time = time * 1000;"
	 "CREATE INDEX logins_time ON logins(time);"
	 "CREATE INDEX logins_user ON logins(\"user\", time);"},
};

static int exec_simple(struct pgstore *p, const char *sql, ik_err *e)
{
	PGresult *res = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		PQclear(res);
		return 0;
	}
	fail_msg(p, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(p->conn), e);
	PQclear(res);
	return -1;
}

int pg_store_schema_version(struct pgstore *p, int *version, ik_err *e)
{
	PGresult *res = run(p, "SELECT version FROM inetkit_schema", 0, NULL, e);
	if (res == NULL)
		return -1;
	*version = PQntuples(res) > 0 ? (int)col_i64(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

static int migrate(struct pgstore *p, ik_err *e)
{
	if (exec_simple(p, "BEGIN", e) < 0)
		return -1;
	int v;
	if (exec_simple(p, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ")", e) < 0 ||
	    exec_simple(p, "CREATE TABLE IF NOT EXISTS inetkit_schema (version INTEGER NOT NULL)",
			e) < 0 ||
	    pg_store_schema_version(p, &v, e) < 0)
		goto fail;
	if (v > ACCOUNT_SCHEMA_VERSION) {
		ik_err_set(e, "%s has schema version %d, newer than this inetkit knows (%d); use a "
			   "newer inetkit", p->name, v, ACCOUNT_SCHEMA_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof pg_steps / sizeof pg_steps[0]; i++) {
		if (pg_steps[i].to <= v)
			continue;
		if (exec_simple(p, pg_steps[i].sql, e) < 0)
			goto fail;
		v = pg_steps[i].to;
	}
	struct num n;
	const char *args[] = {num(&n, v)};
	if (exec_simple(p, "DELETE FROM inetkit_schema", e) < 0 ||
	    run_changes(p, "INSERT INTO inetkit_schema (version) VALUES ($1)", 1, args, e) < 0 ||
	    exec_simple(p, "COMMIT", e) < 0)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(p->conn, "ROLLBACK"));
	return ik_err_prefix(e, "cannot upgrade the account store");
}

int pg_store_open(const char *url, struct pgstore **out, ik_err *e)
{
	*out = NULL;
	if (pq_load(e) < 0)
		return -1;
	struct pgstore *p = calloc(1, sizeof *p);
	if (p == NULL)
		return ik_err_set(e, "out of memory");
	account_store_url_redact(url, p->name, sizeof p->name);
	p->conn = PQconnectdb(url);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		ik_err_set(e, "cannot open the account store %s: %s", p->name,
			   p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory");
		size_t n = strlen(e != NULL ? e->msg : "");
		while (e != NULL && n > 0 && e->msg[n - 1] == '\n')
			e->msg[--n] = '\0';
		pg_store_close(p);
		return -1;
	}
	/* Notices (a table that already exists) are not the user's business. */
	PQsetNoticeProcessor(p->conn, NULL, NULL);
	if (exec_simple(p, "SET client_min_messages = warning", e) < 0 || migrate(p, e) < 0) {
		pg_store_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

void pg_store_close(struct pgstore *p)
{
	if (p == NULL)
		return;
	PQfinish(p->conn);
	free(p);
}

const char *pg_store_name(const struct pgstore *p) { return p->name; }

int pg_store_tx(struct account_store *s, struct pgstore *p,
		int (*fn)(struct account_store *s, void *arg), void *arg, ik_err *e)
{
	if (exec_simple(p, "BEGIN", e) < 0)
		return -1;
	p->in_tx = true;
	int rc = fn(s, arg);
	p->in_tx = false;
	if (rc < 0) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return rc;
	}
	if (exec_simple(p, "COMMIT", e) < 0) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return -1;
	}
	return rc;
}

/* ---- accounts ---- */

#define ACCOUNT_COLS "id, name, class, home, rights, quota, expires, disabled, created, hash"

static void row_account(const PGresult *res, int row, struct account *a)
{
	memset(a, 0, sizeof *a);
	a->id = col_i64(res, row, 0);
	col_text(res, row, 1, a->name, sizeof a->name);
	char word[16];
	col_text(res, row, 2, word, sizeof word);
	a->cls = strcmp(word, "guest") == 0 ? ACCOUNT_GUEST : ACCOUNT_REAL;
	col_text(res, row, 3, a->home, sizeof a->home);
	col_text(res, row, 4, word, sizeof word);
	if (account_rights_parse(word, &a->rights) < 0)
		a->rights = ACCOUNT_RO;
	a->quota = (uint64_t)col_i64(res, row, 5);
	a->expires = col_i64(res, row, 6);
	a->disabled = col_i64(res, row, 7) != 0;
	a->created = col_i64(res, row, 8);
}

int pg_store_add(struct pgstore *p, const struct account *a, const char *hash, ik_err *e)
{
	struct num q, x, d, c;
	const char *v[] = {a->name, account_class_name(a->cls), hash, a->home,
			   account_rights_name(a->rights), num(&q, (int64_t)a->quota),
			   num(&x, a->expires), num(&d, a->disabled ? 1 : 0),
			   num(&c, a->created ? a->created : (int64_t)time(NULL))};
	PGresult *res = run(p, "INSERT INTO accounts (name, class, hash, home, rights, quota, "
			    "expires, disabled, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			    " ON CONFLICT DO NOTHING RETURNING id", 9, v, e);
	if (res == NULL)
		return -1;
	int added = PQntuples(res) > 0;
	PQclear(res);
	return added;
}

int pg_store_get(struct pgstore *p, const char *name, struct account *a, char *hash,
		 size_t hashsz, ik_err *e)
{
	const char *v[] = {name};
	PGresult *res = run(p, "SELECT " ACCOUNT_COLS " FROM accounts WHERE name = $1", 1, v, e);
	if (res == NULL)
		return -1;
	int got = PQntuples(res) > 0;
	if (got) {
		row_account(res, 0, a);
		if (hash != NULL)
			col_text(res, 0, 9, hash, hashsz);
	}
	PQclear(res);
	return got;
}

int pg_store_list(struct pgstore *p, account_each_fn fn, void *arg, ik_err *e)
{
	PGresult *res = run(p, "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY name", 0, NULL, e);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct account a;
		row_account(res, i, &a);
		if (fn(&a, arg) < 0)
			break;
	}
	PQclear(res);
	return 0;
}

int pg_store_del(struct pgstore *p, const char *name, ik_err *e)
{
	const char *v[] = {name};
	return run_changes(p, "DELETE FROM accounts WHERE name = $1", 1, v, e);
}

int pg_store_set_hash(struct pgstore *p, const char *name, const char *hash, ik_err *e)
{
	const char *v[] = {hash, name};
	return run_changes(p, "UPDATE accounts SET hash = $1 WHERE name = $2", 2, v, e);
}

int pg_store_set_disabled(struct pgstore *p, const char *name, bool disabled, ik_err *e)
{
	const char *v[] = {disabled ? "1" : "0", name};
	return run_changes(p, "UPDATE accounts SET disabled = $1 WHERE name = $2", 2, v, e);
}

/* ---- app passwords ---- */

#define TOKEN_COLS "id, account, label, services, created, last_used, last_service, last_peer"

static void row_token(const PGresult *res, int row, struct account_token *t)
{
	memset(t, 0, sizeof *t);
	t->id = col_i64(res, row, 0);
	t->account_id = col_i64(res, row, 1);
	col_text(res, row, 2, t->label, sizeof t->label);
	col_text(res, row, 3, t->services, sizeof t->services);
	t->created = col_i64(res, row, 4);
	t->last_used = col_i64(res, row, 5);
	col_text(res, row, 6, t->last_service, sizeof t->last_service);
	col_text(res, row, 7, t->last_peer, sizeof t->last_peer);
}

int pg_store_token_add(struct pgstore *p, struct account_token *t, const char *digest, ik_err *e)
{
	struct num a, c;
	const char *v[] = {num(&a, t->account_id), t->label, digest, t->services,
			   num(&c, t->created)};
	PGresult *res = run(p, "INSERT INTO tokens (account, label, digest, services, created)"
			    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id", 5, v, e);
	if (res == NULL)
		return -1;
	int added = PQntuples(res) > 0;
	if (added)
		t->id = col_i64(res, 0, 0);
	PQclear(res);
	return added;
}

int pg_store_token_list(struct pgstore *p, int64_t account_id, account_token_fn fn, void *arg,
			ik_err *e)
{
	struct num a;
	const char *v[] = {num(&a, account_id)};
	PGresult *res = run(p, "SELECT " TOKEN_COLS " FROM tokens WHERE account = $1 ORDER BY id",
			    1, v, e);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct account_token t;
		row_token(res, i, &t);
		if (fn(&t, arg) < 0)
			break;
	}
	PQclear(res);
	return 0;
}

int pg_store_token_count(struct pgstore *p, int64_t account_id, int64_t *n, ik_err *e)
{
	struct num a;
	const char *v[] = {num(&a, account_id)};
	PGresult *res = run(p, "SELECT count(*) FROM tokens WHERE account = $1", 1, v, e);
	if (res == NULL)
		return -1;
	*n = col_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

static int token_get(struct pgstore *p, const char *where, int64_t account_id, const char *value,
		     struct account_token *t, ik_err *e)
{
	char sql[256];
	if (str_fmt(sql, sizeof sql, "SELECT " TOKEN_COLS " FROM tokens WHERE account = $1 AND %s",
		    where) < 0)
		return ik_err_set(e, "query too long");
	struct num a;
	const char *v[] = {num(&a, account_id), value};
	PGresult *res = run(p, sql, 2, v, e);
	if (res == NULL)
		return -1;
	int got = PQntuples(res) > 0;
	if (got)
		row_token(res, 0, t);
	PQclear(res);
	return got;
}

int pg_store_token_revoke(struct pgstore *p, int64_t account_id, const char *which,
			  struct account_token *gone, ik_err *e)
{
	uint64_t id;
	int rc = token_get(p, "label = $2", account_id, which, gone, e);
	if (rc == 0 && str_to_u64(which, INT64_MAX, &id) == 0)
		rc = token_get(p, "id = $2::bigint", account_id, which, gone, e);
	if (rc <= 0)
		return rc;
	struct num n;
	const char *v[] = {num(&n, gone->id)};
	return run_changes(p, "DELETE FROM tokens WHERE id = $1", 1, v, e);
}

int pg_store_token_find(struct pgstore *p, int64_t account_id, const char *digest,
			struct account_token *t, ik_err *e)
{
	return token_get(p, "digest = $2", account_id, digest, t, e);
}

int pg_store_token_used(struct pgstore *p, int64_t id, int64_t when, const char *service,
			const char *peer, ik_err *e)
{
	struct num w, i;
	const char *v[] = {num(&w, when), service, peer, num(&i, id)};
	return run_changes(p, "UPDATE tokens SET last_used = $1, last_service = $2, last_peer = $3"
			   " WHERE id = $4", 4, v, e);
}

int pg_store_token_digest(struct pgstore *p, int64_t id, char *out, size_t outsz, ik_err *e)
{
	struct num n;
	const char *v[] = {num(&n, id)};
	PGresult *res = run(p, "SELECT digest FROM tokens WHERE id = $1", 1, v, e);
	if (res == NULL)
		return -1;
	int got = PQntuples(res) > 0;
	if (got)
		col_text(res, 0, 0, out, outsz);
	PQclear(res);
	return got;
}

/* ---- the login log ---- */

int pg_store_log_add(struct pgstore *p, const struct account_login *l, ik_err *e)
{
	struct num t;
	const char *v[] = {num(&t, l->time_ms), l->service, l->user, l->peer, l->result};
	return run_changes(p, "INSERT INTO logins (time, service, \"user\", peer, result)"
			   " VALUES ($1, $2, $3, $4, $5)", 5, v, e) < 0 ? -1 : 0;
}

int pg_store_log_list(struct pgstore *p, const char *user, unsigned limit, account_login_fn fn,
		      void *arg, ik_err *e)
{
	struct num n;
	PGresult *res;
	if (user != NULL) {
		const char *v[] = {user, num(&n, limit)};
		res = run(p, "SELECT time, service, \"user\", peer, result FROM logins"
			  " WHERE \"user\" = $1 ORDER BY time DESC, id DESC LIMIT $2", 2, v, e);
	} else {
		const char *v[] = {num(&n, limit)};
		res = run(p, "SELECT time, service, \"user\", peer, result FROM logins"
			  " ORDER BY time DESC, id DESC LIMIT $1", 1, v, e);
	}
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct account_login l;
		memset(&l, 0, sizeof l);
		l.time_ms = col_i64(res, i, 0);
		col_text(res, i, 1, l.service, sizeof l.service);
		col_text(res, i, 2, l.user, sizeof l.user);
		col_text(res, i, 3, l.peer, sizeof l.peer);
		col_text(res, i, 4, l.result, sizeof l.result);
		if (fn(&l, arg) < 0)
			break;
	}
	PQclear(res);
	return 0;
}

int pg_store_log_prune(struct pgstore *p, int64_t before_ms, ik_err *e)
{
	struct num b;
	const char *v[] = {num(&b, before_ms)};
	return run_changes(p, "DELETE FROM logins WHERE time < $1", 1, v, e) < 0 ? -1 : 0;
}

/* ---- lockout counters ---- */

int pg_lockout_check(struct pgstore *p, const char *key, int64_t now_ms, int64_t *until,
		     ik_err *e)
{
	const char *v[] = {key};
	PGresult *res = run(p, "SELECT locked_until FROM failures WHERE key = $1", 1, v, e);
	if (res == NULL)
		return -1;
	int64_t t = PQntuples(res) > 0 ? col_i64(res, 0, 0) : 0;
	PQclear(res);
	if (t <= now_ms)
		return 0;
	*until = t;
	return 1;
}

/* Inside a transaction: the row is made if missing, then locked. */
static int fail_locked(struct pgstore *p, const char *key, unsigned limit, uint64_t window_ms,
		       uint64_t lockout_ms, int64_t now_ms, ik_err *e)
{
	struct num nw;
	const char *ins[] = {key, num(&nw, now_ms)};
	if (run_changes(p, "INSERT INTO failures (key, count, since, locked_until)"
			" VALUES ($1, 0, $2, 0) ON CONFLICT (key) DO NOTHING", 2, ins, e) < 0)
		return -1;
	const char *sel[] = {key};
	PGresult *res = run(p, "SELECT count, since, locked_until FROM failures WHERE key = $1"
			    " FOR UPDATE", 1, sel, e);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return ik_err_set(e, "%s: lockout row vanished", p->name);
	}
	int64_t count = col_i64(res, 0, 0), since = col_i64(res, 0, 1),
		locked = col_i64(res, 0, 2);
	PQclear(res);
	/* The rules of account_lockout.c, on the locked row. */
	if (locked > now_ms)
		return 0;
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
	struct num c, s, l;
	const char *upd[] = {num(&c, count), num(&s, since), num(&l, locked), key};
	if (run_changes(p, "UPDATE failures SET count = $1, since = $2, locked_until = $3"
			" WHERE key = $4", 4, upd, e) < 0)
		return -1;
	return locked_now;
}

int pg_lockout_fail(struct pgstore *p, const char *key, unsigned limit, uint64_t window_ms,
		    uint64_t lockout_ms, int64_t now_ms, ik_err *e)
{
	if (limit == 0)
		return 0;
	if (p->in_tx)
		return fail_locked(p, key, limit, window_ms, lockout_ms, now_ms, e);
	if (exec_simple(p, "BEGIN", e) < 0)
		return -1;
	p->in_tx = true;
	int rc = fail_locked(p, key, limit, window_ms, lockout_ms, now_ms, e);
	p->in_tx = false;
	if (rc < 0 || exec_simple(p, "COMMIT", e) < 0) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return -1;
	}
	return rc;
}

int pg_lockout_clear(struct pgstore *p, const char *key, ik_err *e)
{
	const char *v[] = {key};
	return run_changes(p, "DELETE FROM failures WHERE key = $1", 1, v, e) < 0 ? -1 : 0;
}

int pg_lockout_prune(struct pgstore *p, uint64_t window_ms, int64_t now_ms, ik_err *e)
{
	struct num n, w;
	const char *v[] = {num(&n, now_ms), num(&w, now_ms - (int64_t)window_ms)};
	return run_changes(p, "DELETE FROM failures WHERE locked_until <= $1 AND since < $2", 2, v,
			   e) < 0 ? -1 : 0;
}
