/* Session input of bodies: data mode (an SMTP DATA body up to CRLF "."
 * CRLF, RFC 5321 4.1.1.4, scanned by session_data.c) and counted mode
 * (exactly n bytes: BDAT, RFC 3030; IMAP literals, RFC 9051 4.3 and RFC
 * 7888). Both hand the protocol chunks straight from the input buffer, so
 * a body is never held whole: the core keeps at most the few bytes the
 * scanner has not decided yet. See session.h. */
#include <inttypes.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "core/session_int.h"

/* The end of a body: line mode first, so that the protocol may choose
 * another mode from inside the callback, and what follows is read then. */
static void body_end(struct session *s)
{
	session_switch_mode(s, SESSION_MODE_LINE);
	struct session_body body = s->ds.body;
	struct session_ev ev = {.body = &body};
	session_deliver(s, SESSION_EV_BODY_END, &ev);
}

static void deliver_chunk(struct session *s, const char *p, size_t n)
{
	struct session_ev ev = {.data = p, .len = n};
	session_deliver(s, SESSION_EV_BODY, &ev);
}

void session_process_data(struct session *s)
{
	while (!s->closing && !s->quitting && !s->paused && s->mode == SESSION_MODE_DATA) {
		if (s->end_pending) {
			s->end_pending = false;
			body_end(s);
			return;
		}
		struct evbuffer *in = bufferevent_get_input(s->bev);
		size_t avail = evbuffer_get_length(in);
		struct evbuffer_iovec v;
		if (avail == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		const char *p = v.iov_base;
		size_t n = v.iov_len;
		if (n < 3 && avail > n) {
			/* The scanner may need 3 bytes to decide: join them. */
			n = avail < 3 ? avail : 3;
			if ((p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
				session_close(s, "out of memory");
				return;
			}
		}
		size_t consumed, chunk;
		enum session_data_status st = session_data_scan(&s->ds, p, n, &consumed, &chunk);
		if (chunk > 0)
			deliver_chunk(s, p, chunk);
		if (s->closing)
			return;
		evbuffer_drain(in, consumed);
		if (st == SESSION_DATA_END) {
			/* Paused by the last chunk (its write was offloaded, say):
			 * the end waits for session_resume. */
			s->end_pending = s->mode == SESSION_MODE_DATA;
			continue;
		}
		if (consumed == 0)
			return;		/* the rest of the undecided bytes is still to come */
	}
}

void session_process_counted(struct session *s)
{
	while (!s->closing && !s->quitting && !s->paused && s->mode == SESSION_MODE_COUNTED) {
		if (s->cnt_left == 0) {
			body_end(s);
			return;
		}
		struct evbuffer *in = bufferevent_get_input(s->bev);
		struct evbuffer_iovec v;
		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		size_t n = v.iov_len;
		if (n > s->cnt_left)
			n = (size_t)s->cnt_left;
		const char *p = v.iov_base, *end = p + n;
		while ((p = memchr(p, '\0', (size_t)(end - p))) != NULL) {
			s->ds.body.nul++;
			s->ds.body.flags |= SESSION_BODY_NUL;
			p++;
		}
		s->cnt_left -= n;
		s->ds.body.size += n;
		if (!s->cnt_discard && n > 0)
			deliver_chunk(s, v.iov_base, n);
		if (s->closing)
			return;
		evbuffer_drain(in, n);
	}
}

static void start_body(struct session *s, enum session_mode mode, uint64_t max)
{
	memset(&s->ds, 0, sizeof s->ds);
	s->ds.max = max;
	s->end_pending = false;
	session_switch_mode(s, mode);
}

void session_read_data(struct session *s, uint64_t max)
{
	start_body(s, SESSION_MODE_DATA, max);
}

int session_read_counted(struct session *s, uint64_t n, uint64_t max, ik_err *e)
{
	if (max > 0 && n > max)
		return ik_err_set(e, "%" PRIu64 " bytes is over the limit of %" PRIu64 " bytes", n,
				  max);
	s->cnt_left = n;
	s->cnt_discard = false;
	start_body(s, SESSION_MODE_COUNTED, max);
	return 0;
}

void session_discard_counted(struct session *s, uint64_t n)
{
	s->cnt_left = n;
	s->cnt_discard = true;
	start_body(s, SESSION_MODE_COUNTED, 0);
	s->ds.body.flags |= SESSION_BODY_TOO_BIG;
}
