/* `inetkit serve --config FILE`: start-up in the order that keeps
 * privileges short-lived: read and check the whole config, prepare the
 * state directory and certificates, bind every port, drop to [serve] user,
 * print the banner, then hand over to the worker supervisor
 * (core/workers). No RFC of its own; each service names its own. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inetkit_config.h"
#include "core/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/sbuf.h"
#include "core/str.h"
#include "core/term.h"
#include "core/workers.h"
#include "tools/serve.h"
#include "tools/tools.h"

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

static void banner(const struct serve_ctx *ctx)
{
	const struct serve_conf *sc = ctx->conf;
	struct term_colors col;
	term_colors_for(stdout, &col);
	printf("%sinetkit serve %s%s: %zu service%s, %u worker%s, state in %s\n", col.bold,
	       INETKIT_VERSION, col.reset, serve_conf_enabled(sc),
	       serve_conf_enabled(sc) == 1 ? "" : "s", sc->workers, sc->workers == 1 ? "" : "s",
	       sc->state_dir);
	for (size_t i = 0; i < sc->nsvc; i++) {
		const struct serve_service *s = &sc->svc[i];
		if (s->conf == NULL || !s->enabled || s->ops->describe == NULL)
			continue;
		struct sbuf b = SBUF_INIT(64 * 1024);
		s->ops->describe(s->conf, &ctx->sets[i], &b);
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

/* Everything that needs root, in order; then drop it. */
static int start(struct serve_ctx *ctx)
{
	struct serve_conf *sc = ctx->conf;
	ik_err e;
	unsigned uid, gid;
	if (user_check(sc, &uid, &gid, &e) < 0)
		return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	if (serve_state_prepare(sc, uid, gid, &e) < 0)
		return cli_error(SERVE_CMD, CLI_FAIL, "%s", e.msg);
	/* After the skeleton is copied: it may hold what a service needs. */
	for (size_t i = 0; i < sc->nsvc; i++) {
		struct serve_service *s = &sc->svc[i];
		if (s->conf != NULL && s->enabled && s->ops->check != NULL &&
		    s->ops->check(s->conf, sc->cfg, sc->user, uid, gid, &e) < 0)
			return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	}
	if (serve_tls_prepare(sc, true, uid, gid, &e) < 0)
		return cli_error(SERVE_CMD, CLI_FAIL, "%s", e.msg);
	/* What the services open from here on is given to the user. */
	fs_set_service_user(uid, gid);
	for (size_t i = 0; i < sc->nsvc; i++) {
		struct serve_service *s = &sc->svc[i];
		if (s->conf == NULL || !s->enabled)
			continue;
		if (s->ops->bind(s->conf, &ctx->sets[i], &e) < 0)
			return cli_error(SERVE_CMD, CLI_FAIL, "[%s]: %s", s->ops->section, e.msg);
		for (size_t k = 0; k < ctx->sets[i].n; k++)
			log_event(LOG_INFO, "listen", "service=%s addr=%s proto=%s", s->ops->section,
				  ctx->sets[i].ep[k].text,
				  ctx->sets[i].socktype[k] == SOCK_DGRAM ? "udp" : "tcp");
	}
	if (serve_drop_privileges(sc->user, uid, gid, &e) < 0)
		return cli_error(SERVE_CMD, CLI_FAIL, "%s", e.msg);
	return 0;
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
	ik_err e;
	struct serve_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.conf = serve_conf_load(path, &e);
	if (ctx.conf == NULL)
		return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	struct serve_conf *sc = ctx.conf;
	int rc;
	if (check) {
		rc = check_only(sc);
		serve_conf_free(sc);
		return rc;
	}
	if (serve_conf_enabled(sc) == 0) {
		serve_conf_free(sc);
		return cli_error(SERVE_CMD, CLI_USAGE, "%s: no service is enabled; add a section "
				 "such as [tcp-echo] (see inetkit.conf(5))", path);
	}
	if (log_open(sc->log_target, "inetkit", &e) < 0) {
		serve_conf_free(sc);
		return cli_error(SERVE_CMD, CLI_USAGE, "%s", e.msg);
	}
	log_set_level(sc->log_level);
	rc = start(&ctx);
	if (rc == 0) {
		banner(&ctx);
		struct workers_opts wo = {
			.count = sc->workers,
			.grace_ms = sc->grace_ms + 1000,	/* workers get grace_ms first */
			.name = "serve",
		};
		int code = workers_run(&wo, serve_worker_main, &ctx, &e);
		if (code < 0)
			rc = cli_error(SERVE_CMD, CLI_FAIL, "%s", e.msg);
		else
			rc = code == 0 ? CLI_OK : CLI_FAIL;
		log_event(LOG_INFO, "serve_exit", "code=%d", rc);
	}
	/* unix:PATH listeners: their socket files go with the supervisor. */
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++) {
		listen_set_unlink(&ctx.sets[i]);
		listen_set_close(&ctx.sets[i]);
	}
	serve_conf_free(sc);
	return rc;
}
