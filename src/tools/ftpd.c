/* `inetkit ftpd`: the FTP server alone, configured from the [ftp] section
 * of a config file (the same section `inetkit serve` runs), or from a few
 * options for a one-line start ("--root DIR" serves DIR to anonymous
 * users). Binds, drops privileges when started as root ([serve] user),
 * then serves in this process or in [serve] workers processes. RFCs: see
 * src/ftp/ftpd.h. SIGHUP reloads: see ftpd_reload.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/sbuf.h"
#include "core/str.h"
#include "core/workers.h"
#include "ftp/ftpd.h"
#include "tools/ftpd_tool.h"
#include "tools/serve.h"
#include "tools/tools.h"

#define CMD "ftpd"
#define STOP_GRACE_MS 5000

static const char help_text[] =
	"Usage: inetkit ftpd --config FILE [--check] [--workers N]\n"
	"       inetkit ftpd [--root DIR] [--upload SUBDIR] [--listen ADDR]... [OPTIONS]\n"
	"\n"
	"FTP and FTPS server (RFC 959, RFC 4217) for real, guest and anonymous users.\n"
	"With --config it runs the [ftp] section of FILE, the same section that\n"
	"`inetkit serve` runs (see inetkit-ftpd(8) for every key). Without it, the\n"
	"options below make the configuration:\n"
	"  --root DIR            serve DIR (an existing directory) read-only to\n"
	"                        anonymous users\n"
	"  --upload SUBDIR       anonymous users may upload (only) into DIR/SUBDIR\n"
	"  --listen ADDR         [HOST:]PORT to listen on (default " FTPD_DEFAULT_LISTEN ");\n"
	"                        may be repeated\n"
	"  --implicit-tls ADDR   also serve implicit FTPS (TLS from the start) on ADDR\n"
	"  --no-tls              do not offer AUTH TLS\n"
	"  --cert FILE           PEM certificate chain (default: self-signed, in memory)\n"
	"  --key FILE            PEM private key (default: in the --cert file)\n"
	"  --state-dir DIR       where accounts.db is, for real and guest users\n"
	"                        (default " ACCOUNT_DEFAULT_STATE_DIR "; without it only\n"
	"                        anonymous logins work)\n"
	"  --xferlog FILE        write a wu-ftpd style transfer log\n"
	"  --user NAME           started as root: serve as NAME (default nobody)\n"
	"  --allow CIDR          take only clients in CIDR (repeatable; default: all)\n"
	"  --deny CIDR           refuse clients in CIDR, allowed or not (repeatable);\n"
	"                        a refused client is closed before the greeting\n"
	"Common options:\n"
	"  --workers N           N worker processes (default: [serve] workers, or 0 =\n"
	"                        serve in this process)\n"
	"  --check               check the configuration and exit (0 valid, 2 invalid)\n"
	"  -h, --help            this help\n"
	"\n"
	"Examples:\n"
	"  inetkit ftpd --root /srv/ftp --listen 127.0.0.1:2121\n"
	"  curl ftp://127.0.0.1:2121/\n"
	"  inetkit ftpd --config /etc/inetkit/inetkit.conf\n"
	"\n"
	"Stop with Ctrl-C or SIGTERM (transfers get 5 seconds to finish). SIGHUP\n"
	"reloads: FILE again (an invalid one is logged and ignored), or with the\n"
	"quick options the --cert/--key files; new sessions get the new settings.\n"
	"Exit status: 0 stopped normally, 1 failed to start or run, 2 bad usage.\n";

enum {
	OPT_CONFIG = 256, OPT_CHECK, OPT_ROOT, OPT_UPLOAD, OPT_LISTEN, OPT_IMPLICIT, OPT_NO_TLS,
	OPT_CERT, OPT_KEY, OPT_STATE, OPT_XFERLOG, OPT_WORKERS, OPT_ANON, OPT_USER, OPT_ALLOW,
	OPT_DENY,
};

static const struct option opts[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"check", no_argument, NULL, OPT_CHECK},
	{"root", required_argument, NULL, OPT_ROOT},
	{"anonymous", no_argument, NULL, OPT_ANON},
	{"upload", required_argument, NULL, OPT_UPLOAD},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"implicit-tls", required_argument, NULL, OPT_IMPLICIT},
	{"no-tls", no_argument, NULL, OPT_NO_TLS},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"state-dir", required_argument, NULL, OPT_STATE},
	{"xferlog", required_argument, NULL, OPT_XFERLOG},
	{"user", required_argument, NULL, OPT_USER},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* ---- the quick configuration ---- */

/* A value written into the generated INI text must survive it whole. */
static int ini_value(const char *opt, const char *v)
{
	if (v[0] == '\0' || strpbrk(v, "\r\n;#") != NULL || v[0] == ' ' || v[strlen(v) - 1] == ' ')
		return cli_usage_error(CMD, "%s '%s': empty, or holds a character (line break, ';', "
				       "'#', edge space) the configuration cannot hold", opt, v);
	return 0;
}

struct quick {
	struct sbuf serve, tls, ftp;
	struct acl *acl;		/* --allow/--deny */
	bool any;
};

static int quick_add(struct quick *q, struct sbuf *sec, const char *opt, const char *key,
		     const char *v)
{
	if (ini_value(opt, v) != 0)
		return CLI_USAGE;
	q->any = true;
	if (sbuf_printf(sec, "%s = %s\n", key, v) < 0)
		return cli_usage_error(CMD, "too many options");
	return 0;
}

static int parse(int argc, char **argv, const char **config, bool *check, uint64_t *workers,
		 bool *workers_set, struct quick *q)
{
	opterr = 0;
	optind = 0;
	int o, rc = 0;
	struct sbuf listen = SBUF_INIT(4096), implicit = SBUF_INIT(4096);
	while (rc == 0 && (o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_CONFIG: *config = optarg; break;
		case OPT_CHECK: *check = true; break;
		case OPT_ROOT:
			rc = quick_add(q, &q->ftp, "--root", "anonymous_root", optarg);
			if (rc == 0)
				rc = quick_add(q, &q->ftp, "--root", "anonymous", "yes");
			break;
		case OPT_ANON: rc = quick_add(q, &q->ftp, "--anonymous", "anonymous", "yes"); break;
		case OPT_UPLOAD: rc = quick_add(q, &q->ftp, "--upload", "anonymous_upload", optarg); break;
		case OPT_LISTEN:
		case OPT_IMPLICIT:
			rc = ini_value(o == OPT_LISTEN ? "--listen" : "--implicit-tls", optarg);
			q->any = true;
			if (rc == 0)
				sbuf_printf(o == OPT_LISTEN ? &listen : &implicit, "%s%s",
					    (o == OPT_LISTEN ? listen.len : implicit.len) ? ", " : "",
					    optarg);
			break;
		case OPT_NO_TLS: rc = quick_add(q, &q->ftp, "--no-tls", "tls", "no"); break;
		case OPT_CERT: rc = quick_add(q, &q->tls, "--cert", "cert", optarg); break;
		case OPT_KEY: rc = quick_add(q, &q->tls, "--key", "key", optarg); break;
		case OPT_STATE: rc = quick_add(q, &q->serve, "--state-dir", "state_dir", optarg); break;
		case OPT_USER: rc = quick_add(q, &q->serve, "--user", "user", optarg); break;
		case OPT_XFERLOG: rc = quick_add(q, &q->ftp, "--xferlog", "xferlog", optarg); break;
		case OPT_ALLOW:
		case OPT_DENY: {
			ik_err e;
			q->any = true;
			if (acl_option(&q->acl, "ftp", o == OPT_ALLOW ? ACL_ALLOW : ACL_DENY, optarg,
				       &e) < 0)
				rc = cli_usage_error(CMD, "%s", e.msg);
			break;
		}
		case OPT_WORKERS:
			if (str_to_u64(optarg, WORKERS_MAX, workers) < 0)
				rc = cli_usage_error(CMD, "--workers '%s' must be a number from 0 to %d",
						     optarg, WORKERS_MAX);
			*workers_set = true;
			break;
		case 'h': rc = -1; break;
		case ':': rc = cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]); break;
		default: rc = cli_unknown_option(CMD, argv[optind - 1], CLI_NAMES(opts)); break;
		}
	}
	if (rc == 0 && optind < argc)
		rc = cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	if (rc == 0 && *config != NULL && q->any)
		rc = cli_usage_error(CMD, "--config cannot be combined with the quick options "
				     "(--root, --listen, ...); put them in the file's [ftp] section");
	if (rc == 0 && listen.len > 0)
		sbuf_printf(&q->ftp, "listen = %s\n", sbuf_cstr(&listen));
	if (rc == 0 && implicit.len > 0)
		sbuf_printf(&q->ftp, "implicit_tls_listen = %s\n", sbuf_cstr(&implicit));
	sbuf_free(&listen);
	sbuf_free(&implicit);
	return rc;
}

/* ---- the config ---- */

static int read_serve(struct cfg *cfg, uint64_t *workers, bool workers_set, ik_err *e)
{
	const char *v;
	cfg_get_str(cfg, "serve", "workers", NULL, "0", &v, e);
	if (!workers_set && str_to_u64(v, WORKERS_MAX, workers) < 0)
		return cfg_error(cfg, "serve", "workers", e, "'%s' is not a number", v);
	cfg_get_str(cfg, "serve", "user", NULL, "nobody", &v, e);
	return 0;
}

/* Options: a config of our own making, with only the keys we read. */
static int load_quick(struct ftpd_run *r, const struct quick *q, uint64_t *workers,
		      bool workers_set, ik_err *e)
{
	struct sbuf t = SBUF_INIT(64 * 1024);
	sbuf_printf(&t, "[serve]\n%s[tls]\n%s[ftp]\n%s", sbuf_cstr(&q->serve),
		    sbuf_cstr(&q->tls), sbuf_cstr(&q->ftp));
	r->cfg = cfg_load_string("(inetkit ftpd options)", sbuf_cstr(&t), e);
	sbuf_free(&t);
	if (r->cfg == NULL || read_serve(r->cfg, workers, workers_set, e) < 0 ||
	    account_policy_configure(r->cfg, &r->policy, e) < 0)
		return -1;
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];
	if (ftpd_tls_paths(r->cfg, true, cert, sizeof cert, key, sizeof key, e) < 0)
		return -1;
	bool enabled;
	r->conf = ftpd_conf_read(r->cfg, "ftp", cert, key, &enabled, e);
	if (r->conf == NULL)
		return -1;
	r->own_conf = true;
	r->acl = q->acl;
	r->log_level = LOG_INFO;
	r->log_target = "stderr";
	return cfg_check_unused(r->cfg, e);
}

/* A config file: read and checked whole, as serve reads it. */
static int load_file(struct ftpd_run *r, const char *path, uint64_t *workers, bool workers_set,
		     ik_err *e)
{
	r->sc = serve_conf_load(path, e);
	if (r->sc == NULL || (r->conf = ftpd_file_conf(r->sc, e)) == NULL)
		return -1;
	r->cfg = r->sc->cfg;
	r->acl = ftpd_file_acl(r->sc);
	r->policy = r->sc->accounts;
	if (!workers_set)
		*workers = r->sc->workers;
	r->log_level = r->sc->log_level;
	r->log_target = r->sc->log_target;
	return 0;
}

/* ---- running ---- */

static void on_stopped(void *arg)
{
	struct ftpd_run *r = arg;
	loop_exit(r->loop);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ftpd_run *r = arg;
	log_event(LOG_WARNING, "ftp_stop", "reason=\"grace period over: closing the rest\"");
	loop_exit(r->loop);
}

static void on_stop(struct loop *l, int sig, void *arg)
{
	(void)sig;
	struct ftpd_run *r = arg;
	if (r->grace != NULL) {
		loop_exit(l);
		return;
	}
	r->grace = loop_timer(l, STOP_GRACE_MS, false, on_grace, r);
	ftpd_server_stop(r->fr.cur, on_stopped, r);
}

static int worker(int index, void *arg)
{
	(void)index;
	struct ftpd_run *r = arg;
	ik_err e = {""};
	int rc = CLI_FAIL;
	r->loop = loop_new(&e);
	if (r->loop == NULL)
		return cli_error(CMD, CLI_FAIL, "%s", e.msg);
	if (r->have_db && (r->auth = account_auth_new(r->loop, &r->policy, &e)) == NULL) {
		cli_error(CMD, CLI_FAIL, "%s", e.msg);
		goto out;
	}
	r->fr = (struct ftpd_running){.set = &r->set, .bound = r->conf, .conf = r->conf};
	r->fr.cur = ftpd_server_start(r->conf, r->loop, &r->set, r->auth, &e);
	if (r->fr.cur == NULL) {
		cli_error(CMD, CLI_FAIL, "%s", e.msg);
		goto out;
	}
	loop_on_stop(r->loop, on_stop, r);
	loop_on_reload(r->loop, ftpd_run_on_reload, r);
	/* A worker restarted after a reload reads the file the others have. */
	if (r->sc != NULL && serve_conf_changed(r->sc))
		ftpd_run_reload_file(r);
	log_event(LOG_INFO, "worker_ready", "service=ftp pid=%d", (int)getpid());
	loop_run(r->loop);
	rc = CLI_OK;
out:
	ftpd_server_free(r->fr.cur);
	ftpd_run_free_reloaded(r);
	account_auth_free(r->auth);
	if (r->grace != NULL)
		event_free(r->grace);
	loop_free(r->loop);
	return rc;
}

static void raise_nofile(uint64_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* [serve] user (when root), and whether it can use what the server will
 * open: checked once here rather than failing in every worker. */
static int check_user(struct ftpd_run *r, ik_err *e)
{
	const char *user;
	cfg_get_str(r->cfg, "serve", "user", NULL, "nobody", &user, e);
	if (str_copy(r->user, sizeof r->user, user) < 0)
		return cfg_error(r->cfg, "serve", "user", e, "'%s' is not a user name", user);
	if (serve_user_lookup(r->cfg, r->user, &r->uid, &r->gid, e) < 0)
		return -1;
	if (r->have_db && serve_state_check(r->cfg, r->policy.state_dir, r->policy.db_path, false,
					    r->user, r->uid, r->gid, e) < 0)
		return -1;
	return ftpd_conf_check(r->conf, r->cfg, r->user, r->uid, r->gid, e);
}

static void announce(const struct ftpd_run *r)
{
	const struct ftpd_conf *c = r->conf;
	for (size_t i = 0; i < r->set.n; i++)
		log_event(LOG_INFO, "listen", "service=ftp addr=%s tls=%s", r->set.ep[i].text,
			  i >= c->implicit_from ? "implicit" : c->ssl != NULL ? "auth" : "no");
	if (c->anon.enabled)
		log_event(LOG_INFO, "ftp_anonymous", "root=%s upload=%s", c->anon.root,
			  c->anon.upload[0] ? c->anon.upload : "-");
	if (!r->have_db)
		log_event(LOG_NOTICE, "ftp_accounts", "db=%s reason=\"no accounts database: only "
			  "anonymous logins\"", r->policy.db_path);
}

int cmd_ftpd(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false, workers_set = false;
	uint64_t workers = 0;
	struct quick q = {SBUF_INIT(8192), SBUF_INIT(8192), SBUF_INIT(16384), NULL, false};
	struct ftpd_run r;
	memset(&r, 0, sizeof r);
	ik_err e = {""};
	int rc = parse(argc, argv, &config, &check, &workers, &workers_set, &q);
	if (rc < 0) {
		rc = cli_help(help_text);
		goto out;
	}
	if (rc == 0) {
		int lr = config != NULL ? load_file(&r, config, &workers, workers_set, &e)
					: load_quick(&r, &q, &workers, workers_set, &e);
		rc = lr < 0 ? -1 : 0;
	}
	if (rc != 0) {
		if (rc < 0)
			rc = cli_error(CMD, CLI_USAGE, "%s", e.msg);
		goto out;
	}
	if (check) {
		printf("%s: valid\n", cfg_path(r.cfg));
		goto out;
	}
	if (log_open(r.log_target, "inetkit-ftpd", &e) < 0) {
		rc = cli_error(CMD, CLI_USAGE, "%s", e.msg);
		goto out;
	}
	log_set_level(r.log_level);
	r.have_db = access(r.policy.db_path, F_OK) == 0;
	if (check_user(&r, &e) < 0) {
		rc = cli_error(CMD, CLI_USAGE, "%s", e.msg);
		goto out;
	}
	/* Root binds, then becomes [serve] user, as serve does; what it
	 * opens for later is given to that user. */
	fs_set_service_user(r.uid, r.gid);
	if (ftpd_bind(r.conf, &r.set, &e) < 0 || ftpd_share_limits(r.conf, &e) < 0) {
		rc = cli_error(CMD, CLI_FAIL, "%s", e.msg);
		goto out;
	}
	listen_set_acl(&r.set, r.acl);
	raise_nofile(r.conf->max_sessions * 3 + 64);
	if (serve_drop_privileges(r.user, r.uid, r.gid, &e) < 0) {
		rc = cli_error(CMD, CLI_FAIL, "%s", e.msg);
		goto out;
	}
	workers_hold_signals();
	announce(&r);
	struct workers_opts wo = {.count = (unsigned)workers, .grace_ms = STOP_GRACE_MS + 1000,
				  .name = "ftpd"};
	rc = workers_run(&wo, worker, &r, &e);
	if (rc < 0)
		rc = cli_error(CMD, CLI_FAIL, "%s", e.msg);
	else
		rc = rc == 0 ? CLI_OK : CLI_FAIL;
out:
	listen_set_close(&r.set);
	if (r.conf != NULL)
		ftpd_unshare_limits(r.conf);
	if (r.sc != NULL) {
		serve_conf_free(r.sc);
	} else {
		ftpd_conf_free(r.conf);
		cfg_free(r.cfg);
	}
	acl_free(q.acl);
	sbuf_free(&q.serve);
	sbuf_free(&q.tls);
	sbuf_free(&q.ftp);
	return rc;
}
