/* Accounts shared by every service: the three kinds of user of the classic
 * FTP model (RFC 959 USER/PASS, RFC 1635 anonymous FTP), reused by SMTP
 * AUTH (RFC 4954), POP3 (RFC 1939) and IMAP (RFC 9051) logins.
 *
 *   real       stored: password, home it may read and write, quota
 *   guest      stored: like real, but expires and has restricted rights
 *              (ro, rw, or upload = write-only drop box) in its home
 *   anonymous  not stored: a name the protocol reserves for it (FTP's
 *              "anonymous" and "ftp", src/ftpd/ftpd_anon.h), when the
 *              service's config enables it
 * plus app passwords: random extra passwords per account, each valid for a
 * chosen set of services.
 *
 * Services authenticate with account_verify() (core/account_auth.c): the
 * hash runs on the offload pool and the answer comes back on the loop. A
 * failed login is answered only after [accounts] failure_delay, whatever
 * the reason, and UNKNOWN / BAD_PASSWORD / WRONG_SERVICE must get the same
 * reply (account_status_public) so that nobody learns which names exist. */
#ifndef INETKIT_CORE_ACCOUNT_H
#define INETKIT_CORE_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "lib/error.h"
#include "core/loop.h"

#define ACCOUNT_NAME_MAX 32
#define ACCOUNT_PATH_MAX 1024
#define ACCOUNT_LABEL_MAX 64
#define ACCOUNT_PASSWORD_MAX 256
#define ACCOUNT_SERVICES_MAX 64		/* "ftp,smtp,pop3,imap" */
#define ACCOUNT_PEER_MAX 64
#define ACCOUNT_DEFAULT_STATE_DIR "/var/lib/inetkit"
#define ACCOUNT_DB_NAME "accounts.db"

enum account_class { ACCOUNT_REAL, ACCOUNT_GUEST, ACCOUNT_ANON };
enum account_rights { ACCOUNT_RW, ACCOUNT_RO, ACCOUNT_UPLOAD };

struct account {
	int64_t id;			/* 0 for anonymous */
	char name[ACCOUNT_NAME_MAX + 1];
	enum account_class cls;
	enum account_rights rights;
	char home[ACCOUNT_PATH_MAX];	/* absolute; the root it is confined to */
	char upload[ACCOUNT_PATH_MAX];	/* anonymous: upload dir under home, "" none */
	uint64_t quota;			/* bytes, 0 = no limit */
	int64_t expires;		/* unix seconds, 0 = never */
	int64_t created;		/* unix seconds */
	bool disabled;
};

enum account_status {
	ACCOUNT_OK,
	ACCOUNT_UNKNOWN,	/* no such account */
	ACCOUNT_BAD_PASSWORD,
	ACCOUNT_WRONG_SERVICE,	/* an app password not valid for this service */
	ACCOUNT_EXPIRED,	/* right password, guest past its expiry */
	ACCOUNT_DISABLED,	/* right password, account disabled */
	ACCOUNT_LOCKED,		/* too many failures from this account or address */
	ACCOUNT_NO_ANONYMOUS,	/* anonymous login is off for this service */
	ACCOUNT_BUSY,		/* the hashing queue is full */
	ACCOUNT_ERROR,		/* the store failed; see the log */
};

/* "ok", "unknown", "bad_password", ... : the login log's result column. */
const char *account_status_word(enum account_status s);
/* What a client may be told: "login incorrect" for UNKNOWN, BAD_PASSWORD and
 * WRONG_SERVICE alike; "account expired", "account disabled", ... */
const char *account_status_public(enum account_status s);
const char *account_class_name(enum account_class c);	/* "real" ... */
const char *account_rights_name(enum account_rights r);	/* "rw" ... */
int account_class_parse(const char *s, enum account_class *out);	/* real|guest */
int account_rights_parse(const char *s, enum account_rights *out);

/* Names: 1-32 of a-z 0-9 . _ -, starting with a letter or digit; not a
 * reserved name (below): "... it is reserved for <why>". */
int account_name_check(const char *name, ik_err *e);
/* App password labels: 1-64 printable characters. */
int account_label_check(const char *label, ik_err *e);
/* Services an app password may name. */
extern const char *const account_services[];	/* NULL-terminated */
/* "ftp, smtp" -> canonical "ftp,smtp" (order of account_services). */
int account_services_parse(const char *list, char *out, size_t outsz, ik_err *e);
bool account_services_has(const char *list, const char *service);

/* Expiry times (account_time.c). Accepts an ISO 8601 date or date-time,
 * "2026-12-31", "2026-12-31T18:00", "2026-12-31 18:00:00", with "Z" or an
 * offset such as "+02:00" (without one: local time; a date alone means the
 * end of that day), or a duration from now: "90m", "12h", "7d", "2w".
 * The result (unix seconds) must lie after now. */
int account_parse_expiry(const char *s, int64_t now, int64_t *out, ik_err *e);
/* "2026-12-31T18:00:00Z" (UTC). */
const char *account_format_time(int64_t t, char *buf, size_t bufsz);

/* [accounts] and [serve] state_dir, with their documented defaults. */
struct account_policy {
	char state_dir[ACCOUNT_PATH_MAX];	/* absolute */
	char db_path[ACCOUNT_PATH_MAX];		/* state_dir/accounts.db, or [accounts] store */
	unsigned hash_threads;		/* hash_threads = 2 */
	unsigned hash_queue;		/* hash_queue = 256 */
	unsigned hash_cost;		/* hash_cost = 0: libxcrypt's default */
	uint64_t failure_delay_ms;	/* failure_delay = 1s */
	unsigned user_failures;		/* lockout_failures = 5 (0 = off) */
	unsigned ip_failures;		/* lockout_ip_failures = 20 (0 = off) */
	uint64_t window_ms;		/* lockout_window = 15m */
	uint64_t lockout_ms;		/* lockout_time = 15m */
	uint64_t log_keep_ms;		/* login_log_keep = 90d */
};

void account_policy_defaults(struct account_policy *p);
/* Set state_dir (relative paths are taken from the current directory) and
 * the database path in it. */
int account_policy_set_state_dir(struct account_policy *p, const char *dir, ik_err *e);
/* Read [serve] state_dir and every key of [accounts]. */
int account_policy_configure(struct cfg *c, struct account_policy *p, ik_err *e);
/* [accounts] store alone: db_path becomes the SQLite file or the
 * PostgreSQL URI it names (empty: state_dir/accounts.db stays). */
int account_store_configure(struct cfg *c, struct account_policy *p, ik_err *e);
/* [serve] state_dir alone, as an absolute path (for services' defaults). */
int account_state_dir(struct cfg *c, char *out, size_t outsz, ik_err *e);

/* Anonymous logins. Which names log in so, the keys that turn them on and
 * the words a client is told are the protocol's (FTP's: ftp/ftpd_anon.h);
 * the core only keeps them apart from stored accounts. A protocol
 * registers its names with account_reserve, once, before any name is
 * checked and before threads start (the `user` tool at its start, a
 * server when it reads its config; again is a no-op). A reserved name is
 * refused by account_name_check, so no stored account takes it, and a
 * login under it to a service whose query has no anonymous login for it
 * is ACCOUNT_NO_ANONYMOUS. */
struct account_reserved {
	const char *const *names;	/* NULL-terminated, lower case; any case matches */
	const char *why;		/* ends "it is reserved for ...": what and how to enable */
};
int account_reserve(const struct account_reserved *r, ik_err *e);
/* The reservation name is in, or NULL. */
const struct account_reserved *account_reserved_find(const char *name);
bool account_names_has(const char *const *names, const char *name);	/* any case */

/* A service's anonymous login, as its config sets it. */
struct account_anon {
	bool enabled;
	const struct account_reserved *names;	/* the names that log in so */
	char root[ACCOUNT_PATH_MAX];	/* absolute: the read-only root */
	char upload[ACCOUNT_PATH_MAX];	/* a write-only directory under it, "" none */
};
/* The account such a login gets: anonymous, read-only, named names[0]. */
void account_anon_account(const struct account_anon *an, struct account *a);

/* A challenge-response login (POP3 APOP, RFC 1939 7): the client proves
 * it knows a secret the service keeps (not the account's password), so
 * the service checks the response itself; everything else is a login
 * like any other: the lockouts, the failure delay, disabled and expired
 * accounts, the counters and the login log. check runs on a pool
 * thread with the name as stored (lower case) and the response given as
 * the query's password: 1 right, 0 wrong, -1 failed (e says why). It
 * runs for unknown names too, so that they take as long. */
struct account_challenge {
	const char *mech;	/* "apop": the login log line's via= */
	int (*check)(const char *name, const char *response, void *ctx, ik_err *e);
	void *ctx;
	/* account_verify owns ctx from its call on (also when it fails) and
	 * frees it with this when the request ends; NULL: nothing to free.
	 * account_verify_sync leaves it to its caller. */
	void (*ctx_free)(void *ctx);
};

/* A login attempt. password is copied by account_verify and wiped after use. */
struct account_query {
	const char *name;
	const char *password;
	const char *service;	/* "ftp", "smtp", "pop3", "imap" */
	const char *peer;	/* client address as text, for the log and lockout */
	const struct account_anon *anon;	/* NULL: the service has no anonymous login */
	const struct account_challenge *challenge;	/* NULL: password is a password */
};

struct account_result {
	enum account_status status;
	struct account acct;	/* valid when status is OK */
	bool via_app_password;
	char app_label[ACCOUNT_LABEL_MAX + 1];
	int64_t locked_until;	/* LOCKED: unix ms */
};

/* The asynchronous authenticator a service process uses. */
struct account_auth;
struct account_request;
typedef void (*account_verify_cb)(const struct account_result *r, void *arg);

struct account_auth *account_auth_new(struct loop *l, const struct account_policy *p,
				      ik_err *e);
void account_auth_free(struct account_auth *a);
/* After a config reload: new delay, lockout and log rules (the thread
 * count, queue and database path stay until a restart). */
void account_auth_set_policy(struct account_auth *a, const struct account_policy *p);
/* Queue a verification; cb runs on the loop with the result (after the
 * failure delay when it failed). Returns a handle, or NULL when the queue
 * is full (e says so; answer the client "try again later"). */
struct account_request *account_verify(struct account_auth *a, const struct account_query *q,
				       account_verify_cb cb, void *arg, ik_err *e);
/* The client went away: cb will not be called. The handle is invalid after.
 * Also cancels an account_lookup. */
void account_verify_cancel(struct account_request *r);

/* Whether NAME is a stored account, and what it is (class, rights, quota,
 * expiry, disabled), without a password: a mail server's RCPT check (is
 * this a local recipient, may it receive, its quota). It runs on the same
 * pool as account_verify (SQLite blocks) and answers on the loop, with no
 * failure delay, no lockout counting and no login log line. found: 1 with
 * acct filled, 0 no such account, -1 the store failed (error says why; the
 * caller answers "try again later"). Returns a handle (cancel with
 * account_verify_cancel), or NULL when the queue is full (e says so). */
struct account_lookup_result {
	int found;
	struct account acct;
	char error[IK_ERR_MAX];
};
typedef void (*account_lookup_cb)(const struct account_lookup_result *r, void *arg);
struct account_request *account_lookup(struct account_auth *a, const char *name,
				       account_lookup_cb cb, void *arg, ik_err *e);

#endif
