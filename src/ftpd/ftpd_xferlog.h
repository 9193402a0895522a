/* Transfer log lines in the wu-ftpd xferlog format (xferlog(5)), which
 * log analysers for FTP servers read (vsftpd and ProFTPD write it too):
 *
 *   current-time transfer-time remote-host file-size filename
 *   transfer-type special-action-flag direction access-mode username
 *   service-name authentication-method authenticated-user-id
 *   completion-status
 *
 * e.g.
 *   Mon Jan  5 12:00:00 2026 2 127.0.0.1 1048576 /pub/a.iso b _ o r alice ftp 0 * c
 *
 * Fields are separated by single spaces, so white space and control bytes
 * inside the file name, user name or host are written as '_'; an empty
 * field is written as '*'. */
#ifndef INETKIT_FTPD_FTPD_XFERLOG_H
#define INETKIT_FTPD_FTPD_XFERLOG_H

#include <stdbool.h>
#include <time.h>

#include "lib/sbuf.h"

enum ftpd_xfer_direction {
	FTPD_XFER_OUTGOING = 'o',	/* RETR */
	FTPD_XFER_INCOMING = 'i',	/* STOR, STOU, APPE */
	FTPD_XFER_DELETE = 'd',		/* DELE */
};

enum ftpd_xfer_access {
	FTPD_XFER_ANONYMOUS = 'a',
	FTPD_XFER_GUEST = 'g',
	FTPD_XFER_REAL = 'r',
};

struct ftpd_xferlog_rec {
	time_t when;		/* end of the transfer */
	bool utc;		/* current-time in UTC instead of local time */
	unsigned long seconds;	/* transfer-time, whole seconds */
	const char *host;	/* remote host, e.g. "127.0.0.1" */
	unsigned long long bytes;
	const char *path;	/* the virtual path */
	bool ascii;		/* TYPE A ('a') or binary ('b') */
	enum ftpd_xfer_direction direction;
	enum ftpd_xfer_access access;
	const char *user;	/* anonymous: the password (e-mail) given */
	const char *service;	/* NULL: "ftp" */
	const char *auth_user;	/* RFC 931 identity; NULL: method 0 and "*" */
	bool complete;		/* 'c', else 'i' (incomplete) */
};

/* Append one line, "\n"-terminated. Returns 0 or -1 if out is full. */
int ftpd_xferlog_format(struct sbuf *out, const struct ftpd_xferlog_rec *r);

#endif
