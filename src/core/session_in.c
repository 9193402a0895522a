/* Session input: reading, the input modes (line, sasl, raw, paused; data
 * and counted are in session_body.c), and the end-of-file policy's
 * receiving side. See session.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/session_int.h"

/* Reading is on unless something says stop: paused, the output this
 * session's input goes to over its mark (its own, or its link's), end of
 * file seen, or raw input nobody took up to in_max. */
void session_update_reading(struct session *s)
{
	if (s->closing)
		return;
	const struct session *sink = session_sink(s);
	bool want = !s->paused && !(sink != NULL && sink->out_over) && !s->eof_seen &&
		    !session_splice_full(s) &&
		    !(s->mode == SESSION_MODE_RAW &&
		      evbuffer_get_length(bufferevent_get_input(s->bev)) >= s->o.in_max);
	if (want == s->reading)
		return;
	s->reading = want;
	if (s->rev != NULL) {
		if (want)
			event_add(s->rev, NULL);
		else
			event_del(s->rev);
	} else if (want) {
		bufferevent_enable(s->bev, EV_READ);
	} else {
		bufferevent_disable(s->bev, EV_READ);
	}
}

/* Raw input that nobody takes must not grow without bound. Our own reader
 * checks in_max itself (session_update_reading); the bufferevent, when it
 * reads (TLS), is told with its read watermark. */
void session_set_read_mark(struct session *s)
{
	size_t high = s->mode == SESSION_MODE_RAW && s->rev == NULL && !s->direct ? s->o.in_max : 0;
	bufferevent_setwatermark(s->bev, EV_READ, 0, high);
}

static void deliver_eof(struct session *s)
{
	s->eof_done = true;
	s->keep_writing = false;
	session_deliver(s, SESSION_EV_EOF, NULL);
	if (s->closing)
		return;
	if (s->linked) {
		/* Half-close carried across: the link sends its FIN once our
		 * peer's bytes are out; our own side ends with the link's input. */
		if (s->link != NULL)
			session_shutdown_write(s->link);
		if (s->wr_done && !s->closing)
			session_close(s, "eof");
		return;
	}
	if (s->wr_done) {
		session_close(s, session_eof_reason(s));
		return;
	}
	if (!s->keep_writing)
		session_shutdown_write(s);
}

/* Line and sasl modes. A SASL response is a secret: the core's copies of
 * it (the line buffer, the input bytes) are wiped once the protocol had it. */
static void process_lines(struct session *s)
{
	while (!s->closing && !s->quitting && !s->paused &&
	       (s->mode == SESSION_MODE_LINE || s->mode == SESSION_MODE_SASL)) {
		bool secret = s->mode == SESSION_MODE_SASL;
		struct evbuffer *in = bufferevent_get_input(s->bev);
		size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			return;
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > s->o.out_high) {
			/* Pipelined input waits until the peer reads its replies. */
			session_flush(s);
			if (s->out_over)
				return;
		}
		size_t window = avail < s->ls.max + 2 ? avail : s->ls.max + 2;
		char *p = (char *)evbuffer_pullup(in, (ev_ssize_t)window);
		if (p == NULL) {
			session_close(s, "out of memory");
			return;
		}
		size_t len, consumed;
		enum session_line_status st = session_line_scan(&s->ls, p, window, &len, &consumed);
		if (st == SESSION_LINE_OK) {
			/* Allocated on first use (raw sessions never need it), again
			 * after session_set_max_line raised the limit. */
			if (s->linecap < s->o.max_line + 1) {
				free(s->linebuf);
				s->linecap = 0;
				if ((s->linebuf = malloc(s->o.max_line + 1)) == NULL) {
					session_close(s, "out of memory");
					return;
				}
				s->linecap = s->o.max_line + 1;
			}
			memcpy(s->linebuf, p, len);
			s->linebuf[len] = '\0';
			if (secret)
				explicit_bzero(p, consumed);
			evbuffer_drain(in, consumed);
			struct session_ev ev = {.line = s->linebuf, .len = len};
			if (secret) {
				ev.cancel = len == 1 && s->linebuf[0] == '*';
				session_deliver(s, SESSION_EV_SASL_LINE, &ev);
				explicit_bzero(s->linebuf, len);
			} else {
				session_deliver(s, SESSION_EV_LINE, &ev);
			}
			continue;
		}
		if (secret)
			explicit_bzero(p, consumed);
		evbuffer_drain(in, consumed);
		if (st == SESSION_LINE_MORE) {
			if (consumed == 0)
				return;
			continue;
		}
		s->refused++;
		struct session_ev ev = {.error = st};
		session_deliver(s, SESSION_EV_LINE_ERROR, &ev);
	}
}

static void process_once(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	enum session_mode mode = s->mode;
	struct session *sink = session_sink(s);
	if (sink == NULL || sink->wr_done || s->quitting) {
		/* We said goodbye (or the link did, or it is gone): what still
		 * comes is read only to see the end. */
		evbuffer_drain(in, evbuffer_get_length(in));
	} else if (mode == SESSION_MODE_LINE || mode == SESSION_MODE_SASL) {
		process_lines(s);
	} else if (mode == SESSION_MODE_DATA) {
		session_process_data(s);
	} else if (mode == SESSION_MODE_COUNTED) {
		session_process_counted(s);
	} else if (s->reflect) {
		evbuffer_add_buffer(bufferevent_get_output(sink->bev), in);
		if (sink != s)
			session_flush(sink);
	} else if (!s->paused && evbuffer_get_length(in) > 0) {
		session_deliver(s, SESSION_EV_DATA, NULL);
	}
	/* After a mode change (s->again) the rest is read the new way first. */
	if (s->closing || !s->eof_seen || s->eof_done || s->paused || s->again)
		return;
	in = bufferevent_get_input(s->bev);
	if (s->mode != SESSION_MODE_RAW) {
		if (s->out_over)
			return;
		/* An unterminated last line is not a line (RFC 5321 2.3.8), a
		 * body without its end is no body: the protocol hears EOF. */
		evbuffer_drain(in, evbuffer_get_length(in));
	} else if (evbuffer_get_length(in) > 0) {
		return;		/* the protocol will take it later (session_kick) */
	}
	deliver_eof(s);
}

/* Everything that came in goes through here; safe to re-enter. */
void session_process(struct session *s)
{
	if (s->busy) {
		s->again = true;
		return;
	}
	s->busy = true;
	s->depth++;
	do {
		s->again = false;
		if (s->want_drained && !s->closing &&
		    evbuffer_get_length(bufferevent_get_output(s->bev)) <= s->drained_low) {
			s->want_drained = false;
			session_deliver(s, SESSION_EV_DRAINED, NULL);
		}
		if (!s->closing)
			process_once(s);
	} while (s->again && !s->closing);
	s->depth--;
	s->busy = false;
	session_flush(s);
	session_update_reading(s);
}

void session_peer_eof(struct session *s)
{
	s->eof_seen = true;
	session_update_reading(s);
	session_process(s);
}

/* Plain sockets are read here rather than by the bufferevent, which asks
 * the kernel with FIONREAD how much to read before every read: one system
 * call per request saved. The read size adapts between 16 and 64 KiB. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct session *s = arg;
	if (s->pipe_r >= 0) {
		session_splice_readable(s);
		return;
	}
	/* Reflect output waits only while write_armed (nothing else writes
	 * to the link's output). A TLS link is written through its layer. */
	struct session *sink = session_sink(s);
	if (s->reflect && sink != NULL && sink->direct && !sink->write_armed && !sink->wr_finish) {
		session_reflect_readable(s);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec v[2];
	/* The bufferevent freezes its input's end; we are its reader now. */
	evbuffer_unfreeze(in, 0);
	int nv = evbuffer_reserve_space(in, (ev_ssize_t)s->rd_chunk, v, 2);
	if (nv < 0) {
		evbuffer_freeze(in, 0);
		session_close(s, "out of memory");
		return;
	}
	struct iovec iov[2];
	for (int i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	ssize_t n = nv == 1 ? read((int)fd, iov[0].iov_base, iov[0].iov_len) : readv((int)fd, iov, nv);
	int err = errno;
	if (n <= 0)
		evbuffer_freeze(in, 0);
	if (n < 0) {
		if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
			session_close_errno(s, err, "read error");
		return;
	}
	if (n == 0) {
		session_peer_eof(s);
		return;
	}
	size_t left = (size_t)n;
	int used = 0;
	for (; used < nv && left > 0; used++) {
		if (v[used].iov_len > left)
			v[used].iov_len = left;
		left -= v[used].iov_len;
	}
	evbuffer_commit_space(in, v, used);
	evbuffer_freeze(in, 0);
	s->bytes_in += (uint64_t)n;
	s->last_in_ms = session_now_ms();
	bool streaming = session_read_size(s, (size_t)n);
	session_process(s);
	if (streaming && s->reflect)
		session_splice_maybe_start(s);
}

/* A full read means a stream: read big at once. Back to small only after
 * a run of small reads, or a stream's ragged reads would flap. Returns
 * true for a big read after a full one: the peer streams. ("Full" is at
 * least rd_chunk: the space reserved may be more.) */
bool session_read_size(struct session *s, size_t n)
{
	bool streaming = s->rd_chunk == SESSION_READ_MAX && n >= SESSION_READ_MIN;
	if (n >= s->rd_chunk) {
		s->rd_chunk = SESSION_READ_MAX;
		s->rd_small = 0;
	} else if (n < SESSION_READ_SMALL && s->rd_chunk > SESSION_READ_MIN && ++s->rd_small >= 16) {
		s->rd_chunk = SESSION_READ_MIN;
		s->rd_small = 0;
	}
	return streaming;
}

int session_direct_reader(struct session *s)
{
	s->rd_chunk = SESSION_READ_MIN;
	s->rev = event_new(bufferevent_get_base(s->bev), s->fd, EV_READ | EV_PERSIST, on_readable, s);
	return s->rev != NULL ? 0 : -1;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_process(arg);
}

void session_kick(struct session *s)
{
	if (s->closing)
		return;
	if (s->kick == NULL) {
		s->kick = event_new(bufferevent_get_base(s->bev), -1, 0, on_kick, s);
		if (s->kick == NULL) {
			session_close(s, "out of memory");
			return;
		}
	}
	event_active(s->kick, EV_TIMEOUT, 0);
}

void session_pause(struct session *s)
{
	s->paused = true;
	session_update_reading(s);
}

void session_resume(struct session *s)
{
	if (!s->paused)
		return;
	s->paused = false;
	session_update_reading(s);
	session_kick(s);
}

static const char *mode_name(enum session_mode m)
{
	static const char *const names[] = {"line", "raw", "data", "counted", "sasl"};
	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

/* The one place the input mode changes; every change is logged at debug
 * level. The rest of the input is read the new way. */
void session_switch_mode(struct session *s, enum session_mode mode)
{
	if (s->mode != mode && log_get_level() >= LOG_DEBUG)
		log_event(LOG_DEBUG, "mode", "proto=%s session=%llu from=%s to=%s", s->proto,
			  (unsigned long long)s->id, mode_name(s->mode), mode_name(mode));
	bool lines_before = s->mode == SESSION_MODE_LINE || s->mode == SESSION_MODE_SASL;
	bool lines_after = mode == SESSION_MODE_LINE || mode == SESSION_MODE_SASL;
	s->mode = mode;
	session_set_read_mark(s);
	/* Line and sasl share the splitter: a line too long stays too long. */
	if (!(lines_before && lines_after))
		s->ls.skipping = false;
	if (s->busy)
		s->again = true;
	else
		session_kick(s);
}

void session_set_mode(struct session *s, enum session_mode mode)
{
	if (mode == SESSION_MODE_DATA || mode == SESSION_MODE_COUNTED) {
		/* They need a limit: session_read_data, session_read_counted. */
		log_event(LOG_ERR, "bug", "proto=%s session=%llu reason=\"session_set_mode(%s): use "
			  "session_read_%s\"", s->proto, (unsigned long long)s->id, mode_name(mode),
			  mode_name(mode));
		return;
	}
	session_switch_mode(s, mode);
}

void session_set_max_line(struct session *s, size_t max)
{
	s->o.max_line = max > 0 ? max : SESSION_DEFAULT_MAX_LINE;
	s->ls.max = s->o.max_line;	/* the buffer grows before the next line */
}

enum session_mode session_mode(const struct session *s) { return s->mode; }
