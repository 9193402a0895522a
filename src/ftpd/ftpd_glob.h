/* Glob patterns for LIST, NLST and STAT arguments, matched against one
 * directory's names (POSIX.1-2017 XCU 2.13 "Pattern Matching Notation",
 * without the shell: no brace expansion, no "~", no recursion, no glob()).
 *
 *   *        any run of bytes (also none)
 *   ?        one byte
 *   [abc]    one of the bytes; [a-z] a range; [!..] or [^..] negates;
 *            a ']' right after '[' (or "[!") is literal; an unclosed
 *            '[' is a literal '['
 *   \x       the byte x literally (so "\*" matches a name with a '*')
 *
 * A leading '.' in a name must be matched by a literal '.' (hidden files
 * are not matched by "*" or "?" or a bracket). Bytes are compared as they
 * are: no locale, no case folding; UTF-8 names work byte-wise.
 *
 * Matching never recurses and never backtracks more than to the last '*':
 * the two-pointer greedy algorithm with one backtrack point. The work is at
 * most (pattern length + 1) x (name length + 1) steps, whatever the number
 * of stars, so "a*a*a*a*a*a*a*a*b" against a 10,000-byte name is cheap;
 * the caller bounds both lengths (NAME_MAX names, the command line limit). */
#ifndef INETKIT_FTPD_FTPD_GLOB_H
#define INETKIT_FTPD_FTPD_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Most names one LIST/NLST/STAT pattern may produce by default. */
#define FTPD_GLOB_DEFAULT_MAX 10000

/* true if s holds an unescaped '*', '?' or '['. */
bool ftpd_glob_has_magic(const char *s);

/* true if name matches pattern (see above). */
bool ftpd_glob_match(const char *pattern, const char *name);
bool ftpd_glob_match_len(const char *pattern, size_t plen, const char *name, size_t nlen);

/* Counting matcher: at most max names are accepted. */
struct ftpd_glob {
	const char *pattern;
	size_t max;
	size_t count;
};

void ftpd_glob_init(struct ftpd_glob *g, const char *pattern, size_t max);
/* 1: name matches (counted); 0: it does not; -1: it matches but max
 * names were already accepted (stop and tell the client: too many). */
int ftpd_glob_next(struct ftpd_glob *g, const char *name);

#endif
