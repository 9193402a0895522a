/* Link layer: Ethernet II and 802.1Q/802.1ad tags (IEEE 802.3, 802.1Q),
 * Linux cooked capture v1 and v2 (tcpdump.org linktypes 113 and 276), BSD
 * null/loopback (0, 108) and raw IP (12, 101, 228, 229). The link header
 * says which network protocol follows; nothing past caplen is read. */
#include <string.h>

#include "lib/str.h"
#include "trace/decode.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t bad(struct tr_link *l, enum tr_status s, const char *why)
{
	l->status = s;
	str_copy(l->why, sizeof l->why, why);
	return 0;
}

#define ETH_HDR 14
#define VLAN_TAG 4
#define VLAN_MAX 2	/* 802.1ad: an outer and an inner tag */
#define SLL_HDR 16
#define SLL2_HDR 20
#define NULL_HDR 4

static size_t ethernet(const uint8_t *p, size_t caplen, struct tr_link *l)
{
	l->kind = TR_LINK_ETH;
	if (caplen < ETH_HDR)
		return bad(l, TR_TRUNCATED, "shorter than an Ethernet header");
	memcpy(l->dst, p, 6);
	memcpy(l->src, p + 6, 6);
	l->addr_len = 6;
	size_t off = 12;
	uint16_t type = be16(p + off);
	while ((type == 0x8100 || type == 0x88a8) && l->vlan_tags < VLAN_MAX) {
		if (caplen < off + 2 + VLAN_TAG)
			return bad(l, TR_TRUNCATED, "cut inside a VLAN tag");
		if (l->vlan_tags == 0)
			l->vlan = be16(p + off + 2) & 0x0fff;
		l->vlan_tags++;
		off += VLAN_TAG;
		type = be16(p + off);
	}
	l->hdr_len = off + 2;
	l->status = TR_OK;
	/* Below 0x0600 the field is an 802.3 length: LLC follows, not IP. */
	l->ethertype = type >= 0x0600 ? type : 0;
	return l->ethertype != 0 ? l->hdr_len : 0;
}

static size_t sll(const uint8_t *p, size_t caplen, struct tr_link *l)
{
	l->kind = TR_LINK_SLL;
	if (caplen < SLL_HDR)
		return bad(l, TR_TRUNCATED, "shorter than a cooked (SLL) header");
	l->pkttype = be16(p);
	uint16_t alen = be16(p + 4);
	l->addr_len = (uint8_t)(alen > 8 ? 8 : alen);
	memcpy(l->src, p + 6, l->addr_len);
	l->ethertype = be16(p + 14);
	l->hdr_len = SLL_HDR;
	l->status = TR_OK;
	if (alen > 8)
		return bad(l, TR_MALFORMED, "SLL address length over 8");
	return l->hdr_len;
}

static size_t sll2(const uint8_t *p, size_t caplen, struct tr_link *l)
{
	l->kind = TR_LINK_SLL2;
	if (caplen < SLL2_HDR)
		return bad(l, TR_TRUNCATED, "shorter than a cooked (SLL2) header");
	l->ethertype = be16(p);
	l->ifindex = be32(p + 4);
	l->pkttype = p[10];
	uint8_t alen = p[11];
	l->addr_len = alen > 8 ? 8 : alen;
	memcpy(l->src, p + 12, l->addr_len);
	l->hdr_len = SLL2_HDR;
	l->status = TR_OK;
	if (alen > 8)
		return bad(l, TR_MALFORMED, "SLL2 address length over 8");
	return l->hdr_len;
}

/* BSD AF_INET6 differs by system (24, 28, 30; Linux 10). */
static uint16_t family_type(uint32_t f)
{
	if (f == 2)
		return TR_ETH_IPV4;
	if (f == 10 || f == 24 || f == 28 || f == 30)
		return TR_ETH_IPV6;
	return 0;
}

static size_t null_loop(int dlt, const uint8_t *p, size_t caplen, struct tr_link *l)
{
	l->kind = TR_LINK_NULL;
	if (caplen < NULL_HDR)
		return bad(l, TR_TRUNCATED, "shorter than a loopback header");
	/* DLT_NULL is in the byte order of the machine that wrote the file:
	 * take whichever order gives a family we know. */
	uint32_t bef = be32(p);
	uint32_t lef = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	l->family = dlt == TR_DLT_LOOP || family_type(bef) != 0 ? bef : lef;
	l->ethertype = family_type(l->family);
	l->hdr_len = NULL_HDR;
	l->status = TR_OK;
	return l->ethertype != 0 ? l->hdr_len : 0;
}

static size_t raw(int dlt, const uint8_t *p, size_t caplen, struct tr_link *l)
{
	l->kind = TR_LINK_RAW;
	l->hdr_len = 0;
	l->status = TR_OK;
	if (dlt == TR_DLT_IPV4)
		l->ethertype = TR_ETH_IPV4;
	else if (dlt == TR_DLT_IPV6)
		l->ethertype = TR_ETH_IPV6;
	else if (caplen < 1)
		return bad(l, TR_TRUNCATED, "empty packet");
	else
		l->ethertype = p[0] >> 4 == 4 ? TR_ETH_IPV4 : p[0] >> 4 == 6 ? TR_ETH_IPV6 : 0;
	return 0;
}

size_t tr_decode_link(int dlt, const uint8_t *p, size_t caplen, struct tr_link *l)
{
	memset(l, 0, sizeof *l);
	switch (dlt) {
	case TR_DLT_EN10MB: return ethernet(p, caplen, l);
	case TR_DLT_LINUX_SLL: return sll(p, caplen, l);
	case TR_DLT_LINUX_SLL2: return sll2(p, caplen, l);
	case TR_DLT_NULL:
	case TR_DLT_LOOP: return null_loop(dlt, p, caplen, l);
	case TR_DLT_RAW:
	case TR_DLT_RAW_BSD:
	case TR_DLT_IPV4:
	case TR_DLT_IPV6: return raw(dlt, p, caplen, l);
	default:
		l->kind = TR_LINK_NONE;
		return bad(l, TR_MALFORMED, "link type not decoded");
	}
}
