/* The one runner of every server: `inetkit serve` runs every enabled
 * service of a config file with it; `inetkit ftpd` (and later smtpd,
 * pop3d, imapd) is serve with one section; `inetkit tcp listen` and
 * `udp listen` run their service, configured from their options, with
 * the same workers, stop and reload. A service is a struct service_ops
 * (core/service.h); the runner owns everything around it. No RFC of its
 * own: each service names its own.
 *
 * Use (serve.c and ftpd.c are the examples):
 *
 *   struct runner_opts o = {.cmd = "ftpd", .section = "ftp", ...};
 *   struct runner r = {.o = &o};
 *   r.conf = runner_load(&o, path, text, &e);    the config, checked whole
 *   rc = runner_run(&r);                         start-up, then workers
 *   runner_close(&r);                            sockets, counts, conf
 * (serve calls runner_start and runner_workers itself, to print its
 * banner in between.)
 *
 * runner_load reads a config file, or text made from options (path then
 * names it in messages: "(inetkit ftpd options):4: ..."): [serve],
 * [tls], [accounts] and every service section, unknown keys refused.
 * Each service's configure gets the [tls] files, state directory and
 * [accounts] settings in a struct service_ctx; services never call back
 * into the runner.
 *
 * runner_run: start-up in the order that keeps privileges short-lived,
 *   1. the log ([serve] log, log_level; syslog ident o->log_ident);
 *   2. [serve] user looked up (as root) and its reach of state_dir;
 *   3. serve (o->standalone false) makes the state directory (skeleton,
 *      accounts.db) and the self-signed [tls] pair; a standalone server
 *      makes nothing and uses what is there: without accounts.db only
 *      anonymous logins work (logged once), without the pair a
 *      certificate is made in memory;
 *   4. each service's check, then its bind, as root; a service with
 *      shared_limits gets its session counts table (core/shmcount.h);
 *   5. privileges dropped to [serve] user;
 * then runner_workers.
 *
 * runner_workers: [serve] workers processes (o->workers when
 * o->workers_set; 0 runs in this process) through core/workers, each
 * running the services on its loop (serve_worker.c):
 *   - each service's start gets a service_ctx with the accounts (auth),
 *     its shared counts and o->restart;
 *   - SIGTERM/SIGINT: every service stops gracefully; what is still open
 *     after the grace period ([serve] grace, or o->grace_ms) is closed; a
 *     second signal ends the worker at once;
 *   - SIGHUP: o->reload when set; else the config is read again (file
 *     or text) and checked whole, then every service gets its new section
 *     (service_ops.reload) and its new allow/deny; a config that does not
 *     load is logged and the running one kept. With o->section a reload
 *     that the service refuses is the reload's failure;
 *   - a worker restarted after a reload reads the file as it is now.
 * Log lines: listen, worker_ready, stop, reloaded, reload_failed (see
 * docs/inetkit-serve.1). The exit status is 0 after a stop, 1 when a
 * worker failed, or a service's status() (a one-shot transfer). */
#ifndef INETKIT_SERVE_RUNNER_H
#define INETKIT_SERVE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "core/listener.h"
#include "serve/serve.h"

struct acl;
struct runner_worker;

struct runner_opts {
	const char *cmd;	/* "serve", "ftpd", "tcp": errors, workers' log name */
	const char *restart;	/* what a user restarts: "serve", "inetkit ftpd" */
	const char *section;	/* NULL: every enabled service; else this one alone */
	const char *manual;	/* with section: where it is described, "inetkit-ftpd(8)" */
	bool standalone;	/* make nothing: use the state directory, accounts.db
				 * and [tls] pair if there (see above) */
	uint64_t grace_ms;	/* stop: time for sessions to end; 0: [serve] grace */
	bool workers_set;	/* workers overrides [serve] workers */
	unsigned workers;
	/* The section's allow/deny from options, kept across reloads (not
	 * owned); NULL: the config's. */
	struct acl *acl;
	const char *log_ident;	/* syslog ident, "inetkit" */
	/* SIGHUP in a worker; NULL: read the config again. */
	void (*reload)(struct runner_worker *w, void *arg);
	void *reload_arg;
};

struct runner {
	const struct runner_opts *o;
	struct serve_conf *conf;	/* the config at start */
	/* Per service (serve_conf's index): its sockets, one set for every
	 * worker (bound by runner_run) or one set each (worker_sets_bind
	 * with SO_REUSEPORT, by tcp/udp listen before runner_workers). */
	struct worker_sets ws[SERVE_MAX_SERVICES];
	struct shmcount *shared[SERVE_MAX_SERVICES];
	bool accounts;			/* there is an accounts database */
};

/* The config of o (see above): the file path, or text named path. With
 * o->section, a config without that section is an error naming
 * o->manual. NULL with e set. */
struct serve_conf *runner_load(const struct runner_opts *o, const char *path, const char *text,
			       ik_err *e);
/* Whether service i runs: with o->section that one (enabled or not),
 * else every enabled one. */
bool runner_selected(const struct runner *r, const struct serve_conf *sc, size_t i);
size_t runner_count(const struct runner *r, const struct serve_conf *sc);
/* Start-up (above): 0, or the exit status after the message (CLI_USAGE
 * for a config it finds wrong, CLI_FAIL for what could not be done). */
int runner_start(struct runner *r);
/* runner_start, then runner_workers; the exit status. */
int runner_run(struct runner *r);
/* A standalone server's whole run (`inetkit ftpd`, `inetkit smtpd`): the
 * config file config, or (config NULL) the INI text its quick options
 * made, named "(<o->restart> options)" in messages; with check, "PATH:
 * valid" on standard output, else runner_run. The exit status (CLI_USAGE
 * for a config that does not load). */
int runner_standalone(const struct runner_opts *o, const char *config, const char *text,
		      bool check);
/* `inetkit ftpd`, `smtpd`, `pop3d`, `imapd`: d's command line
 * (core/server_cli.h) made into runner_standalone's config, file or
 * text, with d's names ("inetkit pop3d", "inetkit-pop3d(8)", syslog ident
 * "inetkit-pop3d"). The exit status. */
struct server_cli;
int runner_server_cli(const struct server_cli *d, int argc, char **argv);
/* The workers on r->ws: what runner_run does after start-up, and what
 * tcp/udp listen call with sockets they bound. The exit status. */
int runner_workers(struct runner *r);
/* `tcp listen`, `udp listen`: run ops with conf made from options (conf
 * and acl are taken, also on failure), every one of o->workers processes
 * on its own SO_REUSEPORT sockets bound from specs (one set in this
 * process with 0 workers). bound(conf, set, workers) runs once, with the sockets
 * of the first worker, before the workers start (its listen log lines).
 * The exit status: CLI_USAGE when an address cannot be bound. */
int runner_listen(const struct runner_opts *o, const struct service_ops *ops, void *conf,
		  struct acl *acl, char *const *specs, size_t nspecs, int socktype,
		  void (*bound)(void *conf, const struct listen_set *set, unsigned workers));
/* Sockets (unix:PATH files removed), shared counts and r->conf. */
void runner_close(struct runner *r);

/* For an o->reload hook, in a worker: service i's running object, and
 * its reload (service_ops.reload). */
void *runner_running(struct runner_worker *w, size_t i);
int runner_reload_service(struct runner_worker *w, size_t i, void *new_conf, ik_err *e);

/* The worker process (serve_worker.c): core/workers' worker_main, arg
 * the struct runner. */
int runner_worker_main(int index, void *arg);

#endif
