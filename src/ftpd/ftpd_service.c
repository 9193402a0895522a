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
#include "core/server.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_tool.h"

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
	.configure = ftpd_conf_read,
	.check = ftpd_conf_check,
	.bind = ftpd_bind,
	.start = ftpd_server_start,
	.stop = server_service_stop,
	.reload = server_service_reload,
	.free_running = server_service_free,
	.free_conf = ftpd_conf_free,
	.describe = svc_describe,
};
