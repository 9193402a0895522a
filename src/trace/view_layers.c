/* --layers: each packet as nested boxes, one per layer, outermost first,
 * so encapsulation is visible: each box says its OSI layer (ISO/IEC
 * 7498-1) and its TCP/IP layer (RFC 1122 1.1.3), its header's size and
 * the bytes it carries. */
#include <stdarg.h>
#include <string.h>

#include "lib/str.h"
#include "trace/trace.h"

static void bars(struct sbuf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		sbuf_addstr(b, "│ ");
}

static void open_box(struct tr_ctx *x, int depth, const char *name, const char *osi,
		     const char *tcpip, size_t hdr, size_t total)
{
	struct sbuf *b = &x->line;
	bars(b, depth);
	sbuf_printf(b, "┌─ %s%s%s · OSI %s · TCP/IP %s ─ %zu bytes", x->col.bold, name, x->col.reset,
		    osi, tcpip, total);
	if (hdr > 0)
		sbuf_printf(b, " (header %zu + payload %zu)", hdr, total - hdr);
	sbuf_addch(b, '\n');
}

static void row(struct sbuf *b, int depth, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void row(struct sbuf *b, int depth, const char *fmt, ...)
{
	bars(b, depth + 1);
	sbuf_addch(b, ' ');
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(b, fmt, ap);
	va_end(ap);
	sbuf_addch(b, '\n');
}

static void close_box(struct sbuf *b, int depth)
{
	bars(b, depth);
	sbuf_addstr(b, "└─\n");
}

static void status_row(struct sbuf *b, int depth, enum tr_status s, const char *why)
{
	if (s == TR_TRUNCATED || s == TR_MALFORMED)
		row(b, depth, "!! %s: %s", tr_status_name(s), why[0] ? why : "see the bytes below");
}

static void hwaddr(char *out, size_t outsz, const uint8_t *a, size_t n)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (str_fmt(out + k, outsz - k, "%s%02x", i ? ":" : "", a[i]) < 0)
			return;
		k = strlen(out);
	}
}

static void link_rows(struct sbuf *b, const struct tr_link *l)
{
	char s[32], d[32];
	switch (l->kind) {
	case TR_LINK_ETH:
		hwaddr(s, sizeof s, l->src, 6);
		hwaddr(d, sizeof d, l->dst, 6);
		row(b, 0, "Ethernet II  %s → %s  type 0x%04x", s, d, l->ethertype);
		if (l->vlan_tags)
			row(b, 0, "802.1Q VLAN %u (%u tag%s)", l->vlan, l->vlan_tags, l->vlan_tags > 1 ? "s" : "");
		break;
	case TR_LINK_SLL:
	case TR_LINK_SLL2:
		hwaddr(s, sizeof s, l->src, l->addr_len);
		row(b, 0, "Linux cooked capture v%d  %s  from %s  type 0x%04x", l->kind == TR_LINK_SLL ? 1 : 2,
		    l->pkttype == 4 ? "sent by this host" : l->pkttype == 0 ? "to this host" : "seen",
		    s[0] ? s : "-", l->ethertype);
		break;
	case TR_LINK_NULL:
		row(b, 0, "loopback (BSD null)  address family %u", l->family);
		break;
	case TR_LINK_RAW:
		row(b, 0, "raw IP: no link header in the capture");
		break;
	default:
		row(b, 0, "link type not decoded");
	}
	status_row(b, 0, l->status, l->why);
}

static void ip_rows(struct sbuf *b, const struct tr_ip *ip)
{
	char s[64], d[64];
	tr_fmt_addr(ip->version, ip->src, s, sizeof s);
	tr_fmt_addr(ip->version, ip->dst, d, sizeof d);
	if (ip->version == 4) {
		row(b, 1, "IPv4  version 4  header %zu bytes  total length %zu", ip->hdr_len, ip->total_len);
		row(b, 1, "%s → %s", s, d);
		row(b, 1, "TTL %u  protocol %u%s  id 0x%04x%s%s  fragment offset %u", ip->ttl, ip->proto,
		    ip->proto == 6 ? " (TCP)" : ip->proto == 17 ? " (UDP)" : ip->proto == 1 ? " (ICMP)" : "",
		    ip->id, ip->df ? "  DF" : "", ip->mf ? "  MF" : "", ip->frag_off * 8u);
		if (ip->hdr_len >= 20)
			row(b, 1, "header checksum 0x%04x %s", ip->checksum,
			    ip->status == TR_TRUNCATED ? "(not verified: cut)" : ip->checksum_ok ? "verified, ok" : "BAD");
	} else {
		row(b, 1, "IPv6  version 6  payload length %zu  traffic class 0x%02x  flow label 0x%05x",
		    ip->total_len >= 40 ? ip->total_len - 40 : 0, ip->tos, ip->flow_label);
		row(b, 1, "%s → %s", s, d);
		row(b, 1, "hop limit %u  next header %u%s", ip->ttl, ip->proto,
		    ip->proto == 6 ? " (TCP)" : ip->proto == 17 ? " (UDP)" : ip->proto == 58 ? " (ICMPv6)" : "");
		if (ip->ext_count)
			row(b, 1, "%u extension header%s, %zu bytes, skipped", ip->ext_count,
			    ip->ext_count > 1 ? "s" : "", ip->hdr_len - 40);
	}
	status_row(b, 1, ip->status, ip->why);
}

static void tcp_rows(struct sbuf *b, const struct tr_tcp *t, const struct tr_ev *ev)
{
	char fl[40];
	tr_tcp_flag_names(t->flags, fl, sizeof fl);
	row(b, 2, "TCP  port %u → %u  flags [%s]", t->sport, t->dport, fl);
	if (ev->conn != NULL)
		row(b, 2, "seq %u (relative %u)  ack %u%s  window %u  header %zu bytes", t->seq, ev->rel_seq,
		    t->ack, ev->has_rel_ack ? "" : " (unused: no ACK flag)", t->window, t->hdr_len);
	else
		row(b, 2, "seq %u  ack %u  window %u  header %zu bytes", t->seq, t->ack, t->window, t->hdr_len);
	char o[200] = "";
	size_t k = 0;
	if (t->has_mss && str_fmt(o + k, sizeof o - k, " MSS %u", t->mss) > 0)
		k = strlen(o);
	if (t->sack_perm && str_fmt(o + k, sizeof o - k, " SACK-permitted") > 0)
		k = strlen(o);
	if (t->has_wscale && str_fmt(o + k, sizeof o - k, " window-scale %u (×%u)", t->wscale,
				     1u << (t->wscale > 14 ? 14 : t->wscale)) > 0)
		k = strlen(o);
	if (t->has_ts && str_fmt(o + k, sizeof o - k, " timestamps %u/%u", t->ts_val, t->ts_ecr) > 0)
		k = strlen(o);
	for (unsigned i = 0; i < t->sack_count; i++)
		if (str_fmt(o + k, sizeof o - k, " SACK %u-%u", t->sack[i][0], t->sack[i][1]) > 0)
			k = strlen(o);
	if (k > 0)
		row(b, 2, "options:%s", o);
	row(b, 2, "checksum 0x%04x %s", t->checksum,
	    t->csum == TR_CSUM_BAD ? "bad (usual for packets this host sent: offloaded, see the manual)"
				   : tr_csum_name(t->csum));
	if (ev->label[0])
		row(b, 2, "meaning: %s", ev->label);
	status_row(b, 2, t->status, t->why);
}

void tr_view_layers(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev,
		    const uint8_t *data, double rel)
{
	struct sbuf *b = &x->line;
	sbuf_reset(b);
	sbuf_printf(b, "%spacket %llu%s at %.6f s: %zu bytes on the wire, %zu captured",
		    x->col.bold, (unsigned long long)x->n, x->col.reset, rel, pk->wirelen, pk->caplen);
	if (ev->conn != NULL)
		sbuf_printf(b, ", connection #%u", ev->conn->id);
	sbuf_addch(b, '\n');
	open_box(x, 0, "link", "2 data link", "link", pk->link.hdr_len, pk->wirelen);
	link_rows(b, &pk->link);
	int depth = 0;
	if (pk->ip.version != 0) {
		depth = 1;
		open_box(x, 1, "network", "3 network", "internet", pk->ip.hdr_len,
			 pk->ip.total_len ? pk->ip.total_len : pk->wirelen - pk->net_off);
		ip_rows(b, &pk->ip);
		size_t tlen = pk->ip.total_len > pk->ip.hdr_len ? pk->ip.total_len - pk->ip.hdr_len : 0;
		if (pk->tcp.status != TR_ABSENT) {
			depth = 2;
			open_box(x, 2, "transport", "4 transport", "transport", pk->tcp.hdr_len, tlen);
			tcp_rows(b, &pk->tcp, ev);
		} else if (pk->udp.status != TR_ABSENT) {
			depth = 2;
			open_box(x, 2, "transport", "4 transport", "transport", 8, pk->udp.length ? pk->udp.length : tlen);
			row(b, 2, "UDP  port %u → %u  length %u  checksum 0x%04x %s", pk->udp.sport,
			    pk->udp.dport, pk->udp.length, pk->udp.checksum, tr_csum_name(pk->udp.csum));
			status_row(b, 2, pk->udp.status, pk->udp.why);
		}
		if (depth == 2 && pk->app_off > 0) {
			depth = 3;
			open_box(x, 3, "application", "5-7 session/presentation/application",
				 "application", 0, pk->app_wire_len);
			const struct tr_app *a = &pk->app;
			if (pk->app_wire_len == 0)
				row(b, 3, "(no payload)");
			else if (a->line[0] != '\0')
				row(b, 3, "%s: %s%s", a->proto == TR_APP_DATA ? "text" : tr_app_name(a->proto),
				    a->line, a->line_cut ? " ..." : "");
			if (pk->app_wire_len > 0 && (a->proto == TR_APP_DATA || a->line[0] == '\0')) {
				char pre[32] = "";
				size_t k = 0;
				for (int i = 0; i < 4; i++)
					k += (size_t)str_fmt(pre + k, sizeof pre - k, "│ ");
				tr_hexdump(b, pre, data + pk->app_off, pk->app_len, 256);
			}
			if (pk->app_len < pk->app_wire_len)
				row(b, 3, "!! truncated: %zu of %zu bytes captured", pk->app_len, pk->app_wire_len);
		}
	}
	for (int d = depth; d >= 0; d--)
		close_box(b, d);
	fwrite(b->data, 1, b->len, x->out);
}
