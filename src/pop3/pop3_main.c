/* `inetkit pop3d`: serve with one section. The [pop3] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h). Like smtpd it makes no accounts.db (without one
 * nobody can log in) and no certificate file (one is made in memory).
 * RFCs: see src/pop3/pop3.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/workers.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "serve/runner.h"
#include "pop3/pop3.h"
#include "commands.h"

#define CMD "pop3d"
#define STOP_GRACE_MS 10000

static const char help_text[] =
	"Usage: inetkit pop3d --config FILE [--check] [--workers N]\n"
	"       inetkit pop3d [--listen ADDR]... [--implicit-tls ADDR]... [OPTIONS]\n"
	"\n"
	"POP3 server (RFC 1939, RFC 2449): users read the mail smtpd delivered into\n"
	"their Maildir (STATE_DIR/mail/NAME). Logins need TLS (STLS, RFC 2595, or\n"
	"implicit TLS, RFC 8314) unless --allow-plaintext-auth. With --config it runs\n"
	"the [pop3] section of FILE, the same section that `inetkit serve` runs (see\n"
	"inetkit-pop3d(8) for every key). Without it, the options below make the\n"
	"configuration:\n"
	"  --listen ADDR            [HOST:]PORT for POP3 with STLS (default\n"
	"                           " POP3_DEFAULT_LISTEN "); repeatable\n"
	"  --implicit-tls ADDR      [HOST:]PORT for POP3 over TLS from the first byte\n"
	"                           (the port 995 role); repeatable\n"
	"  --state-dir DIR          accounts.db and mail/ (default\n"
	"                           " ACCOUNT_DEFAULT_STATE_DIR ")\n"
	"  --allow-plaintext-auth   allow logins without TLS (passwords in clear)\n"
	"  --cert FILE              PEM certificate chain (default: self-signed, in memory)\n"
	"  --key FILE               PEM private key (default: in the --cert file)\n"
	"  --user NAME              started as root: serve as NAME (default nobody)\n"
	"  --allow CIDR             take only clients in CIDR (repeatable; default: all)\n"
	"  --deny CIDR              refuse clients in CIDR, allowed or not (repeatable)\n"
	"Common options:\n"
	"  --workers N              N worker processes (default: [serve] workers, or 0 =\n"
	"                           serve in this process)\n"
	"  --check                  check the configuration and exit (0 valid, 2 invalid)\n"
	"  -h, --help               this help\n"
	"\n"
	"Examples:\n"
	"  printf 'secret\\n' | inetkit user add alice --db /tmp/mail/accounts.db --password-stdin\n"
	"  inetkit pop3d --state-dir /tmp/mail --listen 127.0.0.1:2110 --implicit-tls 127.0.0.1:2995\n"
	"  curl -k pop3s://127.0.0.1:2995/1 -u alice:secret\n"
	"\n"
	"Messages marked with DELE are removed only at QUIT (a dropped connection\n"
	"removes nothing); the maildrop is locked for the session (a second one gets\n"
	"-ERR [IN-USE]). Stop with Ctrl-C or SIGTERM. SIGHUP reloads FILE, or with the\n"
	"quick options the --cert/--key files; new sessions get the new settings.\n"
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
	{"allow-plaintext-auth", no_argument, NULL, OPT_PLAIN},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"user", required_argument, NULL, OPT_USER},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A value written into the generated INI text must survive it whole. */
static int ini_value(const char *opt, const char *v)
{
	if (v[0] == '\0' || strpbrk(v, "\r\n;#, ") != NULL)
		return cli_usage_error(CMD, "%s '%s': empty, or holds a character (line break, ';', "
				       "'#', ',', space) the configuration cannot hold", opt, v);
	return 0;
}

struct quick {
	struct sbuf serve, tls, pop3, listen, tls_listen;
	struct acl *acl;
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

static int quick_list(struct quick *q, struct sbuf *list, const char *opt, const char *v)
{
	if (ini_value(opt, v) != 0)
		return CLI_USAGE;
	q->any = true;
	if (sbuf_printf(list, "%s%s", list->len ? " " : "", v) < 0)
		return cli_usage_error(CMD, "too many %s options", opt);
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
		case OPT_LISTEN: rc = quick_list(q, &q->listen, "--listen", optarg); break;
		case OPT_TLS: rc = quick_list(q, &q->tls_listen, "--implicit-tls", optarg); break;
		case OPT_STATE: rc = quick_add(q, &q->serve, "--state-dir", "state_dir", optarg); break;
		case OPT_USER: rc = quick_add(q, &q->serve, "--user", "user", optarg); break;
		case OPT_CERT: rc = quick_add(q, &q->tls, "--cert", "cert", optarg); break;
		case OPT_KEY: rc = quick_add(q, &q->tls, "--key", "key", optarg); break;
		case OPT_PLAIN:
			rc = quick_add(q, &q->pop3, "--allow-plaintext-auth", "allow_plaintext_auth",
				       "yes");
			break;
		case OPT_ALLOW:
		case OPT_DENY: {
			ik_err e;
			q->any = true;
			if (acl_option(&q->acl, "pop3", o == OPT_ALLOW ? ACL_ALLOW : ACL_DENY, optarg,
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
				     "(--listen, --implicit-tls, ...); put them in the file's [pop3] "
				     "section");
	if (rc == 0 && q->listen.len > 0 &&
	    sbuf_printf(&q->pop3, "listen = %s\n", sbuf_cstr(&q->listen)) < 0)
		rc = cli_usage_error(CMD, "too many options");
	if (rc == 0 && q->tls_listen.len > 0 &&
	    sbuf_printf(&q->pop3, "implicit_tls_listen = %s\n", sbuf_cstr(&q->tls_listen)) < 0)
		rc = cli_usage_error(CMD, "too many options");
	/* Implicit TLS alone: no STLS socket unless --listen says so. */
	if (rc == 0 && q->listen.len == 0 && q->tls_listen.len > 0)
		sbuf_printf(&q->pop3, "listen =\n");
	return rc;
}

int cmd_pop3d(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false, workers_set = false;
	uint64_t workers = 0;
	struct quick q = {SBUF_INIT(8192), SBUF_INIT(8192), SBUF_INIT(32768), SBUF_INIT(4096),
			  SBUF_INIT(4096), NULL, false};
	int rc = parse(argc, argv, &config, &check, &workers, &workers_set, &q);
	if (rc != 0) {
		if (rc < 0)
			rc = cli_help(help_text);
		goto out;
	}
	struct runner_opts ro = {
		.cmd = CMD,
		.restart = "inetkit pop3d",
		.section = "pop3",
		.manual = "inetkit-pop3d(8)",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = workers_set || config == NULL,
		.workers = (unsigned)workers,
		.acl = q.acl,
		.log_ident = "inetkit-pop3d",
	};
	struct sbuf t = SBUF_INIT(64 * 1024);
	sbuf_printf(&t, "[serve]\n%s[tls]\n%s[pop3]\n%s", sbuf_cstr(&q.serve), sbuf_cstr(&q.tls),
		    sbuf_cstr(&q.pop3));
	rc = runner_standalone(&ro, config, sbuf_cstr(&t), check);
	sbuf_free(&t);
out:
	acl_free(q.acl);
	struct sbuf *all[] = {&q.serve, &q.tls, &q.pop3, &q.listen, &q.tls_listen};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sbuf_free(all[i]);
	return rc;
}
