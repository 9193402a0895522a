/* Shared inside the lookup module only: not for callers of net/lookup.h. */
#ifndef INETKIT_NET_LOOKUP_INT_H
#define INETKIT_NET_LOOKUP_INT_H

#include <stddef.h>

#include "lib/error.h"
#include "net/lookup.h"

/* lookup_run_timed for a lookup of `what`, with e saying so on a timeout. */
enum lookup_status lookup_run_named(void (*fn)(void *job), void *job, size_t size,
				    int timeout_ms, const char *what, ik_err *e);

#endif
