/* The [metrics] service: an HTTP/1.x endpoint (RFC 9112) for a Prometheus
 * scraper and a load balancer's health check.
 *
 *   GET /metrics   200, the shared counters (core/metrics.h) in the
 *                  Prometheus text format 0.0.4, plus the outbound
 *                  queue's size read from the state directory
 *   GET /health    200 "ok" while this node serves; 503 "stopping" once
 *                  it has begun a graceful stop, so that HAProxy's
 *                  `option httpchk GET /health` takes it out of rotation
 *   HEAD           the same headers without the body
 *   other paths    404; other methods 405
 *
 * One request per connection (Connection: close), request line and
 * headers at most 8 KiB; the session core's line mode, limits and
 * timeouts do the reading, core/server the accepting. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/server.h"
#include "core/service.h"
#include "core/session.h"
#include "lib/str.h"
#include "metrics/metrics.h"
#include "metrics/metrics_http.h"

#define MAX_HEADER_LINES 64
#define MAX_LINE 8192
#define IDLE_MS 10000
#define QUEUE_COUNT_MAX 10000000

struct metrics_conf {
	char *listen[LISTEN_MAX_SOCKETS];
	size_t nlisten;
	char queue_dir[4096];
};

struct metrics_gen {
	struct loop *loop;
	struct server *core;
	const struct metrics_conf *conf;
};

struct metrics_conn {
	struct server_conn conn;
	struct metrics_gen *gen;
	struct session *s;
	bool have_request;
	unsigned lines;
	enum metrics_http_method method;
	char path[METRICS_HTTP_PATH_MAX];
};

/* Envelopes in the queue directory (STATE/queue/ID.env); -1: no queue. */
static int64_t queue_size(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < QUEUE_COUNT_MAX) {
		size_t len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".env") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void respond(struct metrics_conn *c, int code, const char *status, const char *extra,
		    const struct sbuf *body, const char *why)
{
	struct sbuf out = SBUF_INIT(4 << 20);
	const char *text = body != NULL ? sbuf_cstr(body) : "";
	size_t len = body != NULL ? body->len : 0;
	sbuf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		    "Connection: close\r\n\r\n", code, status,
		    code == 200 && strcmp(c->path, "/metrics") == 0
			    ? "text/plain; version=0.0.4; charset=utf-8"
			    : "text/plain; charset=utf-8", len, extra != NULL ? extra : "");
	if (c->method != METRICS_HTTP_HEAD && len > 0)
		sbuf_add(&out, text, len);
	session_reply_close(c->s, sbuf_cstr(&out), out.len, why);
	sbuf_free(&out);
}

static void text_reply(struct metrics_conn *c, int code, const char *status, const char *extra,
		       const char *text)
{
	struct sbuf b = SBUF_INIT(1024);
	sbuf_printf(&b, "%s\n", text);
	respond(c, code, status, extra, &b, status);
	sbuf_free(&b);
}

static void answer(struct metrics_conn *c)
{
	if (c->method == METRICS_HTTP_OTHER) {
		text_reply(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
			   "only GET and HEAD");
		return;
	}
	if (strcmp(c->path, "/health") == 0) {
		if (server_stopping(c->gen->core))
			text_reply(c, 503, "Service Unavailable", NULL, "stopping");
		else
			text_reply(c, 200, "OK", NULL, "ok");
		return;
	}
	if (strcmp(c->path, "/metrics") == 0) {
		struct sbuf b = SBUF_INIT(1 << 20);
		if (metrics_render(&b, queue_size(c->gen->conf->queue_dir)) < 0) {
			sbuf_free(&b);
			text_reply(c, 500, "Internal Server Error", NULL, "metrics too large");
			return;
		}
		respond(c, 200, "OK", NULL, &b, "metrics");
		sbuf_free(&b);
		return;
	}
	text_reply(c, 404, "Not Found", NULL, "try /metrics or /health");
}

static void on_line(struct metrics_conn *c, const char *line, size_t len)
{
	if (!c->have_request) {
		ik_err e;
		if (metrics_http_request(line, len, &c->method, c->path, sizeof c->path, &e) < 0) {
			c->method = METRICS_HTTP_GET;
			text_reply(c, 400, "Bad Request", NULL, e.msg);
			return;
		}
		c->have_request = true;
		return;
	}
	if (len == 0) {
		answer(c);
		return;
	}
	if (++c->lines > MAX_HEADER_LINES)
		text_reply(c, 431, "Request Header Fields Too Large", NULL, "too many header lines");
}

static void conn_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	struct metrics_conn *c = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		on_line(c, ev->line, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		text_reply(c, 400, "Bad Request", NULL, "line too long or not text");
		break;
	case SESSION_EV_EOF:
	case SESSION_EV_TIMEOUT:
		session_close(c->s, ev->type == SESSION_EV_EOF ? "eof" : "timeout");
		break;
	case SESSION_EV_CLOSED:
		server_conn_remove(&c->conn);
		free(c);
		break;
	default:
		break;
	}
}

static void proto_accept(void *arg, void *gen, int fd, const struct sockaddr *peer,
			 socklen_t len, size_t i)
{
	(void)arg;
	(void)i;
	struct metrics_gen *g = gen;
	struct metrics_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->gen = g;
	struct session_opts o = {
		.proto = "metrics",
		.mode = SESSION_MODE_LINE,
		.max_line = MAX_LINE,
		.eol = SESSION_EOL_LF,
		.idle_ms = IDLE_MS,
	};
	ik_err e;
	c->s = session_new(g->loop, fd, peer, len, NULL, &o, conn_io, c, &e);
	if (c->s == NULL) {
		log_event(LOG_ERR, "accept_failed", "proto=metrics reason=\"%s\"", e.msg);
		free(c);
		return;
	}
	server_conn_add(g->core, &c->conn, c);
}

static void proto_refusal(void *arg, void *gen, enum server_refusal what, size_t i, char *reply,
			  size_t replysz, char *why, size_t whysz)
{
	(void)arg;
	(void)gen;
	(void)what;
	(void)i;
	(void)why;
	(void)whysz;
	str_copy(reply, replysz, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
		 "Connection: close\r\n\r\n");
}

static void proto_stop_conn(void *conn)
{
	struct metrics_conn *c = conn;
	session_close(c->s, "server stopping");
}

static void proto_close_conn(void *conn, const char *reason)
{
	struct metrics_conn *c = conn;
	session_close(c->s, reason);
}

static void proto_gen_free(void *gen) { free(gen); }

static const struct server_proto metrics_proto = {
	.accept = proto_accept,
	.refusal = proto_refusal,
	.stop_conn = proto_stop_conn,
	.close_conn = proto_close_conn,
	.gen_free = proto_gen_free,
};

/* ---- the service ---- */

static void conf_free(void *conf)
{
	struct metrics_conf *c = conf;
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	free(c);
}

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	struct metrics_conf *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    listen_spec_configure(cfg, sec, "listen", "Addresses for GET /metrics and GET /health "
				  "(HTTP)", METRICS_DEFAULT_LISTEN, true, c->listen, &c->nlisten,
				  e) < 0) {
		conf_free(c);
		return NULL;
	}
	if (str_fmt(c->queue_dir, sizeof c->queue_dir, "%s/queue", ctx->state_dir) < 0) {
		conf_free(c);
		ik_err_set(e, "state_dir too long");
		return NULL;
	}
	return c;
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct metrics_conf *c = conf;
	return listen_bind_specs(set, (const char *const *)c->listen, c->nlisten, SOCK_STREAM, 0, e);
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	(void)ctx;
	struct metrics_gen *g = calloc(1, sizeof *g);
	if (g == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	g->loop = l;
	g->conf = conf;
	struct server_opts o = {.proto = &metrics_proto, .refused_event = "metrics_refused"};
	struct server_limits lim = {256, 0};
	g->core = server_new(l, set, &o, g, &lim, e);
	if (g->core == NULL) {
		free(g);
		return NULL;
	}
	return g->core;
}

static int svc_reload(void *running, void *new_conf, ik_err *e)
{
	struct server *core = running;
	const struct metrics_gen *cur = server_gen(core);
	struct metrics_gen *g = calloc(1, sizeof *g);
	if (g == NULL)
		return ik_err_set(e, "out of memory");
	*g = *cur;
	g->conf = new_conf;
	struct server_limits lim = {256, 0};
	if (server_reload(core, g, &lim, e) < 0) {
		free(g);
		return -1;
	}
	return 0;
}

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	(void)conf;
	sbuf_printf(out, "metrics      %-22s try: curl http://%s:%u/metrics\n", ep->text,
		    ep->url_host, ep->port);
}

const struct service_ops service_metrics = {
	.section = "metrics",
	.summary = "Prometheus metrics and a health check for load balancers (HTTP)",
	.configure = svc_configure,
	.bind = svc_bind,
	.start = svc_start,
	.stop = server_service_stop,
	.reload = svc_reload,
	.free_running = server_service_free,
	.free_conf = conf_free,
	.describe = svc_describe,
};
