/* Connection tracking and the meaning of each TCP segment (see conv.h). */
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "trace/conv.h"

#define BUCKETS 65536u
#define EXPECT_MAX 16

struct expect {
	uint16_t port;
	unsigned control;
};

struct tr_conv {
	struct tr_conn *bucket[BUCKETS];
	size_t count, ended_count;
	unsigned next_id;
	struct tr_conn *ended_head, *ended_tail;
	struct expect expect[EXPECT_MAX];
	size_t expect_next;
};

struct tr_conv *tr_conv_new(void)
{
	return calloc(1, sizeof(struct tr_conv));
}

void tr_conv_free(struct tr_conv *cv, void (*free_cb)(struct tr_conn *c, void *arg), void *arg)
{
	if (cv == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		struct tr_conn *c = cv->bucket[i];
		while (c != NULL) {
			struct tr_conn *n = c->hnext;
			if (free_cb != NULL)
				free_cb(c, arg);
			free(c);
			c = n;
		}
	}
	free(cv);
}

void tr_conv_expect_data(struct tr_conv *cv, uint16_t port, unsigned control_id)
{
	cv->expect[cv->expect_next % EXPECT_MAX] = (struct expect){port, control_id};
	cv->expect_next++;
}

/* FNV-1a over the endpoints in a fixed order, so both directions meet. */
static uint32_t hash_key(uint8_t proto, size_t alen, const uint8_t *a, uint16_t pa, const uint8_t *b,
			 uint16_t pb)
{
	int c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && pa > pb)) {
		const uint8_t *t = a;
		a = b;
		b = t;
		uint16_t tp = pa;
		pa = pb;
		pb = tp;
	}
	uint32_t h = 2166136261u;
	h = (h ^ proto) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ a[i]) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ (pa >> 8)) * 16777619u;
	h = (h ^ (pa & 0xff)) * 16777619u;
	h = (h ^ (pb >> 8)) * 16777619u;
	h = (h ^ (pb & 0xff)) * 16777619u;
	return h;
}

/* The connection and the packet's direction in it, or NULL. Ended
 * connections are found too (a retransmitted last ACK belongs to them),
 * except by a new SYN, which starts a new one. */
static struct tr_conn *lookup(struct tr_conv *cv, uint32_t h, uint8_t proto, uint8_t ver,
			      const uint8_t *src, uint16_t sp, const uint8_t *dst, uint16_t dp,
			      bool syn, int *dir)
{
	size_t alen = ver == 4 ? 4 : 16;
	for (struct tr_conn *c = cv->bucket[h % BUCKETS]; c != NULL; c = c->hnext) {
		if (c->hash != h || c->proto != proto || c->version != ver)
			continue;
		if (c->ended && syn)
			continue;
		for (int d = 0; d < 2; d++)
			if (c->port[d] == sp && c->port[1 - d] == dp &&
			    memcmp(c->addr[d], src, alen) == 0 && memcmp(c->addr[1 - d], dst, alen) == 0) {
				*dir = d;
				return c;
			}
	}
	return NULL;
}

static void end_conn(struct tr_conv *cv, struct tr_conn *c, struct tr_ev *ev)
{
	if (c->ended)
		return;
	c->ended = true;
	ev->ends = true;
	if (cv->ended_tail != NULL)
		cv->ended_tail->enext = c;
	else
		cv->ended_head = c;
	cv->ended_tail = c;
	cv->ended_count++;
}

void tr_conv_reap(struct tr_conv *cv, void (*free_cb)(struct tr_conn *c, void *arg), void *arg)
{
	while (cv->ended_count > TR_CONV_ENDED_KEEP) {
		struct tr_conn *c = cv->ended_head;
		cv->ended_head = c->enext;
		if (cv->ended_head == NULL)
			cv->ended_tail = NULL;
		cv->ended_count--;
		struct tr_conn **pp = &cv->bucket[c->hash % BUCKETS];
		while (*pp != c)
			pp = &(*pp)->hnext;
		*pp = c->hnext;
		cv->count--;
		if (free_cb != NULL)
			free_cb(c, arg);
		free(c);
	}
}

static int cmp_id(const void *a, const void *b)
{
	const struct tr_conn *x = *(struct tr_conn *const *)a, *y = *(struct tr_conn *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

void tr_conv_each_open(struct tr_conv *cv, void (*fn)(struct tr_conn *c, void *arg), void *arg)
{
	size_t n = 0;
	struct tr_conn **all = malloc((cv->count + 1) * sizeof *all);
	if (all == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct tr_conn *c = cv->bucket[i]; c != NULL; c = c->hnext)
			if (!c->ended && n < cv->count)
				all[n++] = c;
	qsort(all, n, sizeof *all, cmp_id);
	for (size_t i = 0; i < n; i++)
		fn(all[i], arg);
	free(all);
}

void tr_tcp_flag_names(uint8_t flags, char *out, size_t outsz)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{TR_TCP_SYN, "SYN"}, {TR_TCP_FIN, "FIN"}, {TR_TCP_RST, "RST"}, {TR_TCP_PSH, "PSH"},
		{TR_TCP_ACK, "ACK"}, {TR_TCP_URG, "URG"}, {TR_TCP_ECE, "ECE"}, {TR_TCP_CWR, "CWR"},
	};
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & names[i].bit))
			continue;
		int w = str_fmt(out + n, outsz - n, "%s%s", n ? "," : "", names[i].name);
		if (w < 0)
			return;
		n += (size_t)w;
	}
	if (n == 0)
		str_copy(out, outsz, "none");
}

/* Sequence space comparisons modulo 2^32 (RFC 9293 3.4). */
static bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

static void label(struct tr_ev *ev, const char *s)
{
	str_copy(ev->label, sizeof ev->label, s);
}

static void label_add(struct tr_ev *ev, const char *s)
{
	size_t n = strlen(ev->label);
	str_fmt(ev->label + n, sizeof ev->label - n, "%s%s", n ? ", " : "", s);
}

static struct tr_conn *new_conn(struct tr_conv *cv, uint32_t h, const struct tr_packet *pk,
				uint16_t sp, uint16_t dp, bool src_is_client, double t)
{
	if (cv->count >= TR_CONV_MAX)
		return NULL;
	struct tr_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->id = ++cv->next_id;
	c->proto = pk->ip.proto;
	c->version = pk->ip.version;
	int s = src_is_client ? TR_C2S : TR_S2C;
	memcpy(c->addr[s], pk->ip.src, 16);
	memcpy(c->addr[1 - s], pk->ip.dst, 16);
	c->port[s] = sp;
	c->port[1 - s] = dp;
	c->t_first = t;
	c->first_fin = -1;
	c->rst_dir = -1;
	c->hash = h;
	for (size_t i = 0; i < EXPECT_MAX && i < cv->expect_next; i++)
		if (cv->expect[i].port != 0 && cv->expect[i].port == c->port[TR_S2C]) {
			c->data_of = cv->expect[i].control;
			cv->expect[i].port = 0;
			break;
		}
	c->hnext = cv->bucket[h % BUCKETS];
	cv->bucket[h % BUCKETS] = c;
	cv->count++;
	return c;
}

static void tcp_close_step(struct tr_conv *cv, struct tr_conn *c, int d, const struct tr_tcp *t,
			   size_t len, struct tr_ev *ev)
{
	int o = 1 - d;
	bool acks_other_fin = (t->flags & TR_TCP_ACK) && c->fin[o] && !c->fin_acked[o] &&
			      t->ack == c->fin_seq[o] + 1;
	if (t->flags & TR_TCP_FIN) {
		if (c->fin[d]) {
			if (seq_le(t->seq + (uint32_t)len, c->fin_seq[d])) {
				ev->retrans = true;
				label(ev, "retransmission of FIN");
			}
			return;
		}
		c->fin[d] = true;
		c->fin_seq[d] = t->seq + (uint32_t)len;
		c->t_fin[d] = c->t_last;
		if (c->first_fin < 0) {
			c->first_fin = d;
			label(ev, len ? "data, close 1/4 FIN" : "close 1/4 FIN");
		} else if (acks_other_fin) {
			c->fin_acked[o] = true;
			label(ev, "close 2+3/4 FIN-ACK (ACK and FIN together)");
		} else {
			label(ev, c->fin_acked[o] ? "close 3/4 FIN" : "close FIN (simultaneous)");
		}
		return;
	}
	if (acks_other_fin) {
		c->fin_acked[o] = true;
		label(ev, c->first_fin == o ? "close 2/4 ACK" : "close 4/4 ACK");
		if (c->fin[0] && c->fin[1] && c->fin_acked[0] && c->fin_acked[1])
			end_conn(cv, c, ev);
	}
}

static void tcp_packet(struct tr_conv *cv, struct tr_conn *c, int d, const struct tr_packet *pk,
		       double t, struct tr_ev *ev)
{
	const struct tr_tcp *tcp = &pk->tcp;
	int o = 1 - d;
	size_t len = pk->app_wire_len;
	uint8_t f = tcp->flags;
	uint32_t end = tcp->seq + (uint32_t)len + ((f & TR_TCP_SYN) ? 1 : 0) + ((f & TR_TCP_FIN) ? 1 : 0);

	if ((f & TR_TCP_SYN) || !c->have_isn[d]) {
		if ((f & TR_TCP_SYN) && c->have_isn[d] && c->isn[d] == tcp->seq && c->hs > 0)
			ev->retrans = true;
		c->isn[d] = tcp->seq;
		c->have_isn[d] = true;
	}
	ev->rel_seq = tcp->seq - c->isn[d];
	if ((f & TR_TCP_ACK) && c->have_isn[o]) {
		ev->rel_ack = tcp->ack - c->isn[o];
		ev->has_rel_ack = true;
	}
	/* A segment wholly below what this side already sent is sent again. */
	if (!ev->retrans && c->have_next[d] && (len > 0 || (f & (TR_TCP_FIN | TR_TCP_SYN))) &&
	    seq_lt(tcp->seq, c->next_seq[d]) && !(f & TR_TCP_RST))
		ev->retrans = true;

	if (f & TR_TCP_RST) {
		/* A SYN answered by RST: nothing listens on that port. */
		label(ev, c->hs == 1 && d == TR_S2C ? "RST (connection refused)" : "RST (connection reset)");
		c->rst = true;
		c->rst_dir = d;
		end_conn(cv, c, ev);
	} else if ((f & TR_TCP_SYN) && !(f & TR_TCP_ACK)) {
		label(ev, ev->retrans ? "retransmission, handshake 1/3 SYN" : "handshake 1/3 SYN");
		if (c->hs < 1) {
			c->hs = 1;
			c->t_syn = t;
		}
	} else if (f & TR_TCP_SYN) {
		label(ev, ev->retrans ? "retransmission, handshake 2/3 SYN-ACK" : "handshake 2/3 SYN-ACK");
		if (c->hs < 2) {
			c->hs = 2;
			c->t_synack = t;
		}
	} else if (c->hs == 2 && d == TR_C2S && (f & TR_TCP_ACK) && c->have_isn[o] &&
		   tcp->ack == c->isn[o] + 1 && !(f & TR_TCP_FIN)) {
		c->hs = 3;
		c->t_hs_done = t;
		label(ev, len ? "handshake 3/3 ACK, data" : "handshake 3/3 ACK");
	} else if (ev->retrans) {
		label(ev, (f & TR_TCP_FIN) ? "retransmission of FIN" : "retransmission");
		c->retrans++;
	} else {
		if (len > 0)
			label(ev, "data");
		tcp_close_step(cv, c, d, tcp, len, ev);
		if (ev->label[0] == '\0')
			label(ev, (f & TR_TCP_ACK) ? "ack" : "segment");
		/* All the receiver's window filled by this segment (RFC 9293
		 * 3.8.6): the sender must now wait. */
		if (len > 0 && c->have_ack[o]) {
			uint64_t win = (uint64_t)c->window[o] << (c->has_wscale[0] && c->has_wscale[1] ? c->wscale[o] : 0);
			if (win > 0 && (uint64_t)(tcp->seq + (uint32_t)len - c->last_ack[o]) == win)
				label_add(ev, "window full");
		}
	}
	if (tcp->window == 0 && !(f & (TR_TCP_RST | TR_TCP_SYN)))
		label_add(ev, "zero window");

	if (f & TR_TCP_SYN) {
		c->has_wscale[d] = tcp->has_wscale;
		c->wscale[d] = tcp->wscale > 14 ? 14 : tcp->wscale;
	}
	if (!c->have_next[d] || seq_lt(c->next_seq[d], end)) {
		c->next_seq[d] = end;
		c->have_next[d] = true;
	}
	if (f & TR_TCP_ACK) {
		c->last_ack[d] = tcp->ack;
		c->have_ack[d] = true;
	}
	c->window[d] = tcp->window;
	if (!ev->retrans)
		c->bytes[d] += len;
	else if (len == 0 && !(f & (TR_TCP_SYN | TR_TCP_FIN)))
		ev->retrans = false;	/* a bare ACK is never "sent again" */
}

/* The largest payload one IPv4 UDP datagram can carry: 65,535 - 20 - 8. */
#define UDP_IPV4_MAX 65507

void tr_conv_packet(struct tr_conv *cv, const struct tr_packet *pk, double t, struct tr_ev *ev)
{
	memset(ev, 0, sizeof *ev);
	uint16_t sp, dp;
	bool syn = false, client_guess;
	if (pk->tcp.status == TR_OK || (pk->tcp.status == TR_MALFORMED && pk->tcp.hdr_len >= 20 &&
					pk->app_off > 0)) {
		sp = pk->tcp.sport;
		dp = pk->tcp.dport;
		syn = (pk->tcp.flags & TR_TCP_SYN) != 0;
		/* SYN opens, SYN-ACK answers; mid-stream, the higher
		 * (ephemeral) port is the client's. */
		if (syn)
			client_guess = !(pk->tcp.flags & TR_TCP_ACK);
		else
			client_guess = sp > dp;
	} else if (pk->udp.status == TR_OK || pk->udp.status == TR_MALFORMED) {
		if (pk->app_off == 0)
			return;
		sp = pk->udp.sport;
		dp = pk->udp.dport;
		client_guess = true;	/* the first sender */
	} else {
		return;
	}
	size_t alen = pk->ip.version == 4 ? 4 : 16;
	uint32_t h = hash_key(pk->ip.proto, alen, pk->ip.src, sp, pk->ip.dst, dp);
	int d = 0;
	struct tr_conn *c = lookup(cv, h, pk->ip.proto, pk->ip.version, pk->ip.src, sp, pk->ip.dst,
				   dp, syn && !(pk->tcp.flags & TR_TCP_ACK), &d);
	if (c == NULL) {
		c = new_conn(cv, h, pk, sp, dp, client_guess, t);
		if (c == NULL) {
			label(ev, "untracked (too many connections)");
			return;
		}
		ev->new_conn = true;
		d = client_guess ? TR_C2S : TR_S2C;
	}
	ev->conn = c;
	ev->dir = d;
	ev->len = pk->app_wire_len;
	c->t_last = t;
	c->pkts[d]++;
	if (c->app == TR_APP_NONE || c->app == TR_APP_DATA)
		if (pk->app.proto != TR_APP_NONE && pk->app.proto != TR_APP_DATA)
			c->app = pk->app.proto;
	if (c->proto == 6) {
		tcp_packet(cv, c, d, pk, t, ev);
		return;
	}
	c->bytes[d] += ev->len;
	str_fmt(ev->label, sizeof ev->label, "datagram %zu bytes", ev->len);
	if (pk->app_len < pk->app_wire_len)
		label_add(ev, pk->ip.version == 4 ? "cut by the capture (IPv4 UDP holds at most 65,507)"
						  : "cut by the capture");
	else if (pk->ip.version == 4 && ev->len == UDP_IPV4_MAX)
		label_add(ev, "the IPv4 maximum, 65,507");
}
