/* libFuzzer harness for the FTP client's user-input parsers: ftp:// URLs
 * (src/ftp/ftp_url.c) and .netrc text (src/ftp/ftp_netrc.c).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal always comes with a message, and a password given in the
 *    URL never appears in it;
 *  - an accepted URL has a host, a port from 1 to 65535, and no CR, LF or
 *    NUL in what will be sent to a server (user, password, path). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp/ftp_netrc.h"
#include "ftp/ftp_url.h"

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz_ftp_url: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

static bool clean(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	static struct ftp_url u;
	ik_err e = {{0}};
	if (ftp_url_parse(s, &u, &e) == 0) {
		CHECK(u.host[0] != '\0' && u.port != 0);
		CHECK(clean(u.user) && clean(u.pass) && clean(u.path));
	} else {
		CHECK(e.msg[0] != '\0');
		/* A password in the authority part is masked in the message. */
		const char *sep = strstr(s, "://");
		if (sep != NULL) {
			const char *auth = sep + 3;
			size_t alen = strcspn(auth, "/");
			const char *at = NULL;
			for (size_t i = 0; i < alen; i++)
				if (auth[i] == '@')
					at = auth + i;
			const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
			if (colon != NULL && at - colon > 1 && at - colon < 60) {
				char needle[64];
				snprintf(needle, sizeof needle, ":%.*s@", (int)(at - colon - 1), colon + 1);
				/* (only when it is not also elsewhere in the URL, and
				 * is not the mask itself) */
				const char *first = strstr(s, needle);
				bool stars = strspn(needle + 1, "*") == strlen(needle) - 2;
				if (!stars && first != NULL && strstr(first + 1, needle) == NULL)
					CHECK(strstr(e.msg, needle) == NULL);
			}
		}
	}
	(void)ftp_url_parse_host(s, &u, &e);
	struct ftp_netrc_match m;
	if (ftp_netrc_find("netrc", s, size, "host", NULL, &m, &e) < 0)
		CHECK(e.msg[0] != '\0');
	(void)ftp_netrc_find("netrc", s, size, "host", "user", &m, &e);
	free(s);
	return 0;
}
