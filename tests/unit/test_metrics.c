#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/metrics.h"
#include "metrics/metrics_http.h"

static void test_counts_shared_across_fork(void **st)
{
	(void)st;
	ik_err e;
	assert_int_equal(metrics_init(&e), 0);
	assert_int_equal(metrics_init(&e), 0);	/* again: the same table */
	metrics_add("ftp", METRIC_SESSIONS, 1);
	/* Two workers add at once; the parent sees both. */
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int i = 0; i < 10000; i++)
				metrics_add("smtp", METRIC_BYTES_IN, 3);
			metrics_add("ftp", METRIC_SESSIONS, 1);
			_exit(0);
		}
	}
	int status;
	while (wait(&status) > 0)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(metrics_get("ftp", METRIC_SESSIONS), 3);
	assert_int_equal(metrics_get("smtp", METRIC_BYTES_IN), 60000);
	metrics_add("ftp", METRIC_SESSIONS_OPEN, 1);
	metrics_add("ftp", METRIC_SESSIONS_OPEN, -1);
	assert_int_equal(metrics_get("ftp", METRIC_SESSIONS_OPEN), 0);
	assert_int_equal(metrics_get("nobody", METRIC_SESSIONS), 0);
}

static void test_render(void **st)
{
	(void)st;
	ik_err e;
	assert_int_equal(metrics_init(&e), 0);
	metrics_declare("smtp", true);
	metrics_add("smtp", METRIC_MESSAGES_ACCEPTED, 2);
	metrics_add("smtp", METRIC_LOGINS_FAILED, 1);
	metrics_declare("tcp-echo", false);
	metrics_error();
	struct sbuf b = SBUF_INIT(1 << 20);
	assert_int_equal(metrics_render(&b, 7), 0);
	const char *t = sbuf_cstr(&b);
	assert_non_null(strstr(t, "# TYPE inetkit_messages_total counter\n"));
	assert_non_null(strstr(t, "inetkit_messages_total{service=\"smtp\",outcome=\"accepted\"} 2\n"));
	assert_non_null(strstr(t, "inetkit_messages_total{service=\"smtp\",outcome=\"bounced\"} 0\n"));
	assert_non_null(strstr(t, "inetkit_logins_total{service=\"smtp\",result=\"failed\"} 1\n"));
	assert_null(strstr(t, "inetkit_messages_total{service=\"tcp-echo\""));
	assert_non_null(strstr(t, "inetkit_sessions_open{service=\"tcp-echo\"} 0\n"));
	assert_non_null(strstr(t, "inetkit_errors_total 1\n"));
	assert_non_null(strstr(t, "inetkit_queue_messages 7\n"));
	/* Each TYPE line once. */
	const char *first = strstr(t, "# TYPE inetkit_logins_total");
	assert_null(strstr(first + 1, "# TYPE inetkit_logins_total"));
	sbuf_free(&b);
}

static void test_http_request_line(void **st)
{
	(void)st;
	enum metrics_http_method m;
	char path[METRICS_HTTP_PATH_MAX];
	ik_err e;
	const char *ok = "GET /metrics?name[]=x HTTP/1.1";
	assert_int_equal(metrics_http_request(ok, strlen(ok), &m, path, sizeof path, &e), 0);
	assert_int_equal(m, METRICS_HTTP_GET);
	assert_string_equal(path, "/metrics");
	ok = "HEAD /health HTTP/1.0";
	assert_int_equal(metrics_http_request(ok, strlen(ok), &m, path, sizeof path, &e), 0);
	assert_int_equal(m, METRICS_HTTP_HEAD);
	assert_string_equal(path, "/health");
	ok = "OPTIONS /health HTTP/1.1";
	assert_int_equal(metrics_http_request(ok, strlen(ok), &m, path, sizeof path, &e), 0);
	assert_int_equal(m, METRICS_HTTP_OTHER);
	static const char *const bad[] = {
		"GET /metrics", "GET /metrics HTTP/2.0", "GET metrics HTTP/1.1",
		"GET  /metrics HTTP/1.1", "GET /a b HTTP/1.1", "G(T / HTTP/1.1", " / HTTP/1.1",
		"GET http://x/ HTTP/1.1", "", "GET / HTTP/1.1 ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (metrics_http_request(bad[i], strlen(bad[i]), &m, path, sizeof path, &e) == 0)
			fail_msg("taken: '%s'", bad[i]);
	char longp[600];
	memset(longp, 'a', sizeof longp);
	memcpy(longp, "GET /", 5);
	memcpy(longp + sizeof longp - 9, " HTTP/1.1", 9);
	assert_int_equal(metrics_http_request(longp, sizeof longp, &m, path, sizeof path, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_shared_across_fork),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_http_request_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
