/* What the ftpd_*.c files of the server share (see ftpd.h for the map).
 * Protocol code only: no sockets. The control connection is a core
 * session; data connections come from core/datachan (through ftpd_cmd_data.c)
 * and are core sessions too. */
#ifndef INETKIT_FTPD_FTPD_INT_H
#define INETKIT_FTPD_FTPD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/account.h"
#include "core/datachan.h"
#include "core/jail.h"
#include "core/offload.h"
#include "lib/sbuf.h"
#include "core/server.h"
#include "core/service.h"
#include "core/session.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_ascii.h"
#include "ftpd/ftpd_cmd.h"
#include "ftpd/ftpd_reply.h"

struct ftpd_sess;

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

/* What a logged-in user may do where it is. */
/* NAV: CWD only; READ: file contents and listings; WRITE: change or remove
 * what exists; CREATE: make a new file. */
enum ftpd_access { FTPD_NAV, FTPD_READ, FTPD_WRITE, FTPD_CREATE };

/* A command's path once resolved and allowed: the virtual path (for
 * replies and logs), the jail and the path inside it (k may point into v). */
struct ftpd_target {
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
};

/* The data side of a session: the core's data channel (a passive port,
 * or a connection made before the transfer command), the address a PORT
 * named, and the transfer. */
struct ftpd_xfer;
struct ftpd_scan;

struct ftpd_data {
	struct datachan *dc;
	bool passive;			/* the last was PASV/EPSV */
	bool have_port;			/* PORT/EPRT given */
	struct sockaddr_storage port_addr;
	socklen_t port_len;
	bool pasv_timed_out;
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
	struct ftpd_data *data;		/* made on first use */
	struct ftpd_xfer *xfer;
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
/* Called by ftpd_xfer.c when a transfer has ended and its reply is out. */
void ftpd_xfer_ended(struct ftpd_sess *fs);
bool ftpd_tls_required_for_data(const struct ftpd_sess *fs);
/* The hooks of ftpd_cmds (ftpd_cmd.c): around every command, and the
 * core's refusals sent as replies. */
bool ftpd_sess_before(struct session_call *c);
void ftpd_sess_refuse(struct session_call *c, enum session_refusal why);

/* The command handlers (ftpd_cmd_*) below are named by ftpd_cmd.c's
 * table; c->proto is the struct ftpd_sess. */

/* ---- ftpd_cmd_session.c ---- */
void ftpd_cmd_noop(struct session_call *c);
void ftpd_cmd_syst(struct session_call *c);
void ftpd_cmd_quit(struct session_call *c);
void ftpd_cmd_abor(struct session_call *c);
void ftpd_cmd_type(struct session_call *c);
void ftpd_cmd_mode(struct session_call *c);
void ftpd_cmd_stru(struct session_call *c);
void ftpd_cmd_rest(struct session_call *c);
void ftpd_cmd_allo(struct session_call *c);
void ftpd_cmd_features(struct session_call *c);
void ftpd_cmd_helptext(struct session_call *c);
void ftpd_cmd_opts(struct session_call *c);
void ftpd_cmd_host(struct session_call *c);
void ftpd_cmd_auth(struct session_call *c);
void ftpd_cmd_pbsz(struct session_call *c);
void ftpd_cmd_prot(struct session_call *c);
void ftpd_cmd_stat(struct session_call *c);

/* ---- ftpd_cmd_login.c ---- */
void ftpd_cmd_user(struct session_call *c);
void ftpd_cmd_pass(struct session_call *c);
void ftpd_auth_cancel(struct ftpd_sess *fs);
/* Resolve a client path: virtual path into out, and the jail and the
 * kernel path to use for the access wanted. Replies and returns -1 when
 * refused. */
int ftpd_path(struct ftpd_sess *fs, const char *arg, size_t arglen, enum ftpd_access want,
	      char *out, size_t outsz, const struct jail **jail, const char **kpath);
/* ftpd_path for the argument of c, into t. */
int ftpd_target(struct ftpd_sess *fs, const struct session_call *c, enum ftpd_access want,
		struct ftpd_target *t);
bool ftpd_may_overwrite(const struct ftpd_sess *fs);
bool ftpd_expired(const struct ftpd_sess *fs);
const char *ftpd_who(const struct ftpd_sess *fs);

/* ---- ftpd_cmd_fs.c ---- */
void ftpd_cmd_cwd(struct session_call *c);
void ftpd_cmd_cdup(struct session_call *c);
void ftpd_cmd_pwd(struct session_call *c);
void ftpd_cmd_mkd(struct session_call *c);
void ftpd_cmd_rmd(struct session_call *c);
void ftpd_cmd_dele(struct session_call *c);
void ftpd_cmd_rnfr(struct session_call *c);
void ftpd_cmd_rnto(struct session_call *c);
void ftpd_cmd_size(struct session_call *c);
void ftpd_cmd_mdtm(struct session_call *c);
void ftpd_cmd_site(struct session_call *c);
void ftpd_cmd_mlst(struct session_call *c);
void ftpd_cmd_stat_path(struct ftpd_sess *fs, struct session_call *c);
struct ftpd_list_ctx;
void ftpd_list_ctx_for(const struct ftpd_sess *fs, struct ftpd_list_ctx *ctx);
/* The size of a file as TYPE A sends it (LF -> CRLF). */
int ftpd_ascii_size(int fd, uint64_t limit, uint64_t *out);

/* ---- ftpd_dir.c: directory reading for listings ---- */
enum ftpd_list_kind { FTPD_LIST_LS, FTPD_LIST_NLST, FTPD_LIST_MLSD, FTPD_LIST_STAT };

struct ftpd_dir {
	enum ftpd_list_kind kind;
	int dir_fd;			/* the listed directory (O_RDONLY) */
	char *vdir;			/* its virtual path */
	char *prefix;			/* NLST: what to put before each name */
	char **names;			/* sorted; NULL for a single entry */
	size_t n, next;
	char *single;			/* listing one non-directory: its name */
	bool truncated;
	bool cdir_done;
	struct ftpd_list_ctx *ctx;	/* owned */
	const struct jail *jail;
};

/* Read what a LIST/NLST/MLSD/STAT argument names. Replies and returns
 * NULL when refused. */
struct ftpd_dir *ftpd_dir_open(struct ftpd_sess *fs, enum ftpd_list_kind kind,
			       const char *arg, size_t arglen);
/* Append lines to out until it holds about want bytes or the listing
 * ends. Returns 1 when more remain, 0 at the end, -1 on error. */
int ftpd_dir_fill(struct ftpd_dir *d, struct sbuf *out, size_t want);
void ftpd_dir_free(struct ftpd_dir *d);

/* ---- ftpd_cmd_data.c ---- */
void ftpd_cmd_pasv(struct session_call *c);
void ftpd_cmd_epsv(struct session_call *c);
void ftpd_cmd_port(struct session_call *c);
void ftpd_cmd_eprt(struct session_call *c);
/* Whether a transfer command has a data connection to use (PASV or PORT
 * given); if not, replies 425 and returns false. */
bool ftpd_data_ready_check(struct ftpd_sess *fs);
/* Get the data connection for x: calls ftpd_xfer_connected(x) once
 * connected, or ftpd_xfer_failed(x, ...) when that fails. */
void ftpd_data_open(struct ftpd_sess *fs, struct ftpd_xfer *x);
/* Forget passive port, PORT address and any connection. */
void ftpd_data_reset(struct ftpd_sess *fs);
void ftpd_data_free(struct ftpd_sess *fs);
/* The data side, made on first use; NULL when out of memory. */
struct ftpd_data *ftpd_data_get(struct ftpd_sess *fs);
/* TLS for data connections: the reuse policy (ftpd_tls.c) over the
 * core's check (core/datachan). */
void ftpd_tls_bind_control(struct ftpd_sess *fs);
void ftpd_tls_unbind_control(struct ftpd_sess *fs);
/* After a data handshake: 0 if it resumed the control session (or
 * tls_data_reuse is off), else -1 with why filled: the text of the 522
 * reply, which names the setting. */
int ftpd_tls_check_reuse(struct ftpd_sess *fs, struct session *data, char *why, size_t whysz);

/* ---- ftpd_xfer.c ---- */
enum ftpd_xfer_kind { FTPD_X_RETR, FTPD_X_STOR, FTPD_X_APPE, FTPD_X_STOU, FTPD_X_LIST };

/* One transfer, from the command to its final reply. */
struct ftpd_xfer {
	struct ftpd_sess *fs;
	enum ftpd_xfer_kind kind;
	char *vpath;			/* what the client named (logs, replies) */
	int file_fd;			/* RETR source, or an upload written in place */
	struct jail_upload up;		/* STOR/STOU through a temporary */
	bool tmp;
	bool noreplace;			/* commit must not replace a file */
	const struct jail *jail;	/* STOU: where the names are tried */
	char *kpath;			/* uploads: the target's kernel path (STOU: the name announced) */
	bool created;			/* in place: the file did not exist before */
	off_t offset;			/* RETR start, or upload start in place */
	off_t size;			/* RETR: the file's size */
	off_t orig_size;		/* in place: the size before */
	uint64_t old_size;		/* replacing a file: its size (quota) */
	uint64_t skip;			/* TYPE A RETR after REST: wire bytes to drop */
	bool ascii;
	struct ftpd_ascii asc;
	struct ftpd_dir *dir;		/* listings */
	char *buf;			/* bounded buffer for TLS, TYPE A, listings */
	struct session *data;		/* the data connection (raw mode), once connected */
	bool tls_ready, running, file_eof, sendfile, waiting;
	bool tls;			/* PROT P: the data connection uses TLS */
	/* An upload refused once its data connection is open (quota, TLS
	 * reuse): the rest is read and dropped, then this is the reply. */
	char *refusal;			/* NULL while the upload is taken */
	int refusal_code;
	uint64_t drop_left;		/* how much more may be dropped before closing */
	uint64_t bytes;			/* payload bytes moved */
	uint64_t start_ms;
};

void ftpd_cmd_retr(struct session_call *c);
void ftpd_cmd_stor(struct session_call *c);
void ftpd_cmd_appe(struct session_call *c);
void ftpd_cmd_stou(struct session_call *c);
void ftpd_cmd_list(struct session_call *c);
void ftpd_cmd_nlst(struct session_call *c);
void ftpd_cmd_mlsd(struct session_call *c);
/* ftpd_xfer.c: the engine. new: a transfer for fs (NULL after a reply);
 * begin: wait for the data connection, then run it. */
struct ftpd_xfer *ftpd_xfer_new(struct ftpd_sess *fs, enum ftpd_xfer_kind kind, const char *vpath);
void ftpd_xfer_begin(struct ftpd_xfer *x);
void ftpd_xfer_free(struct ftpd_xfer *x);
/* ftpd_cmd_xfer.c: an upload is complete: move it into place. 0, or -1 with
 * the reply code and text. */
int ftpd_xfer_commit(struct ftpd_xfer *x, int *code, char *text, size_t textsz);
/* An upload did not complete: remove the temporary, or give back what a
 * quota refusal added in place. */
void ftpd_xfer_discard(struct ftpd_xfer *x, bool truncate);
/* The data channel has a connection for x: take it and start. */
void ftpd_xfer_connected(struct ftpd_xfer *x);
/* The end: close the data connection, commit or discard an upload, log,
 * reply, free x. */
void ftpd_xfer_finish(struct ftpd_xfer *x, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ftpd_xfer_finish_ok(struct ftpd_xfer *x);
bool ftpd_xfer_is_upload(const struct ftpd_xfer *x);
/* ftpd_upload.c: start reading, take what arrived (0, or -1 after
 * finishing), and the client's end of the data. */
void ftpd_upload_run(struct ftpd_xfer *x);
int ftpd_upload_input(struct ftpd_xfer *x);
void ftpd_upload_end(struct ftpd_xfer *x);
/* Refuse a running upload: what it wrote stays as the caller left it; the
 * rest of the data is read and dropped until the client ends it (or sent
 * too much), then code and text are the reply. So the client finishes
 * sending and reads the reply, instead of failing on a reset. */
void ftpd_upload_refuse(struct ftpd_xfer *x, int code, const char *text);
void ftpd_xfer_failed(struct ftpd_xfer *x, int code, const char *text);
/* ABOR: stop the transfer; replies 426 then 226. */
void ftpd_xfer_abort(struct ftpd_sess *fs);
/* The session is going away: stop without replies. */
void ftpd_xfer_drop(struct ftpd_sess *fs);
const char *ftpd_xfer_name(const struct ftpd_xfer *x);
uint64_t ftpd_xfer_bytes(const struct ftpd_xfer *x);

#endif
