/* The POP3 session and its server generation; replies, state, and the
 * handlers the command table names. Protocol code only: no sockets
 * (core/session and core/server own them). */
#ifndef INETKIT_POP3_POP3_INT_H
#define INETKIT_POP3_POP3_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/account.h"
#include "core/sasl.h"
#include "core/server.h"
#include "core/session.h"
#include "mailstore/mailbox.h"
#include "mailstore/mailstore.h"
#include "pop3/pop3.h"
#include "pop3/pop3_cmd.h"

struct offload;
struct pop3_job;

struct pop3_server {
	struct pop3_conf *conf;
	struct loop *loop;
	struct server *core;
	const struct listen_set *set;
	const struct service_ctx *ctx;
	const struct pop3_conf *bound;
	struct account_auth *auth;	/* NULL: no accounts database */
	struct offload *pool;		/* maildrop scans, UPDATE */
	struct mailstore *store;
	char hostname[256];		/* for the APOP timestamp */
};

/* The maildrop of a TRANSACTION session: what it listed at login. */
struct pop3_drop {
	struct mailbox *mb;		/* open and locked */
	struct mailbox_list list;
	bool *deleted;			/* per message */
	bool *retrieved;
	uint64_t live, live_octets;	/* not marked deleted */
};

struct pop3_sess {
	struct pop3_server *srv;
	struct session *s;
	struct server_conn conn;
	bool implicit_tls;
	char host[64];
	unsigned state;
	bool tls_ready;
	char tls_info[96];
	char apop_stamp[160];		/* "<pid.time.n@host>", "" without APOP */
	char user_arg[ACCOUNT_NAME_MAX + 1];	/* USER given, PASS expected */
	char user[ACCOUNT_NAME_MAX + 1];	/* logged in ("" : not yet) */
	unsigned auth_failures;
	bool via_apop;			/* the login under way is an APOP */
	unsigned commands;		/* before login */
	struct sasl *sasl;
	struct account_request *auth_req;
	struct pop3_job *job;		/* offloaded work under way */
	struct pop3_drop drop;
	/* a multi-line reply being produced as the client reads it */
	int out_kind;			/* pop3_cmd_mail.c's OUT_* */
	size_t out_next;		/* LIST, UIDL: the next message index */
	struct mailbox_reader *rd;	/* RETR, TOP */
	size_t rd_msg;			/* ... of this message (index) */
	bool rd_top;			/* TOP: a retrieval only if it gives it all */
	/* counts for the log line */
	unsigned errors;
	uint64_t listed, retrieved, deleted, expired, octets;
	const char *result;		/* "quit", "update failed", ... or NULL */
	bool stop_pending;		/* server stopping: end after the work under way */
	bool closing;
};

/* ---- pop3_server.c ---- */
void pop3_server_add(struct pop3_server *srv, struct pop3_sess *ps);
void pop3_server_remove(struct pop3_sess *ps);

/* ---- pop3_session.c ---- */
bool pop3_sess_accept(struct pop3_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit_tls);
/* "+OK text" and "-ERR text" lines; an -ERR counts against max_errors
 * (pop3_err_quiet does not: a failed login counts against auth_attempts). */
void pop3_ok(struct pop3_sess *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_err(struct pop3_sess *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_err_quiet(struct pop3_sess *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pop3_send(struct pop3_sess *ps, const char *data, size_t len);
/* A last line (NULL: none), then close. */
void pop3_shutdown(struct pop3_sess *ps, const char *line, const char *reason);
void pop3_set_state(struct pop3_sess *ps, unsigned state);
bool pop3_sess_before(struct session_call *c);
void pop3_sess_refuse(struct session_call *c, enum session_refusal why);
/* The server stops: end the session now, or after the work under way. */
void pop3_sess_stop(struct pop3_sess *ps);

/* ---- pop3_cmd_auth.c ---- */
void pop3_auth_line(struct pop3_sess *ps, const struct session_ev *ev);
void pop3_auth_cancel(struct pop3_sess *ps);

/* ---- pop3_cmd_mail.c ---- */
/* The session is going: work under way finishes without it; the
 * maildrop is closed (its lock released) with nothing deleted. */
void pop3_drop_release(struct pop3_sess *ps);
/* Hand over a maildrop opened off the loop (pop3_cmd_auth.c); -1 when
 * out of memory (mb and l stay the caller's). */
int pop3_drop_take(struct pop3_sess *ps, struct mailbox *mb, struct mailbox_list *l);
void pop3_retr_drained(struct pop3_sess *ps);
/* Offloaded work (pop3_cmd_auth.c, pop3_cmd_mail.c): run work(arg) on the
 * pool with the session paused, then done(ps, arg) on the loop; when the
 * session went meanwhile, done gets ps NULL. -1 when the pool is full. */
int pop3_job_run(struct pop3_sess *ps, void (*work)(void *arg),
		 void (*done)(struct pop3_sess *ps, void *arg), void *arg);
void pop3_job_detach(struct pop3_sess *ps);

/* ---- the handlers the table names ---- */
void pop3_cmd_capa(struct session_call *c);
void pop3_cmd_user(struct session_call *c);
void pop3_cmd_pass(struct session_call *c);
void pop3_cmd_apop(struct session_call *c);
void pop3_cmd_auth(struct session_call *c);
void pop3_cmd_stls(struct session_call *c);
void pop3_cmd_quit(struct session_call *c);
void pop3_cmd_stat(struct session_call *c);
void pop3_cmd_list(struct session_call *c);
void pop3_cmd_uidl(struct session_call *c);
void pop3_cmd_retr(struct session_call *c);
void pop3_cmd_top(struct session_call *c);
void pop3_cmd_dele(struct session_call *c);
void pop3_cmd_rset(struct session_call *c);
void pop3_cmd_noop(struct session_call *c);

#endif
