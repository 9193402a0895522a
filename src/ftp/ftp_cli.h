/* What `inetkit ftp` parsed from its command line, shared by the one-line
 * commands (ftp_oneshot.c) and the entry point (ftp_main.c). */
#ifndef INETKIT_FTP_CLI_H
#define INETKIT_FTP_CLI_H

#include <stdbool.h>

#include "ftp/ftp_client.h"

struct ftp_cli {
	struct ftp_opts o;
	const char *user;		/* --user */
	bool password_stdin;
	const char *netrc;		/* --netrc-file */
	bool json, long_list, parents;	/* --json, -l, -p */
	bool recursive;			/* rm -r */
	const char *output;		/* -o */
	struct ftp_mirror_opts mirror;
	int nargs;
	char **args;			/* the verb's operands */
};

/* Each returns the process exit code and prints its own errors. */
int ftp_cli_ls(struct ftp_cli *c);
int ftp_cli_get(struct ftp_cli *c);
int ftp_cli_cat(struct ftp_cli *c);
int ftp_cli_put(struct ftp_cli *c);
int ftp_cli_rm(struct ftp_cli *c);
int ftp_cli_mkdir(struct ftp_cli *c);
int ftp_cli_rmdir(struct ftp_cli *c);
int ftp_cli_mv(struct ftp_cli *c);
int ftp_cli_mirror(struct ftp_cli *c);

/* Print one listing as names, `ls -l`-like lines or JSON. */
int ftp_print_listing(const struct ftp_listing *l, bool long_list, bool json, FILE *out);

#endif
