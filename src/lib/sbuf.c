#include "lib/sbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *sbuf_reserve(struct sbuf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		errno = EMSGSIZE;
		return NULL;
	}
	size_t need = b->len + n + 1;	/* +1 for the terminating NUL */
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		char *p = realloc(b->data, cap);
		if (p == NULL)
			return NULL;
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

void sbuf_commit(struct sbuf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

void sbuf_truncate(struct sbuf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

int sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	char *dst = sbuf_reserve(b, n);
	if (dst == NULL)
		return -1;
	if (n > 0)
		memcpy(dst, p, n);
	sbuf_commit(b, n);
	return 0;
}

int sbuf_addstr(struct sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

int sbuf_addch(struct sbuf *b, char c)
{
	return sbuf_add(b, &c, 1);
}

int sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return sbuf_add(b, small, (size_t)n);
	char *dst = sbuf_reserve(b, (size_t)n);
	if (dst == NULL)
		return -1;
	vsnprintf(dst, (size_t)n + 1, fmt, ap);
	sbuf_commit(b, (size_t)n);
	return 0;
}

int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = sbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *sbuf_cstr(const struct sbuf *b)
{
	return b->data != NULL ? b->data : "";
}
