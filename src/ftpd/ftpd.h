/* The FTP server: `inetkit ftpd` and the [ftp] service of `inetkit serve`.
 *
 * RFC 959 (FTP), RFC 1123 4.1 (STOU, PASV fixes), RFC 1635 (anonymous FTP),
 * RFC 2228 / RFC 4217 (AUTH TLS, PBSZ, PROT; implicit FTPS on its own
 * port), RFC 2389 (FEAT, OPTS), RFC 2428 (EPRT, EPSV, EPSV ALL), RFC 2577
 * (security: bounce, port theft, brute force), RFC 2640 (UTF-8 paths),
 * RFC 3659 (MLST, MLSD, SIZE, MDTM, REST STREAM), RFC 7151 (HOST), and
 * the wu-ftpd xferlog(5) format.
 *
 *   ftpd_conf.c        the [ftp] keys, their defaults and checks; TLS context
 *   ftpd_anon.c        anonymous FTP: its names and keys (RFC 1635)
 *   ftpd_server.c      FTP on core/server (listeners, limits, stop, reload
 *                      generations): the 421 refusals, a generation's state
 *   ftpd_cmd.c         the command table: verb, states, flags, arguments,
 *                      usage and handler per row (core/session_cmd runs it),
 *                      FEAT, HELP, SITE, FTP's wording of refusals
 *   ftpd_session.c     the control connection: one I/O entry point, the
 *                      hooks around every command, replies, timeouts
 *   ftpd_cmd_session.c TYPE, MODE, REST, FEAT, OPTS, AUTH, PROT, STAT, ...
 *   ftpd_cmd_login.c   USER/PASS through core/account, roots, rights, quota
 *   ftpd_cmd_fs.c      CWD, PWD, MKD, RMD, DELE, RNFR/RNTO, SIZE, MDTM, SITE
 *   ftpd_cmd_data.c    PASV/EPSV/PORT/EPRT: which data connection, over
 *                      core/datachan (the sockets are the core's)
 *   ftpd_cmd_xfer.c    RETR/STOR/APPE/STOU/LIST/NLST/MLSD: checks, commit
 *   ftpd_list.c        listing lines (LIST, NLST, MLSD, MLST); ftpd_dir.c
 *                      reads directories and globs for them and for STAT
 *   ftpd_tls.c         TLS on data connections: when to ask for session
 *                      reuse, and why not
 *   ftpd_xfer.c        the transfer engine; ftpd_upload.c the upload side
 *   ftpd_main.c        `inetkit ftpd`: the runner with the [ftp] section
 *   ftpd_service.c     the [ftp] service of the runner
 *
 * Internal headers, each included only where it is used:
 *   ftpd_sess.h        struct ftpd_sess (a control connection) and struct
 *                      ftpd_server (a generation); replies, state, timers
 *   ftpd_handlers.h    the handlers the command table names (ftpd_cmd_*.c)
 *   ftpd_login.h       what ftpd_cmd_login.c gives the other commands:
 *                      ftpd_path/ftpd_target (rights), ftpd_who, ...
 *   ftpd_data.h        the data side (ftpd_cmd_data.c) and ftpd_tls.c
 *   ftpd_xfer.h        the transfer engine; ftpd_upload.h its upload side
 *   ftpd_dir.h         directory reading for listings (ftpd_dir.c)
 *   ftpd_cmd.h, ftpd_reply.h, ftpd_args.h, ftpd_addr.h, ftpd_list.h,
 *   ftpd_glob.h, ftpd_ascii.h, ftpd_anon.h, ftpd_xferlog.h: the parts
 *                      without a session (the unit tests and fuzzer use them)
 *
 * The public part is the configuration and the server's start and reload;
 * it runs as a struct server (core/server.h: stop, free). The service
 * glue for the runner (`serve`, `inetkit ftpd`) is in
 * src/ftpd/ftpd_service.c. */
#ifndef INETKIT_FTPD_FTPD_H
#define INETKIT_FTPD_FTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <openssl/ssl.h>

#include "core/account.h"
#include "core/config.h"
#include "lib/error.h"
#include "core/listener.h"
#include "core/loop.h"

#define FTPD_DEFAULT_LISTEN "127.0.0.1:2121"
/* A download's socket send buffer: SO_SNDBUF, which the kernel doubles and
 * caps at net.core.wmem_max. A fixed large buffer lets one sendfile call
 * queue more, so the sender sleeps and wakes less often than with the
 * autotuned size (measured in bench/ftp: about 3% more on loopback). */
#define FTPD_DEFAULT_SNDBUF (4 * 1024 * 1024)
#define FTPD_DEFAULT_BANNER "inetkit FTP server ready."

struct ftpd_conf {
	const char *section;		/* "ftp" */
	char *listen[LISTEN_MAX_SOCKETS];
	size_t nlisten;
	char *implicit[LISTEN_MAX_SOCKETS];	/* implicit FTPS listeners */
	size_t nimplicit;
	size_t implicit_from;		/* set by ftpd_bind: first implicit socket */
	char banner[200];
	/* limits */
	uint64_t max_sessions, max_per_ip;
	uint64_t idle_ms, login_ms, data_ms, accept_ms;
	size_t max_line;
	unsigned max_login_failures;
	uint64_t list_max, glob_max, stat_max, ascii_size_max;
	uint64_t download_rate, upload_rate;	/* bytes per second, 0: no limit */
	uint64_t data_send_buffer;	/* SO_SNDBUF of downloads, 0: autotuning */
	/* TLS */
	bool tls;			/* AUTH TLS offered */
	bool require_tls_login, require_tls_data, tls_reuse;
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];	/* "" : self-signed */
	SSL_CTX *ssl;			/* made by ftpd_conf_prepare */
	/* data connections */
	bool pasv_enable, port_enable;
	uint16_t pasv_min, pasv_max;	/* 0, 0: any port */
	bool has_pasv_addr;
	struct in_addr pasv_addr;	/* what 227 replies announce (NAT) */
	/* accounts and files */
	struct account_anon anon;
	unsigned file_mode, dir_mode;
	char xferlog[ACCOUNT_PATH_MAX];	/* "" : none */
	int xferlog_fd;
	bool log_commands;		/* every command at info level */
};

/* service_ops.configure (core/service.h): read every key of [section] (and
 * nothing else). ctx->tls_cert/tls_key are the files of [tls]; NULL or ""
 * means a self-signed certificate (made in memory when the file does not
 * exist). Returns NULL with e set. */
struct service_ctx;
void *ftpd_conf_read(struct cfg *cfg, const char *section, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e);
void ftpd_conf_free(void *conf);
/* Before binding, as root or as the service user to be: the anonymous
 * root (when anonymous logins are on) is a directory that user (uid/gid,
 * (unsigned)-1 for this process's user) can read, and the xferlog's
 * directory one it can search (it opens the file again on SIGHUP). Errors
 * name cfg's file, line and key, the path and the fix. */
int ftpd_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e);
/* Before binding, while still privileged: the TLS context and the
 * xferlog file (given to the service user, core/fsutil.h). Idempotent. */
int ftpd_conf_prepare(struct ftpd_conf *c, ik_err *e);
/* Bind the plain listeners, then the implicit FTPS ones, into set. */
int ftpd_bind(void *conf, struct listen_set *set, ik_err *e);

struct server;
struct service_ctx;

/* Serve on the loop with the sockets ftpd_bind made: a struct server
 * (core/server.h) whose sessions count against max_sessions and
 * max_per_ip, across the workers when ctx->shared is set. ctx->auth
 * verifies logins (NULL: anonymous logins only, checked here); ctx may
 * be NULL (no accounts, this process's counts). server_stop is graceful:
 * idle sessions are told 421, transfers end first. */
void *ftpd_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e);
/* Reload (SIGHUP, server_service_reload): a new generation with the new
 * conf takes the listening sockets over; open sessions go on with the
 * settings they started with. Listen addresses that differ from the bound
 * ones are logged, not bound ("restart <ctx->restart> to apply them");
 * with no certificate file before or now, the certificate made in memory
 * stays (clients may have pinned it). Refused, nothing changed: a TLS key
 * that does not load, an xferlog that cannot be opened, tls = no with
 * implicit FTPS sockets open. */

#endif
