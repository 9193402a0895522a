/* A service is what the runner (src/serve/runner.h) runs from a config
 * section: every service of the file for `inetkit serve`, one for a
 * standalone server (`inetkit ftpd`, `inetkit tcp listen`). Life cycle,
 * in this order:
 *   configure  read EVERY key of the section (cfg getters), validate; runs
 *              for every service section present, enabled or not, so that
 *              unknown keys are reported (core/config.h). What the runner
 *              owns ([tls], the state directory, [accounts]) comes in ctx,
 *              never from a call back into the runner
 *   check      optional, before bind: the files and directories the service
 *              will open as the service user exist and that user can use
 *              them, so that a mistake stops the start once, not every worker
 *   bind       open listening sockets into set; runs as root, before the
 *              supervisor drops privileges and forks workers; a file made
 *              here for later is made with fs_open_append (core/fsutil.h)
 *   start      in each worker process: serve on the loop with those sockets
 *   stop       graceful: stop accepting, let sessions finish; call
 *              done(done_arg) when the last one has ended
 *   reload     optional: new config (same sockets), e.g. certificates
 * Each service module exports one `const struct service_ops` and the
 * registry in src/serve/serve_registry.c lists them. A session server
 * (core/server.h) starts a struct server, and its stop and free_running
 * are server_service_stop and server_service_free.
 *
 * Every service section also has `allow` and `deny` (core/acl.h), which
 * the runner reads itself and puts on the service's listen_set (set->acl,
 * new lists at each successful reload). A service that accepts through
 * core/listener is covered without a line of its own; one that reads
 * datagrams calls acl_refuse(set->acl, ...) for each. */
#ifndef INETKIT_CORE_SERVICE_H
#define INETKIT_CORE_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "lib/error.h"
#include "core/listener.h"
#include "core/loop.h"
#include "lib/sbuf.h"

struct account_auth;
struct account_policy;
struct server_endpoint;
struct shmcount;

/* What the runner hands a service. configure sees the first part; start
 * sees all of it, and may keep the pointer: it lives as long as the
 * worker. */
struct service_ctx {
	/* [tls]: the certificate chain and key files; "" for both: no file
	 * yet, make a self-signed certificate in memory at start. */
	const char *tls_cert, *tls_key;
	const char *state_dir;			/* [serve] state_dir */
	const struct account_policy *accounts;	/* [accounts] */
	/* For start, in each worker: */
	const char *restart;	/* what to restart to apply what a reload cannot:
				 * "serve", "inetkit ftpd" */
	struct account_auth *auth;	/* logins; NULL: no accounts database */
	struct shmcount *shared;	/* service_ops.shared_limits: the workers' counts */
};

struct service_ops {
	const char *section;	/* config section name, e.g. "tcp-echo" */
	const char *summary;	/* one line for --help and the banner */
	/* Session limits counted across the workers: the runner makes the
	 * shared table (core/shmcount.h) before it forks, ctx->shared. */
	bool shared_limits;
	/* Returns the service's parsed config, or NULL with e set. *enabled
	 * says whether the section's `enabled` key (default yes) is on. */
	void *(*configure)(struct cfg *c, const char *section, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e);
	/* May be NULL. user, uid/gid: the service user ((unsigned)-1 when not
	 * started as root: this process's user); errors name c's file, line
	 * and key, the user and the fix. */
	int (*check)(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e);
	int (*bind)(void *conf, struct listen_set *set, ik_err *e);
	void *(*start)(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e);
	void (*stop)(void *running, void (*done)(void *done_arg), void *done_arg);
	/* May be NULL. Succeeding, it switches to new_conf; failing (-1, e
	 * set), it keeps the old. */
	int (*reload)(void *running, void *new_conf, ik_err *e);
	void (*free_running)(void *running);
	void (*free_conf)(void *conf);
	/* The start-up banner's line for one of its sockets (core/server.h):
	 * the endpoint and a way to try it, e.g.
	 * "tcp echo  127.0.0.1:2007   try: inetkit tcp connect 127.0.0.1 2007". */
	void (*describe)(void *conf, const struct server_endpoint *ep, struct sbuf *out);
	/* May be NULL: the exit status of a worker whose service ended by
	 * itself (a one-shot transfer that failed: 1). */
	int (*status)(void *running);
};

#endif
