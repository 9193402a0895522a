/* The configuration `serve` runs from (docs/inetkit.conf.5). Every key of
 * every section is read here or by a service's configure(), so that
 * cfg_check_unused() can name anything else as unknown. The keys every
 * service has whatever its protocol, allow and deny and the PROXY
 * protocol's, are read here. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/proxy.h"
#include "core/log.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "serve/serve.h"

static int read_workers(struct serve_conf *sc, ik_err *e)
{
	const char *v;
	cfg_get_str(sc->cfg, "serve", "workers", "Worker processes: auto (one per CPU, at most 64) "
		    "or 0-256; 0 runs the services in serve itself", "auto", &v, e);
	if (strcmp(v, "auto") == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		sc->workers = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
		return 0;
	}
	uint64_t n;
	if (str_to_u64(v, 256, &n) < 0)
		return cfg_error(sc->cfg, "serve", "workers", e, "'%s' is not auto or a number "
				 "from 0 (no worker processes) to 256", v);
	sc->workers = (unsigned)n;
	return 0;
}

static int read_serve(struct serve_conf *sc, ik_err *e)
{
	struct cfg *c = sc->cfg;
	if (account_state_dir(c, sc->state_dir, sizeof sc->state_dir, e) < 0 ||
	    read_workers(sc, e) < 0)
		return -1;
	const char *v;
	cfg_get_str(c, "serve", "user", "Started as root: the user to switch to after binding "
		    "the ports", "nobody", &v, e);
	if (v[0] == '\0' || str_copy(sc->user, sizeof sc->user, v) < 0)
		return cfg_error(c, "serve", "user", e, "'%s' is not a user name", v);
	static const char *const targets[] = {"stderr", "syslog", "none", NULL};
	int t;
	if (cfg_get_enum(c, "serve", "log", "Where log lines go: stderr, syslog or none", targets,
			 0, &t, e) < 0)
		return -1;
	sc->log_target = targets[t];
	cfg_get_str(c, "serve", "log_level", "The least important level logged: error, warning, "
		    "notice, info or debug", "info", &v, e);
	sc->log_level = log_level_parse(v);
	if (sc->log_level < 0 || sc->log_level < LOG_ERR)
		return cfg_error(c, "serve", "log_level", e, "'%s' is not one of: error, warning, "
				 "notice, info, debug", v);
	if (cfg_get_duration(c, "serve", "grace", "After SIGTERM, how long sessions may take to "
			     "finish (at most 1h)", 10000, &sc->grace_ms, e) < 0)
		return -1;
	if (sc->grace_ms > 3600000)
		return cfg_error(c, "serve", "grace", e, "at most 1h");
	cfg_get_str(c, "serve", "skeleton", "A directory copied into state_dir at every start, "
		    "except what is already there; empty: none", "", &v, e);
	if (str_copy(sc->skeleton, sizeof sc->skeleton, v) < 0)
		return cfg_error(c, "serve", "skeleton", e, "path too long");
	return 0;
}

static int read_tls(struct serve_conf *sc, ik_err *e)
{
	if (serve_tls_files(sc->cfg, sc->tls_cert, sizeof sc->tls_cert, sc->tls_key,
			    sizeof sc->tls_key, e) < 0)
		return -1;
	const char *cert;
	cfg_get_str(sc->cfg, "tls", "cert", NULL, "", &cert, e);
	sc->tls_self_signed = cert[0] == '\0';
	return 0;
}

/* What the runner owns, for each service's configure. */
static void service_ctx_for(struct serve_conf *sc, struct service_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->tls_cert = sc->tls_cert;
	ctx->tls_key = sc->tls_key;
	/* serve makes the self-signed pair on its first start; alone, a
	 * certificate made in memory stands in until then. */
	sc->tls_in_memory = sc->standalone && sc->tls_self_signed && access(sc->tls_cert, R_OK) != 0;
	if (sc->tls_in_memory)
		ctx->tls_cert = ctx->tls_key = "";
	ctx->state_dir = sc->state_dir;
	ctx->accounts = &sc->accounts;
}

static int read_services(struct serve_conf *sc, ik_err *e)
{
	struct service_ctx ctx;
	service_ctx_for(sc, &ctx);
	for (size_t i = 0; serve_registry[i] != NULL; i++) {
		const struct service_ops *ops = serve_registry[i];
		if (sc->nsvc == SERVE_MAX_SERVICES)
			return ik_err_set(e, "too many services (at most %d)", SERVE_MAX_SERVICES);
		struct serve_service *s = &sc->svc[sc->nsvc++];
		s->ops = ops;
		if (!cfg_has_section(sc->cfg, ops->section))
			continue;	/* absent: not run */
		s->conf = ops->configure(sc->cfg, ops->section, &ctx, &s->enabled, e);
		if (s->conf == NULL || acl_configure(sc->cfg, ops->section, &s->acl, e) < 0 ||
		    proxy_configure(sc->cfg, ops->section, &s->proxy, e) < 0)
			return -1;
	}
	return 0;
}

/* Read the file (or text), or (defaults != NULL) every section empty,
 * writing each key with its default to defaults. */
static struct serve_conf *load(const char *path, const char *text, bool standalone,
			       struct sbuf *defaults, ik_err *e)
{
	struct serve_conf *sc = calloc(1, sizeof *sc);
	if (sc == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	if (str_copy(sc->path, sizeof sc->path, path) < 0) {
		ik_err_set(e, "config path too long");
		free(sc);
		return NULL;
	}
	sc->standalone = standalone;
	if (text != NULL) {
		sc->text = strdup(text);
		sc->cfg = sc->text != NULL ? cfg_load_string(path, text, e) : NULL;
		if (sc->text == NULL)
			ik_err_set(e, "out of memory");
	} else if (defaults == NULL) {
		if (stat(path, &sc->file) < 0)
			memset(&sc->file, 0, sizeof sc->file);
		sc->cfg = cfg_load(path, e);
	} else {
		struct sbuf all = SBUF_INIT(16 * 1024);
		sbuf_printf(&all, "[serve]\n[tls]\n[accounts]\n");
		for (size_t i = 0; serve_registry[i] != NULL; i++)
			sbuf_printf(&all, "[%s]\n", serve_registry[i]->section);
		sc->cfg = cfg_load_string(path, sbuf_cstr(&all), e);
		sbuf_free(&all);
		if (sc->cfg != NULL)
			cfg_record_defaults(sc->cfg);
	}
	if (sc->cfg == NULL || read_serve(sc, e) < 0 || read_tls(sc, e) < 0 ||
	    account_policy_configure(sc->cfg, &sc->accounts, e) < 0 ||
	    read_services(sc, e) < 0 || cfg_check_unused(sc->cfg, e) < 0) {
		serve_conf_free(sc);
		return NULL;
	}
	if (defaults != NULL && cfg_write_defaults(sc->cfg, defaults) < 0) {
		ik_err_set(e, "out of memory");
		serve_conf_free(sc);
		return NULL;
	}
	return sc;
}

struct serve_conf *serve_conf_load(const char *path, const char *text, bool standalone,
				   ik_err *e)
{
	return load(path, text, standalone, NULL, e);
}

struct serve_conf *serve_conf_single(const struct service_ops *ops, void *conf, struct acl *acl,
				     uint64_t grace_ms, ik_err *e)
{
	struct serve_conf *sc = calloc(1, sizeof *sc);
	if (sc == NULL) {
		ops->free_conf(conf);
		acl_free(acl);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	sc->standalone = true;
	sc->log_level = log_get_level();
	sc->grace_ms = grace_ms;
	sc->svc[0] = (struct serve_service){.ops = ops, .conf = conf, .enabled = true, .acl = acl};
	sc->nsvc = 1;
	return sc;
}

int serve_conf_defaults(struct sbuf *out, ik_err *e)
{
	struct serve_conf *sc = load("(defaults)", NULL, false, out, e);
	if (sc == NULL)
		return -1;
	serve_conf_free(sc);
	return 0;
}

void serve_conf_free(struct serve_conf *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->nsvc; i++) {
		if (sc->svc[i].conf != NULL && sc->svc[i].ops->free_conf != NULL)
			sc->svc[i].ops->free_conf(sc->svc[i].conf);
		acl_free(sc->svc[i].acl);
		proxy_free(sc->svc[i].proxy);
	}
	cfg_free(sc->cfg);
	free(sc->text);
	free(sc);
}

bool serve_conf_changed(const struct serve_conf *sc)
{
	struct stat st;
	if (sc->text != NULL || sc->cfg == NULL || stat(sc->path, &st) < 0)
		return false;	/* gone: keep what we have */
	return st.st_ino != sc->file.st_ino || st.st_dev != sc->file.st_dev ||
	       st.st_size != sc->file.st_size ||
	       st.st_mtim.tv_sec != sc->file.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != sc->file.st_mtim.tv_nsec;
}

size_t serve_conf_enabled(const struct serve_conf *sc)
{
	size_t n = 0;
	for (size_t i = 0; i < sc->nsvc; i++)
		if (sc->svc[i].conf != NULL && sc->svc[i].enabled)
			n++;
	return n;
}
