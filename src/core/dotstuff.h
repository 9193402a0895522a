/* Dot-stuffing of a message body sent as lines up to a lone "." (SMTP DATA,
 * RFC 5321 4.5.2 and 2.3.8; POP3 multi-line responses, RFC 1939 3; NNTP,
 * RFC 3977 3.1.1), written once for servers and clients:
 *
 *   dotstuff_stuff     sending: a '.' that starts a line is doubled, every
 *                      line end becomes CR LF (a bare LF or a bare CR, as in
 *                      a Maildir file, is never put on the wire: a receiver
 *                      could read "\n.\n" as the end, the "SMTP smuggling"
 *                      confusion); dotstuff_end then writes the end line.
 *   dotstuff_scan      receiving, zero-copy: how many of the next bytes are
 *                      body as they stand, and what follows them (a line's
 *                      leading '.', removed; the end line "."; bytes that
 *                      cannot be decided yet). The server's DATA mode hands
 *                      those runs to the protocol straight from its input
 *                      buffer (core/session_data.c).
 *   dotstuff_unstuff   receiving, copying: dotstuff_scan's runs written to
 *                      an output buffer, for a reader whose chunks are its
 *                      own (the client core, core/client_reply.c).
 *
 * Receiving, a '.' that starts a line is removed and the line "." ends the
 * body. The end is only CR LF "." CR LF unless the reader asks to accept
 * bare LF as a line end too (a client reading a lax server): strict, a line
 * starts only after CR LF, so that "\n.\n", "\r.\n" and "\r\n.\n" are
 * body, never an end that a server or relay behind us would read otherwise
 * (SMTP smuggling). Bare CR, bare LF and NUL are counted and left in the
 * body for the protocol to refuse: repairing them silently would hide what
 * the peer sent.
 *
 * All work on chunks of any size, cut anywhere (an evbuffer's, a read()'s):
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
	bool no_dots;	/* line ends only, no '.' doubled: a BDAT chunk (RFC 3030)
			 * is counted in octets, never ended by a line */
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
/* The end of a body sent without an end line (BDAT): CR LF if the last
 * line had none, else nothing. out has room for 2 bytes; returns the bytes
 * written. */
size_t dotstuff_end_line(struct dot_stuffer *s, char *out);

/* ---- Receiving. ---- */
struct dot_unstuffer {
	unsigned state;		/* zeroed: at a line start, strict */
	bool lf_ends_line;	/* a bare LF ends a line too (lenient reader) */
	bool done;		/* the end line was read */
	uint64_t bare_cr;	/* CR not followed by LF */
	uint64_t bare_lf;	/* LF not preceded by CR */
	uint64_t nul;		/* NUL bytes */
	/* dotstuff_unstuff only: undecided bytes kept from the last chunk */
	char held[2];
	unsigned char nheld;
};

void dotstuff_unstuff_init(struct dot_unstuffer *u, bool lf_ends_line);

/* Look at in[0, n). The first *run bytes are body, as they stand; the
 * return value (>= *run) is how many bytes to drop from the front of the
 * input: the run, then a line's leading '.' (removed) or the end line
 * (u->done is set; nothing after it is consumed, nor looked at by later
 * calls). Bytes that cannot be decided yet, a CR as the last byte (CR LF
 * or a bare CR?), a line's leading '.' or "." CR as the last bytes (the
 * end or stuffing?), are not consumed: at most 2 bytes, so that with
 * n >= 3 something is always consumed. Call again with the rest. */
size_t dotstuff_scan(struct dot_unstuffer *u, const char *in, size_t n, size_t *run);

/* Unstuff up to n bytes of in into out, which has room for n + 1 bytes (one
 * byte held back from the previous chunk may come out now). Stops right
 * after the end line, setting u->done; the bytes after it are not consumed
 * (they are the next reply or command). Until then all of in is consumed:
 * undecided bytes are held in u. The body written keeps its line ends as
 * they came, the one before the end line included; the end line is not
 * written. Returns the bytes of in consumed; *outlen the bytes written. */
size_t dotstuff_unstuff(struct dot_unstuffer *u, const char *in, size_t n, char *out,
			size_t *outlen);

#endif
