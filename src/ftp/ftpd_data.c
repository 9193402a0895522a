/* Data connections: passive (PASV, EPSV; RFC 959 4.1.2, RFC 2428 3) on a
 * port from the configured range, accepted only from the control
 * connection's own peer address (RFC 2577 section 5 "port stealing"), and
 * active (PORT, EPRT; RFC 2428 2) only to the control peer's address and
 * a port of 1024 or more (RFC 2577 section 3, the bounce attack). Each
 * transfer takes the connection that the last PASV/PORT prepared. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "ftp/ftpd_addr.h"
#include "ftp/ftpd_int.h"
#include "net/endpoint.h"

#define PASV_BACKLOG 8

static struct ftpd_data *data_get(struct ftpd_sess *fs)
{
	if (fs->data != NULL)
		return fs->data;
	struct ftpd_data *d = calloc(1, sizeof *d);
	if (d == NULL)
		return NULL;
	d->pasv_fd = -1;
	d->conn_fd = -1;
	d->timer = event_new(loop_base(fs->srv->loop), -1, 0, NULL, NULL);
	if (d->timer == NULL) {
		free(d);
		return NULL;
	}
	fs->data = d;
	return d;
}

static void close_pasv(struct ftpd_data *d)
{
	if (d->pasv_ev != NULL) {
		event_free(d->pasv_ev);
		d->pasv_ev = NULL;
	}
	if (d->pasv_fd >= 0) {
		close(d->pasv_fd);
		d->pasv_fd = -1;
	}
}

void ftpd_data_reset(struct ftpd_sess *fs)
{
	struct ftpd_data *d = fs->data;
	if (d == NULL)
		return;
	close_pasv(d);
	if (d->conn_fd >= 0) {
		close(d->conn_fd);
		d->conn_fd = -1;
	}
	if (d->connect_ev != NULL) {
		int fd = event_get_fd(d->connect_ev);
		event_free(d->connect_ev);
		d->connect_ev = NULL;
		close(fd);
	}
	event_del(d->timer);
	d->have_port = false;
}

void ftpd_data_free(struct ftpd_sess *fs)
{
	ftpd_data_reset(fs);
	if (fs->data != NULL) {
		event_free(fs->data->timer);
		free(fs->data);
		fs->data = NULL;
	}
}

static void arm(struct ftpd_sess *fs, event_callback_fn cb)
{
	struct ftpd_data *d = fs->data;
	event_del(d->timer);
	event_assign(d->timer, loop_base(fs->srv->loop), -1, 0, cb, fs);
	struct timeval tv = loop_tv(fs->srv->conf->accept_ms);
	event_add(d->timer, &tv);
}

/* ---- passive ---- */

static void on_pasv_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ftpd_sess *fs = arg;
	struct ftpd_data *d = fs->data;
	bool waited = d->pasv_fd >= 0;
	ftpd_data_reset(fs);
	d->pasv_timed_out = waited;
	if (fs->xfer != NULL) {
		char text[160];
		str_fmt(text, sizeof text, "No data connection: nothing connected within %llu "
			"seconds.", (unsigned long long)(fs->srv->conf->accept_ms / 1000));
		ftpd_xfer_failed(fs->xfer, FTPD_R_NO_DATA_CONN, text);
	}
}

static void on_pasv_ready(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct ftpd_sess *fs = arg;
	struct ftpd_data *d = fs->data;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!endpoint_same_host((struct sockaddr *)&ss, session_peer_addr(fs->s, NULL))) {
			/* Port theft: someone else raced the client to its port. */
			char who[ENDPOINT_TEXT_MAX];
			log_event(LOG_WARNING, "ftp_data_refused", "session=%llu peer=%s from=%s "
				  "reason=\"not the control connection's address\"",
				  (unsigned long long)session_id(fs->s), session_peer(fs->s),
				  endpoint_format((struct sockaddr *)&ss, who, sizeof who));
			close(fd);
			continue;
		}
		close_pasv(d);
		if (fs->xfer != NULL) {
			event_del(d->timer);
			ftpd_xfer_connected(fs->xfer, fd);
			return;
		}
		if (d->conn_fd >= 0)
			close(d->conn_fd);
		d->conn_fd = fd;	/* the transfer command is still to come */
		return;
	}
}

/* Bind a listening socket on the control connection's local address. */
static int pasv_listen(struct ftpd_sess *fs, const struct sockaddr_storage *local,
		       socklen_t len, uint16_t *port)
{
	const struct ftpd_conf *c = fs->srv->conf;
	int fd = socket(local->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Closed data connections linger in TIME_WAIT on these ports; a
	 * small range would run dry without this. */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_storage a = *local;
	unsigned span = c->pasv_max >= c->pasv_min && c->pasv_min > 0
			? (unsigned)(c->pasv_max - c->pasv_min) + 1 : 1;
	uint32_t start = 0;
	if (span > 1 && getrandom(&start, sizeof start, 0) != (ssize_t)sizeof start)
		start = (uint32_t)session_id(fs->s);
	int err = EADDRINUSE;
	for (unsigned i = 0; i < span; i++) {
		uint16_t p = c->pasv_min > 0 ? (uint16_t)(c->pasv_min + (start + i) % span) : 0;
		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&a)->sin6_port = htons(p);
		if (bind(fd, (struct sockaddr *)&a, len) == 0) {
			err = 0;
			break;
		}
		err = errno;
		if (err != EADDRINUSE)
			break;
	}
	struct sockaddr_storage got;
	socklen_t glen = sizeof got;
	if (err != 0 || listen(fd, PASV_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &glen) < 0) {
		err = err != 0 ? err : errno;
		close(fd);
		errno = err;
		return -1;
	}
	*port = endpoint_port((struct sockaddr *)&got);
	return fd;
}

/* Open a passive port; 0, or -1 after a reply. */
static int open_pasv(struct ftpd_sess *fs, const struct sockaddr_storage *local, socklen_t len)
{
	struct ftpd_data *d = data_get(fs);
	if (d == NULL) {
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Out of memory.");
		return -1;
	}
	ftpd_data_reset(fs);
	d->pasv_timed_out = false;
	d->pasv_fd = pasv_listen(fs, local, len, &d->pasv_port);
	if (d->pasv_fd < 0) {
		log_event(LOG_WARNING, "ftp_pasv_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(fs->s), strerror(errno));
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, errno == EADDRINUSE ? "No free passive port "
			  "right now; try again." : "Cannot open a passive port.");
		return -1;
	}
	d->pasv_ev = event_new(loop_base(fs->srv->loop), d->pasv_fd, EV_READ | EV_PERSIST,
			       on_pasv_ready, fs);
	if (d->pasv_ev == NULL || event_add(d->pasv_ev, NULL) < 0) {
		close_pasv(d);
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Out of memory.");
		return -1;
	}
	arm(fs, on_pasv_timeout);
	return 0;
}

static int local_addr(struct ftpd_sess *fs, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof *ss;
	if (getsockname(session_fd(fs->s), (struct sockaddr *)ss, len) < 0) {
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Cannot find the control connection's address.");
		return -1;
	}
	return 0;
}

void ftpd_cmd_pasv(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	const struct ftpd_conf *conf = fs->srv->conf;
	if (!conf->pasv_enable) {
		ftpd_send(fs, FTPD_R_NOT_IMPLEMENTED, "Passive mode is off here; use PORT or EPRT.");
		return;
	}
	struct sockaddr_storage local;
	socklen_t len;
	if (local_addr(fs, &local, &len) < 0)
		return;
	char text[96];
	struct sockaddr_in shown = {.sin_family = AF_INET, .sin_addr = conf->pasv_addr};
	/* The NAT address stands for IPv4 clients only: an IPv6 control
	 * connection gets its own port on its own family (so: 522 below). */
	const struct sockaddr *addr = conf->has_pasv_addr && local.ss_family == AF_INET
				      ? (struct sockaddr *)&shown : (struct sockaddr *)&local;
	/* PASV can only say IPv4: check before opening anything. */
	if (ftpd_addr_pasv_text(addr, 1, text, sizeof text) < 0) {
		ftpd_send(fs, FTPD_R_BAD_PROTOCOL, "PASV cannot describe an IPv6 address; use EPSV.");
		return;
	}
	if (open_pasv(fs, &local, len) < 0)
		return;
	ftpd_addr_pasv_text(addr, fs->data->pasv_port, text, sizeof text);
	ftpd_send(fs, FTPD_R_PASV, "%s", text);
}

void ftpd_cmd_epsv(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (!fs->srv->conf->pasv_enable) {
		ftpd_send(fs, FTPD_R_NOT_IMPLEMENTED, "Passive mode is off here; use PORT or EPRT.");
		return;
	}
	struct sockaddr_storage local;
	socklen_t len;
	if (local_addr(fs, &local, &len) < 0)
		return;
	enum ftpd_epsv_kind kind;
	ik_err e;
	enum ftpd_addr_status st = ftpd_addr_parse_epsv(c->argc > 0 ? c->argv[0] : "",
							(struct sockaddr *)&local, &kind, &e);
	if (st == FTPD_ADDR_SYNTAX) {
		ftpd_send(fs, FTPD_R_BAD_ARGS, "%s", e.msg);
		return;
	}
	if (st == FTPD_ADDR_PROTOCOL) {
		ftpd_send(fs, FTPD_R_BAD_PROTOCOL, "%s", FTPD_ADDR_522_TEXT);
		return;
	}
	if (kind == FTPD_EPSV_ALL) {
		fs->epsv_all = true;
		ftpd_send(fs, FTPD_R_OK, "EPSV ALL ok: only EPSV from now on.");
		return;
	}
	if (open_pasv(fs, &local, len) < 0)
		return;
	char text[96];
	ftpd_addr_epsv_text(fs->data->pasv_port, text, sizeof text);
	ftpd_send(fs, FTPD_R_EPSV, "%s", text);
}

/* ---- active ---- */

static void set_port(struct ftpd_sess *fs, enum ftpd_addr_status st,
		     const struct sockaddr_storage *ss, socklen_t len, const ik_err *e)
{
	if (st == FTPD_ADDR_SYNTAX) {
		ftpd_send(fs, FTPD_R_BAD_ARGS, "%s", e->msg);
		return;
	}
	if (st == FTPD_ADDR_PROTOCOL) {
		ftpd_send(fs, FTPD_R_BAD_PROTOCOL, "%s", FTPD_ADDR_522_TEXT);
		return;
	}
	ik_err why;
	if (ftpd_addr_check_active((const struct sockaddr *)ss, session_peer_addr(fs->s, NULL),
				   &why) < 0) {
		char to[ENDPOINT_TEXT_MAX], q[IK_ERR_MAX + 8];
		log_event(LOG_WARNING, "ftp_bounce_refused", "session=%llu peer=%s to=%s reason=%s",
			  (unsigned long long)session_id(fs->s), session_peer(fs->s),
			  endpoint_format((const struct sockaddr *)ss, to, sizeof to),
			  log_quote(q, sizeof q, why.msg));
		ftpd_send(fs, FTPD_R_BAD_PARAMETER, "%s", why.msg);
		return;
	}
	struct ftpd_data *d = data_get(fs);
	if (d == NULL) {
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Out of memory.");
		return;
	}
	ftpd_data_reset(fs);
	d->port_addr = *ss;
	d->port_len = len;
	d->have_port = true;
	ftpd_send(fs, FTPD_R_OK, "PORT command successful. Consider using PASV.");
}

static bool port_allowed(struct ftpd_sess *fs)
{
	if (fs->srv->conf->port_enable)
		return true;
	ftpd_send(fs, FTPD_R_NOT_IMPLEMENTED, "Active mode is off here; use PASV or EPSV.");
	return false;
}

void ftpd_cmd_port(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (!port_allowed(fs))
		return;
	struct sockaddr_storage ss;
	socklen_t len;
	ik_err e;
	enum ftpd_addr_status st = ftpd_addr_parse_port(c->argv[0], &ss, &len, &e);
	set_port(fs, st, &ss, len, &e);
}

void ftpd_cmd_eprt(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (!port_allowed(fs))
		return;
	struct sockaddr_storage ss;
	socklen_t len;
	ik_err e;
	enum ftpd_addr_status st = ftpd_addr_parse_eprt(c->arg, &ss, &len, &e);
	set_port(fs, st, &ss, len, &e);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ftpd_sess *fs = arg;
	ftpd_data_reset(fs);
	if (fs->xfer != NULL)
		ftpd_xfer_failed(fs->xfer, FTPD_R_NO_DATA_CONN, "Cannot open data connection: no "
				 "answer from your port.");
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct ftpd_sess *fs = arg;
	struct ftpd_data *d = fs->data;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	event_free(d->connect_ev);
	d->connect_ev = NULL;
	event_del(d->timer);
	if (err != 0) {
		close(fd);
		char text[160];
		str_fmt(text, sizeof text, "Cannot open data connection: %s.", strerror(err));
		if (fs->xfer != NULL)
			ftpd_xfer_failed(fs->xfer, FTPD_R_NO_DATA_CONN, text);
		return;
	}
	if (fs->xfer != NULL)
		ftpd_xfer_connected(fs->xfer, fd);
	else
		close(fd);
}

static int start_connect(struct ftpd_sess *fs)
{
	struct ftpd_data *d = fs->data;
	struct sockaddr_storage local;
	socklen_t llen = sizeof local;
	int fd = socket(d->port_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* From the address the client talks to, so it sees the same host. */
	if (getsockname(session_fd(fs->s), (struct sockaddr *)&local, &llen) == 0 &&
	    local.ss_family == d->port_addr.ss_family) {
		if (local.ss_family == AF_INET)
			((struct sockaddr_in *)&local)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&local)->sin6_port = 0;
		bind(fd, (struct sockaddr *)&local, llen);
	}
	if (connect(fd, (struct sockaddr *)&d->port_addr, d->port_len) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	d->connect_ev = event_new(loop_base(fs->srv->loop), fd, EV_WRITE, on_connected, fs);
	if (d->connect_ev == NULL || event_add(d->connect_ev, NULL) < 0) {
		if (d->connect_ev != NULL)
			event_free(d->connect_ev);
		d->connect_ev = NULL;
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	arm(fs, on_connect_timeout);
	return 0;
}

/* ---- for transfers ---- */

bool ftpd_data_ready_check(struct ftpd_sess *fs)
{
	struct ftpd_data *d = fs->data;
	if (d != NULL && (d->pasv_fd >= 0 || d->conn_fd >= 0 || d->have_port))
		return true;
	if (d != NULL && d->pasv_timed_out)
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "The passive port timed out; send PASV or EPSV "
			  "again.");
	else
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Use PORT, EPRT, PASV or EPSV first.");
	return false;
}

void ftpd_data_open(struct ftpd_sess *fs, struct ftpd_xfer *x)
{
	struct ftpd_data *d = fs->data;
	if (d->conn_fd >= 0) {
		int fd = d->conn_fd;
		d->conn_fd = -1;
		event_del(d->timer);
		ftpd_xfer_connected(x, fd);
		return;
	}
	if (d->pasv_fd >= 0) {
		arm(fs, on_pasv_timeout);	/* the accept deadline starts now */
		return;
	}
	d->have_port = false;	/* each transfer needs its own PORT */
	if (start_connect(fs) < 0) {
		char text[160];
		str_fmt(text, sizeof text, "Cannot open data connection: %s.", strerror(errno));
		ftpd_xfer_failed(x, FTPD_R_NO_DATA_CONN, text);
	}
}
