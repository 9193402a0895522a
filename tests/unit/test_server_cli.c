/* core/server_cli: a standalone server's command line into the INI text
 * of its section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/cli.h"
#include "core/server_cli.h"
#include "lib/sbuf.h"

static const struct server_cli_opt opts[] = {
	SERVER_CLI_OPTS_FIRST,
	{"root", SERVER_CLI_KEY, 0, "anonymous_root", "yes", "anonymous", false},
	{"listen", SERVER_CLI_LIST, 0, "listen", NULL, NULL, false},
	{"implicit-tls", SERVER_CLI_LIST, 0, "tls_listen", NULL, NULL, true},
	{"plain", SERVER_CLI_FLAG, 0, "plaintext", "yes", NULL, false},
	SERVER_CLI_OPT_STATE_DIR,
	SERVER_CLI_OPTS_TLS,
	SERVER_CLI_OPTS_LAST,
};

static struct server_cli desc = {
	.cmd = "testd",
	.section = "test",
	.help = "help\n",
	.quick_names = "--listen, --root",
	.grace_ms = 1000,
	.values = 0,
	.list_sep = " ",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
};

/* Parse the NULL-ended words (argv[0] first) into a. */
static int parse(const struct server_cli *d, struct server_cli_args *a, const char **words)
{
	char *argv[32];
	int argc = 0;
	while (words[argc] != NULL && argc < 31) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	return server_cli_parse(d, argc, argv, a);
}

static void quick_options_make_sections(void **state)
{
	(void)state;
	struct server_cli_args a;
	const char *w[] = {"testd", "--listen", "127.0.0.1:1", "--state-dir", "/srv/st", "--plain",
			   "--listen", "[::1]:2", "--implicit-tls", "3", "--cert", "c.pem", "--root",
			   "/srv/ftp", "--user", "svc", NULL};
	assert_int_equal(parse(&desc, &a, w), 0);
	assert_string_equal(sbuf_cstr(&a.text), "[serve]\nstate_dir = /srv/st\nuser = svc\n"
			    "[tls]\ncert = c.pem\n[test]\nplaintext = yes\nanonymous_root = /srv/ftp\n"
			    "anonymous = yes\nlisten = 127.0.0.1:1 [::1]:2\ntls_listen = 3\n");
	assert_null(a.config);
	assert_false(a.check);
	assert_false(a.workers_set);
	server_cli_args_free(&a);
}

static void other_list_alone_turns_default_listen_off(void **state)
{
	(void)state;
	struct server_cli_args a;
	const char *w[] = {"testd", "--implicit-tls", "993", "--workers", "2", "--check", NULL};
	assert_int_equal(parse(&desc, &a, w), 0);
	assert_string_equal(sbuf_cstr(&a.text), "[serve]\n[tls]\n[test]\ntls_listen = 993\n"
			    "listen =\n");
	assert_true(a.check);
	assert_true(a.workers_set);
	assert_int_equal(a.workers, 2);
	server_cli_args_free(&a);
}

static void config_file_and_acl(void **state)
{
	(void)state;
	struct server_cli_args a;
	const char *w[] = {"testd", "--config", "/etc/x.conf", NULL};
	assert_int_equal(parse(&desc, &a, w), 0);
	assert_string_equal(a.config, "/etc/x.conf");
	assert_null(a.acl);
	server_cli_args_free(&a);
	const char *w2[] = {"testd", "--allow", "10.0.0.0/8", "--deny", "10.1.0.0/16", NULL};
	assert_int_equal(parse(&desc, &a, w2), 0);
	assert_non_null(a.acl);
	server_cli_args_free(&a);
}

static void usage_errors(void **state)
{
	(void)state;
	struct server_cli_args a;
	const char *bad[][6] = {
		{"testd", "--config", "x", "--listen", "1", NULL},	/* file and quick options */
		{"testd", "--config", "x", "--allow", "10.0.0.0/8", NULL},
		{"testd", "--listen", "a b", NULL},			/* a space */
		{"testd", "--cert", "a,b", NULL},			/* a comma */
		{"testd", "--user", "", NULL},				/* empty */
		{"testd", "--state-dir", "x;y", NULL},			/* a comment */
		{"testd", "--workers", "1000000", NULL},
		{"testd", "--bogus", NULL},
		{"testd", "--listen", NULL},				/* no value */
		{"testd", "extra", NULL},
		{"testd", "--deny", "not-a-cidr", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(&desc, &a, bad[i]), CLI_USAGE);
		server_cli_args_free(&a);
	}
	const char *help[] = {"testd", "--listen", "1", "-h", NULL};
	assert_int_equal(parse(&desc, &a, help), -1);
	server_cli_args_free(&a);
}

/* What a server whose values are paths lets through. */
static void commas_and_inner_spaces(void **state)
{
	(void)state;
	struct server_cli d = desc;
	d.values = SERVER_CLI_COMMA_OK | SERVER_CLI_SPACE_OK;
	d.list_sep = ", ";
	struct server_cli_args a;
	const char *w[] = {"testd", "--root", "/srv/my ftp,1", "--listen", "1", "--listen", "2",
			   NULL};
	assert_int_equal(parse(&d, &a, w), 0);
	assert_string_equal(sbuf_cstr(&a.text), "[serve]\n[tls]\n[test]\nanonymous_root = "
			    "/srv/my ftp,1\nanonymous = yes\nlisten = 1, 2\n");
	server_cli_args_free(&a);
	const char *edge[] = {"testd", "--root", "/srv/x ", NULL};
	assert_int_equal(parse(&d, &a, edge), CLI_USAGE);
	server_cli_args_free(&a);
	/* Inner spaces, but lists joined by " ": one value per option. */
	d.values = SERVER_CLI_SPACE_OK;
	d.list_sep = " ";
	const char *two[] = {"testd", "--listen", "1 2", NULL};
	assert_int_equal(parse(&d, &a, two), CLI_USAGE);
	server_cli_args_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quick_options_make_sections),
		cmocka_unit_test(other_list_alone_turns_default_listen_off),
		cmocka_unit_test(config_file_and_acl),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(commas_and_inner_spaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
