/* The runner's start-up: the config, the service user and the state
 * directory, binding as root, the privilege drop, then the workers
 * (tools/runner.h). No RFC of its own; each service names its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/account_store.h"
#include "core/acl.h"
#include "core/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/server_cli.h"
#include "core/shmcount.h"
#include "core/workers.h"
#include "lib/str.h"
#include "serve/runner.h"

static const char *cmd_of(const struct runner_opts *o) { return o->cmd != NULL ? o->cmd : "serve"; }

static bool selected(const struct runner_opts *o, const struct serve_conf *sc, size_t i)
{
	const struct serve_service *s = &sc->svc[i];
	if (s->conf == NULL)
		return false;
	return o->section != NULL ? strcmp(s->ops->section, o->section) == 0 : s->enabled;
}

bool runner_selected(const struct runner *r, const struct serve_conf *sc, size_t i)
{
	return selected(r->o, sc, i);
}

size_t runner_count(const struct runner *r, const struct serve_conf *sc)
{
	size_t n = 0;
	for (size_t i = 0; i < sc->nsvc; i++)
		n += runner_selected(r, sc, i);
	return n;
}

struct serve_conf *runner_load(const struct runner_opts *o, const char *path, const char *text,
			       ik_err *e)
{
	struct serve_conf *sc = serve_conf_load(path, text, o->standalone, e);
	if (sc == NULL || o->section == NULL)
		return sc;
	for (size_t i = 0; i < sc->nsvc; i++)
		if (selected(o, sc, i))
			return sc;
	ik_err_set(e, "%s has no [%s] section; add one (see %s)", sc->path, o->section,
		   o->manual != NULL ? o->manual : "inetkit.conf(5)");
	serve_conf_free(sc);
	return NULL;
}

/* [serve] user, and whether it can reach what the services will use. */
static int user_check(struct runner *r, unsigned *uid, unsigned *gid, ik_err *e)
{
	struct serve_conf *sc = r->conf;
	if (serve_user_lookup(sc->cfg, sc->user, uid, gid, e) < 0)
		return -1;
	if (!r->o->standalone)
		return serve_state_check(sc->cfg, sc->state_dir, sc->accounts.db_path, true, sc->user,
					 *uid, *gid, e);
	if (r->accounts)
		return serve_state_check(sc->cfg, sc->state_dir, sc->accounts.db_path, false,
					 sc->user, *uid, *gid, e);
	return 0;
}

static int bind_one(struct runner *r, size_t i, ik_err *e)
{
	struct serve_service *s = &r->conf->svc[i];
	struct worker_sets *ws = &r->ws[i];
	ws->sets = calloc(1, sizeof *ws->sets);
	if (ws->sets == NULL)
		return ik_err_set(e, "out of memory");
	ws->n = 1;	/* every worker inherits these sockets */
	if (s->ops->bind(s->conf, &ws->sets[0], e) < 0)
		return -1;
	for (size_t k = 0; k < ws->sets[0].n; k++)
		log_event(LOG_INFO, "listen", "service=%s addr=%s proto=%s", s->ops->section,
			  ws->sets[0].ep[k].text, ws->sets[0].socktype[k] == SOCK_DGRAM ? "udp" : "tcp");
	/* Before the fork, so that every worker shares them. */
	if (s->ops->shared_limits &&
	    (r->shared[i] = shmcount_new(SHMCOUNT_SLOTS, SHMCOUNT_COLS, e)) == NULL)
		return -1;
	return 0;
}

/* Everything that needs root, in order; then drop it. */
static int start(struct runner *r)
{
	struct serve_conf *sc = r->conf;
	const char *cmd = cmd_of(r->o);
	ik_err e;
	unsigned uid, gid;
	if (user_check(r, &uid, &gid, &e) < 0)
		return cli_error(cmd, CLI_USAGE, "%s", e.msg);
	if (!r->o->standalone && serve_state_prepare(sc, uid, gid, &e) < 0)
		return cli_error(cmd, CLI_FAIL, "%s", e.msg);
	/* After the skeleton is copied: it may hold what a service needs. */
	for (size_t i = 0; i < sc->nsvc; i++) {
		struct serve_service *s = &sc->svc[i];
		if (selected(r->o, sc, i) && s->ops->check != NULL &&
		    s->ops->check(s->conf, sc->cfg, sc->user, uid, gid, &e) < 0)
			return cli_error(cmd, CLI_USAGE, "%s", e.msg);
	}
	if (serve_tls_prepare(sc, !r->o->standalone, uid, gid, &e) < 0)
		return cli_error(cmd, CLI_FAIL, "%s", e.msg);
	/* What the services open from here on is given to the user. */
	fs_set_service_user(uid, gid);
	for (size_t i = 0; i < sc->nsvc; i++) {
		if (!selected(r->o, sc, i) || bind_one(r, i, &e) == 0)
			continue;
		if (r->o->section != NULL)
			return cli_error(cmd, CLI_FAIL, "%s", e.msg);
		return cli_error(cmd, CLI_FAIL, "[%s]: %s", sc->svc[i].ops->section, e.msg);
	}
	if (serve_drop_privileges(sc->user, uid, gid, &e) < 0)
		return cli_error(cmd, CLI_FAIL, "%s", e.msg);
	return 0;
}

int runner_start(struct runner *r)
{
	struct serve_conf *sc = r->conf;
	const char *cmd = cmd_of(r->o);
	ik_err e;
	if (log_open(sc->log_target, r->o->log_ident != NULL ? r->o->log_ident : "inetkit",
		     &e) < 0)
		return cli_error(cmd, CLI_USAGE, "%s", e.msg);
	log_set_level(sc->log_level);
	/* Before the workers fork: they all count into one table. */
	if (metrics_init(&e) < 0)
		return cli_error(cmd, CLI_FAIL, "%s", e.msg);
	r->accounts = !r->o->standalone || account_store_is_url(sc->accounts.db_path) ||
		      access(sc->accounts.db_path, F_OK) == 0;
	int rc = start(r);
	if (rc != 0)
		return rc;
	workers_hold_signals();
	if (!r->accounts)
		log_event(LOG_NOTICE, "accounts", "db=%s reason=\"no accounts database: only "
			  "anonymous logins\"", sc->accounts.db_path);
	return 0;
}

int runner_run(struct runner *r)
{
	int rc = runner_start(r);
	return rc != 0 ? rc : runner_workers(r);
}

int runner_standalone(const struct runner_opts *o, const char *config, const char *text,
		      bool check)
{
	struct runner r = {.o = o};
	ik_err e = {""};
	int rc = 0;
	if (config != NULL) {
		r.conf = runner_load(o, config, NULL, &e);
	} else {
		char name[96];
		str_fmt(name, sizeof name, "(%s options)", o->restart);
		r.conf = runner_load(o, name, text, &e);
	}
	if (r.conf == NULL)
		rc = cli_error(cmd_of(o), CLI_USAGE, "%s", e.msg);
	else if (check)
		printf("%s: valid\n", r.conf->path);
	else
		rc = runner_run(&r);
	runner_close(&r);
	return rc;
}

int runner_server_cli(const struct server_cli *d, int argc, char **argv)
{
	struct server_cli_args a;
	int rc = server_cli_parse(d, argc, argv, &a);
	if (rc != 0) {
		server_cli_args_free(&a);
		return rc < 0 ? cli_help(d->help) : rc;
	}
	/* Static: syslog keeps the ident for the life of the process. */
	static char restart[64], manual[64], ident[64];
	str_fmt(restart, sizeof restart, "inetkit %s", d->cmd);
	str_fmt(manual, sizeof manual, "inetkit-%s(8)", d->cmd);
	str_fmt(ident, sizeof ident, "inetkit-%s", d->cmd);
	/* Quick options: [serve] workers is theirs to give, 0 unless --workers. */
	struct runner_opts ro = {
		.cmd = d->cmd,
		.restart = restart,
		.section = d->section,
		.manual = manual,
		.standalone = true,
		.grace_ms = d->grace_ms,
		.workers_set = a.workers_set || a.config == NULL,
		.workers = (unsigned)a.workers,
		.acl = a.acl,
		.log_ident = ident,
	};
	rc = runner_standalone(&ro, a.config, sbuf_cstr(&a.text), a.check);
	server_cli_args_free(&a);
	return rc;
}

int runner_workers(struct runner *r)
{
	struct serve_conf *sc = r->conf;
	uint64_t grace = r->o->grace_ms > 0 ? r->o->grace_ms : sc->grace_ms;
	struct workers_opts wo = {
		.count = r->o->workers_set ? r->o->workers : sc->workers,
		.grace_ms = grace + 1000,	/* the workers get grace first */
		.name = cmd_of(r->o),
	};
	ik_err e;
	int code = workers_run(&wo, runner_worker_main, r, &e);
	if (code < 0)
		return cli_error(cmd_of(r->o), CLI_FAIL, "%s", e.msg);
	return code == 0 ? CLI_OK : CLI_FAIL;
}

int runner_listen(const struct runner_opts *o, const struct service_ops *ops, void *conf,
		  struct acl *acl, char *const *specs, size_t nspecs, int socktype,
		  void (*bound)(void *conf, const struct listen_set *set, unsigned workers))
{
	struct runner r = {.o = o};
	ik_err e;
	int rc;
	r.conf = serve_conf_single(ops, conf, acl, o->grace_ms, &e);
	if (r.conf == NULL) {
		rc = cli_error(cmd_of(o), CLI_FAIL, "%s", e.msg);
	} else if (worker_sets_bind(&r.ws[0], (const char *const *)specs, nspecs, socktype,
				    o->workers, &e) < 0) {
		rc = cli_error(cmd_of(o), CLI_USAGE, "%s", e.msg);
	} else {
		workers_hold_signals();
		if (bound != NULL)
			bound(conf, &r.ws[0].sets[0], o->workers);
		rc = runner_workers(&r);
	}
	runner_close(&r);
	return rc;
}

void runner_close(struct runner *r)
{
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++) {
		worker_sets_close(&r->ws[i]);
		shmcount_free(r->shared[i]);
		r->shared[i] = NULL;
	}
	serve_conf_free(r->conf);
	r->conf = NULL;
}
