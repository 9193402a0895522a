/* Temporary lockout after repeated login failures, per account name and
 * per client address. The counters live in the account store (table
 * failures) so that every worker process sees the same ones: a client
 * cannot multiply its attempts by landing on different workers.
 *
 * A key ("user:NAME" or "ip:ADDR") that fails `limit` times within
 * `window` is locked for `lockout`; when the lock ends it starts afresh.
 * A successful login clears its account's counter (not the address's: one
 * good password must not reset an attacker's count for other names). */
#ifndef INETKIT_CORE_ACCOUNT_LOCKOUT_H
#define INETKIT_CORE_ACCOUNT_LOCKOUT_H

#include <stdint.h>

#include "core/account_store.h"

#define ACCOUNT_LOCKOUT_KEY_MAX 96

/* "user:" or "ip:" + value, truncated to fit. */
void account_lockout_key(char *out, size_t outsz, const char *kind, const char *value);

/* 1 if key is locked at now_ms (*until = end of the lock, unix ms), 0 if
 * not, -1 on error. */
int account_lockout_check(struct account_store *s, const char *key, int64_t now_ms,
			  int64_t *until, ik_err *e);
/* Count a failure; 1 if it locked the key, 0 if not, -1 on error. limit 0
 * turns the lockout off for this kind of key. */
int account_lockout_fail(struct account_store *s, const char *key, unsigned limit,
			 uint64_t window_ms, uint64_t lockout_ms, int64_t now_ms, ik_err *e);
int account_lockout_clear(struct account_store *s, const char *key, ik_err *e);
/* Forget counters whose window and lock are over. */
int account_lockout_prune(struct account_store *s, uint64_t window_ms, int64_t now_ms, ik_err *e);

#endif
