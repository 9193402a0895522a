/* The [smtp] service (core/service.h): the SMTP server of src/smtp with
 * the [tls] certificate, the accounts, the state directory and the shared
 * session counts the runner hands it. `inetkit serve` runs it with the
 * other sections, `inetkit smtpd` alone. RFCs: see src/smtp/smtp.h.
 *
 * Reload (SIGHUP): every [smtp] setting but the listen addresses applies
 * to sessions that connect afterwards, and the [tls] files are read again. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/server.h"
#include "lib/str.h"
#include "smtp/smtp.h"

/* path relative to the current directory when it is under it: what a
 * user types in the terminal the banner is printed in. */
static const char *shown(const char *path, char *buf, size_t bufsz)
{
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return path;
	size_t n = strlen(cwd);
	if (strncmp(path, cwd, n) == 0 && path[n] == '/' && path[n + 1] != '\0') {
		str_copy(buf, bufsz, path + n + 1);
		return buf;
	}
	return path;
}

/* The try-it lines of the first port-25 socket, in the order they run:
 * make a user, send it a message (swaks, or Python's smtplib), see where
 * it landed. Aligned under the endpoint line's "try:". */
static void describe_tour(const struct smtp_conf *c, const struct server_endpoint *ep,
			  struct sbuf *out)
{
	const char *dom = c->ndomains > 0 ? c->domains[0] : "localhost";
	char exe[PATH_MAX], exe_rel[PATH_MAX], state[PATH_MAX], conf_rel[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		str_copy(exe, sizeof exe, "inetkit");
	else
		exe[n] = '\0';
	const char *bin = shown(exe, exe_rel, sizeof exe_rel);
	const char *sd = shown(c->state_dir, state, sizeof state);
	const char *pad = "                                    ";
	if (c->config_path[0] != '(') {
		char abs[PATH_MAX];
		const char *cp = c->config_path;
		if (realpath(cp, abs) != NULL)
			cp = shown(abs, conf_rel, sizeof conf_rel);
		sbuf_printf(out, "%s(first: printf 'alice-secret\\n' | %s user add alice --config %s "
			    "--password-stdin)\n", pad, bin, cp);
	} else {
		sbuf_printf(out, "%s(first: printf 'alice-secret\\n' | %s user add alice --db "
			    "%s/accounts.db --password-stdin)\n", pad, bin, sd);
	}
	sbuf_printf(out, "%s or: python3 -c \"import smtplib; smtplib.SMTP('%s', %u).sendmail("
		    "'me@example.org', 'alice@%s', 'Subject: hi\\n\\nhello\\n')\"\n", pad, ep->host,
		    ep->port, dom);
	sbuf_printf(out, "%s then: ls %s/mail/alice/new/\n", pad, sd);
}

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct smtp_conf *c = conf;
	const char *dom = c->ndomains > 0 ? c->domains[0] : "localhost";
	if (ep->index < c->submission_from) {
		sbuf_printf(out, "%-11s  %-22s try: swaks --server %s:%u --from me@example.org "
			    "--to alice@%s\n", "smtp", ep->text, ep->url_host, ep->port, dom);
		if (ep->index == 0)
			describe_tour(c, ep, out);
	} else if (ep->index < c->submissions_from) {
		sbuf_printf(out, "%-11s  %-22s try: swaks --server %s:%u -tls --auth-user alice "
			    "--auth-password alice-secret --from alice@%s --to alice@%s\n", "submission",
			    ep->text, ep->url_host, ep->port, dom, dom);
	} else {
		sbuf_printf(out, "%-11s  %-22s try: swaks --server %s:%u --tls-on-connect "
			    "--auth-user alice --auth-password alice-secret --from alice@%s --to alice@%s\n",
			    "submissions", ep->text, ep->url_host, ep->port, dom, dom);
	}
}

const struct service_ops service_smtp = {
	.section = "smtp",
	.summary = "SMTP server: mail for local users into Maildir, submission with STARTTLS "
		   "and AUTH (RFC 5321, RFC 6409)",
	.shared_limits = true,
	.configure = smtp_conf_read,
	.check = smtp_conf_check,
	.bind = smtp_bind,
	.start = smtp_server_start,
	.stop = server_service_stop,
	.reload = server_service_reload,
	.free_running = server_service_free,
	.free_conf = smtp_conf_free,
	.describe = svc_describe,
};
