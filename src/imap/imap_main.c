/* `inetkit imapd`: serve with one section. The [imap] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h): bind, privilege drop to [serve] user when started as
 * root, workers, stop, reload on SIGHUP. RFCs: see src/imap/imap.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/acl.h"
#include "core/cli.h"
#include "core/workers.h"
#include "imap/imap.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "serve/runner.h"

#define CMD "imapd"
#define STOP_GRACE_MS 5000

static const char help_text[] =
	"Usage: inetkit imapd --config FILE [--check] [--workers N]\n"
	"       inetkit imapd [--listen ADDR]... [--implicit-tls ADDR]... [OPTIONS]\n"
	"\n"
	"IMAP server (RFC 3501 IMAP4rev1, with IDLE, UIDPLUS, MOVE, LITERAL+, SASL-IR,\n"
	"CONDSTORE, ...): mail clients read and manage the Maildir of local users\n"
	"(STATE_DIR/mail/NAME, folders as Maildir++ .Name directories). With\n"
	"--config it runs the [imap] section of FILE, the same section that\n"
	"`inetkit serve` runs (see inetkit-imapd(8) for every key). Without it,\n"
	"the options below make the configuration:\n"
	"  --listen ADDR          [HOST:]PORT for IMAP with STARTTLS (default\n"
	"                         " IMAP_DEFAULT_LISTEN "); repeatable\n"
	"  --implicit-tls ADDR    [HOST:]PORT for IMAP over implicit TLS (the port\n"
	"                         993 role); repeatable\n"
	"  --state-dir DIR        accounts.db and mail/ (default " ACCOUNT_DEFAULT_STATE_DIR ")\n"
	"  --login-plaintext      allow LOGIN without TLS (default: LOGINDISABLED)\n"
	"  --cert FILE            PEM certificate chain (default: self-signed, in memory)\n"
	"  --key FILE             PEM private key (default: in the --cert file)\n"
	"  --user NAME            started as root: serve as NAME (default nobody)\n"
	"  --allow CIDR           take only clients in CIDR (repeatable; default: all)\n"
	"  --deny CIDR            refuse clients in CIDR, allowed or not (repeatable)\n"
	"Common options:\n"
	"  --workers N            N worker processes (default: [serve] workers, or 0 =\n"
	"                         serve in this process)\n"
	"  --check                check the configuration and exit (0 valid, 2 invalid)\n"
	"  -h, --help             this help\n"
	"\n"
	"Examples:\n"
	"  printf 'secret\\n' | inetkit user add alice --db /tmp/mail/accounts.db --password-stdin\n"
	"  inetkit imapd --state-dir /tmp/mail --listen 127.0.0.1:2143\n"
	"  curl --ssl-reqd -k imap://127.0.0.1:2143/INBOX --user alice:secret\n"
	"\n"
	"Stop with Ctrl-C or SIGTERM. SIGHUP reloads: FILE again (an invalid one is\n"
	"logged and ignored), or with the quick options the --cert/--key files.\n"
	"Exit status: 0 stopped normally, 1 failed to start or run, 2 bad usage.\n";

enum {
	OPT_CONFIG = 256, OPT_CHECK, OPT_LISTEN, OPT_TLS, OPT_STATE, OPT_PLAIN, OPT_CERT, OPT_KEY,
	OPT_USER, OPT_WORKERS, OPT_ALLOW, OPT_DENY,
};

static const struct option opts[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"check", no_argument, NULL, OPT_CHECK},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"implicit-tls", required_argument, NULL, OPT_TLS},
	{"state-dir", required_argument, NULL, OPT_STATE},
	{"login-plaintext", no_argument, NULL, OPT_PLAIN},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"user", required_argument, NULL, OPT_USER},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct quick {
	struct sbuf serve, tls, imap, listen, tls_listen;
	struct acl *acl;
	bool any;
};

static int ini_value(const char *opt, const char *v)
{
	if (v[0] == '\0' || strpbrk(v, "\r\n;#, ") != NULL)
		return cli_usage_error(CMD, "%s '%s': empty, or holds a character (line break, ';', "
				       "'#', ',', space) the configuration cannot hold", opt, v);
	return 0;
}

static int add(struct quick *q, struct sbuf *b, const char *opt, const char *key, const char *v)
{
	if (ini_value(opt, v) != 0)
		return CLI_USAGE;
	q->any = true;
	if (sbuf_printf(b, "%s = %s\n", key, v) < 0)
		return cli_usage_error(CMD, "too many options");
	return 0;
}

static int parse(int argc, char **argv, const char **config, bool *check, uint64_t *workers,
		 bool *workers_set, struct quick *q)
{
	opterr = 0;
	optind = 0;
	int o, rc = 0;
	while (rc == 0 && (o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_CONFIG: *config = optarg; break;
		case OPT_CHECK: *check = true; break;
		case OPT_LISTEN:
		case OPT_TLS: {
			struct sbuf *l = o == OPT_LISTEN ? &q->listen : &q->tls_listen;
			if (ini_value(o == OPT_LISTEN ? "--listen" : "--implicit-tls", optarg) != 0) {
				rc = CLI_USAGE;
				break;
			}
			q->any = true;
			if (sbuf_printf(l, "%s%s", l->len ? " " : "", optarg) < 0)
				rc = cli_usage_error(CMD, "too many addresses");
			break;
		}
		case OPT_STATE: rc = add(q, &q->serve, "--state-dir", "state_dir", optarg); break;
		case OPT_USER: rc = add(q, &q->serve, "--user", "user", optarg); break;
		case OPT_CERT: rc = add(q, &q->tls, "--cert", "cert", optarg); break;
		case OPT_KEY: rc = add(q, &q->tls, "--key", "key", optarg); break;
		case OPT_PLAIN:
			rc = add(q, &q->imap, "--login-plaintext", "login_plaintext", "yes");
			break;
		case OPT_ALLOW:
		case OPT_DENY: {
			ik_err e;
			q->any = true;
			if (acl_option(&q->acl, "imap", o == OPT_ALLOW ? ACL_ALLOW : ACL_DENY, optarg,
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
				     "(--listen, --implicit-tls, ...); put them in the file's [imap] "
				     "section");
	if (rc == 0 && q->listen.len > 0 &&
	    sbuf_printf(&q->imap, "listen = %s\n", sbuf_cstr(&q->listen)) < 0)
		rc = cli_usage_error(CMD, "too many options");
	if (rc == 0 && q->tls_listen.len > 0) {
		if (sbuf_printf(&q->imap, "tls_listen = %s\n", sbuf_cstr(&q->tls_listen)) < 0)
			rc = cli_usage_error(CMD, "too many options");
		/* Implicit TLS alone: no plaintext socket unless --listen says so. */
		if (rc == 0 && q->listen.len == 0)
			sbuf_printf(&q->imap, "listen =\n");
	}
	return rc;
}

int cmd_imapd(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false, workers_set = false;
	uint64_t workers = 0;
	struct quick q = {SBUF_INIT(8192), SBUF_INIT(8192), SBUF_INIT(16384), SBUF_INIT(4096),
			  SBUF_INIT(4096), NULL, false};
	int rc = parse(argc, argv, &config, &check, &workers, &workers_set, &q);
	if (rc != 0) {
		if (rc < 0)
			rc = cli_help(help_text);
		goto out;
	}
	struct runner_opts ro = {
		.cmd = CMD,
		.restart = "inetkit imapd",
		.section = "imap",
		.manual = "inetkit-imapd(8)",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = workers_set || config == NULL,
		.workers = (unsigned)workers,
		.acl = q.acl,
		.log_ident = "inetkit-imapd",
	};
	struct sbuf t = SBUF_INIT(64 * 1024);
	sbuf_printf(&t, "[serve]\n%s[tls]\n%s[imap]\n%s", sbuf_cstr(&q.serve), sbuf_cstr(&q.tls),
		    sbuf_cstr(&q.imap));
	rc = runner_standalone(&ro, config, sbuf_cstr(&t), check);
	sbuf_free(&t);
out:
	acl_free(q.acl);
	struct sbuf *all[] = {&q.serve, &q.tls, &q.imap, &q.listen, &q.tls_listen};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sbuf_free(all[i]);
	return rc;
}
