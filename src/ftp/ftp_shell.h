/* The interactive FTP shell (internal to ftp_shell*.c): the command table,
 * its handlers, and line editing with completion of remote names. */
#ifndef INETKIT_FTP_SHELL_H
#define INETKIT_FTP_SHELL_H

#include <stdbool.h>

#include "ftp/ftp_client.h"

#define SHELL_MAX_ARGS 64

struct shell {
	struct ftp f;
	bool open;
	struct ftp_opts o;
	SSL_CTX *ctx;
	const struct ftp_shell_opts *so;
	bool interactive;		/* a person at a terminal */
	bool quit;
	char target[FTP_URL_FIELD_MAX];	/* host we are connected to */
	uint16_t port;
	bool implicit_tls;
	struct ftp_cred cred;		/* while connected: mirror -P logs in again */
	/* Names in one remote directory, for completion. */
	struct ftp_listing cache;
	char cache_dir[FTP_PATH_MAX];
	bool cache_ok;
};

/* What a handler returns. */
enum { SH_OK = 0, SH_FAIL = 1, SH_USAGE = 2 };

/* Argument kinds, for completion. */
enum shell_argkind { ARG_NONE, ARG_REMOTE, ARG_LOCAL, ARG_CMD, ARG_HOST };

struct shell_cmd {
	const char *name;
	int min_args, max_args;
	bool needs_conn;
	enum shell_argkind kind;	/* what its arguments name */
	int (*run)(struct shell *sh, int argc, char **argv, ik_err *e);
	const char *usage;
	const char *help;
};

extern const struct shell_cmd shell_cmds[];
extern const size_t shell_ncmds;
/* Other names people type from habit (rm, quit ...). */
struct shell_alias {
	const char *alias, *name;
};
extern const struct shell_alias shell_aliases[];
extern const size_t shell_naliases;
const struct shell_cmd *shell_find(const char *name);

/* Handlers outside ftp_shell_cmds.c: listings (ftp_shell_list.c), the
 * local side (ftp_shell_local.c), whole trees (ftp_shell_tree.c). */
int shell_ls(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_dir(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_lls(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_bang(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_lcd(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_lpwd(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_mirror(struct shell *sh, int argc, char **argv, ik_err *e);
int shell_delete(struct shell *sh, int argc, char **argv, ik_err *e);
/* In a terminal session, show what the server said about a success;
 * returns SH_OK. */
int shell_said(struct shell *sh);
/* ls-style options: every word starting with '-' (up to a "--") is a
 * cluster of the one-letter options in letters, each setting bit i for
 * letters[i] in *flags; the other words are moved up to argv[1..] and
 * *argc counts them (plus argv[0]). An unknown option is an error. */
int shell_getopts(const char *letters, int *argc, char **argv, unsigned *flags, ik_err *e);

/* Split a line into words: spaces separate, "..." and '...' quote, a
 * backslash escapes one character. argv points into buf (modified).
 * Returns argc, or -1 with e set (unclosed quote, too many words). */
int shell_split(char *buf, char **argv, int max, ik_err *e);
/* Run one command line; returns SH_OK, SH_FAIL or SH_USAGE. */
int shell_exec(struct shell *sh, char *line, ik_err *e);
/* Forget cached remote names (after cd, put, delete ...). */
void shell_cache_drop(struct shell *sh);
/* Names in the remote directory dir ("" = current), cached. */
const struct ftp_listing *shell_remote_names(struct shell *sh, const char *dir);

/* Line editing (libedit). NULL when stdin is not a terminal. */
struct shell_edit;
struct shell_edit *shell_edit_new(struct shell *sh);
/* A line without its newline (malloc'd), or NULL at end of input. */
char *shell_edit_read(struct shell_edit *ed, const char *prompt);
void shell_edit_free(struct shell_edit *ed);

#endif
