/* The [tcp-echo] and [udp-echo] services' config sections (every key
 * read, bad values named with file and line), and core/workers
 * (in-process, finished workers, a crashing worker that gives up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/server.h"
#include "core/workers.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

static void *configure(const struct service_ops *ops, const char *text, bool *enabled, ik_err *e)
{
	ik_err le;
	struct cfg *c = cfg_load_string("test.conf", text, &le);
	assert_non_null(c);
	struct service_ctx ctx = {.tls_cert = "", .tls_key = ""};
	void *conf = ops->configure(c, ops->section, &ctx, enabled, e);
	if (conf != NULL)
		assert_int_equal(cfg_check_unused(c, e), 0);	/* every key was read */
	cfg_free(c);
	return conf;
}

static void tcp_echo_section(void **state)
{
	(void)state;
	bool enabled = false;
	ik_err e;
	void *conf = configure(&service_tcp_echo,
			       "[tcp-echo]\nenabled = yes\nlisten = 127.0.0.1:0, [::1]:0\nmode = chat\n"
			       "max_conns = 10\nidle_timeout = 5s\ntls = no\nlog = yes\n", &enabled, &e);
	assert_non_null(conf);
	assert_true(enabled);
	struct listen_set set = {0};
	assert_int_equal(service_tcp_echo.bind(conf, &set, &e), 0);
	assert_int_equal(set.n, 2);
	struct sbuf out = SBUF_INIT(4096);
	server_describe(&set, conf, service_tcp_echo.describe, &out);
	assert_non_null(strstr(sbuf_cstr(&out), "tcp chat"));
	assert_non_null(strstr(sbuf_cstr(&out), "try: inetkit tcp connect 127.0.0.1 "));
	sbuf_free(&out);
	ik_err le;
	struct loop *l = loop_new(&le);
	struct service_ctx ctx = {.restart = "serve"};
	void *running = service_tcp_echo.start(conf, l, &set, &ctx, &e);
	assert_non_null(running);
	service_tcp_echo.free_running(running);
	loop_free(l);
	listen_set_close(&set);
	service_tcp_echo.free_conf(conf);
}

static void tcp_echo_bad_values(void **state)
{
	(void)state;
	bool enabled;
	ik_err e;
	assert_null(configure(&service_tcp_echo, "[tcp-echo]\nmode = chatty\n", &enabled, &e));
	assert_string_equal(e.msg, "test.conf:2: [tcp-echo] mode: 'chatty' is not one of: echo, "
			    "discard, chat");
	assert_null(configure(&service_tcp_echo, "[tcp-echo]\nlisten = 127.0.0.1:99999\n", &enabled, &e));
	assert_non_null(strstr(e.msg, "test.conf:2: [tcp-echo] listen: "));
	assert_non_null(strstr(e.msg, "port '99999' is not a number from 0 to 65535"));
	assert_null(configure(&service_tcp_echo, "[tcp-echo]\ncert = /x.pem\n", &enabled, &e));
	assert_string_equal(e.msg, "test.conf:2: [tcp-echo] cert: set tls = yes to use a certificate");
	assert_null(configure(&service_tcp_echo, "[tcp-echo]\ncert =\nkey = /k.pem\n", &enabled, &e));
	assert_string_equal(e.msg, "test.conf:3: [tcp-echo] key: set tls = yes to use a certificate");
	/* An empty value is no value (what serve --defaults writes). */
	void *conf = configure(&service_tcp_echo, "[tcp-echo]\ncert =\nkey =\n", &enabled, &e);
	assert_non_null(conf);
	service_tcp_echo.free_conf(conf);
}

static void udp_echo_section(void **state)
{
	(void)state;
	bool enabled = true;
	ik_err e;
	void *conf = configure(&service_udp_echo, "[udp-echo]\nenabled = no\nmode = print\n",
			       &enabled, &e);
	assert_non_null(conf);
	assert_false(enabled);
	service_udp_echo.free_conf(conf);
	assert_null(configure(&service_udp_echo, "[udp-echo]\nmode = shout\n", &enabled, &e));
	assert_string_equal(e.msg, "test.conf:2: [udp-echo] mode: 'shout' is not one of: echo, print");
}

static int seen_index;

static int worker_ok(int index, void *arg)
{
	(void)arg;
	seen_index = index + 100;
	return 0;
}

static int worker_fails(int index, void *arg)
{
	(void)index;
	(void)arg;
	return 3;
}

static void workers_in_process_and_forked(void **state)
{
	(void)state;
	ik_err e;
	struct workers_opts o = {.count = 0};
	assert_int_equal(workers_run(&o, worker_ok, NULL, &e), 0);
	assert_int_equal(seen_index, 100);	/* ran here, no fork */
	o.count = 3;
	assert_int_equal(workers_run(&o, worker_ok, NULL, &e), 0);	/* all finished */
	/* Failing at once again and again: restarted with back-off, then
	 * the run gives up with the worker's exit code. */
	struct workers_opts f = {.count = 1, .restart_min_ms = 1, .restart_max_ms = 4, .fast_fails = 3};
	assert_int_equal(workers_run(&f, worker_fails, NULL, &e), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_echo_section),
		cmocka_unit_test(tcp_echo_bad_values),
		cmocka_unit_test(udp_echo_section),
		cmocka_unit_test(workers_in_process_and_forked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
