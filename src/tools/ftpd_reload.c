/* `inetkit ftpd` on SIGHUP (passed on to every worker): it reloads as
 * serve does. With --config the file is read and checked whole, and a
 * valid one gives new sessions its [ftp] settings and [tls] files
 * (ftpd_running_reload); an invalid one is logged and the running settings
 * stay. With the quick options only the --cert/--key files are read again.
 * Confs a reload made stay until exit: sessions of older generations still
 * point into them. No protocol of its own; the server's RFCs: see
 * src/ftp/ftpd.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/log.h"
#include "core/str.h"
#include "ftp/ftpd.h"
#include "tools/ftpd_tool.h"
#include "tools/serve.h"

static struct serve_service *ftp_service(struct serve_conf *sc)
{
	for (size_t i = 0; i < sc->nsvc; i++)
		if (strcmp(sc->svc[i].ops->section, "ftp") == 0)
			return &sc->svc[i];
	return NULL;
}

struct acl *ftpd_file_acl(struct serve_conf *sc)
{
	struct serve_service *s = ftp_service(sc);
	return s != NULL ? s->acl : NULL;
}

/* The [ftp] conf of a whole config file. */
struct ftpd_conf *ftpd_file_conf(struct serve_conf *sc, ik_err *e)
{
	struct serve_service *s = ftp_service(sc);
	struct ftpd_conf *c = s != NULL ? s->conf : NULL;
	if (c == NULL) {
		ik_err_set(e, "%s has no [ftp] section; add one (see inetkit-ftpd(8))", sc->path);
		return NULL;
	}
	/* serve makes the self-signed pair on its first start; alone, a
	 * certificate made in memory stands in until then. */
	if (sc->tls_self_signed && access(c->cert, R_OK) != 0) {
		c->cert[0] = '\0';
		c->key[0] = '\0';
	}
	return c;
}

static int keep_reloaded(struct ftpd_run *r, void *conf)
{
	void **more = realloc(r->reloaded, (r->nreloaded + 1) * sizeof *more);
	if (more == NULL)
		return -1;
	r->reloaded = more;
	r->reloaded[r->nreloaded++] = conf;
	return 0;
}

void ftpd_run_free_reloaded(struct ftpd_run *r)
{
	for (size_t i = 0; i < r->nreloaded; i++) {
		if (r->sc != NULL)
			serve_conf_free(r->reloaded[i]);
		else
			ftpd_conf_free(r->reloaded[i]);
	}
	free(r->reloaded);
	r->reloaded = NULL;
	r->nreloaded = 0;
}

/* Put c in force; owner (c, or the serve_conf holding it) is kept until
 * exit. -1 with e set: nothing changed and owner is not kept. */
static int apply_reloaded(struct ftpd_run *r, void *owner, struct ftpd_conf *c, ik_err *e)
{
	if (keep_reloaded(r, owner) < 0)
		return ik_err_set(e, "out of memory");
	if (ftpd_running_reload(&r->fr, c, "inetkit ftpd", e) < 0) {
		r->nreloaded--;
		return -1;
	}
	return 0;
}

static void reload_failed(const char *what, const ik_err *e)
{
	char why[IK_ERR_MAX + 8];
	log_event(LOG_WARNING, "reload_failed", "%s reason=%s keeping=old", what,
		  log_quote(why, sizeof why, e->msg));
}

/* The file again, checked whole first, as serve's workers read it. */
void ftpd_run_reload_file(struct ftpd_run *r)
{
	ik_err e = {""};
	char what[ACCOUNT_PATH_MAX + 8];
	str_fmt(what, sizeof what, "config=%s", r->sc->path);
	struct serve_conf *sc = serve_conf_load(r->sc->path, &e);
	struct ftpd_conf *c = sc != NULL ? ftpd_file_conf(sc, &e) : NULL;
	bool ok = c != NULL &&
		  (!c->tls || serve_tls_prepare(sc, false, (unsigned)-1, (unsigned)-1, &e) == 0) &&
		  apply_reloaded(r, sc, c, &e) == 0;
	if (!ok) {
		serve_conf_free(sc);
		reload_failed(what, &e);
		return;
	}
	listen_set_acl(&r->set, ftpd_file_acl(sc));
	log_set_level(sc->log_level);
	if (r->auth != NULL)
		account_auth_set_policy(r->auth, &sc->accounts);
	log_event(LOG_INFO, "reloaded", "%s service=ftp", what);
}

/* The quick options: the same settings, with the certificate files read
 * again. */
static void reload_quick(struct ftpd_run *r)
{
	const struct ftpd_conf *now = r->fr.conf;
	if (!now->tls || now->cert[0] == '\0') {
		log_event(LOG_NOTICE, "reload", "service=ftp reason=\"nothing to reload: no "
			  "--config file and no --cert file\"");
		return;
	}
	ik_err e = {""};
	bool enabled;
	char what[2 * ACCOUNT_PATH_MAX + 16];
	str_fmt(what, sizeof what, "cert=%s key=%s", now->cert, now->key[0] ? now->key : now->cert);
	struct ftpd_conf *c = ftpd_conf_read(r->cfg, "ftp", now->cert, now->key, &enabled, &e);
	if (c == NULL || apply_reloaded(r, c, c, &e) < 0) {
		ftpd_conf_free(c);
		reload_failed(what, &e);
		return;
	}
	log_event(LOG_INFO, "reloaded", "%s service=ftp", what);
}

void ftpd_run_on_reload(struct loop *l, int sig, void *arg)
{
	(void)l;
	(void)sig;
	struct ftpd_run *r = arg;
	if (r->sc != NULL)
		ftpd_run_reload_file(r);
	else
		reload_quick(r);
}
