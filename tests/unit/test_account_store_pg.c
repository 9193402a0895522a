#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/account_store.h"

/* The store is chosen by what the path looks like; the database server
 * itself is exercised by tests/integration/test_pg_accounts.py. */
static void test_is_url(void **st)
{
	(void)st;
	assert_true(account_store_is_url("postgresql://u@h/db"));
	assert_true(account_store_is_url("postgres://h/db"));
	assert_false(account_store_is_url("/var/lib/inetkit/accounts.db"));
	assert_false(account_store_is_url("sqlite:/x.db"));
	assert_false(account_store_is_url("postgresql:/x"));
}

static void check(const char *url, const char *want)
{
	char out[256];
	account_store_url_redact(url, out, sizeof out);
	assert_string_equal(out, want);
}

static void test_redact(void **st)
{
	(void)st;
	check("postgresql://inetkit:s3cret@db.example:5432/mail?sslmode=require",
	      "postgresql://inetkit:***@db.example:5432/mail?sslmode=require");
	check("postgresql://inetkit@db/mail", "postgresql://inetkit@db/mail");
	check("postgresql://db/mail", "postgresql://db/mail");
	/* an @ in the path or query is not user information */
	check("postgresql://db/mail?x=a:b@c", "postgresql://db/mail?x=a:b@c");
	check("postgres://u:p:q@h/d", "postgres://u:***@h/d");
	check("/var/lib/inetkit/accounts.db", "/var/lib/inetkit/accounts.db");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_url),
		cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
