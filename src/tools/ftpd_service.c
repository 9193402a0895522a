/* The [ftp] service of `inetkit serve` (core/service.h): the FTP server of
 * src/ftp with the certificate of [tls] and the accounts of the worker.
 * RFC 959 and friends: see src/ftp/ftpd.h.
 *
 * Reload (SIGHUP): every [ftp] setting but the listen addresses applies to
 * sessions that connect afterwards, and the [tls] files are read again
 * (ftpd_running_reload, which `inetkit ftpd` uses too). Open sessions keep
 * the conf they started with: serve frees confs only at exit, and each
 * conf frees its own SSL_CTX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "ftp/ftpd.h"
#include "net/endpoint.h"
#include "tools/ftpd_tool.h"
#include "tools/serve.h"

int ftpd_tls_paths(struct cfg *cfg, bool standalone, char *cert, size_t certsz, char *key,
		   size_t keysz, ik_err *e)
{
	if (serve_tls_files(cfg, cert, certsz, key, keysz, e) < 0)
		return -1;
	const char *given;
	cfg_get_str(cfg, "tls", "cert", NULL, "", &given, e);
	if (standalone && given[0] == '\0' && access(cert, R_OK) != 0) {
		cert[0] = '\0';
		key[0] = '\0';
	}
	return 0;
}

static void *svc_configure(struct cfg *cfg, const char *sec, bool *enabled, ik_err *e)
{
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];
	if (ftpd_tls_paths(cfg, false, cert, sizeof cert, key, sizeof key, e) < 0)
		return NULL;
	return ftpd_conf_read(cfg, sec, cert, key, enabled, e);
}

static int svc_check(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e)
{
	return ftpd_conf_check(conf, c, user, uid, gid, e);
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	/* Here, in the parent before the fork: the session counts every
	 * worker shares (max_sessions, max_per_ip). */
	if (ftpd_bind(conf, set, e) < 0)
		return -1;
	return ftpd_share_limits(conf, e);
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set, ik_err *e)
{
	struct ftpd_running *r = calloc(1, sizeof *r);
	if (r == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	r->set = set;
	r->bound = conf;
	r->conf = conf;
	r->cur = ftpd_server_start(conf, l, set, account_auth_current(), e);
	if (r->cur == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void svc_stop(void *running, void (*done)(void *), void *arg)
{
	struct ftpd_running *r = running;
	ftpd_server_stop(r->cur, done, arg);
}

static void svc_free_running(void *running)
{
	struct ftpd_running *r = running;
	ftpd_server_free(r->cur);
	free(r);
}

int ftpd_running_reload(struct ftpd_running *r, struct ftpd_conf *c, const char *restart,
			ik_err *e)
{
	const struct ftpd_conf *old = r->bound, *now = r->conf;
	bool relisten = !str_list_equal(old->listen, old->nlisten, c->listen, c->nlisten) ||
			!str_list_equal(old->implicit, old->nimplicit, c->implicit, c->nimplicit);
	/* Both confs hold a reference; ftpd_conf_prepare leaves a set one. */
	if (c->tls && c->cert[0] == '\0' && c->ssl == NULL && now->tls && now->cert[0] == '\0' &&
	    now->ssl != NULL && SSL_CTX_up_ref(now->ssl) == 1)
		c->ssl = now->ssl;
	struct ftpd_server *srv = ftpd_server_reload(r->cur, c, r->set, e);
	if (srv == NULL)
		return -1;
	r->cur = srv;
	r->conf = c;
	if (relisten)
		log_event(LOG_WARNING, "reload", "service=%s reason=\"listen addresses changed: "
			  "restart %s to apply them\"", c->section, restart);
	return 0;
}

static int svc_reload(void *running, void *new_conf, ik_err *e)
{
	return ftpd_running_reload(running, new_conf, "serve", e);
}

static void svc_free_conf(void *conf)
{
	ftpd_unshare_limits(conf);
	ftpd_conf_free(conf);
}

static void svc_describe(void *conf, const struct listen_set *set, struct sbuf *out)
{
	const struct ftpd_conf *c = conf;
	for (size_t i = 0; i < set->n; i++) {
		bool implicit = i >= c->implicit_from;
		const struct sockaddr *sa = (const struct sockaddr *)&set->ep[i].ss;
		char host[ENDPOINT_TEXT_MAX + 2], h[ENDPOINT_TEXT_MAX];
		endpoint_format_host(sa, h, sizeof h);
		str_fmt(host, sizeof host, sa->sa_family == AF_INET6 ? "[%s]" : "%s", h);
		sbuf_printf(out, "%-11s  %-22s try: curl %s%s://%s:%u/%s\n", implicit ? "ftps" : "ftp",
			    set->ep[i].text, implicit ? "-k " : "",
			    implicit ? "ftps" : "ftp", host, endpoint_port(sa),
			    c->anon.enabled ? "pub/" : " -u USER");
	}
}

const struct service_ops service_ftp = {
	.section = "ftp",
	.summary = "FTP and FTPS server: real, guest and anonymous users (RFC 959, RFC 4217)",
	.configure = svc_configure,
	.check = svc_check,
	.bind = svc_bind,
	.start = svc_start,
	.stop = svc_stop,
	.reload = svc_reload,
	.free_running = svc_free_running,
	.free_conf = svc_free_conf,
	.describe = svc_describe,
};
