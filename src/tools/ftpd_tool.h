/* `inetkit ftpd` and the [ftp] service of `inetkit serve`: one server
 * (src/ftp/ftpd*.c), configured from the [ftp] section of a config file
 * or, for a quick start, from command-line options. */
#ifndef INETKIT_TOOLS_FTPD_TOOL_H
#define INETKIT_TOOLS_FTPD_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/error.h"
#include "core/listener.h"
#include "core/service.h"
#include "ftp/ftpd.h"

extern const struct service_ops service_ftp;

/* A running FTP server as serve and `inetkit ftpd` hold it: the current
 * generation and the sockets it serves. */
struct ftpd_running {
	struct ftpd_server *cur;
	const struct listen_set *set;	/* alive as long as the server */
	const struct ftpd_conf *bound;	/* whose listen addresses set holds */
	const struct ftpd_conf *conf;	/* in force */
};

/* New settings (SIGHUP): a new generation with conf c takes the sockets
 * over (ftpd_server_reload); sessions already open keep theirs. Listen
 * addresses that differ from the bound ones are logged, not applied:
 * "restart <restart> to apply them". With no certificate file before or
 * now, the certificate made in memory stays (clients may have pinned it).
 * Returns -1 with e set and r untouched; c must then be freed by the
 * caller, and otherwise outlive every session (free it at exit). */
int ftpd_running_reload(struct ftpd_running *r, struct ftpd_conf *c, const char *restart,
			ik_err *e);

/* ---- `inetkit ftpd` alone (ftpd.c, ftpd_reload.c) ---- */

struct serve_conf;

/* One `inetkit ftpd` process (or worker): what it was started with and
 * what it runs. */
struct ftpd_run {
	struct serve_conf *sc;		/* --config */
	struct cfg *cfg;
	bool own_conf;
	int log_level;
	const char *log_target;
	struct ftpd_conf *conf;		/* bound at start */
	struct acl *acl;		/* allow/deny at start (not owned), or NULL */
	struct account_policy policy;
	char user[64];			/* [serve] user */
	unsigned uid, gid;		/* its ids as root, else (unsigned)-1 */
	struct listen_set set;
	struct ftpd_running fr;
	struct account_auth *auth;
	struct loop *loop;
	struct event *grace;
	bool have_db;
	/* Made by reloads in this process, freed at exit: a serve_conf each
	 * with --config, an ftpd_conf each with the quick options. */
	void **reloaded;
	size_t nreloaded;
};

/* The [ftp] conf of a whole config file (it belongs to sc); NULL with e
 * set when the file has no [ftp] section. */
struct ftpd_conf *ftpd_file_conf(struct serve_conf *sc, ik_err *e);
/* The [ftp] allow/deny of a whole config file (it belongs to sc), or NULL. */
struct acl *ftpd_file_acl(struct serve_conf *sc);
/* SIGHUP: loop_on_reload's callback, arg the struct ftpd_run. */
void ftpd_run_on_reload(struct loop *l, int sig, void *arg);
/* Read r's config file again and put it in force (a worker restarted
 * after a reload also starts with this); failures are logged. */
void ftpd_run_reload_file(struct ftpd_run *r);
/* At exit: the confs reloads made. */
void ftpd_run_free_reloaded(struct ftpd_run *r);

/* The [tls] certificate and key for the FTP server. With standalone set,
 * a self-signed pair that serve has not made yet (STATE/tls/) gives ""
 * for both: a certificate is then made in memory at start. */
int ftpd_tls_paths(struct cfg *cfg, bool standalone, char *cert, size_t certsz, char *key,
		   size_t keysz, ik_err *e);

#endif
