/* Password hashes (yescrypt via libxcrypt) and app password digests. */
#include "core/account_hash.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* 32 symbols: lower-case letters and digits minus l, o, 0 and 1, which are
 * easy to misread. A power of two, so a random byte maps without bias. */
static const char token_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
#define TOKEN_CHARS 20

void account_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static int random_bytes(void *buf, size_t n, ik_err *e)
{
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return ik_err_errno(e, errno, "cannot read random bytes (getrandom)");
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int account_hash_password(const char *password, unsigned cost, char *out, size_t outsz,
			  ik_err *e)
{
	if (cost > ACCOUNT_HASH_COST_MAX)
		return ik_err_set(e, "hash cost %u is out of range 0-%d", cost, ACCOUNT_HASH_COST_MAX);
	unsigned char rnd[32];
	if (random_bytes(rnd, sizeof rnd, e) < 0)
		return -1;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn("$y$", cost, (const char *)rnd, (int)sizeof rnd, setting,
			     (int)sizeof setting) == NULL)
		return ik_err_errno(e, errno, "cannot make a yescrypt salt (libxcrypt)");
	/* struct crypt_data is 32 KiB: too much for small thread stacks. */
	struct crypt_data *cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return ik_err_set(e, "out of memory");
	int rc = 0;
	const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
	if (h == NULL || h[0] != '$')
		rc = ik_err_errno(e, errno, "yescrypt hashing failed (libxcrypt)");
	else if (strlen(h) >= outsz)
		rc = ik_err_set(e, "password hash longer than expected");
	else
		memcpy(out, h, strlen(h) + 1);
	account_wipe(cd, sizeof *cd);
	free(cd);
	return rc;
}

bool account_hash_check(const char *password, const char *hash)
{
	if (hash == NULL || hash[0] != '$')
		return false;
	struct crypt_data *cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return false;
	bool ok = false;
	const char *h = crypt_rn(password, hash, cd, (int)sizeof *cd);
	size_t n = strlen(hash);
	if (h != NULL && h[0] == '$' && strlen(h) == n)
		ok = CRYPTO_memcmp(h, hash, n) == 0;
	account_wipe(cd, sizeof *cd);
	free(cd);
	return ok;
}

int account_token_new(char *out, size_t outsz, ik_err *e)
{
	if (outsz < ACCOUNT_TOKEN_LEN + 1)
		return ik_err_set(e, "app password buffer too small");
	unsigned char rnd[TOKEN_CHARS];
	if (random_bytes(rnd, sizeof rnd, e) < 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < TOKEN_CHARS; i++) {
		if (i > 0 && i % 4 == 0)
			out[n++] = '-';
		out[n++] = token_alphabet[rnd[i] & 31];
	}
	out[n] = '\0';
	account_wipe(rnd, sizeof rnd);
	return 0;
}

int account_token_digest(const char *password, char out[ACCOUNT_DIGEST_LEN + 1])
{
	char norm[TOKEN_CHARS];
	size_t n = 0;
	for (const char *p = password; *p; p++) {
		char c = *p;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n == TOKEN_CHARS || strchr(token_alphabet, c) == NULL) {
			account_wipe(norm, sizeof norm);
			return -1;
		}
		norm[n++] = c;
	}
	if (n != TOKEN_CHARS) {
		account_wipe(norm, sizeof norm);
		return -1;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = EVP_Digest(norm, n, md, &mdlen, EVP_sha256(), NULL);
	account_wipe(norm, sizeof norm);
	if (!ok || mdlen != 32)
		return -1;
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[ACCOUNT_DIGEST_LEN] = '\0';
	return 0;
}
