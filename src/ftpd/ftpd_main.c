/* `inetkit ftpd`: serve with one section. The [ftp] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start ("--root DIR" serves DIR to
 * anonymous users), on the runner serve uses (tools/runner.h): bind,
 * privilege drop to [serve] user when started as root, workers, stop,
 * reload on SIGHUP. Unlike serve it makes nothing: no state directory, no
 * accounts.db (without one only anonymous logins work), no certificate
 * file (one is made in memory). RFCs: see src/ftpd/ftpd.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/acl.h"
#include "core/cli.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "core/workers.h"
#include "ftpd/ftpd.h"
#include "serve/runner.h"
#include "commands.h"

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

int cmd_ftpd(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false, workers_set = false;
	uint64_t workers = 0;
	struct quick q = {SBUF_INIT(8192), SBUF_INIT(8192), SBUF_INIT(16384), NULL, false};
	int rc = parse(argc, argv, &config, &check, &workers, &workers_set, &q);
	if (rc != 0) {
		if (rc < 0)
			rc = cli_help(help_text);
		goto out;
	}
	/* Options: [serve] workers is theirs to give, 0 unless --workers. */
	struct runner_opts ro = {
		.cmd = CMD,
		.restart = "inetkit ftpd",
		.section = "ftp",
		.manual = "inetkit-ftpd(8)",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = workers_set || config == NULL,
		.workers = (unsigned)workers,
		.acl = q.acl,
		.log_ident = "inetkit-ftpd",
	};
	struct sbuf t = SBUF_INIT(64 * 1024);
	sbuf_printf(&t, "[serve]\n%s[tls]\n%s[ftp]\n%s", sbuf_cstr(&q.serve), sbuf_cstr(&q.tls),
		    sbuf_cstr(&q.ftp));
	rc = runner_standalone(&ro, config, sbuf_cstr(&t), check);
	sbuf_free(&t);
out:
	acl_free(q.acl);
	sbuf_free(&q.serve);
	sbuf_free(&q.tls);
	sbuf_free(&q.ftp);
	return rc;
}
