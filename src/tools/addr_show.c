/* The report for one address: a JSON Lines record or the human table.
 *
 * The JSON record is the batch-mode hot path (a million lines a second is
 * the target), so it is written by hand straight into the output buffer:
 * constant key text is copied, values come from the net/addr formatters.
 * The keys and their order are documented in docs/inetkit-addr.1 and are
 * a stable interface. No value needs JSON escaping: every string is made
 * of address characters, and the input echoed back has passed addr_parse,
 * which admits no quote, backslash or control byte. */
#include <string.h>

#include "lib/str.h"
#include "tools/addr_tool.h"

/* 2^128 does not fit in 128 bits; it is only ever printed. */
static const char two_128[] = "340282366920938463463374607431768211456";

#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

static char *put_bool(char *p, bool v)
{
	return v ? LIT(p, "true") : LIT(p, "false");
}

static char *put_addr(char *p, const struct ik_addr *a)
{
	return p + addr_format(a, p, ADDR_TEXT_MAX);
}

static char *put_u128(char *p, ik_u128 v)
{
	return p + addr_format_u128(v, p, ADDR_NUMBER_MAX);
}

static char *put_pow2(char *p, unsigned log2)
{
	if (log2 == 128)
		return LIT(p, two_128);
	return put_u128(p, (ik_u128)1 << log2);
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

static void show_json(struct addr_ctx *ctx, const char *input, size_t ilen, const struct ik_net *n)
{
	struct addr_net_info ni;
	struct addr_class c;
	struct ik_addr v4;
	const struct ik_addr *a = &n->addr;
	bool v6 = a->family == AF_INET6;
	addr_net_info(n, &ni);
	addr_classify(a, &c);
	const char *emb = addr_embedded_ipv4(a, &v4);

	char *p = addr_out_reserve(&ctx->out, ADDR_RECORD_MAX);
	p = LIT(p, "{\"input\":\"");
	memcpy(p, input, ilen);
	p += ilen;
	p = LIT(p, "\",\"address\":\"");
	p = put_addr(p, a);
	p = v6 ? LIT(p, "\",\"version\":6,\"zone\":") : LIT(p, "\",\"version\":4,\"zone\":");
	if (a->zone[0] != '\0') {
		*p++ = '"';
		p = put_str(p, a->zone);
		*p++ = '"';
	} else {
		p = LIT(p, "null");
	}
	p = LIT(p, ",\"prefix\":");
	p += addr_format_u128(n->prefix, p, ADDR_NUMBER_MAX);
	p = LIT(p, ",\"cidr\":\"");
	p = put_addr(p, &ni.network);
	*p++ = '/';
	p += addr_format_u128(n->prefix, p, ADDR_NUMBER_MAX);
	p = LIT(p, "\",\"network\":\"");
	p = put_addr(p, &ni.network);
	p = LIT(p, "\",\"netmask\":\"");
	p = put_addr(p, &ni.netmask);
	p = LIT(p, "\",\"wildcard\":\"");
	p = put_addr(p, &ni.wildcard);
	p = LIT(p, "\",\"broadcast\":");
	if (ni.has_broadcast) {
		*p++ = '"';
		p = put_addr(p, &ni.last);
		*p++ = '"';
	} else {
		p = LIT(p, "null");
	}
	p = LIT(p, ",\"first_host\":\"");
	p = put_addr(p, &ni.first_host);
	p = LIT(p, "\",\"last_host\":\"");
	p = put_addr(p, &ni.last_host);
	p = LIT(p, "\",\"addresses\":");
	p = put_pow2(p, ni.size_log2);
	p = LIT(p, ",\"hosts\":");
	p = put_u128(p, ni.hosts);
	p = LIT(p, ",\"class\":");
	if (c.ipv4_class != 0) {
		*p++ = '"';
		*p++ = c.ipv4_class;
		*p++ = '"';
	} else {
		p = LIT(p, "null");
	}
	p = LIT(p, ",\"type\":\"");
	p = put_str(p, c.type);
	p = LIT(p, "\",\"type_name\":\"");
	p = put_str(p, c.name);
	p = LIT(p, "\",\"rfc\":\"");
	p = put_str(p, c.rfc);
	p = LIT(p, "\",\"registry_block\":");
	if (c.block != NULL) {
		*p++ = '"';
		p = put_str(p, c.block->cidr);
		*p++ = '"';
	} else {
		p = LIT(p, "null");
	}
	p = LIT(p, ",\"is_private\":");
	p = put_bool(p, c.flags & ADDR_IS_PRIVATE);
	p = LIT(p, ",\"is_global\":");
	p = put_bool(p, c.flags & ADDR_IS_GLOBAL);
	p = LIT(p, ",\"is_loopback\":");
	p = put_bool(p, c.flags & ADDR_IS_LOOPBACK);
	p = LIT(p, ",\"is_multicast\":");
	p = put_bool(p, c.flags & ADDR_IS_MULTICAST);
	p = LIT(p, ",\"is_link_local\":");
	p = put_bool(p, c.flags & ADDR_IS_LINK_LOCAL);
	p = LIT(p, ",\"is_reserved\":");
	p = put_bool(p, c.flags & ADDR_IS_RESERVED);
	p = LIT(p, ",\"is_unspecified\":");
	p = put_bool(p, c.flags & ADDR_IS_UNSPECIFIED);
	if (emb != NULL) {
		p = LIT(p, ",\"embedded_ipv4\":\"");
		p = put_addr(p, &v4);
		p = LIT(p, "\",\"embedded_kind\":\"");
		p = put_str(p, emb);
		*p++ = '"';
	} else {
		p = LIT(p, ",\"embedded_ipv4\":null,\"embedded_kind\":null");
	}
	p = LIT(p, ",\"reverse_dns\":\"");
	p += addr_reverse_name(a, p, ADDR_REVERSE_MAX);
	p = LIT(p, "\",\"integer\":");
	p = put_u128(p, addr_to_u128(a));
	p = LIT(p, ",\"hex\":\"");
	p += addr_format_hex(a, p, ADDR_NUMBER_MAX);
	p = LIT(p, "\",\"binary\":\"");
	p += addr_format_binary(a, p, ADDR_BINARY_MAX);
	p = LIT(p, "\",\"expanded\":\"");
	p += addr_format_full(a, p, ADDR_TEXT_MAX);
	p = LIT(p, "\"}\n");
	addr_out_commit(&ctx->out, p);
}

/* "Label:        value\n" with the label in bold on a terminal. */
static void row(struct addr_ctx *ctx, const char *label, const char *color, const char *value)
{
	char line[512];
	int n = str_fmt(line, sizeof line, "%s%-14s%s %s%s%s\n", ctx->col.bold, label,
			ctx->col.reset, color, value, ctx->col.reset);
	if (n > 0)
		addr_out_add(&ctx->out, line, (size_t)n);
}

static void flag_names(unsigned flags, char *buf, size_t bufsz)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ADDR_IS_GLOBAL, "global"}, {ADDR_IS_PRIVATE, "private"},
		{ADDR_IS_LOOPBACK, "loopback"}, {ADDR_IS_MULTICAST, "multicast"},
		{ADDR_IS_LINK_LOCAL, "link-local"}, {ADDR_IS_RESERVED, "reserved"},
		{ADDR_IS_UNSPECIFIED, "unspecified"},
	};
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & names[i].bit))
			continue;
		int k = str_fmt(buf + o, bufsz - o, "%s%s", o ? ", " : "", names[i].name);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o == 0)
		str_copy(buf, bufsz, "none (neither private nor globally reachable)");
}

static void show_human(struct addr_ctx *ctx, const struct ik_net *n)
{
	struct addr_net_info ni;
	struct addr_class c;
	struct ik_addr v4;
	const struct ik_addr *a = &n->addr;
	bool v6 = a->family == AF_INET6;
	char t[ADDR_BINARY_MAX], t2[ADDR_TEXT_MAX], line[400];
	const struct term_colors *col = &ctx->col;
	addr_net_info(n, &ni);
	addr_classify(a, &c);

	if (ctx->records++ > 0)
		addr_out_add(&ctx->out, "\n", 1);
	addr_format(a, t, sizeof t);
	row(ctx, "Address:", col->cyan, t);
	if (v6) {
		addr_format_full(a, t, sizeof t);
		row(ctx, "Expanded:", "", t);
	}
	row(ctx, "Version:", "", v6 ? "IPv6" : "IPv4");
	if (!v6) {
		char cls[2] = {c.ipv4_class, '\0'};
		row(ctx, "Class:", "", cls);
	}
	if (c.block != NULL)
		str_fmt(line, sizeof line, "%s (%s, %s, block %s)", c.type, c.name, c.rfc,
			c.block->cidr);
	else
		str_fmt(line, sizeof line, "%s (%s, %s)", c.type, c.name, c.rfc);
	row(ctx, "Type:", col->yellow, line);
	flag_names(c.flags, line, sizeof line);
	row(ctx, "Flags:", col->green, line);
	const char *emb = addr_embedded_ipv4(a, &v4);
	if (emb != NULL) {
		addr_format(&v4, t, sizeof t);
		str_fmt(line, sizeof line, "%s (%s)", t, emb);
		row(ctx, "Embedded IPv4:", "", line);
	}
	addr_format(&ni.network, t, sizeof t);
	str_fmt(line, sizeof line, "%s/%u", t, n->prefix);
	row(ctx, "Network:", col->cyan, line);
	addr_format(&ni.netmask, t, sizeof t);
	str_fmt(line, sizeof line, "%s = /%u", t, n->prefix);
	row(ctx, "Netmask:", "", line);
	addr_format(&ni.wildcard, t, sizeof t);
	row(ctx, "Wildcard:", "", t);
	if (!v6) {
		if (ni.has_broadcast)
			addr_format(&ni.last, t, sizeof t);
		else
			str_fmt(t, sizeof t, "none (/%u%s)", n->prefix,
				n->prefix == 31 ? ", RFC 3021" : "");
		row(ctx, "Broadcast:", "", t);
	}
	addr_format(&ni.first_host, t, sizeof t);
	row(ctx, "First host:", "", t);
	addr_format(&ni.last_host, t, sizeof t);
	row(ctx, "Last host:", "", t);
	addr_format_u128(ni.hosts, t, sizeof t);
	row(ctx, "Hosts:", "", t);
	if (ni.size_log2 == 128)
		str_copy(t2, sizeof t2, two_128);
	else
		addr_format_u128((ik_u128)1 << ni.size_log2, t2, sizeof t2);
	str_fmt(line, sizeof line, "%s (2^%u)", t2, ni.size_log2);
	row(ctx, "Addresses:", "", line);
	addr_reverse_name(a, line, sizeof line);
	row(ctx, "Reverse DNS:", "", line);
	addr_format_u128(addr_to_u128(a), t, sizeof t);
	row(ctx, "Integer:", "", t);
	addr_format_hex(a, t, sizeof t);
	row(ctx, "Hex:", "", t);
	addr_format_binary(a, t, sizeof t);
	row(ctx, "Binary:", "", t);
}

void addr_show(struct addr_ctx *ctx, const char *input, size_t ilen, const struct ik_net *n)
{
	if (ctx->json)
		show_json(ctx, input, ilen, n);
	else
		show_human(ctx, n);
}
