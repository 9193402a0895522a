/* libFuzzer harness for the aliases file: arbitrary text into
 * smtp_aliases_parse, then every name on the left of a line expanded.
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *  - a refusal has a message that starts with the file name;
 *  - an alias expands to 1..SMTP_ALIAS_FANOUT distinct, non-empty targets
 *    with no control bytes, and never a program, file or include target;
 *  - a name that is not an alias expands to itself in lower case. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_alias.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_smtp_alias: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

static void expand(const struct smtp_aliases *a, const char *name)
{
	char **list;
	size_t n;
	ik_err e;
	if (smtp_aliases_expand(a, name, &list, &n, &e) < 0) {
		CHECK(e.msg[0] != '\0');
		return;
	}
	CHECK(n >= 1 && n <= SMTP_ALIAS_FANOUT);
	if (!smtp_aliases_has(a, name)) {
		/* Not an alias: the name itself, whatever the caller passed. */
		CHECK(n == 1 && strcasecmp(list[0], name) == 0);
		smtp_aliases_list_free(list, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(list[i][0] != '\0');
		for (const char *p = list[i]; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		CHECK(list[i][0] != '|' && list[i][0] != '/' &&
		      strncasecmp(list[i], ":include:", 9) != 0);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(list[i], list[k]) != 0);
	}
	smtp_aliases_list_free(list, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	const char *text = (const char *)data;
	struct smtp_aliases *a = NULL;
	ik_err e;
	if (smtp_aliases_parse(text, size, "fuzz", &a, &e) < 0) {
		CHECK(a == NULL);
		CHECK(strncmp(e.msg, "fuzz", 4) == 0 || strstr(e.msg, "memory") != NULL);
		return 0;
	}
	expand(a, "postmaster");
	expand(a, "nobody-here");
	/* The name of each line. */
	int lines = 0;
	for (size_t i = 0; i < size && lines < 64; lines++) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t end = nl != NULL ? (size_t)(nl - text) : size;
		const char *colon = memchr(text + i, ':', end - i);
		if (colon != NULL && colon > text + i) {
			char name[128];
			size_t n = (size_t)(colon - (text + i));
			if (n < sizeof name) {
				memcpy(name, text + i, n);
				name[n] = '\0';
				if (strlen(name) == n)
					expand(a, name);
			}
		}
		i = end + 1;
	}
	smtp_aliases_free(a);
	return 0;
}
