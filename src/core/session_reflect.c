/* Reflect mode (session_reflect): the core itself sends every byte it
 * reads back to the peer, RFC 862 echo; and links (session_link): two
 * sessions relay each other's bytes, as a port forwarder does. Both are
 * one mechanism: what a session reads goes to its link's socket (itself
 * when echoing). On a plain socket a read goes straight out from one
 * static buffer (one read, one send, no buffer bookkeeping); only what the
 * receiving socket does not take at once is queued in the link's output,
 * and while it waits reading goes through the usual buffered path. Over
 * TLS every read takes that path. Once the peer streams (two full reads
 * in a row) and both sockets are plain, the session switches to a pipe:
 * splice(2) moves the bytes socket -> pipe -> socket, so they never enter
 * user space and the kernel passes its pages along instead of copying
 * them twice. The pipe is made only then: idle and interactive
 * connections cost no extra descriptors.
 *
 * The session's policies hold in the pipe too: reading stops while the
 * pipe is full or the link's output is over its mark (back-pressure), bytes
 * waiting in it count as the link's queued output for the "client not
 * reading" timeout, and the peer's end of file is acted on once the pipe
 * has drained (session.h, end-of-file policy; for a link, the other
 * session then shuts its write side: half-close carried across). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/session_int.h"
#include "lib/str.h"

#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

void session_reflect(struct session *s)
{
	s->reflect = true;
	s->link = s;
	s->mode = SESSION_MODE_RAW;
	session_set_read_mark(s);
}

struct session *session_sink(struct session *s)
{
	return s->reflect || s->linked ? s->link : s;
}

static void link_one(struct session *from, struct session *to)
{
	from->reflect = true;
	from->linked = true;
	from->link = to;
	from->mode = SESSION_MODE_RAW;
	session_set_read_mark(from);
	/* What came before the link goes first; an end of file the protocol
	 * already had is passed on once it has. */
	struct evbuffer *in = bufferevent_get_input(from->bev);
	if (evbuffer_get_length(in) > 0 && !to->closing)
		evbuffer_add_buffer(bufferevent_get_output(to->bev), in);
	if (from->eof_done)
		session_shutdown_write(to);
}

void session_link(struct session *a, struct session *b)
{
	if (a->closing || b->closing || a == b) {
		/* One is gone already: the other follows. */
		session_close(a->closing ? b : a, "the other side closed before the link");
		return;
	}
	link_one(a, b);
	link_one(b, a);
	session_flush(a);
	session_flush(b);
	session_update_reading(a);
	session_update_reading(b);
	session_kick(a);
	session_kick(b);
}

bool session_linked(const struct session *s) { return s->linked; }

/* s is closing: its link goes on alone only when everything it had to
 * send has been handed over already (its peer's end of file came): then
 * it finishes sending and closes by the end-of-file policy. Otherwise it
 * is closed too. */
void session_unlink(struct session *s)
{
	if (!s->linked || s->link == NULL)
		return;
	struct session *o = s->link;
	s->link = NULL;
	o->link = NULL;
	if (o->wev != NULL) {
		/* Its pipe wrote to our socket, which is about to go. */
		event_free(o->wev);
		o->wev = NULL;
	}
	if (o->closing)
		return;
	if (o->eof_done) {
		session_shutdown_write(o);
		return;
	}
	char reason[sizeof s->reason + 32];
	str_fmt(reason, sizeof reason, "other side closed: %s", s->reason);
	session_close(o, reason);
}

bool session_splicing(const struct session *s) { return s->pipe_r >= 0; }

/* The read event of a plain reflecting session whose link's output is
 * empty. The loop is single-threaded: one buffer serves every session. */
void session_reflect_readable(struct session *s)
{
	static char buf[SESSION_READ_MAX];
	struct session *to = s->link;
	ssize_t n = read(s->fd, buf, s->rd_chunk);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			session_close_errno(s, errno, "read error");
		return;
	}
	if (n == 0) {
		session_peer_eof(s);
		return;
	}
	uint64_t now = session_now_ms();
	s->bytes_in += (uint64_t)n;
	s->last_in_ms = now;
	bool streaming = session_read_size(s, (size_t)n);
	size_t sent = 0;
	while (sent < (size_t)n) {
		ssize_t k = send(to->fd, buf + sent, (size_t)n - sent, MSG_NOSIGNAL);
		if (k > 0) {
			sent += (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			session_close_errno(to, k < 0 ? errno : EPIPE, "write error");
			return;
		}
	}
	if (sent > 0) {
		to->bytes_out += sent;
		to->last_out_ms = now;
	}
	if (sent < (size_t)n) {
		/* The receiver reads slower than this peer writes: queue the
		 * rest; the output marks and the stall timeout take it from here. */
		if (evbuffer_add(bufferevent_get_output(to->bev), buf + sent, (size_t)n - sent) < 0) {
			session_close(s, "out of memory");
			return;
		}
		to->write_armed = true;	/* the kernel just said it is full */
		bufferevent_enable(to->bev, EV_WRITE);
		session_flush(to);	/* the output marks */
		return;
	}
	if (streaming)
		session_splice_maybe_start(s);
}

static void splice_out(struct session *s);

static void on_splice_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	splice_out(arg);
}

/* After big reads of a reflecting plain session: carry on through a pipe.
 * What the buffered path still holds goes out first (splice_out). Any
 * failure just keeps the buffered path. */
void session_splice_maybe_start(struct session *s)
{
	struct session *to = s->link;
	if (!s->reflect || to == NULL || !s->direct || !to->direct || s->closing || to->closing ||
	    s->pipe_r >= 0 || s->eof_seen || to->out_file || to->wr_finish ||
	    evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		return;
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return;
	s->wev = event_new(bufferevent_get_base(s->bev), to->fd, EV_WRITE, on_splice_writable, s);
	if (s->wev == NULL) {
		close(p[0]);
		close(p[1]);
		return;
	}
	/* The pipe's default size, 64 KiB, measured best on loopback: a bigger
	 * pipe batches more per call and overlaps less (bench/tcp-echo). */
	int size = fcntl(p[1], F_GETPIPE_SZ);
	s->pipe_cap = size > 0 ? (size_t)size : 65536;
	s->pipe_r = p[0];
	s->pipe_w = p[1];
	s->in_pipe = 0;
	if (to->write_armed) {
		/* From now on the leftover is written by splice_out. */
		to->write_armed = false;
		bufferevent_disable(to->bev, EV_WRITE);
		event_add(s->wev, NULL);
	}
}

/* Output the buffered path left behind in the link's output, before any
 * byte of the pipe. */
static int drain_leftover(struct session *s, struct session *to)
{
	struct evbuffer *out = bufferevent_get_output(to->bev);
	while (evbuffer_get_length(out) > 0) {
		if (session_direct_write(to) >= 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(s->wev, NULL);
			return -1;
		}
		session_close_errno(to, errno, "write error");
		return -1;
	}
	if (to->out_over) {
		to->out_over = false;
		session_update_reading(s);
	}
	return 0;
}

/* The peer's end of file waits for the pipe to drain: only then does the
 * usual policy run (our FIN once everything is echoed). */
static void check_eof(struct session *s)
{
	if (s->splice_eof && s->in_pipe == 0 && !s->closing && !s->eof_seen)
		session_peer_eof(s);
}

static void splice_out(struct session *s)
{
	struct session *to = s->link;
	if (to == NULL || s->closing)
		return;		/* the link closed: nothing more goes anywhere */
	if (drain_leftover(s, to) < 0) {
		if (!s->closing)
			session_update_reading(s);
		return;
	}
	while (!s->closing && !to->closing && s->in_pipe > 0) {
		ssize_t n = splice(s->pipe_r, NULL, to->fd, NULL, s->in_pipe, SPLICE_FLAGS);
		if (n > 0) {
			s->in_pipe -= (size_t)n;
			to->bytes_out += (uint64_t)n;
			to->last_out_ms = session_now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(s->wev, NULL);
			break;
		}
		session_close_errno(to, n < 0 ? errno : EPIPE, "write error");
		return;
	}
	if (s->closing || to->closing)
		return;
	session_update_reading(s);	/* room in the pipe again */
	check_eof(s);
}

/* The read event of a splicing session: one read into the pipe per loop
 * turn (fair to the other sessions), then as much out as the peer takes. */
void session_splice_readable(struct session *s)
{
	size_t room = s->pipe_cap - s->in_pipe;
	if (room > 0 && !s->splice_eof) {
		ssize_t n = splice(s->fd, NULL, s->pipe_w, NULL, room, SPLICE_FLAGS);
		if (n > 0) {
			s->in_pipe += (size_t)n;
			s->bytes_in += (uint64_t)n;
			s->last_in_ms = session_now_ms();
		} else if (n == 0) {
			s->splice_eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			session_close_errno(s, errno, "read error");
			return;
		}
	}
	splice_out(s);
}

bool session_splice_full(const struct session *s)
{
	return s->pipe_r >= 0 && (s->in_pipe >= s->pipe_cap || s->splice_eof);
}

void session_splice_free(struct session *s)
{
	if (s->wev != NULL)
		event_free(s->wev);
	s->wev = NULL;
	if (s->pipe_r >= 0) {
		close(s->pipe_r);
		close(s->pipe_w);
	}
	s->pipe_r = s->pipe_w = -1;
}
