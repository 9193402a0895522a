/* Network layer: IPv4 (RFC 791; header checksum, RFC 1071) and IPv6 (RFC
 * 8200) with its extension headers (hop-by-hop, routing, fragment,
 * destination options, RFC 4302 AH, RFC 6275 mobility) walked one by one:
 * each length is checked against the header's payload length and against
 * what was captured before the next one is read. */
#include <string.h>

#include "lib/str.h"
#include "trace/decode.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

uint32_t tr_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	/* Fold now and then so a 64 KiB sum cannot overflow 32 bits. */
	return (sum & 0xffff) + (sum >> 16);
}

uint16_t tr_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t bad(struct tr_ip *ip, enum tr_status s, const char *why)
{
	ip->status = s;
	str_copy(ip->why, sizeof ip->why, why);
	return 0;
}

#define IPV4_MIN 20
#define IPV6_HDR 40
#define IPV6_EXT_MAX 16	/* more than any real packet has; stops a chain of thousands */

static size_t ipv4(const uint8_t *p, size_t caplen, size_t wirelen, struct tr_ip *ip)
{
	ip->version = 4;
	if (caplen < IPV4_MIN)
		return bad(ip, wirelen < IPV4_MIN ? TR_MALFORMED : TR_TRUNCATED,
			   wirelen < IPV4_MIN ? "shorter than an IPv4 header"
					      : "capture cut inside the IPv4 header");
	size_t hl = (size_t)(p[0] & 0x0f) * 4;
	ip->hdr_len = hl;
	ip->tos = p[1];
	ip->total_len = be16(p + 2);
	ip->id = be16(p + 4);
	uint16_t ff = be16(p + 6);
	ip->df = (ff & 0x4000) != 0;
	ip->mf = (ff & 0x2000) != 0;
	ip->frag_off = ff & 0x1fff;
	ip->ttl = p[8];
	ip->proto = p[9];
	ip->checksum = be16(p + 10);
	memcpy(ip->src, p + 12, 4);
	memcpy(ip->dst, p + 16, 4);
	if (hl < IPV4_MIN)
		return bad(ip, TR_MALFORMED, "IPv4 header length under 20");
	if (caplen < hl)
		return bad(ip, TR_TRUNCATED, "capture cut inside the IPv4 options");
	ip->checksum_ok = tr_fold(tr_sum(p, hl, 0)) == 0xffff;
	ip->fragment = ip->frag_off != 0;
	if (ip->total_len < hl)
		return bad(ip, TR_MALFORMED, "IPv4 total length under its header length");
	if (ip->total_len > wirelen)
		return bad(ip, TR_MALFORMED, "IPv4 total length past the end of the frame");
	ip->status = TR_OK;
	return hl;
}

/* The extension headers RFC 8200 4 and the IANA registry say are
 * followed by another header. */
static bool is_ext(uint8_t h)
{
	return h == 0 || h == 43 || h == 44 || h == 51 || h == 60 || h == 135 || h == 139 ||
	       h == 140;
}

static size_t ipv6(const uint8_t *p, size_t caplen, size_t wirelen, struct tr_ip *ip)
{
	ip->version = 6;
	if (caplen < IPV6_HDR)
		return bad(ip, wirelen < IPV6_HDR ? TR_MALFORMED : TR_TRUNCATED,
			   wirelen < IPV6_HDR ? "shorter than an IPv6 header"
					      : "capture cut inside the IPv6 header");
	ip->tos = (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
	ip->flow_label = (uint32_t)(p[1] & 0x0f) << 16 | (uint32_t)p[2] << 8 | p[3];
	ip->total_len = IPV6_HDR + (size_t)be16(p + 4);
	uint8_t next = p[6];
	ip->ttl = p[7];
	memcpy(ip->src, p + 8, 16);
	memcpy(ip->dst, p + 24, 16);
	ip->hdr_len = IPV6_HDR;
	if (ip->total_len > wirelen)
		return bad(ip, TR_MALFORMED, "IPv6 payload length past the end of the frame");
	size_t off = IPV6_HDR;
	for (int n = 0; is_ext(next); n++) {
		if (n == IPV6_EXT_MAX)
			return bad(ip, TR_MALFORMED, "too many IPv6 extension headers");
		if (off + 8 > ip->total_len)
			return bad(ip, TR_MALFORMED, "IPv6 extension header past the payload");
		if (off + 8 > caplen)
			return bad(ip, TR_TRUNCATED, "capture cut inside an IPv6 extension header");
		size_t len;
		if (next == 44) {
			len = 8;
			uint16_t fo = be16(p + off + 2);
			if ((fo & 0xfff8) != 0)
				ip->fragment = true;
			ip->mf = (fo & 1) != 0;
			ip->frag_off = fo >> 3;
		} else if (next == 51) {
			len = ((size_t)p[off + 1] + 2) * 4;
		} else {
			len = ((size_t)p[off + 1] + 1) * 8;
		}
		if (ip->ext_count < sizeof ip->ext)
			ip->ext[ip->ext_count] = next;
		ip->ext_count++;
		next = p[off];
		if (off + len > ip->total_len)
			return bad(ip, TR_MALFORMED, "IPv6 extension header past the payload");
		off += len;
		ip->hdr_len = off;
		if (ip->fragment)
			break;
	}
	ip->proto = next;
	if (off > caplen)
		return bad(ip, TR_TRUNCATED, "capture cut inside an IPv6 extension header");
	ip->status = TR_OK;
	return off;
}

size_t tr_decode_ip(const uint8_t *p, size_t caplen, size_t wirelen, struct tr_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (caplen < 1)
		return bad(ip, wirelen < 1 ? TR_MALFORMED : TR_TRUNCATED, "no IP header");
	switch (p[0] >> 4) {
	case 4: return ipv4(p, caplen, wirelen, ip);
	case 6: return ipv6(p, caplen, wirelen, ip);
	default: return bad(ip, TR_MALFORMED, "IP version is neither 4 nor 6");
	}
}
