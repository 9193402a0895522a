/* The POP3 server: `inetkit pop3d` and the [pop3] service of `inetkit
 * serve`, giving the Maildirs smtpd delivers into to POP3 clients.
 *
 * RFC 1939 (POP3: AUTHORIZATION, TRANSACTION, UPDATE; USER/PASS, APOP),
 * RFC 2449 (CAPA, extended response codes, LOGIN-DELAY, EXPIRE,
 * PIPELINING, IMPLEMENTATION), RFC 3206 (the [SYS/TEMP], [SYS/PERM] and
 * [AUTH] codes), RFC 2595 (STLS), RFC 5034 (AUTH; SASL PLAIN RFC 4616
 * and LOGIN), RFC 8314 (implicit TLS, port 995).
 *
 *   pop3_conf.c      the [pop3] keys, their defaults and checks; TLS context
 *   pop3_server.c    POP3 on core/server: the -ERR refusal of a client over
 *                    a limit, a generation's state (mailstore, offload pool)
 *   pop3_cmd.c       the command table, CAPA, POP3's wording of the core's
 *                    refusals, the argument parsers
 *   pop3_session.c   one I/O entry point per session, replies, limits,
 *                    timeouts, the hooks around every command, the log line
 *   pop3_cmd_auth.c  USER, PASS, APOP, AUTH, STLS, CAPA; the maildrop
 *                    opened and locked on the offload pool after a login
 *   pop3_cmd_mail.c  STAT, LIST, UIDL, RETR, TOP (streamed), DELE, RSET,
 *                    NOOP, QUIT (UPDATE on the offload pool)
 *   pop3_main.c      `inetkit pop3d`: the runner with the [pop3] section
 *   pop3_service.c   the [pop3] service of the runner
 *
 * The maildrop is mailstore/mailbox.h: messages from new/ and cur/, moved
 * to cur/ at login as Dovecot does, sizes from the names' S= and W=. */
#ifndef INETKIT_POP3_POP3_H
#define INETKIT_POP3_POP3_H

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

#define POP3_DEFAULT_LISTEN "127.0.0.1:2110"
/* RFC 2449 4: a command line is at most 255 octets, CRLF included; we
 * take more (a long password), as Dovecot does. */
#define POP3_LINE_MAX 512
/* RFC 5034 4: an AUTH response line may be long. */
#define POP3_SASL_LINE_MAX 12288
#define POP3_APOP_SECRETS_MAX 1024

struct pop3_conf {
	const char *section;		/* "pop3" */
	char *listen[LISTEN_MAX_SOCKETS];		/* STLS offered */
	size_t nlisten;
	char *tls_listen[LISTEN_MAX_SOCKETS];		/* implicit TLS (995) */
	size_t ntls_listen;
	size_t tls_from;		/* set by pop3_bind: the first implicit TLS socket */
	bool allow_plaintext_auth;
	bool apop;
	char apop_secrets[ACCOUNT_PATH_MAX];	/* "name secret" lines */
	uint64_t login_delay_s;		/* 0: none (LOGIN-DELAY) */
	int64_t expire_days;		/* -1: not advertised; -2: NEVER */
	uint64_t max_errors, max_sessions, max_per_ip, auth_attempts, max_commands_login;
	uint64_t auth_ms, idle_ms;
	char state_dir[ACCOUNT_PATH_MAX];
	char config_path[ACCOUNT_PATH_MAX];
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];
	SSL_CTX *ssl;
};

/* The service_ops members (core/service.h): configure, free_conf, check
 * (STATE_DIR/mail for the service user), bind (the STARTTLS sockets, then
 * the implicit TLS ones); and the TLS context, once. */
void *pop3_conf_read(struct cfg *cfg, const char *section, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e);
void pop3_conf_free(void *conf);
int pop3_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e);
int pop3_conf_prepare(struct pop3_conf *c, ik_err *e);
int pop3_bind(void *conf, struct listen_set *set, ik_err *e);
/* The APOP secret of name from the apop_secrets file at path (blocking):
 * 1 found, 0 not, -1 error. */
int pop3_apop_secret(const char *path, const char *name, char *out, size_t outsz, ik_err *e);

struct server;
void *pop3_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e);

extern const struct service_ops service_pop3;

#endif
