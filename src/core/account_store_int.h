/* Statement helpers shared by the account store's files (not for
 * services: they use core/account_store.h). */
#ifndef INETKIT_CORE_ACCOUNT_STORE_INT_H
#define INETKIT_CORE_ACCOUNT_STORE_INT_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/account_store.h"

int store_prep(struct account_store *s, const char *sql, sqlite3_stmt **st, ik_err *e);
/* Set e from the connection's last error, finalize st; returns -1. */
int store_fail(struct account_store *s, sqlite3_stmt *st, ik_err *e);
/* Step a statement without rows and finalize it: 1 if a row changed, 0 if
 * none, -1 on error. */
int store_run(struct account_store *s, sqlite3_stmt *st, ik_err *e);
void store_text(sqlite3_stmt *st, int col, char *out, size_t outsz);

#endif
