/* The request line of HTTP/1.0 and HTTP/1.1 (RFC 9112 section 3); see
 * metrics/metrics_http.h. */
#include <string.h>

#include "metrics/metrics_http.h"

/* RFC 9110 5.6.2 tchar */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int metrics_http_request(const char *line, size_t len, enum metrics_http_method *method,
			 char *path, size_t pathsz, ik_err *e)
{
	const char *sp1 = memchr(line, ' ', len);
	if (sp1 == NULL || sp1 == line)
		return ik_err_set(e, "not an HTTP request line");
	size_t mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return ik_err_set(e, "bad method");
	const char *t = sp1 + 1, *end = line + len;
	const char *sp2 = memchr(t, ' ', (size_t)(end - t));
	if (sp2 == NULL)
		return ik_err_set(e, "no HTTP version");
	size_t vlen = (size_t)(end - sp2 - 1);
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return ik_err_set(e, "not HTTP/1.0 or HTTP/1.1");
	size_t tlen = (size_t)(sp2 - t);
	if (tlen == 0 || t[0] != '/')
		return ik_err_set(e, "the target must be a path");
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return ik_err_set(e, "bad byte in the target");
	const char *q = memchr(t, '?', tlen);
	size_t plen = q != NULL ? (size_t)(q - t) : tlen;
	if (plen >= pathsz)
		return ik_err_set(e, "target too long");
	memcpy(path, t, plen);
	path[plen] = '\0';
	if (mlen == 3 && memcmp(line, "GET", 3) == 0)
		*method = METRICS_HTTP_GET;
	else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0)
		*method = METRICS_HTTP_HEAD;
	else
		*method = METRICS_HTTP_OTHER;
	return 0;
}
