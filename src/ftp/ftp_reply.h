/* FTP replies as a client reads them (RFC 2428 EPSV/EPRT, RFC 3659
 * SIZE/MDTM/MLST, RFC 2389 FEAT, RFC 4217 FTPS). Where a reply ends (RFC
 * 959 4.2) is the core's numeric rule, core/reply_num.h. Pure parsing: no
 * I/O, so every function here is unit-tested and fuzzed. */
#ifndef INETKIT_FTP_REPLY_H
#define INETKIT_FTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/error.h"

/* 1xx..5xx -> 1..5 */
static inline int ftp_reply_class(int code) { return code / 100; }

/* 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2): the port, and the
 * address the server named (only reported; a client must not use it). */
int ftp_parse_pasv(const char *text, uint8_t addr[4], uint16_t *port);
/* 229 Entering Extended Passive Mode (|||port|) */
int ftp_parse_epsv(const char *text, uint16_t *port);
/* 257 "/the ""quoted"" dir" is current: the path, quotes undoubled. */
int ftp_parse_pwd(const char *text, char *path, size_t pathsz);
/* 213 1234 */
int ftp_parse_size(const char *text, uint64_t *size);
/* YYYYMMDDHHMMSS[.sss] (UTC), alone or after "213 ". */
int ftp_parse_time(const char *text, time_t *t);

/* What FEAT announced (RFC 2389: one feature per line, after a space). */
struct ftp_features {
	bool mlsd, size, mdtm, mfmt, rest_stream, utf8, epsv, tvfs, auth_tls;
};
void ftp_parse_feat(const char *text, struct ftp_features *f);

/* "EPRT |1|127.0.0.1|5000|" / "PORT 127,0,0,1,19,136" arguments. */
int ftp_format_eprt(const struct sockaddr *sa, char *buf, size_t bufsz);
int ftp_format_port(const struct sockaddr *sa, char *buf, size_t bufsz);

#endif
