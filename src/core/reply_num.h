/* Numeric replies, as FTP and SMTP servers write them and their clients
 * read them (RFC 959 4.2, RFC 5321 4.2):
 *
 *   single line   "NNN text" (or just "NNN")
 *   multi-line    "NNN-first" ... "NNN last"
 *
 * Inside a multi-line reply only a line that starts with the opening code
 * followed by a space (or nothing) ends it; every other line, "NNN-" ones
 * and RFC 959's free text lines included, belongs to it. Pure: no I/O, so
 * the rule is unit-tested and fuzzed once for every protocol using it. */
#ifndef INETKIT_CORE_REPLY_NUM_H
#define INETKIT_CORE_REPLY_NUM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "lib/sbuf.h"

/* The longest line reply_num_write_line writes, CR LF included; longer text
 * is cut. (RFC 5321 4.5.3.1.5 asks SMTP servers for 512: their own texts
 * stay under that.) */
#define REPLY_NUM_LINE_MAX 1024

/* Progress through one reply: zero it (or reply_num_init) before the first
 * line. */
struct reply_num {
	int code;	/* set by the first line */
	bool multi;	/* inside "NNN-" ... */
};

void reply_num_init(struct reply_num *p);
/* The code at the start of s ("NNN", first digit 1 to 5), or -1. */
int reply_num_code(const char *s, size_t len);
/* Feed one line (CR LF removed). 1 = the reply is complete, 0 = more lines
 * belong to it, -1 = a first line that is no numeric reply: e says
 * "malformed <proto> reply '<excerpt>' (expected a 3-digit code from 100 to
 * 599)", the excerpt free of control bytes. */
int reply_num_line(struct reply_num *p, const char *line, size_t len, const char *proto,
		   ik_err *e);

/* Append "NNN-text" CR LF (last false) or "NNN text" CR LF (last true).
 * A CR or LF in text becomes a space, so that no text can end the line
 * early and pose as another reply. 0, or -1 when out is full (out as it
 * was). */
int reply_num_write_line(struct sbuf *out, int code, bool last, const char *text, size_t len);
/* Append only a line's "NNN-" or "NNN ", for a protocol that writes the
 * rest of that line itself (FTP's 257 reply, whose quoted path carries CR
 * as CR NUL, RFC 2640 3.1, where the line writer would make it a space).
 * 0, or -1 when out is full or the code is not 100 to 599 (out as it was). */
int reply_num_write_code(struct sbuf *out, int code, bool last);
/* A whole reply: each line of text (lines separated by LF or CR LF) with
 * the code, all but the last as "NNN-" (RFC 5321's form, which RFC 959
 * accepts too); an empty text gives "NNN " alone. 0 or -1 (out as it was). */
int reply_num_write(struct sbuf *out, int code, const char *text);

#endif
