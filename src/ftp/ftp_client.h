/* The FTP client: a session over the shared client core (core/client.h),
 * its data channel, transfers, listings, mirror and the interactive shell.
 * RFC 959 (FTP), RFC 2428 (EPSV/EPRT), RFC 3659 (SIZE, MDTM, REST, MLSD),
 * RFC 2389 (FEAT/OPTS), RFC 2640 (UTF-8 names), RFC 4217 (FTPS). */
#ifndef INETKIT_FTP_CLIENT_H
#define INETKIT_FTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/ssl.h>
#include <pthread.h>

#include "core/client.h"
#include "lib/error.h"
#include "ftp/ftp_list.h"
#include "ftp/ftp_reply.h"
#include "ftp/ftp_url.h"

/* Options of a session, fixed for its life (the shell may flip a few). */
struct ftp_opts {
	int family;
	uint64_t connect_timeout_ms;
	uint64_t reply_timeout_ms;
	uint64_t greeting_timeout_ms;	/* the 220 (at most reply_timeout_ms) */
	uint64_t data_timeout_ms;	/* a stalled data connection */
	bool active;			/* EPRT/PORT instead of EPSV/PASV */
	bool ascii;			/* TYPE A instead of TYPE I */
	bool tls;			/* explicit FTPS: AUTH TLS, PBSZ 0, PROT P */
	bool insecure;			/* do not verify the server certificate */
	const char *cacert;
	bool trace;			/* the dialogue on stderr */
	char trace_tag[16];		/* "[2] " for extra mirror connections */
	uint64_t limit_rate;		/* bytes per second, 0 = no limit */
	bool progress;			/* progress bar on stderr */
	bool cont;			/* --continue: resume transfers */
};

#define FTP_GREETING_TIMEOUT_DEFAULT 10000	/* ms */

void ftp_opts_default(struct ftp_opts *o);

/* Who logs in. */
struct ftp_cred {
	char user[FTP_URL_FIELD_MAX];
	char pass[FTP_URL_FIELD_MAX];
};

/* Session states (the one table of names is in ftp_client.c). */
enum ftp_state {
	FTP_ST_CLOSED, FTP_ST_GREETING, FTP_ST_AUTH, FTP_ST_PBSZ, FTP_ST_PROT,
	FTP_ST_USER, FTP_ST_PASS, FTP_ST_FEAT, FTP_ST_OPTS, FTP_ST_PWD, FTP_ST_READY,
	FTP_ST_DATA, FTP_ST_QUIT, FTP_ST_COUNT
};

struct ftp {
	struct client *c;
	struct ftp_opts o;
	SSL_CTX *tls_ctx;		/* shared, owned by the caller */
	bool implicit_tls;
	bool passive;			/* current mode (the shell's `passive`) */
	bool ascii;			/* current type (`binary`/`ascii`) */
	char type_sent;			/* last TYPE the server accepted, 0 = none */
	bool no_epsv, no_eprt;		/* refused once: use PASV / PORT */
	bool prot_p;
	struct ftp_features feat;
	char home[FTP_PATH_MAX];	/* PWD after login */
	char cwd[FTP_PATH_MAX];		/* as the server last said */
	struct client_reply r;		/* the last reply */
	struct ftp_batch *batch;	/* mirror's overall progress, or NULL */
};

/* Connect, (TLS), log in, FEAT, OPTS UTF8 ON, PWD. tls_ctx is needed for
 * implicit or explicit TLS (NULL otherwise). On failure e holds the reason
 * or the server's reply ("530 Login incorrect."). */
int ftp_open(struct ftp *f, const struct ftp_opts *o, SSL_CTX *tls_ctx, const char *host,
	     uint16_t port, bool implicit_tls, const struct ftp_cred *cred, ik_err *e);
/* QUIT (when connected) and free everything. Safe on a closed session. */
void ftp_close(struct ftp *f);
bool ftp_connected(const struct ftp *f);

/* Send a command and read its reply (f->r). Returns the reply code, or -1
 * when the connection failed. */
int ftp_cmd(struct ftp *f, const char *verb, const char *arg, ik_err *e);
/* ftp_cmd, then 0 if the code is in class cls (2 = 2xx), else -1 with e
 * set to the server's reply. */
int ftp_expect(struct ftp *f, const char *verb, const char *arg, int cls, ik_err *e);
/* e = the last reply, as the user should see it. */
int ftp_reply_error(struct ftp *f, ik_err *e);

int ftp_set_type(struct ftp *f, bool ascii, ik_err *e);
int ftp_cwd(struct ftp *f, const char *path, ik_err *e);	/* CWD + PWD */
/* 1 when path is a directory we can enter (CWD there and back), 0 when
 * not, -1 on a connection error. f->r is overwritten. */
int ftp_is_dir(struct ftp *f, const char *path, ik_err *e);
/* SIZE; 1 known, 0 the server does not know (550: absent), -1 error. */
int ftp_size(struct ftp *f, const char *path, uint64_t *size, ik_err *e);
int ftp_mdtm(struct ftp *f, const char *path, time_t *t, ik_err *e);
/* Set a remote file's time (MFMT); 0 ok, 1 not supported, -1 error. */
int ftp_set_mtime(struct ftp *f, const char *path, time_t t, ik_err *e);
int ftp_rename(struct ftp *f, const char *from, const char *to, ik_err *e);
/* mkdir -p: each missing component in turn. */
int ftp_mkdir_p(struct ftp *f, const char *path, ik_err *e);
/* Remote path resolved against the login directory (RFC 1738 paths). */
int ftp_abs_path(const struct ftp *f, const char *path, char *out, size_t outsz);

/* ---- Data channel (ftp_data.c) ---- */
struct ftp_data {
	struct client_conn conn;
	int lfd;			/* active mode listener until accepted */
};
/* Set up a data connection and send VERB ARG (after REST rest when > 0);
 * returns once the server answered 1xx and the connection (and its TLS)
 * is up. */
int ftp_data_open(struct ftp *f, struct ftp_data *d, const char *verb, const char *arg,
		  uint64_t rest, ik_err *e);
/* Close the data connection and read the final reply (2xx = 0). */
int ftp_data_finish(struct ftp *f, struct ftp_data *d, ik_err *e);
/* Close after a local failure: the server's reply is read and ignored. */
void ftp_data_abort(struct ftp *f, struct ftp_data *d);

/* ---- Listings (ftp_dir.c) ---- */
struct ftp_item {
	char *name;
	char *target;
	enum ftp_ftype type;
	bool has_size;
	uint64_t size;
	time_t mtime;
	int prec;
	char perm[12];
};
struct ftp_listing {
	struct ftp_item *items;
	size_t n, cap;
	size_t skipped;			/* lines we could not read */
	bool single;			/* the path named one file: its entry */
};
void ftp_listing_free(struct ftp_listing *l);
int ftp_listing_add(struct ftp_listing *l, const struct ftp_entry *en);
void ftp_listing_sort(struct ftp_listing *l);
/* List directory path ("" = current) with MLSD when offered, else LIST. */
int ftp_list_dir(struct ftp *f, const char *path, struct ftp_listing *out, ik_err *e);
/* List path that may be a file or a directory (`ls URL`). hidden: ask a
 * LIST server for dot files too (MLSD servers send what they send). */
int ftp_list_path(struct ftp *f, const char *path, bool hidden, struct ftp_listing *out,
		  ik_err *e);

/* ---- Transfers (ftp_transfer.c) ---- */
/* Download path into the local file lpath ("-" = stdout). With f->o.cont
 * the local file's size is the resume point. */
int ftp_get(struct ftp *f, const char *rpath, const char *lpath, ik_err *e);
/* Download into an open fd (stdout, cat). */
int ftp_get_fd(struct ftp *f, const char *rpath, int fd, uint64_t offset, uint64_t total,
	       const char *label, uint64_t *got, ik_err *e);
int ftp_put(struct ftp *f, const char *lpath, const char *rpath, ik_err *e);

/* ---- Progress (ftp_progress.c) ---- */
struct ftp_batch;
struct ftp_progress {
	bool on;
	char label[64];
	uint64_t total, done, start_done;
	double start, last_draw;
	struct ftp_batch *batch;	/* also counted there, when not NULL */
};
void ftp_progress_begin(struct ftp_progress *p, bool on, const char *label, uint64_t total,
			uint64_t already);
void ftp_progress_add(struct ftp_progress *p, uint64_t n);
void ftp_progress_end(struct ftp_progress *p);
/* Progress over many transfers at once (mirror): one bar for the whole
 * batch, "mirror: 3/12 files", percent of the bytes, rate, ETA. Every
 * transfer of a session whose batch is set adds to it; safe from several
 * threads. */
struct ftp_batch {
	pthread_mutex_t mu;
	struct ftp_progress bar;
	size_t files_done, files_total;
	bool drawn;			/* the bar is on the terminal now */
};
void ftp_batch_begin(struct ftp_batch *b, bool on, size_t files, uint64_t bytes);
void ftp_batch_add(struct ftp_batch *b, uint64_t n);
void ftp_batch_file_done(struct ftp_batch *b);
/* "VERB name" on stdout, under the bar rather than through it. */
void ftp_batch_say(struct ftp_batch *b, const char *verb, const char *name);
/* Erase the bar (a summary line follows). */
void ftp_batch_end(struct ftp_batch *b);
/* 1536 -> "1.5 KiB" */
void ftp_human_bytes(char *buf, size_t sz, double v);
/* Rate limiting shared by the transfer loops. */
struct ftp_limiter {
	uint64_t rate;		/* bytes/s, 0 = none */
	double start;
	uint64_t sent;
};
void ftp_limiter_begin(struct ftp_limiter *l, uint64_t rate);
void ftp_limiter_wait(struct ftp_limiter *l, uint64_t n);

/* ---- TLS context (core/tls.h with the --cacert/--insecure options) ---- */
SSL_CTX *ftp_tls_ctx_new(const struct ftp_opts *o, ik_err *e);

/* ---- Mirror (ftp_mirror.c) ---- */
struct ftp_mirror_opts {
	bool reverse;			/* local -> remote */
	bool delete;			/* remove what the source no longer has */
	unsigned parallel;		/* transfers at once (connections) */
	bool verbose;			/* a line per action on stdout */
	bool quiet;			/* no summary line */
};
struct ftp_endpoint_info {
	char host[FTP_URL_FIELD_MAX];
	uint16_t port;
	bool implicit_tls;
	struct ftp_cred cred;
};
/* f is an open session; more connections to the same place are opened for
 * parallel transfers. */
int ftp_mirror(struct ftp *f, const struct ftp_endpoint_info *where,
	       const struct ftp_mirror_opts *mo, const char *rpath, const char *ldir, ik_err *e);

/* ---- Deleting (ftp_tree.c) ---- */
/* DELE path; when it is a directory: with recursive, everything in it
 * (deepest first, then RMD), else nothing is done and 1 is returned (e
 * holds the server's reply to DELE). 0 done, -1 failed (e set). verbose:
 * a "delete NAME" line per entry on stdout. */
int ftp_delete(struct ftp *f, const char *path, bool recursive, bool verbose, ik_err *e);

/* ---- Shell (ftp_shell.c) ---- */
struct ftp_shell_opts {
	const char *commands;		/* -c "cmd; cmd" */
	const char *script;		/* -f FILE ("-" = stdin) */
	const char *open_target;	/* open this first (HOST or URL) */
	const char *user;		/* --user */
	const char *netrc;		/* --netrc-file */
	bool password_stdin;
};
int ftp_shell_run(const struct ftp_opts *o, const struct ftp_shell_opts *so, ik_err *e);

/* Credentials for host: URL user/pass > --user (password prompted or from
 * stdin) > .netrc > anonymous. */
int ftp_cred_resolve(const struct ftp_url *u, const char *user, bool password_stdin,
		     const char *netrc_path, struct ftp_cred *out, ik_err *e);

#endif
