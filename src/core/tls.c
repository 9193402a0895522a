/* TLS contexts; the RFCs and policies are in tls.h. */
#include "core/tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/str.h"

#define SELF_SIGNED_DAYS 30

/* The latest OpenSSL error as text, for messages. */
static const char *ssl_reason(unsigned long err, char *buf, size_t bufsz)
{
	if (err == 0)
		err = ERR_peek_last_error();
	if (err == 0) {
		str_copy(buf, bufsz, "unknown TLS error");
		return buf;
	}
	const char *r = ERR_reason_error_string(err);
	if (r != NULL)
		str_copy(buf, bufsz, r);
	else
		ERR_error_string_n(err, buf, bufsz);
	return buf;
}

static void ctx_common(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* libevent retries a blocked SSL_write from a buffer that may move;
	 * idle connections give their read/write buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

int tls_self_signed(EVP_PKEY **keyp, X509 **certp, ik_err *e)
{
	char why[160];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	BIGNUM *serial = BN_new();
	if (key == NULL || cert == NULL || serial == NULL)
		goto fail;
	if (!X509_set_version(cert, X509_VERSION_3) || !BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL)
		goto fail;
	/* An hour back, for clients whose clock is a little behind. */
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * SELF_SIGNED_DAYS) == NULL)
		goto fail;
	X509_NAME *name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"inetkit self-signed", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key))
		goto fail;
	if (add_ext(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0 ||
	    add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") < 0)
		goto fail;
	if (X509_sign(cert, key, EVP_sha256()) == 0)
		goto fail;
	BN_free(serial);
	*keyp = key;
	*certp = cert;
	return 0;
fail:
	ik_err_set(e, "cannot make a self-signed certificate: %s", ssl_reason(0, why, sizeof why));
	BN_free(serial);
	X509_free(cert);
	EVP_PKEY_free(key);
	return -1;
}

SSL_CTX *tls_server_ctx(const struct tls_server_opts *o, ik_err *e)
{
	char why[160];
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ik_err_set(e, "cannot create a TLS context: %s", ssl_reason(0, why, sizeof why));
		return NULL;
	}
	ctx_common(ctx);
	/* Resumption across the connections of one server (FTP data). */
	static const unsigned char sid_ctx[] = "inetkit";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (o == NULL || o->cert_file == NULL) {
		EVP_PKEY *key;
		X509 *cert;
		if (tls_self_signed(&key, &cert, e) < 0) {
			SSL_CTX_free(ctx);
			return NULL;
		}
		int ok = SSL_CTX_use_certificate(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, key);
		X509_free(cert);
		EVP_PKEY_free(key);
		if (!ok) {
			ik_err_set(e, "cannot use the self-signed certificate: %s",
				   ssl_reason(0, why, sizeof why));
			SSL_CTX_free(ctx);
			return NULL;
		}
		return ctx;
	}
	const char *keyf = o->key_file != NULL ? o->key_file : o->cert_file;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
		ik_err_set(e, "cannot load the certificate '%s': %s (give a PEM file, leaf "
			   "certificate first)", o->cert_file, ssl_reason(0, why, sizeof why));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, keyf, SSL_FILETYPE_PEM) != 1) {
		ik_err_set(e, "cannot load the private key '%s': %s (give a PEM file)", keyf,
			   ssl_reason(0, why, sizeof why));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ik_err_set(e, "the private key '%s' does not belong to the certificate '%s'", keyf,
			   o->cert_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- ALPN ---- */

struct alpn {
	bool required;
	size_t len;
	unsigned char wire[];	/* length-prefixed names, RFC 7301 section 3.1 */
};

static int alpn_index = -1;

static void alpn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	const struct alpn *a = arg;
	unsigned char *sel;
	unsigned char sellen;
	if (SSL_select_next_proto(&sel, &sellen, a->wire, (unsigned)a->len, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		*outlen = sellen;
		return SSL_TLSEXT_ERR_OK;
	}
	return a->required ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

int tls_server_set_alpn(SSL_CTX *ctx, const char *const *protos, size_t n, bool required,
			ik_err *e)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(protos[i]);
		if (l == 0 || l > 255)
			return ik_err_set(e, "ALPN protocol name '%s' must be 1 to 255 bytes", protos[i]);
		total += 1 + l;
	}
	if (alpn_index < 0)
		alpn_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, alpn_free);
	struct alpn *a = malloc(sizeof *a + total);
	if (a == NULL || alpn_index < 0) {
		free(a);
		return ik_err_set(e, "out of memory");
	}
	a->required = required;
	a->len = total;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(protos[i]);
		a->wire[off++] = (unsigned char)l;
		memcpy(a->wire + off, protos[i], l);
		off += l;
	}
	free(SSL_CTX_get_ex_data(ctx, alpn_index));
	SSL_CTX_set_ex_data(ctx, alpn_index, a);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, a);
	return 0;
}

/* ---- clients ---- */

SSL_CTX *tls_client_ctx(const struct tls_client_opts *o, ik_err *e)
{
	char why[160];
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ik_err_set(e, "cannot create a TLS context: %s", ssl_reason(0, why, sizeof why));
		return NULL;
	}
	ctx_common(ctx);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		int ok = o->ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
					    : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			if (o->ca_file != NULL)
				ik_err_set(e, "cannot load CA certificates from '%s': %s", o->ca_file,
					   ssl_reason(0, why, sizeof why));
			else
				ik_err_set(e, "cannot load the system's CA certificates: %s",
					   ssl_reason(0, why, sizeof why));
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	if (o->alpn != NULL) {
		size_t l = strlen(o->alpn);
		unsigned char wire[256];
		if (l == 0 || l > 255) {
			SSL_CTX_free(ctx);
			ik_err_set(e, "ALPN protocol name '%s' must be 1 to 255 bytes", o->alpn);
			return NULL;
		}
		wire[0] = (unsigned char)l;
		memcpy(wire + 1, o->alpn, l);
		SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)(l + 1));
	}
	return ctx;
}

SSL *tls_client_ssl(SSL_CTX *ctx, const char *host, SSL_SESSION *resume, ik_err *e)
{
	char why[160];
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		ik_err_set(e, "cannot create a TLS session: %s", ssl_reason(0, why, sizeof why));
		return NULL;
	}
	unsigned char addr[16];
	bool literal = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	int ok;
	if (literal) {
		/* RFC 6066: no SNI for addresses; match the iPAddress SAN. */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		ok = SSL_set_tlsext_host_name(ssl, host) && SSL_set1_host(ssl, host);
	}
	if (!ok) {
		SSL_free(ssl);
		ik_err_set(e, "cannot set the TLS server name '%s'", host);
		return NULL;
	}
	if (resume != NULL)
		SSL_set_session(ssl, resume);
	return ssl;
}

const char *tls_error_text(SSL *ssl, unsigned long err, char *buf, size_t bufsz)
{
	if (ssl != NULL) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK) {
			str_fmt(buf, bufsz, "certificate verify failed: %s",
				X509_verify_cert_error_string(v));
			return buf;
		}
	}
	return ssl_reason(err, buf, bufsz);
}
