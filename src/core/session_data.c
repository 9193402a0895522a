/* The DATA body scanner of the session core (RFC 5321 section 4.1.1.4:
 * the body ends at CRLF "." CRLF; section 4.5.2: a line's leading dot is
 * removed; section 2.3.8: CR and LF only as a CRLF pair). Pure: no I/O,
 * no allocation, so that it can be fuzzed on its own.
 *
 * Strict on purpose: a line starts only after CRLF, never after a bare LF
 * or CR, so that "\n.\n", "\r.\n" and "\r\n.\n" cannot end a body here
 * while a server or relay behind us reads them as its end (SMTP
 * smuggling). Bare CR, bare LF and NUL are counted and left in the body
 * for the protocol to refuse: repairing them silently would hide what the
 * client sent. */
#include "core/session.h"

/* Account for the next run of r body bytes at buf[0]: how many of them
 * may be delivered under the limit. */
static size_t take(struct session_datascan *ds, size_t r)
{
	struct session_body *b = &ds->body;
	uint64_t before = b->size;
	b->size += r;
	if (ds->max == 0 || b->size <= ds->max)
		return r;
	b->flags |= SESSION_BODY_TOO_BIG;
	return before >= ds->max ? 0 : (size_t)(ds->max - before);
}

enum session_data_status session_data_scan(struct session_datascan *ds, const char *buf,
					   size_t n, size_t *consumed, size_t *chunk)
{
	struct session_body *b = &ds->body;
	size_t i = 0;
	for (;;) {
		if (!ds->mid_line) {
			if (i >= n)
				break;
			if (buf[i] == '.') {
				/* ".\r\n" ends the body; any other dot is stuffing. */
				if (i + 1 >= n || (buf[i + 1] == '\r' && i + 2 >= n))
					break;
				*chunk = take(ds, i);
				if (buf[i + 1] == '\r' && buf[i + 2] == '\n') {
					*consumed = i + 3;
					return SESSION_DATA_END;
				}
				ds->mid_line = true;
				*consumed = i + 1;	/* the run, and the dot dropped */
				return SESSION_DATA_MORE;
			}
			ds->mid_line = true;
		}
		while (i < n) {
			char c = buf[i];
			if (c == '\r') {
				if (i + 1 >= n)
					goto undecided;	/* CRLF or a bare CR: the next byte says */
				if (buf[i + 1] == '\n') {
					i += 2;
					ds->mid_line = false;
					break;
				}
				b->bare_cr++;
				b->flags |= SESSION_BODY_BARE_CR;
			} else if (c == '\n') {
				b->bare_lf++;
				b->flags |= SESSION_BODY_BARE_LF;
			} else if (c == '\0') {
				b->nul++;
				b->flags |= SESSION_BODY_NUL;
			}
			i++;
		}
		if (ds->mid_line)
			break;
	}
undecided:
	*chunk = take(ds, i);
	*consumed = i;
	return SESSION_DATA_MORE;
}
