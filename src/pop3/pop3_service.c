/* The [pop3] service (core/service.h): the POP3 server of src/pop3 with
 * the [tls] certificate, the accounts, the state directory and the shared
 * session counts the runner hands it. `inetkit serve` runs it with the
 * other sections, `inetkit pop3d` alone. RFCs: see src/pop3/pop3.h.
 *
 * Reload (SIGHUP): every [pop3] setting but the listen addresses applies
 * to sessions that connect afterwards, and the [tls] files are read again. */
#include <stdlib.h>
#include <string.h>

#include "core/server.h"
#include "core/workers.h"
#include "lib/str.h"
#include "pop3/pop3.h"

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	return pop3_conf_read(cfg, sec, ctx, enabled, e);
}

static int svc_check(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e)
{
	return pop3_conf_check(conf, c, user, uid, gid, e);
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct pop3_conf *c = conf;
	if (pop3_bind(c, set, e) < 0)
		return -1;
	/* A session holds its connection, and once logged in its maildrop's
	 * two directories, its lock file and a message being read. */
	workers_raise_nofile(c->max_sessions * 6 + 64);
	return 0;
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	return pop3_server_start(conf, l, set, ctx, e);
}

static void svc_free_conf(void *conf) { pop3_conf_free(conf); }

/* Try-it lines that read what the SMTP try-it line sent to alice. */
static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct pop3_conf *c = conf;
	const char *pad = "                                    ";
	if (ep->index < c->tls_from) {
		sbuf_printf(out, "%-11s  %-22s try: curl -k --ssl-reqd pop3://%s:%u/1 -u "
			    "alice:alice-secret\n", "pop3", ep->text, ep->url_host, ep->port);
		sbuf_printf(out, "%s or: python3 -c \"import poplib,ssl; p=poplib.POP3('%s', %u); "
			    "p.stls(ssl._create_unverified_context()); p.user('alice'); "
			    "p.pass_('alice-secret'); print(p.stat()); "
			    "print(b'\\n'.join(p.retr(1)[1]).decode()); p.quit()\"\n", pad, ep->host,
			    ep->port);
	} else {
		sbuf_printf(out, "%-11s  %-22s try: curl -k pop3s://%s:%u/ -u alice:alice-secret\n",
			    "pop3s", ep->text, ep->url_host, ep->port);
	}
}

const struct service_ops service_pop3 = {
	.section = "pop3",
	.summary = "POP3 server: the Maildirs smtpd delivers to, with STLS, implicit TLS and "
		   "AUTH (RFC 1939, RFC 2449)",
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
