/* IPv4 and IPv6 addresses as values: parse, format, classify, CIDR math.
 *
 * Pure functions: no I/O, no allocation, no global state. Listeners, FTP
 * PORT/EPRT, access lists and `inetkit addr` all share them, so the rules
 * for what an address looks like live in one place.
 *
 * Follows RFC 791 (dotted quad), RFC 4291 §2.2 (IPv6 text forms), RFC 5952
 * (canonical IPv6 text), RFC 4007 §11 (zone ids), RFC 4632 (CIDR),
 * RFC 3021 (/31 point-to-point), RFC 6164 (/127), RFC 6890 + RFC 8190 (the
 * IANA special-purpose address registries), RFC 1035 §3.5 and RFC 3596 §2.5
 * (reverse names), and, for the legacy forms only, inet_aton(3).
 *
 * Error messages (ik_err) say what is wrong with the text, not which text:
 * callers put the input in front ("'1.2.3.256': octet 256 is out of ...").
 */
#ifndef INETKIT_NET_ADDR_H
#define INETKIT_NET_ADDR_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/error.h"

__extension__ typedef unsigned __int128 ik_u128;

struct ik_addr {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t bytes[16];		/* network order; IPv4 uses bytes[0..3], the rest are 0 */
	char zone[IF_NAMESIZE];		/* IPv6 zone id without the '%'; "" when none */
};

struct ik_net {
	struct ik_addr addr;		/* as written: host bits are kept */
	unsigned prefix;		/* 0..32 or 0..128; the full length when none was written */
};

/* Buffer sizes that always suffice (terminating NUL included). */
#define ADDR_TEXT_MAX 64	/* addr_format, addr_format_net, addr_format_full */
#define ADDR_REVERSE_MAX 80	/* addr_reverse_name */
#define ADDR_BINARY_MAX 136	/* addr_format_binary */
#define ADDR_NUMBER_MAX 48	/* addr_format_hex, addr_format_u128 */
#define ADDR_BYTES_MAX 72	/* addr_format_bytes, addr_format_pybytes */

/* Longest text addr_parse can accept: IPv6 with embedded IPv4 (45), zone
 * (16), "/128"; or IPv4 with a dotted netmask. Callers may reject longer
 * input before parsing. */
#define ADDR_INPUT_MAX 65

/* ---- parse ---------------------------------------------------------- */

/* ADDR[%ZONE][/PREFIX] or IPV4/NETMASK, exactly len bytes (no trimming).
 * IPv4 is a strict dotted quad: leading zeros are refused because
 * inet_aton reads them as octal. IPv6 takes every RFC 4291 form: full,
 * '::'-compressed, with a trailing dotted quad, upper or lower case. A
 * netmask must be contiguous. Returns 0, or -1 with e saying what is wrong. */
int addr_parse(const char *s, size_t len, struct ik_net *out, ik_err *e);

/* An address alone (ADDR or IPV6%ZONE), no prefix. */
int addr_parse_addr(const char *s, size_t len, struct ik_addr *out, ik_err *e);

/* Text that no address form explains but a host name does: letters,
 * digits, '-' and '.', with a letter, and a last label that is not all
 * digits (RFC 1123 §2.1), such as example.com or localhost. */
bool addr_looks_like_hostname(const char *s, size_t len);

/* ---- format --------------------------------------------------------- */
/* Each writes a NUL-terminated string and returns its length; with a
 * buffer that is too small it writes "" (when bufsz > 0) and returns 0. */

/* Dotted quad, or RFC 5952 canonical IPv6 (lowercase, longest run of two
 * or more zero groups as "::", the first of equal runs), then "%zone".
 * IPv4-mapped (::ffff:0:0/96) and NAT64 well-known-prefix (64:ff9b::/96)
 * addresses end in a dotted quad, as RFC 5952 §5 recommends. */
size_t addr_format(const struct ik_addr *a, char *buf, size_t bufsz);
/* addr_format + "/prefix". */
size_t addr_format_net(const struct ik_net *n, char *buf, size_t bufsz);
/* IPv6 fully expanded: eight groups of four hex digits (+ "%zone").
 * IPv4: the dotted quad. */
size_t addr_format_full(const struct ik_addr *a, char *buf, size_t bufsz);
/* "4.3.2.1.in-addr.arpa" or the 32-nibble ".ip6.arpa" name, no final dot. */
size_t addr_reverse_name(const struct ik_addr *a, char *buf, size_t bufsz);
/* "0xc0a8010a": 8 or 32 hex digits. */
size_t addr_format_hex(const struct ik_addr *a, char *buf, size_t bufsz);
/* The 4 or 16 bytes in network order, what inet_aton(3) and inet_pton(3)
 * write: "c6 a8 01 02" in hex, and as Python shows them (the repr of
 * socket.inet_aton's result), b'\xc6\xa8\x01\x02'. */
size_t addr_format_bytes(const struct ik_addr *a, char *buf, size_t bufsz);
size_t addr_format_pybytes(const struct ik_addr *a, char *buf, size_t bufsz);
/* Bits in groups: 8 per '.' for IPv4, 16 per ':' for IPv6. */
size_t addr_format_binary(const struct ik_addr *a, char *buf, size_t bufsz);
/* Unsigned decimal of a 128-bit value. */
size_t addr_format_u128(ik_u128 v, char *buf, size_t bufsz);

/* ---- values --------------------------------------------------------- */

static inline unsigned addr_bits(const struct ik_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* The address as an integer (IPv4 in the low 32 bits). */
ik_u128 addr_to_u128(const struct ik_addr *a);
/* Set family and value; the zone is cleared. */
void addr_from_u128(struct ik_addr *a, int family, ik_u128 v);
/* Order by family (IPv4 first), then value; zones are ignored. */
int addr_compare(const struct ik_addr *a, const struct ik_addr *b);
/* Same family and value (zones ignored). */
bool addr_equal(const struct ik_addr *a, const struct ik_addr *b);
/* The mask of a prefix length as an integer in the family's width. */
ik_u128 addr_mask(int family, unsigned prefix);

/* ---- CIDR ----------------------------------------------------------- */

struct addr_net_info {
	struct ik_addr network;		/* host bits cleared */
	struct ik_addr last;		/* host bits set (the IPv4 broadcast when has_broadcast) */
	struct ik_addr netmask;
	struct ik_addr wildcard;	/* the host mask: netmask inverted */
	struct ik_addr first_host;
	struct ik_addr last_host;
	bool has_broadcast;		/* IPv4 with prefix <= 30 */
	unsigned size_log2;		/* the network holds 2^size_log2 addresses */
	ik_u128 hosts;			/* usable host addresses */
};

/* Usable hosts: IPv4 /0../30 leave out the network and broadcast
 * addresses; /31 has two hosts and no broadcast (RFC 3021); /32 is the one
 * address. IPv6 /0../126 leave out the Subnet-Router anycast address (the
 * network address, RFC 4291 §2.6.1); /127 has two (RFC 6164); /128 one.
 * Derived addresses carry no zone. */
void addr_net_info(const struct ik_net *n, struct addr_net_info *out);

/* a lies inside n (same family; zones are ignored unless n has one, in
 * which case a must have the same). */
bool addr_contains(const struct ik_net *n, const struct ik_addr *a);
/* inner lies wholly inside outer. */
bool addr_net_contains(const struct ik_net *outer, const struct ik_net *inner);

/* Subnets of a network, in order, without building a list. */
struct addr_split {
	int family;
	ik_u128 next;		/* next network, as an integer */
	ik_u128 left;		/* subnets still to give, minus one */
	unsigned prefix;
	bool done;
};
/* new_prefix must lie in [n->prefix, bits]. The count of subnets is
 * 2^(new_prefix - n->prefix) (up to 2^128). */
int addr_split_init(struct addr_split *it, const struct ik_net *n, unsigned new_prefix,
		    ik_err *e);
bool addr_split_next(struct addr_split *it, struct ik_net *out);

/* An inclusive range of one family's addresses. */
struct addr_span {
	int family;
	ik_u128 lo, hi;
};
void addr_span_from_net(const struct ik_net *n, struct addr_span *out);
/* NET, ADDR or A-B (A <= B, one family, no zone ids). */
int addr_parse_span(const char *s, size_t len, struct addr_span *out, ik_err *e);
/* Sort and merge overlapping or adjacent spans in place; returns the new
 * count. IPv4 spans come before IPv6. */
size_t addr_summarize(struct addr_span *spans, size_t n);

/* The smallest list of CIDR blocks that covers a span exactly. */
struct addr_cover {
	int family;
	ik_u128 lo, hi;
	bool done;
};
void addr_cover_init(struct addr_cover *c, const struct addr_span *s);
bool addr_cover_next(struct addr_cover *c, struct ik_net *out);

/* ---- classify ------------------------------------------------------- */

enum {
	ADDR_IS_PRIVATE = 1u << 0,	/* not globally reachable (except shared 100.64/10) */
	ADDR_IS_GLOBAL = 1u << 1,	/* globally reachable */
	ADDR_IS_LOOPBACK = 1u << 2,	/* 127/8, ::1 */
	ADDR_IS_MULTICAST = 1u << 3,	/* 224/4, ff00::/8 */
	ADDR_IS_LINK_LOCAL = 1u << 4,	/* 169.254/16, fe80::/10 */
	ADDR_IS_RESERVED = 1u << 5,	/* 240/4; IPv6 space the IETF has not assigned */
	ADDR_IS_UNSPECIFIED = 1u << 6,	/* 0.0.0.0, :: */
};

/* One row of the special-purpose tables: the IANA IPv4/IPv6 Special-Purpose
 * Address Registries plus the multicast blocks from the multicast registries. */
struct addr_block {
	const char *cidr;	/* "192.168.0.0/16" */
	ik_u128 base;		/* the network as an integer */
	unsigned prefix;
	const char *type;	/* stable key: "private", "loopback", ... */
	const char *name;	/* the registry's name: "Private-Use" */
	const char *rfc;	/* "RFC 1918" */
	int global;		/* registry's Globally Reachable: 1, 0, or -1 (N/A) */
};

struct addr_class {
	const char *type;		/* key of the most specific block, or "global" / "reserved" */
	const char *name;
	const char *rfc;
	const struct addr_block *block;	/* NULL when no block matched */
	unsigned flags;			/* ADDR_IS_* */
	char ipv4_class;		/* 'A'..'E' by leading bits; 0 for IPv6 */
};

/* Type and flags of one address (the prefix plays no part). is_global is
 * the registry's Globally Reachable of the most specific block that has
 * one (N/A looks further out); no block means globally reachable. Three
 * refinements: 6to4 (2002::/16) takes the values of its embedded IPv4
 * address; multicast follows its scope (IPv6 scope e is global; IPv4
 * 224.0.0.0/24 and 239/8 are not); fec0::/10 counts as reserved. */
void addr_classify(const struct ik_addr *a, struct addr_class *out);

/* The table for AF_INET or AF_INET6, and its length. */
const struct addr_block *addr_blocks(int family, size_t *n);

/* The IPv4 address inside an IPv6 one: IPv4-mapped, NAT64 (64:ff9b::/96),
 * 6to4 (2002:V4ADDR::/48) or Teredo (the client, un-obfuscated). Returns
 * the kind ("ipv4-mapped", "nat64", "6to4", "teredo") or NULL. */
const char *addr_embedded_ipv4(const struct ik_addr *a, struct ik_addr *v4);

/* ---- legacy and numeric forms -------------------------------------- */

enum {
	ADDR_ATON_SHORT = 1u << 0,	/* fewer than four parts */
	ADDR_ATON_OCTAL = 1u << 1,	/* a part with a leading 0 */
	ADDR_ATON_HEX = 1u << 2,	/* a part with 0x */
	ADDR_ATON_LEGACY = ADDR_ATON_SHORT | ADDR_ATON_OCTAL | ADDR_ATON_HEX,
	ADDR_NUM_BYTES = 1u << 3,	/* hex bytes without 0x: c6a80102, c6 a8 01 02 */
	ADDR_NUM_PYBYTES = 1u << 4,	/* a Python bytes literal: b'\xc6\xa8\x01\x02' */
};

/* inet_aton(3)'s forms: a, a.b, a.b.c or a.b.c.d, each part decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes.
 * Strict where inet_aton is lax: no trailing text. *forms gets ADDR_ATON_*
 * for whatever makes the text legacy (0 for a plain dotted quad). */
int addr_aton_legacy(const char *s, size_t len, struct ik_addr *out, unsigned *forms,
		     ik_err *e);

/* A number as an address: decimal, 0x hex or 0-led octal, up to 128 bits.
 * family 0 is IPv4: a value above 32 bits is an error that asks for
 * AF_INET6 (-6), since such a number is more often a mistake than IPv6. */
int addr_from_number(const char *s, size_t len, int family, struct ik_addr *out,
		     unsigned *forms, ik_err *e);

/* What a user copies into inet_ntoa: a number (addr_from_number), hex
 * bytes in network order without 0x (8 or 32 digits with a letter a-f:
 * "c6a80102"; or groups of whole bytes: "c6 a8 01 02"), or a Python bytes
 * literal (b'\xc6\xa8\x01\x02', '\xc6\xa8\x01\x02', "b'ABCD'", and the
 * b\xc6\xa8\x01\x02 that a shell leaves of b'\xc6\xa8\x01\x02' unquoted).
 * Four bytes are IPv4 and sixteen IPv6, whatever family says (it must
 * agree when not 0). Spaces around the text are ignored. */
int addr_from_ntoa_text(const char *s, size_t len, int family, struct ik_addr *out,
			unsigned *forms, ik_err *e);

#endif
