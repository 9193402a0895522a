/* libFuzzer harness for the arguments of MAIL and RCPT (paths and the
 * SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH, NOTIFY and ORCPT parameters)
 * and for xtext. The first byte chooses the flags and the size limit.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal is one of the documented codes with its enhanced code and a
 *    printable ASCII text;
 *  - what is accepted respects the limit, holds no control bytes (ENVID,
 *    ORCPT), and NOTIFY is NEVER alone or a set of the others;
 *  - xtext: decode(encode(x)) == x for any bytes, and anything that
 *    decodes encodes back to something that decodes to the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_parse.h"

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_smtp_cmd: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

static void check_reply(const struct smtp_reply *r, bool rcpt)
{
	CHECK(r->text[0] != '\0');
	for (const char *p = r->text; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	switch (r->code) {
	case 501:
		CHECK(strcmp(r->enh, "5.5.4") == 0 || strcmp(r->enh, "5.5.2") == 0 ||
		      strcmp(r->enh, rcpt ? "5.1.3" : "5.1.7") == 0);
		break;
	case 555:
		CHECK(strcmp(r->enh, "5.5.4") == 0);
		break;
	case 552:
		CHECK(!rcpt && strcmp(r->enh, "5.3.4") == 0);
		break;
	case 553:
		CHECK(strcmp(r->enh, "5.6.7") == 0);
		break;
	default:
		CHECK(0);
	}
}

static void no_ctl(const char *s)
{
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void xtext_round_trip(const char *s, size_t len)
{
	static char enc[3 * 1024 + 1];
	static char dec[1024 + 1];
	int n = smtp_xtext_encode(s, len, enc, sizeof enc);
	CHECK(n >= (int)len);
	for (int i = 0; i < n; i++)
		CHECK(enc[i] >= '!' && enc[i] <= '~' && enc[i] != '=');
	CHECK(smtp_xtext_decode(enc, (size_t)n, dec, sizeof dec) == (int)len);
	CHECK(memcmp(dec, s, len) == 0);
	/* Too small by one: refused, never overrun. */
	CHECK(smtp_xtext_encode(s, len, enc, (size_t)n) == -1);

	int d = smtp_xtext_decode(s, len, dec, sizeof dec);
	if (d < 0)
		return;
	CHECK(d <= (int)len);
	int m = smtp_xtext_encode(dec, (size_t)d, enc, sizeof enc);
	CHECK(m >= 0);
	static char dec2[1024 + 1];
	CHECK(smtp_xtext_decode(enc, (size_t)m, dec2, sizeof dec2) == d);
	CHECK(memcmp(dec, dec2, (size_t)d) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1024)
		return 0;
	unsigned flags = data[0] & 7;
	static const uint64_t limits[] = {0, 1000, 25u << 20, UINT64_MAX};
	uint64_t max = limits[(data[0] >> 3) & 3];
	const char *s = (const char *)data + 1;
	size_t len = size - 1;

	struct smtp_mail_args m;
	struct smtp_reply r;
	if (smtp_mail_parse(s, len, flags, max, &m, &r) < 0) {
		check_reply(&r, false);
	} else {
		CHECK(!m.size_given || max == 0 || m.size <= max);
		CHECK(!m.from.utf8 || m.smtputf8 || (flags & SMTP_PARSE_UTF8));
		CHECK(m.body != SMTP_BODY_BINARYMIME || (flags & SMTP_PARSE_BINARY));
		CHECK((flags & SMTP_PARSE_DSN) || (m.ret == SMTP_RET_UNSET && m.envid[0] == '\0'));
		CHECK(strlen(m.envid) <= 100);
		no_ctl(m.envid);
		no_ctl(m.from.addr);
	}

	struct smtp_rcpt_args rc;
	if (smtp_rcpt_parse(s, len, flags, &rc, &r) < 0) {
		check_reply(&r, true);
	} else {
		CHECK(!rc.to.null);
		CHECK(!rc.to.utf8 || (flags & SMTP_PARSE_UTF8));
		CHECK(rc.notify == 0 || rc.notify == SMTP_NOTIFY_NEVER ||
		      (rc.notify & ~(unsigned)(SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE |
					       SMTP_NOTIFY_DELAY)) == 0);
		CHECK(rc.orcpt[0] == '\0' || strncmp(rc.orcpt, "rfc822;", 7) == 0 ||
		      strncmp(rc.orcpt, "utf-8;", 6) == 0);
		CHECK((flags & SMTP_PARSE_DSN) || (rc.notify == 0 && rc.orcpt[0] == '\0'));
		no_ctl(rc.orcpt);
		no_ctl(rc.to.addr);
	}

	xtext_round_trip(s, len);
	return 0;
}
