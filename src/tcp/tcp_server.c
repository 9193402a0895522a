/* The TCP server behind `inetkit tcp listen` and the [tcp-echo] service:
 * the echo (RFC 862) and discard (RFC 863) modes; chat, exec, file
 * transfer and relay live in their own files. Accepting, the max_conns
 * limit, stop and reload generations are core/server's; every connection
 * is a core/session in raw mode (line mode for chat), so timeouts,
 * back-pressure, TLS and the end-of-file policy are the session core's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/server.h"
#include "lib/str.h"
#include "core/tls.h"
#include "tcp/tcp_int.h"

const char *tcp_mode_name(enum tcp_mode m)
{
	static const char *const names[] = {"echo", "discard", "chat", "exec", "send", "recv",
					    "relay"};
	return names[m];
}

struct tcp_conf *tcp_conf_new(void)
{
	struct tcp_conf *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->name = "tcp";
	c->max_conns = TCP_DEFAULT_MAX_CONNS;
	c->idle_ms = TCP_DEFAULT_IDLE_MS;
	c->write_ms = TCP_DEFAULT_WRITE_MS;
	c->max_line = TCP_CHAT_MAX_LINE;
	c->file_fd = -1;
	c->connect_ms = TCP_DEFAULT_CONNECT_MS;
	return c;
}

void tcp_conf_free(struct tcp_conf *c)
{
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	free(c->cert);
	free(c->key);
	free(c->file);
	if (c->exec_argv != NULL) {
		free(c->exec_argv[0]);	/* one buffer holds every word */
		free(c->exec_argv);
	}
	if (c->file_fd >= 0)
		close(c->file_fd);
	if (c->ssl != NULL)
		SSL_CTX_free(c->ssl);
	free(c->target);
	free(c->source);
	free(c->cacert);
	if (c->target_ssl != NULL)
		SSL_CTX_free(c->target_ssl);
	free(c);
}

int tcp_conf_add_listen(struct tcp_conf *c, const char *spec, ik_err *e)
{
	return listen_spec_add(c->listen, &c->nlisten, spec, e);
}

int tcp_conf_prepare(struct tcp_conf *c, ik_err *e)
{
	/* A file already open (a reload's copy shares it) is never opened
	 * again: --recv would truncate what came so far. */
	if (c->file_fd < 0 && c->mode == TCP_SEND) {
		int fd = open(c->file, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			return ik_err_errno(e, errno, "cannot read '%s'", c->file);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return ik_err_set(e, "'%s' is not a regular file; --send sends a file", c->file);
		}
		c->file_fd = fd;
		c->file_size = st.st_size;
	} else if (c->file_fd < 0 && c->mode == TCP_RECV) {
		int fd = open(c->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return ik_err_errno(e, errno, "cannot write '%s'", c->file);
		c->file_fd = fd;
	}
	if (c->tls && c->ssl == NULL) {
		struct tls_server_opts o = {c->cert, c->key};
		c->ssl = tls_server_ctx(&o, e);
		if (c->ssl == NULL)
			return -1;
	}
	if (c->mode == TCP_RELAY && tcp_relay_prepare(c, e) < 0)
		return -1;
	return 0;
}

/* ---- connections ---- */

struct tcp_conf *tcp_conn_conf(const struct tcp_conn *c) { return server_conn_gen(&c->conn); }
struct tcp_conf *tcp_server_conf(const struct tcp_server *srv) { return server_gen(srv->core); }

struct tcp_conn *tcp_conn_first(const struct tcp_server *srv)
{
	struct server_conn *n = server_first(srv->core);
	return n != NULL ? n->arg : NULL;
}

struct tcp_conn *tcp_conn_next(const struct tcp_conn *c)
{
	struct server_conn *n = server_next(&c->conn);
	return n != NULL ? n->arg : NULL;
}

static void once_done(void *arg)
{
	struct tcp_server *srv = arg;
	loop_exit(srv->loop);
}

void tcp_conn_closed(struct tcp_conn *c)
{
	struct tcp_server *srv = c->srv;
	bool once = tcp_conn_conf(c)->once;
	server_conn_remove(&c->conn);
	free(c);
	/* A one-shot server is done with its one client. */
	if (once && !server_stopping(srv->core))
		server_stop(srv->core, once_done, srv);
}

static void conn_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct tcp_conn *c = arg;
	switch (tcp_conn_conf(c)->mode) {
	case TCP_ECHO:	/* the session reflects the bytes itself */
		break;
	case TCP_DISCARD:
		if (ev->type == SESSION_EV_DATA)
			evbuffer_drain(session_input(s), evbuffer_get_length(session_input(s)));
		break;
	case TCP_CHAT:
		tcp_chat_io(c, ev);
		break;
	case TCP_EXEC:
		tcp_exec_io(c, ev);
		break;
	case TCP_SEND:
	case TCP_RECV:
		tcp_xfer_io(c, ev);
		break;
	case TCP_RELAY:
		tcp_relay_io(c, ev);	/* it ends the connection itself */
		return;
	}
	if (ev->type == SESSION_EV_CLOSED)
		tcp_conn_closed(c);
}

static void session_opts_for(const struct tcp_conf *conf, struct session_opts *o)
{
	memset(o, 0, sizeof *o);
	o->proto = conf->name;
	o->mode = conf->mode == TCP_CHAT ? SESSION_MODE_LINE : SESSION_MODE_RAW;
	o->max_line = conf->max_line;
	o->eol = SESSION_EOL_LF;
	o->idle_ms = conf->idle_ms;
	o->write_ms = conf->write_ms;
	/* A relay logs one line for both of its connections (tcp_relay.c). */
	o->log_close = conf->log && conf->mode != TCP_RELAY;
	if (conf->mode == TCP_CHAT) {
		/* One slow reader must not hold everyone's messages: it is
		 * dropped once this much waits for it. */
		o->out_high = 64 * 1024;
		o->out_max = 256 * 1024;
	} else if (conf->mode == TCP_SEND) {
		o->out_max = (size_t)-1;	/* the file is queued whole, by reference */
	}
}

/* A connection keeps the conf it was accepted under (its generation,
 * core/server.h): a reload of the [tcp-echo] service applies to the next
 * ones. Confs outlive their connections (the runner frees them at exit,
 * `tcp listen` once unused). The session took its limits, timeouts and
 * TLS context when it was made; the SSL object holds its own reference
 * to that SSL_CTX. */
static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer,
			 socklen_t len, size_t i)
{
	(void)i;
	struct tcp_server *srv = arg;
	struct tcp_conf *conf = gen;
	if (conf->once && srv->accepted > 0) {
		close(fd);
		return;
	}
	struct tcp_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	struct session_opts o;
	session_opts_for(conf, &o);
	ik_err e;
	c->s = session_new(srv->loop, fd, peer, len, conf->ssl, &o, conn_io, c, &e);
	if (c->s == NULL) {
		log_event(LOG_ERR, "accept_failed", "proto=%s reason=\"%s\"", conf->name, e.msg);
		free(c);
		return;
	}
	server_conn_add(srv->core, &c->conn, c);
	srv->accepted++;
	if (conf->once)
		server_pause(srv->core);
	switch (conf->mode) {
	case TCP_ECHO:
		session_reflect(c->s);
		break;
	case TCP_CHAT:
		tcp_chat_join(c);
		break;
	case TCP_EXEC:
		if (tcp_exec_start(c, &e) < 0) {
			log_event(LOG_ERR, "exec_failed", "proto=%s peer=%s reason=\"%s\"", conf->name,
				  session_peer(c->s), e.msg);
			session_close(c->s, "cannot start the command");
		}
		break;
	case TCP_SEND:
	case TCP_RECV:
		tcp_xfer_start(c);
		break;
	case TCP_RELAY:
		tcp_relay_start(c, conf);
		break;
	default:
		break;
	}
}

/* Over max_conns: closed without a word; stopping: closed quietly. */
static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	(void)i;
	(void)replysz;
	const struct tcp_conf *conf = gen;
	reply[0] = '\0';
	if (what == SERVER_REFUSE_STOPPING)
		why[0] = '\0';
	else
		str_fmt(why, whysz, "max-conns %llu reached", (unsigned long long)conf->max_conns);
}

/* Let a session finish the way it ends at the peer's EOF. A relay's
 * clients carry on until they end or the grace time closes them: a FIN
 * now would cut off what the target still sends. */
static void proto_stop_conn(void *conn)
{
	struct tcp_conn *c = conn;
	if (c->relay != NULL)
		return;
	if (c->exec != NULL)
		session_close(c->s, "server stopping");
	else
		session_shutdown_write(c->s);
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct tcp_conn *c = conn;
	if (c->relay != NULL)
		tcp_relay_close(c, reason);
	else
		session_close(c->s, reason);
}

static const struct server_proto tcp_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
};

static struct server_limits limits(const struct tcp_conf *c)
{
	struct server_limits lim = {c->max_conns, 0};
	return lim;
}

int tcp_server_reload(struct tcp_server *srv, struct tcp_conf *c, ik_err *e)
{
	struct tcp_conf *old = tcp_server_conf(srv);
	size_t n = server_sessions(srv->core);
	/* Chat talks to every connection of the server: open echo or discard
	 * connections must not receive it, nor open chatters lose it. */
	if (c->mode != old->mode && (c->mode == TCP_CHAT || old->mode == TCP_CHAT) && n > 0)
		return ik_err_set(e, "[%s] mode: cannot switch from %s to %s while %zu "
				  "connections are open; reload again once they have closed, "
				  "or restart %s", c->name, tcp_mode_name(old->mode),
				  tcp_mode_name(c->mode), n, srv->restart);
	/* No cert before or now: keep the self-signed certificate clients may
	 * have pinned rather than make another; both confs hold a reference. */
	if (c->tls && c->cert == NULL && old->tls && old->cert == NULL && old->ssl != NULL &&
	    c->ssl == NULL && SSL_CTX_up_ref(old->ssl) == 1)
		c->ssl = old->ssl;
	ik_err te = {""};
	if (tcp_conf_prepare(c, &te) < 0)
		return ik_err_set(e, "[%s] cert: %s", c->name, te.msg);
	struct server_limits lim = limits(c);
	if (server_reload(srv->core, c, &lim, e) < 0)
		return -1;
	if (!str_list_equal(srv->bound->listen, srv->bound->nlisten, c->listen, c->nlisten))
		listen_log_changed(c->name, srv->restart);
	return 0;
}

bool tcp_server_uses_conf(const struct tcp_server *srv, const struct tcp_conf *conf)
{
	return server_uses_gen(srv->core, conf);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	tcp_exec_reap(arg);
}

struct tcp_server *tcp_server_start(struct tcp_conf *conf, struct loop *l,
				    const struct listen_set *set, const char *restart, ik_err *e)
{
	struct tcp_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	srv->loop = l;
	srv->bound = conf;
	srv->restart = restart != NULL ? restart : "inetkit tcp listen";
	char fields[80];
	str_fmt(fields, sizeof fields, "proto=%s ", conf->name);
	struct server_opts o = {
		.proto = &tcp_proto,
		.arg = srv,
		.refused_event = "refuse",
		.log_fields = fields,
	};
	struct server_limits lim = limits(conf);
	srv->core = server_new(l, set, &o, conf, &lim, e);
	if (srv->core == NULL) {
		free(srv);
		return NULL;
	}
	if (conf->mode == TCP_EXEC) {
		srv->sigchld = evsignal_new(loop_base(l), SIGCHLD, on_sigchld, srv);
		if (srv->sigchld == NULL || evsignal_add(srv->sigchld, NULL) < 0) {
			tcp_server_free(srv);
			ik_err_set(e, "cannot watch child processes");
			return NULL;
		}
	}
	return srv;
}

void tcp_server_stop(struct tcp_server *srv, void (*done)(void *), void *arg)
{
	server_stop(srv->core, done, arg);
}

void tcp_server_free(struct tcp_server *srv)
{
	if (srv == NULL)
		return;
	server_free(srv->core);
	if (srv->sigchld != NULL)
		event_free(srv->sigchld);
	free(srv);
}
