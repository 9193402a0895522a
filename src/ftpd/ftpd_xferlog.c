/* wu-ftpd xferlog(5) lines; see ftpd_xferlog.h. */
#include "ftpd/ftpd_xferlog.h"

#include <string.h>

#include "core/timeutil.h"

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* One space-free field: white space and control bytes become '_'. */
static int add_field(struct sbuf *out, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return sbuf_add(out, "* ", 2);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (sbuf_addch(out, (c <= ' ' || c == 0x7f) ? '_' : (char)c) < 0)
			return -1;
	}
	return sbuf_addch(out, ' ');
}

int ftpd_xferlog_format(struct sbuf *out, const struct ftpd_xferlog_rec *r)
{
	size_t mark = out->len;
	struct tm tm;
	struct tm *ok = r->utc ? gmtime_r(&r->when, &tm) : localtime_r(&r->when, &tm);
	if (ok == NULL)
		memset(&tm, 0, sizeof tm);
	/* The ctime(3) layout, with English names whatever the locale. */
	int rc = sbuf_printf(out, "%s %s %2d %02d:%02d:%02d %d %lu ", day_names[tm.tm_wday % 7],
			     time_month_abbr(tm.tm_mon), tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, tm.tm_year + 1900, r->seconds);
	if (rc == 0)
		rc = add_field(out, r->host);
	if (rc == 0)
		rc = sbuf_printf(out, "%llu ", r->bytes);
	if (rc == 0)
		rc = add_field(out, r->path);
	if (rc == 0)
		rc = sbuf_printf(out, "%c _ %c %c ", r->ascii ? 'a' : 'b', (char)r->direction,
				 (char)r->access);
	if (rc == 0)
		rc = add_field(out, r->user);
	if (rc == 0)
		rc = add_field(out, r->service != NULL ? r->service : "ftp");
	if (rc == 0)
		rc = sbuf_printf(out, "%d ", r->auth_user != NULL ? 1 : 0);
	if (rc == 0)
		rc = add_field(out, r->auth_user);
	if (rc == 0)
		rc = sbuf_printf(out, "%c\n", r->complete ? 'c' : 'i');
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}
