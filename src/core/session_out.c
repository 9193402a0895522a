/* Session output: writing, the output marks (back-pressure), and the
 * end-of-file policy's sending side (queued output, close_notify, FIN;
 * RFC 9293 section 3.6, RFC 8446 section 6.1). See session.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "core/session_int.h"
#include "lib/str.h"

/* The socket bufferevent keeps its output frozen at the front so that
 * only it drains it; we drain it ourselves while it does not write. One
 * piece of memory (the usual reply) goes out with a plain send(); file
 * segments and many pieces with evbuffer_write (sendfile, writev). */
int session_direct_write(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	struct evbuffer_iovec v[2];
	int n;
	evbuffer_unfreeze(out, 1);
	if (!s->out_file && evbuffer_peek(out, -1, NULL, v, 2) == 1) {
		ssize_t k = send(s->fd, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL);
		n = (int)k;
		if (k > 0)
			evbuffer_drain(out, (size_t)k);
	} else {
		n = evbuffer_write(out, s->fd);
	}
	int err = errno;
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) == 0)
		s->out_file = false;
	errno = err;
	return n;
}

/* Over out_high: stop reading what feeds this output (this peer, or the
 * linked session's) until this peer reads (back-pressure). */
static void check_output(struct session *s)
{
	if (!s->out_over && evbuffer_get_length(bufferevent_get_output(s->bev)) > s->o.out_high) {
		s->out_over = true;
		session_update_reading(s);
		if (s->linked && s->link != NULL)
			session_update_reading(s->link);
	}
}

/* opts.pipelining: replies wait while pipelined commands wait for a
 * paused session (or for the re-read its resume asked for). */
static bool holding(struct session *s, size_t queued)
{
	if (!s->o.pipelining || s->quitting || s->wr_finish || s->mode != SESSION_MODE_LINE ||
	    queued > s->o.out_high || queued == 0)
		return false;
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) == 0)
		return false;
	return s->paused || (s->kick != NULL && event_pending(s->kick, EV_TIMEOUT, NULL));
}

void session_flush(struct session *s)
{
	if (s->closing)
		return;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	if (s->direct && holding(s, evbuffer_get_length(out)))
		return;
	/* A plain socket is written here, at once, instead of waiting a loop
	 * turn for writability: an echo costs one write, not an epoll_ctl pair
	 * around it. Only what the kernel did not take waits for EV_WRITE. */
	if (s->direct && !s->write_armed && evbuffer_get_length(out) > 0) {
		int n = session_direct_write(s);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			session_close_errno(s, errno, "write error");
			return;
		}
		if (evbuffer_get_length(out) > 0) {
			s->write_armed = true;
			bufferevent_enable(s->bev, EV_WRITE);
		}
	}
	check_output(s);
	if (s->want_drained && evbuffer_get_length(out) <= s->drained_low)
		session_kick(s);	/* session_process delivers it */
	if (s->wr_finish)
		session_finish_write(s);
}

void session_notify_drained(struct session *s, size_t low)
{
	s->want_drained = true;
	s->drained_low = low;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) <= low)
		session_kick(s);
}

int session_write(struct session *s, const void *data, size_t len)
{
	if (s->closing || s->quitting)
		return -1;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(out) + len > s->o.out_max) {
		char reason[96];
		str_fmt(reason, sizeof reason, "slow reader: more than %zu bytes queued", s->o.out_max);
		session_drop(s, reason);
		return -1;
	}
	if (evbuffer_add(out, data, len) < 0) {
		session_close(s, "out of memory");
		return -1;
	}
	if (s->depth == 0)
		session_flush(s);
	return 0;
}

int session_printf(struct session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof buf)
		return session_write(s, buf, (size_t)n);
	/* Longer than the stack buffer: format again into the heap. */
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = session_write(s, big, (size_t)n);
	free(big);
	return rc;
}

int session_send_file(struct session *s, int fd, off_t offset, off_t len)
{
	if (s->closing || s->quitting) {
		close(fd);
		return -1;
	}
	if (evbuffer_add_file(bufferevent_get_output(s->bev), fd, offset, len) < 0) {
		close(fd);
		return -1;
	}
	s->out_file = true;	/* not memory: never peeked at */
	/* sendfile(2) copies nothing through user space: the bigger the
	 * piece, the fewer loop turns a large file takes. */
	if (!s->tls)
		bufferevent_set_max_single_write(s->bev, SESSION_FILE_MAX_WRITE);
	if (s->depth == 0)
		session_flush(s);
	return 0;
}

/* The end-of-file policy: send what is queued, close_notify, FIN; close
 * once the peer's end of file has been seen too. */
void session_finish_write(struct session *s)
{
	if (s->closing || s->wr_done || s->finishing)
		return;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;		/* the write callback comes back here */
	if (s->tls) {
		if (!s->alert_sent) {
			s->alert_sent = true;
			ERR_clear_error();
			SSL_shutdown(bufferevent_openssl_get_ssl(s->bev));
		}
		if (s->under != NULL && evbuffer_get_length(bufferevent_get_output(s->under)) > 0)
			return;	/* the wire callback comes back here */
	}
	s->finishing = true;
	shutdown(s->fd, SHUT_WR);
	s->wr_done = true;
	s->finishing = false;
	if (s->eof_done)
		session_close(s, session_eof_reason(s));
}

void session_shutdown_write(struct session *s)
{
	if (s->closing || s->wr_finish)
		return;
	s->wr_finish = true;
	/* Inside the session's callback the flush comes when it returns. */
	if (s->depth == 0)
		session_flush(s);
}

void session_keep_writing(struct session *s) { s->keep_writing = true; }
