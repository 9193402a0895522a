/* The aliases file (`aliases = FILE` in [smtp]): /etc/aliases syntax.
 *
 *   # comment
 *   name: target, target, ...
 *       continuation lines start with a space or a tab
 *
 * A target is a local name (an account or another alias) or an external
 * address "user@domain". Names are compared in any case. File and program
 * targets ("/path", "|command", ":include:") are refused when the file is
 * read, naming the line: no address or header ever reaches a shell or a
 * file path (the OpenSMTPD CVE-2020-7247 class). "postmaster" always
 * exists: when the file does not name it, it is the mailbox "postmaster". */
#ifndef INETKIT_SMTP_SMTP_ALIAS_H
#define INETKIT_SMTP_SMTP_ALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define SMTP_ALIAS_DEPTH 8	/* nested aliases followed */
#define SMTP_ALIAS_FANOUT 1000	/* most targets one name expands to */

struct smtp_aliases;

/* Parse text[0, len) (what the file holds); name is used in messages
 * ("FILE:LINE: ..."). An empty text is an empty table. */
int smtp_aliases_parse(const char *text, size_t len, const char *name,
		       struct smtp_aliases **out, ik_err *e);
/* Read and parse a file (at most 16 MiB). */
int smtp_aliases_load(const char *path, struct smtp_aliases **out, ik_err *e);
void smtp_aliases_free(struct smtp_aliases *a);

bool smtp_aliases_has(const struct smtp_aliases *a, const char *name);

/* Expand name (a local part, unquoted) into final targets: local names
 * that are not aliases themselves (lower-cased) and external addresses,
 * each once, in file order. A name that is not an alias expands to itself.
 * Loops are cut (a name met again is kept as a local name), depth is at
 * most SMTP_ALIAS_DEPTH, and more than SMTP_ALIAS_FANOUT targets is an
 * error. *out is an array of *n malloc'ed strings: free with
 * smtp_aliases_list_free. a may be NULL (no file: only postmaster). */
int smtp_aliases_expand(const struct smtp_aliases *a, const char *name, char ***out,
			size_t *n, ik_err *e);
void smtp_aliases_list_free(char **list, size_t n);

#endif
