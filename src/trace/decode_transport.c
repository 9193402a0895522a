/* Transport layer: TCP (RFC 9293) with its options — MSS (RFC 9293 3.2),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK blocks
 * (RFC 2018) — and UDP (RFC 768). Checksums are verified over the pseudo
 * header (RFC 9293 3.1, RFC 8200 8.1) when the whole segment was captured;
 * a capture on loopback often shows "bad" ones that the kernel never
 * filled in (checksum offload), so a bad checksum is shown, not refused. */
#include <string.h>

#include "lib/str.h"
#include "trace/decode.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checksum of a segment of length len (header included) over the
 * pseudo-header: OK, BAD, or UNVERIFIED if not all of it was captured. */
static enum tr_csum verify(const uint8_t *p, size_t caplen, size_t len, const struct tr_ip *ip)
{
	if (caplen < len || ip == NULL || ip->fragment || ip->mf || len > 0xffff)
		return TR_CSUM_UNVERIFIED;
	size_t alen = ip->version == 4 ? 4 : 16;
	uint32_t s = tr_sum(ip->src, alen, 0);
	s = tr_sum(ip->dst, alen, s);
	s += ip->proto;
	s += (uint32_t)len;
	s = tr_sum(p, len, s);
	return tr_fold(s) == 0xffff ? TR_CSUM_OK : TR_CSUM_BAD;
}

static size_t tcp_bad(struct tr_tcp *t, enum tr_status s, const char *why)
{
	t->status = s;
	str_copy(t->why, sizeof t->why, why);
	return 0;
}

#define TCP_MIN 20
#define UDP_HDR 8

static void tcp_options(const uint8_t *o, size_t n, struct tr_tcp *t)
{
	size_t i = 0;
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
			t->opt_bad = true;
			return;
		}
		size_t len = o[i + 1];
		const uint8_t *v = o + i + 2;
		switch (kind) {
		case 2:
			if (len == 4) {
				t->has_mss = true;
				t->mss = be16(v);
			} else {
				t->opt_bad = true;
			}
			break;
		case 3:
			if (len == 3) {
				t->has_wscale = true;
				t->wscale = v[0];
			} else {
				t->opt_bad = true;
			}
			break;
		case 4:
			t->sack_perm = len == 2;
			t->opt_bad |= len != 2;
			break;
		case 5:
			if ((len - 2) % 8 != 0 || len == 2) {
				t->opt_bad = true;
				break;
			}
			for (size_t b = 0; b < (len - 2) / 8 && t->sack_count < TR_SACK_MAX; b++) {
				t->sack[t->sack_count][0] = be32(v + b * 8);
				t->sack[t->sack_count][1] = be32(v + b * 8 + 4);
				t->sack_count++;
			}
			break;
		case 8:
			if (len == 10) {
				t->has_ts = true;
				t->ts_val = be32(v);
				t->ts_ecr = be32(v + 4);
			} else {
				t->opt_bad = true;
			}
			break;
		default:
			break;
		}
		i += len;
	}
}

size_t tr_decode_tcp(const uint8_t *p, size_t caplen, size_t wirelen, const struct tr_ip *ip,
		     struct tr_tcp *t)
{
	memset(t, 0, sizeof *t);
	if (caplen < TCP_MIN)
		return tcp_bad(t, wirelen < TCP_MIN ? TR_MALFORMED : TR_TRUNCATED,
			       wirelen < TCP_MIN ? "shorter than a TCP header"
						 : "capture cut inside the TCP header");
	t->sport = be16(p);
	t->dport = be16(p + 2);
	t->seq = be32(p + 4);
	t->ack = be32(p + 8);
	t->hdr_len = (size_t)(p[12] >> 4) * 4;
	t->flags = p[13];
	t->window = be16(p + 14);
	t->checksum = be16(p + 16);
	t->urgent = be16(p + 18);
	if (t->hdr_len < TCP_MIN)
		return tcp_bad(t, TR_MALFORMED, "TCP data offset under 5 words");
	if (t->hdr_len > wirelen)
		return tcp_bad(t, TR_MALFORMED, "TCP header longer than the segment");
	size_t have = caplen < t->hdr_len ? caplen : t->hdr_len;
	tcp_options(p + TCP_MIN, have - TCP_MIN, t);
	if (caplen < t->hdr_len)
		return tcp_bad(t, TR_TRUNCATED, "capture cut inside the TCP options");
	t->csum = verify(p, caplen, wirelen, ip);
	t->status = t->opt_bad ? TR_MALFORMED : TR_OK;
	if (t->opt_bad)
		str_copy(t->why, sizeof t->why, "a TCP option has a bad length");
	return t->hdr_len;
}

size_t tr_decode_udp(const uint8_t *p, size_t caplen, size_t wirelen, const struct tr_ip *ip,
		     struct tr_udp *u)
{
	memset(u, 0, sizeof *u);
	if (caplen < UDP_HDR) {
		u->status = wirelen < UDP_HDR ? TR_MALFORMED : TR_TRUNCATED;
		str_copy(u->why, sizeof u->why, wirelen < UDP_HDR ? "shorter than a UDP header"
								  : "capture cut inside the UDP header");
		return 0;
	}
	u->sport = be16(p);
	u->dport = be16(p + 2);
	u->length = be16(p + 4);
	u->checksum = be16(p + 6);
	if (u->length < UDP_HDR || u->length > wirelen) {
		u->status = TR_MALFORMED;
		str_copy(u->why, sizeof u->why, u->length < UDP_HDR ? "UDP length under 8"
								    : "UDP length past the IP payload");
		return 0;
	}
	/* Zero means "no checksum" over IPv4; IPv6 forbids it (RFC 8200 8.1). */
	if (u->checksum == 0)
		u->csum = TR_CSUM_NONE;
	else
		u->csum = verify(p, caplen, u->length, ip);
	u->status = TR_OK;
	if (u->checksum == 0 && ip != NULL && ip->version == 6) {
		u->status = TR_MALFORMED;
		str_copy(u->why, sizeof u->why, "UDP over IPv6 without a checksum");
	}
	return UDP_HDR;
}
