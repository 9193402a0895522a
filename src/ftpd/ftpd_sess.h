/* The FTP session struct and its server generation; replies, state, timers (ftpd_session.c). */
#ifndef INETKIT_FTPD_FTPD_SESS_H
#define INETKIT_FTPD_FTPD_SESS_H

/* Protocol code only: no sockets. The control connection is a core
 * session; data connections come from core/datachan (through
 * ftpd_cmd_data.c, see ftpd_data.h) and are core sessions too. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/account.h"
#include "core/jail.h"
#include "core/server.h"
#include "core/session.h"
#include "lib/sbuf.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_cmd.h"
#include "ftpd/ftpd_reply.h"

struct event;
struct ev_token_bucket_cfg;
struct offload;
struct service_ctx;
struct ftpd_data;
struct ftpd_xfer;
struct ftpd_scan;

/* One generation of the server (ftpd_server.c): the settings a session
 * started with and what goes with them. Listeners, the session registry,
 * limits, stop and reload are core/server's. */
struct ftpd_server {
	struct ftpd_conf *conf;
	struct loop *loop;
	struct server *core;		/* every generation's listeners and sessions */
	const struct listen_set *set;
	const struct service_ctx *ctx;	/* the runner's, NULL in tests */
	const struct ftpd_conf *bound;	/* whose listen addresses set holds */
	struct account_auth *auth;	/* NULL: anonymous only */
	struct offload *pool;		/* quota scans */
	struct ev_token_bucket_cfg *rate_down, *rate_up;
};

struct ftpd_sess {
	struct ftpd_server *srv;
	struct session *s;
	struct server_conn conn;	/* in the registry of srv->core */
	struct event *timer;		/* idle / login timeout */
	uint64_t start_ms, last_ms;	/* connected, last command */
	unsigned state;			/* FTPD_ST_* */
	bool implicit_tls;
	bool tls_ready;			/* the control connection's handshake is done */
	bool quit_pending;		/* QUIT during a transfer */
	bool closing;
	char host[64];			/* peer address without port */
	/* login */
	char user[ACCOUNT_LABEL_MAX + 1];
	struct account_request *auth_req;
	unsigned failures;
	enum account_class cls;
	enum account_rights rights;
	char name[ACCOUNT_NAME_MAX + 1];
	int64_t expires;
	uint64_t quota, used;		/* bytes; quota 0: none */
	struct ftpd_scan *scan;		/* quota usage scan under way */
	struct jail jail;		/* the user's root */
	struct jail upjail;		/* anonymous upload directory, or -1 */
	char *upvpath;			/* its virtual path, "/incoming" */
	char *cwd;			/* virtual */
	char *rnfr;			/* virtual path of RNFR */
	/* settings */
	char type;			/* 'A' or 'I' */
	char prot;			/* 'C' or 'P' */
	bool pbsz, epsv_all;
	unsigned facts;
	uint64_t rest;
	struct ftpd_data *data;		/* made on first use (ftpd_data.h) */
	struct ftpd_xfer *xfer;		/* the transfer under way (ftpd_xfer.h) */
};

/* ---- ftpd_server.c ---- */
void ftpd_server_add(struct ftpd_server *srv, struct ftpd_sess *fs);
void ftpd_server_remove(struct ftpd_server *srv, struct ftpd_sess *fs);

/* ---- ftpd_session.c ---- */
/* False when no session was made (fd is closed then); a session made
 * gives back its count through ftpd_server_remove. */
bool ftpd_sess_accept(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit);
void ftpd_sess_shutdown(struct ftpd_sess *fs, const char *text);
/* Send a formatted one-line reply. */
void ftpd_send(struct ftpd_sess *fs, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Send what a builder wrote (by length: 257 replies may hold NUL). */
void ftpd_send_sbuf(struct ftpd_sess *fs, struct sbuf *b);
void ftpd_send_errno(struct ftpd_sess *fs, int err, const char *what);
void ftpd_set_state(struct ftpd_sess *fs, unsigned state);
/* (Re)arm the idle or login timeout if it is not running. */
void ftpd_sess_timer(struct ftpd_sess *fs);
bool ftpd_tls_required_for_data(const struct ftpd_sess *fs);
/* The hooks of ftpd_cmds (ftpd_cmd.c): around every command, and the
 * core's refusals sent as replies. */
bool ftpd_sess_before(struct session_call *c);
void ftpd_sess_refuse(struct session_call *c, enum session_refusal why);

#endif
