/* What ftpd_cmd_login.c gives the other commands: the logged-in user's paths, rights and name. */
#ifndef INETKIT_FTPD_FTPD_LOGIN_H
#define INETKIT_FTPD_FTPD_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jail.h"

struct ftpd_sess;
struct session_call;

/* What a logged-in user may do where it is. */
/* NAV: CWD only; READ: file contents and listings; WRITE: change or remove
 * what exists; CREATE: make a new file. */
enum ftpd_access { FTPD_NAV, FTPD_READ, FTPD_WRITE, FTPD_CREATE };

/* A command's path once resolved and allowed: the virtual path (for
 * replies and logs), the jail and the path inside it (k may point into v). */
struct ftpd_target {
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
};

void ftpd_auth_cancel(struct ftpd_sess *fs);
/* Resolve a client path: virtual path into out, and the jail and the
 * kernel path to use for the access wanted. Replies and returns -1 when
 * refused. */
int ftpd_path(struct ftpd_sess *fs, const char *arg, size_t arglen, enum ftpd_access want,
	      char *out, size_t outsz, const struct jail **jail, const char **kpath);
/* ftpd_path for the argument of c, into t. */
int ftpd_target(struct ftpd_sess *fs, const struct session_call *c, enum ftpd_access want,
		struct ftpd_target *t);
bool ftpd_may_overwrite(const struct ftpd_sess *fs);
bool ftpd_expired(const struct ftpd_sess *fs);
const char *ftpd_who(const struct ftpd_sess *fs);

#endif
