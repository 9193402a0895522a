/* The command line of every standalone session server (`inetkit ftpd`,
 * `smtpd`, `pop3d`, `imapd`), written once: --config FILE, --check,
 * --workers N, --help, and the quick options that a one-line start turns
 * into the INI text of its config section, which the runner then loads
 * exactly as it would load a file (serve/runner.h, runner_server_cli).
 *
 * A server gives a struct server_cli: its names, its --help text and its
 * options in the order --help lists them, each one a row saying what it
 * writes ("key = VALUE" into [serve], [tls] or its own section; a flag's
 * fixed value; a repeatable list gathered into one key). Values are
 * checked so that the generated text holds them whole; allow/deny go to
 * an acl (core/acl.h) kept across reloads. No RFC of its own. */
#ifndef INETKIT_CORE_SERVER_CLI_H
#define INETKIT_CORE_SERVER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"

struct acl;

enum server_cli_kind {
	SERVER_CLI_CONFIG,	/* --config FILE: run the file's section */
	SERVER_CLI_CHECK,	/* --check: check the configuration only */
	SERVER_CLI_WORKERS,	/* --workers N */
	SERVER_CLI_HELP,	/* -h, --help */
	SERVER_CLI_ALLOW,	/* --allow CIDR (repeatable) */
	SERVER_CLI_DENY,	/* --deny CIDR (repeatable) */
	SERVER_CLI_KEY,		/* --opt V: "key = V" */
	SERVER_CLI_FLAG,	/* --opt: "key = value" */
	SERVER_CLI_LIST,	/* --opt V, repeatable: one "key = V1 V2" after the rest */
};

enum server_cli_sec { SERVER_CLI_OWN, SERVER_CLI_SERVE, SERVER_CLI_TLS };

struct server_cli_opt {
	const char *name;		/* without "--"; first member: CLI_NAMES */
	enum server_cli_kind kind;
	enum server_cli_sec sec;	/* KEY, FLAG: the section written */
	const char *key;
	/* FLAG: the value written ("yes"). KEY with also set: a second line
	 * "also = value" (ftpd's --root DIR also turns anonymous on). */
	const char *value;
	const char *also;
	bool no_default_listen;		/* LIST: given without a "listen" list, it
					 * writes "listen =" (no default socket) */
};

/* The options every server shares, for its table. */
#define SERVER_CLI_OPT_CONFIG {"config", SERVER_CLI_CONFIG, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_CHECK {"check", SERVER_CLI_CHECK, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_WORKERS {"workers", SERVER_CLI_WORKERS, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_HELP {"help", SERVER_CLI_HELP, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_ALLOW {"allow", SERVER_CLI_ALLOW, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_DENY {"deny", SERVER_CLI_DENY, 0, NULL, NULL, NULL, false}
#define SERVER_CLI_OPT_STATE_DIR \
	{"state-dir", SERVER_CLI_KEY, SERVER_CLI_SERVE, "state_dir", NULL, NULL, false}
#define SERVER_CLI_OPT_USER {"user", SERVER_CLI_KEY, SERVER_CLI_SERVE, "user", NULL, NULL, false}
#define SERVER_CLI_OPT_CERT {"cert", SERVER_CLI_KEY, SERVER_CLI_TLS, "cert", NULL, NULL, false}
#define SERVER_CLI_OPT_KEY {"key", SERVER_CLI_KEY, SERVER_CLI_TLS, "key", NULL, NULL, false}

/* In the order every server's --help lists them: first, the TLS files,
 * last. */
#define SERVER_CLI_OPTS_FIRST SERVER_CLI_OPT_CONFIG, SERVER_CLI_OPT_CHECK
#define SERVER_CLI_OPTS_TLS SERVER_CLI_OPT_CERT, SERVER_CLI_OPT_KEY
#define SERVER_CLI_OPTS_LAST \
	SERVER_CLI_OPT_USER, SERVER_CLI_OPT_WORKERS, SERVER_CLI_OPT_ALLOW, SERVER_CLI_OPT_DENY, \
	SERVER_CLI_OPT_HELP

#define SERVER_CLI_MAX_OPTS 32

/* What a value may hold besides what INI text always refuses (line
 * breaks, ';', '#'): a ',' (not a list separator for this server), and
 * spaces inside (never at an edge). Lists join with list_sep. */
enum { SERVER_CLI_COMMA_OK = 1, SERVER_CLI_SPACE_OK = 2 };

struct server_cli {
	const char *cmd;		/* "pop3d": messages, "inetkit pop3d", the manual */
	const char *section;		/* "pop3" */
	const char *help;		/* the --help text */
	const char *quick_names;	/* "--listen, --implicit-tls": --config conflicts */
	uint64_t grace_ms;		/* stop: time for sessions to end */
	unsigned values;		/* SERVER_CLI_COMMA_OK | SERVER_CLI_SPACE_OK */
	const char *list_sep;		/* " ", or ", " when values may hold spaces */
	const struct server_cli_opt *opts;
	size_t nopts;			/* at most SERVER_CLI_MAX_OPTS */
};

/* What the command line asks for. */
struct server_cli_args {
	const char *config;		/* --config, or NULL: text */
	bool check;
	bool workers_set;
	uint64_t workers;
	struct acl *acl;		/* --allow/--deny, or NULL */
	struct sbuf text;		/* "[serve]\n...[tls]\n...[SECTION]\n..." */
};

/* Parse argv into a (free it with server_cli_args_free, also on
 * failure): 0, -1 for --help, or CLI_USAGE after the message. */
int server_cli_parse(const struct server_cli *d, int argc, char **argv,
		     struct server_cli_args *a);
void server_cli_args_free(struct server_cli_args *a);

#endif
