/* [tls] for serve: the configured certificate and key, or a self-signed
 * pair kept in STATE/tls/ (made by core/tls's tls_self_signed, written
 * here once and renewed when it is about to expire), so that every worker
 * and every restart presents the same certificate. RFC 5280 validity. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "lib/str.h"
#include "core/tls.h"
#include "serve/serve.h"

#define RENEW_BEFORE_S 86400	/* renew a self-signed pair with a day left */

static int absolute_path(const char *p, char *out, size_t outsz)
{
	if (p[0] == '/')
		return str_copy(out, outsz, p);
	char cwd[ACCOUNT_PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	return str_fmt(out, outsz, "%s/%s", cwd, p) < 0 ? -1 : 0;
}

int serve_tls_files(struct cfg *c, char *cert, size_t certsz, char *key, size_t keysz,
		    ik_err *e)
{
	const char *vc, *vk;
	cfg_get_str(c, "tls", "cert", "PEM certificate chain, leaf first; empty: a self-signed "
		    "pair made in state_dir/tls", "", &vc, e);
	cfg_get_str(c, "tls", "key", "PEM private key of cert; empty: read from the cert file", "",
		    &vk, e);
	if (vc[0] == '\0') {
		if (vk[0] != '\0')
			return cfg_error(c, "tls", "key", e, "set without cert; give both, or "
					 "neither for a self-signed certificate");
		char state[ACCOUNT_PATH_MAX];
		if (account_state_dir(c, state, sizeof state, e) < 0)
			return -1;
		if (str_fmt(cert, certsz, "%s/tls/cert.pem", state) < 0 ||
		    str_fmt(key, keysz, "%s/tls/key.pem", state) < 0)
			return cfg_error(c, "serve", "state_dir", e, "path too long");
		return 0;
	}
	if (absolute_path(vc, cert, certsz) < 0)
		return cfg_error(c, "tls", "cert", e, "path too long");
	if (absolute_path(vk[0] ? vk : vc, key, keysz) < 0)
		return cfg_error(c, "tls", "key", e, "path too long");
	return 0;
}

/* 1 if the pair at cert/key exists and is valid for more than a day. */
static int still_good(const char *cert)
{
	FILE *f = fopen(cert, "re");
	if (f == NULL)
		return 0;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return 0;
	time_t soon = time(NULL) + RENEW_BEFORE_S;
	int ok = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
	X509_free(x);
	return ok;
}

/* Write one PEM file through a temporary name, so that a reader never
 * sees half of it. */
static int write_pem(const char *path, unsigned mode, EVP_PKEY *key, X509 *cert,
		     unsigned uid, unsigned gid, ik_err *e)
{
	char tmp[ACCOUNT_PATH_MAX + 8];
	if (str_fmt(tmp, sizeof tmp, "%s.new", path) < 0)
		return ik_err_set(e, "path too long: %s", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot write %s", tmp);
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return ik_err_errno(e, errno, "cannot write %s", tmp);
	}
	int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	if (!ok) {
		unlink(tmp);
		return ik_err_set(e, "cannot write %s", tmp);
	}
	if (uid != (unsigned)-1 && chown(tmp, uid, gid) < 0) {
		unlink(tmp);
		return ik_err_errno(e, errno, "cannot give %s to uid %u", tmp, uid);
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return ik_err_errno(e, errno, "cannot rename %s", tmp);
	}
	return 0;
}

static int make_pair(const struct serve_conf *sc, unsigned uid, unsigned gid, ik_err *e)
{
	char dir[ACCOUNT_PATH_MAX + 8];
	str_fmt(dir, sizeof dir, "%s/tls", sc->state_dir);
	if (fs_mkdir_p(dir, 0700, uid, gid, e) < 0)
		return -1;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	if (tls_self_signed(&key, &cert, e) < 0)
		return -1;
	/* The key first: a new certificate never pairs with an old key. */
	int rc = write_pem(sc->tls_key, 0600, key, NULL, uid, gid, e);
	if (rc == 0)
		rc = write_pem(sc->tls_cert, 0644, NULL, cert, uid, gid, e);
	EVP_PKEY_free(key);
	X509_free(cert);
	if (rc == 0)
		log_event(LOG_NOTICE, "tls_self_signed", "cert=%s key=%s", sc->tls_cert, sc->tls_key);
	return rc;
}

int serve_tls_prepare(const struct serve_conf *sc, bool create, unsigned uid, unsigned gid,
		      ik_err *e)
{
	if (sc->tls_self_signed) {
		if (!create || still_good(sc->tls_cert))
			return 0;
		return make_pair(sc, uid, gid, e);
	}
	/* Configured files must load, and the key must match. */
	struct tls_server_opts o = {sc->tls_cert, sc->tls_key};
	SSL_CTX *ctx = tls_server_ctx(&o, e);
	if (ctx == NULL)
		return cfg_error(sc->cfg, "tls", "cert", e, "%s", e->msg);
	SSL_CTX_free(ctx);
	return 0;
}
