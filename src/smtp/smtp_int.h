/* The SMTP session and its server generation (smtp_server.c); replies,
 * state, the transaction, and the handlers the command table names.
 * Protocol code only: no sockets (core/session and core/server own them). */
#ifndef INETKIT_SMTP_SMTP_INT_H
#define INETKIT_SMTP_SMTP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/account.h"
#include "core/sasl.h"
#include "core/server.h"
#include "core/session.h"
#include "mailstore/mailstore.h"
#include "smtp/smtp.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_queue.h"

struct offload;
struct smtp_job;
struct smtp_check;

/* The listener a session came in on (RFC 6409, RFC 8314). */
enum smtp_role {
	SMTP_ROLE_MTA,		/* port 25: mail for our domains; relay only if allowed */
	SMTP_ROLE_SUBMISSION,	/* port 587: STARTTLS, then AUTH, before MAIL */
	SMTP_ROLE_SUBMISSIONS,	/* port 465: implicit TLS, then AUTH, before MAIL */
};

/* One generation of the server: the settings a session started with and
 * what goes with them. */
struct smtp_server {
	struct smtp_conf *conf;
	struct loop *loop;
	struct server *core;
	const struct listen_set *set;
	const struct service_ctx *ctx;	/* the runner's */
	const struct smtp_conf *bound;	/* whose listen addresses set holds */
	struct account_auth *auth;	/* NULL: no accounts database */
	struct offload *pool;		/* fsync and delivery, quota checks */
	struct mailstore *store;
	struct smtp_queue *queue;
	struct smtp_relay *relay;	/* the queue runner (smtp_relay.h) */
	struct dns *dns;		/* the inbound checks' resolver; NULL: no checks */
};

/* An accepted recipient: where it goes once the message is in. */
struct smtp_rcpt {
	struct smtp_env_rcpt env;	/* the address as given, NOTIFY, ORCPT */
	char **local;			/* mailbox names (account names) */
	size_t nlocal;
	uint64_t *quota;		/* per local mailbox; 0: none */
	char **remote;			/* addresses for the queue */
	size_t nremote;
};

/* A mail transaction (RFC 5321 3.3): MAIL, RCPT..., then DATA or BDAT. */
struct smtp_txn {
	struct smtp_mail_args mail;
	struct smtp_rcpt *rcpt;
	size_t nrcpt, rcpt_cap;
	unsigned rcpt_tried;		/* RCPT commands, accepted or not */
	struct mail_spool *spool;	/* DATA / BDAT: the message being received */
	bool write_failed;		/* a spool write failed: 451 at the end */
	bool bdat_failed;		/* a BDAT chunk was refused: the rest is dropped */
	uint64_t bdat_size;		/* bytes received by BDAT so far */
	bool pending_cr;		/* bare_newline = normalize: a CR not yet placed */
	char id[MAILSTORE_ID_MAX];
};

struct smtp_sess {
	struct smtp_server *srv;
	struct session *s;
	struct server_conn conn;
	enum smtp_role role;
	char host[64];			/* the client's address, no port */
	bool relay_ok;			/* in relay_networks */
	unsigned state;			/* SMTP_ST_* */
	bool esmtp;			/* EHLO, not HELO */
	bool tls_ready;			/* handshake done (STARTTLS or implicit) */
	char tls_info[96];		/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" */
	char helo[SMTP_HOSTNAME_MAX + 1];
	/* AUTH */
	char user[ACCOUNT_NAME_MAX + 1];	/* "" : not authenticated */
	unsigned auth_failures;
	struct sasl *sasl;		/* an exchange under way */
	struct account_request *auth_req;	/* a login or a lookup under way */
	/* the transaction, and the work done for it off the loop */
	struct smtp_txn *txn;
	struct smtp_check *check;	/* an RCPT being checked */
	struct smtp_job *job;		/* a message being delivered */
	/* the body being read (DATA, a BDAT chunk, or a chunk dropped) */
	int body_kind;			/* smtp_cmd_data.c's BODY_* */
	bool body_last;			/* BDAT ... LAST */
	struct smtp_reply body_reply;	/* a dropped chunk's reply, sent at its end */
	/* counts and limits */
	unsigned errors;
	unsigned messages;
	bool quit_pending;		/* server stopping: 421 once the job is done */
	bool closing;
};

/* ---- smtp_server.c ---- */
void smtp_server_add(struct smtp_server *srv, struct smtp_sess *ss);
void smtp_server_remove(struct smtp_sess *ss);

/* ---- smtp_session.c ---- */
bool smtp_sess_accept(struct smtp_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, enum smtp_role role);
/* One reply line; an error reply (4xx, 5xx) counts against max_errors,
 * and the one that reaches it is followed by 421 and the close. */
void smtp_send(struct smtp_sess *ss, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void smtp_send_reply(struct smtp_sess *ss, const struct smtp_reply *r);
/* Send what a builder wrote. */
void smtp_send_sbuf(struct smtp_sess *ss, struct sbuf *b);
/* The last reply ("421 4.7.0 HOSTNAME ..."; NULL: none), then close. */
void smtp_sess_shutdown(struct smtp_sess *ss, const char *text);
void smtp_set_state(struct smtp_sess *ss, unsigned state);
/* The state after RSET / a finished transaction. */
unsigned smtp_idle_state(const struct smtp_sess *ss);
/* "-" or the authenticated user, for logs. */
const char *smtp_who(const struct smtp_sess *ss);
/* The hooks of smtp_cmds (smtp_cmd.c). */
bool smtp_sess_before(struct session_call *c);
void smtp_sess_refuse(struct session_call *c, enum session_refusal why);

/* ---- smtp_cmd_mail.c ---- */
void smtp_txn_free(struct smtp_sess *ss);		/* and the spool, and any check */
void smtp_check_cancel(struct smtp_sess *ss);

/* ---- smtp_cmd_data.c ---- */
/* Body events of DATA and BDAT (from the session's I/O callback). */
void smtp_data_body(struct smtp_sess *ss, const char *p, size_t n);
void smtp_data_end(struct smtp_sess *ss, const struct session_body *b);
/* The session is going: a delivery under way finishes without it. */
void smtp_job_detach(struct smtp_sess *ss);

/* ---- smtp_cmd_auth.c ---- */
void smtp_auth_line(struct smtp_sess *ss, const struct session_ev *ev);
void smtp_auth_cancel(struct smtp_sess *ss);

/* ---- the handlers the table names ---- */
void smtp_cmd_ehlo(struct session_call *c);
void smtp_cmd_helo(struct session_call *c);
void smtp_cmd_helpv(struct session_call *c);
void smtp_cmd_noop(struct session_call *c);
void smtp_cmd_quit(struct session_call *c);
void smtp_cmd_rset(struct session_call *c);
void smtp_cmd_vrfy(struct session_call *c);
void smtp_cmd_starttls(struct session_call *c);
void smtp_cmd_auth(struct session_call *c);
void smtp_cmd_mail(struct session_call *c);
void smtp_cmd_rcpt(struct session_call *c);
void smtp_cmd_data(struct session_call *c);
void smtp_cmd_bdat(struct session_call *c);

#endif
