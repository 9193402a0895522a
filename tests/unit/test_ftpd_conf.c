/* The FTP server's pure parts: the [ftp] section reader (defaults, every
 * refusal with its file:line message), the anonymous login's names and
 * keys, and the TYPE A size, which must
 * agree with what ftpd_ascii_to_wire sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"
#include "ftpd/ftpd_anon.h"
#include "core/service.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_ascii.h"

static struct ftpd_conf *read_text(const char *text, ik_err *e)
{
	struct cfg *c = cfg_load_string("t.conf", text, e);
	assert_non_null(c);
	bool enabled = false;
	struct ftpd_conf *conf = ftpd_conf_read(c, "ftp", &(struct service_ctx){0}, &enabled, e);
	if (conf != NULL)
		assert_int_equal(cfg_check_unused(c, e), 0);
	cfg_free(c);
	return conf;
}

static void test_defaults(void **state)
{
	(void)state;
	ik_err e = {""};
	struct ftpd_conf *c = read_text("[serve]\nstate_dir = /tmp/st\n[ftp]\n", &e);
	assert_non_null(c);
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->listen[0], "127.0.0.1:2121");
	assert_int_equal(c->nimplicit, 0);
	assert_int_equal(c->max_sessions, 2000);
	assert_int_equal(c->max_per_ip, 50);
	assert_int_equal(c->idle_ms, 300000);
	assert_int_equal(c->login_ms, 60000);
	assert_int_equal(c->data_ms, 120000);
	assert_int_equal(c->accept_ms, 60000);
	assert_int_equal(c->max_line, 8192);
	assert_int_equal(c->max_login_failures, 3);
	assert_true(c->tls && c->tls_reuse && c->pasv_enable && c->port_enable);
	assert_false(c->require_tls_login || c->require_tls_data || c->anon.enabled);
	assert_int_equal(c->file_mode, 0644);
	assert_int_equal(c->dir_mode, 0755);
	assert_string_equal(c->anon.root, "/tmp/st/ftp");
	assert_int_equal(c->pasv_min, 0);
	assert_false(c->has_pasv_addr);
	assert_string_equal(c->banner, "inetkit FTP server ready.");
	ftpd_conf_free(c);
}

static void test_values(void **state)
{
	(void)state;
	ik_err e = {""};
	struct ftpd_conf *c = read_text(
		"[serve]\nstate_dir = /tmp/st\n[ftp]\nlisten = 127.0.0.1:21, [::1]:21\n"
		"implicit_tls_listen = 127.0.0.1:990\npasv_ports = 40000-40999\n"
		"pasv_address = 203.0.113.5\nfile_mode = 600\ndir_mode = 0750\n"
		"download_rate = 1M\nmax_per_ip = 0\nanonymous = yes\n"
		"anonymous_upload = incoming\n", &e);
	assert_non_null(c);
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->nimplicit, 1);
	assert_int_equal(c->pasv_min, 40000);
	assert_int_equal(c->pasv_max, 40999);
	assert_true(c->has_pasv_addr);
	assert_int_equal(c->file_mode, 0600);
	assert_int_equal(c->dir_mode, 0750);
	assert_int_equal(c->download_rate, 1024 * 1024);
	assert_int_equal(c->max_per_ip, 0);
	assert_string_equal(c->anon.upload, "incoming");
	ftpd_conf_free(c);
}

static void refused(const char *section, const char *want)
{
	char text[512];
	snprintf(text, sizeof text, "[serve]\nstate_dir = /tmp/st\n[ftp]\n%s", section);
	ik_err e = {""};
	struct ftpd_conf *c = read_text(text, &e);
	assert_null(c);
	if (strstr(e.msg, want) == NULL)
		fail_msg("wanted '%s' in '%s'", want, e.msg);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("pasv_ports = 10-20\n",
		"t.conf:4: [ftp] pasv_ports: '10-20' is not a range such as 40000-40999 "
		"(ports 1024 to 65535, low first)");
	refused("pasv_ports = 50000-40000\n", "low first");
	refused("pasv_ports = 4x\n", "is not a range");
	refused("pasv_address = ::1\n", "'::1' is not an IPv4 address");
	refused("file_mode = 9\n", "'9' is not an octal mode such as 644");
	refused("dir_mode = 055\n", "leaves the owner no access");
	refused("listen = nohost:\n", "[ftp] listen");
	refused("listen =\n", "give at least one [HOST:]PORT");
	refused("tls = no\nrequire_tls_login = yes\n", "[ftp] require_tls_login: needs tls = yes");
	refused("tls = no\nimplicit_tls_listen = 127.0.0.1:990\n", "needs tls = yes");
	refused("pasv_enable = no\nport_enable = no\n", "no transfer could ever run");
	refused("download_rate = 100\n", "at least 1k");
	refused("upload_rate = 2G\n", "at most 1G");
	refused("max_line = 10\n", "[ftp] max_line");
	refused("stat_max = 100\n", "at least 1k");
	refused("accept_timeout = 0\n", "[ftp] accept_timeout: at least 1s");
	refused("anonymous_upload = ../up\n", "must be a directory under anonymous_root");
}

static uint64_t wire_len(const char *data, size_t n)
{
	struct ftpd_ascii st;
	ftpd_ascii_init(&st);
	char *out = malloc(2 * n + 1);
	size_t total = 0;
	/* In uneven pieces, as the transfer reads them. */
	for (size_t i = 0; i < n;) {
		size_t k = (i * 7 + 13) % 4093 + 1;
		if (k > n - i)
			k = n - i;
		total += ftpd_ascii_to_wire(&st, data + i, k, out);
		i += k;
	}
	free(out);
	return total;
}

/* RFC 1635's names, and no account may take them once reserved. */
static void test_anonymous_names(void **state)
{
	(void)state;
	ik_err e;
	assert_true(ftpd_anon_name("Anonymous"));
	assert_true(ftpd_anon_name("FTP"));
	assert_false(ftpd_anon_name("ftpuser"));
	assert_int_equal(ftpd_anon_reserve(&e), 0);
	assert_int_equal(account_name_check("ftp", &e), -1);
	assert_string_equal(e.msg, "invalid account name 'ftp': it is reserved for anonymous login "
			    "(enable it with anonymous = yes in the service's section)");
	assert_int_equal(account_name_check("anonymous", &e), -1);
	assert_int_equal(account_name_check("ftpuser", &e), 0);
}

static void test_anonymous_config(void **state)
{
	(void)state;
	ik_err e;
	struct cfg *c = cfg_load_string("t.conf",
		"[serve]\nstate_dir = /srv/ik\n[ftp]\nanonymous = yes\nanonymous_upload = in/box\n", &e);
	struct account_anon a;
	assert_int_equal(ftpd_anon_configure(c, "ftp", &a, &e), 0);
	assert_true(a.enabled);
	assert_string_equal(a.root, "/srv/ik/ftp");
	assert_string_equal(a.upload, "in/box");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[ftp]\nanonymous_upload = ../etc\n", &e);
	assert_int_equal(ftpd_anon_configure(c, "ftp", &a, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [ftp] anonymous_upload: '../etc' must be a directory "
			    "under anonymous_root, written without a leading '/' and without '.' or "
			    "'..' parts (example: incoming)");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[ftp]\nanonymous = maybe\n", &e);
	assert_int_equal(ftpd_anon_configure(c, "ftp", &a, &e), -1);
	assert_string_equal(e.msg, "t.conf:2: [ftp] anonymous: 'maybe' is not yes or no");
	cfg_free(c);
	c = cfg_load_string("t.conf", "[ftp]\n", &e);
	assert_int_equal(ftpd_anon_configure(c, "ftp", &a, &e), 0);
	assert_false(a.enabled);
	assert_string_equal(a.root, ACCOUNT_DEFAULT_STATE_DIR "/ftp");
	assert_string_equal(a.upload, "");
	cfg_free(c);
}

static void test_ascii_size(void **state)
{
	(void)state;
	char path[] = "/tmp/test_ftpd_conf_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = 300000;
	char *data = malloc(n);
	srand(7);
	for (size_t i = 0; i < n; i++) {
		int r = rand() % 10;
		data[i] = r == 0 ? '\n' : r == 1 ? '\r' : (char)('a' + r);
	}
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	lseek(fd, 0, SEEK_SET);
	uint64_t size = 0;
	assert_int_equal(ftpd_ascii_size(fd, 1 << 20, &size), 0);
	assert_int_equal(size, wire_len(data, n));
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(ftpd_ascii_size(fd, 1000, &size), -1);	/* over the limit */
	close(fd);
	unlink(path);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_anonymous_names),
		cmocka_unit_test(test_anonymous_config),
		cmocka_unit_test(test_ascii_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
