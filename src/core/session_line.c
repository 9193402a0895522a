/* The line splitter of the session core (RFC 5321 section 2.3.8: lines
 * end in CRLF; section 4.5.3.1.6: lines have a maximum length). Pure: no
 * I/O, no allocation, so that it can be fuzzed on its own. The limit is
 * applied to the bytes buffered so far, so an over-long line is refused
 * before its end arrives and never needs a bigger buffer. */
#include <string.h>

#include "core/session.h"

enum session_line_status session_line_scan(struct session_linescan *ls, const char *buf,
					   size_t n, size_t *linelen, size_t *consumed)
{
	*consumed = 0;
	*linelen = 0;
	size_t max = ls->max > 0 ? ls->max : 1;
	/* A line of max bytes plus CR LF is the most that can ever be needed. */
	size_t window = n < max + 2 ? n : max + 2;
	const char *lf = window > 0 ? memchr(buf, '\n', window) : NULL;

	if (ls->skipping) {
		if (lf == NULL) {
			*consumed = window;
			return SESSION_LINE_MORE;
		}
		*consumed = (size_t)(lf - buf) + 1;
		ls->skipping = false;
		return SESSION_LINE_MORE;
	}
	if (lf == NULL) {
		/* No end yet: max + 1 bytes are too long unless the last is the
		 * CR of a CRLF still to come. */
		if (n > max + 1 || (n == max + 1 && buf[max] != '\r')) {
			ls->skipping = true;
			*consumed = window;
			return SESSION_LINE_TOO_LONG;
		}
		return SESSION_LINE_MORE;
	}
	size_t end = (size_t)(lf - buf);
	bool cr = end > 0 && buf[end - 1] == '\r';
	size_t len = cr ? end - 1 : end;
	*consumed = end + 1;
	if (len > max)
		return SESSION_LINE_TOO_LONG;
	if (ls->eol == SESSION_EOL_CRLF && !cr)
		return SESSION_LINE_BARE_LF;
	if (len > 0 && memchr(buf, '\0', len) != NULL)
		return SESSION_LINE_NUL;
	*linelen = len;
	return SESSION_LINE_OK;
}

const char *session_line_status_text(enum session_line_status st)
{
	switch (st) {
	case SESSION_LINE_MORE:
		return "incomplete line";
	case SESSION_LINE_OK:
		return "line";
	case SESSION_LINE_TOO_LONG:
		return "line too long";
	case SESSION_LINE_NUL:
		return "NUL byte in line";
	case SESSION_LINE_BARE_LF:
		return "bare LF (lines must end in CRLF)";
	}
	return "?";
}
