/* TLS contexts for servers and clients (OpenSSL 3). RFC 8446 and RFC 5246
 * (TLS 1.3 and 1.2; nothing older is offered or accepted), RFC 6066
 * section 3 (SNI), RFC 6125 / RFC 9525 (the host name or IP address is
 * checked against the certificate), RFC 7301 (ALPN), RFC 5077 / RFC 8446
 * section 2.2 (session tickets and resumption).
 *
 * Server contexts load a certificate chain and key from PEM files, or,
 * without them, use a self-signed certificate made in memory at start-up:
 * an EC P-256 key, CN=localhost, subjectAltName DNS:localhost,
 * IP:127.0.0.1, IP:::1, valid from one hour ago for 30 days. It is new at
 * every start and is never written to disk; clients must skip verification
 * (or pin it) to use it.
 *
 * Both kinds keep the session cache on and tickets enabled, so that a
 * second connection (the FTP data channel) can resume the first's session:
 * a client passes the earlier SSL_SESSION to tls_client_ssl(); a server
 * shares one SSL_CTX between its control and data connections.
 *
 * An unexpected EOF (a peer that closes without close_notify) is read as
 * an end of file, like most servers do (SSL_OP_IGNORE_UNEXPECTED_EOF). */
#ifndef INETKIT_CORE_TLS_H
#define INETKIT_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "lib/error.h"

struct tls_server_opts {
	const char *cert_file;	/* PEM chain, leaf first; NULL: self-signed */
	const char *key_file;	/* PEM private key; NULL with cert_file: in the same file */
};

SSL_CTX *tls_server_ctx(const struct tls_server_opts *o, ik_err *e);

/* Server ALPN (RFC 7301): choose the first of protos the client offers.
 * With required set, a client that offers ALPN but none of protos fails
 * the handshake (no_application_protocol alert); a client that offers no
 * ALPN at all is let through. The FTP server passes {"ftp"}, required. */
int tls_server_set_alpn(SSL_CTX *ctx, const char *const *protos, size_t n, bool required,
			ik_err *e);

struct tls_client_opts {
	const char *ca_file;	/* trust only these CAs; NULL: the system store */
	bool insecure;		/* no verification at all (--insecure) */
	const char *alpn;	/* one protocol to offer, or NULL */
};

SSL_CTX *tls_client_ctx(const struct tls_client_opts *o, ik_err *e);

/* A client SSL for host (name or IP literal): SNI for names, and the name
 * or address the certificate must match. resume: an earlier session to
 * resume, or NULL. */
SSL *tls_client_ssl(SSL_CTX *ctx, const char *host, SSL_SESSION *resume, ik_err *e);

/* Why a handshake failed, in words: the verification result when the
 * certificate was refused ("certificate verify failed: hostname mismatch"),
 * else the OpenSSL error err (0: take it from the error queue). */
const char *tls_error_text(SSL *ssl, unsigned long err, char *buf, size_t bufsz);

/* The self-signed certificate described above. */
int tls_self_signed(EVP_PKEY **key, X509 **cert, ik_err *e);

#endif
