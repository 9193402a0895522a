/* libFuzzer harness for the FTP client's listing parsers (src/ftp/ftp_list.c):
 * every line of the input through the LIST (Unix and DOS/IIS) and the
 * MLSD parser.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - an entry always has a non-empty name that is neither "." nor "..",
 *    shorter than FTP_NAME_MAX and without a line break;
 *  - a time precision is one of 0, 1, 60, 86400;
 *  - the same line parses the same way twice (no hidden state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp/ftp_list.h"

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_ftp_list: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

static void check_entry(int r, const struct ftp_entry *en)
{
	CHECK(r == FTP_LINE_ENTRY || r == FTP_LINE_SKIP || r == FTP_LINE_BAD);
	if (r != FTP_LINE_ENTRY)
		return;
	size_t n = strlen(en->name);
	CHECK(n > 0 && n < FTP_NAME_MAX);
	CHECK(strcmp(en->name, ".") != 0 && strcmp(en->name, "..") != 0);
	CHECK(strchr(en->name, '\n') == NULL);
	CHECK(en->prec == 0 || en->prec == 1 || en->prec == 60 || en->prec == 86400);
	CHECK(strlen(en->perm) < sizeof en->perm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t start = 0;
	static struct ftp_entry a, b;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		size_t len = i - start;
		int r1 = ftp_list_parse_line(s + start, len, (time_t)1795312440, &a);
		check_entry(r1, &a);
		int r2 = ftp_list_parse_line(s + start, len, (time_t)1795312440, &b);
		CHECK(r1 == r2);
		if (r1 == FTP_LINE_ENTRY)
			CHECK(strcmp(a.name, b.name) == 0 && a.mtime == b.mtime && a.size == b.size);
		check_entry(ftp_mlsd_parse_line(s + start, len, &a), &a);
		start = i + 1;
	}
	return 0;
}
