/* Error messages for the caller to show.
 *
 * Functions below main() never print or exit on failure: they return -1 and
 * fill an ik_err that says what was wrong and, where the user can act, what
 * to do. The caller decides whether it is fatal. */
#ifndef INETKIT_LIB_ERROR_H
#define INETKIT_LIB_ERROR_H

#include <stddef.h>

#define IK_ERR_MAX 512

typedef struct ik_err {
	char msg[IK_ERR_MAX];
} ik_err;

/* Set the message (printf format); safe to call with e == NULL. Returns -1 so
 * that `return ik_err_set(e, ...)` reads naturally. */
int ik_err_set(ik_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As ik_err_set, with ": strerror(errnum)" appended. */
int ik_err_errno(ik_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "prefix: " in front of the current message (adds context on the way up). */
int ik_err_prefix(ik_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
