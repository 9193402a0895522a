/* Bounded, growable byte string.
 *
 * Every sbuf is given its maximum when it is created; growing past it fails
 * with -1 (errno = EMSGSIZE) and leaves the contents as they were, so a
 * client can never make us allocate without bound. The data is always
 * NUL-terminated for convenience, but may contain NUL bytes. */
#ifndef INETKIT_LIB_SBUF_H
#define INETKIT_LIB_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
	char *data;	/* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* largest len allowed */
};

#define SBUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void sbuf_init(struct sbuf *b, size_t max);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);	/* len = 0, keeps the memory */

int sbuf_add(struct sbuf *b, const void *p, size_t n);
int sbuf_addstr(struct sbuf *b, const char *s);
int sbuf_addch(struct sbuf *b, char c);
int sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* Make room for n more bytes; returns a pointer to write them at, or NULL.
 * Commit what was written with sbuf_commit. */
char *sbuf_reserve(struct sbuf *b, size_t n);
void sbuf_commit(struct sbuf *b, size_t n);
void sbuf_truncate(struct sbuf *b, size_t len);

/* "" when empty, never NULL. */
const char *sbuf_cstr(const struct sbuf *b);

#endif
