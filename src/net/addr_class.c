/* What kind of address this is: the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries (RFC 6890, RFC 8190; entries as of 2025), the
 * multicast blocks of RFC 5771, RFC 2365 and RFC 4291 §2.7 with the scopes
 * of RFC 7346, the IPv6 Address Space registry for "reserved", and the
 * class A-E of the old classful rules (RFC 791, RFC 1112).
 *
 * "Globally reachable" is the registry's column of that name, taken from
 * the most specific block that gives one (N/A looks outwards). The tables
 * are data; the rules that the registry cannot express (6to4 follows its
 * embedded IPv4 address, multicast its scope) are the few lines in
 * addr_classify. */
#include "net/addr.h"

#include <string.h>

#define V4(a, b, c, d) ((ik_u128)((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
				  (uint32_t)(c) << 8 | (uint32_t)(d)))
#define W64(a, b, c, d) ((uint64_t)(a) << 48 | (uint64_t)(b) << 32 | \
			 (uint64_t)(c) << 16 | (uint64_t)(d))
#define V6(a, b, c, d, e, f, g, h) ((ik_u128)W64(a, b, c, d) << 64 | (ik_u128)W64(e, f, g, h))

enum { NA = -1 };

static const struct addr_block v4_blocks[] = {
	{"0.0.0.0/8", V4(0, 0, 0, 0), 8, "this-network", "This network", "RFC 791", 0},
	{"0.0.0.0/32", V4(0, 0, 0, 0), 32, "unspecified", "This host on this network", "RFC 1122", 0},
	{"10.0.0.0/8", V4(10, 0, 0, 0), 8, "private", "Private-Use", "RFC 1918", 0},
	{"100.64.0.0/10", V4(100, 64, 0, 0), 10, "shared", "Shared Address Space", "RFC 6598", 0},
	{"127.0.0.0/8", V4(127, 0, 0, 0), 8, "loopback", "Loopback", "RFC 1122", 0},
	{"169.254.0.0/16", V4(169, 254, 0, 0), 16, "link-local", "Link Local", "RFC 3927", 0},
	{"172.16.0.0/12", V4(172, 16, 0, 0), 12, "private", "Private-Use", "RFC 1918", 0},
	{"192.0.0.0/24", V4(192, 0, 0, 0), 24, "ietf-protocol", "IETF Protocol Assignments", "RFC 6890", 0},
	{"192.0.0.0/29", V4(192, 0, 0, 0), 29, "service-continuity", "IPv4 Service Continuity Prefix", "RFC 7335", 0},
	{"192.0.0.8/32", V4(192, 0, 0, 8), 32, "dummy", "IPv4 dummy address", "RFC 7600", 0},
	{"192.0.0.9/32", V4(192, 0, 0, 9), 32, "pcp-anycast", "Port Control Protocol Anycast", "RFC 7723", 1},
	{"192.0.0.10/32", V4(192, 0, 0, 10), 32, "turn-anycast", "Traversal Using Relays around NAT Anycast", "RFC 8155", 1},
	{"192.0.0.170/32", V4(192, 0, 0, 170), 32, "nat64-discovery", "NAT64/DNS64 Discovery", "RFC 8880", 0},
	{"192.0.0.171/32", V4(192, 0, 0, 171), 32, "nat64-discovery", "NAT64/DNS64 Discovery", "RFC 8880", 0},
	{"192.0.2.0/24", V4(192, 0, 2, 0), 24, "documentation", "Documentation (TEST-NET-1)", "RFC 5737", 0},
	{"192.31.196.0/24", V4(192, 31, 196, 0), 24, "as112", "AS112-v4", "RFC 7535", 1},
	{"192.52.193.0/24", V4(192, 52, 193, 0), 24, "amt", "AMT", "RFC 7450", 1},
	{"192.88.99.0/24", V4(192, 88, 99, 0), 24, "6to4-relay", "Deprecated (6to4 Relay Anycast)", "RFC 7526", NA},
	{"192.88.99.2/32", V4(192, 88, 99, 2), 32, "6a44-relay", "6a44-relay anycast address", "RFC 6751", 0},
	{"192.168.0.0/16", V4(192, 168, 0, 0), 16, "private", "Private-Use", "RFC 1918", 0},
	{"198.18.0.0/15", V4(198, 18, 0, 0), 15, "benchmarking", "Benchmarking", "RFC 2544", 0},
	{"198.51.100.0/24", V4(198, 51, 100, 0), 24, "documentation", "Documentation (TEST-NET-2)", "RFC 5737", 0},
	{"203.0.113.0/24", V4(203, 0, 113, 0), 24, "documentation", "Documentation (TEST-NET-3)", "RFC 5737", 0},
	{"240.0.0.0/4", V4(240, 0, 0, 0), 4, "reserved", "Reserved", "RFC 1112", 0},
	{"255.255.255.255/32", V4(255, 255, 255, 255), 32, "limited-broadcast", "Limited Broadcast", "RFC 919", 0},
	/* Multicast: not in the special-purpose registry; reachability by scope. */
	{"224.0.0.0/4", V4(224, 0, 0, 0), 4, "multicast", "Multicast", "RFC 5771", 1},
	{"224.0.0.0/24", V4(224, 0, 0, 0), 24, "multicast", "Multicast (Local Network Control Block)", "RFC 5771", 0},
	{"232.0.0.0/8", V4(232, 0, 0, 0), 8, "multicast", "Multicast (Source-Specific Multicast Block)", "RFC 4607", 1},
	{"233.0.0.0/8", V4(233, 0, 0, 0), 8, "multicast", "Multicast (GLOP Block)", "RFC 3180", 1},
	{"233.252.0.0/24", V4(233, 252, 0, 0), 24, "documentation", "Multicast documentation (MCAST-TEST-NET)", "RFC 6676", NA},
	{"239.0.0.0/8", V4(239, 0, 0, 0), 8, "multicast", "Multicast (Administratively Scoped Block)", "RFC 2365", 0},
};

static const struct addr_block v6_blocks[] = {
	{"::/128", V6(0, 0, 0, 0, 0, 0, 0, 0), 128, "unspecified", "Unspecified Address", "RFC 4291", 0},
	{"::1/128", V6(0, 0, 0, 0, 0, 0, 0, 1), 128, "loopback", "Loopback Address", "RFC 4291", 0},
	{"::ffff:0:0/96", V6(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, "ipv4-mapped", "IPv4-mapped Address", "RFC 4291", 0},
	{"64:ff9b::/96", V6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96, "nat64", "IPv4-IPv6 Translat.", "RFC 6052", 1},
	{"64:ff9b:1::/48", V6(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, "nat64-local", "IPv4-IPv6 Translat.", "RFC 8215", 0},
	{"100::/64", V6(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard", "Discard-Only Address Block", "RFC 6666", 0},
	{"100:0:0:1::/64", V6(0x100, 0, 0, 1, 0, 0, 0, 0), 64, "dummy", "Dummy IPv6 Prefix", "RFC 9780", 0},
	{"2001::/23", V6(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, "ietf-protocol", "IETF Protocol Assignments", "RFC 2928", 0},
	{"2001::/32", V6(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, "teredo", "TEREDO", "RFC 4380", NA},
	{"2001:1::1/128", V6(0x2001, 1, 0, 0, 0, 0, 0, 1), 128, "pcp-anycast", "Port Control Protocol Anycast", "RFC 7723", 1},
	{"2001:1::2/128", V6(0x2001, 1, 0, 0, 0, 0, 0, 2), 128, "turn-anycast", "Traversal Using Relays around NAT Anycast", "RFC 8155", 1},
	{"2001:1::3/128", V6(0x2001, 1, 0, 0, 0, 0, 0, 3), 128, "srp-anycast", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", 1},
	{"2001:2::/48", V6(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, "benchmarking", "Benchmarking", "RFC 5180", 0},
	{"2001:3::/32", V6(0x2001, 3, 0, 0, 0, 0, 0, 0), 32, "amt", "AMT", "RFC 7450", 1},
	{"2001:4:112::/48", V6(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48, "as112", "AS112-v6", "RFC 7535", 1},
	{"2001:10::/28", V6(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28, "orchid", "Deprecated (previously ORCHID)", "RFC 4843", NA},
	{"2001:20::/28", V6(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28, "orchid-v2", "ORCHIDv2", "RFC 7343", 1},
	{"2001:30::/28", V6(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28, "drone-det", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", 1},
	{"2001:db8::/32", V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation", "Documentation", "RFC 3849", 0},
	{"2002::/16", V6(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, "6to4", "6to4", "RFC 3056", NA},
	{"2620:4f:8000::/48", V6(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0), 48, "as112", "Direct Delegation AS112 Service", "RFC 7534", 1},
	{"3fff::/20", V6(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation", "Documentation", "RFC 9637", 0},
	{"5f00::/16", V6(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16, "srv6-sid", "Segment Routing (SRv6) SIDs", "RFC 9602", 0},
	{"fc00::/7", V6(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "ula", "Unique-Local", "RFC 4193", 0},
	{"fe80::/10", V6(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local", "Link-Local Unicast", "RFC 4291", 0},
	/* Not in the special-purpose registry: named for the reader. */
	{"fec0::/10", V6(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local", "Site-Local (deprecated)", "RFC 3879", NA},
	{"ff00::/8", V6(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast", "Multicast", "RFC 4291", NA},
};

#define N_V4 (sizeof v4_blocks / sizeof v4_blocks[0])
#define N_V6 (sizeof v6_blocks / sizeof v6_blocks[0])

/* RFC 7346 §2 scope names, by the scope nibble. */
static const char *const mcast_scope[16] = {
	"Multicast (reserved scope 0)", "Multicast (interface-local scope)",
	"Multicast (link-local scope)", "Multicast (realm-local scope)",
	"Multicast (admin-local scope)", "Multicast (site-local scope)",
	"Multicast (unassigned scope 6)", "Multicast (unassigned scope 7)",
	"Multicast (organization-local scope)", "Multicast (unassigned scope 9)",
	"Multicast (unassigned scope a)", "Multicast (unassigned scope b)",
	"Multicast (unassigned scope c)", "Multicast (unassigned scope d)",
	"Multicast (global scope)", "Multicast (reserved scope f)",
};

const struct addr_block *addr_blocks(int family, size_t *n)
{
	if (family == AF_INET) {
		*n = N_V4;
		return v4_blocks;
	}
	*n = N_V6;
	return v6_blocks;
}

static void match(const struct addr_block *t, size_t n, ik_u128 v, unsigned bits,
		  const struct addr_block **best, const struct addr_block **reach)
{
	*best = *reach = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned shift = bits - t[i].prefix;
		if (shift < 128 && ((v ^ t[i].base) >> shift) != 0)
			continue;
		if (*best == NULL || t[i].prefix > (*best)->prefix)
			*best = &t[i];
		if (t[i].global != NA && (*reach == NULL || t[i].prefix > (*reach)->prefix))
			*reach = &t[i];
	}
}

static void classify_v4(uint32_t v, struct addr_class *out)
{
	const struct addr_block *best, *reach;
	match(v4_blocks, N_V4, v, 32, &best, &reach);
	bool global = reach == NULL || reach->global == 1;
	unsigned f = global ? ADDR_IS_GLOBAL : 0;
	/* RFC 6598 space is neither: not reachable, yet not "private" either. */
	if (!global && (v >> 22) != (V4(100, 64, 0, 0) >> 22))
		f |= ADDR_IS_PRIVATE;
	if ((v >> 24) == 127)
		f |= ADDR_IS_LOOPBACK;
	if ((v >> 28) == 0xe)
		f |= ADDR_IS_MULTICAST;
	if ((v >> 16) == 0xa9fe)
		f |= ADDR_IS_LINK_LOCAL;
	if ((v >> 28) == 0xf)
		f |= ADDR_IS_RESERVED;
	if (v == 0)
		f |= ADDR_IS_UNSPECIFIED;
	out->flags = f;
	out->block = best;
	if (best != NULL) {
		out->type = best->type;
		out->name = best->name;
		out->rfc = best->rfc;
	} else {
		out->type = "global";
		out->name = "Global unicast";
		out->rfc = "RFC 791";
	}
	/* Classful rules by the leading bits: 0, 10, 110, 1110, 1111. */
	unsigned lead = v >> 28;
	out->ipv4_class = lead < 8 ? 'A' : lead < 12 ? 'B' : lead < 14 ? 'C' : lead == 14 ? 'D' : 'E';
}

static void classify_v6(const struct ik_addr *a, ik_u128 v, struct addr_class *out)
{
	const struct addr_block *best, *reach;
	match(v6_blocks, N_V6, v, 128, &best, &reach);
	unsigned top16 = (unsigned)(v >> 112);
	bool global = reach == NULL || reach->global == 1;
	bool multicast = (top16 >> 8) == 0xff;
	if (multicast)
		global = (top16 & 15) == 0xe;
	unsigned f = 0;
	if ((top16 >> 8) == 0x20 && (top16 & 0xff) == 0x02) {
		/* 6to4's registry entry says N/A: the embedded IPv4 decides. */
		struct ik_addr v4;
		struct addr_class c4;
		addr_embedded_ipv4(a, &v4);
		classify_v4((uint32_t)addr_to_u128(&v4), &c4);
		f = c4.flags & (ADDR_IS_GLOBAL | ADDR_IS_PRIVATE);
	} else {
		f = global ? ADDR_IS_GLOBAL : ADDR_IS_PRIVATE;
	}
	if (v == 1)
		f |= ADDR_IS_LOOPBACK;
	if (multicast)
		f |= ADDR_IS_MULTICAST;
	if ((top16 & 0xffc0) == 0xfe80)
		f |= ADDR_IS_LINK_LOCAL;
	/* IPv6 Address Space registry: all but 2000::/3, fc00::/7, fe80::/10
	 * and ff00::/8 is reserved by the IETF (fec0::/10 since RFC 3879). */
	bool assigned = (top16 & 0xe000) == 0x2000 || (top16 & 0xfe00) == 0xfc00 ||
			(top16 & 0xffc0) == 0xfe80 || multicast;
	if (!assigned)
		f |= ADDR_IS_RESERVED;
	if (v == 0)
		f |= ADDR_IS_UNSPECIFIED;
	out->flags = f;
	out->block = best;
	out->ipv4_class = 0;
	if (best != NULL) {
		out->type = best->type;
		out->name = multicast ? mcast_scope[top16 & 15] : best->name;
		out->rfc = best->rfc;
	} else if (!assigned) {
		out->type = "reserved";
		out->name = "Reserved by IETF";
		out->rfc = "RFC 4291";
	} else {
		out->type = "global";
		out->name = "Global Unicast";
		out->rfc = "RFC 4291";
	}
}

void addr_classify(const struct ik_addr *a, struct addr_class *out)
{
	ik_u128 v = addr_to_u128(a);
	if (a->family == AF_INET)
		classify_v4((uint32_t)v, out);
	else
		classify_v6(a, v, out);
}

const char *addr_embedded_ipv4(const struct ik_addr *a, struct ik_addr *v4)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	const uint8_t *b = a->bytes;
	if (a->family != AF_INET6)
		return NULL;
	memset(v4, 0, sizeof *v4);
	v4->family = AF_INET;
	if (memcmp(b, mapped, 12) == 0) {
		memcpy(v4->bytes, b + 12, 4);
		return "ipv4-mapped";
	}
	if (memcmp(b, nat64, 12) == 0) {
		memcpy(v4->bytes, b + 12, 4);
		return "nat64";
	}
	if (b[0] == 0x20 && b[1] == 0x02) {
		memcpy(v4->bytes, b + 2, 4);
		return "6to4";
	}
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
		/* RFC 4380 §4: the client's address is stored inverted. */
		for (int i = 0; i < 4; i++)
			v4->bytes[i] = (uint8_t)~b[12 + i];
		return "teredo";
	}
	return NULL;
}
