/* IMAP command syntax: literal announcements, the argument tree, sequence
 * sets, dates and the choice of string form for replies. RFC 3501 section
 * 4 (data formats) and 9 (formal syntax), RFC 7888 (non-synchronizing
 * literals). See imap_parse.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"
#include "lib/str.h"

#define ERR(err, msg) imap_err((err), (msg))

int imap_err(char *err, const char *msg)
{
	str_copy(err, IMAP_ERR_MAX, msg);
	return -1;
}

int imap_line_literal(const char *line, size_t len, uint64_t *n, bool *plus)
{
	/* Quoted strings cannot span lines, so a line starts outside one. */
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (quoted && line[i] == '\\' && i + 1 < len)
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
	}
	if (quoted || len < 3 || line[len - 1] != '}')
		return 0;
	size_t end = len - 1;
	*plus = line[end - 1] == '+';
	if (*plus)
		end--;
	size_t start = end;
	while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
		start--;
	if (start == 0 || line[start - 1] != '{')
		return 0;
	if (start == end || end - start > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = start; i < end; i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	if (v > UINT32_MAX)
		return -1;
	*n = v;
	return 1;
}

/* ---- the argument tree ---- */

struct parser {
	const char *p, *end;
	struct imap_arg *pool;	/* bump-allocated; lists' children contiguous */
	size_t used, cap;
	char *arena;		/* strings, NUL-terminated */
	size_t alen;
	char *err;
};

static bool atom_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

static const char *put_str(struct parser *ps, const char *s, size_t n)
{
	char *d = ps->arena + ps->alen;
	memcpy(d, s, n);
	d[n] = '\0';
	ps->alen += n + 1;
	return d;
}

static int parse_quoted(struct parser *ps, struct imap_arg *a)
{
	const char *p = ps->p + 1;
	char *d = ps->arena + ps->alen;
	size_t n = 0;
	for (;;) {
		if (p >= ps->end)
			return ERR(ps->err, "Missing '\"'");
		unsigned char c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c == '\r' || c == '\n' || c == '\0')
			return ERR(ps->err, "Quoted string holds CR, LF or NUL");
		if (c == '\\') {
			if (p >= ps->end || (*p != '"' && *p != '\\'))
				return ERR(ps->err, "Bad escape in quoted string");
			c = (unsigned char)*p++;
		}
		d[n++] = (char)c;
	}
	d[n] = '\0';
	ps->alen += n + 1;
	a->type = IMAP_ARG_QUOTED;
	a->str = d;
	a->len = n;
	ps->p = p;
	return 0;
}

static int parse_literal(struct parser *ps, struct imap_arg *a)
{
	const char *p = ps->p + 1;
	uint64_t v = 0;
	size_t digits = 0;
	while (p < ps->end && *p >= '0' && *p <= '9' && digits < 11) {
		v = v * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 10 || v > UINT32_MAX)
		return ERR(ps->err, "Bad literal size");
	if (p < ps->end && *p == '+')
		p++;
	if (ps->end - p < 3 || p[0] != '}' || p[1] != '\r' || p[2] != '\n')
		return ERR(ps->err, "Literal size not followed by CRLF");
	p += 3;
	if ((uint64_t)(ps->end - p) < v)
		return ERR(ps->err, "Literal shorter than its size");
	if (memchr(p, '\0', (size_t)v) != NULL)
		return ERR(ps->err, "Literal holds a NUL byte");
	a->type = IMAP_ARG_LITERAL;
	a->str = put_str(ps, p, (size_t)v);
	a->len = (size_t)v;
	ps->p = p + v;
	return 0;
}

/* An atom; "[" inside one runs to its "]" whatever it holds but CR, LF
 * and NUL (BODY[HEADER.FIELDS (A B)]<0.10>), quoted names included. */
static int parse_atom(struct parser *ps, struct imap_arg *a)
{
	const char *s = ps->p, *p = ps->p;
	while (p < ps->end && atom_char((unsigned char)*p)) {
		if (*p++ != '[')
			continue;
		bool quoted = false;
		for (;;) {
			if (p >= ps->end || *p == '\r' || *p == '\n' || *p == '\0')
				return ERR(ps->err, "Missing ']'");
			if (quoted && *p == '\\' && p + 1 < ps->end && p[1] != '\0' &&
			    p[1] != '\r' && p[1] != '\n')
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == ']')
				break;
			p++;
		}
		p++;
	}
	if (p == s)
		return ERR(ps->err, "Unexpected character");
	a->len = (size_t)(p - s);
	a->str = put_str(ps, s, a->len);
	a->type = a->len == 3 && strncasecmp(s, "NIL", 3) == 0 ? IMAP_ARG_NIL : IMAP_ARG_ATOM;
	ps->p = p;
	return 0;
}

/* Arguments up to ')' (inside a list) or the end; placed in ps->pool
 * contiguously once the level is complete. */
static int parse_level(struct parser *ps, unsigned depth, struct imap_arg **first, size_t *count)
{
	struct imap_arg *tmp = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;
	for (;;) {
		/* Arguments are separated by spaces (a literal's last byte may
		 * be a space, so look at what was skipped, not behind). */
		const char *before = ps->p;
		while (ps->p < ps->end && *ps->p == ' ')
			ps->p++;
		if (ps->p >= ps->end) {
			if (depth > 0) {
				ERR(ps->err, "Missing ')'");
				goto out;
			}
			break;
		}
		if (*ps->p == ')') {
			if (depth == 0) {
				ERR(ps->err, "Unexpected ')'");
				goto out;
			}
			ps->p++;
			break;
		}
		if (n > 0 && ps->p == before) {
			ERR(ps->err, "Missing space between arguments");
			goto out;
		}
		if (ps->used + n + 1 > ps->cap) {
			ERR(ps->err, "Too many arguments");
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct imap_arg *t = realloc(tmp, nc * sizeof *t);
			if (t == NULL) {
				ERR(ps->err, "Out of memory");
				goto out;
			}
			tmp = t;
			cap = nc;
		}
		struct imap_arg *a = &tmp[n];
		memset(a, 0, sizeof *a);
		char c = *ps->p;
		int r;
		if (c == '(') {
			if (depth + 1 >= IMAP_DEPTH_MAX) {
				ERR(ps->err, "Lists nested too deep");
				goto out;
			}
			ps->p++;
			a->type = IMAP_ARG_LIST;
			r = parse_level(ps, depth + 1, &a->list, &a->n);
		} else if (c == '"') {
			r = parse_quoted(ps, a);
		} else if (c == '{') {
			r = parse_literal(ps, a);
		} else if (c == '~' && ps->end - ps->p > 1 && ps->p[1] == '{') {
			/* literal8 (RFC 3516, RFC 6855 APPEND UTF8): "~{n}". */
			ps->p++;
			r = parse_literal(ps, a);
			a->lit8 = true;
		} else {
			r = parse_atom(ps, a);
		}
		if (r < 0)
			goto out;
		n++;
	}
	if (ps->used + n > ps->cap) {
		ERR(ps->err, "Too many arguments");
		goto out;
	}
	*first = ps->pool + ps->used;
	if (n > 0)
		memcpy(*first, tmp, n * sizeof *tmp);
	ps->used += n;
	*count = n;
	rc = 0;
out:
	free(tmp);
	return rc;
}

int imap_args_parse(const char *buf, size_t len, struct imap_args *out, char *err)
{
	memset(out, 0, sizeof *out);
	size_t cap = len + 1 < IMAP_ARGS_MAX ? len + 1 : IMAP_ARGS_MAX;
	size_t asize = len + cap + 1;
	char *mem = malloc(cap * sizeof(struct imap_arg) + asize);
	if (mem == NULL)
		return ERR(err, "Out of memory");
	struct parser ps = {
		.p = buf, .end = buf + len, .pool = (struct imap_arg *)(void *)mem, .cap = cap,
		.arena = mem + cap * sizeof(struct imap_arg), .err = err,
	};
	if (parse_level(&ps, 0, &out->args, &out->n) < 0) {
		free(mem);
		memset(out, 0, sizeof *out);
		return -1;
	}
	out->mem = mem;
	return 0;
}

void imap_args_free(struct imap_args *a)
{
	free(a->mem);
	memset(a, 0, sizeof *a);
}

bool imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	       a->type == IMAP_ARG_LITERAL;
}

bool imap_arg_astring(const struct imap_arg *a, const char **s)
{
	/* An atom NIL is still the string "NIL" where a string is asked for. */
	if (!imap_arg_is_string(a) && a->type != IMAP_ARG_NIL)
		return false;
	*s = a->str;
	return true;
}

bool imap_arg_atom_eq(const struct imap_arg *a, const char *word)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	       strcasecmp(a->str, word) == 0;
}

/* ---- sequence sets ---- */

static int seq_number(const char **pp, const char *end, uint32_t *v)
{
	const char *p = *pp;
	if (p < end && *p == '*') {
		*v = IMAP_SEQ_STAR;
		*pp = p + 1;
		return 0;
	}
	if (p >= end || *p < '1' || *p > '9')
		return -1;
	uint64_t x = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		x = x * 10 + (uint64_t)(*p++ - '0');
		if (x >= UINT32_MAX)
			return -1;	/* UINT32_MAX itself stands for "*" */
	}
	*v = (uint32_t)x;
	*pp = p;
	return 0;
}

int imap_seqset_parse(const char *s, size_t len, struct imap_seqset *out, char *err)
{
	out->n = 0;
	out->dollar = false;
	if (len == 1 && s[0] == '$') {
		out->dollar = true;
		return 0;
	}
	const char *p = s, *end = s + len;
	for (;;) {
		struct imap_seq_range r;
		if (seq_number(&p, end, &r.lo) < 0)
			return ERR(err, "Invalid sequence set");
		r.hi = r.lo;
		if (p < end && *p == ':') {
			p++;
			if (seq_number(&p, end, &r.hi) < 0)
				return ERR(err, "Invalid sequence set");
		}
		if (r.lo > r.hi) {
			uint32_t t = r.lo;
			r.lo = r.hi;
			r.hi = t;
		}
		if (out->n == IMAP_SEQ_MAX)
			return ERR(err, "Sequence set too long");
		out->r[out->n++] = r;
		if (p == end)
			return 0;
		if (*p++ != ',' || p == end)
			return ERR(err, "Invalid sequence set");
	}
}

bool imap_seqset_has(const struct imap_seqset *set, uint32_t x, uint32_t max)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi;
		if (lo == IMAP_SEQ_STAR)
			lo = max;
		if (hi == IMAP_SEQ_STAR) {
			if (max == 0 && lo == 0)
				continue;
			hi = max;
		}
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (x >= lo && x <= hi)
			return true;
	}
	return false;
}

/* ---- dates ---- */

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char **pp, size_t min, size_t max, unsigned *v)
{
	const char *p = *pp;
	size_t n = 0;
	*v = 0;
	while (n < max && *p >= '0' && *p <= '9') {
		*v = *v * 10 + (unsigned)(*p++ - '0');
		n++;
	}
	if (n < min)
		return -1;
	*pp = p;
	return 0;
}

/* "d-Mon-yyyy" at *pp; a leading space stands for a digit (date-day-fixed). */
static int parse_dmy(const char **pp, unsigned *d, unsigned *m, unsigned *y)
{
	const char *p = *pp;
	if (*p == ' ')
		p++;
	if (digits(&p, 1, 2, d) < 0 || *p++ != '-')
		return -1;
	*m = 0;
	for (unsigned i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0)
			*m = i + 1;
	if (*m == 0)
		return -1;
	p += 3;
	if (*p++ != '-' || digits(&p, 4, 4, y) < 0)
		return -1;
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned lim = mdays[*m - 1] + (*m == 2 && leap(*y));
	if (*d < 1 || *d > lim)
		return -1;
	*pp = p;
	return 0;
}

int imap_date_parse(const char *s, int64_t *days)
{
	unsigned d, m, y;
	if (parse_dmy(&s, &d, &m, &y) < 0 || *s != '\0')
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

int imap_datetime_parse(const char *s, int64_t *t)
{
	unsigned d, m, y, hh, mm, ss, zh, zm;
	if (parse_dmy(&s, &d, &m, &y) < 0 || *s++ != ' ')
		return -1;
	if (digits(&s, 2, 2, &hh) < 0 || *s++ != ':' || digits(&s, 2, 2, &mm) < 0 ||
	    *s++ != ':' || digits(&s, 2, 2, &ss) < 0 || *s++ != ' ')
		return -1;
	char sign = *s++;
	if ((sign != '+' && sign != '-') || digits(&s, 2, 2, &zh) < 0 || digits(&s, 2, 2, &zm) < 0 ||
	    *s != '\0')
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	int64_t off = (int64_t)(zh * 3600 + zm * 60);
	*t = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss -
	     (sign == '+' ? off : -off);
	return 0;
}

/* ---- replies ---- */

int imap_string_form(const char *s, size_t len, bool atom_ok)
{
	if (len > 1024)
		return 2;
	bool atom = atom_ok && len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return 2;
		if (!atom_char(c) || c == '%' || c == '*' || c == '\\' || c == ']' || c == '[')
			atom = false;
	}
	return atom ? 0 : 1;
}
