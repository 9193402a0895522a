/* The [imap] service (core/service.h): the IMAP server of src/imap with
 * the [tls] certificate, the accounts, the state directory and the shared
 * session counts the runner hands it. `inetkit serve` runs it with the
 * other sections, `inetkit imapd` alone. RFCs: see src/imap/imap.h. */
#include <stdlib.h>
#include <string.h>

#include "core/server.h"
#include "core/workers.h"
#include "imap/imap.h"
#include "lib/sbuf.h"

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	return imap_conf_read(cfg, sec, ctx, enabled, e);
}

static int svc_check(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e)
{
	return imap_conf_check(conf, c, user, uid, gid, e);
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct imap_conf *c = conf;
	if (imap_bind(c, set, e) < 0)
		return -1;
	/* A session holds its connection and a selected folder's files. */
	workers_raise_nofile(c->max_sessions * 6 + 64);
	return 0;
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	return imap_server_start(conf, l, set, ctx, e);
}

static void svc_free_conf(void *conf) { imap_conf_free(conf); }

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct imap_conf *c = conf;
	const char *pad = "                                    ";
	if (ep->index < c->tls_from) {
		sbuf_printf(out, "%-11s  %-22s try: curl --ssl-reqd -k imap://%s:%u/INBOX "
			    "--user alice:alice-secret\n", "imap", ep->text, ep->url_host, ep->port);
		sbuf_printf(out, "%s  or: python3 -c \"import imaplib, ssl; m = imaplib.IMAP4('%s', "
			    "%u); m.starttls(ssl._create_unverified_context()); "
			    "m.login('alice', 'alice-secret'); print(m.select('INBOX'), "
			    "m.fetch('1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))\"\n", pad,
			    ep->host, ep->port);
	} else {
		sbuf_printf(out, "%-11s  %-22s try: curl -k imaps://%s:%u/INBOX --user "
			    "alice:alice-secret\n", "imaps", ep->text, ep->url_host, ep->port);
	}
}

const struct service_ops service_imap = {
	.section = "imap",
	.summary = "IMAP server: mail clients read the Maildir of local users, with STARTTLS "
		   "or implicit TLS (RFC 3501)",
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
