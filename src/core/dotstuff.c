/* Dot-stuffing and unstuffing (RFC 5321 4.5.2, RFC 1939 3), as byte state
 * machines so that a chunk may end anywhere: inside a CR LF, right after a
 * line's first '.', or inside the end line. Receiving has one scanner,
 * dotstuff_scan, that never copies; dotstuff_unstuff is a copy loop over
 * it. */
#include "core/dotstuff.h"

#include <string.h>

enum { S_BOL, S_TEXT, S_CR };	/* stuffer: line start, in a line, after CR */

void dotstuff_stuff_init(struct dot_stuffer *s)
{
	s->state = S_BOL;
	s->no_dots = false;
}

size_t dotstuff_stuff(struct dot_stuffer *s, const char *in, size_t n, char *out, size_t outcap,
		      size_t *outlen)
{
	size_t i = 0, k = 0;
	for (; i < n && outcap - k >= DOTSTUFF_OUT_PER_BYTE; i++) {
		char b = in[i];
		if (s->state == S_CR) {
			out[k++] = '\n';	/* CR LF, or a bare CR made one */
			s->state = S_BOL;
			if (b == '\n')
				continue;
		}
		if (s->state == S_BOL && b == '.' && !s->no_dots)
			out[k++] = '.';
		if (b == '\n') {
			out[k++] = '\r';
			out[k++] = '\n';
			s->state = S_BOL;
		} else {
			out[k++] = b;
			s->state = b == '\r' ? S_CR : S_TEXT;
		}
	}
	*outlen = k;
	return i;
}

size_t dotstuff_end_line(struct dot_stuffer *s, char *out)
{
	size_t k = 0;
	if (s->state == S_TEXT)
		out[k++] = '\r';
	if (s->state != S_BOL)
		out[k++] = '\n';
	s->state = S_BOL;
	return k;
}

size_t dotstuff_end(struct dot_stuffer *s, char *out)
{
	size_t k = 0;
	if (s->state == S_TEXT)
		out[k++] = '\r';
	if (s->state != S_BOL)
		out[k++] = '\n';
	out[k++] = '.';
	out[k++] = '\r';
	out[k++] = '\n';
	s->state = S_BOL;
	return k;
}

/* unstuffer: at a line start, in a line, after the end line */
enum { U_BOL, U_TEXT, U_END };

void dotstuff_unstuff_init(struct dot_unstuffer *u, bool lf_ends_line)
{
	*u = (struct dot_unstuffer){.state = U_BOL, .lf_ends_line = lf_ends_line};
}

static size_t scan_end(struct dot_unstuffer *u, size_t run_len, size_t *run, size_t consumed)
{
	u->state = U_END;
	u->done = true;
	*run = run_len;
	return consumed;
}

size_t dotstuff_scan(struct dot_unstuffer *u, const char *in, size_t n, size_t *run)
{
	size_t i = 0;
	*run = 0;
	if (u->state == U_END)
		return 0;
	for (;;) {
		if (u->state == U_BOL) {
			if (i >= n)
				break;
			if (in[i] == '.') {
				/* "." CR LF ends the body (and "." LF for a lenient
				 * reader); any other leading dot is stuffing. */
				if (i + 1 >= n)
					break;
				if (in[i + 1] == '\n' && u->lf_ends_line) {
					u->bare_lf++;
					return scan_end(u, i, run, i + 2);
				}
				if (in[i + 1] == '\r') {
					if (i + 2 >= n)
						break;
					if (in[i + 2] == '\n')
						return scan_end(u, i, run, i + 3);
				}
				u->state = U_TEXT;
				*run = i;
				return i + 1;	/* the run, and the dot dropped */
			}
			u->state = U_TEXT;
		}
		while (i < n) {
			char c = in[i];
			if (c == '\r') {
				if (i + 1 >= n)
					break;	/* CR LF or a bare CR: the next byte says */
				if (in[i + 1] == '\n') {
					i += 2;
					u->state = U_BOL;
					break;
				}
				u->bare_cr++;
			} else if (c == '\n') {
				u->bare_lf++;
				if (u->lf_ends_line) {
					i++;
					u->state = U_BOL;
					break;
				}
			} else if (c == '\0') {
				u->nul++;
			}
			i++;
		}
		if (u->state != U_BOL)
			break;
	}
	*run = i;
	return i;
}

size_t dotstuff_unstuff(struct dot_unstuffer *u, const char *in, size_t n, char *out,
			size_t *outlen)
{
	size_t i = 0, k = 0;
	while (!u->done && i < n) {
		/* The bytes held from the last chunk go first, with enough of
		 * this one to decide them (3 bytes always decide something). */
		char win[3];
		const char *p = in + i;
		size_t avail = n - i, held = u->nheld;
		if (held > 0) {
			size_t add = sizeof win - held < avail ? sizeof win - held : avail;
			memcpy(win, u->held, held);
			memcpy(win + held, in + i, add);
			p = win;
			avail = held + add;
		}
		size_t run;
		size_t used = dotstuff_scan(u, p, avail, &run);
		memcpy(out + k, p, run);
		k += run;
		if (used == 0) {
			/* Undecided, and all of the input is in p: keep it. */
			memcpy(u->held, p, avail);
			u->nheld = (unsigned char)avail;
			i = n;
			break;
		}
		if (used >= held) {
			i += used - held;
			u->nheld = 0;
		} else {
			memmove(u->held, u->held + used, held - used);
			u->nheld = (unsigned char)(held - used);
		}
	}
	*outlen = k;
	return i;
}
