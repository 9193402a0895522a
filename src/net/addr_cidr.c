/* CIDR arithmetic (RFC 4632): network and host ranges with RFC 3021 (/31)
 * and RFC 6164 (/127) point-to-point links, containment, subnet split, and
 * the minimal CIDR cover of a set of ranges.
 *
 * Everything is done on 128-bit integers; an IPv4 address is the same
 * value in the low 32 bits, so one code path serves both families. The one
 * number that does not fit, 2^128 addresses in ::/0, is never formed: sizes
 * are kept as powers of two and counts as "minus one". */
#include "net/addr.h"

#include <stdlib.h>
#include <string.h>

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

void addr_net_info(const struct ik_net *n, struct addr_net_info *out)
{
	int f = n->addr.family;
	unsigned bits = family_bits(f);
	ik_u128 mask = addr_mask(f, n->prefix);
	ik_u128 all = addr_mask(f, bits);
	ik_u128 v = addr_to_u128(&n->addr);
	ik_u128 net = v & mask, last = net | (all & ~mask);
	unsigned host_bits = bits - n->prefix;

	memset(out, 0, sizeof *out);
	addr_from_u128(&out->network, f, net);
	addr_from_u128(&out->last, f, last);
	addr_from_u128(&out->netmask, f, mask);
	addr_from_u128(&out->wildcard, f, all & ~mask);
	out->size_log2 = host_bits;
	ik_u128 first_host = net, last_host = last;
	if (host_bits == 0) {
		out->hosts = 1;
	} else if (host_bits == 1) {
		out->hosts = 2;
	} else if (f == AF_INET) {
		out->has_broadcast = true;
		first_host = net + 1;
		last_host = last - 1;
		out->hosts = ((ik_u128)1 << host_bits) - 2;
	} else {
		/* The Subnet-Router anycast address is the network address. */
		first_host = net + 1;
		out->hosts = host_bits == 128 ? ~(ik_u128)0 : ((ik_u128)1 << host_bits) - 1;
	}
	addr_from_u128(&out->first_host, f, first_host);
	addr_from_u128(&out->last_host, f, last_host);
}

bool addr_contains(const struct ik_net *n, const struct ik_addr *a)
{
	if (a->family != n->addr.family)
		return false;
	if (n->addr.zone[0] != '\0' && strcmp(n->addr.zone, a->zone) != 0)
		return false;
	ik_u128 mask = addr_mask(a->family, n->prefix);
	return (addr_to_u128(a) & mask) == (addr_to_u128(&n->addr) & mask);
}

bool addr_net_contains(const struct ik_net *outer, const struct ik_net *inner)
{
	return inner->prefix >= outer->prefix && addr_contains(outer, &inner->addr);
}

int addr_split_init(struct addr_split *it, const struct ik_net *n, unsigned new_prefix,
		    ik_err *e)
{
	unsigned bits = addr_bits(&n->addr);
	if (new_prefix > bits)
		return ik_err_set(e, "prefix %u is out of range 0\u2013%u", new_prefix, bits);
	if (new_prefix < n->prefix)
		return ik_err_set(e, "prefix /%u is shorter than the network's /%u; a split needs "
				  "a longer prefix", new_prefix, n->prefix);
	memset(it, 0, sizeof *it);
	it->family = n->addr.family;
	it->prefix = new_prefix;
	it->next = addr_to_u128(&n->addr) & addr_mask(it->family, n->prefix);
	unsigned k = new_prefix - n->prefix;
	it->left = k == 128 ? ~(ik_u128)0 : ((ik_u128)1 << k) - 1;
	return 0;
}

bool addr_split_next(struct addr_split *it, struct ik_net *out)
{
	if (it->done)
		return false;
	addr_from_u128(&out->addr, it->family, it->next);
	out->prefix = it->prefix;
	if (it->left == 0) {
		it->done = true;
	} else {
		it->left--;
		it->next += (ik_u128)1 << (family_bits(it->family) - it->prefix);
	}
	return true;
}

void addr_span_from_net(const struct ik_net *n, struct addr_span *out)
{
	int f = n->addr.family;
	ik_u128 mask = addr_mask(f, n->prefix);
	out->family = f;
	out->lo = addr_to_u128(&n->addr) & mask;
	out->hi = out->lo | (addr_mask(f, family_bits(f)) & ~mask);
}

int addr_parse_span(const char *s, size_t len, struct addr_span *out, ik_err *e)
{
	const char *dash = memchr(s, '-', len);
	if (dash == NULL) {
		struct ik_net n;
		if (addr_parse(s, len, &n, e) < 0)
			return -1;
		if (n.addr.zone[0] != '\0')
			return ik_err_set(e, "a zone id has no place in a range or network list");
		addr_span_from_net(&n, out);
		return 0;
	}
	size_t al = (size_t)(dash - s), bl = len - al - 1;
	struct ik_addr a, b;
	if (al == 0 || bl == 0)
		return ik_err_set(e, "a range is written FIRST-LAST, with an address on each side "
				  "of '-'");
	if (memchr(dash + 1, '-', bl) != NULL)
		return ik_err_set(e, "more than one '-' in a range");
	if (addr_parse_addr(s, al, &a, e) < 0)
		return ik_err_prefix(e, "range start '%.*s'", (int)al, s);
	if (addr_parse_addr(dash + 1, bl, &b, e) < 0)
		return ik_err_prefix(e, "range end '%.*s'", (int)bl, dash + 1);
	if (a.zone[0] != '\0' || b.zone[0] != '\0')
		return ik_err_set(e, "a zone id has no place in a range");
	if (a.family != b.family)
		return ik_err_set(e, "a range must not mix IPv4 and IPv6");
	if (addr_compare(&a, &b) > 0)
		return ik_err_set(e, "range start %.*s comes after its end %.*s", (int)al, s,
				  (int)bl, dash + 1);
	out->family = a.family;
	out->lo = addr_to_u128(&a);
	out->hi = addr_to_u128(&b);
	return 0;
}

static int span_cmp(const void *x, const void *y)
{
	const struct addr_span *a = x, *b = y;
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

size_t addr_summarize(struct addr_span *spans, size_t n)
{
	if (n == 0)
		return 0;
	qsort(spans, n, sizeof *spans, span_cmp);
	size_t w = 0;
	for (size_t r = 1; r < n; r++) {
		struct addr_span *cur = &spans[w], *s = &spans[r];
		/* Adjacent counts as touching: [a, b] and [b+1, c] merge. The
		 * all-ones hi cannot be followed, so test it before adding one. */
		if (s->family == cur->family &&
		    (cur->hi == addr_mask(cur->family, family_bits(cur->family)) ||
		     s->lo <= cur->hi + 1)) {
			if (s->hi > cur->hi)
				cur->hi = s->hi;
			continue;
		}
		spans[++w] = *s;
	}
	return w + 1;
}

void addr_cover_init(struct addr_cover *c, const struct addr_span *s)
{
	c->family = s->family;
	c->lo = s->lo;
	c->hi = s->hi;
	c->done = false;
}

static unsigned ctz128(ik_u128 v)
{
	uint64_t lo = (uint64_t)v;
	if (lo != 0)
		return (unsigned)__builtin_ctzll(lo);
	return 64 + (unsigned)__builtin_ctzll((uint64_t)(v >> 64));
}

static unsigned log2_floor128(ik_u128 v)	/* v > 0 */
{
	uint64_t hi = (uint64_t)(v >> 64);
	if (hi != 0)
		return 127 - (unsigned)__builtin_clzll(hi);
	return 63 - (unsigned)__builtin_clzll((uint64_t)v);
}

bool addr_cover_next(struct addr_cover *c, struct ik_net *out)
{
	if (c->done)
		return false;
	unsigned bits = family_bits(c->family);
	ik_u128 all = addr_mask(c->family, bits);
	/* The largest block that starts at lo (alignment) and ends by hi (size). */
	unsigned k = c->lo == 0 ? bits : ctz128(c->lo);
	ik_u128 span_minus_one = c->hi - c->lo;
	unsigned fit = span_minus_one == all ? bits : log2_floor128(span_minus_one + 1);
	if (fit < k)
		k = fit;
	addr_from_u128(&out->addr, c->family, c->lo);
	out->prefix = bits - k;
	ik_u128 block_last = k == bits ? all : c->lo + (((ik_u128)1 << k) - 1);
	if (block_last == c->hi)
		c->done = true;
	else
		c->lo = block_last + 1;
	return true;
}
