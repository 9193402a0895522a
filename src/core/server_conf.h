/* What the conf of every session server (ftpd, smtpd, pop3d, imapd)
 * shares, written once: the paths the runner hands it (state directory,
 * [tls] files, the config's name), its TLS context made from them, the
 * state subdirectories it needs checked before the workers start, and its
 * listen lists bound in order. No RFC of its own: RFC 8314 (implicit TLS
 * ports) is why a server binds more than one list. */
#ifndef INETKIT_CORE_SERVER_CONF_H
#define INETKIT_CORE_SERVER_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "core/config.h"
#include "core/listener.h"
#include "lib/error.h"

struct service_ctx;

/* ctx's state directory (ACCOUNT_DEFAULT_STATE_DIR without one) and [tls]
 * files into the conf's buffers of size bytes each (cert and key stay as
 * they are without a [tls] file), and cfg's path into config_path (NULL:
 * not kept). -1 with e set when a path does not fit. */
int server_conf_paths(const struct service_ctx *ctx, const struct cfg *cfg, size_t size,
		      char *state_dir, char *cert, char *key, char *config_path, ik_err *e);

/* *ssl made from the cert and key files ("" for cert: a self-signed
 * certificate in memory; "" for key: in the cert file), unless there is
 * one already. */
int server_conf_tls(SSL_CTX **ssl, const char *cert, const char *key, ik_err *e);

/* A reload with no certificate file before or now keeps the certificate
 * made in memory, which clients may have pinned: *ssl shares now_ssl (one
 * more reference; each conf frees its own). */
void server_conf_tls_keep(SSL_CTX **ssl, const char *cert, SSL_CTX *now_ssl,
			  const char *now_cert);

/* STATE_DIR/NAME made (0700) for the service user and usable by it; an
 * error names [serve] state_dir, and role says what the server does there
 * ("the POP3 server reads mail there"). */
int server_conf_state_subdir(struct cfg *cfg, const char *state_dir, const char *name,
			     const char *user, unsigned uid, unsigned gid, const char *role,
			     ik_err *e);

/* Bind the n specs (none: nothing) after what set holds; *from (may be
 * NULL) becomes the index of this list's first socket, so that a session
 * knows by its socket's index which list it came in on. */
int server_conf_bind(struct listen_set *set, char *const *specs, size_t n, size_t *from,
		     ik_err *e);

#endif
