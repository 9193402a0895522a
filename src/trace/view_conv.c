/* The conversation view (the default): a line per packet with the
 * connection it belongs to, its direction between the client (left) and
 * the server (right), flags, relative sequence numbers (RFC 9293 3.4: the
 * initial sequence number counts as 0) and what it means; a summary when
 * a connection ends. */
#include <arpa/inet.h>
#include <string.h>

#include "lib/str.h"
#include "trace/trace.h"

static const char *label_color(const struct tr_ctx *x, const struct tr_ev *ev)
{
	const char *l = ev->label;
	if (ev->retrans || strstr(l, "RST") != NULL || strstr(l, "zero window") != NULL ||
	    strstr(l, "window full") != NULL)
		return x->col.red;
	if (str_has_prefix(l, "handshake"))
		return x->col.green;
	if (strstr(l, "close") != NULL)
		return x->col.yellow;
	if (str_has_prefix(l, "ack"))
		return x->col.dim;
	return "";
}

static void tcp_options(struct sbuf *b, const struct tr_tcp *t)
{
	if (t->has_mss)
		sbuf_printf(b, " mss=%u", t->mss);
	if (t->sack_perm)
		sbuf_addstr(b, " sack_perm");
	if (t->has_wscale)
		sbuf_printf(b, " wscale=%u", t->wscale);
	if (t->has_ts && (t->flags & TR_TCP_SYN))
		sbuf_addstr(b, " ts");
	for (unsigned i = 0; i < t->sack_count; i++)
		sbuf_printf(b, " sack=%u-%u", t->sack[i][0], t->sack[i][1]);
}

static void problem(struct sbuf *b, const struct tr_packet *pk)
{
	enum tr_status s = tr_packet_status(pk);
	if (s == TR_OK)
		return;
	const char *why = pk->link.why[0] ? pk->link.why : pk->ip.why[0] ? pk->ip.why
			  : pk->tcp.why[0] ? pk->tcp.why : pk->udp.why[0] ? pk->udp.why : NULL;
	sbuf_printf(b, "  [%s: ", tr_status_name(s));
	if (why != NULL)
		sbuf_printf(b, "%s, ", why);
	sbuf_printf(b, "captured %zu of %zu bytes]", pk->caplen, pk->wirelen);
}

static void not_conn(struct tr_ctx *x, const struct tr_packet *pk, double rel)
{
	struct sbuf *b = &x->line;
	sbuf_printf(b, "%10.6f     ", rel);
	if (pk->ip.status != TR_ABSENT && pk->ip.version != 0) {
		char s[INET6_ADDRSTRLEN + 2], d[INET6_ADDRSTRLEN + 2];
		tr_fmt_addr(pk->ip.version, pk->ip.src, s, sizeof s);
		tr_fmt_addr(pk->ip.version, pk->ip.dst, d, sizeof d);
		sbuf_printf(b, "IPv%u %s > %s protocol %u, %zu bytes", pk->ip.version, s, d,
			    pk->ip.proto, pk->wirelen);
		if (pk->ip.fragment)
			sbuf_printf(b, " (fragment at offset %u)", pk->ip.frag_off * 8u);
	} else if (pk->link.ethertype != 0) {
		sbuf_printf(b, "ethertype 0x%04x, %zu bytes (not IP)", pk->link.ethertype, pk->wirelen);
	} else {
		sbuf_printf(b, "%zu bytes, not decoded", pk->wirelen);
	}
	problem(b, pk);
	sbuf_addch(b, '\n');
}

void tr_view_conv(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev, double rel)
{
	struct sbuf *b = &x->line;
	sbuf_reset(b);
	const struct tr_conn *c = ev->conn;
	if (c == NULL) {
		not_conn(x, pk, rel);
		fwrite(b->data, 1, b->len, x->out);
		return;
	}
	char cl[INET6_ADDRSTRLEN + 8], sv[INET6_ADDRSTRLEN + 8];
	tr_fmt_endpoint(c->version, c->addr[TR_C2S], c->port[TR_C2S], cl, sizeof cl);
	tr_fmt_endpoint(c->version, c->addr[TR_S2C], c->port[TR_S2C], sv, sizeof sv);
	if (ev->new_conn) {
		sbuf_printf(b, "%s#%u %s %s ⇄ %s (client left, server right)", x->col.bold, c->id,
			    c->proto == 6 ? "TCP" : "UDP", cl, sv);
		if (c->data_of != 0)
			sbuf_printf(b, ", FTP data connection of #%u", c->data_of);
		sbuf_printf(b, "%s\n", x->col.reset);
	}
	const char *arrow = ev->dir == TR_C2S ? "→" : "←";
	sbuf_printf(b, "%10.6f #%-3u %s %s %s ", rel, c->id, cl, arrow, sv);
	if (c->proto == 6) {
		char fl[40];
		tr_tcp_flag_names(pk->tcp.flags, fl, sizeof fl);
		sbuf_printf(b, "[%s] seq=%u", fl, ev->rel_seq);
		if (ev->has_rel_ack)
			sbuf_printf(b, " ack=%u", ev->rel_ack);
		sbuf_printf(b, " win=%u len=%zu", pk->tcp.window, ev->len);
	} else {
		sbuf_printf(b, "len=%zu", ev->len);
	}
	const char *lc = label_color(x, ev);
	sbuf_printf(b, "  %s%s%s", lc, ev->label, *lc ? x->col.reset : "");
	if (c->proto == 6 && (pk->tcp.flags & TR_TCP_SYN))
		tcp_options(b, &pk->tcp);
	if (pk->app.line[0] != '\0' && pk->app.proto != TR_APP_DATA)
		sbuf_printf(b, "  %s%s: %s%s%s", x->col.cyan, tr_app_name(pk->app.proto), pk->app.line,
			    pk->app.line_cut ? "..." : "", x->col.reset);
	problem(b, pk);
	sbuf_addch(b, '\n');
	fwrite(b->data, 1, b->len, x->out);
}

static void ms(struct sbuf *b, double sec)
{
	if (sec < 1.0)
		sbuf_printf(b, "%.3f ms", sec * 1000.0);
	else
		sbuf_printf(b, "%.3f s", sec);
}

void tr_view_conv_summary(struct tr_ctx *x, const struct tr_conn *c)
{
	struct sbuf *b = &x->line;
	sbuf_reset(b);
	char cl[INET6_ADDRSTRLEN + 8], sv[INET6_ADDRSTRLEN + 8];
	tr_fmt_endpoint(c->version, c->addr[TR_C2S], c->port[TR_C2S], cl, sizeof cl);
	tr_fmt_endpoint(c->version, c->addr[TR_S2C], c->port[TR_S2C], sv, sizeof sv);
	sbuf_printf(b, "%s#%u summary%s: %s %s (client) ⇄ %s (server)", x->col.bold, c->id, x->col.reset,
		    c->proto == 6 ? "TCP" : "UDP", cl, sv);
	if (c->app != TR_APP_NONE && c->app != TR_APP_DATA)
		sbuf_printf(b, ", %s", tr_app_name(c->app));
	if (c->data_of)
		sbuf_printf(b, ", FTP data connection of #%u", c->data_of);
	sbuf_printf(b, ", %s\n", c->ended ? "ended" : "still open at the end of the capture");
	if (c->proto == 6) {
		sbuf_addstr(b, "    handshake: ");
		if (c->hs >= 2) {
			sbuf_addstr(b, "RTT ");
			ms(b, c->t_synack - c->t_syn);
			sbuf_addstr(b, " (SYN to SYN-ACK)");
			if (c->hs == 3) {
				sbuf_addstr(b, ", complete after ");
				ms(b, c->t_hs_done - c->t_syn);
			}
		} else {
			sbuf_addstr(b, c->hs == 1 ? "SYN not answered" : "not seen (capture began later)");
		}
		sbuf_addch(b, '\n');
	}
	sbuf_printf(b, "    bytes: client→server %llu in %llu packets, server→client %llu in %llu packets",
		    (unsigned long long)c->bytes[0], (unsigned long long)c->pkts[0],
		    (unsigned long long)c->bytes[1], (unsigned long long)c->pkts[1]);
	if (c->retrans)
		sbuf_printf(b, ", %llu retransmissions", (unsigned long long)c->retrans);
	sbuf_addch(b, '\n');
	if (c->proto == 6) {
		sbuf_addstr(b, "    close: ");
		if (c->rst) {
			sbuf_printf(b, "reset by the %s (RST): no TIME_WAIT\n",
				    c->rst_dir == TR_C2S ? "client" : "server");
		} else if (c->first_fin >= 0) {
			const char *who = c->first_fin == TR_C2S ? "client" : "server";
			sbuf_printf(b, "the %s closed first (active close); ", who);
			sbuf_printf(b, "TIME_WAIT on the %s side (%s)%s\n", who,
				    c->first_fin == TR_C2S ? cl : sv,
				    c->ended ? "" : ", close not finished in the capture");
		} else {
			sbuf_addstr(b, "not closed in the capture\n");
		}
	}
	sbuf_printf(b, "    duration: ");
	ms(b, c->t_last - c->t_first);
	sbuf_addch(b, '\n');
	fwrite(b->data, 1, b->len, x->out);
}
