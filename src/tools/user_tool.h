/* Internals of `inetkit user`, shared by its files:
 *   user.c        option parsing, dispatch, help, opening the store
 *   user_edit.c   add, del, passwd, disable, enable
 *   user_show.c   list, show, log
 *   user_token.c  token add/list/revoke, verify
 *   user_migrate.c  migrate (one store to another) */
#ifndef INETKIT_TOOLS_USER_TOOL_H
#define INETKIT_TOOLS_USER_TOOL_H

#include <stdbool.h>

#include "core/account.h"
#include "core/account_store.h"
#include "lib/json.h"
#include "lib/sbuf.h"

#define USER_CMD "user"

enum {
	UO_DB = 1 << 0, UO_CONFIG = 1 << 1, UO_JSON = 1 << 2, UO_CLASS = 1 << 3,
	UO_EXPIRES = 1 << 4, UO_RIGHTS = 1 << 5, UO_HOME = 1 << 6, UO_QUOTA = 1 << 7,
	UO_PWSTDIN = 1 << 8, UO_LABEL = 1 << 9, UO_SERVICES = 1 << 10, UO_LIMIT = 1 << 11,
	UO_SERVICE = 1 << 12, UO_PEER = 1 << 13, UO_FROM = 1 << 14, UO_TO = 1 << 15,
	UO_LAST = UO_TO,
};

struct user_ctx {
	const char *verb;	/* "add", "token add", ... */
	unsigned given;		/* UO_* seen on the command line */
	const char *db, *config, *cls, *expires, *rights, *home, *quota;
	const char *label, *services, *limit, *service, *peer;
	const char *from, *to;	/* migrate */
	bool json, password_stdin;
	char **args;		/* positional arguments after the verb */
	int nargs;
	struct cfg *cfg;	/* --config, or NULL */
	struct account_policy policy;
	struct account_store *store;
};

/* Open the store named by --db / --config / the default. create: make the
 * file (and its directory) when missing. Returns 0 or an exit code. */
int user_open(struct user_ctx *c, bool create);

/* A new password: one line from stdin with --password-stdin, else asked
 * twice on the terminal. Returns 0 or an exit code (message printed). */
int user_read_password(const struct user_ctx *c, bool twice, char *out, size_t outsz);

/* The account NAME (args[0]) or exit 1 "no account named ...". */
int user_get(struct user_ctx *c, struct account *a);

int user_add(struct user_ctx *c);
int user_del(struct user_ctx *c);
int user_passwd(struct user_ctx *c);
int user_disable(struct user_ctx *c);
int user_enable(struct user_ctx *c);
int user_list(struct user_ctx *c);
int user_show(struct user_ctx *c);
int user_log(struct user_ctx *c);
int user_token_add(struct user_ctx *c);
int user_token_list(struct user_ctx *c);
int user_token_revoke(struct user_ctx *c);
int user_verify(struct user_ctx *c);
int user_migrate(struct user_ctx *c);

/* Write an sbuf holding JSON to stdout with a newline. */
int user_print_json(struct sbuf *b);

/* A listing printed a row at a time by a store callback (given the
 * user_rows as its argument): a JSON array with --json, else a table under
 * a heading line. */
struct user_rows {
	struct json *j;		/* where a row goes as JSON; NULL for the table */
	struct sbuf b;
	struct json json;
};
void user_rows_begin(const struct user_ctx *c, struct user_rows *r, size_t json_max,
		     const char *heading_fmt, ...) __attribute__((format(printf, 4, 5)));
/* Ends the listing after the store call that returned rc (e says why when
 * it failed); returns the exit code. */
int user_rows_end(struct user_rows *r, int rc, const ik_err *e);

#endif
