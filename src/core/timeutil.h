/* The monotonic clock (POSIX clock_gettime), for timeouts, rates and
 * elapsed times: it never jumps when the wall clock is set. */
#ifndef INETKIT_CORE_TIMEUTIL_H
#define INETKIT_CORE_TIMEUTIL_H

#include <stdint.h>

/* Milliseconds since an arbitrary start. */
uint64_t time_mono_ms(void);
/* The same from the coarse clock: a tick or so behind, but no system call;
 * enough for idle timeouts checked on every event. */
uint64_t time_mono_coarse_ms(void);
/* Seconds, to the nanosecond the clock gives (for rates and pacing). */
double time_mono_s(void);

/* "Jan".."Dec" for a struct tm month (0-11): English whatever the locale,
 * as FTP listings and log formats want. */
const char *time_month_abbr(int tm_mon);

#endif
