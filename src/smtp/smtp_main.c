/* `inetkit smtpd`: serve with one section. The [smtp] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h): bind, privilege drop to [serve] user when started as
 * root, workers, stop, reload on SIGHUP. Unlike serve it makes no
 * accounts.db (without one only aliases and postmaster receive mail, and
 * AUTH is not offered) and no certificate file (one is made in memory);
 * it makes STATE_DIR/mail and STATE_DIR/queue. RFCs: see src/smtp/smtp.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/workers.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "serve/runner.h"
#include "smtp/smtp.h"
#include "commands.h"

#define CMD "smtpd"
#define STOP_GRACE_MS 10000

static const char help_text[] =
	"Usage: inetkit smtpd --config FILE [--check] [--workers N]\n"
	"       inetkit smtpd [--listen ADDR]... [--domain NAME]... [OPTIONS]\n"
	"\n"
	"SMTP server (RFC 5321): receives mail for local users into Maildir\n"
	"(STATE_DIR/mail/NAME/new), takes mail from authenticated users for any\n"
	"domain into the outbound queue (STATE_DIR/queue), and is never an open\n"
	"relay. With --config it runs the [smtp] section of FILE, the same section\n"
	"that `inetkit serve` runs (see inetkit-smtpd(8) for every key). Without\n"
	"it, the options below make the configuration:\n"
	"  --listen ADDR          [HOST:]PORT for mail from other servers (the port\n"
	"                         25 role; default " SMTP_DEFAULT_LISTEN "); repeatable\n"
	"  --submission ADDR      message submission (the port 587 role): STARTTLS,\n"
	"                         then AUTH, before MAIL; repeatable\n"
	"  --submissions ADDR     submission over implicit TLS (the port 465 role)\n"
	"  --domain NAME          a local domain (repeatable; default: localhost)\n"
	"  --state-dir DIR        accounts.db, mail/ (Maildirs) and queue/ (default\n"
	"                         " ACCOUNT_DEFAULT_STATE_DIR ")\n"
	"  --relay-network CIDR   clients that may send to other domains without\n"
	"                         AUTH (repeatable; default: none)\n"
	"  --max-size SIZE        the largest message (default 25M)\n"
	"  --aliases FILE         an /etc/aliases-style file (name: targets)\n"
	"  --auth-plaintext       allow AUTH without TLS (default: only over TLS)\n"
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
	"  inetkit smtpd --state-dir /tmp/mail --listen 127.0.0.1:2525 --domain localhost\n"
	"  swaks --server 127.0.0.1:2525 --from me@example.org --to alice@localhost\n"
	"  ls /tmp/mail/mail/alice/new/\n"
	"\n"
	"Every message is on disk (fsync'ed) before it is answered 250. Stop with\n"
	"Ctrl-C or SIGTERM (deliveries under way get 10 seconds). SIGHUP reloads:\n"
	"FILE again (an invalid one is logged and ignored), or with the quick\n"
	"options the --cert/--key files; new sessions get the new settings.\n"
	"Exit status: 0 stopped normally, 1 failed to start or run, 2 bad usage.\n";

enum {
	OPT_CONFIG = 256, OPT_CHECK, OPT_LISTEN, OPT_SUBMISSION, OPT_SUBMISSIONS, OPT_DOMAIN,
	OPT_STATE, OPT_RELAY, OPT_MAX_SIZE, OPT_ALIASES, OPT_AUTH_PLAIN, OPT_CERT, OPT_KEY,
	OPT_USER, OPT_WORKERS, OPT_ALLOW, OPT_DENY,
};

static const struct option opts[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"check", no_argument, NULL, OPT_CHECK},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"submission", required_argument, NULL, OPT_SUBMISSION},
	{"submissions", required_argument, NULL, OPT_SUBMISSIONS},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"state-dir", required_argument, NULL, OPT_STATE},
	{"relay-network", required_argument, NULL, OPT_RELAY},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"aliases", required_argument, NULL, OPT_ALIASES},
	{"auth-plaintext", no_argument, NULL, OPT_AUTH_PLAIN},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
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
	if (v[0] == '\0' || strpbrk(v, "\r\n;#,") != NULL || v[0] == ' ' ||
	    v[strlen(v) - 1] == ' ')
		return cli_usage_error(CMD, "%s '%s': empty, or holds a character (line break, ';', "
				       "'#', ',', edge space) the configuration cannot hold", opt, v);
	return 0;
}

/* The options as INI text: [serve], [tls] and [smtp] lines; list keys
 * (listen, domains, ...) gather every occurrence of their option. */
struct quick {
	struct sbuf serve, tls, smtp;
	struct sbuf listen, submission, submissions, domains, relay;
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

static int quick_list(struct quick *q, struct sbuf *list, const char *opt, const char *v)
{
	if (ini_value(opt, v) != 0 || strchr(v, ' ') != NULL)
		return ini_value(opt, v) != 0 ? CLI_USAGE
		       : cli_usage_error(CMD, "%s '%s': one value per option; repeat the option",
					 opt, v);
	q->any = true;
	if (sbuf_printf(list, "%s%s", list->len ? " " : "", v) < 0)
		return cli_usage_error(CMD, "too many %s options", opt);
	return 0;
}

static struct sbuf *list_of(struct quick *q, int o, const char **opt)
{
	switch (o) {
	case OPT_LISTEN: *opt = "--listen"; return &q->listen;
	case OPT_SUBMISSION: *opt = "--submission"; return &q->submission;
	case OPT_SUBMISSIONS: *opt = "--submissions"; return &q->submissions;
	case OPT_DOMAIN: *opt = "--domain"; return &q->domains;
	default: *opt = "--relay-network"; return &q->relay;
	}
}

static int parse(int argc, char **argv, const char **config, bool *check, uint64_t *workers,
		 bool *workers_set, struct quick *q)
{
	opterr = 0;
	optind = 0;
	int o, rc = 0;
	while (rc == 0 && (o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *name;
		switch (o) {
		case OPT_CONFIG: *config = optarg; break;
		case OPT_CHECK: *check = true; break;
		case OPT_LISTEN:
		case OPT_SUBMISSION:
		case OPT_SUBMISSIONS:
		case OPT_DOMAIN:
		case OPT_RELAY: {
			struct sbuf *list = list_of(q, o, &name);
			rc = quick_list(q, list, name, optarg);
			break;
		}
		case OPT_STATE: rc = quick_add(q, &q->serve, "--state-dir", "state_dir", optarg); break;
		case OPT_USER: rc = quick_add(q, &q->serve, "--user", "user", optarg); break;
		case OPT_CERT: rc = quick_add(q, &q->tls, "--cert", "cert", optarg); break;
		case OPT_KEY: rc = quick_add(q, &q->tls, "--key", "key", optarg); break;
		case OPT_MAX_SIZE: rc = quick_add(q, &q->smtp, "--max-size", "max_size", optarg); break;
		case OPT_ALIASES: rc = quick_add(q, &q->smtp, "--aliases", "aliases", optarg); break;
		case OPT_AUTH_PLAIN:
			rc = quick_add(q, &q->smtp, "--auth-plaintext", "auth_plaintext", "yes");
			break;
		case OPT_ALLOW:
		case OPT_DENY: {
			ik_err e;
			q->any = true;
			if (acl_option(&q->acl, "smtp", o == OPT_ALLOW ? ACL_ALLOW : ACL_DENY, optarg,
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
				     "(--listen, --domain, ...); put them in the file's [smtp] "
				     "section");
	static const char *const keys[] = {"listen", "submission_listen", "submissions_listen",
					   "domains", "relay_networks"};
	struct sbuf *lists[] = {&q->listen, &q->submission, &q->submissions, &q->domains,
				&q->relay};
	for (size_t i = 0; rc == 0 && i < 5; i++)
		if (lists[i]->len > 0 && sbuf_printf(&q->smtp, "%s = %s\n", keys[i],
						     sbuf_cstr(lists[i])) < 0)
			rc = cli_usage_error(CMD, "too many options");
	/* Submission alone: no port-25 socket unless --listen says so. */
	if (rc == 0 && q->listen.len == 0 && (q->submission.len > 0 || q->submissions.len > 0))
		sbuf_printf(&q->smtp, "listen =\n");
	return rc;
}

int cmd_smtpd(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false, workers_set = false;
	uint64_t workers = 0;
	struct quick q = {SBUF_INIT(8192), SBUF_INIT(8192), SBUF_INIT(32768), SBUF_INIT(4096),
			  SBUF_INIT(4096), SBUF_INIT(4096), SBUF_INIT(8192), SBUF_INIT(8192), NULL,
			  false};
	int rc = parse(argc, argv, &config, &check, &workers, &workers_set, &q);
	if (rc != 0) {
		if (rc < 0)
			rc = cli_help(help_text);
		goto out;
	}
	struct runner_opts ro = {
		.cmd = CMD,
		.restart = "inetkit smtpd",
		.section = "smtp",
		.manual = "inetkit-smtpd(8)",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = workers_set || config == NULL,
		.workers = (unsigned)workers,
		.acl = q.acl,
		.log_ident = "inetkit-smtpd",
	};
	struct sbuf t = SBUF_INIT(64 * 1024);
	sbuf_printf(&t, "[serve]\n%s[tls]\n%s[smtp]\n%s", sbuf_cstr(&q.serve), sbuf_cstr(&q.tls),
		    sbuf_cstr(&q.smtp));
	rc = runner_standalone(&ro, config, sbuf_cstr(&t), check);
	sbuf_free(&t);
out:
	acl_free(q.acl);
	struct sbuf *all[] = {&q.serve, &q.tls, &q.smtp, &q.listen, &q.submission, &q.submissions,
			      &q.domains, &q.relay};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sbuf_free(all[i]);
	return rc;
}
