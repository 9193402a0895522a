/* Dot-stuffing of a message body sent as lines up to a lone "." (SMTP DATA,
 * RFC 5321 4.5.2 and 2.3.8; POP3 multi-line responses, RFC 1939 3; NNTP,
 * RFC 3977 3.1.1). One pure pair, shared by servers and clients:
 *
 *   dotstuff_stuff     sending: a '.' that starts a line is doubled, every
 *                      line end becomes CR LF (a bare LF or a bare CR, as in
 *                      a Maildir file, is never put on the wire: a receiver
 *                      could read "\n.\n" as the end, the "SMTP smuggling"
 *                      confusion); dotstuff_end then writes the end line.
 *   dotstuff_unstuff   receiving: a '.' that starts a line is removed and
 *                      the line "." ends the body. The end is only CR LF "."
 *                      CR LF unless the reader asks to accept bare LF as a
 *                      line end too (a client reading a lax server); bare CR
 *                      and bare LF are counted for the protocol to refuse.
 *
 * Both work on chunks of any size, cut anywhere (an evbuffer's, a read()'s):
 * the state between calls is the small struct. No I/O, no allocation. The
 * body begins at the start of a line (right after the command's or the
 * status line's CR LF). */
#ifndef INETKIT_CORE_DOTSTUFF_H
#define INETKIT_CORE_DOTSTUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Sending. ---- */
struct dot_stuffer {
	unsigned state;
};

/* Most bytes dotstuff_stuff writes for one input byte, and dotstuff_end
 * writes in all. */
#define DOTSTUFF_OUT_PER_BYTE 3
#define DOTSTUFF_END_MAX 5

void dotstuff_stuff_init(struct dot_stuffer *s);
/* Stuff up to n bytes of in into out (outcap bytes of room). Stops early
 * when out has less than DOTSTUFF_OUT_PER_BYTE bytes left, so any outcap of
 * at least that makes progress; 3 * n always takes the whole input.
 * Returns the bytes of in consumed; *outlen is set to the bytes written. */
size_t dotstuff_stuff(struct dot_stuffer *s, const char *in, size_t n, char *out, size_t outcap,
		      size_t *outlen);
/* The end of the body: CR LF if the last line had none, then "." CR LF.
 * out has room for DOTSTUFF_END_MAX bytes; returns the bytes written. */
size_t dotstuff_end(struct dot_stuffer *s, char *out);

/* ---- Receiving. ---- */
struct dot_unstuffer {
	unsigned state;
	bool lf_ends_line;	/* a bare LF ends a line too (lenient reader) */
	bool done;		/* the end line was read */
	uint64_t bare_cr;	/* CR not followed by LF */
	uint64_t bare_lf;	/* LF not preceded by CR */
};

void dotstuff_unstuff_init(struct dot_unstuffer *u, bool lf_ends_line);
/* Unstuff up to n bytes of in into out, which has room for n + 1 bytes (one
 * byte held back from the previous chunk may come out now). Stops right
 * after the end line, setting u->done; the bytes after it are not consumed
 * (they are the next reply or command). The body written keeps its line
 * ends as they came, the one before the end line included; the end line is
 * not written. Returns the bytes of in consumed; *outlen the bytes written. */
size_t dotstuff_unstuff(struct dot_unstuffer *u, const char *in, size_t n, char *out,
			size_t *outlen);

#endif
