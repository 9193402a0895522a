/* Session life cycle: creation, the bufferevent callbacks, timeouts,
 * closing and the deferred free. The RFCs and policies are in session.h;
 * input is in session_in.c, output in session_out.c, the TLS upgrade in
 * session_tls.c. Everything a session does starts in a bufferevent
 * callback, the read event, the timer or a kick, and reaches the protocol
 * through session_deliver(). */
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
#include "lib/str.h"
#include "core/tls.h"
#include "core/metrics.h"
#include "net/endpoint.h"

static uint64_t next_id = 1;

uint64_t session_now_ms(void)
{
	struct timespec ts;
	/* Coarse is enough for timeouts and costs no system call. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
	/* A plain socket's input is counted by our reader (session_in.c). */
	if (!s->direct)
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
	struct session_ev ev = {.reason = s->reason, .err = s->close_err, .timed_out = s->timed_out};
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
	metrics_add(s->proto, METRIC_BYTES_IN, (int64_t)s->bytes_in);
	metrics_add(s->proto, METRIC_BYTES_OUT, (int64_t)s->bytes_out);
	if (s->metered)
		metrics_add(s->proto, METRIC_SESSIONS_OPEN, -1);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->kick != NULL)
		event_free(s->kick);
	if (s->rev != NULL)
		event_free(s->rev);
	session_splice_free(s);
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
		session_direct_write(s);
	s->closing = true;
	str_copy(s->reason, sizeof s->reason, reason != NULL ? reason : "closed");
	session_unlink(s);
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if (s->rev != NULL)
		event_del(s->rev);
	if (s->wev != NULL)
		event_del(s->wev);
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

void session_close_errno(struct session *s, int err, const char *what)
{
	char reason[128];
	if (!s->closing)
		s->close_err = err;
	if (err == 0 || err == ECONNRESET || err == EPIPE)
		str_fmt(reason, sizeof reason, "%s: connection reset by peer", what);
	else
		str_fmt(reason, sizeof reason, "%s: %s", what, strerror(err));
	session_close(s, reason);
}

/* ---- the bufferevent callbacks ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process(arg);
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
	bool asked = s->want_drained && len <= s->drained_low;
	if (asked)
		s->want_drained = false;
	if (s->out_over && len <= s->o.out_high / 2) {
		s->out_over = false;
		session_update_reading(s);
		if (s->linked && s->link != NULL)
			session_update_reading(s->link);
		s->depth++;
		session_deliver(s, SESSION_EV_DRAINED, NULL);
		s->depth--;
		session_process(s);	/* lines that waited for the peer to read */
		return;
	}
	if (asked) {
		s->depth++;
		session_deliver(s, SESSION_EV_DRAINED, NULL);
		s->depth--;
		session_flush(s);
		return;
	}
	if (s->wr_finish)
		session_finish_write(s);
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
		session_peer_eof(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long tls_err = s->tls ? bufferevent_get_openssl_error(bev) : 0;
		SSL *ssl = s->tls_client ? bufferevent_openssl_get_ssl(bev) : NULL;
		if (ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK) {
			/* Our own check of the server refused it: say why in words. */
			char buf[160], reason[200];
			str_fmt(reason, sizeof reason, "tls: %s",
				tls_error_text(ssl, tls_err, buf, sizeof buf));
			session_close(s, reason);
		} else if (tls_err != 0) {
			char buf[160], reason[200];
			ERR_error_string_n(tls_err, buf, sizeof buf);
			str_fmt(reason, sizeof reason, "tls: %s", buf);
			session_close(s, reason);
		} else {
			int err = EVUTIL_SOCKET_ERROR();
			session_close_errno(s, err, s->eof_seen ? "write error" : "read error");
		}
	}
}

/* ---- timeouts ---- */

/* Bytes waiting in a pipe to be written to this session's socket: its
 * own when it echoes, its link's when linked. */
static size_t feed_pipe(const struct session *s)
{
	return s->reflect && s->link != NULL ? s->link->in_pipe : 0;
}

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
	char reason[128];
	if (s->quitting) {
		/* After the last reply only the wait for the peer's close is
		 * left, bounded by close_ms: neither idle nor a stalled reader
		 * ends it sooner (a drop's reset could destroy the reply). */
		if (now >= s->close_by_ms) {
			session_close(s, s->quit_reason);
			return;
		}
		arm_timer(s, now);
		return;
	}
	/* A peer that stops reading first fills the kernel's send buffer
	 * (megabytes on a fast link) before our own output grows: count
	 * both, and the kernel queue shrinking as progress. */
	size_t kq = kernel_queue(s->fd);
	if (kq < s->kq_last)
		s->last_out_ms = now;
	s->kq_last = kq;
	size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)) + kq + feed_pipe(s);
	if (queued > 0 && s->o.write_ms > 0 && now - s->last_out_ms >= s->o.write_ms) {
		str_fmt(reason, sizeof reason, "client not reading: %zu bytes unsent for %llu ms",
			queued, (unsigned long long)(now - s->last_out_ms));
		s->timed_out = true;
		session_drop(s, reason);
		return;
	}
	uint64_t last = s->last_in_ms > s->last_out_ms ? s->last_in_ms : s->last_out_ms;
	if (s->o.idle_ms > 0 && now - last >= s->o.idle_ms) {
		str_fmt(reason, sizeof reason, "idle timeout (%llu ms)",
			(unsigned long long)s->o.idle_ms);
		struct session_ev ev = {.reason = reason};
		s->timed_out = true;
		session_deliver(s, SESSION_EV_TIMEOUT, &ev);
		/* A protocol that answered with session_reply_close gets its
		 * bounded wait, its reply sent now (the callback's writes wait
		 * for whoever called it: here, this); otherwise the reply has
		 * one try, now. */
		if (s->quitting)
			session_flush(s);
		else
			session_close(s, reason);
		return;
	}
	arm_timer(s, now);
}

/* The timer is re-armed lazily: traffic only moves timestamps, the timer
 * looks at them when it fires, so a busy session costs no timer work. */
static void arm_timer(struct session *s, uint64_t now)
{
	if (s->quitting) {
		struct timeval tv = loop_tv(s->close_by_ms > now ? s->close_by_ms - now : 1);
		event_add(s->timer, &tv);
		return;
	}
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
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0 || s->kq_last > 0 ||
		    feed_pipe(s) > 0) {
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

/* The timer looks again from now on, with the new settings. */
static void rearm_timer(struct session *s)
{
	if (s->closing)
		return;
	event_del(s->timer);
	arm_timer(s, session_now_ms());
}

void session_set_idle_timeout(struct session *s, uint64_t ms)
{
	s->o.idle_ms = ms;
	if (s->write_auto)
		s->o.write_ms = ms;
	rearm_timer(s);
}

void session_reply_close(struct session *s, const void *data, size_t len, const char *reason)
{
	if (s->closing || s->quitting)
		return;
	if (len > 0 && session_write(s, data, len) < 0)
		return;		/* dropped: over out_max */
	s->quitting = true;
	str_copy(s->quit_reason, sizeof s->quit_reason, reason != NULL ? reason : "closed");
	s->close_by_ms = session_now_ms() + s->o.close_ms;
	/* Input from now on is only read to see the peer's end of file: a
	 * socket closed with unread input would reset the connection, and
	 * the reset can destroy the reply before the peer reads it. */
	s->paused = false;
	s->end_pending = false;
	session_update_reading(s);
	session_shutdown_write(s);
	rearm_timer(s);
}

const char *session_eof_reason(const struct session *s)
{
	return s->quitting ? s->quit_reason : "eof";
}

/* ---- creation ---- */

int session_setup_bev(struct session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	/* libevent moves 16 KiB per call by default: bulk transfers would
	 * pay four loop turns per 64 KiB. */
	bufferevent_set_max_single_read(s->bev, 256 * 1024);
	bufferevent_set_max_single_write(s->bev, 256 * 1024);
	bufferevent_setwatermark(s->bev, EV_WRITE, s->o.out_high / 2, 0);
	session_set_read_mark(s);
	session_watch_buffers(s);
	if (s->direct) {
		/* A plain socket is read and written by us (session_in.c,
		 * session_out.c); the bufferevent only writes what the kernel
		 * once refused. A new bufferevent starts with EV_WRITE on. */
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		if (s->rev == NULL && session_direct_reader(s) < 0)
			return -1;
	} else {
		bufferevent_enable(s->bev, EV_WRITE);
		bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	}
	session_update_reading(s);
	return 0;
}

/* tls: the server side's context (implicit TLS), or client: our own SSL
 * for a connection we made. */
static struct session *session_create(struct loop *l, int fd, const struct sockaddr *peer,
				      socklen_t peerlen, SSL_CTX *tls, SSL *client,
				      const struct session_opts *opts, session_io_fn io, void *arg,
				      ik_err *e)
{
	struct session *s = calloc(1, sizeof *s);
	if (s == NULL) {
		close(fd);
		if (client != NULL)
			SSL_free(client);
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
	if (s->o.write_ms == 0) {
		s->o.write_ms = s->o.idle_ms;
		s->write_auto = true;
	}
	if (s->o.close_ms == 0)
		s->o.close_ms = SESSION_DEFAULT_CLOSE_MS;
	str_copy(s->proto, sizeof s->proto, opts->proto != NULL ? opts->proto : "session");
	s->o.proto = s->proto;
	s->mode = opts->mode;
	s->ls.max = s->o.max_line;
	s->ls.eol = s->o.eol;
	s->io = io;
	s->arg = arg;
	s->fd = fd;
	s->pipe_r = s->pipe_w = -1;
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
	if (opts->oob_inline)
		setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
	struct event_base *base = loop_base(l);
	if (client != NULL) {
		s->bev = bufferevent_openssl_socket_new(base, fd, client, BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
		if (s->bev == NULL)
			SSL_free(client);
		s->tls = true;
		s->tls_client = true;
	} else if (tls != NULL) {
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
		/* Paced: the bufferevent reads and writes, within its bucket. */
		s->direct = opts->rate == NULL;
	}
	if (s->bev != NULL && opts->rate != NULL && bufferevent_set_rate_limit(s->bev, opts->rate) < 0) {
		bufferevent_free(s->bev);	/* closes fd */
		free(s);
		ik_err_set(e, "cannot limit the connection's rate");
		return NULL;
	}
	if (s->bev == NULL) {
		close(fd);
		free(s);
		ik_err_set(e, "cannot set up the connection");
		return NULL;
	}
	s->timer = evtimer_new(base, on_timer, s);
	if (s->timer == NULL || session_setup_bev(s) < 0) {
		if (s->timer != NULL)
			event_free(s->timer);
		session_unwatch_buffers(s);
		bufferevent_free(s->bev);
		free(s);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	arm_timer(s, s->start_ms);
	return s;
}

struct session *session_new(struct loop *l, int fd, const struct sockaddr *peer,
			    socklen_t peerlen, SSL_CTX *tls, const struct session_opts *opts,
			    session_io_fn io, void *arg, ik_err *e)
{
	struct session *s = session_create(l, fd, peer, peerlen, tls, NULL, opts, io, arg, e);
	if (s != NULL) {
		s->metered = true;
		metrics_add(s->proto, METRIC_SESSIONS, 1);
		metrics_add(s->proto, METRIC_SESSIONS_OPEN, 1);
	}
	return s;
}

struct session *session_new_connected(struct loop *l, int fd, const struct sockaddr *peer,
				      socklen_t peerlen, SSL *tls, const struct session_opts *opts,
				      session_io_fn io, void *arg, ik_err *e)
{
	return session_create(l, fd, peer, peerlen, NULL, tls, opts, io, arg, e);
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
int session_local_addr(const struct session *s, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof *ss;
	return getsockname(s->fd, (struct sockaddr *)ss, len);
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
