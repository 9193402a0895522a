/* The IMAP server: `inetkit imapd` and the [imap] service of `inetkit serve`.
 *
 * RFC 3501 (IMAP4rev1), RFC 2595 and RFC 3501 6.2.1 (STARTTLS), RFC 8314
 * (implicit TLS, port 993), RFC 4959 (SASL-IR) with SASL PLAIN (RFC 4616),
 * RFC 7888 (LITERAL+), RFC 2177 (IDLE), RFC 4315 (UIDPLUS), RFC 6851
 * (MOVE), RFC 3691 (UNSELECT), RFC 2342 (NAMESPACE), RFC 2971 (ID),
 * RFC 5161 (ENABLE), RFC 6154 (SPECIAL-USE), RFC 4731 (ESEARCH),
 * RFC 7162 (CONDSTORE: MODSEQ in FETCH, SEARCH and STORE).
 *
 *   imap_parse*.c     the command parser (pure; fuzzed)
 *   imap_conf.c       the [imap] keys, their defaults and checks; TLS context
 *   imap_server.c     IMAP on core/server: the BYE refusal, a generation
 *   imap_cmd.c        the command table and IMAP's wording of refusals
 *   imap_session.c    one I/O entry point; assembling a command and its
 *                     literals (session_read_counted), replies, timeouts
 *   imap_cmd_auth.c   CAPABILITY NOOP LOGOUT STARTTLS LOGIN AUTHENTICATE ID
 *                     ENABLE NAMESPACE
 *   imap_cmd_mbox.c   SELECT EXAMINE CREATE DELETE RENAME SUBSCRIBE
 *                     UNSUBSCRIBE LIST LSUB STATUS APPEND
 *   imap_cmd_msg.c    FETCH STORE SEARCH COPY MOVE EXPUNGE CLOSE UNSELECT
 *                     CHECK IDLE, and their UID forms
 *   imap_folder.c     the selected folder: Maildir (mailstore/mailbox) +
 *                     index (mailstore/mail_index), sequence numbers, sync
 *   imap_mime.c       ENVELOPE, BODYSTRUCTURE and section bytes with GMime
 *   imap_main.c       `inetkit imapd`: the runner with the [imap] section
 *   imap_service.c    the [imap] service of the runner */
#ifndef INETKIT_IMAP_IMAP_H
#define INETKIT_IMAP_IMAP_H

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

#define IMAP_DEFAULT_LISTEN "127.0.0.1:2143"
#define IMAP_LINE_MAX 65536	/* one line of a command (RFC 7162 3: at least 8192) */

struct imap_conf {
	const char *section;		/* "imap" */
	char *listen[LISTEN_MAX_SOCKETS];	/* plaintext + STARTTLS */
	size_t nlisten;
	char *tls_listen[LISTEN_MAX_SOCKETS];	/* implicit TLS */
	size_t ntls_listen;
	size_t tls_from;		/* set by imap_bind: the first implicit-TLS socket */
	bool login_plaintext;		/* LOGIN/AUTHENTICATE without TLS */
	uint64_t max_literal;		/* APPEND and any literal */
	uint64_t max_sessions, max_per_ip, max_errors, auth_attempts;
	uint64_t max_per_user;		/* logged-in sessions of one user, per worker; 0: any */
	uint64_t preauth_ms, auth_ms;	/* idle timeouts before / after login */
	char state_dir[ACCOUNT_PATH_MAX];
	char config_path[ACCOUNT_PATH_MAX];
	char cert[ACCOUNT_PATH_MAX], key[ACCOUNT_PATH_MAX];
	SSL_CTX *ssl;
};

/* The service_ops members (core/service.h): configure, free_conf, check
 * (STATE_DIR/mail for the service user), bind (the STARTTLS sockets, then
 * the implicit TLS ones); and the TLS context, once. */
void *imap_conf_read(struct cfg *cfg, const char *section, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e);
void imap_conf_free(void *conf);
int imap_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e);
int imap_conf_prepare(struct imap_conf *c, ik_err *e);
int imap_bind(void *conf, struct listen_set *set, ik_err *e);

struct server;
void *imap_server_start(void *conf, struct loop *l, const struct listen_set *set,
			const struct service_ctx *ctx, ik_err *e);

extern const struct service_ops service_imap;

#endif
