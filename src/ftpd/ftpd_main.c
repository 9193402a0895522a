/* `inetkit ftpd`: serve with one section. The [ftp] section of a config
 * file (the same section `inetkit serve` runs), or a few options turned
 * into such a section for a one-line start ("--root DIR" serves DIR to
 * anonymous users), on the runner serve uses (tools/runner.h): bind,
 * privilege drop to [serve] user when started as root, workers, stop,
 * reload on SIGHUP. Unlike serve it makes nothing: no state directory, no
 * accounts.db (without one only anonymous logins work), no certificate
 * file (one is made in memory). RFCs: see src/ftpd/ftpd.h. */

#include "ftpd/ftpd.h"
#include "core/server_cli.h"
#include "serve/runner.h"
#include "commands.h"

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

static const struct server_cli_opt opts[] = {
	SERVER_CLI_OPTS_FIRST,
	{"root", SERVER_CLI_KEY, 0, "anonymous_root", "yes", "anonymous", false},
	{"anonymous", SERVER_CLI_FLAG, 0, "anonymous", "yes", NULL, false},
	{"upload", SERVER_CLI_KEY, 0, "anonymous_upload", NULL, NULL, false},
	{"listen", SERVER_CLI_LIST, 0, "listen", NULL, NULL, false},
	{"implicit-tls", SERVER_CLI_LIST, 0, "implicit_tls_listen", NULL, NULL, false},
	{"no-tls", SERVER_CLI_FLAG, 0, "tls", "no", NULL, false},
	SERVER_CLI_OPTS_TLS,
	SERVER_CLI_OPT_STATE_DIR,
	{"xferlog", SERVER_CLI_KEY, 0, "xferlog", NULL, NULL, false},
	SERVER_CLI_OPTS_LAST,
};

/* Paths may hold ',' and inner spaces: lists are joined with ", ". */
static const struct server_cli ftpd_cli = {
	.cmd = "ftpd",
	.section = "ftp",
	.help = help_text,
	.quick_names = "--root, --listen",
	.grace_ms = 5000,
	.values = SERVER_CLI_COMMA_OK | SERVER_CLI_SPACE_OK,
	.list_sep = ", ",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
};

int cmd_ftpd(int argc, char **argv)
{
	return runner_server_cli(&ftpd_cli, argc, argv);
}
