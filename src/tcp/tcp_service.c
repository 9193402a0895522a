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
 * (tcp_server_reload, which `tcp listen` uses too). Ownership: each
 * connection keeps the conf it was accepted under (its generation,
 * core/server.h), and the runner frees confs only at exit, so an old conf
 * and its SSL_CTX live as long as any connection might use them.
 * `inetkit tcp listen` runs this service with a conf made from its
 * options (tcp_listen.c). */
#include <stdlib.h>
#include <string.h>

#include "core/server.h"
#include "tcp/tcp.h"
#include "tcp/tcp_int.h"

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	(void)ctx;	/* its own cert and key, not [tls] */
	static const char *const modes[] = {"echo", "discard", "chat", NULL};
	struct tcp_conf *c = tcp_conf_new();
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	int mode = 0;
	uint64_t idle = 0;
	const char *cert, *key;	/* "": none, as in [tls] and [ftp] */
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    listen_spec_configure(cfg, sec, "listen", "Addresses to listen on: HOST:PORT, "
				  "[IPV6]:PORT, *:PORT or PORT", "127.0.0.1:2007", true, c->listen,
				  &c->nlisten, e) < 0 ||
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

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	return tcp_server_start(conf, l, set, ctx->restart, e);
}

static void svc_stop(void *running, void (*done)(void *), void *arg)
{
	tcp_server_stop(running, done, arg);
}

static int svc_reload(void *running, void *new_conf, ik_err *e)
{
	return tcp_server_reload(running, new_conf, e);
}

static void svc_free_running(void *running) { tcp_server_free(running); }
static void svc_free_conf(void *conf) { tcp_conf_free(conf); }
static int svc_status(void *running) { return ((struct tcp_server *)running)->result; }

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct tcp_conf *c = conf;
	sbuf_printf(out, "tcp %-7s  %-22s try: inetkit tcp connect%s %s %u\n",
		    tcp_mode_name(c->mode), ep->text, c->tls ? " --tls --insecure" : "", ep->host,
		    ep->port);
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
	.status = svc_status,
};
