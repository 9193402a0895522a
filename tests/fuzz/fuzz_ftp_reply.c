/* libFuzzer harness for the FTP client's parsers of reply text
 * (src/ftp/ftp_reply.c): PASV, EPSV, PWD, SIZE, MDTM times, FEAT. Where a
 * reply ends is core/reply_num (fuzz_reply_num.c).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a parsed PWD path fits its buffer and is not empty;
 *  - a parsed PASV/EPSV port is never 0. */
#include <stdint.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
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
