/* Data channels; see datachan.h for the RFCs and the policies. */
#include "core/datachan.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>

#include "core/connector.h"
#include "core/listener.h"
#include "core/log.h"
#include "lib/str.h"
#include "net/endpoint.h"

#define DATACHAN_TOKEN_LEN 16

struct datachan {
	struct session *control;	/* not owned; outlives the channel */
	char proto[16];
	datachan_cb cb;
	void *arg;
	struct listen_set set;		/* the passive port: n is 0 or 1 */
	struct listener *li;
	struct connector *conn;		/* active connect under way */
	int fd;				/* connected, not taken yet; -1 */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct event *timer;		/* passive deadline */
	uint64_t timeout_ms;
	/* TLS: what the control connection's tickets carry */
	unsigned char token[DATACHAN_TOKEN_LEN];
	bool has_token;
};

static int token_idx = -1;	/* SSL: the token of its channel */
static int match_idx = -1;	/* SSL: a ticket with that token was accepted */

static void close_port(struct datachan *dc)
{
	if (dc->li != NULL) {
		listener_free(dc->li);
		dc->li = NULL;
	}
	listen_set_close(&dc->set);
}

void datachan_reset(struct datachan *dc)
{
	if (dc == NULL)
		return;
	close_port(dc);
	if (dc->fd >= 0) {
		close(dc->fd);
		dc->fd = -1;
	}
	if (dc->conn != NULL) {
		connector_cancel(dc->conn);
		dc->conn = NULL;
	}
	event_del(dc->timer);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct datachan *dc = arg;
	bool waited = dc->set.n > 0;
	datachan_reset(dc);
	if (waited)
		dc->cb(dc, DATACHAN_FAILED, ETIMEDOUT, dc->arg);
}

struct datachan *datachan_new(struct session *control, const char *proto, datachan_cb cb,
			      void *arg, ik_err *e)
{
	struct datachan *dc = calloc(1, sizeof *dc);
	if (dc == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	dc->control = control;
	str_copy(dc->proto, sizeof dc->proto, proto);
	dc->cb = cb;
	dc->arg = arg;
	dc->fd = -1;
	dc->timer = evtimer_new(loop_base(session_loop(control)), on_deadline, dc);
	if (dc->timer == NULL) {
		free(dc);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	return dc;
}

void datachan_free(struct datachan *dc)
{
	if (dc == NULL)
		return;
	datachan_reset(dc);
	datachan_tls_release(dc);
	event_free(dc->timer);
	free(dc);
}

bool datachan_listening(const struct datachan *dc) { return dc != NULL && dc->set.n > 0; }
bool datachan_ready(const struct datachan *dc) { return dc != NULL && dc->fd >= 0; }

static void arm(struct datachan *dc)
{
	struct timeval tv = loop_tv(dc->timeout_ms);
	event_add(dc->timer, &tv);
}

/* ---- passive ---- */

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
	struct datachan *dc = arg;
	if (!endpoint_same_host(peer, session_peer_addr(dc->control, NULL))) {
		/* Port theft: someone else raced the client to its port. */
		char who[ENDPOINT_TEXT_MAX], event[48];
		str_fmt(event, sizeof event, "%s_data_refused", dc->proto);
		log_event(LOG_WARNING, event, "session=%llu peer=%s from=%s "
			  "reason=\"not the control connection's address\"",
			  (unsigned long long)session_id(dc->control), session_peer(dc->control),
			  endpoint_format(peer, who, sizeof who));
		close(fd);
		return;
	}
	close_port(dc);		/* one connection per port */
	if (dc->fd >= 0)
		close(dc->fd);
	dc->fd = fd;
	if (len > sizeof dc->peer)
		len = sizeof dc->peer;
	memcpy(&dc->peer, peer, len);
	dc->peerlen = len;
	dc->cb(dc, DATACHAN_READY, 0, dc->arg);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Bind a port of the range on local: the fd, or -1 with errno. */
static int bind_range(struct datachan *dc, const struct sockaddr_storage *local, socklen_t len,
		      uint16_t lo, uint16_t hi, ik_err *e)
{
	unsigned span = hi >= lo && lo > 0 ? (unsigned)(hi - lo) + 1 : 1;
	uint32_t start = 0;
	if (span > 1 && getrandom(&start, sizeof start, 0) != (ssize_t)sizeof start)
		start = (uint32_t)session_id(dc->control);
	struct endpoint ep;
	endpoint_from_sockaddr(&ep, (const struct sockaddr *)local, len);
	for (unsigned i = 0; i < span; i++) {
		set_port(&ep.ss, lo > 0 ? (uint16_t)(lo + (start + i) % span) : 0);
		endpoint_format((struct sockaddr *)&ep.ss, ep.text, sizeof ep.text);
		int fd = listen_bind_one(&ep, SOCK_STREAM, 0, e);
		if (fd >= 0 || errno != EADDRINUSE)
			return fd;
	}
	/* Each port refused: say so for the range, not for its last port. */
	if (span > 1)
		ik_err_set(e, "every passive port of %u-%u is in use", lo, hi);
	errno = EADDRINUSE;
	return -1;
}

int datachan_listen(struct datachan *dc, uint16_t port_min, uint16_t port_max,
		    uint64_t timeout_ms, uint16_t *port, ik_err *e)
{
	datachan_reset(dc);
	struct sockaddr_storage local;
	socklen_t len;
	if (session_local_addr(dc->control, &local, &len) < 0)
		return ik_err_errno(e, errno, "cannot find the control connection's address");
	int fd = bind_range(dc, &local, len, port_min, port_max, e);
	if (fd < 0)
		return -1;
	struct sockaddr_storage got;
	socklen_t glen = sizeof got;
	if (getsockname(fd, (struct sockaddr *)&got, &glen) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return ik_err_errno(e, err, "cannot read the passive port");
	}
	dc->set.fd[0] = fd;
	dc->set.socktype[0] = SOCK_STREAM;
	endpoint_from_sockaddr(&dc->set.ep[0], (struct sockaddr *)&got, glen);
	dc->set.n = 1;
	dc->li = listener_new(session_loop(dc->control), &dc->set, 0, on_accept, dc, e);
	if (dc->li == NULL) {
		close_port(dc);
		errno = ENOMEM;
		return -1;
	}
	*port = endpoint_port((struct sockaddr *)&got);
	dc->timeout_ms = timeout_ms;
	arm(dc);
	return 0;
}

void datachan_restart(struct datachan *dc)
{
	if (datachan_listening(dc))
		arm(dc);
}

/* ---- active ---- */

static void on_connected(int fd, const struct endpoint *ep, int err, const char *why, void *arg)
{
	(void)why;
	struct datachan *dc = arg;
	dc->conn = NULL;
	if (fd < 0) {
		dc->cb(dc, DATACHAN_FAILED, err, dc->arg);
		return;
	}
	dc->fd = fd;
	dc->peer = ep->ss;
	dc->peerlen = ep->len;
	dc->cb(dc, DATACHAN_READY, 0, dc->arg);
}

int datachan_connect(struct datachan *dc, const struct sockaddr *to, socklen_t len,
		     uint64_t timeout_ms, ik_err *e)
{
	datachan_reset(dc);
	struct endpoint target, source;
	endpoint_from_sockaddr(&target, to, len);
	struct connector_opts o = {.timeout_ms = timeout_ms};
	/* From the address the client talks to, so that it sees the same
	 * host; any port (RFC 959's port 20 needs root for every transfer). */
	struct sockaddr_storage local;
	socklen_t llen;
	if (session_local_addr(dc->control, &local, &llen) == 0 && local.ss_family == to->sa_family) {
		set_port(&local, 0);
		endpoint_from_sockaddr(&source, (struct sockaddr *)&local, llen);
		o.source = &source;
	}
	dc->conn = connector_start(session_loop(dc->control), &target, 1, &o, on_connected, dc, e);
	return dc->conn != NULL ? 0 : -1;
}

/* ---- the connection ---- */

struct session *datachan_take(struct datachan *dc, const struct datachan_conn_opts *o,
			      session_io_fn io, void *arg, ik_err *e)
{
	if (dc->fd < 0) {
		ik_err_set(e, "no data connection");
		return NULL;
	}
	int fd = dc->fd;
	dc->fd = -1;
	event_del(dc->timer);
	/* Best effort: without them the kernel's autotuning still works. */
	if (o->send_buffer > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->send_buffer, sizeof o->send_buffer);
	if (o->recv_buffer > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->recv_buffer, sizeof o->recv_buffer);
	struct session_opts so = o->session;
	so.mode = SESSION_MODE_RAW;
	struct session *s = session_new(session_loop(dc->control), fd, (struct sockaddr *)&dc->peer,
					dc->peerlen, o->tls, &so, io, arg, e);
	if (s != NULL && o->tls != NULL && dc->has_token && token_idx >= 0)
		SSL_set_ex_data(session_ssl(s), token_idx, dc->token);	/* before the handshake */
	return s;
}

static void ended(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	(void)ev;
	(void)arg;
}

void datachan_end(struct session *data)
{
	session_set_arg(data, ended, NULL);
	SSL *ssl = session_ssl(data);
	if (ssl != NULL && SSL_is_init_finished(ssl)) {
		ERR_clear_error();
		SSL_shutdown(ssl);
	}
	/* The peer reads its end of file now, before the protocol's reply on
	 * the control connection (RFC 959: close, then 226). */
	shutdown(session_fd(data), SHUT_WR);
	session_close(data, "done");
}

/* ---- TLS session resumption ---- */

static int gen_ticket(SSL *s, void *arg)
{
	(void)arg;
	const unsigned char *token = SSL_get_ex_data(s, token_idx);
	SSL_SESSION *ss = SSL_get_session(s);
	if (token != NULL && ss != NULL)
		SSL_SESSION_set1_ticket_appdata(ss, token, DATACHAN_TOKEN_LEN);
	return 1;
}

static bool carries(SSL_SESSION *ss, const unsigned char *token)
{
	void *data = NULL;
	size_t len = 0;
	return token != NULL && ss != NULL && SSL_SESSION_get0_ticket_appdata(ss, &data, &len) == 1 &&
	       len == DATACHAN_TOKEN_LEN && memcmp(data, token, len) == 0;
}

static SSL_TICKET_RETURN dec_ticket(SSL *s, SSL_SESSION *ss, const unsigned char *keyname,
				    size_t keyname_len, SSL_TICKET_STATUS status, void *arg)
{
	(void)keyname;
	(void)keyname_len;
	(void)arg;
	switch (status) {
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
	const unsigned char *token = SSL_get_ex_data(s, token_idx);
	if (carries(ss, token)) {
		SSL_set_ex_data(s, match_idx, (void *)token);
		return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
						    : SSL_TICKET_RETURN_USE_RENEW;
	}
	/* Another connection's session: a full handshake instead, which
	 * datachan_tls_resumed then reports. */
	return SSL_TICKET_RETURN_IGNORE_RENEW;
}

int datachan_tls_setup(SSL_CTX *ctx, ik_err *e)
{
	if (token_idx < 0)
		token_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (match_idx < 0)
		match_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (token_idx < 0 || match_idx < 0)
		return ik_err_set(e, "cannot set up TLS session tracking");
	if (SSL_CTX_set_session_ticket_cb(ctx, gen_ticket, dec_ticket, NULL) != 1)
		return ik_err_set(e, "cannot set up TLS session tickets");
	return 0;
}

void datachan_tls_control(struct datachan *dc)
{
	SSL *ssl = session_ssl(dc->control);
	if (ssl == NULL || token_idx < 0)
		return;
	if (!dc->has_token) {
		/* Without randomness no token can be trusted: none then. */
		if (getrandom(dc->token, sizeof dc->token, 0) != (ssize_t)sizeof dc->token)
			return;
		dc->has_token = true;
	}
	SSL_set_ex_data(ssl, token_idx, dc->token);
	/* A TLS 1.2 session resumed by ID is this very object. */
	SSL_SESSION *ss = SSL_get_session(ssl);
	if (ss != NULL && SSL_is_init_finished(ssl))
		SSL_SESSION_set1_ticket_appdata(ss, dc->token, DATACHAN_TOKEN_LEN);
}

void datachan_tls_release(struct datachan *dc)
{
	SSL *ssl = dc != NULL ? session_ssl(dc->control) : NULL;
	if (ssl != NULL && token_idx >= 0)
		SSL_set_ex_data(ssl, token_idx, NULL);
}

enum datachan_resume datachan_tls_resumed(const struct datachan *dc, struct session *data)
{
	if (!dc->has_token)
		return DATACHAN_NO_CONTROL_TLS;
	SSL *ssl = session_ssl(data);
	if (ssl == NULL || !SSL_session_reused(ssl))
		return DATACHAN_NOT_RESUMED;
	if (SSL_get_ex_data(ssl, match_idx) != NULL || carries(SSL_get_session(ssl), dc->token))
		return DATACHAN_RESUMED;
	return DATACHAN_OTHER_SESSION;
}
