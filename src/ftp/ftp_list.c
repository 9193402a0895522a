/* Listing parsers: MLSD per RFC 3659 section 7 (facts type, size, modify,
 * UNIX.mode), and LIST (RFC 959 4.1.3 leaves its format to the server) in
 * the two forms servers actually send: Unix "ls -l" and DOS/IIS. A line we
 * cannot read is reported as FTP_LINE_BAD, never guessed at. */
#include "ftp/ftp_list.h"

#include <string.h>
#include <strings.h>

#include "lib/str.h"

#define MAX_TOKS 16

struct tok {
	const char *s;
	size_t n;
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool all_digits(const struct tok *t)
{
	if (t->n == 0 || t->n > 19)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (!is_digit(t->s[i]))
			return false;
	return true;
}

static uint64_t tok_num(const struct tok *t)
{
	uint64_t v = 0;
	for (size_t i = 0; i < t->n; i++)
		v = v * 10 + (uint64_t)(t->s[i] - '0');
	return v;
}

static size_t tokenize(const char *line, size_t len, struct tok *toks, size_t max)
{
	size_t n = 0, i = 0;
	while (n < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		toks[n].s = line + start;
		toks[n].n = i - start;
		n++;
	}
	return n;
}

static int set_name(struct ftp_entry *out, const char *s, size_t n)
{
	if (n == 0 || n >= sizeof out->name || memchr(s, '\0', n) != NULL)
		return FTP_LINE_BAD;
	memcpy(out->name, s, n);
	out->name[n] = '\0';
	if (strcmp(out->name, ".") == 0 || strcmp(out->name, "..") == 0)
		return FTP_LINE_SKIP;
	return FTP_LINE_ENTRY;
}

static int month_of(const struct tok *t)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (t->n != 3)
		return -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(t->s, names + m * 3, 3) == 0)
			return m;
	return -1;
}

/* "HH:MM" -> minutes since midnight, or -1. */
static int clock_of(const struct tok *t)
{
	if (t->n != 5 || !is_digit(t->s[0]) || !is_digit(t->s[1]) || t->s[2] != ':' ||
	    !is_digit(t->s[3]) || !is_digit(t->s[4]))
		return -1;
	int h = (t->s[0] - '0') * 10 + (t->s[1] - '0');
	int m = (t->s[3] - '0') * 10 + (t->s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

static bool in_set(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static bool perm_ok(const struct tok *t)
{
	if (t->n < 10 || t->n > 11 || !in_set(t->s[0], "-dlcbpsD"))
		return false;
	if (t->n == 11 && !in_set(t->s[10], "+.@"))
		return false;	/* ACL / SELinux / xattr markers */
	for (size_t i = 1; i < 10; i++)
		if (!in_set(t->s[i], "rwxsStTlL-"))
			return false;
	return true;
}

static enum ftp_ftype type_of_perm(char c)
{
	return c == '-' ? FTP_FT_FILE : c == 'd' ? FTP_FT_DIR : c == 'l' ? FTP_FT_LINK
								    : FTP_FT_OTHER;
}

static time_t utc(int year, int mon, int day, int minutes)
{
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	return timegm(&tm);
}

static int parse_unix(const char *line, size_t len, time_t now, struct ftp_entry *out)
{
	struct tok t[MAX_TOKS];
	size_t n = tokenize(line, len, t, MAX_TOKS);
	if (n < 5 || !perm_ok(&t[0]))
		return FTP_LINE_BAD;
	for (size_t i = 2; i + 2 < n; i++) {
		int mon = month_of(&t[i]);
		if (mon < 0 || !all_digits(&t[i + 1]) || t[i + 1].n > 2)
			continue;
		int day = (int)tok_num(&t[i + 1]);
		int minutes = clock_of(&t[i + 2]);
		bool year_form = all_digits(&t[i + 2]) && t[i + 2].n == 4;
		if (day < 1 || day > 31 || (minutes < 0 && !year_form))
			continue;
		out->type = type_of_perm(t[0].s[0]);
		memcpy(out->perm, t[0].s, 10);
		out->perm[10] = '\0';
		if (all_digits(&t[i - 1]) && out->type != FTP_FT_OTHER) {
			out->has_size = true;
			out->size = tok_num(&t[i - 1]);
		}
		if (year_form) {
			out->mtime = utc((int)tok_num(&t[i + 2]), mon, day, 0);
			out->prec = 86400;
		} else {
			struct tm nt;
			gmtime_r(&now, &nt);
			int year = nt.tm_year + 1900;
			out->mtime = utc(year, mon, day, minutes);
			/* A date in the future means last year (ls shows times
			 * only for the last six months). */
			if (out->mtime > now + 86400)
				out->mtime = utc(year - 1, mon, day, minutes);
			out->prec = 60;
		}
		const char *name = t[i + 2].s + t[i + 2].n + 1;
		if (name > line + len)
			return FTP_LINE_BAD;
		size_t nlen = (size_t)(line + len - name);
		if (out->type == FTP_FT_LINK) {
			const char *arrow = NULL;
			for (size_t k = 0; k + 4 <= nlen; k++)
				if (memcmp(name + k, " -> ", 4) == 0) {
					arrow = name + k;
					break;
				}
			if (arrow != NULL) {
				size_t tl = nlen - (size_t)(arrow - name) - 4;
				if (tl < sizeof out->target) {
					memcpy(out->target, arrow + 4, tl);
					out->target[tl] = '\0';
				}
				nlen = (size_t)(arrow - name);
			}
		}
		return set_name(out, name, nlen);
	}
	return FTP_LINE_BAD;
}

/* "11-22-26  01:54PM  <DIR>  name" or "... 1234 name" (IIS, MS-DOS style). */
static int parse_dos(const char *line, size_t len, struct ftp_entry *out)
{
	struct tok t[4];
	if (tokenize(line, len, t, 4) < 4)
		return FTP_LINE_BAD;
	const char *d = t[0].s;
	bool y4 = t[0].n == 10;
	if ((t[0].n != 8 && !y4) || d[2] != '-' || d[5] != '-')
		return FTP_LINE_BAD;
	for (size_t i = 0; i < t[0].n; i++)
		if (i != 2 && i != 5 && !is_digit(d[i]))
			return FTP_LINE_BAD;
	int mon = (d[0] - '0') * 10 + (d[1] - '0') - 1;
	int day = (d[3] - '0') * 10 + (d[4] - '0');
	int year = 0;
	for (size_t i = 6; i < t[0].n; i++)
		year = year * 10 + (d[i] - '0');
	if (!y4)
		year += year < 70 ? 2000 : 1900;
	struct tok clk = t[1];
	int pm = -1;
	if (clk.n == 7 && (clk.s[6] == 'M' || clk.s[6] == 'm')) {
		pm = clk.s[5] == 'P' || clk.s[5] == 'p';
		if (!pm && clk.s[5] != 'A' && clk.s[5] != 'a')
			return FTP_LINE_BAD;
		clk.n = 5;
	}
	int minutes = clock_of(&clk);
	if (mon < 0 || mon > 11 || day < 1 || day > 31 || minutes < 0)
		return FTP_LINE_BAD;
	if (pm >= 0) {
		int h = minutes / 60;
		if (h < 1 || h > 12)
			return FTP_LINE_BAD;
		h = h % 12 + (pm ? 12 : 0);
		minutes = h * 60 + minutes % 60;
	}
	if (t[2].n == 5 && memcmp(t[2].s, "<DIR>", 5) == 0) {
		out->type = FTP_FT_DIR;
	} else if (all_digits(&t[2])) {
		out->type = FTP_FT_FILE;
		out->has_size = true;
		out->size = tok_num(&t[2]);
	} else {
		return FTP_LINE_BAD;
	}
	out->mtime = utc(year, mon, day, minutes);
	out->prec = 60;
	return set_name(out, t[3].s, (size_t)(line + len - t[3].s));
}

static void clear(struct ftp_entry *out)
{
	out->name[0] = out->target[0] = out->perm[0] = '\0';
	out->type = FTP_FT_OTHER;
	out->has_size = false;
	out->size = 0;
	out->mtime = 0;
	out->prec = 0;
}

int ftp_list_parse_line(const char *line, size_t len, time_t now, struct ftp_entry *out)
{
	clear(out);
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == 0)
		return FTP_LINE_SKIP;
	if (len >= 6 && strncasecmp(line, "total ", 6) == 0)
		return FTP_LINE_SKIP;
	if (is_digit(line[0]))
		return parse_dos(line, len, out);
	return parse_unix(line, len, now, out);
}

static bool fact_is(const char *f, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(f, name, n) == 0;
}

static void perm_from_mode(struct ftp_entry *out, const char *v, size_t n)
{
	unsigned mode = 0;
	if (n == 0 || n > 6)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '7')
			return;
		mode = mode * 8 + (unsigned)(v[i] - '0');
	}
	static const char rwx[] = "rwxrwxrwx";
	out->perm[0] = out->type == FTP_FT_DIR ? 'd' : out->type == FTP_FT_LINK ? 'l' : '-';
	for (int i = 0; i < 9; i++)
		out->perm[1 + i] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	out->perm[10] = '\0';
}

int ftp_mlsd_parse_line(const char *line, size_t len, struct ftp_entry *out)
{
	clear(out);
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == 0)
		return FTP_LINE_SKIP;
	const char *sp = memchr(line, ' ', len);
	if (sp == NULL)
		return FTP_LINE_BAD;
	bool have_type = false;
	const char *mode = NULL;
	size_t modelen = 0;
	const char *f = line;
	while (f < sp) {
		const char *semi = memchr(f, ';', (size_t)(sp - f));
		const char *end = semi != NULL ? semi : sp;
		const char *eq = memchr(f, '=', (size_t)(end - f));
		if (eq == NULL)
			return FTP_LINE_BAD;
		size_t fn = (size_t)(eq - f);
		const char *v = eq + 1;
		size_t vn = (size_t)(end - v);
		if (fact_is(f, fn, "type")) {
			have_type = true;
			if (vn == 4 && strncasecmp(v, "file", 4) == 0)
				out->type = FTP_FT_FILE;
			else if (vn == 3 && strncasecmp(v, "dir", 3) == 0)
				out->type = FTP_FT_DIR;
			else if ((vn == 4 && strncasecmp(v, "cdir", 4) == 0) ||
				 (vn == 4 && strncasecmp(v, "pdir", 4) == 0))
				return FTP_LINE_SKIP;
			else if (vn >= 13 && strncasecmp(v, "OS.unix=slink", 13) == 0) {
				out->type = FTP_FT_LINK;
				if (vn > 14 && v[13] == ':' && vn - 14 < sizeof out->target) {
					memcpy(out->target, v + 14, vn - 14);
					out->target[vn - 14] = '\0';
				}
			} else if (vn >= 15 && strncasecmp(v, "OS.unix=symlink", 15) == 0)
				out->type = FTP_FT_LINK;
			else
				out->type = FTP_FT_OTHER;
		} else if (fact_is(f, fn, "size")) {
			struct tok t = {v, vn};
			if (!all_digits(&t))
				return FTP_LINE_BAD;
			out->has_size = true;
			out->size = tok_num(&t);
		} else if (fact_is(f, fn, "modify")) {
			struct tok t = {v, vn < 14 ? vn : 14};
			if (vn < 14 || vn > 24 || !all_digits(&t))
				return FTP_LINE_BAD;
			int yr = (int)(tok_num(&(struct tok){v, 4}));
			int mo = (int)(tok_num(&(struct tok){v + 4, 2}));
			int dy = (int)(tok_num(&(struct tok){v + 6, 2}));
			int hh = (int)(tok_num(&(struct tok){v + 8, 2}));
			int mi = (int)(tok_num(&(struct tok){v + 10, 2}));
			int ss = (int)(tok_num(&(struct tok){v + 12, 2}));
			if (mo < 1 || mo > 12 || dy < 1 || dy > 31 || hh > 23 || mi > 59 || ss > 60)
				return FTP_LINE_BAD;
			out->mtime = utc(yr, mo - 1, dy, hh * 60 + mi) + ss;
			out->prec = 1;
		} else if (fact_is(f, fn, "unix.mode")) {
			mode = v;
			modelen = vn;
		}
		f = end + 1;
	}
	if (!have_type)
		out->type = FTP_FT_OTHER;
	if (mode != NULL)
		perm_from_mode(out, mode, modelen);
	return set_name(out, sp + 1, (size_t)(line + len - sp - 1));
}

const char *ftp_ftype_name(enum ftp_ftype t)
{
	switch (t) {
	case FTP_FT_FILE:
		return "file";
	case FTP_FT_DIR:
		return "dir";
	case FTP_FT_LINK:
		return "link";
	default:
		return "other";
	}
}
