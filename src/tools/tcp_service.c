/* The [tcp-echo] service of `inetkit serve` (RFC 862 echo, RFC 863
 * discard, or chat): the same server as
 * `inetkit tcp listen`, configured from the config file. Keys (all read
 * here, so that cfg_check_unused can report unknown ones):
 *   enabled       yes|no, default yes
 *   listen        list of [HOST:]PORT, default 127.0.0.1:2007
 *   mode          echo|discard|chat, default echo
 *   max_conns     1..1000000, default 1000
 *   idle_timeout  duration, default 300s (0: never)
 *   tls           yes|no, default no (self-signed unless cert is set)
 *   cert, key     PEM files for tls (key default: in the cert file)
 *   log           yes|no, one line per connection, default no
 * Reload (SIGHUP): every key but listen applies to connections accepted
 * afterwards; cert and key are read again into a new SSL_CTX
 * (tcp_server_reload, which `tcp listen` uses too). Ownership:
 * the running server points at the conf in force, each connection at the
 * conf it was accepted under (tcp_server.c), and serve frees confs only at
 * exit, so an old conf and its SSL_CTX live as long as any connection
 * might use them. */
#include <stdlib.h>
#include <string.h>

#include "net/endpoint.h"
#include "tools/tcp.h"
#include "tools/tcp_int.h"

static void *svc_configure(struct cfg *cfg, const char *sec, bool *enabled, ik_err *e)
{
	static const char *const modes[] = {"echo", "discard", "chat", NULL};
	struct tcp_conf *c = tcp_conf_new();
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	const char *items[CFG_MAX_LIST];
	size_t n = 0;
	int mode = 0;
	uint64_t idle = 0;
	const char *cert, *key;	/* "": none, as in [tls] and [ftp] */
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    cfg_get_list(cfg, sec, "listen", "Addresses to listen on: HOST:PORT, [IPV6]:PORT, "
			 "*:PORT or PORT", "127.0.0.1:2007", items, &n, e) < 0 ||
	    cfg_get_enum(cfg, sec, "mode", "echo (RFC 862), discard (RFC 863) or chat", modes, 0,
			 &mode, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_conns", "Connections served at once; more wait in the "
			 "kernel's queue", TCP_DEFAULT_MAX_CONNS, 1, 1000000, &c->max_conns,
			 e) < 0 ||
	    cfg_get_duration(cfg, sec, "idle_timeout", "A connection idle this long is closed; 0: "
			     "never", TCP_DEFAULT_IDLE_MS, &idle, e) < 0 ||
	    cfg_get_bool(cfg, sec, "tls", "Implicit TLS on every connection", false, &c->tls,
			 e) < 0 ||
	    cfg_get_str(cfg, sec, "cert", "PEM certificate chain for tls = yes; empty: a "
			"self-signed one made at each start", "", &cert, e) < 0 ||
	    cfg_get_str(cfg, sec, "key", "PEM private key of cert; empty: read from the cert file",
			"", &key, e) < 0 ||
	    cfg_get_bool(cfg, sec, "log", "One log line per connection", false, &c->log, e) < 0)
		goto fail;
	c->mode = mode == 1 ? TCP_DISCARD : mode == 2 ? TCP_CHAT : TCP_ECHO;
	c->idle_ms = idle;
	c->name = "tcp-echo";
	if (n == 0) {
		cfg_error(cfg, sec, "listen", e, "give at least one [HOST:]PORT");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		ik_err le;
		if (tcp_conf_add_listen(c, items[i], &le) < 0) {
			cfg_error(cfg, sec, "listen", e, "%s", le.msg);
			goto fail;
		}
	}
	if ((cert[0] != '\0' || key[0] != '\0') && !c->tls) {
		cfg_error(cfg, sec, cert[0] != '\0' ? "cert" : "key", e,
			  "set tls = yes to use a certificate");
		goto fail;
	}
	if (key[0] != '\0' && cert[0] == '\0') {
		cfg_error(cfg, sec, "key", e, "key needs cert");
		goto fail;
	}
	if ((cert[0] != '\0' && (c->cert = strdup(cert)) == NULL) ||
	    (key[0] != '\0' && (c->key = strdup(key)) == NULL)) {
		ik_err_set(e, "out of memory");
		goto fail;
	}
	return c;
fail:
	tcp_conf_free(c);
	return NULL;
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct tcp_conf *c = conf;
	/* The key is read here, while the supervisor may still be root. */
	if (tcp_conf_prepare(c, e) < 0)
		return -1;
	return listen_bind_specs(set, (const char *const *)c->listen, c->nlisten, SOCK_STREAM, 0, e);
}

/* What serve holds: the server, and the conf whose listen addresses are
 * the bound sockets (to tell whether a new conf changed them). */
struct tcp_running {
	struct tcp_server *srv;
	const struct tcp_conf *bound;
};

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set, ik_err *e)
{
	struct tcp_running *r = calloc(1, sizeof *r);
	if (r == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	r->bound = conf;
	r->srv = tcp_server_start(conf, l, set, e);
	if (r->srv == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void svc_stop(void *running, void (*done)(void *), void *arg)
{
	struct tcp_running *r = running;
	tcp_server_stop(r->srv, done, arg);
}

static int svc_reload(void *running, void *new_conf, ik_err *e)
{
	struct tcp_running *r = running;
	return tcp_server_reload(r->srv, r->bound, new_conf, "serve", e);
}

static void svc_free_running(void *running)
{
	struct tcp_running *r = running;
	tcp_server_free(r->srv);
	free(r);
}
static void svc_free_conf(void *conf) { tcp_conf_free(conf); }

static void svc_describe(void *conf, const struct listen_set *set, struct sbuf *out)
{
	struct tcp_conf *c = conf;
	for (size_t i = 0; i < set->n; i++) {
		if (set->socktype[i] != SOCK_STREAM)
			continue;
		char host[ENDPOINT_TEXT_MAX];
		const struct sockaddr *sa = (const struct sockaddr *)&set->ep[i].ss;
		sbuf_printf(out, "tcp %-7s  %-22s try: inetkit tcp connect%s %s %u\n",
			    tcp_mode_name(c->mode), set->ep[i].text, c->tls ? " --tls --insecure" : "",
			    endpoint_format_host(sa, host, sizeof host), endpoint_port(sa));
	}
}

const struct service_ops service_tcp_echo = {
	.section = "tcp-echo",
	.summary = "TCP echo, discard or chat server (RFC 862, RFC 863)",
	.configure = svc_configure,
	.bind = svc_bind,
	.start = svc_start,
	.stop = svc_stop,
	.reload = svc_reload,
	.free_running = svc_free_running,
	.free_conf = svc_free_conf,
	.describe = svc_describe,
};
