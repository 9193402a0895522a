/* ~/.netrc: credentials per host, in the format of the classic ftp(1)
 * (tokens machine, default, login, password, account, macdef; '#'
 * comments; "quoted tokens" with backslash escapes as GNU inetutils and
 * curl accept). */
#ifndef INETKIT_FTP_NETRC_H
#define INETKIT_FTP_NETRC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define FTP_NETRC_FIELD_MAX 256

struct ftp_netrc_match {
	bool has_login, has_password;
	char login[FTP_NETRC_FIELD_MAX];
	char password[FTP_NETRC_FIELD_MAX];
};

/* Find the entry for host (and, when user is not NULL, with that login) in
 * netrc text; "default" applies when no machine entry matched. Returns 1
 * found, 0 not found, -1 for a malformed file (e names the line). name is
 * the file name for messages. */
int ftp_netrc_find(const char *name, const char *text, size_t len, const char *host,
		   const char *user, struct ftp_netrc_match *m, ik_err *e);

/* Read path (NULL: $HOME/.netrc) and look host up. A missing default file
 * is "not found"; a missing explicit file is an error. A file holding a
 * password must not be readable by others (as ftp(1) insists). */
int ftp_netrc_lookup(const char *path, const char *host, const char *user,
		     struct ftp_netrc_match *m, ik_err *e);

#endif
