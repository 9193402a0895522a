/* Password hashing: yescrypt ("$y$") through libxcrypt's thread-safe
 * crypt_gensalt_rn/crypt_rn, the scheme the system's own passwords use.
 * App passwords are long random strings (100 bits from getrandom), so a
 * fast hash (SHA-256) is enough for them and lets the store find one by
 * its digest. No password is ever kept in the clear. */
#ifndef INETKIT_CORE_ACCOUNT_HASH_H
#define INETKIT_CORE_ACCOUNT_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define ACCOUNT_HASH_MAX 128		/* a "$y$..." string, with room */
#define ACCOUNT_HASH_COST_MAX 11
#define ACCOUNT_TOKEN_LEN 24		/* "abcd-efgh-jkmn-pqrs-tuvw" */
#define ACCOUNT_DIGEST_LEN 64		/* SHA-256 in hex */

/* Hash password with a fresh salt. cost 0 is libxcrypt's default (5),
 * else 1..ACCOUNT_HASH_COST_MAX. */
int account_hash_password(const char *password, unsigned cost, char *out, size_t outsz,
			  ik_err *e);

/* True when password matches the stored hash (compared in constant time). */
bool account_hash_check(const char *password, const char *hash);

/* A new app password: ACCOUNT_TOKEN_LEN characters from an alphabet
 * without look-alikes, in groups of four. */
int account_token_new(char *out, size_t outsz, ik_err *e);

/* The stored digest of an app password, after normalising what a user
 * typed (dashes and spaces dropped, upper case folded). Returns -1 when
 * the text cannot be an app password (so no lookup is needed). */
int account_token_digest(const char *password, char out[ACCOUNT_DIGEST_LEN + 1]);

/* Overwrite a secret so that it does not linger in memory. */
void account_wipe(void *p, size_t n);

#endif
