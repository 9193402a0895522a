/* The FTP data channel: passive (RFC 2428 EPSV, falling back to RFC 959
 * PASV) or active (EPRT, falling back to PORT), REST (RFC 3659 5), and TLS
 * on the data connection (RFC 4217 9) resuming the control connection's
 * TLS session, which vsftpd and others require.
 *
 * Security: the data connection only ever goes to the control
 * connection's peer. A PASV reply naming another address is ignored (the
 * port is used, the address is not), so a hostile server cannot aim us at
 * a third party; in active mode only the server's host may connect. */
#include "ftp/ftp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"

static int connect_passive(struct ftp *f, struct ftp_data *d, ik_err *e)
{
	struct client_conn *ctl = client_connection(f->c);
	uint16_t port = 0;
	int code;
	if (!f->no_epsv) {
		code = ftp_cmd(f, "EPSV", NULL, e);
		if (code < 0)
			return -1;
		if (code == 229 && ftp_parse_epsv(client_reply_text(&f->r), &port) == 0)
			goto connect;
		if (ftp_reply_class(code) == 2)
			return ik_err_set(e, "cannot read the port in the EPSV reply '%s'",
					  client_reply_last(&f->r));
		f->no_epsv = true;	/* 500/502: an old server; PASV from now on */
	}
	code = ftp_cmd(f, "PASV", NULL, e);
	if (code < 0)
		return -1;
	if (code != 227)
		return ftp_reply_error(f, e);
	uint8_t addr[4];
	if (ftp_parse_pasv(client_reply_text(&f->r), addr, &port) < 0)
		return ik_err_set(e, "cannot read the address in the PASV reply '%s'",
				  client_reply_last(&f->r));
	if (ctl->peer.ss_family == AF_INET &&
	    memcmp(addr, &((struct sockaddr_in *)&ctl->peer)->sin_addr, 4) != 0) {
		char named[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, addr, named, sizeof named);
		client_trace_note(f->c, "ignoring the address %s in the PASV reply; the data "
				  "connection goes to the control host", named);
	}
connect:;
	struct sockaddr_storage ss;
	memcpy(&ss, &ctl->peer, sizeof ss);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	return client_conn_connect_addr(&d->conn, (struct sockaddr *)&ss, ctl->peerlen,
					f->o.connect_timeout_ms, e);
}

static int listen_active(struct ftp *f, struct ftp_data *d, ik_err *e)
{
	struct client_conn *ctl = client_connection(f->c);
	struct sockaddr_storage bound;
	socklen_t blen;
	if (client_listen_like(ctl, &d->lfd, &bound, &blen, e) < 0)
		return -1;
	char arg[128];
	if (!f->no_eprt) {
		if (ftp_format_eprt((struct sockaddr *)&bound, arg, sizeof arg) < 0)
			return ik_err_set(e, "cannot express the local address for EPRT");
		int code = ftp_cmd(f, "EPRT", arg, e);
		if (code < 0)
			return -1;
		if (ftp_reply_class(code) == 2)
			return 0;
		if (bound.ss_family != AF_INET || (code != 500 && code != 502))
			return ftp_reply_error(f, e);
		f->no_eprt = true;
	}
	if (ftp_format_port((struct sockaddr *)&bound, arg, sizeof arg) < 0)
		return ik_err_set(e, "PORT cannot express an IPv6 address");
	return ftp_expect(f, "PORT", arg, 2, e);
}

static void data_reset(struct ftp_data *d)
{
	client_conn_init(&d->conn);
	d->lfd = -1;
}

static void data_drop(struct ftp_data *d)
{
	client_conn_abort(&d->conn);
	if (d->lfd >= 0)
		close(d->lfd);
	d->lfd = -1;
}

int ftp_data_open(struct ftp *f, struct ftp_data *d, const char *verb, const char *arg,
		  uint64_t rest, ik_err *e)
{
	data_reset(d);
	if (!ftp_connected(f))
		return ik_err_set(e, "not connected (use 'open HOST')");
	int r = f->passive ? connect_passive(f, d, e) : listen_active(f, d, e);
	if (r < 0)
		goto fail;
	if (rest > 0) {
		char n[24];
		str_fmt(n, sizeof n, "%llu", (unsigned long long)rest);
		int code = ftp_cmd(f, "REST", n, e);
		if (code < 0)
			goto fail;
		if (code != 350) {
			ftp_reply_error(f, e);
			ik_err_prefix(e, "the server cannot resume (REST)");
			goto fail;
		}
	}
	int code = ftp_cmd(f, verb, arg, e);
	if (code < 0)
		goto fail;
	if (ftp_reply_class(code) != 1) {
		ftp_reply_error(f, e);
		goto fail;
	}
	client_set_state(f->c, FTP_ST_DATA);
	if (!f->passive) {
		struct client_conn *ctl = client_connection(f->c);
		int lfd = d->lfd;
		d->lfd = -1;	/* client_accept_from closes it */
		if (client_accept_from(lfd, (struct sockaddr *)&ctl->peer, f->o.data_timeout_ms,
				       &d->conn, e) < 0)
			goto fail_reply;
	}
	if (f->prot_p) {
		struct client_conn *ctl = client_connection(f->c);
		SSL_SESSION *sess = ctl->ssl != NULL ? SSL_get1_session(ctl->ssl) : NULL;
		int t = client_conn_tls(&d->conn, f->tls_ctx,
					f->o.insecure ? NULL : client_host(f->c), sess,
					f->o.connect_timeout_ms, e);
		if (sess != NULL)
			SSL_SESSION_free(sess);
		if (t < 0) {
			ik_err_prefix(e, "data connection");
			goto fail_reply;
		}
		if (f->o.trace) {
			char info[128];
			client_trace_note(f->c, "data TLS: %s",
					  client_conn_tls_info(&d->conn, info, sizeof info));
		}
	}
	return 0;
fail_reply:
	/* The server answered 150 and will send a final reply. */
	data_drop(d);
	{
		ik_err ignore;
		client_read_reply(f->c, &f->r, &ignore);
		client_set_state(f->c, FTP_ST_READY);
	}
	return -1;
fail:
	data_drop(d);
	return -1;
}

int ftp_data_finish(struct ftp *f, struct ftp_data *d, ik_err *e)
{
	client_conn_close(&d->conn, f->o.data_timeout_ms);
	if (d->lfd >= 0)
		close(d->lfd);
	d->lfd = -1;
	int r = client_read_reply(f->c, &f->r, e);
	if (r < 0) {
		client_conn_abort(client_connection(f->c));
		client_set_state(f->c, FTP_ST_CLOSED);
		return -1;
	}
	client_set_state(f->c, FTP_ST_READY);
	if (ftp_reply_class(f->r.code) != 2)
		return ftp_reply_error(f, e);
	return 0;
}

void ftp_data_abort(struct ftp *f, struct ftp_data *d)
{
	data_drop(d);
	/* Closing our end makes the server give up with 426 (or 226 if it had
	 * sent everything); read it so the next command gets its own reply. */
	ik_err ignore;
	if (client_read_reply(f->c, &f->r, &ignore) < 0) {
		client_conn_abort(client_connection(f->c));
		client_set_state(f->c, FTP_ST_CLOSED);
		return;
	}
	client_set_state(f->c, FTP_ST_READY);
}
