/* The SMTP server on core/server: what SMTP adds to the core's listeners,
 * limits, stop and reload generations. RFC 5321 3.8 (421 "Service not
 * available, closing transmission channel", for a client over a limit and
 * when the server stops) and 4.5.3.1 (limits). A generation is the conf a
 * session started with, its offload pool (fsync and delivery), and the
 * mailstore and queue it delivers into. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/offload.h"
#include "core/server.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "core/dns.h"
#include "core/metrics.h"
#include "lib/str.h"
#include "smtp/smtp_int.h"
#include "smtp/smtp_relay.h"

/* Delivery threads per worker: fsync dominates, and a few threads let the
 * file system batch concurrent sessions' syncs (a group commit). */
#define SMTP_POOL_THREADS 4
#define SMTP_POOL_QUEUE 4096

static enum smtp_role role_of(const struct smtp_conf *c, size_t i)
{
	if (i >= c->submissions_from)
		return SMTP_ROLE_SUBMISSIONS;
	if (i >= c->submission_from)
		return SMTP_ROLE_SUBMISSION;
	return SMTP_ROLE_MTA;
}

static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer, socklen_t len,
			 size_t i)
{
	(void)arg;
	struct smtp_server *srv = gen;
	smtp_sess_accept(srv, fd, peer, len, role_of(srv->conf, i));
}

static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	const struct smtp_conf *c = ((struct smtp_server *)gen)->conf;
	switch (what) {
	case SERVER_REFUSE_STOPPING:
		str_copy(why, whysz, "server stopping");
		str_fmt(reply, replysz, "421 4.3.2 %s Service shutting down; try again later\r\n",
			c->hostname);
		break;
	case SERVER_REFUSE_TOTAL:
		str_fmt(why, whysz, "max_sessions %llu reached", (unsigned long long)c->max_sessions);
		str_fmt(reply, replysz, "421 4.7.0 %s Too many connections, try again later\r\n",
			c->hostname);
		break;
	case SERVER_REFUSE_PER_IP:
	case SERVER_REFUSE_TABLE_FULL:
		if (what == SERVER_REFUSE_PER_IP)
			str_fmt(why, whysz, "max_sessions_per_ip %llu reached",
				(unsigned long long)c->max_per_ip);
		else
			str_copy(why, whysz, "address table full");
		str_fmt(reply, replysz, "421 4.7.0 %s Too many connections from your address, try "
			"again later\r\n", c->hostname);
		break;
	}
	/* Implicit TLS would need a handshake before any reply: just close. */
	if (role_of(c, i) == SMTP_ROLE_SUBMISSIONS)
		reply[0] = '\0';
}

static void proto_stop_conn(void *conn)
{
	struct smtp_sess *ss = conn;
	if (ss->job != NULL) {
		ss->quit_pending = true;	/* 421 once the message is stored */
		return;
	}
	char text[SMTP_HOSTNAME_MAX + 64];
	str_fmt(text, sizeof text, "421 4.3.2 %s Service shutting down; closing",
		ss->srv->conf->hostname);
	smtp_sess_shutdown(ss, text);
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct smtp_sess *ss = conn;
	session_close(ss->s, reason);
}

static void gen_free(void *gen)
{
	struct smtp_server *srv = gen;
	if (srv == NULL)
		return;
	/* Waits for deliveries under way: their sessions are gone, but what
	 * was spooled is finished (or removed). */
	offload_free(srv->pool);
	/* After the pool: a delivery's last disk work has run or been
	 * cancelled (the entry then stays as it was, tried again later). */
	smtp_relay_stop(srv->relay);
	/* After the pool and the sessions: no check is waiting for an answer. */
	dns_free(srv->dns);
	smtp_queue_free(srv->queue);
	mailstore_free(srv->store);
	free(srv);
}

static const struct server_proto smtp_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
	.gen_free = gen_free,
};

void smtp_server_add(struct smtp_server *srv, struct smtp_sess *ss)
{
	server_conn_add(srv->core, &ss->conn, ss);
}

void smtp_server_remove(struct smtp_sess *ss)
{
	server_conn_remove(&ss->conn);
}

static void *gen_new(void *conf, const struct server_genargs *a, ik_err *e)
{
	struct smtp_conf *c = conf;
	if (smtp_conf_prepare(c, e) < 0)
		return NULL;
	struct smtp_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	SERVER_GEN_SET(srv, c, a);
	if (mailstore_open(c->state_dir, &srv->store, e) < 0 ||
	    smtp_queue_open(c->state_dir, &srv->queue, e) < 0) {
		ik_err_prefix(e, "[%s] %s", c->section, c->state_dir);
		goto fail;
	}
	srv->pool = offload_new(a->loop, SMTP_POOL_THREADS, SMTP_POOL_QUEUE, e);
	if (srv->pool == NULL)
		goto fail;
	if (c->relay_enabled && (srv->relay = smtp_relay_start(srv, e)) == NULL)
		goto fail;
	if (c->mail_auth && c->nlisten > 0) {
		struct dns_opts o;
		dns_opts_default(&o);
		o.servers = c->dns_servers[0] != '\0' ? c->dns_servers : NULL;
		if ((srv->dns = dns_new(a->loop, &o, e)) == NULL) {
			ik_err_prefix(e, "[%s] dns_servers", c->section);
			goto fail;
		}
	}
	return srv;
fail:
	gen_free(srv);
	return NULL;
}

static void gen_core(void *gen, struct server *core) { ((struct smtp_server *)gen)->core = core; }

static struct server_limits limits(const void *conf)
{
	const struct smtp_conf *c = conf;
	return (struct server_limits){c->max_sessions, c->max_per_ip};
}

static int keep(void *conf, const void *running, const struct server_genargs *a,
		const char *restart, ik_err *e)
{
	(void)a, (void)restart, (void)e;
	struct smtp_conf *c = conf;
	const struct smtp_conf *now = running;
	/* The sockets stay the ones bound at start, whatever c lists. */
	c->submission_from = now->submission_from;
	c->submissions_from = now->submissions_from;
	server_conf_tls_keep(&c->ssl, c->cert, now->ssl, now->cert);
	return 0;
}

static void listen_check(const void *bound, const void *conf, const char *restart)
{
	const struct smtp_conf *old = bound, *c = conf;
	if (!str_list_equal(old->listen, old->nlisten, c->listen, c->nlisten) ||
	    !str_list_equal(old->submission, old->nsubmission, c->submission, c->nsubmission) ||
	    !str_list_equal(old->submissions, old->nsubmissions, c->submissions, c->nsubmissions))
		listen_log_changed(c->section, restart);
}

static const struct server_kind smtp_kind = {
	.proto = &smtp_proto,
	.refused_event = "smtp_refused",
	.restart = "inetkit smtpd",
	.gen_new = gen_new,
	.gen_core = gen_core,
	.limits = limits,
	.keep = keep,
	.listen_check = listen_check,
};

void *smtp_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e)
{
	metrics_declare("smtp", true);
	return server_kind_start(&smtp_kind, conf, l, set, ctx, e);
}
