/* Expiry times for guest accounts: ISO 8601 dates and date-times (the
 * RFC 3339 profile, plus a date alone and a space for the 'T'), or a
 * duration from now. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/account.h"
#include "lib/str.h"

/* n digits at *p as a number; advances *p. -1 if not n digits. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int parse_duration(const char *s, int64_t *secs)
{
	size_t n = strlen(s);
	if (n < 2 || n > 12)
		return -1;
	char num[16];
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	uint64_t v;
	if (str_to_u64(num, 100000000, &v) < 0 || v == 0)
		return -1;
	static const struct { char u; int64_t mul; } units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s[n - 1] == units[i].u) {
			*secs = (int64_t)v * units[i].mul;
			return 0;
		}
	return -1;
}

/* "+02:00", "-0530", "Z" or "" -> offset seconds east of UTC; *zoned. */
static int parse_zone(const char *p, int *off, bool *zoned)
{
	*off = 0;
	*zoned = true;
	if (*p == '\0') {
		*zoned = false;
		return 0;
	}
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		return 0;
	if (p[0] != '+' && p[0] != '-')
		return -1;
	int sign = p[0] == '-' ? -1 : 1;
	p++;
	int h = digits(&p, 2);
	if (*p == ':')
		p++;
	int m = digits(&p, 2);
	if (h < 0 || m < 0 || h > 23 || m > 59 || *p != '\0')
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

static int parse_date(const char *s, int64_t *out)
{
	const char *p = s;
	int y = digits(&p, 4);
	if (y < 0 || *p++ != '-')
		return -1;
	int mo = digits(&p, 2);
	if (mo < 1 || mo > 12 || *p++ != '-')
		return -1;
	int d = digits(&p, 2);
	if (d < 1 || d > days_in(y, mo))
		return -1;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	bool date_only = *p == '\0';
	if (!date_only) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		tm.tm_hour = digits(&p, 2);
		if (tm.tm_hour < 0 || tm.tm_hour > 23 || *p++ != ':')
			return -1;
		tm.tm_min = digits(&p, 2);
		if (tm.tm_min < 0 || tm.tm_min > 59)
			return -1;
		if (*p == ':') {
			p++;
			tm.tm_sec = digits(&p, 2);
			if (tm.tm_sec < 0 || tm.tm_sec > 59)
				return -1;
		}
	} else {
		tm.tm_mday++;	/* the end of that day; timegm/mktime carry over */
	}
	int off;
	bool zoned;
	if (parse_zone(p, &off, &zoned) < 0)
		return -1;
	time_t t = zoned ? timegm(&tm) - off : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

int account_parse_expiry(const char *s, int64_t now, int64_t *out, ik_err *e)
{
	int64_t secs;
	if (parse_duration(s, &secs) == 0) {
		*out = now + secs;
		return 0;
	}
	if (parse_date(s, out) < 0)
		return ik_err_set(e, "'%s' is not a date (2026-12-31, 2026-12-31T18:00, with Z or "
				  "+02:00 for a zone) or a duration (30m, 12h, 7d, 2w)", s);
	if (*out <= now)
		return ik_err_set(e, "'%s' is in the past", s);
	return 0;
}

const char *account_format_time(int64_t t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(buf, bufsz, "?");
	return buf;
}
