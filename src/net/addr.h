/* IPv4 and IPv6 address logic: parse, format, classify, CIDR (no I/O). */
#ifndef INETKIT_NET_ADDR_H
#define INETKIT_NET_ADDR_H
#endif
