/* One login check from start to end, synchronously: lockout, account,
 * password or app password, state (disabled, expired), then the counters
 * and the login log in one transaction. The offload threads of
 * account_auth run it; so does `inetkit user verify`. */
#ifndef INETKIT_CORE_ACCOUNT_VERIFY_H
#define INETKIT_CORE_ACCOUNT_VERIFY_H

#include <stdint.h>

#include "core/account.h"
#include "core/account_store.h"

/* dummy_hash: a hash of a random password at the configured cost, checked
 * for unknown names so that they take as long as known ones; NULL makes
 * one on the spot. Returns 0 with r filled, or -1 with r->status =
 * ACCOUNT_ERROR and e set. */
int account_verify_sync(struct account_store *s, const struct account_policy *p,
			const struct account_query *q, const char *dummy_hash, int64_t now_ms,
			struct account_result *r, ik_err *e);

/* Unix time in milliseconds. */
int64_t account_now_ms(void);

#endif
