/* FTP's anonymous login (RFC 1635): USER "anonymous" or "ftp", any case,
 * with an e-mail address as the password; confined read-only to a root of
 * its own, with an optional write-only upload directory under it. Keys of
 * the service section:
 *   anonymous = no               allow it
 *   anonymous_root = STATE/ftp   its read-only root
 *   anonymous_upload =           a directory under the root where it may
 *                                upload (write-only), "" for none
 * The core keeps the names apart from stored accounts (core/account.h). */
#ifndef INETKIT_FTPD_FTPD_ANON_H
#define INETKIT_FTPD_FTPD_ANON_H

#include <stdbool.h>

#include "core/account.h"
#include "core/config.h"
#include "lib/error.h"

/* The names, and why no account may take them. */
extern const struct account_reserved ftpd_anon_names;

/* Reserve the names (core/account.h): before account names are checked. */
int ftpd_anon_reserve(ik_err *e);
bool ftpd_anon_name(const char *name);	/* any case */
/* Read the keys of [section] into a, and reserve the names. */
int ftpd_anon_configure(struct cfg *c, const char *section, struct account_anon *a, ik_err *e);

#endif
