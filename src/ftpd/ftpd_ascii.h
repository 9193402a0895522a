/* TYPE A (ASCII) conversion for data transfers (RFC 959 3.1.1.1): the
 * wire carries CRLF line ends, the local files LF. Streaming: the state
 * carries what a buffer boundary splits (a CR at the end of one buffer and
 * its LF at the start of the next), so any split of the stream gives the
 * same bytes as converting it whole.
 *
 * Sending, LF becomes CRLF, except a LF already preceded by CR (a file
 * with DOS line ends is not turned into CR CR LF). Receiving, CRLF becomes
 * LF; a CR not followed by LF is kept as it is. */
#ifndef INETKIT_FTPD_FTPD_ASCII_H
#define INETKIT_FTPD_FTPD_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ftpd_ascii {
	bool last_cr;		/* send: the previous byte was CR */
	bool pending_cr;	/* receive: a CR is held back, waiting for LF */
};

void ftpd_ascii_init(struct ftpd_ascii *st);

/* Send direction: convert in[0, n) into out, which must have room for
 * 2 * n bytes. Returns the bytes written. */
size_t ftpd_ascii_to_wire(struct ftpd_ascii *st, const char *in, size_t n, char *out);

/* Receive direction: convert in[0, n) into out, which must have room for
 * n + 1 bytes (a CR held from the previous call may be released). Returns
 * the bytes written. */
size_t ftpd_ascii_from_wire(struct ftpd_ascii *st, const char *in, size_t n, char *out);
/* At the end of the stream: a held CR is real data. Writes 0 or 1 byte
 * into out and returns the count. */
size_t ftpd_ascii_from_wire_end(struct ftpd_ascii *st, char *out);

/* The size of a file as TYPE A sends it (LF -> CRLF), reading fd to its
 * end: 0, or -1 with errno (EFBIG once more than limit bytes were read). */
int ftpd_ascii_size(int fd, uint64_t limit, uint64_t *out);

#endif
