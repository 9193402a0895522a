/* Account vocabulary, expiry parsing, hashing and configuration (no
 * database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/account.h"
#include "core/account_hash.h"

static void names(void **state)
{
	(void)state;
	ik_err e;
	assert_int_equal(account_name_check("alice", &e), 0);
	assert_int_equal(account_name_check("a.b_c-9", &e), 0);
	assert_int_equal(account_name_check("0day", &e), 0);
	assert_int_equal(account_name_check("Alice", &e), -1);
	assert_string_equal(e.msg, "invalid account name 'Alice': use a-z, 0-9, '.', '_' and '-', "
			    "starting with a letter or digit");
	assert_int_equal(account_name_check("-x", &e), -1);
	assert_int_equal(account_name_check("a b", &e), -1);
	assert_int_equal(account_name_check("", &e), -1);
	assert_string_equal(e.msg, "invalid account name '': use 1-32 characters");
	assert_int_equal(account_name_check("abcdefghijabcdefghijabcdefghijabc", &e), -1);
	assert_int_equal(account_name_check("abcdefghijabcdefghijabcdefghijab", &e), 0);
	/* A protocol's anonymous names are no account's (FTP's: test_ftpd_conf). */
	static const char *const held[] = {"nobody", "guest", NULL};
	static const struct account_reserved r = {held, "a made-up login (it needs no account)"};
	assert_int_equal(account_name_check("nobody", &e), 0);
	assert_null(account_reserved_find("nobody"));
	assert_int_equal(account_reserve(&r, &e), 0);
	assert_int_equal(account_reserve(&r, &e), 0);	/* again: nothing new */
	assert_int_equal(account_name_check("nobody", &e), -1);
	assert_string_equal(e.msg, "invalid account name 'nobody': it is reserved for a made-up "
			    "login (it needs no account)");
	assert_ptr_equal(account_reserved_find("GUEST"), &r);
	assert_null(account_reserved_find("guests"));
	assert_true(account_names_has(held, "NoBody"));
	assert_false(account_names_has(held, "nobodyx"));
	assert_int_equal(account_label_check("phone (mutt)", &e), 0);
	assert_int_equal(account_label_check("a\tb", &e), -1);
	assert_string_equal(e.msg, "invalid label: control characters are not allowed");
}

static void vocabulary(void **state)
{
	(void)state;
	enum account_class c;
	enum account_rights r;
	assert_int_equal(account_class_parse("guest", &c), 0);
	assert_int_equal(c, ACCOUNT_GUEST);
	assert_int_equal(account_class_parse("anonymous", &c), -1);
	assert_int_equal(account_rights_parse("upload", &r), 0);
	assert_int_equal(r, ACCOUNT_UPLOAD);
	assert_int_equal(account_rights_parse("wo", &r), -1);
	assert_string_equal(account_status_word(ACCOUNT_BAD_PASSWORD), "bad_password");
	/* Unknown name, wrong password and wrong service look the same. */
	assert_string_equal(account_status_public(ACCOUNT_UNKNOWN), "login incorrect");
	assert_string_equal(account_status_public(ACCOUNT_BAD_PASSWORD), "login incorrect");
	assert_string_equal(account_status_public(ACCOUNT_WRONG_SERVICE), "login incorrect");
	assert_string_equal(account_status_public(ACCOUNT_EXPIRED), "account expired");
}

static void services(void **state)
{
	(void)state;
	ik_err e;
	char out[ACCOUNT_SERVICES_MAX];
	assert_int_equal(account_services_parse("imap, ftp,smtp imap", out, sizeof out, &e), 0);
	assert_string_equal(out, "ftp,smtp,imap");
	assert_true(account_services_has(out, "smtp"));
	assert_false(account_services_has(out, "pop3"));
	assert_false(account_services_has(out, "ft"));
	assert_int_equal(account_services_parse("ftp,www", out, sizeof out, &e), -1);
	assert_string_equal(e.msg, "unknown service 'www' (known: ftp, smtp, pop3, imap)");
	assert_int_equal(account_services_parse(" , ", out, sizeof out, &e), -1);
	assert_string_equal(e.msg, "empty service list (known: ftp, smtp, pop3, imap)");
}

static void expiry(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	ik_err e;
	int64_t now = 1700000000, t;	/* 2023-11-14T22:13:20Z */
	assert_int_equal(account_parse_expiry("7d", now, &t, &e), 0);
	assert_true(t == now + 7 * 86400);
	assert_int_equal(account_parse_expiry("12h", now, &t, &e), 0);
	assert_true(t == now + 12 * 3600);
	assert_int_equal(account_parse_expiry("2w", now, &t, &e), 0);
	assert_true(t == now + 14 * 86400);
	assert_int_equal(account_parse_expiry("90s", now, &t, &e), 0);
	assert_true(t == now + 90);
	/* A date alone: the end of that day. */
	assert_int_equal(account_parse_expiry("2026-12-31", now, &t, &e), 0);
	char buf[32];
	assert_string_equal(account_format_time(t, buf, sizeof buf), "2027-01-01T00:00:00Z");
	assert_int_equal(account_parse_expiry("2026-02-28T18:30Z", now, &t, &e), 0);
	assert_string_equal(account_format_time(t, buf, sizeof buf), "2026-02-28T18:30:00Z");
	assert_int_equal(account_parse_expiry("2026-02-28 18:30:15+02:00", now, &t, &e), 0);
	assert_string_equal(account_format_time(t, buf, sizeof buf), "2026-02-28T16:30:15Z");
	assert_int_equal(account_parse_expiry("2026-02-28T18:30-0130", now, &t, &e), 0);
	assert_string_equal(account_format_time(t, buf, sizeof buf), "2026-02-28T20:00:00Z");
	assert_int_equal(account_parse_expiry("2024-02-29", now, &t, &e), 0);	/* leap */
	static const char *const bad[] = {
		"2025-02-29", "2026-13-01", "2026-12-32", "2026-1-1", "tomorrow", "7", "0d",
		"7y", "2026-12-31T24:00", "2026-12-31T18", "2026-12-31T18:00+2", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(account_parse_expiry(bad[i], now, &t, &e), -1);
		char want[256];
		snprintf(want, sizeof want, "'%s' is not a date (2026-12-31, 2026-12-31T18:00, with Z "
			 "or +02:00 for a zone) or a duration (30m, 12h, 7d, 2w)", bad[i]);
		assert_string_equal(e.msg, want);
	}
	assert_int_equal(account_parse_expiry("2020-01-01", now, &t, &e), -1);
	assert_string_equal(e.msg, "'2020-01-01' is in the past");
}

static void hashing(void **state)
{
	(void)state;
	ik_err e;
	char h[ACCOUNT_HASH_MAX], h2[ACCOUNT_HASH_MAX];
	assert_int_equal(account_hash_password("correct horse", 0, h, sizeof h, &e), 0);
	/* libxcrypt's default cost: "j9T" is its encoding of cost 5. */
	assert_true(strncmp(h, "$y$j9T$", 7) == 0);
	assert_true(account_hash_check("correct horse", h));
	assert_false(account_hash_check("correct horsE", h));
	assert_false(account_hash_check("", h));
	/* A fresh salt each time. */
	assert_int_equal(account_hash_password("correct horse", 0, h2, sizeof h2, &e), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(account_hash_password("x", 1, h2, sizeof h2, &e), 0);
	assert_true(strncmp(h2, "$y$j75$", 7) == 0);
	assert_true(account_hash_check("x", h2));
	assert_false(account_hash_check("x", "*"));
	assert_false(account_hash_check("x", ""));
	assert_false(account_hash_check("x", "$y$garbage"));
	assert_int_equal(account_hash_password("x", 12, h2, sizeof h2, &e), -1);
	assert_string_equal(e.msg, "hash cost 12 is out of range 0-11");
}

static void app_passwords(void **state)
{
	(void)state;
	ik_err e;
	char t1[ACCOUNT_TOKEN_LEN + 1], t2[ACCOUNT_TOKEN_LEN + 1];
	assert_int_equal(account_token_new(t1, sizeof t1, &e), 0);
	assert_int_equal(account_token_new(t2, sizeof t2, &e), 0);
	assert_int_equal(strlen(t1), ACCOUNT_TOKEN_LEN);
	assert_string_not_equal(t1, t2);
	for (int i = 0; i < ACCOUNT_TOKEN_LEN; i++)
		assert_true(i % 5 == 4 ? t1[i] == '-' : strchr("abcdefghijkmnpqrstuvwxyz23456789", t1[i]) != NULL);
	char d1[ACCOUNT_DIGEST_LEN + 1], d2[ACCOUNT_DIGEST_LEN + 1];
	assert_int_equal(account_token_digest("abcd-efgh-jkmn-pqrs-tuvw", d1), 0);
	/* Typed with spaces or in capitals: the same app password. */
	assert_int_equal(account_token_digest("ABCD EFGH JKMN PQRS TUVW", d2), 0);
	assert_string_equal(d1, d2);
	assert_int_equal(account_token_digest("abcdefghjkmnpqrstuvw", d2), 0);
	assert_string_equal(d1, d2);
	assert_int_equal(strlen(d1), 64);
	/* Not an app password: no lookup needed. */
	assert_int_equal(account_token_digest("hunter22", d2), -1);
	assert_int_equal(account_token_digest("abcd-efgh-jkmn-pqrs-tuv0", d2), -1);
	assert_int_equal(account_token_digest("abcd-efgh-jkmn-pqrs-tuvwx", d2), -1);
}

static void policy_from_config(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("t.conf",
		"[serve]\nstate_dir = /srv/ik\n"
		"[accounts]\nfailure_delay = 250ms\nlockout_failures = 3\nlockout_time = 2s\n"
		"hash_threads = 4\n", &e);
	assert_non_null(c);
	struct account_policy p;
	assert_int_equal(account_policy_configure(c, &p, &e), 0);
	assert_string_equal(p.state_dir, "/srv/ik");
	assert_string_equal(p.db_path, "/srv/ik/accounts.db");
	assert_true(p.failure_delay_ms == 250);
	assert_int_equal(p.user_failures, 3);
	assert_int_equal(p.ip_failures, 20);
	assert_true(p.lockout_ms == 2000);
	assert_true(p.window_ms == 15 * 60 * 1000);
	assert_int_equal(p.hash_threads, 4);
	assert_int_equal(cfg_check_unused(c, &e), 0);
	cfg_free(c);

	c = cfg_load_string("t.conf", "[accounts]\nlockout_failures = many\n", &e);
	assert_int_equal(account_policy_configure(c, &p, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [accounts] lockout_failures: 'many' is not a whole "
			    "number from 0 to 1000000");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[accounts]\n\nfailure_delay = 2m\n", &e);
	assert_int_equal(account_policy_configure(c, &p, &e), -1);
	assert_string_equal(e.msg, "t.conf:3: [accounts] failure_delay: at most 60s (clients give "
			    "up sooner)");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[accounts]\nhash_cost = 12\n", &e);
	assert_int_equal(account_policy_configure(c, &p, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [accounts] hash_cost: '12' is not a whole number "
			    "from 0 to 11");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[accounts]\nlockout_windw = 1m\n", &e);
	assert_int_equal(account_policy_configure(c, &p, &e), 0);
	assert_int_equal(cfg_check_unused(c, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [accounts] unknown key 'lockout_windw'; see "
			    "inetkit.conf(5) for the keys of [accounts]");
	cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(vocabulary),
		cmocka_unit_test(services),
		cmocka_unit_test(expiry),
		cmocka_unit_test(hashing),
		cmocka_unit_test(app_passwords),
		cmocka_unit_test(policy_from_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
