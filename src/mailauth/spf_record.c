/* SPF records (RFC 7208 4.5, 5, 6, 12: the record's terms, the dual CIDR
 * lengths of a and mx) and macro expansion (RFC 7208 7). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

bool spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
}

/* ---- macros ---- */

static bool macro_delim(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* The value of macro letter c (lower case) into buf. */
static int macro_value(const struct spf_ctx *x, const char *domain, char c, char *buf,
		       size_t bufsz)
{
	const char *at = strrchr(x->sender, '@');
	switch (c) {
	case 's':
		return str_copy(buf, bufsz, x->sender);
	case 'l':
		if (at == NULL)
			return str_copy(buf, bufsz, "postmaster");
		if ((size_t)(at - x->sender) >= bufsz)
			return -1;
		memcpy(buf, x->sender, (size_t)(at - x->sender));
		buf[at - x->sender] = '\0';
		return 0;
	case 'o':
		return str_copy(buf, bufsz, at != NULL ? at + 1 : x->sender);
	case 'd':
		return str_copy(buf, bufsz, domain);
	case 'h':
		return str_copy(buf, bufsz, x->helo);
	case 'c':
		return str_copy(buf, bufsz, x->ipstr);
	case 'v':
		return str_copy(buf, bufsz, x->v6 ? "ip6" : "in-addr");
	case 'p':
	case 'r':
		return str_copy(buf, bufsz, "unknown");
	case 't':
		return str_fmt(buf, bufsz, "%lld", (long long)time(NULL)) < 0 ? -1 : 0;
	case 'i':
		if (!x->v6)
			return str_copy(buf, bufsz, x->ipstr);
		/* RFC 7208 7.3: IPv6 as dotted nibbles. */
		if (bufsz < 64)
			return -1;
		for (int i = 0; i < 32; i++) {
			unsigned nib = (x->ip[i / 2] >> (i % 2 ? 0 : 4)) & 15;
			buf[i * 2] = "0123456789abcdef"[nib];
			buf[i * 2 + 1] = '.';
		}
		buf[63] = '\0';
		return 0;
	default:
		return -1;
	}
}

static int put(char *out, size_t outsz, size_t *k, const char *p, size_t n)
{
	if (*k + n >= outsz)
		return -1;
	memcpy(out + *k, p, n);
	*k += n;
	out[*k] = '\0';
	return 0;
}

/* One %{...} macro, at spec (just after "%{"); *used: its length with '}'. */
static int expand_one(const struct spf_ctx *x, const char *domain, const char *spec,
		      size_t *used, char *out, size_t outsz, size_t *k)
{
	const char *p = spec;
	if (*p == '\0')
		return -1;
	char letter = *p++;
	bool upper = isupper((unsigned char)letter);
	letter = (char)tolower((unsigned char)letter);
	unsigned keep = 0;
	while (isdigit((unsigned char)*p)) {
		keep = keep * 10 + (unsigned)(*p++ - '0');
		if (keep > 128)
			return -1;
	}
	if (p > spec + 1 && keep == 0)
		return -1;	/* RFC 7208 7.1: zero parts is a syntax error */
	bool rev = false;
	if (*p == 'r' || *p == 'R') {
		rev = true;
		p++;
	}
	char delims[8] = "";
	size_t nd = 0;
	while (macro_delim(*p) && nd < sizeof delims - 1)
		delims[nd++] = *p++;
	if (*p != '}')
		return -1;
	*used = (size_t)(p + 1 - spec);
	if (nd == 0)
		delims[nd++] = '.';
	char val[600];
	if (macro_value(x, domain, letter, val, sizeof val) < 0)
		return -1;
	/* Split on the delimiters, reverse if asked, keep the rightmost parts. */
	char *parts[128];
	size_t np = 0;
	char *s = val;
	for (;;) {
		if (np == 128)
			return -1;
		parts[np++] = s;
		char *d = s;
		while (*d && strchr(delims, *d) == NULL)
			d++;
		if (*d == '\0')
			break;
		*d = '\0';
		s = d + 1;
	}
	if (rev)
		for (size_t i = 0; i < np / 2; i++) {
			char *t = parts[i];
			parts[i] = parts[np - 1 - i];
			parts[np - 1 - i] = t;
		}
	size_t first = keep > 0 && keep < np ? np - keep : 0;
	for (size_t i = first; i < np; i++) {
		if (i > first && put(out, outsz, k, ".", 1) < 0)
			return -1;
		for (const char *c = parts[i]; *c; c++) {
			/* Upper-case macros are URL-escaped (RFC 7208 7.3). */
			unsigned char ch = (unsigned char)*c;
			if (upper && !isalnum(ch) && strchr("-._~", ch) == NULL) {
				char esc[4];
				str_fmt(esc, sizeof esc, "%%%02X", ch);
				if (put(out, outsz, k, esc, 3) < 0)
					return -1;
			} else if (put(out, outsz, k, c, 1) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

int spf_macro_expand(const struct spf_ctx *x, const char *domain, const char *spec, char *out,
		     size_t outsz)
{
	size_t k = 0;
	if (outsz == 0)
		return -1;
	out[0] = '\0';
	for (const char *p = spec; *p;) {
		if (*p != '%') {
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ||
			    put(out, outsz, &k, p, 1) < 0)
				return -1;
			p++;
			continue;
		}
		p++;
		if (*p == '%') {
			if (put(out, outsz, &k, "%", 1) < 0)
				return -1;
			p++;
		} else if (*p == '_') {
			if (put(out, outsz, &k, " ", 1) < 0)
				return -1;
			p++;
		} else if (*p == '-') {
			if (put(out, outsz, &k, "%20", 3) < 0)
				return -1;
			p++;
		} else if (*p == '{') {
			size_t used = 0;
			if (expand_one(x, domain, p + 1, &used, out, outsz, &k) < 0)
				return -1;
			p += 1 + used;
		} else {
			return -1;
		}
	}
	/* RFC 7208 7.3: over 253 characters, drop labels from the left. */
	while (k > 253) {
		char *dot = strchr(out, '.');
		if (dot == NULL)
			return -1;
		size_t cut = (size_t)(dot + 1 - out);
		memmove(out, dot + 1, k - cut + 1);
		k -= cut;
	}
	return 0;
}

/* ---- the record ---- */

static int parse_cidr(const char *s, int max, int *out)
{
	uint64_t v;
	if (*s == '\0' || (s[0] == '0' && s[1] != '\0') || str_to_u64(s, (uint64_t)max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* "domain-spec/24//64", "/24", "//64", "": split arg in place (the first
 * '/' outside a macro ends the domain-spec). */
static int dual_cidr(char *arg, int *c4, int *c6)
{
	char *p = arg;
	int depth = 0;
	for (; *p; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
		else if (*p == '/' && depth == 0)
			break;
	}
	if (*p == '\0')
		return 0;
	*p++ = '\0';
	char *v6 = NULL;
	if (*p == '/') {
		v6 = p + 1;
	} else {
		char *sl = strchr(p, '/');
		if (sl != NULL) {
			*sl = '\0';
			if (sl[1] != '/')
				return -1;
			v6 = sl + 2;
		}
		if (parse_cidr(p, 32, c4) < 0)
			return -1;
	}
	return v6 != NULL && parse_cidr(v6, 128, c6) < 0 ? -1 : 0;
}

static bool macro_ok(const char *spec)
{
	struct spf_ctx x;
	memset(&x, 0, sizeof x);
	str_copy(x.sender, sizeof x.sender, "a@b.c");
	x.helo = "h";
	str_copy(x.ipstr, sizeof x.ipstr, "192.0.2.1");
	char out[2048];
	return spec[0] != '\0' && spf_macro_expand(&x, "d.example", spec, out, sizeof out) == 0;
}

static int parse_term(char *w, struct spf_record *r, ik_err *e)
{
	/* A modifier: name "=" before any ':' or '/'. */
	size_t nl = 0;
	while (isalnum((unsigned char)w[nl]) || w[nl] == '-' || w[nl] == '_' || w[nl] == '.')
		nl++;
	if (nl > 0 && isalpha((unsigned char)w[0]) && w[nl] == '=') {
		w[nl] = '\0';
		char *val = w + nl + 1;
		char **slot = strcasecmp(w, "redirect") == 0 ? &r->redirect
			      : strcasecmp(w, "exp") == 0 ? &r->exp : NULL;
		if (slot == NULL)
			return 0;	/* unknown modifiers are ignored (RFC 7208 6) */
		if (*slot != NULL)
			return ik_err_set(e, "SPF: %s= given twice", w);
		if (!macro_ok(val))
			return ik_err_set(e, "SPF: bad %s= domain", w);
		return (*slot = strdup(val)) == NULL ? ik_err_set(e, "out of memory") : 0;
	}
	if (r->n == SPF_TERMS_MAX)
		return ik_err_set(e, "SPF: more than %d terms", SPF_TERMS_MAX);
	struct spf_term *t = &r->t[r->n];
	memset(t, 0, sizeof *t);
	t->qual = '+';
	if (strchr("+-~?", *w) != NULL && *w != '\0')
		t->qual = *w++;
	static const struct {
		const char *name;
		enum spf_mech mech;
	} mechs[] = {{"all", SPF_ALL}, {"include", SPF_INCLUDE}, {"a", SPF_A}, {"mx", SPF_MX},
		     {"ptr", SPF_PTR}, {"ip4", SPF_IP4}, {"ip6", SPF_IP6}, {"exists", SPF_EXISTS}};
	size_t ml = 0;
	while (isalnum((unsigned char)w[ml]))
		ml++;
	size_t m = 0;
	for (; m < sizeof mechs / sizeof mechs[0]; m++)
		if (strlen(mechs[m].name) == ml && strncasecmp(w, mechs[m].name, ml) == 0)
			break;
	if (m == sizeof mechs / sizeof mechs[0])
		return ik_err_set(e, "SPF: unknown mechanism '%.40s'", w);
	t->mech = mechs[m].mech;
	char *rest = w + ml;
	char *arg = NULL;
	t->cidr4 = 32;
	t->cidr6 = 128;
	if (*rest == ':')
		arg = rest + 1;
	else if (*rest != '\0' && !(*rest == '/' && (t->mech == SPF_A || t->mech == SPF_MX)))
		return ik_err_set(e, "SPF: bad mechanism '%.40s'", w);
	switch (t->mech) {
	case SPF_ALL:
		if (*rest != '\0')
			return ik_err_set(e, "SPF: 'all' takes no argument");
		break;
	case SPF_INCLUDE:
	case SPF_EXISTS:
	case SPF_PTR:
		if (arg == NULL && t->mech != SPF_PTR)
			return ik_err_set(e, "SPF: %s needs a domain", mechs[m].name);
		if (arg != NULL && !macro_ok(arg))
			return ik_err_set(e, "SPF: bad domain in %s", mechs[m].name);
		break;
	case SPF_A:
	case SPF_MX: {
		char *spec = arg != NULL ? arg : rest;
		if (dual_cidr(spec, &t->cidr4, &t->cidr6) < 0)
			return ik_err_set(e, "SPF: bad CIDR length in %s", mechs[m].name);
		if (arg != NULL && !macro_ok(arg))
			return ik_err_set(e, "SPF: bad domain in %s", mechs[m].name);
		break;
	}
	case SPF_IP4:
	case SPF_IP6: {
		if (arg == NULL)
			return ik_err_set(e, "SPF: %s needs an address", mechs[m].name);
		char *sl = strchr(arg, '/');
		bool v6 = t->mech == SPF_IP6;
		int *c = v6 ? &t->cidr6 : &t->cidr4;
		if (sl != NULL) {
			*sl = '\0';
			if (parse_cidr(sl + 1, v6 ? 128 : 32, c) < 0)
				return ik_err_set(e, "SPF: bad CIDR length in %s", mechs[m].name);
		}
		if (inet_pton(v6 ? AF_INET6 : AF_INET, arg, t->ip) != 1)
			return ik_err_set(e, "SPF: bad address in %s", mechs[m].name);
		arg = NULL;
		break;
	}
	}
	if (arg != NULL && arg[0] != '\0' && (t->arg = strdup(arg)) == NULL)
		return ik_err_set(e, "out of memory");
	r->n++;
	return 0;
}

int spf_record_parse(const char *txt, struct spf_record *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	if (!spf_is_record(txt))
		return ik_err_set(e, "SPF: not a v=spf1 record");
	char *copy = strdup(txt + 6);
	if (copy == NULL)
		return ik_err_set(e, "out of memory");
	int rc = 0;
	char *p = copy;
	while (rc == 0 && *p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		for (char *c = w; *c && rc == 0; c++)
			if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
				rc = ik_err_set(e, "SPF: a control or non-ASCII character");
		if (rc == 0)
			rc = parse_term(w, r, e);
	}
	free(copy);
	if (rc < 0)
		spf_record_free(r);
	return rc;
}

void spf_record_free(struct spf_record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->t[i].arg);
	free(r->redirect);
	free(r->exp);
	memset(r, 0, sizeof *r);
}
