/* Session life cycle, input modes, output and limits. The RFCs and the
 * policies are described in session.h. Everything a session does starts
 * in one of the three bufferevent callbacks below or in its timer, and
 * reaches the protocol through deliver(). */
#include "core/session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "core/log.h"
#include "core/session_int.h"
#include "core/str.h"
#include "net/endpoint.h"

static uint64_t next_id = 1;

uint64_t session_now_ms(void)
{
	struct timespec ts;
	/* Coarse is enough for timeouts and costs no system call. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void process(struct session *s);
static int direct_write(struct evbuffer *out, int fd);
static void finish_write(struct session *s);
static void arm_timer(struct session *s, uint64_t now);

void session_deliver(struct session *s, enum session_ev_type type, const struct session_ev *proto)
{
	if (s->closing && type != SESSION_EV_CLOSED)
		return;
	struct session_ev ev = {0};
	if (proto != NULL)
		ev = *proto;
	ev.type = type;
	s->depth++;
	s->io(s, &ev, s->arg);
	s->depth--;
}

/* ---- byte counting and the activity clock (evbuffer callbacks) ---- */

static void on_input_change(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)b;
	struct session *s = arg;
	if (info->n_added > 0) {
		s->bytes_in += info->n_added;
		s->last_in_ms = session_now_ms();
	}
}

static void on_output_change(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)b;
	struct session *s = arg;
	if (info->n_deleted > 0) {
		s->bytes_out += info->n_deleted;
		s->last_out_ms = session_now_ms();
	} else if (info->n_added > 0 && info->orig_size == 0) {
		/* The stall clock starts when output starts waiting. */
		s->last_out_ms = session_now_ms();
	}
}

void session_watch_buffers(struct session *s)
{
	s->in_cb = evbuffer_add_cb(bufferevent_get_input(s->bev), on_input_change, s);
	s->out_cb = evbuffer_add_cb(bufferevent_get_output(s->bev), on_output_change, s);
}

void session_unwatch_buffers(struct session *s)
{
	if (s->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(s->bev), s->in_cb);
	if (s->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(s->bev), s->out_cb);
	s->in_cb = s->out_cb = NULL;
}

/* ---- closing and freeing ---- */

static void finalize(void *arg)
{
	struct session *s = arg;
	struct session_ev ev = {.reason = s->reason};
	session_deliver(s, SESSION_EV_CLOSED, &ev);
	if (s->o.log_close) {
		char reason[160];
		log_event(LOG_INFO, "close",
			  "proto=%s session=%llu peer=%s in=%llu out=%llu ms=%llu refused_lines=%llu "
			  "reason=%s", s->proto, (unsigned long long)s->id, s->peer_text,
			  (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
			  (unsigned long long)(session_now_ms() - s->start_ms),
			  (unsigned long long)s->refused, log_quote(reason, sizeof reason, s->reason));
	}
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->kick != NULL)
		event_free(s->kick);
	if (s->wire_cb != NULL && s->under != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(s->under), s->wire_cb);
	session_unwatch_buffers(s);
	bufferevent_free(s->bev);
	free(s->linebuf);
	free(s);
}

void session_close(struct session *s, const char *reason)
{
	if (s->closing)
		return;
	/* A last reply (a timeout notice, say) gets one non-blocking try. */
	if (s->direct && !s->write_armed && evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		direct_write(bufferevent_get_output(s->bev), s->fd);
	s->closing = true;
	str_copy(s->reason, sizeof s->reason, reason != NULL ? reason : "closed");
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if (s->timer != NULL)
		event_del(s->timer);
	if (s->kick != NULL)
		event_del(s->kick);
	if (loop_defer(s->loop, finalize, s) < 0) {
		log_event(LOG_ERR, "session_leak", "session=%llu reason=\"out of memory\"",
			  (unsigned long long)s->id);
	}
}

bool session_closing(const struct session *s) { return s->closing; }

/* A drop the operator should see even without per-session log lines. */
void session_drop(struct session *s, const char *reason)
{
	if (s->closing)
		return;
	char q[160];
	/* Abort (RST): what the kernel still holds for a peer that does not
	 * read would otherwise outlive the socket. */
	struct linger lg = {1, 0};
	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	log_event(LOG_WARNING, "drop", "proto=%s session=%llu peer=%s reason=%s", s->proto,
		  (unsigned long long)s->id, s->peer_text, log_quote(q, sizeof q, reason));
	session_close(s, reason);
}

static void close_errno(struct session *s, int err, const char *what)
{
	char reason[128];
	if (err == 0 || err == ECONNRESET || err == EPIPE)
		str_fmt(reason, sizeof reason, "%s: connection reset by peer", what);
	else
		str_fmt(reason, sizeof reason, "%s: %s", what, strerror(err));
	session_close(s, reason);
}

/* ---- output ---- */

/* The socket bufferevent keeps its output frozen at the front so that
 * only it drains it; we drain it ourselves while it does not write. */
static int direct_write(struct evbuffer *out, int fd)
{
	evbuffer_unfreeze(out, 1);
	int n = evbuffer_write(out, fd);
	int err = errno;
	evbuffer_freeze(out, 1);
	errno = err;
	return n;
}

/* Apply the output marks after output was added. */
static void check_output(struct session *s)
{
	size_t len = evbuffer_get_length(bufferevent_get_output(s->bev));
	if (len > s->o.out_high && !s->out_over) {
		s->out_over = true;
		bufferevent_disable(s->bev, EV_READ);
	}
}

void session_flush(struct session *s)
{
	if (s->closing)
		return;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	/* A plain socket is written here, at once, instead of waiting a loop
	 * turn for writability: an echo costs one write, not an epoll_ctl pair
	 * around it. Only what the kernel did not take waits for EV_WRITE. */
	if (s->direct && !s->write_armed && evbuffer_get_length(out) > 0) {
		int n = direct_write(out, s->fd);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			close_errno(s, errno, "write error");
			return;
		}
		if (evbuffer_get_length(out) > 0) {
			s->write_armed = true;
			bufferevent_enable(s->bev, EV_WRITE);
		}
	}
	check_output(s);
	if (s->wr_finish)
		finish_write(s);
}

int session_write(struct session *s, const void *data, size_t len)
{
	if (s->closing)
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
	if (s->closing) {
		close(fd);
		return -1;
	}
	if (evbuffer_add_file(bufferevent_get_output(s->bev), fd, offset, len) < 0) {
		close(fd);
		return -1;
	}
	if (s->depth == 0)
		session_flush(s);
	return 0;
}

/* The end-of-file policy: send what is queued, close_notify, FIN; close
 * once the peer's end of file has been seen too. */
static void finish_write(struct session *s)
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
		session_close(s, "eof");
}

void session_shutdown_write(struct session *s)
{
	if (s->closing || s->wr_finish)
		return;
	s->wr_finish = true;
	if (s->depth == 0)
		session_flush(s);	/* ends in finish_write */
}

void session_keep_writing(struct session *s) { s->keep_writing = true; }

/* ---- input ---- */

static void deliver_eof(struct session *s)
{
	s->eof_done = true;
	s->keep_writing = false;
	session_deliver(s, SESSION_EV_EOF, NULL);
	if (s->closing)
		return;
	if (s->wr_done) {
		session_close(s, "eof");
		return;
	}
	if (!s->keep_writing)
		session_shutdown_write(s);
}

static void process_lines(struct session *s)
{
	while (!s->closing && !s->paused && s->mode == SESSION_MODE_LINE) {
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
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)window);
		if (p == NULL) {
			session_close(s, "out of memory");
			return;
		}
		size_t len, consumed;
		enum session_line_status st = session_line_scan(&s->ls, p, window, &len, &consumed);
		if (st == SESSION_LINE_OK) {
			/* Allocated on first use: raw sessions never need it. */
			if (s->linebuf == NULL && (s->linebuf = malloc(s->o.max_line + 1)) == NULL) {
				session_close(s, "out of memory");
				return;
			}
			memcpy(s->linebuf, p, len);
			s->linebuf[len] = '\0';
			evbuffer_drain(in, consumed);
			struct session_ev ev = {.line = s->linebuf, .len = len};
			session_deliver(s, SESSION_EV_LINE, &ev);
			continue;
		}
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
	if (s->wr_done) {
		/* We said goodbye: what still comes is read only to see the end. */
		evbuffer_drain(in, evbuffer_get_length(in));
	} else if (s->mode == SESSION_MODE_LINE) {
		process_lines(s);
	} else if (!s->paused && evbuffer_get_length(in) > 0) {
		session_deliver(s, SESSION_EV_DATA, NULL);
	}
	if (s->closing || !s->eof_seen || s->eof_done || s->paused)
		return;
	in = bufferevent_get_input(s->bev);
	if (s->mode == SESSION_MODE_LINE) {
		if (s->out_over)
			return;
		/* An unterminated last line is not a line (RFC 5321 2.3.8). */
		evbuffer_drain(in, evbuffer_get_length(in));
	} else if (evbuffer_get_length(in) > 0) {
		return;		/* the protocol will take it later (session_kick) */
	}
	deliver_eof(s);
}

static void process(struct session *s)
{
	if (s->busy) {
		s->again = true;
		return;
	}
	s->busy = true;
	s->depth++;
	do {
		s->again = false;
		if (!s->closing)
			process_once(s);
	} while (s->again && !s->closing);
	s->depth--;
	s->busy = false;
	session_flush(s);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	process(arg);
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

static void update_reading(struct session *s)
{
	if (s->closing)
		return;
	if (s->paused || s->out_over || s->eof_seen)
		bufferevent_disable(s->bev, EV_READ);
	else
		bufferevent_enable(s->bev, EV_READ);
}

void session_pause(struct session *s)
{
	s->paused = true;
	update_reading(s);
}

void session_resume(struct session *s)
{
	if (!s->paused)
		return;
	s->paused = false;
	update_reading(s);
	session_kick(s);
}

void session_set_mode(struct session *s, enum session_mode mode)
{
	s->mode = mode;
	/* Raw input that nobody takes must not grow without bound. */
	bufferevent_setwatermark(s->bev, EV_READ, 0, mode == SESSION_MODE_RAW ? s->o.in_max : 0);
	if (mode == SESSION_MODE_LINE)
		s->ls.skipping = false;
	if (s->busy)
		s->again = true;	/* the rest of the input, read the new way */
	else
		session_kick(s);
}

enum session_mode session_mode(const struct session *s) { return s->mode; }

/* ---- the bufferevent callbacks ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct session *s = arg;
	if (s->closing)
		return;
	size_t len = evbuffer_get_length(bufferevent_get_output(s->bev));
	if (s->direct && len == 0 && s->write_armed) {
		s->write_armed = false;
		bufferevent_disable(s->bev, EV_WRITE);
	}
	if (s->out_over && len <= s->o.out_high / 2) {
		s->out_over = false;
		update_reading(s);
		s->depth++;
		session_deliver(s, SESSION_EV_DRAINED, NULL);
		s->depth--;
		process(s);	/* lines that waited for the peer to read */
		return;
	}
	if (s->wr_finish)
		finish_write(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (s->closing)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		s->depth++;
		session_deliver(s, SESSION_EV_TLS_READY, NULL);
		s->depth--;
		session_flush(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		s->eof_seen = true;
		bufferevent_disable(s->bev, EV_READ);
		process(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long tls_err = s->tls ? bufferevent_get_openssl_error(bev) : 0;
		if (tls_err != 0) {
			char buf[160], reason[200];
			ERR_error_string_n(tls_err, buf, sizeof buf);
			str_fmt(reason, sizeof reason, "tls: %s", buf);
			session_close(s, reason);
		} else {
			int err = EVUTIL_SOCKET_ERROR();
			close_errno(s, err, s->eof_seen ? "write error" : "read error");
		}
	}
}

/* The TLS alert of an upgraded session sits in the socket's own buffer
 * until written: FIN must wait for it. */
static void on_wire_change(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct session *s = arg;
	if (info->n_deleted > 0 && evbuffer_get_length(b) == 0 && s->alert_sent && !s->wr_done &&
	    !s->closing)
		finish_write(s);
}

/* ---- timeouts ---- */

/* Bytes the kernel still holds for the peer (not sent, or not acked). */
static size_t kernel_queue(int fd)
{
	int n = 0;
	if (ioctl(fd, TIOCOUTQ, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->closing)
		return;
	uint64_t now = session_now_ms();
	/* A peer that stops reading first fills the kernel's send buffer
	 * (megabytes on a fast link) before our own output grows: count
	 * both, and the kernel queue shrinking as progress. */
	size_t kq = kernel_queue(s->fd);
	if (kq < s->kq_last)
		s->last_out_ms = now;
	s->kq_last = kq;
	size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)) + kq;
	char reason[128];
	if (queued > 0 && s->o.write_ms > 0 && now - s->last_out_ms >= s->o.write_ms) {
		str_fmt(reason, sizeof reason, "client not reading: %zu bytes unsent for %llu ms",
			queued, (unsigned long long)(now - s->last_out_ms));
		session_drop(s, reason);
		return;
	}
	uint64_t last = s->last_in_ms > s->last_out_ms ? s->last_in_ms : s->last_out_ms;
	if (s->o.idle_ms > 0 && now - last >= s->o.idle_ms) {
		str_fmt(reason, sizeof reason, "idle timeout (%llu ms)",
			(unsigned long long)s->o.idle_ms);
		struct session_ev ev = {.reason = reason};
		session_deliver(s, SESSION_EV_TIMEOUT, &ev);
		session_close(s, reason);
		return;
	}
	arm_timer(s, now);
}

/* The timer is re-armed lazily: traffic only moves timestamps, the timer
 * looks at them when it fires, so a busy session costs no timer work. */
static void arm_timer(struct session *s, uint64_t now)
{
	uint64_t wait = UINT64_MAX;
	if (s->o.idle_ms > 0) {
		uint64_t last = s->last_in_ms > s->last_out_ms ? s->last_in_ms : s->last_out_ms;
		uint64_t due = last + s->o.idle_ms;
		wait = due > now ? due - now : 1;
	}
	if (s->o.write_ms > 0) {
		/* Output may start waiting at any moment: look at least every
		 * write_ms, and at its deadline when it waits now. */
		uint64_t w = s->o.write_ms;
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0 || s->kq_last > 0) {
			uint64_t due = s->last_out_ms + s->o.write_ms;
			w = due > now ? due - now : 1;
		}
		if (w < wait)
			wait = w;
	}
	if (wait == UINT64_MAX)
		return;
	struct timeval tv = loop_tv(wait);
	event_add(s->timer, &tv);
}

/* ---- creation ---- */

void session_setup_bev(struct session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, s->o.out_high / 2, 0);
	bufferevent_setwatermark(s->bev, EV_READ, 0, s->mode == SESSION_MODE_RAW ? s->o.in_max : 0);
	session_watch_buffers(s);
	short ev = s->direct ? EV_READ : EV_READ | EV_WRITE;
	if (s->paused)
		ev &= (short)~EV_READ;
	bufferevent_enable(s->bev, ev);
	if (s->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
}

struct session *session_new(struct loop *l, int fd, const struct sockaddr *peer,
			    socklen_t peerlen, SSL_CTX *tls, const struct session_opts *opts,
			    session_io_fn io, void *arg, ik_err *e)
{
	struct session *s = calloc(1, sizeof *s);
	if (s == NULL) {
		close(fd);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->o = *opts;
	if (s->o.max_line == 0)
		s->o.max_line = SESSION_DEFAULT_MAX_LINE;
	if (s->o.out_high == 0)
		s->o.out_high = SESSION_DEFAULT_OUT_HIGH;
	if (s->o.out_max == 0)
		s->o.out_max = s->o.out_high * 4;
	if (s->o.in_max == 0)
		s->o.in_max = SESSION_DEFAULT_IN_MAX;
	if (s->o.write_ms == 0)
		s->o.write_ms = s->o.idle_ms;
	str_copy(s->proto, sizeof s->proto, opts->proto != NULL ? opts->proto : "session");
	s->o.proto = s->proto;
	s->mode = opts->mode;
	s->ls.max = s->o.max_line;
	s->ls.eol = s->o.eol;
	s->io = io;
	s->arg = arg;
	s->fd = fd;
	s->id = next_id++;
	s->start_ms = s->last_in_ms = s->last_out_ms = session_now_ms();
	if (peer != NULL && peerlen <= sizeof s->peer) {
		memcpy(&s->peer, peer, peerlen);
		s->peerlen = peerlen;
		endpoint_format(peer, s->peer_text, sizeof s->peer_text);
	} else {
		str_copy(s->peer_text, sizeof s->peer_text, "-");
	}
	int one = 1;
	/* Replies go out whole; Nagle would only hold back the last piece. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct event_base *base = loop_base(l);
	if (tls != NULL) {
		SSL *ssl = SSL_new(tls);
		if (ssl == NULL) {
			close(fd);
			free(s);
			ik_err_set(e, "cannot create a TLS session");
			return NULL;
		}
		s->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE);
		s->tls = true;
	} else {
		s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
		s->direct = true;
	}
	if (s->bev == NULL) {
		close(fd);
		free(s);
		ik_err_set(e, "cannot set up the connection");
		return NULL;
	}
	s->timer = evtimer_new(base, on_timer, s);
	if (s->timer == NULL) {
		bufferevent_free(s->bev);
		free(s);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	session_setup_bev(s);
	arm_timer(s, s->start_ms);
	return s;
}

/* ---- TLS upgrade ---- */

int session_starttls(struct session *s, SSL_CTX *ctx, ik_err *e)
{
	if (s->closing)
		return ik_err_set(e, "session is closing");
	if (s->tls)
		return ik_err_set(e, "the connection already uses TLS");
	session_flush(s);
	if (s->closing)
		return ik_err_set(e, "connection lost before the TLS handshake");
	struct bufferevent *under = s->bev;
	struct evbuffer *in = bufferevent_get_input(under);
	size_t junk = evbuffer_get_length(in);
	if (junk > 0) {
		/* Commands sent before the handshake must never be read as if
		 * they came over TLS (the STARTTLS injection attack). */
		evbuffer_drain(in, junk);
		log_event(LOG_WARNING, "starttls_discard", "proto=%s session=%llu peer=%s bytes=%zu",
			  s->proto, (unsigned long long)s->id, s->peer_text, junk);
	}
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL)
		return ik_err_set(e, "cannot create a TLS session");
	session_unwatch_buffers(s);
	bufferevent_setwatermark(under, EV_READ, 0, 0);
	bufferevent_setwatermark(under, EV_WRITE, 0, 0);
	bufferevent_setcb(under, NULL, NULL, NULL, NULL);
	struct bufferevent *bev = bufferevent_openssl_filter_new(
		bufferevent_get_base(under), under, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		session_watch_buffers(s);
		return ik_err_set(e, "cannot start TLS on the connection");
	}
	bufferevent_enable(under, EV_READ | EV_WRITE);
	s->under = under;
	s->bev = bev;
	s->tls = true;
	s->direct = false;
	s->write_armed = false;
	s->ls.skipping = false;
	s->wire_cb = evbuffer_add_cb(bufferevent_get_output(under), on_wire_change, s);
	session_setup_bev(s);
	return 0;
}

bool session_is_tls(const struct session *s) { return s->tls; }
SSL *session_ssl(struct session *s)
{
	return s->tls ? bufferevent_openssl_get_ssl(s->bev) : NULL;
}

/* ---- accessors ---- */

struct evbuffer *session_input(struct session *s) { return bufferevent_get_input(s->bev); }
struct evbuffer *session_output(struct session *s) { return bufferevent_get_output(s->bev); }
struct loop *session_loop(struct session *s) { return s->loop; }
const char *session_peer(const struct session *s) { return s->peer_text; }
const struct sockaddr *session_peer_addr(const struct session *s, socklen_t *len)
{
	if (len != NULL)
		*len = s->peerlen;
	return (const struct sockaddr *)&s->peer;
}
int session_fd(const struct session *s) { return s->fd; }
uint64_t session_id(const struct session *s) { return s->id; }
uint64_t session_bytes_in(const struct session *s) { return s->bytes_in; }
uint64_t session_bytes_out(const struct session *s) { return s->bytes_out; }
uint64_t session_lines_refused(const struct session *s) { return s->refused; }

void session_set_arg(struct session *s, session_io_fn io, void *arg)
{
	s->io = io;
	s->arg = arg;
}
