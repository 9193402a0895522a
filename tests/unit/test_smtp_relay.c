/* The relay's pure parts: routing targets, MX order and null MX, the
 * retry schedule, status codes, RFC 3464 reports, and the SMTP client's
 * EHLO keyword and xtext helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp_client.h"
#include "smtp/smtp_dsn.h"
#include "smtp/smtp_route.h"

static void hostport_forms(void **state)
{
	(void)state;
	struct smtp_hostport hp;
	ik_err e;
	assert_int_equal(smtp_route_hostport("[smtp.example.org]:587", &hp, &e), 0);
	assert_string_equal(hp.host, "smtp.example.org");
	assert_int_equal(hp.port, 587);
	assert_int_equal(smtp_route_hostport("mx.example.org", &hp, &e), 0);
	assert_int_equal(hp.port, 25);
	assert_int_equal(smtp_route_hostport("[::1]:2525", &hp, &e), 0);
	assert_string_equal(hp.host, "::1");
	assert_int_equal(hp.port, 2525);
	assert_int_equal(smtp_route_hostport("127.0.0.2:26", &hp, &e), 0);
	assert_string_equal(hp.host, "127.0.0.2");
	assert_int_equal(smtp_route_hostport("::1", &hp, &e), -1);
	assert_int_equal(smtp_route_hostport("[x", &hp, &e), -1);
	assert_int_equal(smtp_route_hostport("[x]:0", &hp, &e), -1);
	assert_int_equal(smtp_route_hostport("[x]:99999", &hp, &e), -1);
	assert_int_equal(smtp_route_hostport("[]:25", &hp, &e), -1);
	assert_int_equal(smtp_route_hostport("[x]junk", &hp, &e), -1);
}

static size_t reverse_rnd(void *arg, size_t n)
{
	(void)arg;
	return n - 1;	/* with Fisher-Yates: keeps the order; 0 would rotate */
}

static size_t zero_rnd(void *arg, size_t n)
{
	(void)arg;
	(void)n;
	return 0;
}

static void mx_order_and_shuffle(void **state)
{
	(void)state;
	struct dns_mx mx[4] = {{20, "b"}, {10, "a"}, {20, "c"}, {30, "d"}};
	assert_int_equal(smtp_route_mx_order(mx, 4, NULL, NULL), 0);
	assert_string_equal(mx[0].host, "a");
	assert_string_equal(mx[1].host, "b");
	assert_string_equal(mx[2].host, "c");
	assert_string_equal(mx[3].host, "d");
	assert_int_equal(smtp_route_mx_order(mx, 4, reverse_rnd, NULL), 0);
	assert_string_equal(mx[1].host, "b");
	assert_int_equal(smtp_route_mx_order(mx, 4, zero_rnd, NULL), 0);
	/* equal preferences swapped, the others where they were */
	assert_string_equal(mx[0].host, "a");
	assert_string_equal(mx[1].host, "c");
	assert_string_equal(mx[2].host, "b");
	assert_string_equal(mx[3].host, "d");
	struct dns_mx null[1] = {{0, ""}};
	assert_int_equal(smtp_route_mx_order(null, 1, NULL, NULL), 1);
}

static void backoff_doubles_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(smtp_route_backoff(1, 300000, 3600000), 300000);
	assert_int_equal(smtp_route_backoff(2, 300000, 3600000), 600000);
	assert_int_equal(smtp_route_backoff(3, 300000, 3600000), 1200000);
	assert_int_equal(smtp_route_backoff(4, 300000, 3600000), 2400000);
	assert_int_equal(smtp_route_backoff(5, 300000, 3600000), 3600000);
	assert_int_equal(smtp_route_backoff(500, 300000, 3600000), 3600000);
}

static void status_codes(void **state)
{
	(void)state;
	char s[16];
	smtp_route_status(550, "5.1.1 no such user", s, sizeof s);
	assert_string_equal(s, "5.1.1");
	smtp_route_status(550, "no such user", s, sizeof s);
	assert_string_equal(s, "5.0.0");
	smtp_route_status(451, "5.1.1 lying", s, sizeof s);
	assert_string_equal(s, "4.0.0");
	smtp_route_status(421, "4.4.2 timeout", s, sizeof s);
	assert_string_equal(s, "4.4.2");
	smtp_route_status(556, "5.1.10 null MX", s, sizeof s);
	assert_string_equal(s, "5.1.10");
	smtp_route_status(0, NULL, s, sizeof s);
	assert_string_equal(s, "4.0.0");
}

static void ehlo_keywords(void **state)
{
	(void)state;
	uint64_t size = 0;
	assert_int_equal(smtp_client_ehlo_line("PIPELINING", 10, &size), SMTP_EXT_PIPELINING);
	assert_int_equal(smtp_client_ehlo_line("starttls", 8, &size), SMTP_EXT_STARTTLS);
	assert_int_equal(smtp_client_ehlo_line("SIZE 10240000", 13, &size), SMTP_EXT_SIZE);
	assert_int_equal(size, 10240000);
	assert_int_equal(smtp_client_ehlo_line("AUTH LOGIN PLAIN", 16, &size),
			 SMTP_EXT_AUTH_LOGIN | SMTP_EXT_AUTH_PLAIN);
	assert_int_equal(smtp_client_ehlo_line("AUTH CRAM-MD5", 13, &size), 0);
	assert_int_equal(smtp_client_ehlo_line("DSN", 3, &size), SMTP_EXT_DSN);
	assert_int_equal(smtp_client_ehlo_line("SMTPUTF8", 8, &size), SMTP_EXT_SMTPUTF8);
	assert_int_equal(smtp_client_ehlo_line("8BITMIME", 8, &size), SMTP_EXT_8BITMIME);
	assert_int_equal(smtp_client_ehlo_line("X-UNKNOWN", 9, &size), 0);
	assert_int_equal(smtp_client_ehlo_line("", 0, &size), 0);
}

static void xtext(void **state)
{
	(void)state;
	char out[64];
	smtp_client_xtext("a+b=c d", out, sizeof out);
	assert_string_equal(out, "a+2Bb+3Dc+20d");
	smtp_client_xtext("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

static void dsn_wanted_rules(void **state)
{
	(void)state;
	struct smtp_env_rcpt r = {.addr = (char *)"b@x"};
	struct smtp_envelope env = {.from = (char *)"a@y"};
	assert_true(smtp_dsn_wanted(&env, &r, SMTP_DSN_FAILED));
	assert_true(smtp_dsn_wanted(&env, &r, SMTP_DSN_DELAYED));
	assert_false(smtp_dsn_wanted(&env, &r, SMTP_DSN_DELIVERED));
	r.notify = SMTP_NOTIFY_SUCCESS;
	assert_true(smtp_dsn_wanted(&env, &r, SMTP_DSN_DELIVERED));
	assert_false(smtp_dsn_wanted(&env, &r, SMTP_DSN_FAILED));
	r.notify = SMTP_NOTIFY_NEVER;
	assert_false(smtp_dsn_wanted(&env, &r, SMTP_DSN_FAILED));
	r.notify = 0;
	env.from = (char *)"";
	assert_false(smtp_dsn_wanted(&env, &r, SMTP_DSN_FAILED));
}

static void dsn_report_structure(void **state)
{
	(void)state;
	struct smtp_env_rcpt rc[2] = {
		{.addr = (char *)"bob@remote.example", .orcpt = (char *)"rfc822;bob@remote.example"},
		{.addr = (char *)"eve@remote.example"},
	};
	struct smtp_envelope env = {.id = "1.M1P1Q1", .from = (char *)"alice@here.example",
				    .rcpt = rc, .nrcpt = 2, .ret = SMTP_RET_HDRS,
				    .envid = (char *)"QQ1", .arrival = 1700000000};
	struct smtp_dsn_rcpt dr[2] = {
		{.rcpt = &rc[0], .action = SMTP_DSN_FAILED, .status = "5.1.1",
		 .diag = "550 5.1.1 no such user\r\nInjected: yes", .remote = "mx.remote.example [192.0.2.1]"},
		{.rcpt = &rc[1], .action = SMTP_DSN_DELIVERED, .status = "2.0.0", .diag = "250 ok"},
	};
	static const char msg[] = "Subject: hi\nMessage-ID: <m@x>\n\nsecret body\n";
	struct smtp_dsn d = {.hostname = "mx.here.example", .env = &env, .rcpt = dr, .n = 2,
			     .now = 1700000100, .message = msg, .message_len = sizeof msg - 1,
			     .boundary = "B0"};
	struct sbuf out;
	sbuf_init(&out, 1 << 20);
	ik_err e;
	assert_int_equal(smtp_dsn_build(&d, &out, &e), 0);
	assert_int_equal(sbuf_addch(&out, '\0'), 0);
	const char *t = out.data;
	assert_non_null(strstr(t, "To: <alice@here.example>\n"));
	assert_non_null(strstr(t, "Subject: Undelivered Mail Returned to Sender\n"));
	assert_non_null(strstr(t, "Auto-Submitted: auto-replied\n"));
	assert_non_null(strstr(t, "report-type=delivery-status"));
	assert_non_null(strstr(t, "\n--B0\nContent-Type: message/delivery-status\n\n"
				  "Reporting-MTA: dns; mx.here.example\n"
				  "Original-Envelope-Id: QQ1\n"
				  "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n\n"
				  "Final-Recipient: rfc822; bob@remote.example\n"
				  "Original-Recipient: rfc822;bob@remote.example\n"
				  "Action: failed\nStatus: 5.1.1\n"
				  "Remote-MTA: dns; mx.remote.example\n"
				  "Diagnostic-Code: smtp; 550 5.1.1 no such user  Injected: yes\n"));
	assert_non_null(strstr(t, "Final-Recipient: rfc822; eve@remote.example\n"
				  "Action: delivered\nStatus: 2.0.0\n"));
	/* RET=HDRS: the header only, never the body */
	assert_non_null(strstr(t, "Content-Type: text/rfc822-headers\n\nSubject: hi\n"));
	assert_null(strstr(t, "secret body"));
	assert_non_null(strstr(t, "\n--B0--\n"));
	sbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostport_forms),
		cmocka_unit_test(mx_order_and_shuffle),
		cmocka_unit_test(backoff_doubles_to_the_cap),
		cmocka_unit_test(status_codes),
		cmocka_unit_test(ehlo_keywords),
		cmocka_unit_test(xtext),
		cmocka_unit_test(dsn_wanted_rules),
		cmocka_unit_test(dsn_report_structure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
