#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ik_err_set(ik_err *e, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int ik_err_errno(ik_err *e, int errnum, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errnum));
	return -1;
}

int ik_err_prefix(ik_err *e, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	char old[IK_ERR_MAX];
	memcpy(old, e->msg, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", old);
	return -1;
}
