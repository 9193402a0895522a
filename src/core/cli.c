#include "core/cli.h"

#include <stdarg.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "inetkit %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'inetkit %s --help'.\n", cmd);
	va_end(ap);
	return CLI_USAGE;
}

int cli_error(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "inetkit %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int cli_help(const char *text)
{
	fputs(text, stdout);
	return CLI_OK;
}
