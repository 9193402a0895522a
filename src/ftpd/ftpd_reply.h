/* FTP server replies: codes and the text format of RFC 959 section 4.2
 * (the numeric lines written by core/reply_num, shared with the client
 * side and the mail protocols).
 *
 *   single line   "NNN text\r\n"
 *   multi-line    "NNN-first\r\n" ... body lines ... "NNN last\r\n"
 *
 * A body line that starts with a digit is indented by one space so a client
 * cannot mistake it for the end of the reply (RFC 959 4.2). Reply text never
 * carries a bare CR or LF: those are replaced, so a file name cannot inject
 * a reply line. Path names in 257 replies are quoted per RFC 959 appendix
 * II (an embedded '"' is doubled) and RFC 2640 3.1 (CR is sent as CR NUL). */
#ifndef INETKIT_FTPD_FTPD_REPLY_H
#define INETKIT_FTPD_FTPD_REPLY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/reply_num.h"
#include "lib/sbuf.h"

enum ftpd_reply_code {
	FTPD_R_RESTART_MARKER = 110,
	FTPD_R_READY_SOON = 120,
	FTPD_R_DATA_ALREADY_OPEN = 125,	/* transfer starting */
	FTPD_R_OPENING_DATA = 150,
	FTPD_R_OK = 200,
	FTPD_R_SUPERFLUOUS = 202,	/* ALLO, ACCT when not needed */
	FTPD_R_STATUS = 211,		/* STAT, FEAT */
	FTPD_R_DIR_STATUS = 212,
	FTPD_R_FILE_STATUS = 213,	/* SIZE, MDTM, STAT path */
	FTPD_R_HELP = 214,
	FTPD_R_SYSTEM = 215,
	FTPD_R_READY = 220,
	FTPD_R_GOODBYE = 221,
	FTPD_R_DATA_OPEN = 225,		/* ABOR with no transfer */
	FTPD_R_TRANSFER_DONE = 226,
	FTPD_R_PASV = 227,
	FTPD_R_EPSV = 229,
	FTPD_R_LOGGED_IN = 230,
	FTPD_R_AUTH_OK = 234,		/* AUTH TLS accepted (RFC 4217) */
	FTPD_R_FILE_OK = 250,
	FTPD_R_PATH_CREATED = 257,	/* also PWD */
	FTPD_R_NEED_PASSWORD = 331,
	FTPD_R_NEED_ACCOUNT = 332,
	FTPD_R_PENDING = 350,		/* RNFR, REST */
	FTPD_R_UNAVAILABLE = 421,	/* closing: limits, shutdown, idle */
	FTPD_R_NO_DATA_CONN = 425,
	FTPD_R_TRANSFER_ABORTED = 426,
	FTPD_R_FILE_BUSY = 450,
	FTPD_R_LOCAL_ERROR = 451,
	FTPD_R_NO_SPACE = 452,
	FTPD_R_SYNTAX = 500,		/* unknown command, line too long */
	FTPD_R_BAD_ARGS = 501,
	FTPD_R_NOT_IMPLEMENTED = 502,
	FTPD_R_BAD_SEQUENCE = 503,
	FTPD_R_BAD_PARAMETER = 504,	/* e.g. TYPE E, MODE B, bounce PORT */
	FTPD_R_BAD_PROTOCOL = 522,	/* EPRT/EPSV family (RFC 2428) */
	FTPD_R_DATA_TLS_REFUSED = 522,	/* data connection's TLS refused (as vsftpd) */
	FTPD_R_NOT_LOGGED_IN = 530,
	FTPD_R_ACCOUNT_REQUIRED = 532,
	FTPD_R_POLICY = 534,		/* RFC 4217: e.g. TLS required */
	FTPD_R_PROT_UNSUPPORTED = 536,
	FTPD_R_FILE_UNAVAILABLE = 550,
	FTPD_R_PAGE_UNKNOWN = 551,
	FTPD_R_QUOTA = 552,
	FTPD_R_BAD_NAME = 553,
};

/* Longest reply line we write, CRLF included; longer text is cut. */
#define FTPD_REPLY_LINE_MAX REPLY_NUM_LINE_MAX

/* "NNN text\r\n" appended to out. Returns 0, or -1 if out is full. */
int ftpd_reply(struct sbuf *out, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ftpd_reply_v(struct sbuf *out, int code, const char *fmt, va_list ap);

/* Build a multi-line reply piece by piece:
 *   ftpd_reply_begin(out, 211, "Features:");
 *   ftpd_reply_body(out, " UTF8");
 *   ftpd_reply_end(out, 211, "End");
 * body text may hold several lines separated by "\n" or "\r\n". */
int ftpd_reply_begin(struct sbuf *out, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ftpd_reply_body(struct sbuf *out, const char *text);
int ftpd_reply_end(struct sbuf *out, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* All in one: first line, body (lines separated by LF/CRLF), last line. */
int ftpd_reply_multi(struct sbuf *out, int code, const char *first, const char *body,
		     const char *last);

/* Append a path quoted for a 257 reply: "/a ""b""" for /a "b"; a CR in
 * the name is sent as CR NUL (RFC 2640). A LF cannot be represented on the
 * control connection: returns -1 with errno EINVAL (answer 550 instead). */
int ftpd_reply_quote_path(struct sbuf *out, const char *path);

/* The 257 reply: `257 "<path>" <text>`. Returns 0 or -1 (errno as above). */
int ftpd_reply_path(struct sbuf *out, int code, const char *path, const char *text);

/* Reply code for an errno from a file operation: 452 for ENOSPC, 552 for
 * EDQUOT/EFBIG, 553 for bad names (EINVAL, ENAMETOOLONG), else 550.
 * The text is jail_errno_reply(err). */
int ftpd_reply_errno_code(int err);
/* "<code> <what>: <text>" for a failed file operation, e.g.
 * "550 /pub/x: No such file or directory". what may be NULL. */
int ftpd_reply_errno(struct sbuf *out, int err, const char *what);

/* What STAT without an argument reports (RFC 959: 211 status). */
struct ftpd_status {
	const char *server;	/* "inetkit 0.1.0" */
	const char *peer;	/* "127.0.0.1:40000" */
	const char *user;	/* NULL when not logged in */
	bool tls_control;
	bool tls_data;		/* PROT P */
	char type;		/* 'A' or 'I' */
	unsigned long long bytes_in, bytes_out;
	unsigned idle_timeout_s;
	bool transfer_active;
	const char *transfer_name;	/* shown if transfer_active */
	unsigned long long transfer_bytes;
};
int ftpd_reply_status(struct sbuf *out, const struct ftpd_status *s);

#endif
