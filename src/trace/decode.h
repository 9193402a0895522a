/* Packet decoding for `inetkit trace`: one decoder per layer, each reading
 * only the bytes it is given and recording what it found, what was cut off
 * by the capture (truncated) and what cannot be right (malformed).
 *
 * Link: Ethernet II with 802.1Q tags (IEEE 802.3), Linux cooked capture v1
 * and v2 (tcpdump.org LINKTYPE_LINUX_SLL/SLL2), BSD loopback/null, raw IP.
 * Network: IPv4 (RFC 791, header checksum RFC 1071), IPv6 (RFC 8200) with
 * its extension headers walked, never trusted. Transport: TCP (RFC 9293)
 * with options MSS, window scale and timestamps (RFC 7323), SACK (RFC
 * 2018); UDP (RFC 768). Application: the first line of text protocols and
 * the DNS header and question (RFC 1035).
 *
 * Nothing here allocates or does I/O: the fuzzers and unit tests drive each
 * decoder with raw bytes. */
#ifndef INETKIT_TRACE_DECODE_H
#define INETKIT_TRACE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a layer's decoder concluded. */
enum tr_status {
	TR_ABSENT = 0,	/* the layer is not there (or not decoded) */
	TR_OK,
	TR_TRUNCATED,	/* the capture stopped inside it (snaplen) */
	TR_MALFORMED,	/* its fields contradict each other or the packet */
};
const char *tr_status_name(enum tr_status s);

/* Link types, numbered as in pcap files (LINKTYPE_*). */
enum {
	TR_DLT_NULL = 0,
	TR_DLT_EN10MB = 1,
	TR_DLT_RAW_BSD = 12,	/* DLT_RAW as libpcap reports it on Linux */
	TR_DLT_RAW = 101,
	TR_DLT_LOOP = 108,
	TR_DLT_LINUX_SLL = 113,
	TR_DLT_IPV4 = 228,
	TR_DLT_IPV6 = 229,
	TR_DLT_LINUX_SLL2 = 276,
};

enum tr_link_kind { TR_LINK_NONE, TR_LINK_ETH, TR_LINK_SLL, TR_LINK_SLL2, TR_LINK_NULL, TR_LINK_RAW };

struct tr_link {
	enum tr_status status;
	enum tr_link_kind kind;
	size_t hdr_len;		/* bytes of link header (with VLAN tags) */
	uint16_t ethertype;	/* of the payload; 0 if unknown */
	uint8_t src[8], dst[8];	/* hardware addresses (dst: Ethernet only) */
	uint8_t addr_len;	/* bytes of src (and dst for Ethernet) */
	uint16_t pkttype;	/* SLL: 0 to us, 4 sent by us, ... */
	uint32_t ifindex;	/* SLL2 */
	uint16_t vlan;		/* first 802.1Q tag's VLAN id, if vlan_tags */
	uint8_t vlan_tags;
	uint32_t family;	/* null/loopback: the AF_ value */
	char why[64];		/* what was wrong, when not TR_OK */
};

/* Ethertypes this decoder follows. */
#define TR_ETH_IPV4 0x0800
#define TR_ETH_IPV6 0x86dd

struct tr_ip {
	enum tr_status status;
	uint8_t version;	/* 4 or 6 */
	size_t hdr_len;		/* IPv4 header, or IPv6 header + extension headers */
	size_t total_len;	/* as the header says: IPv4 total, IPv6 40 + payload length */
	uint8_t proto;		/* the transport protocol after any extension headers */
	uint8_t ttl;		/* TTL or hop limit */
	uint8_t tos;		/* IPv4 TOS / IPv6 traffic class */
	uint8_t src[16], dst[16];
	uint16_t id, frag_off;	/* IPv4: id, offset in 8-byte units */
	bool df, mf;
	uint16_t checksum;
	bool checksum_ok;	/* IPv4 only, when the header was whole */
	uint32_t flow_label;	/* IPv6 */
	uint8_t ext_count;	/* IPv6 extension headers walked */
	uint8_t ext[8];		/* their types, in order (the first 8) */
	bool fragment;		/* a later fragment: no transport header here */
	char why[64];
};

#define TR_TCP_FIN 0x01
#define TR_TCP_SYN 0x02
#define TR_TCP_RST 0x04
#define TR_TCP_PSH 0x08
#define TR_TCP_ACK 0x10
#define TR_TCP_URG 0x20
#define TR_TCP_ECE 0x40
#define TR_TCP_CWR 0x80

#define TR_SACK_MAX 4

/* Transport checksum, verified over the pseudo-header when the segment
 * was captured whole. */
enum tr_csum { TR_CSUM_UNVERIFIED = 0, TR_CSUM_OK, TR_CSUM_BAD, TR_CSUM_NONE };
const char *tr_csum_name(enum tr_csum c);

struct tr_tcp {
	enum tr_status status;
	uint16_t sport, dport;
	uint32_t seq, ack;
	size_t hdr_len;
	uint8_t flags;
	uint16_t window, checksum, urgent;
	enum tr_csum csum;
	/* options */
	bool has_mss, has_wscale, sack_perm, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count;
	uint32_t sack[TR_SACK_MAX][2];
	bool opt_bad;		/* an option ran past the header */
	char why[64];
};

struct tr_udp {
	enum tr_status status;
	uint16_t sport, dport, length, checksum;
	enum tr_csum csum;
	char why[64];
};

enum tr_app_proto {
	TR_APP_NONE = 0, TR_APP_DATA, TR_APP_FTP, TR_APP_SMTP, TR_APP_POP3, TR_APP_IMAP,
	TR_APP_HTTP, TR_APP_DNS,
};
const char *tr_app_name(enum tr_app_proto p);

#define TR_LINE_MAX 160

struct tr_app {
	enum tr_status status;
	enum tr_app_proto proto;
	char line[TR_LINE_MAX];	/* the first line (printable; control bytes as '.') */
	bool line_cut;		/* the line went on past what is shown */
	/* DNS */
	uint16_t dns_id, dns_flags, dns_qd, dns_an;
	uint16_t dns_qtype;
	char dns_name[256];
};

/* A whole packet. Offsets are into the captured bytes. */
struct tr_packet {
	size_t caplen, wirelen;
	struct tr_link link;
	struct tr_ip ip;
	struct tr_tcp tcp;
	struct tr_udp udp;
	struct tr_app app;
	size_t net_off, trans_off, app_off;
	size_t app_len;		/* payload bytes captured */
	size_t app_wire_len;	/* payload bytes on the wire, as the headers say */
};

/* Each layer: p[0, caplen) are the captured bytes; wirelen is what the
 * layer below says the whole is (>= caplen). Fills the struct and returns
 * the offset where the payload starts (0 if there is none to decode). */
size_t tr_decode_link(int dlt, const uint8_t *p, size_t caplen, struct tr_link *l);
size_t tr_decode_ip(const uint8_t *p, size_t caplen, size_t wirelen, struct tr_ip *ip);
size_t tr_decode_tcp(const uint8_t *p, size_t caplen, size_t wirelen, const struct tr_ip *ip,
		     struct tr_tcp *t);
size_t tr_decode_udp(const uint8_t *p, size_t caplen, size_t wirelen, const struct tr_ip *ip,
		     struct tr_udp *u);
/* Names the application from its ports and first bytes; len is what was
 * captured, wire_len what the transport header says there is. */
void tr_decode_app(uint8_t ipproto, uint16_t sport, uint16_t dport, const uint8_t *p,
		   size_t len, size_t wire_len, struct tr_app *a);

/* All layers of one captured frame. */
void tr_decode(int dlt, const uint8_t *p, size_t caplen, size_t wirelen, struct tr_packet *pk);

/* The Internet checksum (RFC 1071) of p[0, n), folded, not inverted, added
 * to an initial sum. */
uint32_t tr_sum(const uint8_t *p, size_t n, uint32_t sum);
uint16_t tr_fold(uint32_t sum);

/* A hard-to-get-wrong label for the worst status of a packet's layers. */
enum tr_status tr_packet_status(const struct tr_packet *pk);

#endif
