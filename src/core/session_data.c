/* The DATA body scanner of the session core (RFC 5321 section 4.1.1.4:
 * the body ends at CRLF "." CRLF; section 4.5.2: a line's leading dot is
 * removed; section 2.3.8: CR and LF only as a CRLF pair). The scanning is
 * core/dotstuff's, strict (no bare LF line ends, so no SMTP smuggling):
 * this adds the byte limit and the body's report. Pure: no I/O, no
 * allocation, so that it can be fuzzed on its own. */
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
	struct dot_unstuffer *u = &ds->dot;
	struct session_body *b = &ds->body;
	size_t run;
	*consumed = dotstuff_scan(u, buf, n, &run);
	*chunk = take(ds, run);
	b->bare_cr = u->bare_cr;
	b->bare_lf = u->bare_lf;
	b->nul = u->nul;
	b->flags |= (u->bare_cr ? SESSION_BODY_BARE_CR : 0) | (u->bare_lf ? SESSION_BODY_BARE_LF : 0) |
		    (u->nul ? SESSION_BODY_NUL : 0);
	return u->done ? SESSION_DATA_END : SESSION_DATA_MORE;
}
