/* Login verification from start to end (synchronous path): classes,
 * rights, guest expiry, app passwords per service, lockout and its end,
 * anonymous, and the login log. Time is passed in, never slept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/account_hash.h"
#include "core/account_store.h"
#include "core/account_verify.h"

static char dir[64], db[128];
static struct account_store *s;
static struct account_policy pol;
static char dummy[ACCOUNT_HASH_MAX];
static const int64_t T0 = 1800000000000LL;	/* ms */

static void add(const char *name, enum account_class cls, enum account_rights rights,
		int64_t expires, const char *pw)
{
	ik_err e;
	struct account a;
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	a.cls = cls;
	a.rights = rights;
	a.expires = expires;
	snprintf(a.home, sizeof a.home, "/srv/%s", name);
	char h[ACCOUNT_HASH_MAX];
	assert_int_equal(account_hash_password(pw, 1, h, sizeof h, &e), 0);
	assert_int_equal(account_store_add(s, &a, h, &e), 1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ik-verify-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof db, "%s/accounts.db", dir);
	ik_err e;
	if (account_store_open(db, ACCOUNT_STORE_CREATE, &s, &e) < 0)
		return -1;
	account_policy_defaults(&pol);
	pol.hash_cost = 1;
	pol.user_failures = 3;
	pol.ip_failures = 5;
	pol.window_ms = 60000;
	pol.lockout_ms = 10000;
	if (account_hash_password("dummy", 1, dummy, sizeof dummy, &e) < 0)
		return -1;
	add("alice", ACCOUNT_REAL, ACCOUNT_RW, 0, "alice-pass");
	add("gus", ACCOUNT_GUEST, ACCOUNT_UPLOAD, T0 / 1000 + 3600, "gus-pass1");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	account_store_close(s);
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", db, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static enum account_status check(const char *name, const char *pw, const char *service,
				  const char *peer, int64_t now, struct account_result *r)
{
	ik_err e;
	struct account_query q = {name, pw, service, peer, NULL, NULL};
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, now, r, &e), 0);
	return r->status;
}

static void real_and_guest(void **state)
{
	(void)state;
	struct account_result r;
	assert_int_equal(check("alice", "alice-pass", "ftp", "10.0.0.1", T0, &r), ACCOUNT_OK);
	assert_int_equal(r.acct.cls, ACCOUNT_REAL);
	assert_int_equal(r.acct.rights, ACCOUNT_RW);
	assert_string_equal(r.acct.home, "/srv/alice");
	/* Names are matched case-insensitively. */
	assert_int_equal(check("Alice", "alice-pass", "ftp", "10.0.0.1", T0, &r), ACCOUNT_OK);
	assert_int_equal(check("alice", "alice-pasS", "ftp", "10.0.0.1", T0, &r), ACCOUNT_BAD_PASSWORD);
	assert_string_equal(r.acct.name, "");	/* nothing leaks on failure */
	assert_int_equal(check("nobody", "x", "ftp", "10.0.0.1", T0, &r), ACCOUNT_UNKNOWN);
	assert_int_equal(check("bad name!", "x", "ftp", "10.0.0.1", T0, &r), ACCOUNT_UNKNOWN);
	assert_int_equal(check("gus", "gus-pass1", "ftp", "10.0.0.2", T0, &r), ACCOUNT_OK);
	assert_int_equal(r.acct.cls, ACCOUNT_GUEST);
	assert_int_equal(r.acct.rights, ACCOUNT_UPLOAD);
	assert_true(r.acct.expires == T0 / 1000 + 3600);
	/* One second before and at its expiry. */
	assert_int_equal(check("gus", "gus-pass1", "ftp", "10.0.0.2", T0 + 3599000, &r), ACCOUNT_OK);
	assert_int_equal(check("gus", "gus-pass1", "ftp", "10.0.0.2", T0 + 3600000, &r), ACCOUNT_EXPIRED);
	/* Expired is told only with the right password. */
	assert_int_equal(check("gus", "nope", "ftp", "10.0.0.2", T0 + 3600000, &r), ACCOUNT_BAD_PASSWORD);
	ik_err e;
	assert_int_equal(account_store_set_disabled(s, "alice", true, &e), 1);
	assert_int_equal(check("alice", "alice-pass", "ftp", "10.0.0.1", T0, &r), ACCOUNT_DISABLED);
	assert_int_equal(check("alice", "wrong", "ftp", "10.0.0.1", T0, &r), ACCOUNT_BAD_PASSWORD);
}

static void app_passwords(void **state)
{
	(void)state;
	pol.user_failures = 10;	/* this test fails on purpose more than 3 times */
	ik_err e;
	struct account a;
	assert_int_equal(account_store_get(s, "alice", &a, NULL, 0, &e), 1);
	char tok[ACCOUNT_TOKEN_LEN + 1], dig[ACCOUNT_DIGEST_LEN + 1];
	assert_int_equal(account_token_new(tok, sizeof tok, &e), 0);
	assert_int_equal(account_token_digest(tok, dig), 0);
	struct account_token t = {0};
	t.account_id = a.id;
	snprintf(t.label, sizeof t.label, "mail client");
	snprintf(t.services, sizeof t.services, "smtp,imap");
	assert_int_equal(account_store_token_add(s, &t, dig, &e), 1);
	struct account_result r;
	assert_int_equal(check("alice", tok, "imap", "10.0.0.9", T0, &r), ACCOUNT_OK);
	assert_true(r.via_app_password);
	assert_string_equal(r.app_label, "mail client");
	assert_int_equal(check("alice", tok, "smtp", "10.0.0.9", T0, &r), ACCOUNT_OK);
	assert_int_equal(check("alice", tok, "ftp", "10.0.0.9", T0, &r), ACCOUNT_WRONG_SERVICE);
	assert_int_equal(check("alice", tok, "pop3", "10.0.0.9", T0, &r), ACCOUNT_WRONG_SERVICE);
	/* Another account's app password is just a wrong password. */
	assert_int_equal(check("gus", tok, "imap", "10.0.0.9", T0, &r), ACCOUNT_BAD_PASSWORD);
	/* Its last use is kept. */
	struct account_token f;
	assert_int_equal(account_store_token_find(s, a.id, dig, &f, &e), 1);
	assert_true(f.last_used == T0 / 1000);
	assert_string_equal(f.last_service, "smtp");
	assert_string_equal(f.last_peer, "10.0.0.9");
	/* Revoked: no longer accepted; the main password still is. */
	assert_int_equal(account_store_token_revoke(s, a.id, "mail client", &f, &e), 1);
	assert_int_equal(check("alice", tok, "imap", "10.0.0.9", T0, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "alice-pass", "imap", "10.0.0.9", T0, &r), ACCOUNT_OK);
}

static void lockout_per_account_and_address(void **state)
{
	(void)state;
	struct account_result r;
	/* 3 failures for alice (from different addresses) lock alice. */
	assert_int_equal(check("alice", "x1", "ftp", "10.1.0.1", T0, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "x2", "ftp", "10.1.0.2", T0 + 1, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "x3", "ftp", "10.1.0.3", T0 + 2, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "alice-pass", "ftp", "10.1.0.4", T0 + 3, &r), ACCOUNT_LOCKED);
	assert_true(r.locked_until == T0 + 2 + 10000);
	/* Unknown names are counted the same way: no hint that they differ. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(check("ghost", "x", "ftp", "10.2.0.1", T0 + i, &r), ACCOUNT_UNKNOWN);
	assert_int_equal(check("ghost", "x", "ftp", "10.2.0.9", T0 + 5, &r), ACCOUNT_LOCKED);
	/* Others are not affected. */
	assert_int_equal(check("gus", "gus-pass1", "ftp", "10.1.0.4", T0 + 4, &r), ACCOUNT_OK);
	/* The lock ends; a success then clears the count. */
	assert_int_equal(check("alice", "alice-pass", "ftp", "10.1.0.4", T0 + 10002, &r), ACCOUNT_OK);
	assert_int_equal(check("alice", "x", "ftp", "10.1.0.5", T0 + 10003, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "x", "ftp", "10.1.0.5", T0 + 10004, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(check("alice", "alice-pass", "ftp", "10.1.0.6", T0 + 10005, &r), ACCOUNT_OK);

	/* 5 failures from one address, over several names, lock the address. */
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof name, "u%d", i);
		assert_int_equal(check(name, "x", "imap", "192.0.2.7", T0 + 20000 + i, &r),
				 ACCOUNT_UNKNOWN);
	}
	assert_int_equal(check("alice", "alice-pass", "imap", "192.0.2.7", T0 + 20010, &r),
			 ACCOUNT_LOCKED);
	assert_int_equal(check("alice", "alice-pass", "imap", "192.0.2.8", T0 + 20010, &r),
			 ACCOUNT_OK);
	assert_int_equal(check("alice", "alice-pass", "imap", "192.0.2.7", T0 + 30010, &r),
			 ACCOUNT_OK);
}

static void anonymous(void **state)
{
	(void)state;
	ik_err e;
	struct account_result r;
	/* A service's anonymous login, with made-up FTP-like names. */
	static const char *const names[] = {"anonymous", "ftp", NULL};
	static const struct account_reserved held = {names, "anonymous login"};
	struct account_anon anon = {true, &held, "/srv/ftp", "incoming"};
	struct account_query q = {"anonymous", "me@example.org", "ftp", "10.3.0.1", &anon, NULL};
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, T0, &r, &e), 0);
	assert_int_equal(r.status, ACCOUNT_OK);
	assert_int_equal(r.acct.cls, ACCOUNT_ANON);
	assert_int_equal(r.acct.rights, ACCOUNT_RO);
	assert_string_equal(r.acct.home, "/srv/ftp");
	assert_string_equal(r.acct.upload, "incoming");
	q.name = "FTP";
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, T0, &r, &e), 0);
	assert_int_equal(r.status, ACCOUNT_OK);
	anon.enabled = false;
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, T0, &r, &e), 0);
	assert_int_equal(r.status, ACCOUNT_NO_ANONYMOUS);
	/* A service without one: the reserved names are still no account. */
	q.anon = NULL;
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, T0, &r, &e), 0);
	assert_int_equal(r.status, ACCOUNT_UNKNOWN);
	assert_int_equal(account_reserve(&held, &e), 0);
	assert_int_equal(account_verify_sync(s, &pol, &q, dummy, T0, &r, &e), 0);
	assert_int_equal(r.status, ACCOUNT_NO_ANONYMOUS);
}

struct logs {
	int n;
	struct account_login l[16];
};

static int keep(const struct account_login *l, void *arg)
{
	struct logs *lg = arg;
	if (lg->n < 16)
		lg->l[lg->n++] = *l;
	return 0;
}

static void login_log(void **state)
{
	(void)state;
	ik_err e;
	struct account_result r;
	check("alice", "alice-pass", "pop3", "10.4.0.1", T0, &r);
	check("alice", "secret-typed", "smtp", "10.4.0.2", T0 + 1, &r);
	check("nobody", "x", "ftp", "::1", T0 + 2, &r);
	struct logs lg = {0};
	assert_int_equal(account_store_log_list(s, NULL, 10, keep, &lg, &e), 0);
	assert_int_equal(lg.n, 3);
	assert_string_equal(lg.l[0].user, "nobody");
	assert_string_equal(lg.l[0].result, "unknown");
	assert_string_equal(lg.l[0].peer, "::1");
	assert_string_equal(lg.l[1].service, "smtp");
	assert_string_equal(lg.l[1].result, "bad_password");
	assert_true(lg.l[2].time_ms == T0);
	assert_string_equal(lg.l[2].result, "ok");
	lg.n = 0;
	assert_int_equal(account_store_log_list(s, "alice", 1, keep, &lg, &e), 0);
	assert_int_equal(lg.n, 1);
	assert_string_equal(lg.l[0].service, "smtp");
	/* The password is never stored: search the whole file for it. */
	account_store_close(s);
	s = NULL;
	FILE *f = fopen(db, "rb");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_null(memmem(buf, n, "secret-typed", 12));
	assert_null(memmem(buf, n, "alice-pass", 10));
	assert_int_equal(account_store_open(db, 0, &s, &e), 0);
}

/* A challenge-response login (APOP's way): the service's check decides,
 * the accounts module does the rest as for a password. */
struct chk {
	int calls;
	char last_name[40];
};

static int chk_fn(const char *name, const char *response, void *ctx, ik_err *e)
{
	struct chk *c = ctx;
	c->calls++;
	snprintf(c->last_name, sizeof c->last_name, "%s", name);
	if (strcmp(response, "boom") == 0)
		return ik_err_set(e, "secrets file unreadable");
	return strcmp(response, "right") == 0 ? 1 : 0;
}

static enum account_status challenge(const char *name, const char *resp, struct chk *c,
				     int64_t now, struct account_result *r)
{
	ik_err e;
	struct account_challenge ch = {"apop", chk_fn, c, NULL};
	struct account_query q = {name, resp, "pop3", "10.9.0.1", NULL, &ch};
	if (account_verify_sync(s, &pol, &q, dummy, now, r, &e) < 0)
		return ACCOUNT_ERROR;
	return r->status;
}

static void challenge_logins(void **state)
{
	(void)state;
	pol.ip_failures = 0;
	struct chk c = {0};
	struct account_result r;
	assert_int_equal(challenge("Alice", "right", &c, T0, &r), ACCOUNT_OK);
	assert_string_equal(c.last_name, "alice");	/* as stored */
	assert_string_equal(r.acct.name, "alice");
	/* The account's password is not a response: no fallback to it. */
	assert_int_equal(challenge("alice", "alice-pass", &c, T0, &r), ACCOUNT_BAD_PASSWORD);
	/* Unknown names run the check too (same time) and are unknown. */
	c.calls = 0;
	assert_int_equal(challenge("ghost", "right", &c, T0, &r), ACCOUNT_UNKNOWN);
	assert_int_equal(c.calls, 1);
	assert_int_equal(challenge("alice", "boom", &c, T0, &r), ACCOUNT_ERROR);
	/* Failures count towards the account's lockout, shared with PASS:
	 * 1 above + 2 = 3, then even the right response is refused, and a
	 * password login of the same account too. */
	assert_int_equal(challenge("alice", "wrong", &c, T0 + 1, &r), ACCOUNT_BAD_PASSWORD);
	assert_int_equal(challenge("alice", "wrong", &c, T0 + 2, &r), ACCOUNT_BAD_PASSWORD);
	c.calls = 0;
	assert_int_equal(challenge("alice", "right", &c, T0 + 3, &r), ACCOUNT_LOCKED);
	assert_int_equal(c.calls, 0);
	assert_int_equal(check("alice", "alice-pass", "imap", "10.9.0.2", T0 + 3, &r),
			 ACCOUNT_LOCKED);
	/* The lock ends. A disabled account is refused after a right one. */
	assert_int_equal(challenge("alice", "right", &c, T0 + 20000, &r), ACCOUNT_OK);
	ik_err e;
	assert_int_equal(account_store_set_disabled(s, "alice", true, &e), 1);
	assert_int_equal(challenge("alice", "right", &c, T0 + 20001, &r), ACCOUNT_DISABLED);
	/* PASS failures count against a later challenge the same way. */
	assert_int_equal(account_store_set_disabled(s, "alice", false, &e), 1);
	for (int i = 0; i < 3; i++)
		check("gus", "nope", "pop3", "10.9.0.3", T0 + 20002 + i, &r);
	assert_int_equal(challenge("gus", "right", &c, T0 + 20010, &r), ACCOUNT_LOCKED);
	/* And every answered attempt is in the login log (not the error). */
	struct logs lg = {0};
	assert_int_equal(account_store_log_list(s, "alice", 16, keep, &lg, &e), 0);
	assert_int_equal(lg.n, 8);
	assert_string_equal(lg.l[0].result, "disabled");
	assert_string_equal(lg.l[0].service, "pop3");
	pol.ip_failures = 5;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(real_and_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(app_passwords, setup, teardown),
		cmocka_unit_test_setup_teardown(lockout_per_account_and_address, setup, teardown),
		cmocka_unit_test_setup_teardown(anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(login_log, setup, teardown),
		cmocka_unit_test_setup_teardown(challenge_logins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
