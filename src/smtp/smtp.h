/* The SMTP server: `inetkit smtpd` and the [smtp] service of `inetkit serve`.
 *
 * RFC 5321 (SMTP), RFC 6409 (message submission, port 587), RFC 8314
 * (implicit TLS for submission, port 465), RFC 3207 (STARTTLS), RFC 4954
 * (AUTH; SASL PLAIN RFC 4616 and LOGIN), RFC 1870 (SIZE), RFC 6152
 * (8BITMIME), RFC 2920 (PIPELINING), RFC 2034 / RFC 3463
 * (ENHANCEDSTATUSCODES), RFC 6531 (SMTPUTF8), RFC 3030 (CHUNKING, BDAT),
 * RFC 3461 (DSN parameters, kept for the relay), RFC 5321 4.4 (trace
 * headers: Return-Path, Received), RFC 3848 (ESMTPS, ESMTPSA with-types).
 *
 *   smtp_conf.c         the [smtp] keys, their defaults and checks; TLS context
 *   smtp_server.c       SMTP on core/server (listeners, limits, stop, reload
 *                       generations): the 421 refusal, a generation's state
 *                       (mailstore, queue, offload pool)
 *   smtp_cmd.c          the command table (core/session_cmd runs it), EHLO
 *                       keywords, HELP, SMTP's wording of the core's refusals
 *   smtp_session.c      one I/O entry point per session, replies, limits,
 *                       timeouts, the hooks around every command, logs
 *   smtp_cmd_session.c  EHLO, HELO, RSET, NOOP, QUIT, VRFY, HELP, STARTTLS
 *   smtp_cmd_auth.c     AUTH PLAIN / LOGIN through core/sasl and core/account
 *   smtp_cmd_mail.c     MAIL and RCPT: addresses, local users, aliases,
 *                       relay rules, quotas, the transaction
 *   smtp_cmd_data.c     DATA and BDAT into the spool, then delivery (Maildir,
 *                       queue) on the offload pool before the 250
 *   smtp_main.c         `inetkit smtpd`: the runner with the [smtp] section
 *   smtp_service.c      the [smtp] service of the runner
 *
 * Internal headers: smtp_cmd.h (the table, states and refusal wording, no
 * session: the unit test uses it) and smtp_int.h (the session and the
 * server generation). */
#ifndef INETKIT_SMTP_SMTP_H
#define INETKIT_SMTP_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/account.h"
#include "core/config.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/service.h"
#include "lib/error.h"

#define SMTP_DEFAULT_LISTEN "127.0.0.1:2525"
#define SMTP_DEFAULT_MAX_SIZE (25ULL * 1024 * 1024)
#define SMTP_HOSTNAME_MAX 255
/* RFC 5321 4.5.3.1.4 and .6: 512 octets for a command line, 1000 for a
 * text line, CRLF included: we take 1000 for both (as Postfix does). */
#define SMTP_LINE_MAX 1000
/* RFC 4954 4: an AUTH response line may be up to 12288 octets. */
#define SMTP_SASL_LINE_MAX 12288

enum smtp_bare_newline { SMTP_BARE_REJECT, SMTP_BARE_NORMALIZE };

struct smtp_aliases;
struct acl;
struct dkim_key;

struct smtp_conf {
	const char *section;		/* "smtp" */
	/* The three roles, each a list of listen specs. */
	char *listen[LISTEN_MAX_SOCKETS];		/* port 25 role: MTA to MTA */
	size_t nlisten;
	char *submission[LISTEN_MAX_SOCKETS];		/* 587: STARTTLS, then AUTH */
	size_t nsubmission;
	char *submissions[LISTEN_MAX_SOCKETS];	/* 465: implicit TLS, then AUTH */
	size_t nsubmissions;
	/* Set by smtp_bind: the first socket of each of the last two roles. */
	size_t submission_from, submissions_from;
	char hostname[SMTP_HOSTNAME_MAX + 1];
	char *domains[CFG_MAX_LIST];	/* lower case */
	size_t ndomains;
	struct acl *relay;		/* relay_networks; NULL: none */
	uint64_t max_size;
	char aliases_path[ACCOUNT_PATH_MAX];	/* "" : none */
	struct smtp_aliases *aliases;	/* read at configure time; NULL: none */
	bool auth_plaintext;
	enum smtp_bare_newline bare_newline;
	uint64_t max_recipients, max_errors, max_sessions, max_per_ip, auth_attempts;
	uint64_t command_ms, data_ms;
	char state_dir[ACCOUNT_PATH_MAX];
	char config_path[ACCOUNT_PATH_MAX];	/* for the banner's try-it lines */
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];	/* "" : self-signed */
	SSL_CTX *ssl;			/* made by smtp_conf_prepare */
	/* the relay (outbound delivery, smtp_relay.c) */
	char dns_servers[256];		/* "" : the system's */
	char relayhost[SMTP_HOSTNAME_MAX + 8];	/* "[HOST]:PORT", "" : MX */
	char relay_user[256];		/* relayhost_auth */
	char relay_pass[512];
	char *transport[CFG_MAX_LIST];	/* DOMAIN, TARGET pairs */
	size_t ntransport;		/* entries (pairs) */
	uint64_t max_queue_lifetime_ms, delay_warning_ms, queue_retry_ms, queue_retry_max_ms;
	uint64_t relay_connect_ms;
	uint64_t relay_reply_ms;		/* the relay's wait for a remote's reply */
	uint64_t relay_concurrency, relay_destination_concurrency;
	bool relay_enabled;		/* run the queue runner */
	/* DKIM signing of what authenticated users send from a local domain */
	char dkim_selector[64];		/* "" : no signing */
	char dkim_key_path[ACCOUNT_PATH_MAX];
	struct dkim_key *dkim;		/* read at configure time (as root); NULL: none */
	/* Inbound checks on the listen role: SPF, DKIM, DMARC (mailauth) */
	bool mail_auth;
	bool dmarc_enforce;		/* a DMARC p=reject failure is 550 5.7.1 */
};

/* service_ops.configure (core/service.h): read every key of [section] (and
 * nothing else); state_dir, cert and key come from the runner ([serve],
 * [tls]). Returns NULL with e set. */
void *smtp_conf_read(struct cfg *cfg, const char *section, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e);
void smtp_conf_free(void *conf);
/* Before binding, as root: STATE_DIR/mail and STATE_DIR/queue exist and
 * belong to the service user (uid/gid; (unsigned)-1: this process), and
 * what a crash left in the spool and the queue is removed, once, before
 * any worker receives. */
int smtp_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e);
/* The TLS context (idempotent). */
int smtp_conf_prepare(struct smtp_conf *c, ik_err *e);
/* Whether domain (lower case) is one of ours. */
bool smtp_conf_local_domain(const struct smtp_conf *c, const char *domain);
/* Bind the three roles' sockets into set, in order. */
int smtp_bind(void *conf, struct listen_set *set, ik_err *e);

struct server;

/* Serve on the loop with the sockets smtp_bind made (core/server.h):
 * sessions count against max_sessions and max_sessions_per_ip, across the
 * workers when ctx->shared is set; ctx->auth checks AUTH and finds local
 * users (NULL: no accounts database; only aliases and postmaster receive,
 * and AUTH is not offered). The mailstore and the queue are opened under
 * ctx->state_dir. */
void *smtp_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e);
/* SIGHUP (server_service_reload): new sessions get the new conf; open
 * ones keep theirs (see ftpd). */

extern const struct service_ops service_smtp;

#endif
