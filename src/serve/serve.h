/* `inetkit serve`: every service of the config file in one supervised
 * process tree, on the runner (tools/runner.h) that the standalone
 * servers share (core/service.h is the contract each service follows).
 *
 *   serve.c          command line, --check, banner
 *   runner.c         start-up order, bind, privilege drop, workers
 *   serve_worker.c   a worker process: loop, services, stop, reload
 *   serve_conf.c     the whole config: [serve], [tls], [accounts], services
 *   serve_state.c    the state directory, its skeleton, privilege drop
 *   serve_tls.c      [tls] files, and the self-signed pair made on first start
 *   serve_registry.c the services serve knows
 *
 * Ownership of service configs: the runner owns every conf that
 * configure() returns, including the new one given to reload(), and frees
 * them all with free_conf() only after free_running(). A service's
 * reload() that succeeds switches to the new conf; one that fails keeps
 * the old. */
#ifndef INETKIT_SERVE_SERVE_H
#define INETKIT_SERVE_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/account.h"
#include "core/config.h"
#include "core/listener.h"
#include "core/service.h"

#define SERVE_CMD "serve"
#define SERVE_DEFAULT_CONFIG "/etc/inetkit/inetkit.conf"
#define SERVE_MAX_SERVICES 16
#define SERVE_USER_MAX 64

/* Every service serve can run, NULL-terminated (serve_registry.c). */
extern const struct service_ops *const serve_registry[];

struct serve_service {
	const struct service_ops *ops;
	void *conf;		/* from configure(); NULL if the section is absent */
	bool enabled;
	/* The section's allow/deny (core/acl.h), read here for every service
	 * and put on its sockets; NULL: everyone. */
	struct acl *acl;
	/* Its proxy_protocol keys (core/proxy.h); NULL: off. */
	struct listen_proxy *proxy;
};

struct serve_conf {
	struct cfg *cfg;			/* NULL: made by serve_conf_single */
	char path[ACCOUNT_PATH_MAX];	/* as given, or the name of text */
	char *text;			/* a config made from options, or NULL */
	bool standalone;		/* as runner_opts.standalone */
	struct stat file;		/* the file when it was read */
	/* [serve] */
	char state_dir[ACCOUNT_PATH_MAX];
	unsigned workers;
	char user[SERVE_USER_MAX];
	const char *log_target;
	int log_level;
	uint64_t grace_ms;
	char skeleton[ACCOUNT_PATH_MAX];
	/* [tls] */
	char tls_cert[ACCOUNT_PATH_MAX];
	char tls_key[ACCOUNT_PATH_MAX];
	bool tls_self_signed;		/* no cert given: state_dir/tls/ */
	bool tls_in_memory;		/* standalone, and that pair is not made yet */
	/* [accounts] */
	struct account_policy accounts;
	struct serve_service svc[SERVE_MAX_SERVICES];
	size_t nsvc;
};

/* Read and check the whole file (or text, named path in messages):
 * every key of every section, unknown keys and sections, bad values
 * (file:line: [section] key: ...). Each service's configure gets the
 * [tls] files, [serve] state_dir and [accounts] in a service_ctx; with
 * standalone a self-signed pair serve has not made yet is given as ""
 * (made in memory at start). */
struct serve_conf *serve_conf_load(const char *path, const char *text, bool standalone,
				   ik_err *e);
/* A config of one service with conf (taken, also on failure) and acl
 * (taken, may be NULL) made elsewhere (`tcp listen` from its options):
 * no file, grace_ms to stop, the log level now in force. */
struct serve_conf *serve_conf_single(const struct service_ops *ops, void *conf, struct acl *acl,
				     uint64_t grace_ms, ik_err *e);
struct sbuf;
/* Every key of every section with its default, as a config file. */
int serve_conf_defaults(struct sbuf *out, ik_err *e);
/* Frees the services' confs too (free_conf). */
void serve_conf_free(struct serve_conf *sc);
/* True when the file on disk is not the one sc was read from (never for
 * text or a single service). */
bool serve_conf_changed(const struct serve_conf *sc);
size_t serve_conf_enabled(const struct serve_conf *sc);

/* [tls] cert/key as a service should load them: the configured files, or
 * the self-signed pair in STATE/tls/ that serve makes on its first start. */
int serve_tls_files(struct cfg *c, char *cert, size_t certsz, char *key, size_t keysz,
		    ik_err *e);
/* Check configured files (readable, key matches), or make the self-signed
 * pair when it is missing or expires within a day. */
int serve_tls_prepare(const struct serve_conf *sc, bool create, unsigned uid, unsigned gid,
		      ik_err *e);

/* The state directory: created, copied from the skeleton, given to the
 * service user; accounts.db created and migrated. */
int serve_state_prepare(const struct serve_conf *sc, unsigned uid, unsigned gid, ik_err *e);
/* Before anything is made or bound: the service user (user, uid/gid as
 * serve_user_lookup gives them) can reach state_dir, so that workers do not
 * fail one after the other on the account store. With given (serve, which
 * makes state_dir and gives it to that user) every directory above it must
 * be searchable; without (`inetkit ftpd`, which makes nothing), state_dir
 * and its file db, if there, must also be readable and writable by it.
 * Errors name c's file and [serve] state_dir, the user and the fix. */
int serve_state_check(struct cfg *c, const char *state_dir, const char *db, bool given,
		      const char *user, unsigned uid, unsigned gid, ik_err *e);
/* Resolve [serve] user (when root): uid/gid, or (unsigned)-1 when not root.
 * Errors name c's file and line. */
int serve_user_lookup(struct cfg *c, const char *user, unsigned *uid, unsigned *gid, ik_err *e);
int serve_drop_privileges(const char *user, unsigned uid, unsigned gid, ik_err *e);

#endif
