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
#include "pop3/pop3.h"

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
	.configure = pop3_conf_read,
	.check = pop3_conf_check,
	.bind = pop3_bind,
	.start = pop3_server_start,
	.stop = server_service_stop,
	.reload = server_service_reload,
	.free_running = server_service_free,
	.free_conf = pop3_conf_free,
	.describe = svc_describe,
};
