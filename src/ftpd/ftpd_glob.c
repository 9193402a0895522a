/* Bounded glob matching for LIST/NLST/STAT (POSIX XCU 2.13 subset), see
 * ftpd_glob.h. No recursion; one backtrack point (the last '*'). */
#include "ftpd/ftpd_glob.h"

#include <string.h>

/* Length of the bracket expression starting at pat[i] == '[' (through its
 * ']'), or 0 if it does not close: then '[' is an ordinary byte. */
static size_t bracket_len(const char *pat, size_t plen, size_t i)
{
	size_t j = i + 1;
	if (j < plen && (pat[j] == '!' || pat[j] == '^'))
		j++;
	if (j < plen && pat[j] == ']')
		j++;	/* a ']' first is literal */
	while (j < plen && pat[j] != ']')
		j++;
	return j < plen ? j - i + 1 : 0;
}

static bool bracket_match(const char *pat, size_t len, unsigned char c)
{
	size_t j = 1, end = len - 1;	/* between '[' and the closing ']' */
	bool neg = false;
	if (pat[j] == '!' || pat[j] == '^') {
		neg = true;
		j++;
	}
	bool hit = false;
	while (j < end) {
		unsigned char lo = (unsigned char)pat[j];
		if (j + 2 < end && pat[j + 1] == '-') {
			unsigned char hi = (unsigned char)pat[j + 2];
			if (lo <= c && c <= hi)
				hit = true;
			j += 3;
		} else {
			if (lo == c)
				hit = true;
			j++;
		}
	}
	return hit != neg;
}

/* Does the single-byte element at pat[*p] match c? Advances *p past the
 * element on a match. '*' is handled by the caller. */
static bool element_match(const char *pat, size_t plen, size_t *p, unsigned char c)
{
	size_t i = *p;
	switch (pat[i]) {
	case '?':
		*p = i + 1;
		return true;
	case '\\':
		if (i + 1 < plen) {
			if ((unsigned char)pat[i + 1] != c)
				return false;
			*p = i + 2;
			return true;
		}
		break;	/* a trailing backslash is itself */
	case '[': {
		size_t blen = bracket_len(pat, plen, i);
		if (blen > 0) {
			if (!bracket_match(pat + i, blen, c))
				return false;
			*p = i + blen;
			return true;
		}
		break;
	}
	default:
		break;
	}
	if ((unsigned char)pat[i] != c)
		return false;
	*p = i + 1;
	return true;
}

static bool match_from(const char *pat, size_t plen, const char *name, size_t nlen)
{
	size_t p = 0, n = 0;
	size_t star_p = 0, star_n = 0;
	bool have_star = false;
	while (n < nlen) {
		if (p < plen && pat[p] == '*') {
			while (p < plen && pat[p] == '*')
				p++;
			if (p == plen)
				return true;	/* a trailing star takes the rest */
			have_star = true;
			star_p = p;
			star_n = n;
			continue;
		}
		if (p < plen && element_match(pat, plen, &p, (unsigned char)name[n])) {
			n++;
			continue;
		}
		if (!have_star)
			return false;
		/* Let the last star take one more byte and retry after it;
		 * earlier stars never need to change (each element matches
		 * exactly one byte), so this is the only backtrack point. */
		p = star_p;
		n = ++star_n;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

bool ftpd_glob_match_len(const char *pat, size_t plen, const char *name, size_t nlen)
{
	if (nlen > 0 && name[0] == '.') {
		/* A hidden name needs a literal '.' first in the pattern. */
		if (plen >= 1 && pat[0] == '.')
			return match_from(pat + 1, plen - 1, name + 1, nlen - 1);
		if (plen >= 2 && pat[0] == '\\' && pat[1] == '.')
			return match_from(pat + 2, plen - 2, name + 1, nlen - 1);
		return false;
	}
	return match_from(pat, plen, name, nlen);
}

bool ftpd_glob_match(const char *pattern, const char *name)
{
	return ftpd_glob_match_len(pattern, strlen(pattern), name, strlen(name));
}

bool ftpd_glob_has_magic(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '*' || s[i] == '?')
			return true;
		else if (s[i] == '[' && bracket_len(s, len, i) > 0)
			return true;
	}
	return false;
}

void ftpd_glob_init(struct ftpd_glob *g, const char *pattern, size_t max)
{
	g->pattern = pattern;
	g->max = max;
	g->count = 0;
}

int ftpd_glob_next(struct ftpd_glob *g, const char *name)
{
	if (!ftpd_glob_match(g->pattern, name))
		return 0;
	if (g->count >= g->max)
		return -1;
	g->count++;
	return 1;
}
