/* trace decoders: every layer on hand-built packets, checksums, TCP
 * options, IPv6 extension headers, and every truncation of a packet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trace/decode.h"
#include "trace/mask.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Fills the transport checksum at csum_off over the pseudo-header. */
static void transport_csum(uint8_t *t, size_t len, size_t csum_off, const uint8_t *src,
			   const uint8_t *dst, size_t alen, uint8_t proto)
{
	put16(t + csum_off, 0);
	uint32_t s = tr_sum(src, alen, 0);
	s = tr_sum(dst, alen, s);
	s += proto;
	s += (uint32_t)len;
	s = tr_sum(t, len, s);
	put16(t + csum_off, (uint16_t)~tr_fold(s));
}

/* Ethernet + IPv4 + TCP (MSS, SACK-permitted, timestamps, NOP, window
 * scale) + payload; returns the frame length. */
static size_t eth_ipv4_tcp(uint8_t *f, const char *payload)
{
	size_t plen = strlen(payload);
	memset(f, 0, 14);
	f[0] = 0x02; f[6] = 0x04;
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	size_t tl = 20 + 40 + plen;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tl);
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 127; ip[15] = 1;
	ip[16] = 127; ip[19] = 2;
	put16(ip + 10, (uint16_t)~tr_fold(tr_sum(ip, 20, 0)));
	uint8_t *t = ip + 20;
	memset(t, 0, 40);
	put16(t, 40000);
	put16(t + 2, 21);
	put32(t + 4, 1000);
	put32(t + 8, 0);
	t[12] = 10 << 4;
	t[13] = TR_TCP_SYN;
	put16(t + 14, 65495);
	uint8_t *o = t + 20;
	o[0] = 2; o[1] = 4; put16(o + 2, 65495);
	o[4] = 4; o[5] = 2;
	o[6] = 8; o[7] = 10; put32(o + 8, 111); put32(o + 12, 222);
	o[16] = 1;
	o[17] = 3; o[18] = 3; o[19] = 7;
	memcpy(t + 40, payload, plen);
	transport_csum(t, 40 + plen, 16, ip + 12, ip + 16, 4, 6);
	return 14 + tl;
}

static void ipv4_tcp_fields(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n = eth_ipv4_tcp(f, "USER anonymous\r\n");
	struct tr_packet pk;
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.link.status, TR_OK);
	assert_int_equal(pk.link.ethertype, 0x0800);
	assert_int_equal(pk.link.src[0], 0x04);
	assert_int_equal(pk.ip.status, TR_OK);
	assert_int_equal(pk.ip.version, 4);
	assert_true(pk.ip.checksum_ok);
	assert_true(pk.ip.df);
	assert_int_equal(pk.ip.ttl, 64);
	assert_int_equal(pk.ip.id, 0x1234);
	assert_int_equal(pk.tcp.status, TR_OK);
	assert_int_equal(pk.tcp.sport, 40000);
	assert_int_equal(pk.tcp.dport, 21);
	assert_int_equal(pk.tcp.seq, 1000);
	assert_int_equal(pk.tcp.hdr_len, 40);
	assert_true(pk.tcp.has_mss);
	assert_int_equal(pk.tcp.mss, 65495);
	assert_true(pk.tcp.sack_perm);
	assert_true(pk.tcp.has_ts);
	assert_int_equal(pk.tcp.ts_val, 111);
	assert_int_equal(pk.tcp.ts_ecr, 222);
	assert_true(pk.tcp.has_wscale);
	assert_int_equal(pk.tcp.wscale, 7);
	assert_int_equal(pk.tcp.csum, TR_CSUM_OK);
	assert_int_equal(pk.app_len, 16);
	assert_int_equal(pk.app.proto, TR_APP_FTP);
	assert_string_equal(pk.app.line, "USER anonymous");
	assert_int_equal(tr_packet_status(&pk), TR_OK);

	/* a flipped bit: both checksums notice */
	f[14 + 8] ^= 1;
	f[n - 1] ^= 1;
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_false(pk.ip.checksum_ok);
	assert_int_equal(pk.tcp.csum, TR_CSUM_BAD);
}

/* Every prefix of a frame decodes without reading past it, and a cut
 * frame is never reported whole. */
static void every_truncation(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n = eth_ipv4_tcp(f, "PASS secret\r\n");
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = test_malloc(cut + 1);
		memcpy(copy, f, cut);
		struct tr_packet pk;
		tr_decode(TR_DLT_EN10MB, copy, cut, n, &pk);
		assert_int_equal(tr_packet_status(&pk), TR_TRUNCATED);
		if (cut < 14)
			assert_int_equal(pk.link.status, TR_TRUNCATED);
		else if (cut < 34)
			assert_int_equal(pk.ip.status, TR_TRUNCATED);
		else if (cut < 74)
			assert_int_equal(pk.tcp.status, TR_TRUNCATED);
		else
			assert_int_equal(pk.tcp.csum, TR_CSUM_UNVERIFIED);
		test_free(copy);
	}
	struct tr_packet pk;
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_string_equal(pk.app.line, "PASS ****");
}

static void ipv4_malformed(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n = eth_ipv4_tcp(f, "x");
	struct tr_packet pk;
	f[14] = 0x44;	/* IHL 4 */
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.ip.status, TR_MALFORMED);
	f[14] = 0x45;
	put16(f + 16, 2000);	/* total length past the frame */
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.ip.status, TR_MALFORMED);
	assert_int_equal(pk.tcp.status, TR_ABSENT);
	put16(f + 16, (uint16_t)(n - 14));
	f[14 + 20 + 12] = 4 << 4;	/* TCP data offset 4 */
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.tcp.status, TR_MALFORMED);
	f[14 + 20 + 12] = 10 << 4;
	f[14 + 20 + 20 + 1] = 40;	/* MSS option running past the header */
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.tcp.status, TR_MALFORMED);
	assert_true(pk.tcp.opt_bad);
	f[14] = 0x75;
	tr_decode(TR_DLT_EN10MB, f, n, n, &pk);
	assert_int_equal(pk.ip.status, TR_MALFORMED);
}

/* Linux cooked v1 + IPv6 with hop-by-hop and destination options + UDP. */
static void sll_ipv6_ext_udp(void **state)
{
	(void)state;
	uint8_t f[200];
	memset(f, 0, sizeof f);
	put16(f, 4);	/* sent by us */
	put16(f + 2, 772);
	put16(f + 4, 6);
	put16(f + 14, 0x86dd);
	uint8_t *ip = f + 16;
	ip[0] = 0x60;
	ip[6] = 0;	/* hop-by-hop */
	ip[7] = 1;
	ip[23] = 1;
	ip[39] = 1;	/* ::1 -> ::1 */
	uint8_t *e = ip + 40;
	e[0] = 60; e[1] = 0;	/* 8 bytes, then destination options */
	e[8] = 17; e[9] = 1;	/* 16 bytes, then UDP */
	uint8_t *u = e + 24;
	put16(u, 5353);
	put16(u + 2, 9999);
	put16(u + 4, 8 + 5);
	memcpy(u + 8, "hello", 5);
	put16(ip + 4, 24 + 13);
	transport_csum(u, 13, 6, ip + 8, ip + 24, 16, 17);
	size_t n = 16 + 40 + 24 + 13;
	struct tr_packet pk;
	tr_decode(TR_DLT_LINUX_SLL, f, n, n, &pk);
	assert_int_equal(pk.link.kind, TR_LINK_SLL);
	assert_int_equal(pk.link.pkttype, 4);
	assert_int_equal(pk.ip.status, TR_OK);
	assert_int_equal(pk.ip.version, 6);
	assert_int_equal(pk.ip.ext_count, 2);
	assert_int_equal(pk.ip.ext[0], 0);
	assert_int_equal(pk.ip.ext[1], 60);
	assert_int_equal(pk.ip.hdr_len, 64);
	assert_int_equal(pk.ip.proto, 17);
	assert_int_equal(pk.ip.ttl, 1);
	assert_int_equal(pk.udp.status, TR_OK);
	assert_int_equal(pk.udp.length, 13);
	assert_int_equal(pk.udp.csum, TR_CSUM_OK);
	assert_int_equal(pk.app_len, 5);
	/* an extension header claiming more than the payload */
	e[9] = 200;
	tr_decode(TR_DLT_LINUX_SLL, f, n, n, &pk);
	assert_int_equal(pk.ip.status, TR_MALFORMED);
	e[9] = 1;
	/* cut inside the second extension header */
	tr_decode(TR_DLT_LINUX_SLL, f, 16 + 40 + 12, n, &pk);
	assert_int_equal(pk.ip.status, TR_TRUNCATED);
	/* a chain of hop-by-hop headers longer than any real one */
	uint8_t chain[16 + 40 + 8 * 20];
	memcpy(chain, f, 16 + 40);
	for (int i = 0; i < 20; i++) {
		chain[16 + 40 + 8 * i] = 0;
		chain[16 + 40 + 8 * i + 1] = 0;
	}
	put16(chain + 16 + 4, 8 * 20);
	tr_decode(TR_DLT_LINUX_SLL, chain, sizeof chain, sizeof chain, &pk);
	assert_int_equal(pk.ip.status, TR_MALFORMED);
}

static void sll2_null_raw(void **state)
{
	(void)state;
	uint8_t f[64];
	memset(f, 0, sizeof f);
	put16(f, 0x0800);
	put32(f + 4, 1);
	f[10] = 0;
	f[11] = 6;
	struct tr_link l;
	assert_int_equal(tr_decode_link(TR_DLT_LINUX_SLL2, f, 20, &l), 20);
	assert_int_equal(l.kind, TR_LINK_SLL2);
	assert_int_equal(l.ifindex, 1);
	assert_int_equal(l.ethertype, 0x0800);
	f[11] = 9;
	tr_decode_link(TR_DLT_LINUX_SLL2, f, 20, &l);
	assert_int_equal(l.status, TR_MALFORMED);
	tr_decode_link(TR_DLT_LINUX_SLL2, f, 19, &l);
	assert_int_equal(l.status, TR_TRUNCATED);
	/* null: host order of the writer, either way round */
	uint8_t le[4] = {2, 0, 0, 0}, be[4] = {0, 0, 0, 30};
	assert_int_equal(tr_decode_link(TR_DLT_NULL, le, 4, &l), 4);
	assert_int_equal(l.ethertype, 0x0800);
	assert_int_equal(tr_decode_link(TR_DLT_NULL, be, 4, &l), 4);
	assert_int_equal(l.ethertype, 0x86dd);
	assert_int_equal(tr_decode_link(TR_DLT_LOOP, be, 4, &l), 4);
	assert_int_equal(l.ethertype, 0x86dd);
	uint8_t r[1] = {0x45};
	tr_decode_link(TR_DLT_RAW, r, 1, &l);
	assert_int_equal(l.ethertype, 0x0800);
	tr_decode_link(999, r, 1, &l);
	assert_int_equal(l.status, TR_MALFORMED);
	/* 802.1Q tag */
	uint8_t v[18] = {0};
	put16(v + 12, 0x8100);
	put16(v + 14, 42);
	put16(v + 16, 0x86dd);
	assert_int_equal(tr_decode_link(TR_DLT_EN10MB, v, 18, &l), 18);
	assert_int_equal(l.vlan, 42);
	assert_int_equal(l.ethertype, 0x86dd);
	assert_int_equal(tr_decode_link(TR_DLT_EN10MB, v, 17, &l), 0);
	assert_int_equal(l.status, TR_TRUNCATED);
}

static void tcp_sack_blocks(void **state)
{
	(void)state;
	uint8_t t[40] = {0};
	t[12] = 8 << 4;
	t[20] = 1; t[21] = 1;
	t[22] = 5; t[23] = 10;
	put32(t + 24, 5000); put32(t + 28, 6000);
	struct tr_tcp tcp;
	assert_int_equal(tr_decode_tcp(t, 32, 32, NULL, &tcp), 32);
	assert_int_equal(tcp.sack_count, 1);
	assert_int_equal(tcp.sack[0][0], 5000);
	assert_int_equal(tcp.sack[0][1], 6000);
	assert_int_equal(tcp.csum, TR_CSUM_UNVERIFIED);
	t[23] = 9;	/* not 2 + 8n */
	tr_decode_tcp(t, 32, 32, NULL, &tcp);
	assert_true(tcp.opt_bad);
}

static void udp_lengths(void **state)
{
	(void)state;
	uint8_t u[16] = {0};
	struct tr_udp udp;
	put16(u + 4, 7);
	assert_int_equal(tr_decode_udp(u, 16, 16, NULL, &udp), 0);
	assert_int_equal(udp.status, TR_MALFORMED);
	put16(u + 4, 17);
	tr_decode_udp(u, 16, 16, NULL, &udp);
	assert_int_equal(udp.status, TR_MALFORMED);
	put16(u + 4, 16);
	assert_int_equal(tr_decode_udp(u, 16, 16, NULL, &udp), 8);
	assert_int_equal(udp.csum, TR_CSUM_NONE);
	tr_decode_udp(u, 5, 16, NULL, &udp);
	assert_int_equal(udp.status, TR_TRUNCATED);
}

static void app_protocols(void **state)
{
	(void)state;
	struct tr_app a;
	const char *s = "220 inetkit FTP server ready\r\n";
	tr_decode_app(6, 2121, 40000, (const uint8_t *)s, strlen(s), strlen(s), &a);
	assert_int_equal(a.proto, TR_APP_FTP);
	assert_string_equal(a.line, "220 inetkit FTP server ready");
	s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	tr_decode_app(6, 40000, 8888, (const uint8_t *)s, strlen(s), strlen(s), &a);
	assert_int_equal(a.proto, TR_APP_HTTP);
	assert_string_equal(a.line, "GET / HTTP/1.1");
	s = "+OK POP3 ready\r\n";
	tr_decode_app(6, 1100, 40000, (const uint8_t *)s, strlen(s), strlen(s), &a);
	assert_int_equal(a.proto, TR_APP_POP3);
	s = "a1 LOGIN bob hunter2\r\n";
	tr_decode_app(6, 40000, 143, (const uint8_t *)s, strlen(s), strlen(s), &a);
	assert_int_equal(a.proto, TR_APP_IMAP);
	assert_string_equal(a.line, "a1 LOGIN bob ****");
	s = "EHLO client\r\n";
	tr_decode_app(6, 40000, 2525, (const uint8_t *)s, strlen(s), strlen(s), &a);
	assert_int_equal(a.proto, TR_APP_SMTP);
	const uint8_t bin[] = {0, 1, 2, 0xff};
	tr_decode_app(6, 40000, 9, bin, 4, 10, &a);
	assert_int_equal(a.proto, TR_APP_DATA);
	assert_int_equal(a.status, TR_TRUNCATED);
	/* DNS query for www.example.com A, with a compression loop after */
	uint8_t q[64] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
			 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
			 0, 1, 0, 1};
	tr_decode_app(17, 40000, 53, q, 33, 33, &a);
	assert_int_equal(a.proto, TR_APP_DNS);
	assert_int_equal(a.status, TR_OK);
	assert_int_equal(a.dns_id, 0x1234);
	assert_string_equal(a.dns_name, "www.example.com.");
	assert_int_equal(a.dns_qtype, 1);
	q[12] = 0xc0; q[13] = 12;	/* points at itself */
	tr_decode_app(17, 40000, 53, q, 33, 33, &a);
	assert_int_equal(a.status, TR_MALFORMED);
	tr_decode_app(17, 40000, 53, q, 11, 11, &a);
	assert_int_equal(a.status, TR_TRUNCATED);
}

static void masking(void **state)
{
	(void)state;
	char l1[] = "PASS hunter2", l2[] = "AUTH PLAIN AGJvYgBodW50ZXIy", l3[] = "USER bob";
	char l4[] = "PASS", l5[] = "a AUTHENTICATE PLAIN eHh4", l6[] = "APOP bob c4c9334bac560ecc979e58001b3e22fb";
	assert_true(tr_mask_line(l1));
	assert_string_equal(l1, "PASS ****");
	assert_true(tr_mask_line(l2));
	assert_string_equal(l2, "AUTH PLAIN ****");
	assert_false(tr_mask_line(l3));
	assert_false(tr_mask_line(l4));
	assert_true(tr_mask_line(l5));
	assert_string_equal(l5, "a AUTHENTICATE PLAIN ****");
	assert_true(tr_mask_line(l6));
	assert_string_equal(l6, "APOP bob ****");
	assert_true(tr_mask_starts_sasl("AUTH LOGIN"));
	assert_true(tr_mask_starts_sasl("AUTH PLAIN"));
	assert_false(tr_mask_starts_sasl("AUTH PLAIN AGJv"));
	assert_true(tr_mask_starts_sasl("a1 AUTHENTICATE PLAIN"));
	assert_false(tr_mask_starts_sasl("USER bob"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_tcp_fields),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(ipv4_malformed),
		cmocka_unit_test(sll_ipv6_ext_udp),
		cmocka_unit_test(sll2_null_raw),
		cmocka_unit_test(tcp_sack_blocks),
		cmocka_unit_test(udp_lengths),
		cmocka_unit_test(app_protocols),
		cmocka_unit_test(masking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
