/* libFuzzer harness for the FTP client's reply parsers (src/ftp/ftp_reply.c):
 * the end-of-reply rule fed line by line, and every parser of reply text
 * (PASV, EPSV, PWD, SIZE, MDTM times, FEAT).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a completed reply has a code from 100 to 599, and its first line
 *    carries that code;
 *  - a refused line always comes with a message;
 *  - a parsed PWD path fits its buffer and is not empty;
 *  - a parsed PASV/EPSV port is never 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp/ftp_reply.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_ftp_reply: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void feed_lines(const char *s, size_t n)
{
	struct client_reply r;
	memset(&r, 0, sizeof r);
	size_t start = 0;
	bool first = true;
	int first_code = -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && s[start + len - 1] == '\r')
			len--;
		ik_err e = {{0}};
		int k = ftp_reply_line(&r, s + start, len, &e);
		if (k < 0) {
			CHECK(e.msg[0] != '\0');
			memset(&r, 0, sizeof r);
			first = true;
		} else {
			if (first)
				first_code = r.code;
			first = false;
			if (k > 0) {
				CHECK(r.code >= 100 && r.code <= 599);
				CHECK(r.code == first_code);
				memset(&r, 0, sizeof r);
				first = true;
			}
		}
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	feed_lines(s, size);

	uint8_t addr[4];
	uint16_t port = 0;
	if (ftp_parse_pasv(s, addr, &port) == 0)
		CHECK(port != 0);
	if (ftp_parse_epsv(s, &port) == 0)
		CHECK(port != 0);
	char path[64];
	if (ftp_parse_pwd(s, path, sizeof path) == 0)
		CHECK(path[0] != '\0' && strlen(path) < sizeof path);
	uint64_t sz;
	(void)ftp_parse_size(s, &sz);
	time_t t;
	(void)ftp_parse_time(s, &t);
	struct ftp_features f;
	ftp_parse_feat(s, &f);
	free(s);
	return 0;
}
