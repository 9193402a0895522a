/* Reflect mode (session_reflect): the core itself sends every byte it
 * reads back to the peer, RFC 862 echo. On a plain socket a read goes
 * straight back out from one static buffer (one read, one send, no
 * buffer bookkeeping); only what the peer does not take at once is queued
 * in the session's output, and while it waits reading goes through the
 * usual buffered path. Over TLS every read takes that path. Once the
 * peer streams (two full reads in a row), a plain socket switches to a
 * pipe: splice(2) moves the bytes socket -> pipe -> socket, so they never
 * enter user space and the kernel passes its pages along instead of
 * copying them twice. The pipe is made only then: idle and interactive
 * connections cost no extra descriptors.
 *
 * The session's policies hold in the pipe too: reading stops while the
 * pipe is full (back-pressure), bytes waiting in it count as queued output
 * for the "client not reading" timeout, and the peer's end of file is
 * acted on once the pipe has drained (session.h, end-of-file policy). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/session_int.h"

#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

void session_reflect(struct session *s)
{
	s->reflect = true;
	s->mode = SESSION_MODE_RAW;
	session_set_read_mark(s);
}

bool session_splicing(const struct session *s) { return s->pipe_r >= 0; }

/* The read event of a plain reflecting session whose output is empty.
 * The loop is single-threaded: one buffer serves every session. */
void session_reflect_readable(struct session *s)
{
	static char buf[SESSION_READ_MAX];
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
		ssize_t k = send(s->fd, buf + sent, (size_t)n - sent, MSG_NOSIGNAL);
		if (k > 0) {
			sent += (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			session_close_errno(s, k < 0 ? errno : EPIPE, "write error");
			return;
		}
	}
	if (sent > 0) {
		s->bytes_out += sent;
		s->last_out_ms = now;
	}
	if (sent < (size_t)n) {
		/* The peer reads slower than it writes: queue the rest; the
		 * output marks and the stall timeout take it from here. */
		if (evbuffer_add(bufferevent_get_output(s->bev), buf + sent, (size_t)n - sent) < 0) {
			session_close(s, "out of memory");
			return;
		}
		s->write_armed = true;	/* the kernel just said it is full */
		bufferevent_enable(s->bev, EV_WRITE);
		session_flush(s);	/* the output marks */
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
	if (!s->reflect || !s->direct || s->closing || s->pipe_r >= 0 || s->eof_seen ||
	    s->out_file || s->wr_finish || evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		return;
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return;
	s->wev = event_new(bufferevent_get_base(s->bev), s->fd, EV_WRITE, on_splice_writable, s);
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
	if (s->write_armed) {
		/* From now on the leftover is written by splice_out. */
		s->write_armed = false;
		bufferevent_disable(s->bev, EV_WRITE);
		event_add(s->wev, NULL);
	}
}

/* Output the buffered path left behind, before any byte of the pipe. */
static int drain_leftover(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	while (evbuffer_get_length(out) > 0) {
		if (session_direct_write(s) >= 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(s->wev, NULL);
			return -1;
		}
		session_close_errno(s, errno, "write error");
		return -1;
	}
	s->out_over = false;
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
	if (drain_leftover(s) < 0) {
		if (!s->closing)
			session_update_reading(s);
		return;
	}
	while (!s->closing && s->in_pipe > 0) {
		ssize_t n = splice(s->pipe_r, NULL, s->fd, NULL, s->in_pipe, SPLICE_FLAGS);
		if (n > 0) {
			s->in_pipe -= (size_t)n;
			s->bytes_out += (uint64_t)n;
			s->last_out_ms = session_now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(s->wev, NULL);
			break;
		}
		session_close_errno(s, n < 0 ? errno : EPIPE, "write error");
		return;
	}
	if (s->closing)
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
