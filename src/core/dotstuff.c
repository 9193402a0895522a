/* Dot-stuffing and unstuffing (RFC 5321 4.5.2, RFC 1939 3), as two byte
 * state machines so that a chunk may end anywhere: inside a CR LF, right
 * after a line's first '.', or inside the end line. */
#include "core/dotstuff.h"

enum { S_BOL, S_TEXT, S_CR };	/* stuffer: line start, in a line, after CR */

void dotstuff_stuff_init(struct dot_stuffer *s)
{
	s->state = S_BOL;
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
		if (s->state == S_BOL && b == '.')
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

/* unstuffer: line start, in a line, after CR, after a line's first '.'
 * (dropped), after "." CR at a line start (the CR held back), end read */
enum { U_BOL, U_TEXT, U_CR, U_DOT, U_DOTCR, U_END };

void dotstuff_unstuff_init(struct dot_unstuffer *u, bool lf_ends_line)
{
	u->state = U_BOL;
	u->lf_ends_line = lf_ends_line;
	u->done = false;
	u->bare_cr = u->bare_lf = 0;
}

size_t dotstuff_unstuff(struct dot_unstuffer *u, const char *in, size_t n, char *out,
			size_t *outlen)
{
	size_t i = 0, k = 0;
	for (; i < n && u->state != U_END; i++) {
		char b = in[i];
		switch (u->state) {
		case U_BOL:
			if (b == '.') {
				u->state = U_DOT;
				continue;
			}
			break;
		case U_CR:
			if (b == '\n') {
				out[k++] = b;
				u->state = U_BOL;
				continue;
			}
			u->bare_cr++;
			break;
		case U_DOT:
			if (b == '\r') {
				u->state = U_DOTCR;
				continue;
			}
			if (b == '\n' && u->lf_ends_line) {
				u->bare_lf++;
				u->state = U_END;
				continue;
			}
			break;	/* the leading dot stays dropped */
		case U_DOTCR:
			if (b == '\n') {
				u->state = U_END;
				continue;
			}
			out[k++] = '\r';	/* "." CR x: a line ".\rx" */
			u->bare_cr++;
			break;
		default:
			break;
		}
		/* b in the middle of a line */
		out[k++] = b;
		if (b == '\r') {
			u->state = U_CR;
		} else if (b == '\n') {
			u->bare_lf++;
			u->state = u->lf_ends_line ? U_BOL : U_TEXT;
		} else {
			u->state = U_TEXT;
		}
	}
	u->done = u->state == U_END;
	*outlen = k;
	return i;
}
