/* tr_decode: the layer decoders chained, each given only the bytes the
 * layer below says are its payload (see decode.h). */
#include <string.h>

#include "trace/decode.h"

const char *tr_status_name(enum tr_status s)
{
	switch (s) {
	case TR_OK: return "ok";
	case TR_TRUNCATED: return "truncated";
	case TR_MALFORMED: return "malformed";
	default: return "absent";
	}
}

const char *tr_csum_name(enum tr_csum c)
{
	switch (c) {
	case TR_CSUM_OK: return "ok";
	case TR_CSUM_BAD: return "bad";
	case TR_CSUM_NONE: return "none";
	default: return "unverified";
	}
}

const char *tr_app_name(enum tr_app_proto p)
{
	static const char *const names[] = {"none", "data", "ftp", "smtp", "pop3", "imap", "http", "dns"};
	return (size_t)p < sizeof names / sizeof names[0] ? names[p] : "none";
}

static enum tr_status worse(enum tr_status a, enum tr_status b)
{
	return a > b ? a : b;
}

enum tr_status tr_packet_status(const struct tr_packet *pk)
{
	enum tr_status s = worse(pk->link.status, pk->ip.status);
	s = worse(s, pk->tcp.status);
	s = worse(s, pk->udp.status);
	s = worse(s, pk->app.status);
	if (s == TR_ABSENT)
		s = TR_OK;
	/* A packet cut by the snaplen is truncated even if every header
	 * was whole. */
	if (s == TR_OK && pk->caplen < pk->wirelen)
		s = TR_TRUNCATED;
	return s;
}

void tr_decode(int dlt, const uint8_t *p, size_t caplen, size_t wirelen, struct tr_packet *pk)
{
	memset(pk, 0, sizeof *pk);
	if (wirelen < caplen)
		wirelen = caplen;
	pk->caplen = caplen;
	pk->wirelen = wirelen;
	tr_decode_link(dlt, p, caplen, &pk->link);
	if (pk->link.status == TR_TRUNCATED || pk->link.kind == TR_LINK_NONE ||
	    (pk->link.ethertype != TR_ETH_IPV4 && pk->link.ethertype != TR_ETH_IPV6))
		return;
	size_t off = pk->link.hdr_len;
	pk->net_off = off;
	size_t hl = tr_decode_ip(p + off, caplen - off, wirelen - off, &pk->ip);
	if (hl == 0 || pk->ip.fragment)
		return;
	/* Ethernet pads short frames: the IP length, not the frame's, says
	 * where the transport ends. */
	size_t t_wire = pk->ip.total_len - hl;
	size_t t_cap = caplen - off - hl;
	if (t_cap > t_wire)
		t_cap = t_wire;
	off += hl;
	pk->trans_off = off;
	size_t th = 0;
	uint16_t sport = 0, dport = 0;
	if (pk->ip.proto == 6) {
		th = tr_decode_tcp(p + off, t_cap, t_wire, &pk->ip, &pk->tcp);
		sport = pk->tcp.sport;
		dport = pk->tcp.dport;
	} else if (pk->ip.proto == 17) {
		th = tr_decode_udp(p + off, t_cap, t_wire, &pk->ip, &pk->udp);
		if (th != 0)
			t_wire = pk->udp.length;	/* checked <= t_wire */
		if (t_cap > t_wire)
			t_cap = t_wire;
		sport = pk->udp.sport;
		dport = pk->udp.dport;
	}
	if (th == 0)
		return;
	pk->app_off = off + th;
	pk->app_len = t_cap - th;
	pk->app_wire_len = t_wire - th;
	/* A later IPv4 fragment never gets here; a first one (MF) holds
	 * only the start of the payload. */
	tr_decode_app(pk->ip.proto, sport, dport, p + pk->app_off, pk->app_len, pk->app_wire_len,
		      &pk->app);
}
