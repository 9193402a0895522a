/* `inetkit user`: manage the accounts every service shares (see
 * core/account.h). One option table for every verb; each verb lists the
 * options that apply to it, and any other is an error naming it. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/account_hash.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/fsutil.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "core/term.h"
#include "ftpd/ftpd_anon.h"
#include "commands.h"
#include "tools/user_tool.h"

static const char help_text[] =
	"Usage: inetkit user VERB [ARGS] [OPTIONS]\n"
	"\n"
	"Manage the accounts that the FTP and mail services share: real accounts,\n"
	"guest accounts (expiring, restricted rights) and app passwords.\n"
	"\n"
	"Verbs:\n"
	"  add NAME [--class real|guest] [--expires DATE|DURATION] [--rights ro|rw|upload]\n"
	"           [--home DIR] [--quota SIZE] [--password-stdin]\n"
	"  list [--json]                  all accounts\n"
	"  show NAME [--json]             one account in detail\n"
	"  del NAME                       delete an account and its app passwords\n"
	"  passwd NAME [--password-stdin] set a new password\n"
	"  disable NAME | enable NAME     refuse / allow logins (enable also unlocks)\n"
	"  token add NAME --label LABEL [--services ftp,smtp,pop3,imap] [--json]\n"
	"                                 make an app password (printed once)\n"
	"  token list NAME [--json]       app passwords and their last use\n"
	"  token revoke NAME LABEL|ID     revoke an app password\n"
	"  log [NAME] [--json] [--limit N]  recent logins (default 20)\n"
	"  verify NAME --service S [--password-stdin]  check a login as a service would\n"
	"  migrate --from STORE --to STORE  copy accounts, app passwords and the login\n"
	"                                 log to another store (e.g. sqlite:PATH to\n"
	"                                 postgresql://...)\n"
	"\n"
	"Where the accounts are:\n"
	"  --db PATH|URI    the accounts.db file (add makes it, in an existing directory),\n"
	"                   or a postgresql:// URI\n"
	"  --config FILE    the file's [serve] state_dir (and its [accounts] settings)\n"
	"  (neither: " ACCOUNT_DEFAULT_STATE_DIR "/" ACCOUNT_DB_NAME ")\n"
	"\n"
	"Passwords are asked twice without echo on a terminal, or read as one line\n"
	"from standard input with --password-stdin; never from the command line.\n"
	"DATE is ISO 8601 (2026-12-31, 2026-12-31T18:00Z); DURATION is 30m, 12h, 7d, 2w.\n"
	"SIZE is 512, 64k, 10M, 2G. Exit status: 0 ok, 1 failed, 2 bad input.\n"
	"See inetkit-user(1).\n";

struct verb {
	const char *name;
	int min_args, max_args;
	unsigned allowed;
	int (*run)(struct user_ctx *c);
	bool creates;	/* may create the store */
};

#define WHERE (UO_DB | UO_CONFIG)

static const struct verb verbs[] = {
	{"add", 1, 1, WHERE | UO_CLASS | UO_EXPIRES | UO_RIGHTS | UO_HOME | UO_QUOTA | UO_PWSTDIN,
	 user_add, true},
	{"list", 0, 0, WHERE | UO_JSON, user_list, false},
	{"show", 1, 1, WHERE | UO_JSON, user_show, false},
	{"del", 1, 1, WHERE, user_del, false},
	{"passwd", 1, 1, WHERE | UO_PWSTDIN, user_passwd, false},
	{"disable", 1, 1, WHERE, user_disable, false},
	{"enable", 1, 1, WHERE, user_enable, false},
	{"token add", 1, 1, WHERE | UO_LABEL | UO_SERVICES | UO_JSON, user_token_add, false},
	{"token list", 1, 1, WHERE | UO_JSON, user_token_list, false},
	{"token revoke", 2, 2, WHERE, user_token_revoke, false},
	{"log", 0, 1, WHERE | UO_JSON | UO_LIMIT, user_log, false},
	{"verify", 1, 1, WHERE | UO_SERVICE | UO_PWSTDIN | UO_PEER, user_verify, false},
	{"migrate", 0, 0, UO_FROM | UO_TO, user_migrate, false},
};

static const struct option long_opts[] = {
	{"db", required_argument, NULL, 'd'},
	{"config", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"class", required_argument, NULL, 'C'},
	{"expires", required_argument, NULL, 'E'},
	{"rights", required_argument, NULL, 'R'},
	{"home", required_argument, NULL, 'H'},
	{"quota", required_argument, NULL, 'Q'},
	{"password-stdin", no_argument, NULL, 'P'},
	{"label", required_argument, NULL, 'L'},
	{"services", required_argument, NULL, 'S'},
	{"limit", required_argument, NULL, 'n'},
	{"service", required_argument, NULL, 's'},
	{"peer", required_argument, NULL, 'p'},
	{"from", required_argument, NULL, 'F'},
	{"to", required_argument, NULL, 'T'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Which UO_* bit a long option sets, and where its value goes. */
static unsigned option_bit(struct user_ctx *c, int ch, const char ***slot)
{
	*slot = NULL;
	switch (ch) {
	case 'd': *slot = &c->db; return UO_DB;
	case 'c': *slot = &c->config; return UO_CONFIG;
	case 'j': c->json = true; return UO_JSON;
	case 'C': *slot = &c->cls; return UO_CLASS;
	case 'E': *slot = &c->expires; return UO_EXPIRES;
	case 'R': *slot = &c->rights; return UO_RIGHTS;
	case 'H': *slot = &c->home; return UO_HOME;
	case 'Q': *slot = &c->quota; return UO_QUOTA;
	case 'P': c->password_stdin = true; return UO_PWSTDIN;
	case 'L': *slot = &c->label; return UO_LABEL;
	case 'S': *slot = &c->services; return UO_SERVICES;
	case 'n': *slot = &c->limit; return UO_LIMIT;
	case 's': *slot = &c->service; return UO_SERVICE;
	case 'p': *slot = &c->peer; return UO_PEER;
	case 'F': *slot = &c->from; return UO_FROM;
	case 'T': *slot = &c->to; return UO_TO;
	}
	return 0;
}

static const char *option_name(unsigned bit)
{
	for (const struct option *o = long_opts; o->name != NULL; o++) {
		struct user_ctx scratch = {0};
		const char **slot;
		if (option_bit(&scratch, o->val, &slot) == bit)
			return o->name;
	}
	return "?";
}

static int parse_options(struct user_ctx *c, int argc, char **argv)
{
	opterr = 0;
	optind = 0;	/* GNU: full re-initialisation */
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (ch == 'h') {
			cli_help(help_text);
			return -1;	/* done, exit 0 */
		}
		if (ch == '?')
			return cli_unknown_option(USER_CMD, argv[optind - 1], CLI_NAMES(long_opts));
		if (ch == ':')
			return cli_usage_error(USER_CMD, "option '%s' needs a value", argv[optind - 1]);
		const char **slot;
		unsigned bit = option_bit(c, ch, &slot);
		if (c->given & bit)
			return cli_usage_error(USER_CMD, "option --%s is given twice", option_name(bit));
		c->given |= bit;
		if (slot != NULL)
			*slot = optarg;
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

int user_print_json(struct sbuf *b)
{
	fwrite(sbuf_cstr(b), 1, b->len, stdout);
	fputc('\n', stdout);
	sbuf_free(b);
	return CLI_OK;
}

void user_rows_begin(const struct user_ctx *c, struct user_rows *r, size_t json_max,
		     const char *heading_fmt, ...)
{
	r->j = NULL;
	sbuf_init(&r->b, json_max);
	if (c->json) {
		json_init(&r->json, &r->b);
		json_arr_begin(&r->json);
		r->j = &r->json;
		return;
	}
	va_list ap;
	va_start(ap, heading_fmt);
	vprintf(heading_fmt, ap);
	va_end(ap);
}

int user_rows_end(struct user_rows *r, int rc, const ik_err *e)
{
	if (rc < 0) {
		sbuf_free(&r->b);
		return cli_error(USER_CMD, CLI_FAIL, "%s", e->msg);
	}
	if (r->j == NULL)
		return CLI_OK;
	json_arr_end(r->j);
	return user_print_json(&r->b);
}

int user_get(struct user_ctx *c, struct account *a)
{
	ik_err e;
	if (account_name_check(c->args[0], &e) < 0)
		return cli_usage_error(USER_CMD, "%s", e.msg);
	int rc = account_store_get(c->store, c->args[0], a, NULL, 0, &e);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (rc == 0)
		return cli_error(USER_CMD, CLI_FAIL, "no account named '%s'", c->args[0]);
	return 0;
}

int user_open(struct user_ctx *c, bool create)
{
	ik_err e;
	if (c->db != NULL && c->config != NULL)
		return cli_usage_error(USER_CMD, "give --db or --config, not both");
	account_policy_defaults(&c->policy);
	if (c->config != NULL) {
		c->cfg = cfg_load(c->config, &e);
		if (c->cfg == NULL || account_policy_configure(c->cfg, &c->policy, &e) < 0)
			return cli_error(USER_CMD, CLI_USAGE, "%s", e.msg);
	} else if (c->db != NULL && account_store_is_url(c->db)) {
		if (str_copy(c->policy.db_path, sizeof c->policy.db_path, c->db) < 0)
			return cli_usage_error(USER_CMD, "--db: URI too long");
	} else if (c->db != NULL) {
		char dir[ACCOUNT_PATH_MAX];
		if (str_copy(dir, sizeof dir, c->db) < 0)
			return cli_usage_error(USER_CMD, "--db '%s': path too long", c->db);
		if (account_policy_set_state_dir(&c->policy, dirname(dir), &e) < 0)
			return cli_usage_error(USER_CMD, "--db: %s", e.msg);
		/* The file itself, as given (made absolute with the directory). */
		char base[ACCOUNT_PATH_MAX];
		str_copy(base, sizeof base, c->db);
		if (str_fmt(c->policy.db_path, sizeof c->policy.db_path, "%s/%s",
			    c->policy.state_dir, basename(base)) < 0)
			return cli_usage_error(USER_CMD, "--db '%s': path too long", c->db);
	}
	if (account_store_is_url(c->policy.db_path)) {
		/* A database server: nothing to make on this machine. */
	} else if (create && c->db != NULL) {
		/* A file named by hand: a mistyped directory must not become a
		 * new tree with an empty store in it. */
		const char *dir = c->policy.state_dir;
		struct stat st;
		int rc = stat(dir, &st);
		if (rc < 0 && errno == ENOENT)
			return cli_usage_error(USER_CMD, "--db %s: the directory %s does not exist; "
					       "create it first (mkdir -p %s), or name a file in an "
					       "existing directory", c->db, dir, dir);
		if ((rc < 0 && errno == ENOTDIR) || (rc == 0 && !S_ISDIR(st.st_mode)))
			return cli_usage_error(USER_CMD, "--db %s: %s is not a directory; name a file "
					       "in an existing directory", c->db, dir);
	} else if (create) {
		/* The configured state directory, as serve makes it on its
		 * first start (and gives it to its user then). */
		if (fs_mkdir_p(c->policy.state_dir, 0750, (unsigned)-1, 0, &e) < 0)
			return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	}
	if (account_store_open(c->policy.db_path, create ? ACCOUNT_STORE_CREATE : 0, &c->store,
			       &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	return 0;
}

int user_read_password(const struct user_ctx *c, bool twice, char *out, size_t outsz)
{
	if (c->password_stdin) {
		if (fgets(out, (int)outsz, stdin) == NULL)
			return cli_usage_error(USER_CMD, "no password on standard input");
		size_t n = strcspn(out, "\r\n");
		if (out[n] == '\0' && n == outsz - 1) {
			account_wipe(out, outsz);
			return cli_usage_error(USER_CMD, "password too long: at most %d bytes",
					       ACCOUNT_PASSWORD_MAX);
		}
		out[n] = '\0';
	} else if (!term_is_tty(stdin)) {
		return cli_usage_error(USER_CMD, "standard input is not a terminal: give the "
				       "password on it with --password-stdin");
	} else {
		if (term_read_secret("Password: ", out, outsz) < 0)
			return cli_usage_error(USER_CMD, "no password given");
		if (twice) {
			char again[ACCOUNT_PASSWORD_MAX + 2];
			int rc = term_read_secret("Password again: ", again, sizeof again);
			bool same = rc == 0 && strcmp(out, again) == 0;
			account_wipe(again, sizeof again);
			if (!same) {
				account_wipe(out, outsz);
				return cli_usage_error(USER_CMD, "the two passwords differ; nothing changed");
			}
		}
	}
	size_t n = strlen(out);
	if (twice && n < 8) {
		account_wipe(out, outsz);
		return cli_usage_error(USER_CMD, "password too short: use at least 8 characters");
	}
	if (n > ACCOUNT_PASSWORD_MAX) {
		account_wipe(out, outsz);
		return cli_usage_error(USER_CMD, "password too long: at most %d bytes",
				       ACCOUNT_PASSWORD_MAX);
	}
	return 0;
}

static const struct verb *find_verb(int argc, char **argv, int *used)
{
	char name[32];
	*used = 1;
	if (strcmp(argv[1], "token") == 0 && argc > 2 && argv[2][0] != '-') {
		if (str_fmt(name, sizeof name, "token %s", argv[2]) < 0)
			return NULL;
		*used = 2;
	} else if (str_copy(name, sizeof name, argv[1]) < 0) {
		return NULL;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int cmd_user(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(USER_CMD, "missing verb (add, list, show, del, passwd, "
				       "disable, enable, token, log, verify, migrate)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help(help_text);
	if (strcmp(argv[1], "token") == 0 && (argc < 3 || argv[2][0] == '-'))
		return cli_usage_error(USER_CMD, "token needs a verb: add, list or revoke");
	int used;
	const struct verb *v = find_verb(argc, argv, &used);
	if (v == NULL) {
		char word[64];
		if (used == 2 || strcmp(argv[1], "token") == 0) {
			str_fmt(word, sizeof word, "token %s", argv[2]);
			return cli_unknown(USER_CMD, word, CLI_NAMES(verbs), "unknown verb "
					   "'token %s' (use add, list or revoke)", argv[2]);
		}
		return cli_unknown(USER_CMD, argv[1], CLI_NAMES(verbs), "unknown verb '%s'",
				   argv[1]);
	}
	struct user_ctx c = {0};
	c.verb = v->name;
	/* getopt sees the verb's words as its argv[0]. */
	int rc = parse_options(&c, argc - used, argv + used);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	for (unsigned bit = 1; bit <= UO_LAST; bit <<= 1)
		if ((c.given & bit) && !(v->allowed & bit))
			return cli_usage_error(USER_CMD, "option --%s does not apply to 'user %s'",
					       option_name(bit), v->name);
	if (c.nargs < v->min_args)
		return cli_usage_error(USER_CMD, "'user %s' needs %s", v->name,
				       v->min_args == 2 ? "NAME and LABEL|ID" : "NAME");
	if (c.nargs > v->max_args)
		return cli_usage_error(USER_CMD, "unexpected argument '%s'", c.args[v->max_args]);
	/* The names a protocol logs in without an account are no account's. */
	ik_err e;
	if (ftpd_anon_reserve(&e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	/* migrate opens the two stores it is given itself. */
	rc = v->run == user_migrate ? 0 : user_open(&c, v->creates);
	if (rc == 0)
		rc = v->run(&c);
	account_store_close(c.store);
	cfg_free(c.cfg);
	return rc;
}
