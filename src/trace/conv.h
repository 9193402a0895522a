/* Connection tracking for `inetkit trace`: which connection a packet
 * belongs to, which side opened it, and what the packet means in the
 * life of a TCP connection (RFC 9293 3.5 and 3.6: the three-way handshake
 * and the four-way close; RFC 9293 3.8 retransmission, 3.8.6 zero
 * window; RFC 7323 2 window scale). UDP pairs are tracked as flows.
 *
 * Memory stays flat in the length of a capture: ended connections are
 * freed once more than TR_CONV_ENDED_KEEP of them wait, and at most
 * TR_CONV_MAX are tracked at once. */
#ifndef INETKIT_TRACE_CONV_H
#define INETKIT_TRACE_CONV_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/decode.h"

#define TR_CONV_MAX 100000
#define TR_CONV_ENDED_KEEP 256
#define TR_LABEL_MAX 96

enum { TR_C2S = 0, TR_S2C = 1 };

struct tr_dlg;	/* the dialogue view's per-connection state */
struct tr_svgc;	/* the SVG view's per-connection events */

struct tr_conn {
	unsigned id;
	uint8_t proto;		/* 6 TCP, 17 UDP */
	uint8_t version;	/* 4 or 6 */
	uint8_t addr[2][16];	/* [TR_C2S] the client (opener), [TR_S2C] the server */
	uint16_t port[2];
	double t_first, t_last, t_syn, t_synack, t_hs_done, t_fin[2];
	uint32_t isn[2], next_seq[2], last_ack[2], fin_seq[2];
	bool have_isn[2], have_next[2], have_ack[2], fin[2], fin_acked[2];
	uint16_t window[2];
	uint8_t wscale[2];
	bool has_wscale[2];
	int hs;			/* 0 none seen, 1 SYN, 2 SYN-ACK, 3 done */
	int first_fin;		/* -1, or the direction that closed first */
	bool rst, ended;
	int rst_dir;
	uint64_t bytes[2], pkts[2], retrans;
	enum tr_app_proto app;
	unsigned data_of;	/* FTP data connection of this control connection id */
	struct tr_dlg *dlg;
	struct tr_svgc *svg;
	/* bookkeeping */
	struct tr_conn *hnext;	/* hash chain */
	struct tr_conn *enext;	/* queue of ended connections */
	uint32_t hash;
};

/* What one packet means. */
struct tr_ev {
	struct tr_conn *conn;	/* NULL: not TCP/UDP, or not tracked */
	int dir;		/* TR_C2S or TR_S2C */
	bool new_conn;		/* the first packet of conn */
	bool ends;		/* conn ended with this packet (summary due) */
	bool retrans;
	uint32_t rel_seq, rel_ack;
	bool has_rel_ack;
	size_t len;		/* payload bytes on the wire */
	char label[TR_LABEL_MAX];
};

struct tr_conv;

struct tr_conv *tr_conv_new(void);
/* Frees every connection; free_cb (may be NULL) is called on each first
 * so views can free what they hung on it. */
void tr_conv_free(struct tr_conv *cv, void (*free_cb)(struct tr_conn *c, void *arg), void *arg);
/* Tracks one decoded packet seen at time t (seconds). */
void tr_conv_packet(struct tr_conv *cv, const struct tr_packet *pk, double t, struct tr_ev *ev);
/* Calls fn on every connection not yet ended, in id order. */
void tr_conv_each_open(struct tr_conv *cv, void (*fn)(struct tr_conn *c, void *arg), void *arg);
/* Frees ended connections beyond TR_CONV_ENDED_KEEP (call after the views
 * have seen the packet); free_cb as for tr_conv_free. */
void tr_conv_reap(struct tr_conv *cv, void (*free_cb)(struct tr_conn *c, void *arg), void *arg);

/* FTP data connections (RFC 959 PORT/PASV, RFC 2428 EPRT/EPSV): a port
 * announced on control connection id; a later connection to that port is
 * linked to it. */
void tr_conv_expect_data(struct tr_conv *cv, uint16_t port, unsigned control_id);

/* "SYN", "SYN,ACK", "PSH,ACK", ... */
void tr_tcp_flag_names(uint8_t flags, char *out, size_t outsz);

#endif
