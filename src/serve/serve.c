/* `inetkit serve --config FILE`: every enabled service of the file on the
 * runner (tools/runner.h: read and check the whole config, prepare the
 * state directory and certificates, bind every port, drop to [serve]
 * user), the banner, then the workers. No RFC of its own; each service
 * names its own. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inetkit_config.h"
#include "core/cli.h"
#include "core/log.h"
#include "core/server.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "core/term.h"
#include "serve/runner.h"
#include "serve/serve.h"
#include "commands.h"

static const char help_text[] =
	"Usage: inetkit serve [--config FILE] [--check | --defaults]\n"
	"\n"
	"Run every service enabled in the config file in one supervised process\n"
	"tree: ports are bound first, then (as root) privileges are dropped to\n"
	"[serve] user, and [serve] workers processes serve them. A crashed worker\n"
	"is restarted; SIGTERM stops gracefully; SIGHUP reloads the config.\n"
	"\n"
	"Options:\n"
	"  --config FILE   the config file (default " SERVE_DEFAULT_CONFIG ")\n"
	"  --check         check the config file and exit (0 valid, 2 with the error)\n"
	"  --defaults      print every section and key with its default value, as a\n"
	"                  config file to start from, and exit\n"
	"  --help          this text\n"
	"\n"
	"See inetkit-serve(1) and inetkit.conf(5).\n";

static void list_services(const struct serve_conf *sc, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sc->nsvc; i++) {
		if (sc->svc[i].conf == NULL || !sc->svc[i].enabled)
			continue;
		int k = str_fmt(out + used, outsz - used, "%s%s", used ? ", " : "",
				sc->svc[i].ops->section);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static void banner(const struct runner *r)
{
	const struct serve_conf *sc = r->conf;
	struct term_colors col;
	term_colors_for(stdout, &col);
	printf("%sinetkit serve %s%s: %zu service%s, %u worker%s, state in %s\n", col.bold,
	       INETKIT_VERSION, col.reset, serve_conf_enabled(sc),
	       serve_conf_enabled(sc) == 1 ? "" : "s", sc->workers, sc->workers == 1 ? "" : "s",
	       sc->state_dir);
	for (size_t i = 0; i < sc->nsvc; i++) {
		const struct serve_service *s = &sc->svc[i];
		if (!runner_selected(r, sc, i) || s->ops->describe == NULL)
			continue;
		struct sbuf b = SBUF_INIT(64 * 1024);
		server_describe(&r->ws[i].sets[0], s->conf, s->ops->describe, &b);
		/* Indent each line the service wrote. */
		const char *p = sbuf_cstr(&b);
		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			printf("  %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
		sbuf_free(&b);
	}
	printf("accounts: inetkit user add NAME --config %s\n", sc->path);
	printf("stop: Ctrl-C or kill %d; reload the config: kill -HUP %d\n", (int)getpid(),
	       (int)getpid());
	fflush(stdout);
}

/* [serve] user, and whether it can reach the state directory. */
static int user_check(const struct serve_conf *sc, unsigned *uid, unsigned *gid, ik_err *e)
{
	if (serve_user_lookup(sc->cfg, sc->user, uid, gid, e) < 0)
		return -1;
	return serve_state_check(sc->cfg, sc->state_dir, sc->accounts.db_path, true, sc->user, *uid,
				 *gid, e);
}

static int check_only(const struct serve_conf *sc)
{
	ik_err e;
	unsigned uid, gid;
	if (user_check(sc, &uid, &gid, &e) < 0 || serve_tls_prepare(sc, false, uid, gid, &e) < 0)
		return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	char names[512];
	list_services(sc, names, sizeof names);
	printf("%s: valid; %zu service%s enabled%s%s%s\n", sc->path, serve_conf_enabled(sc),
	       serve_conf_enabled(sc) == 1 ? "" : "s", names[0] ? " (" : "", names,
	       names[0] ? ")" : "");
	return CLI_OK;
}

static int print_defaults(void)
{
	struct sbuf out = SBUF_INIT(64 * 1024);
	ik_err e;
	int rc = serve_conf_defaults(&out, &e);
	if (rc == 0)
		fputs(sbuf_cstr(&out), stdout);
	sbuf_free(&out);
	if (rc < 0)
		return cli_error(SERVE_CMD, CLI_FAIL, "%s", e.msg);
	return CLI_OK;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"defaults", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = SERVE_DEFAULT_CONFIG;
	bool check = false;
	opterr = 0;
	optind = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'k': check = true; break;
		case 'd': return print_defaults();
		case 'h': return cli_help(help_text);
		case ':':
			return cli_usage_error(SERVE_CMD, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_unknown_option(SERVE_CMD, argv[optind - 1], CLI_NAMES(opts));
		}
	}
	if (optind < argc)
		return cli_usage_error(SERVE_CMD, "unexpected argument '%s'", argv[optind]);
	static const struct runner_opts ro = {.cmd = SERVE_CMD, .restart = "serve",
					      .log_ident = "inetkit"};
	struct runner r = {.o = &ro};
	ik_err e;
	r.conf = runner_load(&ro, path, NULL, &e);
	if (r.conf == NULL)
		return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	struct serve_conf *sc = r.conf;
	int rc;
	if (check) {
		rc = check_only(sc);
		runner_close(&r);
		return rc;
	}
	if (serve_conf_enabled(sc) == 0) {
		runner_close(&r);
		return cli_error(SERVE_CMD, CLI_USAGE, "%s: no service is enabled; add a section "
				 "such as [tcp-echo] (see inetkit.conf(5))", path);
	}
	rc = runner_start(&r);
	if (rc == 0) {
		banner(&r);
		rc = runner_workers(&r);
		log_event(LOG_INFO, "serve_exit", "code=%d", rc);
	}
	/* unix:PATH listeners: their socket files go with the supervisor. */
	runner_close(&r);
	return rc;
}
