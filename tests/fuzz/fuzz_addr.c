/* libFuzzer harness for net/addr: arbitrary bytes into every parser.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal always comes with a message;
 *  - anything accepted is at most ADDR_INPUT_MAX bytes;
 *  - format -> parse gives the same value (canonical, expanded, with and
 *    without the prefix), and canonical text is a fixed point;
 *  - the legacy and numeric parsers agree with the strict one on what they
 *    produce;
 *  - what ntoa reads (numbers, hex bytes, Python bytes literals) is 4 or 16
 *    bytes, and both byte forms it is shown in read back as the same;
 *  - the CIDR cover of a parsed range tiles it exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_addr: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

static bool same_addr(const struct ik_addr *a, const struct ik_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0 &&
	       strcmp(a->zone, b->zone) == 0;
}

static void reparse_addr(const char *text, size_t len, const struct ik_addr *want)
{
	struct ik_addr back;
	ik_err e = {{0}};
	if (addr_parse_addr(text, len, &back, &e) != 0) {
		fprintf(stderr, "fuzz_addr: '%s' does not parse back: %s\n", text, e.msg);
		abort();
	}
	CHECK(same_addr(&back, want));
}

static void exercise(const struct ik_net *n)
{
	char t[ADDR_TEXT_MAX], t2[ADDR_TEXT_MAX], big[ADDR_BINARY_MAX];
	const struct ik_addr *a = &n->addr;

	/* net text round trip */
	size_t len = addr_format_net(n, t, sizeof t);
	CHECK(len > 0 && len == strlen(t));
	struct ik_net m;
	ik_err e = {{0}};
	if (addr_parse(t, len, &m, &e) != 0) {
		fprintf(stderr, "fuzz_addr: '%s' does not parse back: %s\n", t, e.msg);
		abort();
	}
	CHECK(same_addr(&m.addr, a) && m.prefix == n->prefix);

	/* canonical text is a fixed point; expanded text means the same */
	len = addr_format(a, t, sizeof t);
	CHECK(len > 0);
	reparse_addr(t, len, a);
	struct ik_addr back;
	CHECK(addr_parse_addr(t, len, &back, &e) == 0);
	CHECK(addr_format(&back, t2, sizeof t2) == len && strcmp(t, t2) == 0);
	len = addr_format_full(a, t, sizeof t);
	CHECK(len > 0);
	reparse_addr(t, len, a);

	/* the other forms must not crash and must fit their buffers */
	CHECK(addr_reverse_name(a, big, ADDR_REVERSE_MAX) > 0);
	CHECK(addr_format_hex(a, big, ADDR_NUMBER_MAX) > 0);
	CHECK(addr_format_binary(a, big, sizeof big) > 0);
	CHECK(addr_format_u128(addr_to_u128(a), big, ADDR_NUMBER_MAX) > 0);

	struct addr_class c;
	addr_classify(a, &c);
	CHECK(c.type != NULL && c.name != NULL && c.rfc != NULL);
	CHECK(!((c.flags & ADDR_IS_GLOBAL) && (c.flags & ADDR_IS_PRIVATE)));
	struct ik_addr v4;
	if (addr_embedded_ipv4(a, &v4) != NULL)
		CHECK(v4.family == AF_INET);

	/* CIDR facts that hold for every network */
	struct addr_net_info ni;
	addr_net_info(n, &ni);
	CHECK(addr_contains(n, a));
	CHECK(addr_compare(&ni.network, &ni.first_host) <= 0);
	CHECK(addr_compare(&ni.first_host, &ni.last_host) <= 0);
	CHECK(addr_compare(&ni.last_host, &ni.last) <= 0);
	CHECK(ni.hosts >= 1);
	struct addr_span span;
	addr_span_from_net(n, &span);
	struct addr_cover cov;
	struct ik_net block;
	addr_cover_init(&cov, &span);
	CHECK(addr_cover_next(&cov, &block));	/* a network covers itself in one */
	CHECK(block.prefix == n->prefix && addr_equal(&block.addr, &ni.network));
	CHECK(!addr_cover_next(&cov, &block));

	struct addr_split it;
	struct ik_net nz = *n;	/* subnets carry no zone; a zoned network holds only its zone */
	nz.addr.zone[0] = '\0';
	unsigned newp = n->prefix + 2 <= addr_bits(a) ? n->prefix + 2 : n->prefix;
	CHECK(addr_split_init(&it, n, newp, &e) == 0);
	int count = 0;
	while (addr_split_next(&it, &block)) {
		CHECK(addr_net_contains(&nz, &block));
		count++;
	}
	CHECK(count == 1 << (newp - n->prefix));
}

/* The cover of [lo, hi] must tile it: each block starts right after the
 * last one ended, and the last ends at hi. Checked for the first blocks. */
static void check_cover(const struct addr_span *s)
{
	struct addr_cover c;
	struct ik_net b;
	ik_u128 next = s->lo;
	bool ended = false;
	addr_cover_init(&c, s);
	for (int i = 0; i < 300 && addr_cover_next(&c, &b); i++) {
		struct addr_span bs;
		addr_span_from_net(&b, &bs);
		CHECK(bs.lo == next && bs.hi <= s->hi);
		if (bs.hi == s->hi)
			ended = true;
		next = bs.hi + 1;
	}
	CHECK(ended || !c.done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ik_net n;
	ik_err e = {{0}};

	if (addr_parse(s, size, &n, &e) == 0) {
		CHECK(size <= ADDR_INPUT_MAX);
		exercise(&n);
	} else {
		CHECK(e.msg[0] != '\0');
	}

	struct ik_addr a;
	unsigned forms;
	e.msg[0] = '\0';
	if (addr_aton_legacy(s, size, &a, &forms, &e) == 0) {
		char t[ADDR_TEXT_MAX];
		size_t len = addr_format(&a, t, sizeof t);
		reparse_addr(t, len, &a);
		/* a strict dotted quad reads the same both ways */
		struct ik_net strict;
		if (addr_parse(s, size, &strict, NULL) == 0 && strict.addr.family == AF_INET &&
		    strict.prefix == 32)
			CHECK(forms == 0 && same_addr(&strict.addr, &a));
	} else {
		CHECK(e.msg[0] != '\0');
	}

	e.msg[0] = '\0';
	if (addr_from_number(s, size, 0, &a, &forms, &e) == 0) {
		char t[ADDR_TEXT_MAX];
		size_t len = addr_format(&a, t, sizeof t);
		reparse_addr(t, len, &a);
	} else {
		CHECK(e.msg[0] != '\0');
	}

	for (int family = 0; family <= AF_INET6; family += AF_INET6) {
		e.msg[0] = '\0';
		if (addr_from_ntoa_text(s, size, family, &a, &forms, &e) == 0) {
			CHECK(a.family == AF_INET || a.family == AF_INET6);
			CHECK(family == 0 || a.family == family);
			char t[ADDR_BYTES_MAX];
			struct ik_addr back;
			unsigned f2;
			size_t len = addr_format_bytes(&a, t, sizeof t);
			CHECK(len > 0);
			CHECK(addr_from_ntoa_text(t, len, 0, &back, &f2, &e) == 0);
			CHECK(same_addr(&back, &a) && f2 == ADDR_NUM_BYTES);
			len = addr_format_pybytes(&a, t, sizeof t);
			CHECK(len > 0);
			CHECK(addr_from_ntoa_text(t, len, 0, &back, &f2, &e) == 0);
			CHECK(same_addr(&back, &a) && f2 == ADDR_NUM_PYBYTES);
		} else {
			CHECK(e.msg[0] != '\0');
		}
	}
	(void)addr_looks_like_hostname(s, size);

	struct addr_span span;
	e.msg[0] = '\0';
	if (addr_parse_span(s, size, &span, &e) == 0) {
		CHECK(span.lo <= span.hi);
		check_cover(&span);
		struct addr_span two[2] = {span, span};
		CHECK(addr_summarize(two, 2) == 1);
		CHECK(two[0].lo == span.lo && two[0].hi == span.hi);
	} else {
		CHECK(e.msg[0] != '\0');
	}
	return 0;
}
