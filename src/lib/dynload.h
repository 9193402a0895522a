/* Loading a shared library when it is first needed rather than linking it:
 * for the libraries that only one command uses but that bring many others
 * with them (libpq, libpcap), so that every other inetkit command starts
 * without mapping and relocating them. */
#ifndef INETKIT_LIB_DYNLOAD_H
#define INETKIT_LIB_DYNLOAD_H

#include <stddef.h>

#include "lib/error.h"

struct dynload_sym {
	const char *name;	/* the symbol */
	void **slot;		/* where its address goes */
};

/* Declares, for a function F the header declares, a pointer dl_F of its
 * exact type, to be listed with DYNLOAD_SYM(F) and called through a
 * `#define F dl_F` after it. */
#define DYNLOAD_PTR(f) static __typeof__(&f) dl_##f
#define DYNLOAD_SYM(f) {#f, (void **)&dl_##f}

/* Opens SONAME and fills every slot of SYMS (N of them), once per process
 * and thread-safe for a given SYMS (the caller's pthread_once, or a single
 * thread). 0 when all were found; else -1, every slot NULL, and E says
 * which library or symbol is missing and that PACKAGE (Debian's name)
 * provides it, for WHAT ("a PostgreSQL account store"). */
int dynload(const char *soname, const struct dynload_sym *syms, size_t n, const char *what,
	    const char *package, ik_err *e);

#endif
