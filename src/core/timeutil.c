/* The monotonic clock in the units callers want (POSIX clock_gettime), and
 * locale-free month names. */
#include "core/timeutil.h"

#include <time.h>

static uint64_t to_ms(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000;
}

uint64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return to_ms(&ts);
}

uint64_t time_mono_coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return to_ms(&ts);
}

double time_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *time_month_abbr(int tm_mon)
{
	static const char *const month_names[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	return month_names[(unsigned)tm_mon % 12];
}
