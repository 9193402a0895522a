/* libFuzzer harness for the SMTP path parser (RFC 5321 4.1.2: quoted
 * local parts, address literals, source routes, RFC 6531 UTF-8) under
 * every combination of its flags, and for smtp_domain_valid.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - an accepted path holds no control byte, fits the RFC 5321 limits, is
 *    ASCII without SMTPUTF8 and well-formed UTF-8 with it, and its parts
 *    (local_len, domain) agree with addr;
 *  - the domain of an accepted path passes smtp_domain_valid;
 *  - "<addr>" parses again to the same addr (a fixed point);
 *  - a refusal is 501 5.1.7 / 5.1.3, or 553 5.6.7 only without SMTPUTF8,
 *    with a printable ASCII text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "smtp/smtp_parse.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_smtp_addr: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void check_text(const struct smtp_reply *r)
{
	CHECK(r->text[0] != '\0');
	for (const char *p = r->text; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

static void one(const char *s, size_t len, unsigned flags, bool null_ok, bool pm_ok, bool rcpt)
{
	struct smtp_path p;
	struct smtp_reply r;
	size_t used;
	bool utf8 = flags & SMTP_PARSE_UTF8;
	if (smtp_path_parse(s, len, flags, null_ok, pm_ok, rcpt, &p, &used, &r) < 0) {
		check_text(&r);
		if (r.code == 553) {
			CHECK(!utf8 && strcmp(r.enh, "5.6.7") == 0);
		} else {
			CHECK(r.code == 501);
			CHECK(strcmp(r.enh, rcpt ? "5.1.3" : "5.1.7") == 0);
		}
		CHECK(p.addr[0] == '\0' && !p.null && !p.postmaster);
		return;
	}
	CHECK(used <= len && used > 0 && s[used - 1] == '>');
	size_t n = strlen(p.addr);
	CHECK(n <= SMTP_PATH_MAX - 2);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)p.addr[i] >= 0x20 && p.addr[i] != 0x7f);
	CHECK(utf8 ? str_utf8_valid(p.addr, n) : !p.utf8);
	if (!utf8)
		for (size_t i = 0; i < n; i++)
			CHECK((unsigned char)p.addr[i] < 0x80);
	if (p.null || p.postmaster) {
		CHECK(n == 0 && p.domain[0] == '\0' && p.local_len == 0);
		CHECK(p.null ? null_ok : pm_ok);
		CHECK(!(p.null && p.postmaster));
		return;
	}
	CHECK(p.local_len > 0 && p.local_len <= SMTP_LOCAL_MAX);
	CHECK(p.addr[p.local_len] == '@' && p.domain == p.addr + p.local_len + 1);
	CHECK(strlen(p.local) > 0 && strlen(p.local) <= p.local_len);
	CHECK(p.local_quoted == (p.addr[0] == '"'));
	CHECK(smtp_domain_valid(p.domain, strlen(p.domain), utf8));

	char again[SMTP_PATH_MAX + 3];
	int k = str_fmt(again, sizeof again, "<%s>", p.addr);
	CHECK(k > 0);
	struct smtp_path q;
	CHECK(smtp_path_parse(again, (size_t)k, flags, null_ok, pm_ok, rcpt, &q, &used, &r) == 0);
	CHECK(used == (size_t)k);
	CHECK(strcmp(q.addr, p.addr) == 0 && strcmp(q.local, p.local) == 0);
	CHECK(q.utf8 == p.utf8 && q.local_quoted == p.local_quoted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	const char *s = (const char *)data;
	for (unsigned c = 0; c < 16; c++)
		one(s, size, c & 1 ? SMTP_PARSE_UTF8 : 0, c & 2, c & 4, c & 8);
	/* Anything smtp_domain_valid takes must also be taken inside a path. */
	for (int utf8 = 0; utf8 < 2; utf8++) {
		if (!smtp_domain_valid(s, size, utf8) || size > 240)
			continue;
		char path[300];
		int k = str_fmt(path, sizeof path, "<u@%.*s>", (int)size, s);
		struct smtp_path p;
		struct smtp_reply r;
		size_t used;
		CHECK(k > 0 && memchr(s, '\0', size) == NULL);
		CHECK(smtp_path_parse(path, (size_t)k, utf8 ? SMTP_PARSE_UTF8 : 0, false, false, true,
				      &p, &used, &r) == 0);
	}
	return 0;
}
