/* libFuzzer harness for the MIME header fields BODYSTRUCTURE shows
 * (imap_parse_mime.c): Content-Type, Content-Disposition and
 * Content-Language values as a sender wrote them (comments, quoted
 * strings, RFC 2231 pieces "name*N*").
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a parsed field has a type (and a subtype, maybe empty, for a
 *    Content-Type), at most
 *    IMAP_MIME_PARAMS_MAX parameters, every string NUL-terminated inside
 *    the field's own memory;
 *  - no parameter name is a piece of another ("name*0" never survives);
 *  - language tags are non-empty and hold no separator;
 *  - mailbox names (imap_parse_utf7.c): modified UTF-7 -> UTF-8 -> back
 *    gives the same bytes, and UTF-8 -> modified UTF-7 -> back too (only
 *    shortest forms are accepted, so each name has one spelling). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_imap_mime: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void check_in(const struct imap_mime_hdr *h, const char *s)
{
	CHECK(s != NULL && s >= h->mem && s < h->mem + h->used);
	CHECK(s + strlen(s) < h->mem + h->used);
}

static void check_field(const char *s, size_t size, bool ct)
{
	struct imap_mime_hdr h;
	if (imap_mime_hdr_parse(s, size, ct, &h) < 0)
		return;
	check_in(&h, h.type);
	CHECK(h.type[0] != '\0');
	if (ct) {
		check_in(&h, h.subtype);	/* may be empty: "type" alone */
	} else {
		CHECK(h.subtype == NULL);
	}
	CHECK(h.n <= IMAP_MIME_PARAMS_MAX);
	for (size_t i = 0; i < h.n; i++) {
		check_in(&h, h.p[i].name);
		check_in(&h, h.p[i].value);
		/* joined: no "name*N" or "name*N*" piece survives */
		const char *star = strchr(h.p[i].name, '*');
		if (star != NULL && star[1] >= '0' && star[1] <= '9') {
			const char *e = star + 1;
			while (*e >= '0' && *e <= '9')
				e++;
			size_t digits = (size_t)(e - star - 1);
			/* only over-long numbers (not pieces) may stay */
			CHECK(digits > 3 || !(*e == '\0' || (*e == '*' && e[1] == '\0')));
		}
	}
	imap_mime_hdr_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > IMAP_MIME_HDR_MAX)
		return 0;
	/* The field value as the header parser hands it: a C string. */
	char *s = malloc(size + 1);
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	size_t len = strlen(s);
	check_field(s, len, true);
	check_field(s, len, false);
	const char *tags[16];
	char buf[1024];
	size_t n = 0;
	if (imap_mime_lang_parse(s, len, tags, 16, &n, buf, sizeof buf) == 0) {
		CHECK(n <= 16);
		for (size_t i = 0; i < n; i++) {
			CHECK(tags[i][0] != '\0');
			CHECK(strpbrk(tags[i], ", \t(") == NULL);
		}
	}
	char a[4096], b[8192], c[4096];
	if (len < sizeof a && imap_utf7_to_utf8(s, b, sizeof b) == 0) {
		CHECK(imap_utf8_to_utf7(b, c, sizeof c) == 0);
		CHECK(strcmp(c, s) == 0);
	}
	if (len < sizeof a && imap_utf8_to_utf7(s, b, sizeof b) == 0) {
		CHECK(imap_utf7_to_utf8(b, c, sizeof c) == 0);
		CHECK(strcmp(c, s) == 0);
	}
	free(s);
	return 0;
}
