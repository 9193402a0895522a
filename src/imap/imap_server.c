/* The IMAP server on core/server: what IMAP adds to the core's listeners,
 * limits, stop and reload generations. RFC 3501 7.1.5 (BYE: the server is
 * closing the connection, for a client over a limit and when the server
 * stops). A generation is the conf a session started with and the
 * mailstore it reads. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <gmime/gmime.h>

#include "core/log.h"
#include "core/server.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "imap/imap_int.h"
#include "lib/str.h"

static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer, socklen_t len,
			 size_t i)
{
	(void)arg;
	struct imap_server *srv = gen;
	imap_sess_accept(srv, fd, peer, len, i >= srv->conf->tls_from);
}

static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	const struct imap_conf *c = ((struct imap_server *)gen)->conf;
	switch (what) {
	case SERVER_REFUSE_STOPPING:
		str_copy(why, whysz, "server stopping");
		str_copy(reply, replysz, "* BYE [UNAVAILABLE] Server shutting down\r\n");
		break;
	case SERVER_REFUSE_TOTAL:
		str_fmt(why, whysz, "max_sessions %llu reached", (unsigned long long)c->max_sessions);
		str_copy(reply, replysz, "* BYE [UNAVAILABLE] Too many connections, try again "
			 "later\r\n");
		break;
	case SERVER_REFUSE_PER_IP:
	case SERVER_REFUSE_TABLE_FULL:
		if (what == SERVER_REFUSE_PER_IP)
			str_fmt(why, whysz, "max_sessions_per_ip %llu reached",
				(unsigned long long)c->max_per_ip);
		else
			str_copy(why, whysz, "address table full");
		str_copy(reply, replysz, "* BYE [UNAVAILABLE] Too many connections from your "
			 "address, try again later\r\n");
		break;
	}
	/* Implicit TLS would need a handshake before any reply: just close. */
	if (i >= c->tls_from)
		reply[0] = '\0';
}

static void proto_stop_conn(void *conn)
{
	imap_sess_shutdown(conn, "* BYE [UNAVAILABLE] Server shutting down");
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct imap_sess *ss = conn;
	session_close(ss->s, reason);
}

static void gen_free(void *gen)
{
	struct imap_server *srv = gen;
	if (srv == NULL)
		return;
	if (srv->idle_timer != NULL)
		event_free(srv->idle_timer);
	if (srv->wake != NULL)
		event_free(srv->wake);
	imap_folder_free_all(srv);
	fswatch_free(srv->watch);
	mailstore_free(srv->store);
	free(srv);
}

static const struct server_proto imap_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
	.gen_free = gen_free,
};

void imap_server_add(struct imap_server *srv, struct imap_sess *ss)
{
	server_conn_add(srv->core, &ss->conn, ss);
}

void imap_server_remove(struct imap_sess *ss)
{
	imap_server_idle_remove(ss);
	server_conn_remove(&ss->conn);
}

/* RFC 2177: an IDLE session hears of new mail and of changes others make
 * without asking. A folder's new/ and cur/ are watched (core/fswatch,
 * inotify): a change marks the folder and, IMAP_WAKE_MS later (a burst of
 * deliveries gathered), its IDLE sessions sync: the first one rescans,
 * the others take its scan, and their untagged replies go out at once.
 * A folder the kernel would not watch is polled every IMAP_IDLE_POLL_MS
 * instead: two stats per folder, however many sessions wait on it. */
#define IMAP_IDLE_POLL_MS 500
#define IMAP_WAKE_MS 20

static void wake_waiters(struct imap_fshared *sh, const struct timespec *n,
			 const struct timespec *c)
{
	for (struct imap_sess *ss = sh->waiters, *next; ss != NULL; ss = next) {
		next = ss->idle_next;
		struct imap_folder *f = ss->sel;
		ik_err e;
		if (f == NULL || ss->closing)
			continue;
		if (sh->dirty || f->new_mtime.tv_sec != n->tv_sec ||
		    f->new_mtime.tv_nsec != n->tv_nsec || f->cur_mtime.tv_sec != c->tv_sec ||
		    f->cur_mtime.tv_nsec != c->tv_nsec)
			imap_folder_sync(ss, f, true, &e);
	}
}

static void wake_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_server *srv = arg;
	for (struct imap_fshared *sh = srv->folders; sh != NULL; sh = sh->next) {
		if (sh->waiters == NULL || !sh->dirty)
			continue;
		struct timespec n, c;
		imap_folder_dir_mtimes(sh, &n, &c);
		wake_waiters(sh, &n, &c);
	}
}

void imap_server_folder_changed(struct imap_fshared *sh)
{
	struct imap_server *srv = sh->srv;
	if (sh->waiters == NULL)
		return;	/* the next sync of a session rescans: it is dirty */
	if (srv->wake == NULL)
		srv->wake = event_new(loop_base(srv->loop), -1, 0, wake_tick, srv);
	if (srv->wake != NULL && !event_pending(srv->wake, EV_TIMEOUT, NULL)) {
		struct timeval tv = loop_tv(IMAP_WAKE_MS);
		event_add(srv->wake, &tv);
	}
}

static void idle_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_server *srv = arg;
	for (struct imap_fshared *sh = srv->folders; sh != NULL; sh = sh->next) {
		if (sh->waiters == NULL || sh->wnew != NULL)
			continue;
		struct timespec n, c;
		imap_folder_dir_mtimes(sh, &n, &c);
		wake_waiters(sh, &n, &c);
	}
}

void imap_server_idle_add(struct imap_sess *ss)
{
	struct imap_server *srv = ss->srv;
	/* Without a selected folder there is nothing to watch. */
	if (ss->idle_prevp != NULL || ss->sel == NULL)
		return;
	struct imap_fshared *sh = ss->sel->sh;
	if (sh->wnew == NULL && srv->idle_timer == NULL)
		srv->idle_timer = loop_timer(srv->loop, IMAP_IDLE_POLL_MS, true, idle_tick, srv);
	ss->idle_next = sh->waiters;
	if (sh->waiters != NULL)
		sh->waiters->idle_prevp = &ss->idle_next;
	sh->waiters = ss;
	ss->idle_prevp = &sh->waiters;
}

void imap_server_idle_remove(struct imap_sess *ss)
{
	if (ss->idle_prevp == NULL)
		return;
	*ss->idle_prevp = ss->idle_next;
	if (ss->idle_next != NULL)
		ss->idle_next->idle_prevp = ss->idle_prevp;
	ss->idle_next = NULL;
	ss->idle_prevp = NULL;
}

static void *gen_new(void *conf, const struct server_genargs *a, ik_err *e)
{
	struct imap_conf *c = conf;
	if (imap_conf_prepare(c, e) < 0)
		return NULL;
	g_mime_init();
	struct imap_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	SERVER_GEN_SET(srv, c, a);
	if (mailstore_open(c->state_dir, &srv->store, e) < 0) {
		ik_err_prefix(e, "[%s] %s", c->section, c->state_dir);
		gen_free(srv);
		return NULL;
	}
	return srv;
}

static void gen_core(void *gen, struct server *core) { ((struct imap_server *)gen)->core = core; }

static struct server_limits limits(const void *conf)
{
	const struct imap_conf *c = conf;
	return (struct server_limits){c->max_sessions, c->max_per_ip};
}

static int keep(void *conf, const void *running, const struct server_genargs *a,
		const char *restart, ik_err *e)
{
	(void)a, (void)restart, (void)e;
	struct imap_conf *c = conf;
	const struct imap_conf *now = running;
	c->tls_from = now->tls_from;
	server_conf_tls_keep(&c->ssl, c->cert, now->ssl, now->cert);
	return 0;
}

static void listen_check(const void *bound, const void *conf, const char *restart)
{
	const struct imap_conf *old = bound, *c = conf;
	if (!str_list_equal(old->listen, old->nlisten, c->listen, c->nlisten) ||
	    !str_list_equal(old->tls_listen, old->ntls_listen, c->tls_listen, c->ntls_listen))
		listen_log_changed(c->section, restart);
}

static const struct server_kind imap_kind = {
	.proto = &imap_proto,
	.refused_event = "imap_refused",
	.restart = "inetkit imapd",
	.gen_new = gen_new,
	.gen_core = gen_core,
	.limits = limits,
	.keep = keep,
	.listen_check = listen_check,
};

void *imap_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e)
{
	return server_kind_start(&imap_kind, conf, l, set, ctx, e);
}
