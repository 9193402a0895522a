/* Listing formats: LIST (`ls -l` style), NLST (RFC 959), MLSD/MLST facts
 * (RFC 3659 section 7), MDTM time-val (RFC 3659 section 2.3). */
#include "ftpd/ftpd_list.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "core/timeutil.h"

/* Half of the mean Gregorian year, as GNU ls uses for "recent". */
#define SIX_MONTHS_S (31556952 / 2)

bool ftpd_list_name_ok(const char *name)
{
	return strpbrk(name, "\r\n") == NULL;
}

void ftpd_list_mode_string(mode_t mode, char buf[11])
{
	char t = '?';
	switch (mode & S_IFMT) {
	case S_IFREG: t = '-'; break;
	case S_IFDIR: t = 'd'; break;
	case S_IFLNK: t = 'l'; break;
	case S_IFCHR: t = 'c'; break;
	case S_IFBLK: t = 'b'; break;
	case S_IFIFO: t = 'p'; break;
	case S_IFSOCK: t = 's'; break;
	}
	buf[0] = t;
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		buf[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	/* setuid, setgid and sticky show in the x columns. */
	if (mode & S_ISUID)
		buf[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		buf[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[9] = (mode & S_IXOTH) ? 't' : 'T';
	buf[10] = '\0';
}

int ftpd_list_date(time_t t, time_t now, char *buf, size_t bufsz)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return str_fmt(buf, bufsz, "Jan 01  1970") < 0 ? -1 : 0;
	const char *mon = time_month_abbr(tm.tm_mon);
	bool recent = t > now - SIX_MONTHS_S && t <= now;
	int r = recent ? str_fmt(buf, bufsz, "%s %02d %02d:%02d", mon, tm.tm_mday, tm.tm_hour,
				 tm.tm_min)
		       : str_fmt(buf, bufsz, "%s %02d  %04d", mon, tm.tm_mday, tm.tm_year + 1900);
	return r < 0 ? -1 : 0;
}

int ftpd_list_timeval(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	return str_fmt(buf, bufsz, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) < 0 ? -1 : 0;
}

static int list_line_end(struct sbuf *out, size_t mark, int r)
{
	if (r < 0) {
		sbuf_truncate(out, mark);
		return -1;
	}
	return 0;
}

int ftpd_list_ls_line(struct sbuf *out, const struct stat *st, const char *name,
		      const char *link_target, const struct ftpd_list_ctx *ctx)
{
	if (!ftpd_list_name_ok(name) || (link_target != NULL && !ftpd_list_name_ok(link_target)))
		return 1;
	char mode[11], date[24], owner[24], group[24];
	ftpd_list_mode_string(st->st_mode, mode);
	ftpd_list_date(st->st_mtime, ctx->now, date, sizeof date);
	if (ctx->owner != NULL)
		str_copy(owner, sizeof owner, ctx->owner);
	else
		str_fmt(owner, sizeof owner, "%u", (unsigned)st->st_uid);
	if (ctx->group != NULL)
		str_copy(group, sizeof group, ctx->group);
	else
		str_fmt(group, sizeof group, "%u", (unsigned)st->st_gid);
	size_t mark = out->len;
	int r = sbuf_printf(out, "%s %4lu %-8s %-8s %12lld %s %s", mode,
			    (unsigned long)st->st_nlink, owner, group, (long long)st->st_size, date,
			    name);
	if (r == 0 && S_ISLNK(st->st_mode) && link_target != NULL)
		r = sbuf_printf(out, " -> %s", link_target);
	if (r == 0)
		r = sbuf_add(out, "\r\n", 2);
	return list_line_end(out, mark, r);
}

int ftpd_list_nlst_line(struct sbuf *out, const char *name)
{
	if (!ftpd_list_name_ok(name))
		return 1;
	size_t mark = out->len;
	int r = sbuf_addstr(out, name);
	if (r == 0)
		r = sbuf_add(out, "\r\n", 2);
	return list_line_end(out, mark, r);
}

/* Which of read/write/execute the context's identity has on st. */
static void access_bits(const struct stat *st, const struct ftpd_list_ctx *ctx, bool *r,
			bool *w, bool *x)
{
	mode_t m = st->st_mode;
	if (ctx->uid == 0) {
		*r = *w = true;
		*x = S_ISDIR(m) || (m & 0111);
		return;
	}
	unsigned shift = 0;	/* other */
	bool in_group = st->st_gid == ctx->gid;
	for (size_t i = 0; i < ctx->ngroups && !in_group; i++)
		in_group = ctx->groups[i] == st->st_gid;
	if (st->st_uid == ctx->uid)
		shift = 6;
	else if (in_group)
		shift = 3;
	*r = (m >> shift) & 4;
	*w = (m >> shift) & 2;
	*x = (m >> shift) & 1;
}

void ftpd_list_perm(const struct stat *st, enum ftpd_mlsx_kind kind,
		    const struct ftpd_list_ctx *ctx, char buf[16])
{
	bool r, w, x;
	access_bits(st, ctx, &r, &w, &x);
	w = w && ctx->writable;
	/* Delete and rename act on the entry's directory; for cdir/pdir
	 * that directory is not the one we know about. */
	bool pw = ctx->writable && ctx->parent_writable && kind == FTPD_MLSX_ENTRY;
	size_t n = 0;
	if (S_ISDIR(st->st_mode)) {
		if (w && x)
			buf[n++] = 'c';
		if (pw)
			buf[n++] = 'd';
		if (x)
			buf[n++] = 'e';
		if (pw)
			buf[n++] = 'f';
		if (r && x)
			buf[n++] = 'l';
		if (w && x) {
			buf[n++] = 'm';
			buf[n++] = 'p';
		}
	} else {
		if (w)
			buf[n++] = 'a';
		if (pw) {
			buf[n++] = 'd';
			buf[n++] = 'f';
		}
		if (r)
			buf[n++] = 'r';
		/* STOR replaces through a temporary + rename: it needs both. */
		if (w && pw)
			buf[n++] = 'w';
	}
	buf[n] = '\0';
}

static const char *type_fact(const struct stat *st, enum ftpd_mlsx_kind kind)
{
	if (kind == FTPD_MLSX_CDIR)
		return "cdir";
	if (kind == FTPD_MLSX_PDIR)
		return "pdir";
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "OS.unix=symlink";
	case S_IFCHR: return "OS.unix=chr";
	case S_IFBLK: return "OS.unix=blk";
	case S_IFIFO: return "OS.unix=fifo";
	case S_IFSOCK: return "OS.unix=socket";
	default: return "OS.unix=unknown";
	}
}

static int mlsx_facts(struct sbuf *out, const struct stat *st, enum ftpd_mlsx_kind kind,
		      const struct ftpd_list_ctx *ctx)
{
	unsigned f = ctx->facts;
	int r = 0;
	if (f & FTPD_FACT_TYPE)
		r = sbuf_printf(out, "type=%s;", type_fact(st, kind));
	if (r == 0 && (f & FTPD_FACT_SIZE))
		r = sbuf_printf(out, "size=%lld;", (long long)st->st_size);
	char tv[24];
	if (r == 0 && (f & FTPD_FACT_MODIFY) && ftpd_list_timeval(st->st_mtime, tv, sizeof tv) == 0)
		r = sbuf_printf(out, "modify=%s;", tv);
	if (r == 0 && (f & FTPD_FACT_PERM)) {
		char perm[16];
		ftpd_list_perm(st, kind, ctx, perm);
		r = sbuf_printf(out, "perm=%s;", perm);
	}
	if (r == 0 && (f & FTPD_FACT_UNIQUE))
		r = sbuf_printf(out, "unique=%llxU%llx;", (unsigned long long)st->st_dev,
				(unsigned long long)st->st_ino);
	if (r == 0 && (f & FTPD_FACT_UNIX_MODE))
		r = sbuf_printf(out, "UNIX.mode=%04o;", (unsigned)(st->st_mode & 07777));
	return r;
}

int ftpd_list_mlsd_line(struct sbuf *out, const struct stat *st, const char *name,
			enum ftpd_mlsx_kind kind, const struct ftpd_list_ctx *ctx)
{
	if (!ftpd_list_name_ok(name))
		return 1;
	size_t mark = out->len;
	int r = mlsx_facts(out, st, kind, ctx);
	if (r == 0)
		r = sbuf_printf(out, " %s\r\n", name);
	return list_line_end(out, mark, r);
}

int ftpd_list_mlst_line(struct sbuf *out, const struct stat *st, const char *path,
			const struct ftpd_list_ctx *ctx)
{
	if (!ftpd_list_name_ok(path))
		return 1;
	size_t mark = out->len;
	int r = sbuf_addch(out, ' ');
	if (r == 0)
		r = mlsx_facts(out, st, FTPD_MLSX_ENTRY, ctx);
	if (r == 0)
		r = sbuf_printf(out, " %s\r\n", path);
	return list_line_end(out, mark, r);
}

static const struct { const char *name; unsigned bit; } fact_names[] = {
	{"type", FTPD_FACT_TYPE}, {"size", FTPD_FACT_SIZE}, {"modify", FTPD_FACT_MODIFY},
	{"perm", FTPD_FACT_PERM}, {"unique", FTPD_FACT_UNIQUE},
	{"UNIX.mode", FTPD_FACT_UNIX_MODE},
};
#define N_FACTS (sizeof fact_names / sizeof fact_names[0])

unsigned ftpd_list_facts_parse(const char *list)
{
	unsigned mask = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ';');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (size_t i = 0; i < N_FACTS; i++)
			if (strlen(fact_names[i].name) == n &&
			    strncasecmp(p, fact_names[i].name, n) == 0)
				mask |= fact_names[i].bit;
		p += n + (end != NULL ? 1 : 0);
	}
	return mask;
}

int ftpd_list_facts_text(unsigned mask, bool feat, char *buf, size_t bufsz)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < N_FACTS; i++) {
		bool on = mask & fact_names[i].bit;
		if (!on && !feat)
			continue;
		int n = str_fmt(buf + len, bufsz - len, "%s%s;", fact_names[i].name,
				feat && on ? "*" : "");
		if (n < 0)
			return -1;
		len += (size_t)n;
	}
	return 0;
}

const char *ftpd_list_parse_args(const char *arg, struct ftpd_list_opts *o)
{
	o->all = false;
	const char *p = arg;
	/* Only words that look like option clusters ("-la"), one or more. */
	while (p[0] == '-' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))) {
		p++;
		while (*p != '\0' && *p != ' ') {
			if (*p == 'a' || *p == 'A')
				o->all = true;
			p++;
		}
		while (*p == ' ')
			p++;
	}
	return p;
}
