/* A service is what `inetkit serve` runs from a config section, and what a
 * standalone subcommand (`inetkit tcp listen`, `inetkit ftpd`) runs alone.
 * Life cycle, in this order:
 *   configure  read EVERY key of the section (cfg getters), validate; runs
 *              for every service section present, enabled or not, so that
 *              unknown keys are reported (core/config.h)
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
 * registry in src/tools/serve lists them.
 *
 * Every service section also has `allow` and `deny` (core/acl.h), which
 * serve reads itself and puts on the service's listen_set (set->acl, new
 * lists at each successful reload). A service that accepts through
 * core/listener is covered without a line of its own; one that reads
 * datagrams calls acl_refuse(set->acl, ...) for each. */
#ifndef INETKIT_CORE_SERVICE_H
#define INETKIT_CORE_SERVICE_H

#include <stdbool.h>

#include "core/config.h"
#include "core/error.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/sbuf.h"

struct service_ops {
	const char *section;	/* config section name, e.g. "tcp-echo" */
	const char *summary;	/* one line for --help and the banner */
	/* Returns the service's parsed config, or NULL with e set. *enabled
	 * says whether the section's `enabled` key (default yes) is on. */
	void *(*configure)(struct cfg *c, const char *section, bool *enabled, ik_err *e);
	/* May be NULL. user, uid/gid: the service user ((unsigned)-1 when not
	 * started as root: this process's user); errors name c's file, line
	 * and key, the user and the fix. */
	int (*check)(void *conf, struct cfg *c, const char *user, unsigned uid, unsigned gid,
		     ik_err *e);
	int (*bind)(void *conf, struct listen_set *set, ik_err *e);
	void *(*start)(void *conf, struct loop *l, const struct listen_set *set, ik_err *e);
	void (*stop)(void *running, void (*done)(void *done_arg), void *done_arg);
	int (*reload)(void *running, void *new_conf, ik_err *e);	/* may be NULL */
	void (*free_running)(void *running);
	void (*free_conf)(void *conf);
	/* Lines for the start-up banner: endpoint and a way to try it,
	 * e.g. "tcp echo  127.0.0.1:2007   try: inetkit tcp connect 127.0.0.1 2007". */
	void (*describe)(void *conf, const struct listen_set *set, struct sbuf *out);
};

#endif
