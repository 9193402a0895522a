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
 *    shortest forms are accepted, so each name has one spelling);
 *  - the same bytes as a whole message (imap_mime.c, GMime underneath):
 *    ENVELOPE, BODYSTRUCTURE and BODY are each one well-formed IMAP
 *    parenthesised list (quoted strings closed, literals as long as they
 *    say, parentheses balanced, nothing after the last one), the values
 *    of the single parse (imap_mime_all, what the cache stores; for a
 *    single-part message GMime parses the header alone there) are the
 *    values of the separate calls (which parse the whole message), and
 *    BODY[section] of a few sections never fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "imap/imap_int.h"
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

/* One IMAP list, exactly: "(" ... ")" with atoms, quoted strings and
 * literals inside. */
static bool one_list(const char *s, size_t n)
{
	size_t i = 0;
	int depth = 0;
	if (n == 0 || s[0] != '(')
		return false;
	while (i < n) {
		char c = s[i];
		if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			if (--depth < 0)
				return false;
			i++;
			if (depth == 0)
				return i == n;
		} else if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\')
					i++;
				else if (s[i] == '\r' || s[i] == '\n')
					return false;
			}
			if (i >= n)
				return false;
			i++;
		} else if (c == '{') {
			size_t len = 0;
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				len = len * 10 + (size_t)(s[i] - '0');
			if (i + 3 > n || s[i] != '}' || s[i + 1] != '\r' || s[i + 2] != '\n')
				return false;
			i += 3;
			if (len > n - i)
				return false;
			i += len;
		} else if (c == '\r' || c == '\n' || c == '\0') {
			return false;
		} else {
			i++;
		}
	}
	return false;
}

static void check_message(const char *msg, size_t len)
{
	struct sbuf env = SBUF_INIT(16u << 20), bs = SBUF_INIT(16u << 20),
		    body = SBUF_INIT(16u << 20), one = SBUF_INIT(16u << 20);
	CHECK(imap_mime_all(msg, len, &env, &bs, &body) == 0);
	CHECK(one_list(env.data, env.len));
	CHECK(one_list(bs.data, bs.len));
	CHECK(one_list(body.data, body.len));
	CHECK(imap_mime_envelope(msg, len, &one) == 0);
	CHECK(one.len == env.len && memcmp(one.data, env.data, env.len) == 0);
	sbuf_reset(&one);
	CHECK(imap_mime_bodystructure(msg, len, true, &one) == 0);
	CHECK(one.len == bs.len && memcmp(one.data, bs.data, bs.len) == 0);
	sbuf_reset(&one);
	CHECK(imap_mime_bodystructure(msg, len, false, &one) == 0);
	CHECK(one.len == body.len && memcmp(one.data, body.data, body.len) == 0);
	static const char *const specs[] = {
		"BODY[1]", "BODY[1.MIME]", "BODY[2.1]", "BODY[1.2.3]", "BODY[2.HEADER]",
		"BODY[2.TEXT]", "BODY[HEADER.FIELDS (Subject From)]", "BODY[TEXT]",
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct imap_section sec;
		char err[IMAP_ERR_MAX];
		CHECK(imap_section_parse(specs[i], strlen(specs[i]), &sec, err) == 0);
		sbuf_reset(&one);
		CHECK(imap_mime_section(msg, len, &sec, &one) == 0);
	}
	sbuf_free(&env);
	sbuf_free(&bs);
	sbuf_free(&body);
	sbuf_free(&one);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_mime_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The bytes as a message (large ones only cost time). */
	if (size <= 1u << 16)
		check_message((const char *)data, size);
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
