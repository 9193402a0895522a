/* Data connections, FTP's side: passive (PASV, EPSV; RFC 959 4.1.2,
 * RFC 2428 3) on a port from the configured range, and active (PORT,
 * EPRT; RFC 2428 2) only to the control peer's address and a port of 1024
 * or more (RFC 2577 section 3, the bounce attack). The sockets are the
 * core's (core/datachan: it listens, accepts only from the control
 * connection's own peer address as RFC 2577 section 5 asks, connects);
 * this file holds the policy and the replies. Each transfer takes the
 * connection that the last PASV/PORT prepared. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "lib/str.h"
#include "ftpd/ftpd_addr.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_xfer.h"
#include "net/endpoint.h"

static void on_chan(struct datachan *dc, enum datachan_event ev, int err, void *arg);

struct ftpd_data *ftpd_data_get(struct ftpd_sess *fs)
{
	if (fs->data != NULL)
		return fs->data;
	struct ftpd_data *d = calloc(1, sizeof *d);
	if (d == NULL)
		return NULL;
	ik_err e;
	d->dc = datachan_new(fs->s, "ftp", on_chan, fs, &e);
	if (d->dc == NULL) {
		free(d);
		return NULL;
	}
	fs->data = d;
	return d;
}

void ftpd_data_reset(struct ftpd_sess *fs)
{
	struct ftpd_data *d = fs->data;
	if (d == NULL)
		return;
	datachan_reset(d->dc);
	d->have_port = false;
}

void ftpd_data_free(struct ftpd_sess *fs)
{
	if (fs->data != NULL) {
		datachan_free(fs->data->dc);
		free(fs->data);
		fs->data = NULL;
	}
}

/* What the channel tells: a connection to take, or none came. */
static void on_chan(struct datachan *dc, enum datachan_event ev, int err, void *arg)
{
	(void)dc;
	struct ftpd_sess *fs = arg;
	struct ftpd_data *d = fs->data;
	if (ev == DATACHAN_READY) {
		/* Without a transfer yet, the channel keeps it for the next one. */
		if (fs->xfer != NULL)
			ftpd_xfer_connected(fs->xfer);
		return;
	}
	char text[160];
	if (d->passive) {
		d->pasv_timed_out = true;
		str_fmt(text, sizeof text, "No data connection: nothing connected within %llu "
			"seconds.", (unsigned long long)(fs->srv->conf->accept_ms / 1000));
	} else if (err == ETIMEDOUT) {
		str_copy(text, sizeof text, "Cannot open data connection: no answer from your port.");
	} else {
		str_fmt(text, sizeof text, "Cannot open data connection: %s.", strerror(err));
	}
	if (fs->xfer != NULL)
		ftpd_xfer_failed(fs->xfer, FTPD_R_NO_DATA_CONN, text);
}

/* ---- passive ---- */

/* Open a passive port; 0, or -1 after a reply. */
static int open_pasv(struct ftpd_sess *fs, uint16_t *port)
{
	const struct ftpd_conf *c = fs->srv->conf;
	struct ftpd_data *d = ftpd_data_get(fs);
	if (d == NULL) {
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Out of memory.");
		return -1;
	}
	ftpd_data_reset(fs);
	d->passive = true;
	d->pasv_timed_out = false;
	ik_err e;
	if (datachan_listen(d->dc, c->pasv_min, c->pasv_max, c->accept_ms, port, &e) < 0) {
		int err = errno;
		log_event(LOG_WARNING, "ftp_pasv_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(fs->s), strerror(err));
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, err == EADDRINUSE ? "No free passive port "
			  "right now; try again." : "Cannot open a passive port.");
		return -1;
	}
	return 0;
}

static int local_addr(struct ftpd_sess *fs, struct sockaddr_storage *ss)
{
	socklen_t len;
	if (session_local_addr(fs->s, ss, &len) < 0) {
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
	if (local_addr(fs, &local) < 0)
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
	uint16_t port;
	if (open_pasv(fs, &port) < 0)
		return;
	ftpd_addr_pasv_text(addr, port, text, sizeof text);
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
	if (local_addr(fs, &local) < 0)
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
	uint16_t port;
	if (open_pasv(fs, &port) < 0)
		return;
	char text[96];
	ftpd_addr_epsv_text(port, text, sizeof text);
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
	struct ftpd_data *d = ftpd_data_get(fs);
	if (d == NULL) {
		ftpd_send(fs, FTPD_R_NO_DATA_CONN, "Out of memory.");
		return;
	}
	ftpd_data_reset(fs);
	d->passive = false;
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

/* ---- for transfers ---- */

bool ftpd_data_ready_check(struct ftpd_sess *fs)
{
	struct ftpd_data *d = fs->data;
	if (d != NULL && (datachan_listening(d->dc) || datachan_ready(d->dc) || d->have_port))
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
	if (datachan_ready(d->dc)) {
		ftpd_xfer_connected(x);
		return;
	}
	if (datachan_listening(d->dc)) {
		datachan_restart(d->dc);	/* the accept deadline starts now */
		return;
	}
	d->have_port = false;	/* each transfer needs its own PORT */
	ik_err e;
	if (datachan_connect(d->dc, (struct sockaddr *)&d->port_addr, d->port_len,
			     fs->srv->conf->accept_ms, &e) < 0) {
		char text[160];
		str_fmt(text, sizeof text, "Cannot open data connection: %s.", e.msg);
		ftpd_xfer_failed(x, FTPD_R_NO_DATA_CONN, text);
	}
}
