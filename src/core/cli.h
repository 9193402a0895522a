/* Shared conventions of every subcommand's command line:
 * exit 0 = success, 1 = the operation failed (refused, timed out, not
 * found), 2 = the user's input was wrong. Messages go to stderr and start
 * with "inetkit SUBCOMMAND: ". */
#ifndef INETKIT_CORE_CLI_H
#define INETKIT_CORE_CLI_H

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

#endif
