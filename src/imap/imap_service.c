/* The [imap] service (core/service.h): the IMAP server of src/imap with
 * the [tls] certificate, the accounts, the state directory and the shared
 * session counts the runner hands it. `inetkit serve` runs it with the
 * other sections, `inetkit imapd` alone. RFCs: see src/imap/imap.h. */
#include <stdlib.h>
#include <string.h>

#include "core/server.h"
#include "imap/imap.h"
#include "lib/sbuf.h"

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
	.configure = imap_conf_read,
	.check = imap_conf_check,
	.bind = imap_bind,
	.start = imap_server_start,
	.stop = server_service_stop,
	.reload = server_service_reload,
	.free_running = server_service_free,
	.free_conf = imap_conf_free,
	.describe = svc_describe,
};
