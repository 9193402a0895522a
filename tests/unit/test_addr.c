/* net/addr: parse, format, classify, CIDR math, split, summarize, legacy
 * forms. Table-driven: each table row is one edge case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "net/addr.h"

static struct ik_net parse_ok(const char *s)
{
	struct ik_net n;
	ik_err e = {{0}};
	int rc = addr_parse(s, strlen(s), &n, &e);
	if (rc != 0)
		fail_msg("'%s' should parse: %s", s, e.msg);
	return n;
}

static const char *fmt(const struct ik_addr *a)
{
	static char buf[4][ADDR_TEXT_MAX];
	static int k;
	k = (k + 1) % 4;
	addr_format(a, buf[k], sizeof buf[k]);
	return buf[k];
}

/* ---- parsing: accepted forms and their canonical text ---------------- */

static const struct {
	const char *in, *canon;	/* canon: addr_format_net of the result */
} parse_cases[] = {
	{"0.0.0.0", "0.0.0.0/32"},
	{"255.255.255.255", "255.255.255.255/32"},
	{"192.168.1.10/24", "192.168.1.10/24"},
	{"192.168.1.10/255.255.255.0", "192.168.1.10/24"},
	{"10.0.0.1/0.0.0.0", "10.0.0.1/0"},
	{"10.0.0.1/255.255.255.255", "10.0.0.1/32"},
	{"10.0.0.1/255.255.255.254", "10.0.0.1/31"},
	{"10.0.0.1/128.0.0.0", "10.0.0.1/1"},
	{"1.2.3.4/0", "1.2.3.4/0"},
	{"1.2.3.4/32", "1.2.3.4/32"},
	/* RFC 4291 §2.2 form 1: full */
	{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"},
	{"2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a/128"},
	{"FF01:0:0:0:0:0:0:101", "ff01::101/128"},
	/* form 2: compressed */
	{"::", "::/128"},
	{"::1", "::1/128"},
	{"1::", "1::/128"},
	{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"},
	{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128"},
	{"1::8", "1::8/128"},
	{"fe80::1%eth0", "fe80::1%eth0/128"},
	{"fe80::1%eth0/64", "fe80::1%eth0/64"},
	{"fe80::1%25", "fe80::1%25/128"},
	{"fe80::1%a23456789012345", "fe80::1%a23456789012345/128"},
	/* form 3: embedded IPv4 */
	{"::ffff:1.2.3.4", "::ffff:1.2.3.4/128"},
	{"::FFFF:129.144.52.38", "::ffff:129.144.52.38/128"},
	{"64:ff9b::1.2.3.4", "64:ff9b::1.2.3.4/128"},
	{"0:0:0:0:0:0:13.1.68.3", "::d01:4403/128"},
	{"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304/128"},
	{"::1.2.3.4/96", "::102:304/96"},
	{"2001:db8::/32", "2001:db8::/32"},
	{"::/0", "::/0"},
	{"::1/128", "::1/128"},
	{"2001:db8::1/127", "2001:db8::1/127"},
};

static void parse_accepts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		struct ik_net n = parse_ok(parse_cases[i].in);
		char buf[ADDR_TEXT_MAX];
		addr_format_net(&n, buf, sizeof buf);
		if (strcmp(buf, parse_cases[i].canon) != 0)
			fail_msg("'%s' -> '%s', want '%s'", parse_cases[i].in, buf,
				 parse_cases[i].canon);
		assert_true(strlen(parse_cases[i].in) <= ADDR_INPUT_MAX);
	}
}

/* ---- parsing: every refusal, with its exact message ------------------ */

static const struct {
	const char *in, *msg;
} parse_errors[] = {
	{"", "empty input"},
	{"192.168.1.256", "octet 256 is out of range 0\u2013255"},
	{"1.2.3.1000", "octet 1000 is out of range 0\u2013255"},
	{"010.1.1.1", "leading zero in octet '010' is ambiguous (octal in inet_aton); write 10"},
	{"1.2.3.00", "leading zero in octet '00' is ambiguous (octal in inet_aton); write 0"},
	{"1.2.3", "only 3 octets; an IPv4 address has 4 (for short forms such as 127.1 see "
		  "'inetkit addr aton')"},
	{"127", "only 1 octet; an IPv4 address has 4 (for short forms such as 127.1 see "
		"'inetkit addr aton')"},
	{"1.2.3.4.5", "more than 4 octets; an IPv4 address has exactly 4"},
	{"1.2.3.4.", "ends with '.'; an IPv4 address is four numbers joined by dots"},
	{"1..3.4", "octet 2 is empty"},
	{".1.2.3", "octet 1 is empty"},
	{"1.2.3.4 ", "unexpected byte 0x20 at position 8; expected a digit or '.'"},
	{"1.2.3.x", "unexpected 'x' at position 7; expected a digit or '.'"},
	{"0x7f000001", "hexadecimal '0x7f000001' is not a dotted quad (for inet_aton forms see "
		       "'inetkit addr aton')"},
	{"1.2.3.4%eth0", "a zone id ('%...') is allowed only on IPv6 addresses"},
	{"1.2.3.4/33", "prefix 33 is out of range 0\u201332"},
	{"1.2.3.4/", "missing prefix length after '/'"},
	{"/24", "no address before '/'"},
	{"1.2.3.4/24/25", "more than one '/'"},
	{"1.2.3.4/024", "leading zero in prefix '024'; write 24"},
	{"1.2.3.4/1234", "prefix 1234 is out of range 0\u201332"},
	{"1.2.3.4/-1", "prefix '-1' is not a number 0\u201332 or a dotted netmask"},
	{"1.2.3.4/255.0.255.0", "netmask 255.0.255.0 is not contiguous (its 1 bits must all "
				"come first)"},
	{"1.2.3.4/0.0.0.255", "netmask 0.0.0.255 is not contiguous (it looks like a wildcard "
			      "mask; the netmask is its inverse)"},
	{"1.2.3.4/255.255.255.256", "netmask '255.255.255.256': octet 256 is out of range "
				    "0\u2013255"},
	{"::1/129", "prefix 129 is out of range 0\u2013128"},
	{"::1/ffff::", "prefix 'ffff::' is not a number 0\u2013128"},
	{"1::2::3", "'::' may appear only once"},
	{":::", "':::' is not valid; '::' stands for one or more zero groups"},
	{"1:::2", "':::' is not valid; '::' stands for one or more zero groups"},
	{":1:2:3:4:5:6:7", "a single ':' may not start an address (write '::' for leading zero "
			   "groups)"},
	{"1:2:3:4:5:6:7:", "a single ':' may not end an address (write '::' for trailing zero "
			   "groups)"},
	{"1:2:3:4:5:6:7", "only 7 groups and no '::'; an IPv6 address has 8"},
	{"1:2:3:4:5:6:7:8:9", "more than 8 groups; an IPv6 address has 8"},
	{"1::2:3:4:5:6:7:8", "'::' must stand for at least one zero group, but there are "
			     "already 8"},
	{"12345::", "group '12345' has more than 4 hex digits"},
	{"12g4::", "unexpected 'g' at position 3; expected a hex digit, ':' or '.'"},
	{"::ffff:1.2.3.256", "embedded IPv4 '1.2.3.256': octet 256 is out of range 0\u2013255"},
	{"::ffff:01.2.3.4", "embedded IPv4 '01.2.3.4': leading zero in octet '01' is ambiguous "
			    "(octal in inet_aton); write 1"},
	{"1.2.3.4::", "an embedded IPv4 address may only be the last 32 bits"},
	{"1:2:3:4:5:6:7:1.2.3.4", "too many groups before the embedded IPv4 address (at most 6)"},
	{"fe80::1%", "empty zone id after '%'"},
	{"%eth0", "a zone id ('%...') is allowed only on IPv6 addresses"},
	{"1.2.3.4%a:b", "a zone id ('%...') is allowed only on IPv6 addresses"},
	{"fe80::1%a234567890123456", "zone id 'a234567890123456' is longer than 15 characters"},
	{"fe80::1%et h", "unexpected byte 0x20 at position 11; a zone id is an interface name "
			 "or number"},
	{"fe80::1%e%0", "unexpected '%' at position 10; a zone id is an interface name or "
			"number"},
	{"[::1]", "unexpected '[' at position 1; expected a hex digit, ':' or '.'"},
};

static void parse_refuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_errors / sizeof parse_errors[0]; i++) {
		struct ik_net n;
		ik_err e = {{0}};
		const char *s = parse_errors[i].in;
		if (addr_parse(s, strlen(s), &n, &e) == 0)
			fail_msg("'%s' should be refused", s);
		if (strcmp(e.msg, parse_errors[i].msg) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", s, e.msg, parse_errors[i].msg);
	}
	/* NUL inside the length is a byte like any other */
	struct ik_net n;
	ik_err e;
	assert_int_equal(addr_parse("1.2.3.4\0", 8, &n, &e), -1);
	assert_string_equal(e.msg, "unexpected byte 0x00 at position 8; expected a digit or '.'");
	/* and NULL error pointers are allowed */
	assert_int_equal(addr_parse("1.2.3", 5, &n, NULL), -1);
}

/* ---- RFC 5952 canonical text ----------------------------------------- */

static const struct {
	const char *in, *out, *rule;
} rfc5952[] = {
	{"2001:0db8::0001", "2001:db8::1", "4.1 leading zeros suppressed"},
	{"2001:db8:0:0:0:0:2:1", "2001:db8::2:1", "4.2.1 longest run compressed"},
	{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", "4.2.2 no '::' for one 0 group"},
	{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1", "4.2.3 the longer run wins"},
	{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "4.2.3 first of equal runs"},
	{"2001:DB8::ABCD", "2001:db8::abcd", "4.3 lowercase"},
	{"0:0:0:0:0:0:0:0", "::", "all zeros"},
	{"0:0:0:0:0:0:0:1", "::1", "loopback"},
	{"1:0:0:0:0:0:0:0", "1::", "trailing run"},
	{"0:1:0:0:0:0:0:0", "0:1::", "leading single 0 kept"},
	{"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0", "only single zeros"},
	{"0:0:1:0:0:1:0:0", "::1:0:0:1:0:0", "first of three equal runs"},
	{"1:0:0:2:0:0:0:3", "1:0:0:2::3", "later longer run"},
	{"::ffff:c000:0280", "::ffff:192.0.2.128", "5 mixed notation for IPv4-mapped"},
	{"::ffff:0:0", "::ffff:0.0.0.0", "5 mapped zero"},
	{"64:ff9b::c000:0221", "64:ff9b::192.0.2.33", "5 mixed notation for NAT64 WKP"},
	{"64:ff9b:1::c000:0221", "64:ff9b:1::c000:221", "local-use NAT64 stays hex"},
	{"::c000:0221", "::c000:221", "IPv4-compatible (deprecated) stays hex"},
	{"::ffff:0:1.2.3.4", "::ffff:0:102:304", "IPv4-translated stays hex"},
	{"fe80::1%eth0", "fe80::1%eth0", "zone kept"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	 "longest text"},
};

static void format_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rfc5952 / sizeof rfc5952[0]; i++) {
		struct ik_net n = parse_ok(rfc5952[i].in);
		if (strcmp(fmt(&n.addr), rfc5952[i].out) != 0)
			fail_msg("RFC 5952 %s: '%s' -> '%s', want '%s'", rfc5952[i].rule,
				 rfc5952[i].in, fmt(&n.addr), rfc5952[i].out);
		/* and the canonical text parses back to the same value */
		struct ik_net back = parse_ok(rfc5952[i].out);
		assert_true(addr_equal(&n.addr, &back.addr));
		assert_string_equal(n.addr.zone, back.addr.zone);
	}
	/* a buffer that is too small gets "" and 0 */
	struct ik_net n = parse_ok("2001:db8::1");
	char small[5] = "xxxx";
	assert_int_equal(addr_format(&n.addr, small, sizeof small), 0);
	assert_string_equal(small, "");
}

static void format_other_forms(void **state)
{
	(void)state;
	char buf[ADDR_BINARY_MAX];
	struct ik_net n = parse_ok("2001:db8::1%eth0");
	addr_format_full(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "2001:0db8:0000:0000:0000:0000:0000:0001%eth0");
	addr_reverse_name(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
				 "ip6.arpa");
	addr_format_hex(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "0x20010db8000000000000000000000001");
	addr_format_binary(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "0010000000000001:0000110110111000:0000000000000000:"
				 "0000000000000000:0000000000000000:0000000000000000:"
				 "0000000000000000:0000000000000001");
	n = parse_ok("192.168.1.10");
	addr_format_full(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "192.168.1.10");
	addr_reverse_name(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "10.1.168.192.in-addr.arpa");
	addr_format_hex(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "0xc0a8010a");
	addr_format_binary(&n.addr, buf, sizeof buf);
	assert_string_equal(buf, "11000000.10101000.00000001.00001010");
	addr_format_u128(addr_to_u128(&n.addr), buf, sizeof buf);
	assert_string_equal(buf, "3232235786");
	addr_format_u128(0, buf, sizeof buf);
	assert_string_equal(buf, "0");
	addr_format_u128(~(ik_u128)0, buf, sizeof buf);
	assert_string_equal(buf, "340282366920938463463374607431768211455");
	addr_format_u128((ik_u128)UINT64_MAX + 1, buf, sizeof buf);
	assert_string_equal(buf, "18446744073709551616");
	addr_format_u128((ik_u128)10000000000000000000ULL, buf, sizeof buf);
	assert_string_equal(buf, "10000000000000000000");
	addr_format_u128((ik_u128)10000000000000000000ULL * 10000000000000000000ULL, buf,
			 sizeof buf);
	assert_string_equal(buf, "100000000000000000000000000000000000000");
	n = parse_ok("::ffff:1.2.3.4/96");
	addr_format_net(&n, buf, sizeof buf);
	assert_string_equal(buf, "::ffff:1.2.3.4/96");
}

/* ---- classification: every registry entry ---------------------------- */

static void every_registry_block(void **state)
{
	(void)state;
	const int fams[2] = {AF_INET, AF_INET6};
	for (int f = 0; f < 2; f++) {
		size_t n;
		const struct addr_block *t = addr_blocks(fams[f], &n);
		assert_true(n > 20);
		for (size_t i = 0; i < n; i++) {
			struct ik_net net = parse_ok(t[i].cidr);
			/* the text and the numbers of a row agree */
			assert_true(addr_to_u128(&net.addr) == t[i].base);
			assert_int_equal(net.prefix, t[i].prefix);
			struct addr_net_info ni;
			addr_net_info(&net, &ni);
			const struct ik_addr *ends[2] = {&ni.network, &ni.last};
			for (int k = 0; k < 2; k++) {
				struct addr_class c;
				addr_classify(ends[k], &c);
				/* the block itself or a more specific one inside it */
				assert_non_null(c.block);
				if (c.block->prefix < t[i].prefix)
					fail_msg("%s in %s matched the wider %s", fmt(ends[k]),
						 t[i].cidr, c.block->cidr);
				if (c.block == &t[i])
					assert_string_equal(c.type, t[i].type);
				bool g = c.flags & ADDR_IS_GLOBAL;
				if (c.block == &t[i] && t[i].global != -1 &&
				    strcmp(t[i].type, "multicast") != 0 &&
				    strcmp(t[i].type, "6to4") != 0 && g != (t[i].global == 1))
					fail_msg("%s (%s): is_global %d, registry says %d",
						 fmt(ends[k]), t[i].cidr, g, t[i].global);
			}
		}
	}
}

static const struct {
	const char *addr, *type;
	unsigned flags;
	char cls;
} classify_cases[] = {
#define P ADDR_IS_PRIVATE
#define G ADDR_IS_GLOBAL
#define LO ADDR_IS_LOOPBACK
#define MC ADDR_IS_MULTICAST
#define LL ADDR_IS_LINK_LOCAL
#define RS ADDR_IS_RESERVED
#define UN ADDR_IS_UNSPECIFIED
	{"0.0.0.0", "unspecified", P | UN, 'A'},
	{"0.1.2.3", "this-network", P, 'A'},
	{"8.8.8.8", "global", G, 'A'},
	{"10.1.2.3", "private", P, 'A'},
	{"100.64.0.1", "shared", 0, 'A'},
	{"100.127.255.255", "shared", 0, 'A'},
	{"100.128.0.0", "global", G, 'A'},
	{"127.0.0.1", "loopback", P | LO, 'A'},
	{"127.255.255.255", "loopback", P | LO, 'A'},
	{"128.0.0.0", "global", G, 'B'},
	{"169.254.1.1", "link-local", P | LL, 'B'},
	{"172.16.0.0", "private", P, 'B'},
	{"172.31.255.255", "private", P, 'B'},
	{"172.32.0.0", "global", G, 'B'},
	{"191.255.255.255", "global", G, 'B'},
	{"192.0.0.1", "service-continuity", P, 'C'},
	{"192.0.0.8", "dummy", P, 'C'},
	{"192.0.0.9", "pcp-anycast", G, 'C'},
	{"192.0.0.10", "turn-anycast", G, 'C'},
	{"192.0.0.11", "ietf-protocol", P, 'C'},
	{"192.0.0.170", "nat64-discovery", P, 'C'},
	{"192.0.2.1", "documentation", P, 'C'},
	{"192.31.196.1", "as112", G, 'C'},
	{"192.52.193.1", "amt", G, 'C'},
	{"192.88.99.1", "6to4-relay", G, 'C'},
	{"192.88.99.2", "6a44-relay", P, 'C'},
	{"192.168.1.10", "private", P, 'C'},
	{"198.18.0.1", "benchmarking", P, 'C'},
	{"198.19.255.255", "benchmarking", P, 'C'},
	{"198.51.100.7", "documentation", P, 'C'},
	{"203.0.113.9", "documentation", P, 'C'},
	{"223.255.255.255", "global", G, 'C'},
	{"224.0.0.1", "multicast", P | MC, 'D'},
	{"224.0.1.1", "multicast", G | MC, 'D'},
	{"232.1.1.1", "multicast", G | MC, 'D'},
	{"233.252.0.1", "documentation", G | MC, 'D'},
	{"239.255.255.250", "multicast", P | MC, 'D'},
	{"240.0.0.1", "reserved", P | RS, 'E'},
	{"255.255.255.254", "reserved", P | RS, 'E'},
	{"255.255.255.255", "limited-broadcast", P | RS, 'E'},
	{"::", "unspecified", P | RS | UN, 0},
	{"::1", "loopback", P | RS | LO, 0},
	{"::2", "reserved", G | RS, 0},
	{"::ffff:8.8.8.8", "ipv4-mapped", P | RS, 0},
	{"::ffff:10.0.0.1", "ipv4-mapped", P | RS, 0},
	{"64:ff9b::8.8.8.8", "nat64", G | RS, 0},
	{"64:ff9b:1::1", "nat64-local", P | RS, 0},
	{"100::1", "discard", P | RS, 0},
	{"100:0:0:1::1", "dummy", P | RS, 0},
	{"2000::1", "global", G, 0},
	{"2001::1", "teredo", P, 0},
	{"2001:1::1", "pcp-anycast", G, 0},
	{"2001:1::2", "turn-anycast", G, 0},
	{"2001:1::3", "srp-anycast", G, 0},
	{"2001:1::4", "ietf-protocol", P, 0},
	{"2001:2::1", "benchmarking", P, 0},
	{"2001:3::1", "amt", G, 0},
	{"2001:4:112::1", "as112", G, 0},
	{"2001:10::1", "orchid", P, 0},
	{"2001:20::1", "orchid-v2", G, 0},
	{"2001:30::1", "drone-det", G, 0},
	{"2001:200::1", "global", G, 0},
	{"2001:db8::1", "documentation", P, 0},
	{"2002:c000:0204::1", "6to4", P, 0},
	{"2002:0808:0808::1", "6to4", G, 0},
	{"2002:6440:0001::1", "6to4", 0, 0},
	{"2620:4f:8000::1", "as112", G, 0},
	{"3fff::1", "documentation", P, 0},
	{"3fff:0fff::1", "documentation", P, 0},
	{"3fff:1000::1", "global", G, 0},
	{"4000::1", "reserved", G | RS, 0},
	{"5f00::1", "srv6-sid", P | RS, 0},
	{"fc00::1", "ula", P, 0},
	{"fdff:ffff::1", "ula", P, 0},
	{"fe00::1", "reserved", G | RS, 0},
	{"fe80::1", "link-local", P | LL, 0},
	{"febf::1", "link-local", P | LL, 0},
	{"fec0::1", "site-local", G | RS, 0},
	{"ff01::1", "multicast", P | MC, 0},
	{"ff02::1", "multicast", P | MC, 0},
	{"ff05::2", "multicast", P | MC, 0},
	{"ff0e::1", "multicast", G | MC, 0},
	{"ff1e::1", "multicast", G | MC, 0},
};

static void classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0]; i++) {
		struct ik_net n = parse_ok(classify_cases[i].addr);
		struct addr_class c;
		addr_classify(&n.addr, &c);
		if (strcmp(c.type, classify_cases[i].type) != 0 || c.flags != classify_cases[i].flags ||
		    c.ipv4_class != classify_cases[i].cls)
			fail_msg("%s: type %s flags %#x class %c; want %s %#x %c",
				 classify_cases[i].addr, c.type, c.flags, c.ipv4_class ? c.ipv4_class : '-',
				 classify_cases[i].type, classify_cases[i].flags,
				 classify_cases[i].cls ? classify_cases[i].cls : '-');
	}
}

static void multicast_scope_names(void **state)
{
	(void)state;
	struct addr_class c;
	struct ik_net n = parse_ok("ff02::1");
	addr_classify(&n.addr, &c);
	assert_string_equal(c.name, "Multicast (link-local scope)");
	n = parse_ok("ff0e::1");
	addr_classify(&n.addr, &c);
	assert_string_equal(c.name, "Multicast (global scope)");
}

static void embedded_ipv4(void **state)
{
	(void)state;
	static const struct {
		const char *in, *kind, *v4;
	} cases[] = {
		{"::ffff:192.0.2.1", "ipv4-mapped", "192.0.2.1"},
		{"64:ff9b::192.0.2.1", "nat64", "192.0.2.1"},
		{"2002:c000:0201::1", "6to4", "192.0.2.1"},
		/* RFC 4380 §4's example: client 192.0.2.45 stored inverted */
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo", "192.0.2.45"},
		{"2001:db8::1", NULL, NULL},
		{"1.2.3.4", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ik_net n = parse_ok(cases[i].in);
		struct ik_addr v4;
		const char *kind = addr_embedded_ipv4(&n.addr, &v4);
		if (cases[i].kind == NULL) {
			assert_null(kind);
			continue;
		}
		assert_non_null(kind);
		assert_string_equal(kind, cases[i].kind);
		assert_string_equal(fmt(&v4), cases[i].v4);
	}
}

/* ---- CIDR math ------------------------------------------------------- */

static const struct {
	const char *in, *network, *last, *first_host, *last_host, *mask, *wild, *hosts;
	bool bcast;
	unsigned log2;
} net_cases[] = {
	{"192.168.1.10/24", "192.168.1.0", "192.168.1.255", "192.168.1.1", "192.168.1.254",
	 "255.255.255.0", "0.0.0.255", "254", true, 8},
	{"10.1.2.3/30", "10.1.2.0", "10.1.2.3", "10.1.2.1", "10.1.2.2", "255.255.255.252",
	 "0.0.0.3", "2", true, 2},
	{"10.1.2.3/31", "10.1.2.2", "10.1.2.3", "10.1.2.2", "10.1.2.3", "255.255.255.254",
	 "0.0.0.1", "2", false, 1},
	{"10.1.2.3/32", "10.1.2.3", "10.1.2.3", "10.1.2.3", "10.1.2.3", "255.255.255.255",
	 "0.0.0.0", "1", false, 0},
	{"1.2.3.4/0", "0.0.0.0", "255.255.255.255", "0.0.0.1", "255.255.255.254", "0.0.0.0",
	 "255.255.255.255", "4294967294", true, 32},
	{"2001:db8::1/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8::1",
	 "2001:db8::ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::", "::ffff:ffff:ffff:ffff",
	 "18446744073709551615", false, 64},
	{"2001:db8::5/126", "2001:db8::4", "2001:db8::7", "2001:db8::5", "2001:db8::7",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc", "::3", "3", false, 2},
	{"2001:db8::5/127", "2001:db8::4", "2001:db8::5", "2001:db8::4", "2001:db8::5",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "::1", "2", false, 1},
	{"2001:db8::5/128", "2001:db8::5", "2001:db8::5", "2001:db8::5", "2001:db8::5",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "1", false, 0},
	{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	 "340282366920938463463374607431768211455", false, 128},
};

static void net_info_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof net_cases / sizeof net_cases[0]; i++) {
		struct ik_net n = parse_ok(net_cases[i].in);
		struct addr_net_info ni;
		char hosts[ADDR_NUMBER_MAX];
		addr_net_info(&n, &ni);
		addr_format_u128(ni.hosts, hosts, sizeof hosts);
		const char *got[] = {fmt(&ni.network), fmt(&ni.last), fmt(&ni.first_host),
				     fmt(&ni.last_host)};
		const char *want[] = {net_cases[i].network, net_cases[i].last,
				      net_cases[i].first_host, net_cases[i].last_host};
		for (int k = 0; k < 4; k++)
			if (strcmp(got[k], want[k]) != 0)
				fail_msg("%s field %d: %s, want %s", net_cases[i].in, k, got[k],
					 want[k]);
		assert_string_equal(fmt(&ni.netmask), net_cases[i].mask);
		assert_string_equal(fmt(&ni.wildcard), net_cases[i].wild);
		assert_string_equal(hosts, net_cases[i].hosts);
		assert_int_equal(ni.has_broadcast, net_cases[i].bcast);
		assert_int_equal(ni.size_log2, net_cases[i].log2);
		assert_string_equal(ni.network.zone, "");
	}
}

static void containment(void **state)
{
	(void)state;
	struct ik_net net = parse_ok("192.168.1.0/24");
	struct ik_net a = parse_ok("192.168.1.77");
	assert_true(addr_contains(&net, &a.addr));
	a = parse_ok("192.168.2.1");
	assert_false(addr_contains(&net, &a.addr));
	a = parse_ok("::ffff:192.168.1.1");
	assert_false(addr_contains(&net, &a.addr));	/* families never mix */
	struct ik_net sub = parse_ok("192.168.1.128/25");
	assert_true(addr_net_contains(&net, &sub));
	sub = parse_ok("192.168.0.0/23");
	assert_false(addr_net_contains(&net, &sub));
	net = parse_ok("0.0.0.0/0");
	a = parse_ok("255.255.255.255");
	assert_true(addr_contains(&net, &a.addr));
	net = parse_ok("::/0");
	a = parse_ok("ffff::1");
	assert_true(addr_contains(&net, &a.addr));
	/* zones: ignored unless the network names one */
	net = parse_ok("fe80::/10");
	a = parse_ok("fe80::1%eth0");
	assert_true(addr_contains(&net, &a.addr));
	net = parse_ok("fe80::%eth1/10");
	assert_false(addr_contains(&net, &a.addr));
	net = parse_ok("fe80::%eth0/10");
	assert_true(addr_contains(&net, &a.addr));
}

static void split_subnets(void **state)
{
	(void)state;
	struct addr_split it;
	struct ik_net n = parse_ok("192.168.1.77/24"), sub;
	ik_err e;
	char buf[ADDR_TEXT_MAX];
	assert_int_equal(addr_split_init(&it, &n, 26, &e), 0);
	const char *want[] = {"192.168.1.0/26", "192.168.1.64/26", "192.168.1.128/26",
			      "192.168.1.192/26"};
	for (int i = 0; i < 4; i++) {
		assert_true(addr_split_next(&it, &sub));
		addr_format_net(&sub, buf, sizeof buf);
		assert_string_equal(buf, want[i]);
	}
	assert_false(addr_split_next(&it, &sub));
	/* same prefix: the network itself */
	assert_int_equal(addr_split_init(&it, &n, 24, &e), 0);
	assert_true(addr_split_next(&it, &sub));
	addr_format_net(&sub, buf, sizeof buf);
	assert_string_equal(buf, "192.168.1.0/24");
	assert_false(addr_split_next(&it, &sub));
	/* the top of the space does not wrap around */
	n = parse_ok("255.255.255.252/30");
	assert_int_equal(addr_split_init(&it, &n, 32, &e), 0);
	int count = 0;
	while (addr_split_next(&it, &sub))
		count++;
	assert_int_equal(count, 4);
	addr_format_net(&sub, buf, sizeof buf);
	assert_string_equal(buf, "255.255.255.255/32");
	n = parse_ok("::/0");
	assert_int_equal(addr_split_init(&it, &n, 1, &e), 0);
	assert_true(addr_split_next(&it, &sub));
	assert_true(addr_split_next(&it, &sub));
	addr_format_net(&sub, buf, sizeof buf);
	assert_string_equal(buf, "8000::/1");
	assert_false(addr_split_next(&it, &sub));
	/* 2^128 subnets: the count itself does not overflow */
	assert_int_equal(addr_split_init(&it, &n, 128, &e), 0);
	assert_true(it.left == ~(ik_u128)0);
	n = parse_ok("10.0.0.0/24");
	assert_int_equal(addr_split_init(&it, &n, 23, &e), -1);
	assert_string_equal(e.msg, "prefix /23 is shorter than the network's /24; a split needs "
				   "a longer prefix");
	assert_int_equal(addr_split_init(&it, &n, 33, &e), -1);
	assert_string_equal(e.msg, "prefix 33 is out of range 0\u201332");
}

/* Summarize the inputs; compare with the expected CIDR list. */
static void check_summary(const char *const *in, size_t nin, const char *const *want,
			  size_t nwant)
{
	struct addr_span spans[16];
	ik_err e;
	assert_true(nin <= 16);
	for (size_t i = 0; i < nin; i++)
		if (addr_parse_span(in[i], strlen(in[i]), &spans[i], &e) < 0)
			fail_msg("'%s': %s", in[i], e.msg);
	size_t n = addr_summarize(spans, nin);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct addr_cover c;
		struct ik_net net;
		char buf[ADDR_TEXT_MAX];
		addr_cover_init(&c, &spans[i]);
		while (addr_cover_next(&c, &net)) {
			addr_format_net(&net, buf, sizeof buf);
			if (k >= nwant || strcmp(buf, want[k]) != 0)
				fail_msg("result %zu: %s, want %s", k, buf, k < nwant ? want[k] : "none");
			k++;
		}
	}
	assert_int_equal(k, nwant);
}

#define CHECK_SUMMARY(in, want) \
	check_summary(in, sizeof in / sizeof in[0], want, sizeof want / sizeof want[0])

static void summarize_cases(void **state)
{
	(void)state;
	{
		const char *in[] = {"192.168.0.0/24", "192.168.1.0/24"};
		const char *want[] = {"192.168.0.0/23"};
		CHECK_SUMMARY(in, want);
	}
	{
		const char *in[] = {"10.0.0.1-10.0.0.10"};
		const char *want[] = {"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31",
				      "10.0.0.10/32"};
		CHECK_SUMMARY(in, want);
	}
	{	/* overlap, duplicates, adjacency, mixed families, host bits */
		const char *in[] = {"2001:db8::/33", "10.0.0.0/9", "10.128.0.0/9", "10.5.5.5",
				    "2001:db8:8000::/33", "10.1.2.3/8", "::1"};
		const char *want[] = {"10.0.0.0/8", "::1/128", "2001:db8::/32"};
		CHECK_SUMMARY(in, want);
	}
	{	/* the whole space, both ends */
		const char *in[] = {"0.0.0.0-255.255.255.255", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
		const char *want[] = {"0.0.0.0/0", "::/0"};
		CHECK_SUMMARY(in, want);
	}
	{
		const char *in[] = {"255.255.255.254-255.255.255.255", "0.0.0.0-0.0.0.0"};
		const char *want[] = {"0.0.0.0/32", "255.255.255.254/31"};
		CHECK_SUMMARY(in, want);
	}
	{
		const char *in[] = {"::1-::ffff"};
		const char *want[] = {"::1/128", "::2/127", "::4/126", "::8/125", "::10/124",
				      "::20/123", "::40/122", "::80/121", "::100/120", "::200/119",
				      "::400/118", "::800/117", "::1000/116", "::2000/115",
				      "::4000/114", "::8000/113"};
		CHECK_SUMMARY(in, want);
	}
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"10.0.0.9-10.0.0.1", "range start 10.0.0.9 comes after its end 10.0.0.1"},
		{"10.0.0.1-::1", "a range must not mix IPv4 and IPv6"},
		{"10.0.0.1-", "a range is written FIRST-LAST, with an address on each side of '-'"},
		{"1.2.3.4-5.6.7.8-9.9.9.9", "more than one '-' in a range"},
		{"1.2.3-5.6.7.8", "range start '1.2.3': only 3 octets; an IPv4 address has 4 (for "
				  "short forms such as 127.1 see 'inetkit addr aton')"},
		{"1.2.3.4-5.6.7.256", "range end '5.6.7.256': octet 256 is out of range 0\u2013255"},
		{"fe80::1%eth0", "a zone id has no place in a range or network list"},
		{"fe80::1%eth0-fe80::2", "a zone id has no place in a range"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct addr_span s;
		ik_err e;
		assert_int_equal(addr_parse_span(bad[i].in, strlen(bad[i].in), &s, &e), -1);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].in, e.msg, bad[i].msg);
	}
}

/* ---- legacy forms ---------------------------------------------------- */

static const struct {
	const char *in, *out;
	unsigned forms;
} aton_cases[] = {
	{"127.0.0.1", "127.0.0.1", 0},
	{"127.1", "127.0.0.1", ADDR_ATON_SHORT},
	{"10.1.2", "10.1.0.2", ADDR_ATON_SHORT},
	{"0x7f000001", "127.0.0.1", ADDR_ATON_SHORT | ADDR_ATON_HEX},
	{"017700000001", "127.0.0.1", ADDR_ATON_SHORT | ADDR_ATON_OCTAL},
	{"2130706433", "127.0.0.1", ADDR_ATON_SHORT},
	{"010.1.1.1", "8.1.1.1", ADDR_ATON_OCTAL},
	{"0x0A.0.0.0X1", "10.0.0.1", ADDR_ATON_HEX},
	{"1.2.65535", "1.2.255.255", ADDR_ATON_SHORT},
	{"1.16777215", "1.255.255.255", ADDR_ATON_SHORT},
	{"4294967295", "255.255.255.255", ADDR_ATON_SHORT},
	{"0", "0.0.0.0", ADDR_ATON_SHORT},
	{"00", "0.0.0.0", ADDR_ATON_SHORT | ADDR_ATON_OCTAL},
};

static void aton_legacy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof aton_cases / sizeof aton_cases[0]; i++) {
		struct ik_addr a;
		unsigned forms = 99;
		ik_err e;
		const char *s = aton_cases[i].in;
		if (addr_aton_legacy(s, strlen(s), &a, &forms, &e) < 0)
			fail_msg("'%s': %s", s, e.msg);
		assert_string_equal(fmt(&a), aton_cases[i].out);
		assert_int_equal(forms, aton_cases[i].forms);
		/* the C library reads every one of them the same way */
		struct in_addr libc;
		assert_int_equal(inet_aton(s, &libc), 1);
		assert_memory_equal(&libc.s_addr, a.bytes, 4);
	}
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"", "empty input"},
		{"1.2.3.4.5", "more than 4 parts; inet_aton takes 1 to 4"},
		{"1..2", "part 2 is empty"},
		{"256.1", "part 1 is 256, out of range 0\u2013255"},
		{"1.16777216", "last part 16777216 is out of range 0\u201316777215 for the a.b form"},
		{"1.2.65536", "last part 65536 is out of range 0\u201365535 for the a.b.c form"},
		{"1.2.3.256", "last part 256 is out of range 0\u2013255 for the a.b.c.d form"},
		{"4294967296", "part '4294967296' is too large"},
		{"09", "part '09' is not octal (a leading 0 means octal; '9' is not an octal digit)"},
		{"0x", "part '0x' has no hex digits after 0x"},
		{"0x1g", "part '0x1g': unexpected 'g'"},
		{"1.2.3.4 ", "part '4 ': unexpected byte 0x20"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ik_addr a;
		unsigned forms;
		ik_err e;
		assert_int_equal(addr_aton_legacy(bad[i].in, strlen(bad[i].in), &a, &forms, &e), -1);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].in, e.msg, bad[i].msg);
	}
}

static void numbers_as_addresses(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int family;
		const char *out;
	} cases[] = {
		{"3232235786", 0, "192.168.1.10"},
		{"0xc0a8010a", 0, "192.168.1.10"},
		{"030052000412", 0, "192.168.1.10"},
		{"4294967295", 0, "255.255.255.255"},
		{"4294967296", AF_INET6, "::1:0:0"},
		{"1", AF_INET6, "::1"},
		{"0x20010db8000000000000000000000001", AF_INET6, "2001:db8::1"},
		{"340282366920938463463374607431768211455", AF_INET6,
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ik_addr a;
		unsigned forms;
		ik_err e;
		const char *s = cases[i].in;
		if (addr_from_number(s, strlen(s), cases[i].family, &a, &forms, &e) < 0)
			fail_msg("'%s': %s", s, e.msg);
		assert_string_equal(fmt(&a), cases[i].out);
	}
	struct ik_addr a;
	unsigned forms;
	ik_err e;
	assert_int_equal(addr_from_number("340282366920938463463374607431768211456", 39, AF_INET6,
					  &a, &forms, &e), -1);
	assert_string_equal(e.msg, "number '340282366920938463463374607431768211456' is too large");
	/* more than 32 bits is IPv6 only when asked for: by default, and with -4 */
	for (int family = 0; family <= AF_INET; family += AF_INET) {
		assert_int_equal(addr_from_number("4294967296", 10, family, &a, &forms, &e), -1);
		assert_string_equal(e.msg, "number '4294967296' is more than 32 bits, too large for "
				    "an IPv4 address; give -6 to read it as an IPv6 address");
	}
	assert_int_equal(addr_from_number("0x20010db8000000000000000000000001", 34, 0, &a, &forms,
					  &e), -1);
	assert_int_equal(addr_from_number("", 0, 0, &a, &forms, &e), -1);
	assert_string_equal(e.msg, "empty input");
}

/* What people copy from a hex dump or from Python into inet_ntoa. */
static void ntoa_texts(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int family;
		const char *out;
		unsigned forms;
	} cases[] = {
		{"c6a80102", 0, "198.168.1.2", ADDR_NUM_BYTES},
		{"C6A80102", AF_INET, "198.168.1.2", ADDR_NUM_BYTES},
		{"c6 a8 01 02", 0, "198.168.1.2", ADDR_NUM_BYTES},
		{"  c6a8\t0102 ", 0, "198.168.1.2", ADDR_NUM_BYTES},
		{"10 20 30 40", 0, "16.32.48.64", ADDR_NUM_BYTES},	/* blanks: hex bytes */
		{"20010db8000000000000000000000001", 0, "2001:db8::1", ADDR_NUM_BYTES},
		{"b'\\xc6\\xa8\\x01\\x02'", 0, "198.168.1.2", ADDR_NUM_PYBYTES},
		{"B\"\\xc6\\xa8\\x01\\x02\"", 0, "198.168.1.2", ADDR_NUM_PYBYTES},
		{"'\\xc6\\xa8\\x01\\x02'", 0, "198.168.1.2", ADDR_NUM_PYBYTES},
		{"b\\xc6\\xa8\\x01\\x02", 0, "198.168.1.2", ADDR_NUM_PYBYTES},	/* shell ate the quotes */
		{"\\xc6\\xa8\\x01\\x02", 0, "198.168.1.2", ADDR_NUM_PYBYTES},
		{"b'ABCD'", 0, "65.66.67.68", ADDR_NUM_PYBYTES},
		{"b\"AB'\\n\"", 0, "65.66.39.10", ADDR_NUM_PYBYTES},
		{"b'\\x7f\\x00\\x00\\x01'", 0, "127.0.0.1", ADDR_NUM_PYBYTES},
		{"b'\\t\\r\\\\\\''", 0, "9.13.92.39", ADDR_NUM_PYBYTES},
		{"b'\\0\\1\\377\\a'", 0, "0.1.255.7", ADDR_NUM_PYBYTES},
		{"b' \\x01\\r\\xb8\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'", 0,
		 "2001:db8::1", ADDR_NUM_PYBYTES},
		/* numbers as before */
		{"3232235786", 0, "192.168.1.10", 0},
		{"0xc0a8010a", 0, "192.168.1.10", ADDR_ATON_HEX},
		{"12345678", 0, "0.188.97.78", 0},	/* digits alone: decimal */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ik_addr a;
		unsigned forms = 99;
		ik_err e;
		const char *s = cases[i].in;
		if (addr_from_ntoa_text(s, strlen(s), cases[i].family, &a, &forms, &e) < 0)
			fail_msg("'%s': %s", s, e.msg);
		assert_string_equal(fmt(&a), cases[i].out);
		assert_int_equal(forms, cases[i].forms);
	}
	static const struct {
		const char *in;
		int family;
		const char *msg;
	} bad[] = {
		{"", 0, "empty input"},
		{"c6", 0, "1 byte; an IPv4 address is 4 bytes (8 hex digits), an IPv6 address 16 "
			  "(32 hex digits)"},
		{"c6a801", 0, "3 bytes; an IPv4 address is 4 bytes (8 hex digits), an IPv6 address "
			      "16 (32 hex digits)"},
		{"c6 a8 1 02", 0, "'1' has an odd number of hex digits; write whole bytes, two digits "
				  "each (c6 a8 01 02), or a number with 0x"},
		{"c6a80102", AF_INET6, "4 bytes make an IPv4 address; drop -6"},
		{"20010db8000000000000000000000001", AF_INET, "16 bytes make an IPv6 address; drop -4"},
		{"c6a8010203040506070809", 0, "11 bytes; an IPv4 address is 4 bytes (8 hex digits), "
					      "an IPv6 address 16 (32 hex digits)"},
		{"c6a80102030405060708090a0b0c0d0e0f", 0, "more than 16 bytes; an IPv6 address is 16, "
							  "IPv4 4"},
		{"b'\\xc6\\xa8\\x01\\x02", 0, "a Python bytes literal ends with the quote it starts "
					    "with (')"},
		{"b'\\xc6\\xa8\\x01\\x2'", 0, "\\x needs two hex digits, as in \\xc6"},
		{"b'\\q\\xa8\\x01\\x02'", 0, "unknown escape '\\q'; Python bytes use \\xhh"},
		{"b'\\400'", 0, "octal escape \\400 is more than a byte (\\377)"},
		{"b'a'b'c'", 0, "a ' inside the literal is written \\'"},
		{"b'\xc3\xa9" "abc'", 0, "byte 0xc3 in a Python bytes literal; write it as \\xc3"},
		{"b'ab\\", 0, "a Python bytes literal ends with the quote it starts with (')"},
		{"\\xc6\\", 0, "ends in a lone backslash"},
		{"''", 0, "0 bytes; an IPv4 address is 4 bytes (8 hex digits), an IPv6 address 16 "
			  "(32 hex digits)"},
		{"4294967296", 0, "number '4294967296' is more than 32 bits, too large for an IPv4 "
				  "address; give -6 to read it as an IPv6 address"},
		{"12x", 0, "number '12x': unexpected 'x'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ik_addr a;
		unsigned forms;
		ik_err e;
		const char *s = bad[i].in;
		assert_int_equal(addr_from_ntoa_text(s, strlen(s), bad[i].family, &a, &forms, &e), -1);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", s, e.msg, bad[i].msg);
	}
}

/* The bytes in network order, as hex and as Python's repr shows them. */
static void bytes_forms(void **state)
{
	(void)state;
	static const struct {
		const char *in, *hex, *py;
	} cases[] = {
		{"198.168.1.2", "c6 a8 01 02", "b'\\xc6\\xa8\\x01\\x02'"},
		{"65.66.67.68", "41 42 43 44", "b'ABCD'"},
		{"65.66.39.10", "41 42 27 0a", "b\"AB'\\n\""},		/* ' alone: "..." */
		{"39.34.9.13", "27 22 09 0d", "b'\\'\"\\t\\r'"},	/* both: '...' and \' */
		{"92.127.32.126", "5c 7f 20 7e", "b'\\\\\\x7f ~'"},
		{"2001:db8::1", "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01",
		 "b' \\x01\\r\\xb8\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ik_net n = parse_ok(cases[i].in);
		char buf[ADDR_BYTES_MAX];
		assert_int_equal(addr_format_bytes(&n.addr, buf, sizeof buf), strlen(cases[i].hex));
		assert_string_equal(buf, cases[i].hex);
		assert_int_equal(addr_format_pybytes(&n.addr, buf, sizeof buf), strlen(cases[i].py));
		assert_string_equal(buf, cases[i].py);
		/* and both read back */
		struct ik_addr back;
		unsigned forms;
		ik_err e;
		assert_int_equal(addr_from_ntoa_text(buf, strlen(buf), 0, &back, &forms, &e), 0);
		assert_true(addr_equal(&back, &n.addr));
		addr_format_bytes(&n.addr, buf, sizeof buf);
		assert_int_equal(addr_from_ntoa_text(buf, strlen(buf), 0, &back, &forms, &e), 0);
		assert_true(addr_equal(&back, &n.addr));
	}
	/* the largest: 16 bytes that all need \xhh */
	struct ik_net n = parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	char buf[ADDR_BYTES_MAX];
	assert_int_equal(addr_format_pybytes(&n.addr, buf, sizeof buf), 3 + 16 * 4);
	char small[8];
	assert_int_equal(addr_format_bytes(&n.addr, small, sizeof small), 0);
	assert_string_equal(small, "");
}

static void hostname_hint(void **state)
{
	(void)state;
	static const char *const names[] = {"example.com", "localhost", "a-b.example.", "x1"};
	static const char *const not_names[] = {"10.0.0.1", "1.2.3", "::1", "fe80::1%eth0",
		"10.0.0.0/8", "0x7f000001", "1.2.3.0x4", "example.com/24", "1.2.3.4a b", ""};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!addr_looks_like_hostname(names[i], strlen(names[i])))
			fail_msg("'%s' should look like a host name", names[i]);
	for (size_t i = 0; i < sizeof not_names / sizeof not_names[0]; i++)
		if (addr_looks_like_hostname(not_names[i], strlen(not_names[i])))
			fail_msg("'%s' should not look like a host name", not_names[i]);
}

static void value_helpers(void **state)
{
	(void)state;
	struct ik_net a = parse_ok("10.0.0.1"), b = parse_ok("::1"), c = parse_ok("10.0.0.2");
	assert_true(addr_compare(&a.addr, &b.addr) < 0);
	assert_true(addr_compare(&c.addr, &a.addr) > 0);
	assert_true(addr_equal(&a.addr, &a.addr));
	assert_true(addr_mask(AF_INET, 0) == 0);
	assert_true(addr_mask(AF_INET, 32) == 0xffffffffu);
	assert_true(addr_mask(AF_INET, 24) == 0xffffff00u);
	assert_true(addr_mask(AF_INET6, 128) == ~(ik_u128)0);
	assert_true(addr_mask(AF_INET6, 1) == (ik_u128)1 << 127);
	struct ik_addr x;
	addr_from_u128(&x, AF_INET6, addr_to_u128(&b.addr));
	assert_true(addr_equal(&x, &b.addr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts),
		cmocka_unit_test(parse_refuses),
		cmocka_unit_test(format_canonical),
		cmocka_unit_test(format_other_forms),
		cmocka_unit_test(every_registry_block),
		cmocka_unit_test(classify_table),
		cmocka_unit_test(multicast_scope_names),
		cmocka_unit_test(embedded_ipv4),
		cmocka_unit_test(net_info_table),
		cmocka_unit_test(containment),
		cmocka_unit_test(split_subnets),
		cmocka_unit_test(summarize_cases),
		cmocka_unit_test(aton_legacy),
		cmocka_unit_test(numbers_as_addresses),
		cmocka_unit_test(ntoa_texts),
		cmocka_unit_test(bytes_forms),
		cmocka_unit_test(hostname_hint),
		cmocka_unit_test(value_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
