#include "core/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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

/* Longest word compared; a longer one is no typo of a command name. */
#define WORD_MAX 64

/* Edits (insert, delete, replace, or swap two neighbours) that turn
 * a[0..na) into b[0..nb), ignoring case. */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
	if (na > WORD_MAX || nb > WORD_MAX)
		return SIZE_MAX;
	size_t rows[3][WORD_MAX + 1];	/* rows i-2, i-1, i of the usual table */
	for (size_t j = 0; j <= nb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return rows[na % 3][nb];
}

static const char *name_at(struct cli_names names, size_t i)
{
	return *(const char *const *)((const char *)names.table + i * names.size);
}

bool cli_closest(const char *word, struct cli_names names, char *out, size_t outsz)
{
	size_t len = strlen(word);
	if (len == 0 || len > WORD_MAX)
		return false;
	size_t limit = len / 3 > 1 ? len / 3 : 1;
	bool one_word = strchr(word, ' ') == NULL;
	const char *best = NULL, *prefixed = NULL;
	size_t best_d = SIZE_MAX, best_n = 0, prefixed_n = 0, nprefixed = 0;
	for (size_t i = 0; i < names.count; i++) {
		const char *name = name_at(names, i);
		if (name == NULL || *name == '\0')
			continue;
		size_t n = strlen(name);
		/* "tokn" is near "token", the first word of "token add" */
		if (one_word && strchr(name, ' ') != NULL)
			n = (size_t)(strchr(name, ' ') - name);
		if (n > WORD_MAX)
			continue;
		size_t d = distance(word, len, name, n);
		if (d < best_d) {
			best_d = d;
			best = name;
			best_n = n;
		}
		if (len >= 2 && len <= n && strncasecmp(name, word, len) == 0 &&
		    !(prefixed != NULL && n == prefixed_n && strncmp(prefixed, name, n) == 0)) {
			prefixed = name;
			prefixed_n = n;
			nprefixed++;
		}
	}
	if (best_d > limit) {
		if (nprefixed != 1)
			return false;
		best = prefixed;
		best_n = prefixed_n;
	}
	if (best_n >= outsz)
		return false;
	memcpy(out, best, best_n);
	out[best_n] = '\0';
	return true;
}

int cli_unknown(const char *cmd, const char *word, struct cli_names names, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "inetkit %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	char near[WORD_MAX + 1];
	if (cli_closest(word, names, near, sizeof near))
		fprintf(stderr, "\nDid you mean '%s'?", near);
	fprintf(stderr, "\nTry 'inetkit %s --help'.\n", cmd);
	return CLI_USAGE;
}

int cli_unknown_option(const char *cmd, const char *arg, struct cli_names long_names)
{
	char word[WORD_MAX + 1] = "";
	if (strncmp(arg, "--", 2) == 0) {
		size_t n = strcspn(arg + 2, "=");
		if (n <= WORD_MAX) {
			memcpy(word, arg + 2, n);
			word[n] = '\0';
		}
	}
	char near[WORD_MAX + 1];
	if (word[0] != '\0' && cli_closest(word, long_names, near, sizeof near))
		return cli_usage_error(cmd, "unknown option '%s'\nDid you mean '--%s'?", arg, near);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}
