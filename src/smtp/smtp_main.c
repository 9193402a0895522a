/* `inetkit smtpd`: serve with one section. The [smtp] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h): bind, privilege drop to [serve] user when started as
 * root, workers, stop, reload on SIGHUP. Unlike serve it makes no
 * accounts.db (without one only aliases and postmaster receive mail, and
 * AUTH is not offered) and no certificate file (one is made in memory);
 * it makes STATE_DIR/mail and STATE_DIR/queue. RFCs: see src/smtp/smtp.h. */

#include "core/server_cli.h"
#include "serve/runner.h"
#include "smtp/smtp.h"
#include "commands.h"

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

static const struct server_cli_opt opts[] = {
	SERVER_CLI_OPTS_FIRST,
	{"listen", SERVER_CLI_LIST, 0, "listen", NULL, NULL, false},
	{"submission", SERVER_CLI_LIST, 0, "submission_listen", NULL, NULL, true},
	{"submissions", SERVER_CLI_LIST, 0, "submissions_listen", NULL, NULL, true},
	{"domain", SERVER_CLI_LIST, 0, "domains", NULL, NULL, false},
	SERVER_CLI_OPT_STATE_DIR,
	{"relay-network", SERVER_CLI_LIST, 0, "relay_networks", NULL, NULL, false},
	{"max-size", SERVER_CLI_KEY, 0, "max_size", NULL, NULL, false},
	{"aliases", SERVER_CLI_KEY, 0, "aliases", NULL, NULL, false},
	{"auth-plaintext", SERVER_CLI_FLAG, 0, "auth_plaintext", "yes", NULL, false},
	SERVER_CLI_OPTS_TLS,
	SERVER_CLI_OPTS_LAST,
};

/* A value may hold inner spaces (a path); a list value may not: one
 * address, domain or network per option. */
static const struct server_cli smtpd_cli = {
	.cmd = "smtpd",
	.section = "smtp",
	.help = help_text,
	.quick_names = "--listen, --domain",
	.grace_ms = 10000,
	.values = SERVER_CLI_SPACE_OK,
	.list_sep = " ",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
};

int cmd_smtpd(int argc, char **argv)
{
	return runner_server_cli(&smtpd_cli, argc, argv);
}
