/* `inetkit imapd`: serve with one section. The [imap] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start, on the runner serve uses
 * (serve/runner.h): bind, privilege drop to [serve] user when started as
 * root, workers, stop, reload on SIGHUP. RFCs: see src/imap/imap.h. */

#include "commands.h"
#include "imap/imap.h"
#include "core/server_cli.h"
#include "serve/runner.h"

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

static const struct server_cli_opt opts[] = {
	SERVER_CLI_OPTS_FIRST,
	{"listen", SERVER_CLI_LIST, 0, "listen", NULL, NULL, false},
	{"implicit-tls", SERVER_CLI_LIST, 0, "tls_listen", NULL, NULL, true},
	SERVER_CLI_OPT_STATE_DIR,
	{"login-plaintext", SERVER_CLI_FLAG, 0, "login_plaintext", "yes", NULL, false},
	SERVER_CLI_OPTS_TLS,
	SERVER_CLI_OPTS_LAST,
};

static const struct server_cli imapd_cli = {
	.cmd = "imapd",
	.section = "imap",
	.help = help_text,
	.quick_names = "--listen, --implicit-tls",
	.grace_ms = 5000,
	.values = 0,
	.list_sep = " ",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
};

int cmd_imapd(int argc, char **argv)
{
	return runner_server_cli(&imapd_cli, argc, argv);
}
