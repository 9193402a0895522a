/* TLS on FTP data connections: RFC 4217 section 10.2 recommends that the
 * server make sure a data connection comes from the same client as the
 * control connection; resuming the control connection's TLS session is
 * the proof (vsftpd's require_ssl_reuse). RFC 5077 / RFC 8446 section
 * 4.6.1: sessions travel as tickets, so each ticket this server issues
 * carries a random token of its control connection (OpenSSL's ticket
 * application data), and a data connection counts as reusing only when
 * the ticket it resumes carries that same token. A session resumed by ID
 * from the server cache (TLS 1.2 without tickets) is the very object the
 * control connection made, marked when its handshake completed. */
#include <string.h>
#include <sys/random.h>

#include "core/str.h"
#include "ftp/ftpd_int.h"

static int token_idx = -1;	/* SSL: the control connection's token */
static int match_idx = -1;	/* SSL: a ticket with that token was accepted */

static int gen_ticket(SSL *s, void *arg)
{
	(void)arg;
	const unsigned char *token = SSL_get_ex_data(s, token_idx);
	SSL_SESSION *ss = SSL_get_session(s);
	if (token != NULL && ss != NULL)
		SSL_SESSION_set1_ticket_appdata(ss, token, FTPD_TOKEN_LEN);
	return 1;
}

static SSL_TICKET_RETURN dec_ticket(SSL *s, SSL_SESSION *ss, const unsigned char *keyname,
				    size_t keyname_len, SSL_TICKET_STATUS status, void *arg)
{
	(void)keyname;
	(void)keyname_len;
	(void)arg;
	switch (status) {
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
	const unsigned char *token = SSL_get_ex_data(s, token_idx);
	void *data = NULL;
	size_t len = 0;
	if (token != NULL && SSL_SESSION_get0_ticket_appdata(ss, &data, &len) == 1 &&
	    len == FTPD_TOKEN_LEN && memcmp(data, token, len) == 0) {
		SSL_set_ex_data(s, match_idx, (void *)token);
		return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
						    : SSL_TICKET_RETURN_USE_RENEW;
	}
	/* Another connection's session: a full handshake instead, which the
	 * reuse check then refuses for data connections. */
	return SSL_TICKET_RETURN_IGNORE_RENEW;
}

int ftpd_tls_setup_ctx(SSL_CTX *ctx, ik_err *e)
{
	if (token_idx < 0)
		token_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (match_idx < 0)
		match_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (token_idx < 0 || match_idx < 0)
		return ik_err_set(e, "cannot set up TLS session tracking");
	if (SSL_CTX_set_session_ticket_cb(ctx, gen_ticket, dec_ticket, NULL) != 1)
		return ik_err_set(e, "cannot set up TLS session tickets");
	return 0;
}

static void mark_session(struct ftpd_sess *fs, SSL *ssl)
{
	SSL_SESSION *ss = SSL_get_session(ssl);
	if (ss != NULL && SSL_is_init_finished(ssl))
		SSL_SESSION_set1_ticket_appdata(ss, fs->token, FTPD_TOKEN_LEN);
}

void ftpd_tls_bind_control(struct ftpd_sess *fs)
{
	SSL *ssl = session_ssl(fs->s);
	if (ssl == NULL || token_idx < 0)
		return;
	static const unsigned char zero[FTPD_TOKEN_LEN];
	if (memcmp(fs->token, zero, sizeof zero) == 0 &&
	    getrandom(fs->token, sizeof fs->token, 0) != (ssize_t)sizeof fs->token) {
		/* Without randomness no token can be trusted: make it unmatchable. */
		memset(fs->token, 0, sizeof fs->token);
		return;
	}
	SSL_set_ex_data(ssl, token_idx, fs->token);
	mark_session(fs, ssl);
}

void ftpd_tls_unbind_control(struct ftpd_sess *fs)
{
	SSL *ssl = session_ssl(fs->s);
	if (ssl != NULL && token_idx >= 0)
		SSL_set_ex_data(ssl, token_idx, NULL);
}

SSL *ftpd_tls_data_ssl(struct ftpd_sess *fs)
{
	SSL *ssl = SSL_new(fs->srv->conf->ssl);
	if (ssl != NULL)
		SSL_set_ex_data(ssl, token_idx, fs->token);
	return ssl;
}

/* The start of every refusal: the setting that asks for it, so that a
 * client's user (Python's ftplib cannot resume) knows what to look up. */
#define REUSE_REFUSED "TLS session reuse required (tls_data_reuse): "

int ftpd_tls_check_reuse(struct ftpd_sess *fs, SSL *ssl, char *why, size_t whysz)
{
	if (!fs->srv->conf->tls_reuse)
		return 0;
	static const unsigned char zero[FTPD_TOKEN_LEN];
	if (memcmp(fs->token, zero, sizeof zero) == 0) {
		str_copy(why, whysz, REUSE_REFUSED "the control connection has no TLS session to "
			 "resume.");
		return -1;
	}
	if (!SSL_session_reused(ssl)) {
		str_copy(why, whysz, REUSE_REFUSED "the data connection did not resume the control "
			 "connection's TLS session; use a client that resumes it (curl, lftp).");
		return -1;
	}
	if (SSL_get_ex_data(ssl, match_idx) != NULL)
		return 0;
	SSL_SESSION *ss = SSL_get_session(ssl);
	void *data = NULL;
	size_t len = 0;
	if (ss != NULL && SSL_SESSION_get0_ticket_appdata(ss, &data, &len) == 1 &&
	    len == FTPD_TOKEN_LEN && memcmp(data, fs->token, len) == 0)
		return 0;
	str_copy(why, whysz, REUSE_REFUSED "the data connection resumed the TLS session of another "
		 "control connection; use a client that resumes its own (curl, lftp).");
	return -1;
}
