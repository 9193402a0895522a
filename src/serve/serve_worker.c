/* One worker process of the runner (tools/runner.h), for serve and the
 * standalone servers alike: a loop running the services on the sockets
 * the supervisor bound. SIGTERM stops the services gracefully (a second
 * one, or the grace period, ends the loop); SIGHUP re-reads the config
 * and hands each service its new section, keeping sockets and
 * connections. An invalid new config is logged and the running one kept.
 * A worker restarted after a reload starts with the config the sockets
 * were bound for, then reloads the file as it is now. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/account.h"
#include "core/log.h"
#include "core/loop.h"
#include "lib/str.h"
#include "serve/runner.h"

#define MAX_OLD_CONFS 64

struct runner_worker {
	struct runner *r;
	struct serve_conf *conf;	/* in force */
	struct serve_conf *mine[MAX_OLD_CONFS];	/* read by this process, freed at exit */
	size_t nmine;
	struct loop *loop;
	struct listen_set *sets[SERVE_MAX_SERVICES];	/* this worker's; NULL: not bound */
	void *running[SERVE_MAX_SERVICES];
	struct service_ctx ctx[SERVE_MAX_SERVICES];
	struct account_auth *auth;
	size_t stopping;		/* services not yet stopped */
	bool stop_requested;
	struct event *grace;
	int index;
};

void *runner_running(struct runner_worker *w, size_t i) { return w->running[i]; }

int runner_reload_service(struct runner_worker *w, size_t i, void *new_conf, ik_err *e)
{
	const struct service_ops *ops = w->conf->svc[i].ops;
	if (ops->reload == NULL)
		return ik_err_set(e, "[%s] cannot reload", ops->section);
	return ops->reload(w->running[i], new_conf, e);
}

static void keep_conf(struct runner_worker *w, struct serve_conf *sc)
{
	if (w->nmine < MAX_OLD_CONFS) {
		w->mine[w->nmine++] = sc;
		return;
	}
	/* A running service may still point into any earlier config, so none
	 * is freed before exit; past this many reloads one is left to the
	 * process's end instead of being tracked. */
	log_event(LOG_NOTICE, "reload", "reason=\"%d reloads since start; a restart frees "
		  "their memory\"", MAX_OLD_CONFS);
}

/* Service i's allow/deny from sc (or the options') and its PROXY protocol
 * settings on its sockets. */
static void put_acl(struct runner_worker *w, const struct serve_conf *sc, size_t i)
{
	listen_set_acl(w->sets[i], w->r->o->acl != NULL ? w->r->o->acl : sc->svc[i].acl);
	listen_set_proxy(w->sets[i], sc->svc[i].proxy);
}

/* What a reload read, for its log lines. */
static void source_of(const struct serve_conf *sc, char *buf, size_t bufsz)
{
	if (sc->text != NULL)
		str_fmt(buf, bufsz, "cert=%s key=%s", sc->tls_cert, sc->tls_key);
	else
		str_fmt(buf, bufsz, "config=%s", sc->path);
}

static void log_reloaded(const struct runner_worker *w, const struct serve_conf *sc,
			 size_t applied)
{
	char what[2 * ACCOUNT_PATH_MAX + 16];
	source_of(sc, what, sizeof what);
	if (w->r->o->section != NULL)
		log_event(LOG_INFO, "reloaded", "%s service=%s", what, w->r->o->section);
	else
		log_event(LOG_INFO, "reloaded", "%s services=%zu", what, applied);
}

/* One service's own reload is the whole reload's outcome there. */
static void log_reload_failed(const struct runner_worker *w, const struct serve_conf *sc,
			      const char *why)
{
	char what[2 * ACCOUNT_PATH_MAX + 16], q[IK_ERR_MAX + 8];
	source_of(sc, what, sizeof what);
	log_event(w->r->o->section != NULL ? LOG_WARNING : LOG_ERR, "reload_failed",
		  "%s reason=%s keeping=old", what, log_quote(q, sizeof q, why));
}

/* Make sc the config in force: services get their new sections. -1 with
 * e set when the one service of a standalone server refused it. */
static int apply_conf(struct runner_worker *w, struct serve_conf *sc, size_t *applied, ik_err *e)
{
	struct serve_conf *old = w->conf;
	*applied = 0;
	for (size_t i = 0; i < sc->nsvc && i < old->nsvc; i++) {
		const struct service_ops *ops = sc->svc[i].ops;
		bool now_on = runner_selected(w->r, sc, i);
		if (w->running[i] == NULL) {
			if (now_on)
				log_event(LOG_WARNING, "reload", "service=%s reason=\"newly enabled: "
					  "restart serve to start it\"", ops->section);
			continue;
		}
		if (!now_on) {
			log_event(LOG_WARNING, "reload", "service=%s reason=\"disabled in the new "
				  "config: restart serve to stop it\"", ops->section);
			continue;
		}
		if (ops->reload == NULL) {
			log_event(LOG_WARNING, "reload", "service=%s reason=\"cannot reload: "
				  "restart serve to apply its new settings\"", ops->section);
			continue;
		}
		ik_err se = {""};
		if (ops->reload(w->running[i], sc->svc[i].conf, &se) < 0) {
			if (w->r->o->section != NULL)
				return ik_err_set(e, "%s", se.msg);
			char why[IK_ERR_MAX + 8];
			log_event(LOG_ERR, "reload_failed", "service=%s reason=%s", ops->section,
				  log_quote(why, sizeof why, se.msg));
			continue;
		}
		put_acl(w, sc, i);
		(*applied)++;
	}
	log_set_level(sc->log_level);
	if (w->auth != NULL)
		account_auth_set_policy(w->auth, &sc->accounts);
	w->conf = sc;
	return 0;
}

/* The config again, checked whole, then handed to the services. */
static void reload_config(struct runner_worker *w)
{
	const struct runner_opts *o = w->r->o;
	struct serve_conf *cur = w->conf;
	/* Options, unlike a file, do not change: only certificate files can. */
	if (cur->text != NULL && cur->tls_in_memory) {
		log_event(LOG_NOTICE, "reload", "service=%s reason=\"nothing to reload: no --config "
			  "file and no --cert file\"", o->section != NULL ? o->section : "all");
		return;
	}
	ik_err e = {""};
	struct serve_conf *sc = runner_load(o, cur->path, cur->text, &e);
	if (sc != NULL && serve_tls_prepare(sc, false, (unsigned)-1, (unsigned)-1, &e) < 0) {
		serve_conf_free(sc);
		sc = NULL;
	}
	if (sc == NULL) {
		log_reload_failed(w, cur, e.msg);
		return;
	}
	size_t applied;
	if (apply_conf(w, sc, &applied, &e) < 0) {
		log_reload_failed(w, cur, e.msg);
		serve_conf_free(sc);
		return;
	}
	keep_conf(w, sc);
	log_reloaded(w, sc, applied);
}

static void on_reload(struct loop *l, int sig, void *arg)
{
	(void)l;
	(void)sig;
	struct runner_worker *w = arg;
	if (w->r->o->reload != NULL)
		w->r->o->reload(w, w->r->o->reload_arg);
	else
		reload_config(w);
}

static void on_service_stopped(void *arg)
{
	struct runner_worker *w = arg;
	if (w->stopping > 0 && --w->stopping == 0)
		loop_exit(w->loop);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct runner_worker *w = arg;
	log_event(LOG_WARNING, "stop", "index=%d reason=\"grace period over: closing the rest\"",
		  w->index);
	loop_exit(w->loop);
}

static void on_stop(struct loop *l, int sig, void *arg)
{
	struct runner_worker *w = arg;
	if (w->stop_requested) {
		loop_exit(l);	/* a second signal: now */
		return;
	}
	w->stop_requested = true;
	uint64_t grace = w->r->o->grace_ms > 0 ? w->r->o->grace_ms : w->conf->grace_ms;
	log_event(LOG_INFO, "stop", "index=%d signal=%d grace_ms=%llu", w->index, sig,
		  (unsigned long long)grace);
	/* Count first: a service with no sessions may report done at once. */
	size_t n = 0;
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++)
		if (w->running[i] != NULL)
			n++;
	w->stopping = n + 1;
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++)
		if (w->running[i] != NULL)
			w->conf->svc[i].ops->stop(w->running[i], on_service_stopped, w);
	w->grace = loop_timer(l, grace, false, on_grace_over, w);
	on_service_stopped(w);	/* the +1 above */
}

static int start_services(struct runner_worker *w)
{
	ik_err e = {""};
	char why[IK_ERR_MAX + 8];
	if (w->r->accounts) {
		w->auth = account_auth_new(w->loop, &w->conf->accounts, &e);
		if (w->auth == NULL) {
			log_event(LOG_ERR, "accounts", "reason=%s", log_quote(why, sizeof why, e.msg));
			return -1;
		}
	}
	for (size_t i = 0; i < w->conf->nsvc; i++) {
		struct serve_service *s = &w->conf->svc[i];
		if (w->sets[i] == NULL || !runner_selected(w->r, w->conf, i))
			continue;
		put_acl(w, w->conf, i);
		w->ctx[i] = (struct service_ctx){
			.tls_cert = w->conf->tls_cert,
			.tls_key = w->conf->tls_key,
			.state_dir = w->conf->state_dir,
			.accounts = &w->conf->accounts,
			.restart = w->r->o->restart != NULL ? w->r->o->restart : "serve",
			.auth = w->auth,
			.shared = w->r->shared[i],
		};
		w->running[i] = s->ops->start(s->conf, w->loop, w->sets[i], &w->ctx[i], &e);
		if (w->running[i] == NULL) {
			log_event(LOG_ERR, "service_start_failed", "service=%s reason=%s",
				  s->ops->section, log_quote(why, sizeof why, e.msg));
			return -1;
		}
	}
	return 0;
}

int runner_worker_main(int index, void *arg)
{
	struct runner_worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return 1;
	w->r = arg;
	w->conf = w->r->conf;
	w->index = index;
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++)
		if (w->r->ws[i].n > 0)
			w->sets[i] = worker_sets_take(&w->r->ws[i], index);
	ik_err e = {""};
	int rc = 0;
	w->loop = loop_new(&e);
	if (w->loop == NULL) {
		log_event(LOG_ERR, "worker", "reason=\"%s\"", e.msg);
		free(w);
		return 1;
	}
	loop_on_stop(w->loop, on_stop, w);
	if (w->r->o->reload != NULL || w->conf->cfg != NULL)
		loop_on_reload(w->loop, on_reload, w);
	if (start_services(w) < 0) {
		rc = 1;
	} else {
		/* Restarted after a reload: the file as the others read it, in
		 * force the way a reload puts it (the bound sockets stay). */
		if (serve_conf_changed(w->conf))
			reload_config(w);
		log_event(LOG_INFO, "worker_ready", "index=%d pid=%d services=%zu", index,
			  (int)getpid(), runner_count(w->r, w->conf));
		loop_run(w->loop);
	}
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++) {
		if (w->running[i] == NULL)
			continue;
		const struct service_ops *ops = w->conf->svc[i].ops;
		if (ops->status != NULL && ops->status(w->running[i]) > rc)
			rc = ops->status(w->running[i]);
		ops->free_running(w->running[i]);
	}
	if (w->grace != NULL)
		event_free(w->grace);
	account_auth_free(w->auth);
	loop_free(w->loop);
	for (size_t i = 0; i < w->nmine; i++)
		serve_conf_free(w->mine[i]);
	free(w);
	return rc;
}
