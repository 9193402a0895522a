/* The [ftp] service (core/service.h): the FTP server of src/ftp with the
 * [tls] certificate, the accounts and the shared session counts the
 * runner hands it. `inetkit serve` runs it with the other sections,
 * `inetkit ftpd` alone. RFC 959 and friends: see src/ftpd/ftpd.h.
 *
 * Reload (SIGHUP): every [ftp] setting but the listen addresses applies to
 * sessions that connect afterwards, and the [tls] files are read again
 * (ftpd_server_reload). Open sessions keep the conf they started with:
 * the runner frees confs only at exit, and each conf frees its own
 * SSL_CTX. */
#include "core/log.h"
#include "core/server.h"
#include "core/workers.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_tool.h"

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	return ftpd_conf_read(cfg, sec, ctx->tls_cert, ctx->tls_key, enabled, e);
}

static int svc_check(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e)
{
	return ftpd_conf_check(conf, c, user, uid, gid, e);
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct ftpd_conf *c = conf;
	if (ftpd_bind(c, set, e) < 0)
		return -1;
	/* A session holds its control and data connections and a file. */
	workers_raise_nofile(c->max_sessions * 3 + 64);
	if (c->anon.enabled)
		log_event(LOG_INFO, "ftp_anonymous", "root=%s upload=%s", c->anon.root,
			  c->anon.upload[0] ? c->anon.upload : "-");
	return 0;
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	return ftpd_server_start(conf, l, set, ctx, e);
}

static void svc_free_conf(void *conf) { ftpd_conf_free(conf); }

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct ftpd_conf *c = conf;
	bool implicit = ep->index >= c->implicit_from;
	sbuf_printf(out, "%-11s  %-22s try: curl %s%s://%s:%u/%s\n", implicit ? "ftps" : "ftp",
		    ep->text, implicit ? "-k " : "", implicit ? "ftps" : "ftp", ep->url_host, ep->port,
		    c->anon.enabled ? "pub/" : " -u USER");
}

const struct service_ops service_ftp = {
	.section = "ftp",
	.summary = "FTP and FTPS server: real, guest and anonymous users (RFC 959, RFC 4217)",
	.shared_limits = true,
	.configure = svc_configure,
	.check = svc_check,
	.bind = svc_bind,
	.start = svc_start,
	.stop = server_service_stop,
	.reload = server_service_reload,
	.free_running = server_service_free,
	.free_conf = svc_free_conf,
	.describe = svc_describe,
};
