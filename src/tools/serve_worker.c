/* One worker process of `serve`: a loop running every enabled service on
 * the sockets the supervisor bound. SIGTERM stops the services gracefully
 * (a second one, or the grace period, ends the loop); SIGHUP re-reads the
 * config file and hands each service its new section, keeping sockets and
 * connections. An invalid new file is logged and the running config kept. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/account.h"
#include "core/log.h"
#include "core/loop.h"
#include "tools/serve.h"

#define MAX_OLD_CONFS 64

struct worker {
	struct serve_ctx *ctx;
	struct serve_conf *conf;	/* in force */
	struct serve_conf *mine[MAX_OLD_CONFS];	/* read by this process, freed at exit */
	size_t nmine;
	struct loop *loop;
	void *running[SERVE_MAX_SERVICES];
	struct account_auth *auth;
	size_t stopping;		/* services not yet stopped */
	bool stop_requested;
	struct event *grace;
	int index;
};

static void keep_conf(struct worker *w, struct serve_conf *sc)
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

/* Service i's allow/deny from sc on its sockets. */
static void put_acl(struct worker *w, const struct serve_conf *sc, size_t i)
{
	listen_set_acl(&w->ctx->sets[i], sc->svc[i].acl);
}

/* Make sc the config in force: services get their new sections. */
static void apply_conf(struct worker *w, struct serve_conf *sc)
{
	struct serve_conf *old = w->conf;
	size_t applied = 0;
	for (size_t i = 0; i < sc->nsvc && i < old->nsvc; i++) {
		const struct service_ops *ops = sc->svc[i].ops;
		bool now_on = sc->svc[i].conf != NULL && sc->svc[i].enabled;
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
		ik_err e = {""};
		if (ops->reload(w->running[i], sc->svc[i].conf, &e) < 0) {
			char why[IK_ERR_MAX + 8];
			log_event(LOG_ERR, "reload_failed", "service=%s reason=%s", ops->section,
				  log_quote(why, sizeof why, e.msg));
			continue;
		}
		put_acl(w, sc, i);
		applied++;
	}
	log_set_level(sc->log_level);
	if (w->auth != NULL)
		account_auth_set_policy(w->auth, &sc->accounts);
	w->conf = sc;
	log_event(LOG_INFO, "reloaded", "config=%s services=%zu", sc->path, applied);
}

static void on_reload(struct loop *l, int sig, void *arg)
{
	(void)l;
	(void)sig;
	struct worker *w = arg;
	ik_err e = {""};
	struct serve_conf *sc = serve_conf_load(w->conf->path, &e);
	if (sc != NULL && serve_tls_prepare(sc, false, (unsigned)-1, (unsigned)-1, &e) < 0) {
		serve_conf_free(sc);
		sc = NULL;
	}
	if (sc == NULL) {
		char why[IK_ERR_MAX + 8];
		log_event(LOG_ERR, "reload_failed", "config=%s reason=%s keeping=old", w->conf->path,
			  log_quote(why, sizeof why, e.msg));
		return;
	}
	keep_conf(w, sc);
	apply_conf(w, sc);
}

static void on_service_stopped(void *arg)
{
	struct worker *w = arg;
	if (w->stopping > 0 && --w->stopping == 0)
		loop_exit(w->loop);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *w = arg;
	log_event(LOG_WARNING, "stop", "index=%d reason=\"grace period over: closing the rest\"",
		  w->index);
	loop_exit(w->loop);
}

static void on_stop(struct loop *l, int sig, void *arg)
{
	struct worker *w = arg;
	if (w->stop_requested) {
		loop_exit(l);	/* a second signal: now */
		return;
	}
	w->stop_requested = true;
	log_event(LOG_INFO, "stop", "index=%d signal=%d grace_ms=%llu", w->index, sig,
		  (unsigned long long)w->conf->grace_ms);
	/* Count first: a service with no sessions may report done at once. */
	size_t n = 0;
	for (size_t i = 0; i < w->conf->nsvc; i++)
		if (w->running[i] != NULL)
			n++;
	w->stopping = n + 1;
	for (size_t i = 0; i < w->conf->nsvc; i++)
		if (w->running[i] != NULL)
			w->conf->svc[i].ops->stop(w->running[i], on_service_stopped, w);
	w->grace = loop_timer(l, w->conf->grace_ms, false, on_grace_over, w);
	on_service_stopped(w);	/* the +1 above */
}

/* A restarted worker reads a config file changed since the supervisor
 * read it (a reload happened meanwhile), so that it agrees with the
 * workers that reloaded. */
static void catch_up(struct worker *w)
{
	if (!serve_conf_changed(w->conf))
		return;
	ik_err e = {""};
	struct serve_conf *sc = serve_conf_load(w->conf->path, &e);
	if (sc == NULL) {
		char why[IK_ERR_MAX + 8];
		log_event(LOG_WARNING, "config_changed", "config=%s reason=%s keeping=old",
			  w->conf->path, log_quote(why, sizeof why, e.msg));
		return;
	}
	keep_conf(w, sc);
	/* Nothing runs yet: take the new sections as they are. */
	w->conf = sc;
	log_set_level(sc->log_level);
}

static int start_services(struct worker *w)
{
	ik_err e = {""};
	w->auth = account_auth_new(w->loop, &w->conf->accounts, &e);
	if (w->auth == NULL) {
		char why[IK_ERR_MAX + 8];
		log_event(LOG_ERR, "accounts", "reason=%s", log_quote(why, sizeof why, e.msg));
		return -1;
	}
	account_auth_set_current(w->auth);
	for (size_t i = 0; i < w->conf->nsvc; i++) {
		struct serve_service *s = &w->conf->svc[i];
		if (s->conf == NULL || !s->enabled)
			continue;
		put_acl(w, w->conf, i);
		w->running[i] = s->ops->start(s->conf, w->loop, &w->ctx->sets[i], &e);
		if (w->running[i] == NULL) {
			char why[IK_ERR_MAX + 8];
			log_event(LOG_ERR, "service_start_failed", "service=%s reason=%s",
				  s->ops->section, log_quote(why, sizeof why, e.msg));
			return -1;
		}
	}
	return 0;
}

int serve_worker_main(int index, void *arg)
{
	struct worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return 1;
	w->ctx = arg;
	w->conf = w->ctx->conf;
	w->index = index;
	catch_up(w);
	ik_err e = {""};
	int rc = 0;
	w->loop = loop_new(&e);
	if (w->loop == NULL) {
		log_event(LOG_ERR, "worker", "reason=\"%s\"", e.msg);
		free(w);
		return 1;
	}
	loop_on_stop(w->loop, on_stop, w);
	loop_on_reload(w->loop, on_reload, w);
	if (start_services(w) < 0) {
		rc = 1;
	} else {
		log_event(LOG_INFO, "worker_ready", "index=%d pid=%d services=%zu", index,
			  (int)getpid(), serve_conf_enabled(w->conf));
		loop_run(w->loop);
	}
	for (size_t i = 0; i < SERVE_MAX_SERVICES; i++)
		if (w->running[i] != NULL)
			w->conf->svc[i].ops->free_running(w->running[i]);
	if (w->grace != NULL)
		event_free(w->grace);
	account_auth_free(w->auth);
	loop_free(w->loop);
	for (size_t i = 0; i < w->nmine; i++)
		serve_conf_free(w->mine[i]);
	free(w);
	return rc;
}
