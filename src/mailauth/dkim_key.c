/* DKIM keys: private keys in PEM (RSA, RFC 6376 3.3.1; Ed25519, RFC 8463),
 * the key record published in DNS (RFC 6376 3.6.1: v=DKIM1; k=; p=), and
 * reading that record back to verify with. OpenSSL 3 does the key work. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/fsutil.h"
#include "lib/base64.h"
#include "lib/str.h"
#include "mailauth/mailauth_int.h"

struct dkim_key {
	EVP_PKEY *pk;
	enum dkim_alg alg;
};

/* RFC 8301 3.2: verifiers must not accept RSA keys under 1024 bits. */
#define DKIM_RSA_MIN_BITS 1024

static int ssl_err(ik_err *e, const char *what)
{
	char buf[256];
	unsigned long code = ERR_get_error();
	ERR_clear_error();
	if (code == 0)
		return ik_err_set(e, "%s", what);
	ERR_error_string_n(code, buf, sizeof buf);
	return ik_err_set(e, "%s: %s", what, buf);
}

static struct dkim_key *wrap(EVP_PKEY *pk, const char *where, ik_err *e)
{
	enum dkim_alg alg;
	if (EVP_PKEY_base_id(pk) == EVP_PKEY_ED25519) {
		alg = DKIM_ED25519_SHA256;
	} else if (EVP_PKEY_base_id(pk) == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pk) < DKIM_RSA_MIN_BITS) {
			ik_err_set(e, "%s: an RSA key of %d bits is too small for DKIM (1024 at "
				   "least, 2048 advised)", where, EVP_PKEY_get_bits(pk));
			EVP_PKEY_free(pk);
			return NULL;
		}
		alg = DKIM_RSA_SHA256;
	} else {
		ik_err_set(e, "%s: not an RSA or Ed25519 key", where);
		EVP_PKEY_free(pk);
		return NULL;
	}
	struct dkim_key *k = calloc(1, sizeof *k);
	if (k == NULL) {
		EVP_PKEY_free(pk);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	k->pk = pk;
	k->alg = alg;
	return k;
}

struct dkim_key *dkim_key_load(const char *path, ik_err *e)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		ik_err_errno(e, errno, "cannot open the DKIM key %s", path);
		return NULL;
	}
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL) {
		char what[300];
		str_fmt(what, sizeof what, "%s is not a PEM private key (make one with `inetkit "
			"dkim keygen`)", path);
		ssl_err(e, what);
		return NULL;
	}
	return wrap(pk, path, e);
}

void dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pk);
	free(k);
}

enum dkim_alg dkim_key_alg(const struct dkim_key *k)
{
	return k->alg;
}

EVP_PKEY *dkim_key_pkey(const struct dkim_key *k)
{
	return k->pk;
}

struct dkim_key *dkim_key_generate(enum dkim_alg alg, unsigned bits, ik_err *e)
{
	EVP_PKEY *pk = NULL;
	if (alg == DKIM_ED25519_SHA256) {
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		if (bits < DKIM_RSA_MIN_BITS || bits > 8192) {
			ik_err_set(e, "--bits %u: an RSA key for DKIM has 1024 to 8192 bits (2048 "
				   "advised)", bits);
			return NULL;
		}
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	}
	if (pk == NULL) {
		ssl_err(e, "cannot generate the key");
		return NULL;
	}
	return wrap(pk, "new key", e);
}

int dkim_key_write(const struct dkim_key *k, const char *path, ik_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ik_err_errno(e, errno, errno == EEXIST ? "%s exists already; a key is never "
				    "overwritten (remove it first)" : "cannot create %s", path);
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -1;
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k->pk, NULL, NULL, 0, NULL, NULL) != 1) {
		ssl_err(e, "cannot write the key as PEM");
	} else {
		char *data;
		long n = BIO_get_mem_data(bio, &data);
		if (n <= 0 || fs_write_all(fd, data, (size_t)n) < 0 || fsync(fd) < 0)
			ik_err_errno(e, errno, "cannot write %s", path);
		else
			rc = 0;
	}
	BIO_free(bio);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int dkim_key_txt(const struct dkim_key *k, struct sbuf *out, ik_err *e)
{
	unsigned char raw[32];
	unsigned char *der = NULL;
	const unsigned char *pub;
	size_t n;
	if (k->alg == DKIM_ED25519_SHA256) {
		/* RFC 8463 4.2: p= is the bare 32-byte key. */
		n = sizeof raw;
		if (EVP_PKEY_get_raw_public_key(k->pk, raw, &n) != 1)
			return ssl_err(e, "cannot read the public key");
		pub = raw;
	} else {
		int len = i2d_PUBKEY(k->pk, &der);	/* SubjectPublicKeyInfo */
		if (len <= 0)
			return ssl_err(e, "cannot encode the public key");
		pub = der;
		n = (size_t)len;
	}
	size_t bsz = base64_encoded_size(n);
	char *b64 = malloc(bsz);
	int rc = -1;
	if (b64 == NULL)
		ik_err_set(e, "out of memory");
	else if (base64_encode(pub, n, b64, bsz) < 0)
		ik_err_set(e, "cannot encode the public key");
	else if (sbuf_printf(out, "v=DKIM1; k=%s; p=%s",
			     k->alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa", b64) < 0)
		ik_err_set(e, "the record is too long");
	else
		rc = 0;
	free(b64);
	OPENSSL_free(der);
	return rc;
}

unsigned char *mauth_b64_decode(const char *s, size_t *outlen)
{
	size_t len = strlen(s), k = 0;
	char *clean = malloc(len + 1);
	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			clean[k++] = s[i];
	clean[k] = '\0';
	unsigned char *out = malloc(k / 4 * 3 + 3);
	long n = out != NULL ? base64_decode(clean, k, out, k / 4 * 3 + 3) : -1;
	free(clean);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n;
	return out;
}

EVP_PKEY *dkim_key_record_parse(const char *txt, enum dkim_alg alg, char *why, size_t whysz)
{
	struct mauth_tags t;
	ik_err e;
	if (mauth_tags_parse(txt, strlen(txt), &t, &e) < 0) {
		str_copy(why, whysz, "key record syntax");
		return NULL;
	}
	EVP_PKEY *pk = NULL;
	const char *v = mauth_tags_get(&t, "v"), *kt = mauth_tags_get(&t, "k");
	const char *h = mauth_tags_get(&t, "h"), *p = mauth_tags_get(&t, "p");
	const char *want = alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
	if (v != NULL && (strcmp(v, "DKIM1") != 0 || strcmp(t.t[0].name, "v") != 0)) {
		str_copy(why, whysz, "key record v= is not DKIM1");
	} else if (strcmp(kt != NULL ? kt : "rsa", want) != 0) {
		str_copy(why, whysz, "key type does not match a=");
	} else if (h != NULL && strstr(h, "sha256") == NULL) {
		str_copy(why, whysz, "key record h= excludes sha256");
	} else if (p == NULL) {
		str_copy(why, whysz, "key record has no p=");
	} else {
		size_t n = 0;
		unsigned char *der = p[0] != '\0' ? mauth_b64_decode(p, &n) : NULL;
		if (p[0] == '\0') {
			str_copy(why, whysz, "key revoked");
		} else if (der == NULL) {
			str_copy(why, whysz, "key record p= is not base64");
		} else if (alg == DKIM_ED25519_SHA256) {
			if (n == 32)
				pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, n);
			if (pk == NULL)
				str_copy(why, whysz, "bad ed25519 key");
		} else {
			const unsigned char *q = der;
			pk = d2i_PUBKEY(NULL, &q, (long)n);
			if (pk == NULL) {	/* some publish the bare RSAPublicKey */
				q = der;
				pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)n);
			}
			if (pk == NULL || EVP_PKEY_base_id(pk) != EVP_PKEY_RSA) {
				EVP_PKEY_free(pk);
				pk = NULL;
				str_copy(why, whysz, "bad rsa key");
			} else if (EVP_PKEY_get_bits(pk) < DKIM_RSA_MIN_BITS) {
				EVP_PKEY_free(pk);
				pk = NULL;
				str_copy(why, whysz, "rsa key under 1024 bits");
			}
		}
		free(der);
	}
	ERR_clear_error();
	mauth_tags_free(&t);
	return pk;
}
