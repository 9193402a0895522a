/* The POP3 server on core/server: what POP3 adds to the core's listeners,
 * limits, stop and reload generations. RFC 1939 3 (a refused client gets
 * one -ERR line and the close), RFC 2449 8.1 ([SYS/TEMP]). A generation
 * is the conf a session started with, its offload pool (maildrop scans,
 * UPDATE) and the mailstore it reads. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/offload.h"
#include "core/server.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "lib/str.h"
#include "pop3/pop3_int.h"

/* Scans and fsyncs are short; a few threads let several logins' scans
 * run while one waits for the disk. */
#define POP3_POOL_THREADS 4
#define POP3_POOL_QUEUE 4096

static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer, socklen_t len,
			 size_t i)
{
	(void)arg;
	struct pop3_server *srv = gen;
	pop3_sess_accept(srv, fd, peer, len, i >= srv->conf->tls_from);
}

static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	const struct pop3_conf *c = ((struct pop3_server *)gen)->conf;
	switch (what) {
	case SERVER_REFUSE_STOPPING:
		str_copy(why, whysz, "server stopping");
		str_copy(reply, replysz, "-ERR [SYS/TEMP] Server shutting down; try again later\r\n");
		break;
	case SERVER_REFUSE_TOTAL:
		str_fmt(why, whysz, "max_sessions %llu reached", (unsigned long long)c->max_sessions);
		str_copy(reply, replysz, "-ERR [SYS/TEMP] Too many connections; try again later\r\n");
		break;
	case SERVER_REFUSE_PER_IP:
	case SERVER_REFUSE_TABLE_FULL:
		if (what == SERVER_REFUSE_PER_IP)
			str_fmt(why, whysz, "max_sessions_per_ip %llu reached",
				(unsigned long long)c->max_per_ip);
		else
			str_copy(why, whysz, "address table full");
		str_copy(reply, replysz, "-ERR [SYS/TEMP] Too many connections from your address; "
			 "try again later\r\n");
		break;
	}
	/* Implicit TLS would need a handshake before any reply: just close. */
	if (i >= c->tls_from)
		reply[0] = '\0';
}

static void proto_stop_conn(void *conn)
{
	pop3_sess_stop(conn);
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct pop3_sess *ps = conn;
	session_close(ps->s, reason);
}

static void gen_free(void *gen)
{
	struct pop3_server *srv = gen;
	if (srv == NULL)
		return;
	offload_free(srv->pool);
	mailstore_free(srv->store);
	free(srv);
}

static const struct server_proto pop3_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
	.gen_free = gen_free,
};

void pop3_server_add(struct pop3_server *srv, struct pop3_sess *ps)
{
	server_conn_add(srv->core, &ps->conn, ps);
}

void pop3_server_remove(struct pop3_sess *ps)
{
	server_conn_remove(&ps->conn);
}

static void *gen_new(void *conf, const struct server_genargs *a, ik_err *e)
{
	struct pop3_conf *c = conf;
	if (pop3_conf_prepare(c, e) < 0)
		return NULL;
	struct pop3_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	SERVER_GEN_SET(srv, c, a);
	if (gethostname(srv->hostname, sizeof srv->hostname) < 0 || srv->hostname[0] == '\0')
		str_copy(srv->hostname, sizeof srv->hostname, "localhost");
	srv->hostname[sizeof srv->hostname - 1] = '\0';
	if (mailstore_open(c->state_dir, &srv->store, e) < 0) {
		ik_err_prefix(e, "[%s] %s", c->section, c->state_dir);
		goto fail;
	}
	srv->pool = offload_new(a->loop, POP3_POOL_THREADS, POP3_POOL_QUEUE, e);
	if (srv->pool == NULL)
		goto fail;
	return srv;
fail:
	gen_free(srv);
	return NULL;
}

static void gen_core(void *gen, struct server *core) { ((struct pop3_server *)gen)->core = core; }

static struct server_limits limits(const void *conf)
{
	const struct pop3_conf *c = conf;
	return (struct server_limits){c->max_sessions, c->max_per_ip};
}

static int keep(void *conf, const void *running, const struct server_genargs *a,
		const char *restart, ik_err *e)
{
	(void)a, (void)restart, (void)e;
	struct pop3_conf *c = conf;
	const struct pop3_conf *now = running;
	c->tls_from = now->tls_from;
	server_conf_tls_keep(&c->ssl, c->cert, now->ssl, now->cert);
	return 0;
}

static void listen_check(const void *bound, const void *conf, const char *restart)
{
	const struct pop3_conf *old = bound, *c = conf;
	if (!str_list_equal(old->listen, old->nlisten, c->listen, c->nlisten) ||
	    !str_list_equal(old->tls_listen, old->ntls_listen, c->tls_listen, c->ntls_listen))
		listen_log_changed(c->section, restart);
}

static const struct server_kind pop3_kind = {
	.proto = &pop3_proto,
	.refused_event = "pop3_refused",
	.restart = "inetkit pop3d",
	.gen_new = gen_new,
	.gen_core = gen_core,
	.limits = limits,
	.keep = keep,
	.listen_check = listen_check,
};

void *pop3_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e)
{
	return server_kind_start(&pop3_kind, conf, l, set, ctx, e);
}
