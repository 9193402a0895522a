/* The FTP server on core/server: what FTP adds to the core's listeners,
 * limits, stop and reload generations. RFC 959 section 5.4 (421 "service
 * not available, closing control connection" is the reply for a refused
 * connection) and RFC 2577 section 5 (limit connections per address
 * against denial of service). A generation (struct ftpd_server) is the
 * conf a session started with, the offload pool of its quota scans and
 * its transfer rate buckets; older generations keep their sessions, and
 * those their settings, until the last one ends. */
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "core/log.h"
#include "core/offload.h"
#include "core/server.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "lib/str.h"
#include "ftpd/ftpd_sess.h"

/* ---- what FTP tells the core ---- */

static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer, socklen_t len,
			 size_t i)
{
	(void)arg;
	struct ftpd_server *srv = gen;
	ftpd_sess_accept(srv, fd, peer, len, i >= srv->conf->implicit_from);
}

static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	const struct ftpd_conf *c = ((struct ftpd_server *)gen)->conf;
	unsigned long long total = c->max_sessions, per_ip = c->max_per_ip;
	switch (what) {
	case SERVER_REFUSE_STOPPING:
		str_copy(why, whysz, "server stopping");
		str_copy(reply, replysz, "421 Server shutting down; try again later.\r\n");
		break;
	case SERVER_REFUSE_TOTAL:
		str_fmt(why, whysz, "max_sessions %llu reached", total);
		str_fmt(reply, replysz, "421 Too many users: the server is full (%llu sessions); "
			"try again later.\r\n", total);
		break;
	case SERVER_REFUSE_PER_IP:
	case SERVER_REFUSE_TABLE_FULL:
		if (what == SERVER_REFUSE_PER_IP)
			str_fmt(why, whysz, "max_per_ip %llu reached", per_ip);
		else
			str_copy(why, whysz, "address table full");
		str_fmt(reply, replysz, "421 Too many connections from your address (limit %llu); "
			"close some and try again.\r\n", per_ip);
		break;
	}
	/* Implicit FTPS would need a handshake before any reply: just close. */
	if (i >= c->implicit_from)
		reply[0] = '\0';
}

static void proto_stop_conn(void *conn)
{
	struct ftpd_sess *fs = conn;
	if (fs->xfer != NULL)
		fs->quit_pending = true;	/* 421 once the transfer is done */
	else
		ftpd_sess_shutdown(fs, "421 Server shutting down; goodbye.");
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct ftpd_sess *fs = conn;
	session_close(fs->s, reason);
}

static void gen_free(void *gen)
{
	struct ftpd_server *srv = gen;
	if (srv == NULL)
		return;
	offload_free(srv->pool);
	if (srv->rate_down != NULL)
		ev_token_bucket_cfg_free(srv->rate_down);
	if (srv->rate_up != NULL)
		ev_token_bucket_cfg_free(srv->rate_up);
	free(srv);
}

static const struct server_proto ftp_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
	.gen_free = gen_free,
};

void ftpd_server_add(struct ftpd_server *srv, struct ftpd_sess *fs)
{
	server_conn_add(srv->core, &fs->conn, fs);
}

void ftpd_server_remove(struct ftpd_server *srv, struct ftpd_sess *fs)
{
	(void)srv;
	server_conn_remove(&fs->conn);
}

/* ---- generations ---- */

/* Token buckets of 100 ms ticks, so that a limited transfer flows evenly
 * instead of in one-second bursts. */
static struct ev_token_bucket_cfg *bucket(uint64_t rate, bool write)
{
	if (rate == 0)
		return NULL;
	size_t per_tick = (size_t)(rate / 10);
	size_t burst = per_tick * 2;
	struct timeval tick = {0, 100000};
	if (write)
		return ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, per_tick, burst,
					       &tick);
	return ev_token_bucket_cfg_new(per_tick, burst, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
				       &tick);
}

static void *gen_new(void *conf, const struct server_genargs *a, ik_err *e)
{
	struct ftpd_conf *c = conf;
	if (c->tls && c->ssl == NULL && ftpd_conf_prepare(c, e) < 0)
		return NULL;
	struct ftpd_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	SERVER_GEN_SET(srv, c, a);
	srv->pool = offload_new(a->loop, 1, 1024, e);
	if (srv->pool == NULL)
		goto fail;
	srv->rate_down = bucket(c->download_rate, true);
	srv->rate_up = bucket(c->upload_rate, false);
	if ((c->download_rate && srv->rate_down == NULL) || (c->upload_rate && srv->rate_up == NULL)) {
		ik_err_set(e, "out of memory");
		goto fail;
	}
	return srv;
fail:
	gen_free(srv);
	return NULL;
}

static void gen_core(void *gen, struct server *core) { ((struct ftpd_server *)gen)->core = core; }

static struct server_limits limits(const void *conf)
{
	const struct ftpd_conf *c = conf;
	return (struct server_limits){c->max_sessions, c->max_per_ip};
}

static int keep(void *conf, const void *running, const struct server_genargs *a,
		const char *restart, ik_err *e)
{
	struct ftpd_conf *c = conf;
	const struct ftpd_conf *now = running;
	/* The sockets stay the ones bound at start, whatever c lists. */
	c->implicit_from = now->implicit_from;
	if (c->implicit_from < a->set->n && !c->tls)
		return ik_err_set(e, "[%s] tls = no, but implicit FTPS sockets are open; restart %s "
				  "to close them, or keep tls = yes", c->section, restart);
	if (c->tls && now->tls)
		server_conf_tls_keep(&c->ssl, c->cert, now->ssl, now->cert);
	return ftpd_conf_prepare(c, e);
}

static void listen_check(const void *bound, const void *conf, const char *restart)
{
	const struct ftpd_conf *old = bound, *c = conf;
	if (!str_list_equal(old->listen, old->nlisten, c->listen, c->nlisten) ||
	    !str_list_equal(old->implicit, old->nimplicit, c->implicit, c->nimplicit))
		listen_log_changed(c->section, restart);
}

static const struct server_kind ftp_kind = {
	.proto = &ftp_proto,
	.refused_event = "ftp_refused",
	.restart = "inetkit ftpd",
	.gen_new = gen_new,
	.gen_core = gen_core,
	.limits = limits,
	.keep = keep,
	.listen_check = listen_check,
};

void *ftpd_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e)
{
	return server_kind_start(&ftp_kind, conf, l, set, ctx, e);
}
