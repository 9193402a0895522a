/* `inetkit pop3d`: serve with one section. The [pop3] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h). Like smtpd it makes no accounts.db (without one
 * nobody can log in) and no certificate file (one is made in memory).
 * RFCs: see src/pop3/pop3.h. */

#include "core/server_cli.h"
#include "serve/runner.h"
#include "pop3/pop3.h"
#include "commands.h"

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

static const struct server_cli_opt opts[] = {
	SERVER_CLI_OPTS_FIRST,
	{"listen", SERVER_CLI_LIST, 0, "listen", NULL, NULL, false},
	{"implicit-tls", SERVER_CLI_LIST, 0, "implicit_tls_listen", NULL, NULL, true},
	SERVER_CLI_OPT_STATE_DIR,
	{"allow-plaintext-auth", SERVER_CLI_FLAG, 0, "allow_plaintext_auth", "yes", NULL, false},
	SERVER_CLI_OPTS_TLS,
	SERVER_CLI_OPTS_LAST,
};

static const struct server_cli pop3d_cli = {
	.cmd = "pop3d",
	.section = "pop3",
	.help = help_text,
	.quick_names = "--listen, --implicit-tls",
	.grace_ms = 10000,
	.values = 0,
	.list_sep = " ",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
};

int cmd_pop3d(int argc, char **argv)
{
	return runner_server_cli(&pop3d_cli, argc, argv);
}
