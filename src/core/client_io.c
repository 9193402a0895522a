/* Client transport: non-blocking TCP sockets driven with poll() timeouts,
 * optionally wrapped in TLS (OpenSSL). Connection set-up (RFC 793 via the
 * socket API; every address getaddrinfo returns, in its order, as RFC 6724
 * sorts them) and the TLS client side (RFC 8446, RFC 6125 name checks). */
#include "core/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "lib/str.h"
#include "core/timeutil.h"
#include "core/tls.h"
#include "net/endpoint.h"

#define CONNECT_MAX_ADDRS 16

void client_conn_init(struct client_conn *cc)
{
	memset(cc, 0, sizeof *cc);
	cc->fd = -1;
	cc->pipe[0] = cc->pipe[1] = -1;
}

static int wait_fd(int fd, short events, uint64_t timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int ms = timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms;
	for (;;) {
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		return r;	/* 1 ready, 0 timeout, -1 error */
	}
}

/* After EAGAIN on the connection itself: 0 once it is ready for events, or
 * -1 with e saying the peer stayed silent (or stopped reading) too long. */
static int wait_peer(const struct client_conn *cc, short events, uint64_t timeout_ms, ik_err *e)
{
	int w = wait_fd(cc->fd, events, timeout_ms);
	if (w == 0)
		return ik_err_set(e, "%s %s nothing for %llu ms", cc->peer_text,
				  events == POLLIN ? "sent" : "accepted",
				  (unsigned long long)timeout_ms);
	if (w < 0)
		return ik_err_errno(e, errno, "poll");
	return 0;
}

static void fill_names(struct client_conn *cc)
{
	cc->peerlen = sizeof cc->peer;
	if (getpeername(cc->fd, (struct sockaddr *)&cc->peer, &cc->peerlen) < 0)
		cc->peerlen = 0;
	cc->locallen = sizeof cc->local;
	if (getsockname(cc->fd, (struct sockaddr *)&cc->local, &cc->locallen) < 0)
		cc->locallen = 0;
	if (cc->peerlen > 0)
		endpoint_format((struct sockaddr *)&cc->peer, cc->peer_text, sizeof cc->peer_text);
}

static void tune(int fd)
{
	int one = 1;
	/* Commands are whole lines written at once; no reason to wait for
	 * more before sending. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int client_conn_connect_addr(struct client_conn *cc, const struct sockaddr *sa, socklen_t len,
			     uint64_t timeout_ms, ik_err *e)
{
	char text[ENDPOINT_TEXT_MAX];
	endpoint_format(sa, text, sizeof text);
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ik_err_errno(e, errno, "socket for %s", text);
	tune(fd);
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS) {
			int err = errno;
			close(fd);
			return ik_err_errno(e, err, "connect to %s", text);
		}
		int r = wait_fd(fd, POLLOUT, timeout_ms);
		if (r == 0) {
			close(fd);
			return ik_err_set(e, "connect to %s: no answer within %llu ms "
					  "(raise --connect-timeout?)", text,
					  (unsigned long long)timeout_ms);
		}
		int err = 0;
		socklen_t elen = sizeof err;
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err != 0) {
			close(fd);
			return ik_err_errno(e, err, "connect to %s", text);
		}
	}
	cc->fd = fd;
	fill_names(cc);
	return 0;
}

int client_conn_connect(struct client_conn *cc, const char *host, uint16_t port, int family,
			uint64_t timeout_ms, ik_err *e)
{
	struct endpoint eps[CONNECT_MAX_ADDRS];
	size_t n = 0;
	if (endpoint_resolve_connect(host, port, family, SOCK_STREAM, eps, CONNECT_MAX_ADDRS,
				     &n, e) < 0)
		return -1;
	ik_err last = {{0}};
	for (size_t i = 0; i < n; i++) {
		if (client_conn_connect_addr(cc, (struct sockaddr *)&eps[i].ss, eps[i].len,
					     timeout_ms, &last) == 0)
			return 0;
	}
	if (n == 0)
		return ik_err_set(e, "'%s' has no address to connect to", host);
	if (e != NULL)
		*e = last;
	return -1;
}

int client_conn_adopt(struct client_conn *cc, int fd, ik_err *e)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return ik_err_errno(e, errno, "data socket");
	cc->fd = fd;
	cc->ssl = NULL;
	fill_names(cc);
	return 0;
}

/* The reason OpenSSL gives for the last failure, plus advice for the one
 * a user meets most: a certificate that does not verify. */
static int tls_error(struct client_conn *cc, ik_err *e, const char *what)
{
	char why[256];
	long vr = cc->ssl != NULL ? SSL_get_verify_result(cc->ssl) : X509_V_OK;
	tls_error_text(cc->ssl, 0, why, sizeof why);
	ERR_clear_error();
	if (vr != X509_V_OK)
		return ik_err_set(e, "%s with %s: %s (use --cacert FILE for a private CA, or "
				  "--insecure to skip the check)", what, cc->peer_text, why);
	return ik_err_set(e, "%s with %s failed: %s", what, cc->peer_text,
			  *why ? why : "connection closed");
}

/* Drive one OpenSSL call that may need to wait; returns its result > 0, or
 * 0 (clean end), or -1 with e set. `op` is SSL_read/SSL_write-shaped. */
static int tls_wait(struct client_conn *cc, int ret, uint64_t timeout_ms, ik_err *e,
		    const char *what)
{
	int err = SSL_get_error(cc->ssl, ret);
	short ev;
	switch (err) {
	case SSL_ERROR_WANT_READ:
		ev = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev = POLLOUT;
		break;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0 || ret == 0)
				return 0;	/* EOF without close_notify */
			return ik_err_errno(e, errno, "%s with %s", what, cc->peer_text);
		}
		return tls_error(cc, e, what);
	default:
		return tls_error(cc, e, what);
	}
	int r = wait_fd(cc->fd, ev, timeout_ms);
	if (r == 0)
		return ik_err_set(e, "%s with %s: nothing for %llu ms", what, cc->peer_text,
				  (unsigned long long)timeout_ms);
	if (r < 0)
		return ik_err_errno(e, errno, "%s with %s", what, cc->peer_text);
	return 1;	/* try again */
}

int client_conn_tls(struct client_conn *cc, SSL_CTX *ctx, const char *verify_host,
		    SSL_SESSION *reuse, uint64_t timeout_ms, ik_err *e)
{
	ERR_clear_error();
	if (verify_host != NULL && *verify_host != '\0') {
		cc->ssl = tls_client_ssl(ctx, verify_host, reuse, e);
		if (cc->ssl == NULL)
			return -1;
	} else {
		cc->ssl = SSL_new(ctx);
		if (cc->ssl == NULL)
			return tls_error(cc, e, "TLS set-up");
		if (reuse != NULL)
			SSL_set_session(cc->ssl, reuse);
	}
	if (SSL_set_fd(cc->ssl, cc->fd) != 1)
		return tls_error(cc, e, "TLS set-up");
	/* A data connection ends at TCP EOF; the FTP reply that follows says
	 * whether the transfer was complete. */
	SSL_set_options(cc->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int r = SSL_connect(cc->ssl);
		if (r == 1)
			return 0;
		int w = tls_wait(cc, r, timeout_ms, e, "TLS handshake");
		if (w == 0)
			return ik_err_set(e, "TLS handshake with %s: the server closed the "
					  "connection (does it speak TLS on this port?)",
					  cc->peer_text);
		if (w < 0)
			return -1;
	}
}

ssize_t client_conn_read(struct client_conn *cc, void *buf, size_t n, uint64_t timeout_ms,
			 ik_err *e)
{
	if (n > INT32_MAX)
		n = INT32_MAX;
	for (;;) {
		if (cc->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			int r = SSL_read(cc->ssl, buf, (int)n);
			if (r > 0)
				return r;
			int w = tls_wait(cc, r, timeout_ms, e, "TLS read");
			if (w <= 0)
				return w;
			continue;
		}
		ssize_t r = read(cc->fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return ik_err_errno(e, errno, "read from %s", cc->peer_text);
		if (wait_peer(cc, POLLIN, timeout_ms, e) < 0)
			return -1;
	}
}

int client_conn_write(struct client_conn *cc, const void *buf, size_t n, uint64_t timeout_ms,
		      ik_err *e)
{
	const char *p = buf;
	while (n > 0) {
		size_t chunk = n > INT32_MAX ? INT32_MAX : n;
		if (cc->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			int r = SSL_write(cc->ssl, p, (int)chunk);
			if (r > 0) {
				p += r;
				n -= (size_t)r;
				continue;
			}
			int w = tls_wait(cc, r, timeout_ms, e, "TLS write");
			if (w == 0)
				return ik_err_set(e, "%s closed the connection", cc->peer_text);
			if (w < 0)
				return -1;
			continue;
		}
		ssize_t r = send(cc->fd, p, chunk, MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return ik_err_errno(e, errno, "write to %s", cc->peer_text);
		if (wait_peer(cc, POLLOUT, timeout_ms, e) < 0)
			return -1;
	}
	return 0;
}

ssize_t client_conn_sendfile(struct client_conn *cc, int filefd, off_t *off, size_t count,
			     uint64_t timeout_ms, ik_err *e)
{
	if (cc->ssl != NULL) {
		static _Thread_local char buf[256 * 1024];
		size_t want = count < sizeof buf ? count : sizeof buf;
		ssize_t r = pread(filefd, buf, want, *off);
		if (r < 0)
			return ik_err_errno(e, errno, "read local file");
		if (r == 0)
			return 0;
		if (client_conn_write(cc, buf, (size_t)r, timeout_ms, e) < 0)
			return -1;
		*off += r;
		return r;
	}
	for (;;) {
		ssize_t r = sendfile(cc->fd, filefd, off, count);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return ik_err_errno(e, errno, "send to %s", cc->peer_text);
		if (wait_peer(cc, POLLOUT, timeout_ms, e) < 0)
			return -1;
	}
}

ssize_t client_conn_splice(struct client_conn *cc, int outfd, size_t max, uint64_t timeout_ms,
			   ik_err *e)
{
	if (cc->ssl != NULL)
		return ik_err_set(e, "internal: splice on a TLS connection");
	if (cc->pipe[0] < 0) {
		if (pipe2(cc->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			return ik_err_errno(e, errno, "pipe");
		/* A larger pipe moves more per call; a refusal is harmless. */
		fcntl(cc->pipe[1], F_SETPIPE_SZ, 1024 * 1024);
	}
	ssize_t in;
	for (;;) {
		in = splice(cc->fd, NULL, cc->pipe[1], NULL, max,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (in >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return ik_err_errno(e, errno, "read from %s", cc->peer_text);
		if (wait_peer(cc, POLLIN, timeout_ms, e) < 0)
			return -1;
	}
	size_t left = (size_t)in;
	while (left > 0) {
		ssize_t out = splice(cc->pipe[0], NULL, outfd, NULL, left, SPLICE_F_MOVE);
		if (out < 0 && errno == EINTR)
			continue;
		if (out <= 0)
			return ik_err_errno(e, out < 0 ? errno : EIO, "write");
		left -= (size_t)out;
	}
	return in;
}

void client_conn_abort(struct client_conn *cc)
{
	if (cc->ssl != NULL) {
		SSL_free(cc->ssl);
		cc->ssl = NULL;
	}
	if (cc->fd >= 0)
		close(cc->fd);
	cc->fd = -1;
	for (int i = 0; i < 2; i++) {
		if (cc->pipe[i] >= 0)
			close(cc->pipe[i]);
		cc->pipe[i] = -1;
	}
}

void client_conn_close(struct client_conn *cc, uint64_t timeout_ms)
{
	if (cc->ssl != NULL && cc->fd >= 0) {
		/* A full close_notify exchange. Servers such as vsftpd take an
		 * upload as complete only after ours; and waiting for theirs
		 * also reads what they sent that we never asked for (TLS 1.3
		 * session tickets): closing a socket with unread input makes
		 * the kernel send a reset, which the server reports as a
		 * failed transfer. Bounded by timeout_ms. */
		for (int i = 0; i < 64; i++) {
			ERR_clear_error();
			int r = SSL_shutdown(cc->ssl);
			if (r == 1)
				break;
			short ev;
			if (r == 0) {
				ev = POLLIN;	/* ours is sent; now theirs */
			} else {
				int err = SSL_get_error(cc->ssl, r);
				if (err == SSL_ERROR_WANT_READ)
					ev = POLLIN;
				else if (err == SSL_ERROR_WANT_WRITE)
					ev = POLLOUT;
				else
					break;
			}
			if (wait_fd(cc->fd, ev, timeout_ms) <= 0)
				break;
		}
		ERR_clear_error();
	}
	client_conn_abort(cc);
}

const char *client_conn_tls_info(const struct client_conn *cc, char *buf, size_t bufsz)
{
	if (cc->ssl == NULL) {
		str_copy(buf, bufsz, "");
		return buf;
	}
	const char *cipher = SSL_get_cipher_name(cc->ssl);
	str_fmt(buf, bufsz, "%s %s%s", SSL_get_version(cc->ssl), cipher ? cipher : "?",
		SSL_session_reused(cc->ssl) ? " (session reused)" : "");
	return buf;
}

int client_listen_like(const struct client_conn *control, int *lfd,
		       struct sockaddr_storage *bound, socklen_t *boundlen, ik_err *e)
{
	struct sockaddr_storage ss;
	memcpy(&ss, &control->local, sizeof ss);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	else
		return ik_err_set(e, "active mode needs an IPv4 or IPv6 control connection");
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ik_err_errno(e, errno, "socket for active mode");
	if (bind(fd, (struct sockaddr *)&ss, control->locallen) < 0 || listen(fd, 1) < 0) {
		int err = errno;
		close(fd);
		return ik_err_errno(e, err, "listen for the data connection");
	}
	*boundlen = sizeof *bound;
	if (getsockname(fd, (struct sockaddr *)bound, boundlen) < 0) {
		int err = errno;
		close(fd);
		return ik_err_errno(e, err, "getsockname");
	}
	*lfd = fd;
	return 0;
}

int client_accept_from(int lfd, const struct sockaddr *expect_host, uint64_t timeout_ms,
		       struct client_conn *cc, ik_err *e)
{
	uint64_t start = time_mono_ms();
	for (;;) {
		uint64_t spent = time_mono_ms() - start;
		if (spent >= timeout_ms || wait_fd(lfd, POLLIN, timeout_ms - spent) == 0) {
			close(lfd);
			return ik_err_set(e, "the server did not open the data connection within "
					  "%llu ms (a firewall in the way? try passive mode)",
					  (unsigned long long)timeout_ms);
		}
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		int fd = accept4(lfd, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			int err = errno;
			close(lfd);
			return ik_err_errno(e, err, "accept the data connection");
		}
		if (!endpoint_same_host((struct sockaddr *)&from, expect_host)) {
			close(fd);	/* not the server: keep waiting for it */
			continue;
		}
		close(lfd);
		return client_conn_adopt(cc, fd, e);
	}
}
