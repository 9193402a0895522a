/* trace connection tracking: the labels of a whole TCP life (handshake,
 * data, four-way close), retransmission, zero window, window full, RST
 * refusing a SYN, and UDP datagrams. Packets are decoded structs made by
 * hand, as the decoders would fill them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trace/conv.h"

static struct tr_packet seg(int from_client, uint8_t flags, uint32_t seq, uint32_t ack,
			    uint16_t win, size_t len)
{
	struct tr_packet pk;
	memset(&pk, 0, sizeof pk);
	pk.ip.status = TR_OK;
	pk.ip.version = 4;
	pk.ip.proto = 6;
	uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
	memcpy(pk.ip.src, from_client ? c : s, 4);
	memcpy(pk.ip.dst, from_client ? s : c, 4);
	pk.tcp.status = TR_OK;
	pk.tcp.sport = from_client ? 40000 : 21;
	pk.tcp.dport = from_client ? 21 : 40000;
	pk.tcp.flags = flags;
	pk.tcp.seq = seq;
	pk.tcp.ack = ack;
	pk.tcp.window = win;
	pk.tcp.hdr_len = 20;
	pk.app_off = 54;
	pk.app_len = pk.app_wire_len = len;
	return pk;
}

#define S TR_TCP_SYN
#define A TR_TCP_ACK
#define F TR_TCP_FIN
#define P TR_TCP_PSH
#define R TR_TCP_RST

static const char *feed(struct tr_conv *cv, struct tr_packet pk, struct tr_ev *ev)
{
	static double t;
	t += 0.001;
	tr_conv_packet(cv, &pk, t, ev);
	return ev->label;
}

static void whole_life(void **state)
{
	(void)state;
	struct tr_conv *cv = tr_conv_new();
	struct tr_ev ev;
	assert_string_equal(feed(cv, seg(1, S, 1000, 0, 65535, 0), &ev), "handshake 1/3 SYN");
	assert_true(ev.new_conn);
	assert_int_equal(ev.dir, TR_C2S);
	assert_string_equal(feed(cv, seg(0, S | A, 5000, 1001, 65535, 0), &ev), "handshake 2/3 SYN-ACK");
	assert_int_equal(ev.dir, TR_S2C);
	assert_int_equal(ev.rel_ack, 1);
	assert_string_equal(feed(cv, seg(1, A, 1001, 5001, 512, 0), &ev), "handshake 3/3 ACK");
	assert_string_equal(feed(cv, seg(1, P | A, 1001, 5001, 512, 10), &ev), "data");
	assert_int_equal(ev.rel_seq, 1);
	assert_string_equal(feed(cv, seg(1, P | A, 1001, 5001, 512, 10), &ev), "retransmission");
	assert_true(ev.retrans);
	assert_string_equal(feed(cv, seg(0, A, 5001, 1011, 0, 0), &ev), "ack, zero window");
	assert_string_equal(feed(cv, seg(0, A, 5001, 1011, 20, 0), &ev), "ack");
	/* 20 bytes of window: 20 more bytes fill it */
	assert_string_equal(feed(cv, seg(1, P | A, 1011, 5001, 512, 20), &ev), "data, window full");
	assert_string_equal(feed(cv, seg(1, F | A, 1031, 5001, 512, 0), &ev), "close 1/4 FIN");
	assert_string_equal(feed(cv, seg(0, A, 5001, 1032, 512, 0), &ev), "close 2/4 ACK");
	assert_string_equal(feed(cv, seg(0, F | A, 5001, 1032, 512, 0), &ev), "close 3/4 FIN");
	assert_false(ev.ends);
	assert_string_equal(feed(cv, seg(1, A, 1032, 5002, 512, 0), &ev), "close 4/4 ACK");
	assert_true(ev.ends);
	struct tr_conn *c = ev.conn;
	assert_int_equal(c->first_fin, TR_C2S);
	assert_int_equal(c->bytes[TR_C2S], 30);
	assert_int_equal(c->retrans, 1);
	assert_int_equal(c->hs, 3);
	tr_conv_free(cv, NULL, NULL);
}

static void fin_ack_together_and_refused(void **state)
{
	(void)state;
	struct tr_conv *cv = tr_conv_new();
	struct tr_ev ev;
	feed(cv, seg(1, S, 1, 0, 100, 0), &ev);
	feed(cv, seg(0, S | A, 9, 2, 100, 0), &ev);
	feed(cv, seg(1, A, 2, 10, 100, 0), &ev);
	assert_string_equal(feed(cv, seg(0, F | A, 10, 2, 100, 0), &ev), "close 1/4 FIN");
	assert_string_equal(feed(cv, seg(1, F | A, 2, 11, 100, 0), &ev),
			    "close 2+3/4 FIN-ACK (ACK and FIN together)");
	assert_string_equal(feed(cv, seg(0, A, 11, 3, 100, 0), &ev), "close 4/4 ACK");
	assert_true(ev.ends);
	assert_int_equal(ev.conn->first_fin, TR_S2C);
	/* the same ports again: a new connection, refused */
	assert_string_equal(feed(cv, seg(1, S, 77, 0, 100, 0), &ev), "handshake 1/3 SYN");
	assert_true(ev.new_conn);
	assert_int_equal(ev.conn->id, 2);
	assert_string_equal(feed(cv, seg(0, R | A, 0, 78, 0, 0), &ev), "RST (connection refused)");
	assert_true(ev.ends);
	tr_conv_reap(cv, NULL, NULL);
	tr_conv_free(cv, NULL, NULL);
}

static void mid_stream_and_udp(void **state)
{
	(void)state;
	struct tr_conv *cv = tr_conv_new();
	struct tr_ev ev;
	/* no SYN seen: the higher port is the client, the first seq is 0 */
	assert_string_equal(feed(cv, seg(0, P | A, 777, 100, 10, 5), &ev), "data");
	assert_int_equal(ev.dir, TR_S2C);
	assert_int_equal(ev.rel_seq, 0);
	struct tr_packet u;
	memset(&u, 0, sizeof u);
	u.ip.status = TR_OK;
	u.ip.version = 4;
	u.ip.proto = 17;
	u.udp.status = TR_OK;
	u.udp.sport = 5353;
	u.udp.dport = 53;
	u.udp.length = 8 + 65507;
	u.app_off = 42;
	u.app_len = 100;
	u.app_wire_len = 65507;
	tr_conv_packet(cv, &u, 1.0, &ev);
	assert_string_equal(ev.label, "datagram 65507 bytes, cut by the capture (IPv4 UDP holds at most 65,507)");
	char fl[40];
	tr_tcp_flag_names(S | A, fl, sizeof fl);
	assert_string_equal(fl, "SYN,ACK");
	tr_tcp_flag_names(0, fl, sizeof fl);
	assert_string_equal(fl, "none");
	tr_conv_free(cv, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_life),
		cmocka_unit_test(fin_ack_together_and_refused),
		cmocka_unit_test(mid_stream_and_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
