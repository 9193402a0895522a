/* FTP data-connection addresses: PORT and EPRT arguments in, PASV and EPSV
 * replies out, and the active-mode policy.
 *
 * RFC 959 4.1.2 (PORT h1,h2,h3,h4,p1,p2; 227 reply), RFC 2428 (EPRT
 * |proto|addr|port|, EPSV, 229 (|||port|), 522 for an unsupported
 * protocol), RFC 2577 section 3 (the "bounce" attack: refuse active
 * connections to any address but the client's own, and to ports < 1024). */
#ifndef INETKIT_FTPD_FTPD_ADDR_H
#define INETKIT_FTPD_FTPD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/error.h"

enum ftpd_addr_status {
	FTPD_ADDR_OK = 0,
	FTPD_ADDR_SYNTAX = -1,		/* reply 501 with the message */
	FTPD_ADDR_PROTOCOL = -2,	/* EPRT/EPSV family we do not speak: 522 */
};

/* The 522 text of RFC 2428 section 2: the families we support. */
#define FTPD_ADDR_522_TEXT "Network protocol not supported, use (1,2)"

/* "h1,h2,h3,h4,p1,p2", each a decimal 0..255 of 1-3 digits, no spaces.
 * Fills an AF_INET sockaddr_in. */
enum ftpd_addr_status ftpd_addr_parse_port(const char *arg, struct sockaddr_storage *out,
					   socklen_t *outlen, ik_err *e);

/* "<d>proto<d>address<d>port<d>" where d is one printable ASCII byte
 * (33..126; RFC 2428 suggests '|') not appearing elsewhere, proto 1
 * (IPv4 dotted quad) or 2 (IPv6 text, no zone), port 0..65535 (the
 * policy check refuses ports below 1024). */
enum ftpd_addr_status ftpd_addr_parse_eprt(const char *arg, struct sockaddr_storage *out,
					   socklen_t *outlen, ik_err *e);

/* EPSV arguments. */
enum ftpd_epsv_kind {
	FTPD_EPSV_ANY,		/* no argument: the control connection's family */
	FTPD_EPSV_IPV4,		/* "1" */
	FTPD_EPSV_IPV6,		/* "2" */
	FTPD_EPSV_ALL,		/* "ALL": only EPSV from now on */
};

/* Parse the EPSV argument ("" for none) and check it against the control
 * connection's local address family (IPv4-mapped IPv6 counts as IPv4):
 * an unknown number or another family gives FTPD_ADDR_PROTOCOL (522). */
enum ftpd_addr_status ftpd_addr_parse_epsv(const char *arg, const struct sockaddr *control_local,
					   enum ftpd_epsv_kind *kind, ik_err *e);

/* RFC 2577: an active data connection may go only to the control peer's
 * own address (IPv4-mapped IPv6 equals its IPv4 form) and to a port of
 * 1024 or more. Returns 0, or -1 with e saying which rule was broken; the
 * server answers 504 (bounce attempt refused). */
int ftpd_addr_check_active(const struct sockaddr *target, const struct sockaddr *control_peer,
			   ik_err *e);

/* The 227 reply text "Entering Passive Mode (h1,h2,h3,h4,p1,p2)." for the
 * IPv4 address addr (sockaddr_in or IPv4-mapped sockaddr_in6) and port.
 * Returns 0, or -1 if addr is a real IPv6 address (PASV cannot express it;
 * answer 522/425 and point at EPSV) or buf is too small. */
int ftpd_addr_pasv_text(const struct sockaddr *addr, uint16_t port, char *buf, size_t bufsz);

/* The 229 reply text "Entering Extended Passive Mode (|||port|)". */
int ftpd_addr_epsv_text(uint16_t port, char *buf, size_t bufsz);

/* The PORT argument text for an IPv4 address + port (the inverse of
 * ftpd_addr_parse_port; used by tests and clients). */
int ftpd_addr_port_text(const struct sockaddr *addr, char *buf, size_t bufsz);

#endif
