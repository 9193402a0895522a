/* Shared conventions of every subcommand's command line:
 * exit 0 = success, 1 = the operation failed (refused, timed out, not
 * found), 2 = the user's input was wrong. Messages go to stderr and start
 * with "inetkit SUBCOMMAND: ". */
#ifndef INETKIT_CORE_CLI_H
#define INETKIT_CORE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* "inetkit addr: <message>\nTry 'inetkit addr --help'.\n"; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "inetkit addr: <message>\n"; returns the given exit code. */
int cli_error(const char *cmd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print help text to stdout; returns CLI_OK. */
int cli_help(const char *text);

/* The names a word may be a typo of: any array whose elements start with
 * a `const char *` name (struct option[], a verb table, const char *[]);
 * NULL and empty names are skipped. */
struct cli_names {
	const void *table;
	size_t count, size;
};
#define CLI_NAMES(t) ((struct cli_names){(t), sizeof(t) / sizeof((t)[0]), sizeof((t)[0])})

/* "Did you mean ...?": the name nearest to word in edits (insert, delete,
 * replace, swap two neighbours; case ignored), if at most a third of the
 * word's length (at least 1), else the one name that word (2+ characters)
 * begins. A one-word word is compared with the first word of two-word
 * names ("tokn": "token" of "token add"). Copies it into out and returns
 * true, or returns false when no name is near. */
bool cli_closest(const char *word, struct cli_names names, char *out, size_t outsz);

/* cli_usage_error for an unknown verb or word, with a line "Did you mean
 * 'NAME'?" before the Try line when cli_closest finds one. */
int cli_unknown(const char *cmd, const char *word, struct cli_names names,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "unknown option 'ARG'" (getopt_long's '?'), and for a long option the
 * nearest of long_names (given without "--", as in struct option). */
int cli_unknown_option(const char *cmd, const char *arg, struct cli_names long_names);

#endif
