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
/* Step a statement that yields at most one row: 1 with the row ready to
 * read (the caller finalizes st), 0 if none, -1 on error (both finalized). */
int store_row(struct account_store *s, sqlite3_stmt *st, ik_err *e);
/* After a `while ((rc = sqlite3_step(st)) == SQLITE_ROW)` loop, which may
 * have stopped early: finalize st; 0, or -1 if rc was an error. */
int store_rows_end(struct account_store *s, sqlite3_stmt *st, int rc, ik_err *e);
void store_text(sqlite3_stmt *st, int col, char *out, size_t outsz);

#endif
