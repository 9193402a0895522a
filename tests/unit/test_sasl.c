#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sasl.h"
#include "lib/base64.h"

/* base64 of n bytes, in a static buffer (one at a time). */
static const char *b64(const char *s, size_t n)
{
	static char buf[4096];
	assert_true(base64_encode(s, n, buf, sizeof buf) >= 0);
	return buf;
}

static enum sasl_step step(struct sasl *st, const char *line, ik_err *e)
{
	return sasl_step(st, line, strlen(line), e);
}

static void mech_names(void **state)
{
	(void)state;
	enum sasl_mech m;
	assert_int_equal(sasl_mech_parse("plain", &m), 0);
	assert_int_equal(m, SASL_PLAIN);
	assert_int_equal(sasl_mech_parse("LoGiN", &m), 0);
	assert_int_equal(m, SASL_LOGIN);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", &m), -1);
	assert_int_equal(sasl_mech_parse("", &m), -1);
	assert_string_equal(sasl_mech_list(), "PLAIN LOGIN");
}

static void plain_initial_response(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	assert_int_equal(sasl_start(&st, SASL_PLAIN, b64("\0alice\0s3cret", 13), &e), SASL_DONE);
	assert_string_equal(st.authzid, "");
	assert_string_equal(st.authcid, "alice");
	assert_string_equal(st.password, "s3cret");
	sasl_clear(&st);
	assert_string_equal(st.password, "");
	assert_string_equal(st.authcid, "alice");	/* kept for the log */

	assert_int_equal(sasl_start(&st, SASL_PLAIN, b64("bob\0alice\0pw", 12), &e), SASL_DONE);
	assert_string_equal(st.authzid, "bob");
	assert_string_equal(st.authcid, "alice");
	/* UTF-8 names and password. */
	const char u[] = "\0J\xc3\xb6rg\0p\xc3\xa4ss";
	assert_int_equal(sasl_start(&st, SASL_PLAIN, b64(u, sizeof u - 1), &e), SASL_DONE);
	assert_string_equal(st.authcid, "J\xc3\xb6rg");
	assert_string_equal(st.password, "p\xc3\xa4ss");
	sasl_clear(&st);
}

static void plain_challenge_then_response(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	assert_int_equal(sasl_start(&st, SASL_PLAIN, NULL, &e), SASL_CONTINUE);
	assert_string_equal(st.challenge, "");
	assert_int_equal(step(&st, b64("\0alice\0pw", 9), &e), SASL_DONE);
	assert_string_equal(st.authcid, "alice");
	assert_string_equal(st.password, "pw");
	sasl_clear(&st);
	/* Nothing more is expected after DONE. */
	assert_int_equal(step(&st, b64("\0alice\0pw", 9), &e), SASL_FAIL);
	assert_string_equal(e.msg, "no authentication exchange is in progress");
}

static void expect_fail(enum sasl_mech m, const char *msg, size_t n, const char *why)
{
	struct sasl st;
	ik_err e = {""};
	assert_int_equal(sasl_start(&st, m, b64(msg, n), &e), SASL_FAIL);
	assert_string_equal(e.msg, why);
	assert_string_equal(st.password, "");
}

static void plain_refusals(void **state)
{
	(void)state;
	expect_fail(SASL_PLAIN, "", 0, "the PLAIN response is empty: send base64 of "
		    "\"authzid NUL user NUL password\"");
	const char *three = "the PLAIN response must be three parts separated by NUL bytes: "
			    "authorization id (may be empty), user name, password";
	expect_fail(SASL_PLAIN, "alice", 5, three);
	expect_fail(SASL_PLAIN, "\0alice", 6, three);
	expect_fail(SASL_PLAIN, "\0\0pw", 4, "the user name is empty");
	expect_fail(SASL_PLAIN, "\0alice\0", 7, "the password is empty");
	expect_fail(SASL_PLAIN, "\0alice\0p\0w", 10, "the password contains a NUL byte");
	expect_fail(SASL_PLAIN, "\0al\rice\0pw", 10, "the user name contains a control character");
	expect_fail(SASL_PLAIN, "x\ny\0alice\0pw", 12,
		    "the authorization id contains a control character");
	expect_fail(SASL_PLAIN, "\0\xc0\xafx\0pw", 7, "the user name is not valid UTF-8");

	char big[2000];
	memset(big, 'a', sizeof big);
	big[0] = '\0';
	big[258] = '\0';	/* a user name of 257 bytes */
	expect_fail(SASL_PLAIN, big, 300, "the user name is longer than 256 bytes");
	big[258] = 'a';
	big[257] = '\0';	/* a user name of 256 bytes, then a password of 1025 */
	expect_fail(SASL_PLAIN, big, 258 + 1025, "the password is longer than 1024 bytes");
	/* At the limits: accepted. */
	struct sasl st;
	ik_err e;
	assert_int_equal(sasl_start(&st, SASL_PLAIN, b64(big, 258 + 1024), &e), SASL_DONE);
	assert_int_equal(strlen(st.authcid), 256);
	assert_int_equal(strlen(st.password), 1024);
	sasl_clear(&st);
}

/* A refused password never shows up in the message. */
static void password_never_in_message(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	const char m[] = "\0alice\0Hunter2\0x";
	assert_int_equal(sasl_start(&st, SASL_PLAIN, b64(m, sizeof m - 1), &e), SASL_FAIL);
	assert_null(strstr(e.msg, "Hunter2"));
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, b64("alice", 5), &e), SASL_CONTINUE);
	assert_int_equal(sasl_step(&st, b64("Hunter2\0", 8), 12, &e), SASL_FAIL);
	assert_null(strstr(e.msg, "Hunter2"));
	assert_string_equal(st.password, "");
}

static void login_exchange(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_string_equal(st.challenge, "VXNlcm5hbWU6");
	assert_int_equal(step(&st, b64("alice", 5), &e), SASL_CONTINUE);
	assert_string_equal(st.challenge, "UGFzc3dvcmQ6");
	assert_int_equal(step(&st, b64("pw", 2), &e), SASL_DONE);
	assert_string_equal(st.authcid, "alice");
	assert_string_equal(st.authzid, "");
	assert_string_equal(st.password, "pw");
	sasl_clear(&st);
	assert_string_equal(st.password, "");

	/* The user name as the initial response (RFC 4954 4). */
	assert_int_equal(sasl_start(&st, SASL_LOGIN, b64("bob", 3), &e), SASL_CONTINUE);
	assert_string_equal(st.challenge, "UGFzc3dvcmQ6");
	assert_string_equal(st.authcid, "bob");
	assert_int_equal(step(&st, b64("x y", 3), &e), SASL_DONE);
	assert_string_equal(st.password, "x y");
	sasl_clear(&st);
}

static void login_refusals(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	assert_int_equal(sasl_start(&st, SASL_LOGIN, "=", &e), SASL_FAIL);
	assert_string_equal(e.msg, "the user name is empty");
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, b64("a\0b", 3), &e), SASL_FAIL);
	assert_string_equal(e.msg, "the user name contains a NUL byte");
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, "alice", &e), SASL_FAIL);	/* not base64 */
	assert_string_equal(e.msg, "the response is not valid base64: use RFC 4648 base64 with "
			    "padding, no spaces or line breaks");
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, b64("alice", 5), &e), SASL_CONTINUE);
	assert_int_equal(step(&st, "", &e), SASL_FAIL);
	assert_string_equal(e.msg, "the password is empty");
}

static void empty_initial_and_cancel(void **state)
{
	(void)state;
	struct sasl st;
	ik_err e = {""};
	/* "=" is an empty initial response: PLAIN cannot be empty. */
	assert_int_equal(sasl_start(&st, SASL_PLAIN, "=", &e), SASL_FAIL);
	assert_string_equal(e.msg, "the PLAIN response is empty: send base64 of "
			    "\"authzid NUL user NUL password\"");
	assert_int_equal(sasl_start(&st, SASL_PLAIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, "*", &e), SASL_CANCELLED);
	assert_string_equal(e.msg, "authentication cancelled by the client");
	assert_int_equal(sasl_start(&st, SASL_LOGIN, NULL, &e), SASL_CONTINUE);
	assert_int_equal(step(&st, b64("alice", 5), &e), SASL_CONTINUE);
	assert_int_equal(step(&st, "*", &e), SASL_CANCELLED);
	assert_int_equal(sasl_start(&st, SASL_PLAIN, "*", &e), SASL_CANCELLED);
	/* Too long to be any valid response. */
	char big[3000];
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(sasl_start(&st, SASL_PLAIN, big, &e), SASL_FAIL);
	assert_string_equal(e.msg, "the response is too long (more than 1538 bytes once decoded)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mech_names),
		cmocka_unit_test(plain_initial_response),
		cmocka_unit_test(plain_challenge_then_response),
		cmocka_unit_test(plain_refusals),
		cmocka_unit_test(password_never_in_message),
		cmocka_unit_test(login_exchange),
		cmocka_unit_test(login_refusals),
		cmocka_unit_test(empty_initial_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
