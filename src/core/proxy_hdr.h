/* The PROXY protocol header a load balancer (HAProxy, "send-proxy" and
 * "send-proxy-v2") puts in front of a relayed TCP connection to tell the
 * server who the real client is. HAProxy's specification, "The PROXY
 * protocol, versions 1 & 2" (doc/proxy-protocol.txt):
 *
 *   v1  one text line, at most 107 bytes with its CRLF:
 *       "PROXY TCP4|TCP6|UNKNOWN SRC DST SPORT DPORT\r\n"
 *   v2  a 16-byte binary head (12-byte signature, version/command,
 *       family/transport, big-endian length) then that many bytes: the
 *       addresses, then TLVs, which we skip.
 *
 * Pure parsing, no I/O: core/listener.c feeds it the bytes it has and
 * reads from the socket only what the header is made of, so nothing
 * the client sends after it is lost. */
#ifndef INETKIT_CORE_PROXY_HDR_H
#define INETKIT_CORE_PROXY_HDR_H

#include <stddef.h>
#include <sys/socket.h>

/* The longest header taken. A v1 line is at most 107 bytes; a v2 header
 * is 16 + its length, which HAProxy keeps well under this unless told to
 * send large TLVs. A longer one is refused rather than buffered. */
#define PROXY_HDR_MAX 1024
#define PROXY_V1_MAX 107

enum proxy_hdr_result {
	PROXY_HDR_MORE = 0,	/* a valid start: more bytes are needed */
	PROXY_HDR_DONE,		/* complete; *used bytes are the header */
	PROXY_HDR_BAD,		/* not a PROXY header, or a malformed one */
};

struct proxy_hdr {
	int version;		/* 1 or 2 */
	/* The connection's own endpoints stand: v2 LOCAL (the balancer's
	 * health check), v1 UNKNOWN, or an address family other than
	 * IPv4/IPv6 (v2 UNSPEC, UNIX). The addresses below are zero. */
	int local;
	struct sockaddr_storage src;	/* the client */
	struct sockaddr_storage dst;	/* the address the client reached */
	socklen_t srclen, dstlen;
};

/* Parse the len bytes at p, the first bytes of a connection. DONE fills
 * *h and *used (the header's length: what follows is the client's);
 * MORE: what is there is a valid beginning, and every byte of it belongs
 * to the header (so the caller may consume it); BAD fills why. */
enum proxy_hdr_result proxy_hdr_parse(const unsigned char *p, size_t len, struct proxy_hdr *h,
				      size_t *used, char *why, size_t whysz);

#endif
