/* --json: one JSON object (RFC 8259) per packet, one per line. The keys
 * are stable and listed in inetkit-trace(1); a layer that is absent has
 * no key, a layer that is cut or wrong has "status" and "error". */
#include <string.h>

#include "lib/json.h"
#include "lib/str.h"
#include "trace/trace.h"

static void status(struct json *j, enum tr_status s, const char *why)
{
	json_kv_str(j, "status", tr_status_name(s));
	if (s != TR_OK && why[0] != '\0')
		json_kv_str(j, "error", why);
}

static void hw(struct json *j, const char *key, const uint8_t *a, uint8_t n)
{
	char t[3 * 8 + 1];
	size_t k = 0;
	for (uint8_t i = 0; i < n && i < 8; i++) {
		str_fmt(t + k, sizeof t - k, "%s%02x", i ? ":" : "", a[i]);
		k = strlen(t);
	}
	t[k] = '\0';
	json_kv_str(j, key, t);
}

static void link(struct json *j, const struct tr_link *l)
{
	static const char *const kinds[] = {"none", "ethernet", "sll", "sll2", "null", "raw"};
	json_key(j, "link");
	json_obj_begin(j);
	json_kv_str(j, "type", kinds[l->kind]);
	status(j, l->status, l->why);
	json_kv_uint(j, "hdr_len", l->hdr_len);
	json_kv_uint(j, "ethertype", l->ethertype);
	if (l->kind == TR_LINK_ETH) {
		hw(j, "src", l->src, 6);
		hw(j, "dst", l->dst, 6);
		if (l->vlan_tags)
			json_kv_uint(j, "vlan", l->vlan);
	} else if (l->kind == TR_LINK_SLL || l->kind == TR_LINK_SLL2) {
		hw(j, "src", l->src, l->addr_len);
		json_kv_uint(j, "pkttype", l->pkttype);
		if (l->kind == TR_LINK_SLL2)
			json_kv_uint(j, "ifindex", l->ifindex);
	} else if (l->kind == TR_LINK_NULL) {
		json_kv_uint(j, "family", l->family);
	}
	json_obj_end(j);
}

static void ip(struct json *j, const struct tr_ip *ip)
{
	char a[64];
	json_key(j, "ip");
	json_obj_begin(j);
	json_kv_uint(j, "version", ip->version);
	status(j, ip->status, ip->why);
	tr_fmt_addr(ip->version, ip->src, a, sizeof a);
	json_kv_str(j, "src", a);
	tr_fmt_addr(ip->version, ip->dst, a, sizeof a);
	json_kv_str(j, "dst", a);
	json_kv_uint(j, "hdr_len", ip->hdr_len);
	json_kv_uint(j, "total_len", ip->total_len);
	json_kv_uint(j, "ttl", ip->ttl);
	json_kv_uint(j, "proto", ip->proto);
	json_kv_uint(j, "tos", ip->tos);
	if (ip->version == 4) {
		json_kv_uint(j, "id", ip->id);
		json_kv_bool(j, "df", ip->df);
		json_kv_bool(j, "mf", ip->mf);
		json_kv_uint(j, "frag_off", ip->frag_off);
		json_kv_uint(j, "checksum", ip->checksum);
		json_kv_bool(j, "checksum_ok", ip->checksum_ok);
	} else {
		json_kv_uint(j, "flow_label", ip->flow_label);
		json_key(j, "ext");
		json_arr_begin(j);
		for (unsigned i = 0; i < ip->ext_count && i < sizeof ip->ext; i++)
			json_uint(j, ip->ext[i]);
		json_arr_end(j);
	}
	json_obj_end(j);
}

static void tcp(struct json *j, const struct tr_tcp *t)
{
	char fl[40];
	json_key(j, "tcp");
	json_obj_begin(j);
	status(j, t->status, t->why);
	json_kv_uint(j, "sport", t->sport);
	json_kv_uint(j, "dport", t->dport);
	json_kv_uint(j, "seq", t->seq);
	json_kv_uint(j, "ack", t->ack);
	json_kv_uint(j, "hdr_len", t->hdr_len);
	json_kv_uint(j, "flags", t->flags);
	tr_tcp_flag_names(t->flags, fl, sizeof fl);
	json_kv_str(j, "flag_names", fl);
	json_kv_uint(j, "window", t->window);
	json_kv_uint(j, "checksum", t->checksum);
	json_kv_str(j, "checksum_status", tr_csum_name(t->csum));
	json_kv_uint(j, "urgent", t->urgent);
	json_key(j, "options");
	json_obj_begin(j);
	if (t->has_mss)
		json_kv_uint(j, "mss", t->mss);
	if (t->has_wscale)
		json_kv_uint(j, "wscale", t->wscale);
	if (t->sack_perm)
		json_kv_bool(j, "sack_perm", true);
	if (t->has_ts) {
		json_kv_uint(j, "ts_val", t->ts_val);
		json_kv_uint(j, "ts_ecr", t->ts_ecr);
	}
	if (t->sack_count) {
		json_key(j, "sack");
		json_arr_begin(j);
		for (unsigned i = 0; i < t->sack_count; i++) {
			json_arr_begin(j);
			json_uint(j, t->sack[i][0]);
			json_uint(j, t->sack[i][1]);
			json_arr_end(j);
		}
		json_arr_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

static void udp(struct json *j, const struct tr_udp *u)
{
	json_key(j, "udp");
	json_obj_begin(j);
	status(j, u->status, u->why);
	json_kv_uint(j, "sport", u->sport);
	json_kv_uint(j, "dport", u->dport);
	json_kv_uint(j, "length", u->length);
	json_kv_uint(j, "checksum", u->checksum);
	json_kv_str(j, "checksum_status", tr_csum_name(u->csum));
	json_obj_end(j);
}

static void app(struct json *j, const struct tr_packet *pk)
{
	const struct tr_app *a = &pk->app;
	json_key(j, "app");
	json_obj_begin(j);
	json_kv_str(j, "proto", tr_app_name(a->proto));
	status(j, a->status, "");
	json_kv_uint(j, "len", pk->app_wire_len);
	json_kv_uint(j, "captured", pk->app_len);
	if (a->line[0] != '\0')
		json_kv_str(j, "line", a->line);
	if (a->proto == TR_APP_DNS && a->status != TR_TRUNCATED) {
		json_kv_uint(j, "dns_id", a->dns_id);
		json_kv_bool(j, "dns_response", (a->dns_flags & 0x8000) != 0);
		json_kv_str(j, "dns_qname", a->dns_name);
		json_kv_uint(j, "dns_qtype", a->dns_qtype);
	}
	json_obj_end(j);
}

void tr_view_json(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev, double ts,
		  double rel)
{
	struct sbuf *b = &x->line;
	sbuf_reset(b);
	struct json j;
	json_init(&j, b);
	char num[40];
	json_obj_begin(&j);
	json_kv_uint(&j, "n", x->n);
	json_key(&j, "time");
	str_fmt(num, sizeof num, "%.6f", ts);
	json_raw(&j, num);
	json_key(&j, "rel_time");
	str_fmt(num, sizeof num, "%.6f", rel);
	json_raw(&j, num);
	json_kv_uint(&j, "caplen", pk->caplen);
	json_kv_uint(&j, "len", pk->wirelen);
	json_kv_str(&j, "status", tr_status_name(tr_packet_status(pk)));
	link(&j, &pk->link);
	if (pk->ip.version != 0)
		ip(&j, &pk->ip);
	if (pk->tcp.status != TR_ABSENT)
		tcp(&j, &pk->tcp);
	if (pk->udp.status != TR_ABSENT)
		udp(&j, &pk->udp);
	if (pk->app_wire_len > 0)
		app(&j, pk);
	if (ev->conn != NULL) {
		json_kv_uint(&j, "conn", ev->conn->id);
		json_kv_str(&j, "dir", ev->dir == TR_C2S ? "c2s" : "s2c");
		if (ev->conn->proto == 6) {
			json_kv_uint(&j, "rel_seq", ev->rel_seq);
			if (ev->has_rel_ack)
				json_kv_uint(&j, "rel_ack", ev->rel_ack);
		}
		json_kv_bool(&j, "retransmission", ev->retrans);
		json_kv_str(&j, "label", ev->label);
	}
	json_obj_end(&j);
	sbuf_addch(b, '\n');
	fwrite(b->data, 1, b->len, x->out);
}
