/* SMTP paths (RFC 5321 4.1.2 with the limits of 4.5.3.1, RFC 6531 UTF-8),
 * domains and address literals, and xtext (RFC 3461 4).
 *
 * The parser walks the bytes once. Everything the ABNF does not allow is
 * refused with the reason in the reply's text; nothing is "cleaned up",
 * so what is accepted is exactly what a later stage (aliases, Maildir
 * names, the queue's envelope, a Received: header) may rely on: no
 * control bytes, no CR, LF or NUL, and well-formed UTF-8 only when the
 * client asked for SMTPUTF8. */
#include "smtp/smtp_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "net/addr.h"
#include "smtp/smtp_parse_int.h"

int smtp_reply_set(struct smtp_reply *r, int code, const char *enh, const char *fmt, ...)
{
	r->code = code;
	str_copy(r->enh, sizeof r->enh, enh);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	/* A reply is ASCII (RFC 5321 2.4) without control bytes, whatever a
	 * message from another module (net/addr's en dash) holds. */
	size_t o = 0;
	for (size_t i = 0; r->text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)r->text[i];
		if (c == 0xe2 && (unsigned char)r->text[i + 1] == 0x80 &&
		    (unsigned char)r->text[i + 2] == 0x93) {
			c = '-';
			i += 2;
		} else if (c < 0x20 || c >= 0x7f) {
			c = '?';
		}
		r->text[o++] = (char)c;
	}
	r->text[o] = '\0';
	return -1;
}

const char *smtp_char_name(unsigned char c, char *buf, size_t bufsz)
{
	switch (c) {
	case '\r':
		return "a CR";
	case '\n':
		return "an LF";
	case '\0':
		return "a NUL byte";
	case '\t':
		return "a TAB";
	case ' ':
		return "a space";
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f)
		str_fmt(buf, bufsz, "control character 0x%02x", c);
	else if (c >= 0x80)
		str_fmt(buf, bufsz, "byte 0x%02x", c);
	else
		str_fmt(buf, bufsz, "'%c'", c);
	return buf;
}

/* Why a path was refused, before it becomes a reply. */
enum perr_kind { PERR_SYNTAX, PERR_NONASCII };

struct perr {
	enum perr_kind kind;
	char why[160];
};

static int perr(struct perr *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct perr *p, const char *fmt, ...)
{
	p->kind = PERR_SYNTAX;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
	return -1;
}

static int perr_char(struct perr *p, unsigned char c, const char *where)
{
	char name[SMTP_CHAR_NAME_MAX];
	return perr(p, "%s in the %s", smtp_char_name(c, name, sizeof name), where);
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 5321 atext (the ASCII part of it). */
static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The non-ASCII character at s[i, end): its length, or -1 with p set
 * (553 5.6.7 without SMTPUTF8, else a syntax error when malformed). */
static int non_ascii(const char *s, size_t end, size_t i, bool utf8, const char *where,
		     struct perr *p)
{
	if (!utf8) {
		p->kind = PERR_NONASCII;
		str_fmt(p->why, sizeof p->why, "non-ASCII characters in the %s", where);
		return -1;
	}
	int n = str_utf8_char(s + i, end - i);
	if (n < 0)
		return perr(p, "malformed UTF-8 in the %s (an overlong form, a surrogate or a "
			    "broken sequence)", where);
	return n;
}

/* "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 4.1.3). General literals
 * ("tag:content") name no address we can use, so they are refused. */
static int literal_check(const char *s, size_t len, struct perr *p)
{
	if (len < 2 || s[len - 1] != ']')
		return perr(p, "address literal without its closing ']'");
	const char *in = s + 1;
	size_t n = len - 2;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)in[k];
		if (is_ctl(c) || c >= 0x80 || c == ' ' || c == '[' || c == ']' || c == '\\')
			return perr_char(p, c, "address literal");
	}
	bool v6 = n >= 5 && strncasecmp(in, "IPv6:", 5) == 0;
	if (v6) {
		in += 5;
		n -= 5;
	} else if (memchr(in, ':', n) != NULL) {
		return perr(p, "address literal [%.*s] is neither IPv4 nor IPv6: (write "
			    "[1.2.3.4] or [IPv6:2001:db8::1])", (int)(n > 60 ? 60 : n), in);
	}
	if (memchr(in, '%', n) != NULL)
		return perr(p, "a zone id ('%%') is not allowed in an address literal");
	const char *fam = v6 ? "IPv6" : "IPv4";
	if (n > ADDR_INPUT_MAX)
		return perr(p, "address literal too long for an %s address", fam);
	struct ik_addr a;
	ik_err e;
	if (addr_parse_addr(in, n, &a, &e) < 0)
		return perr(p, "[%s%.*s] is not a valid %s address: %s", v6 ? "IPv6:" : "", (int)n,
			    in, fam, e.msg);
	if (a.family != (v6 ? AF_INET6 : AF_INET))
		return perr(p, "[%s%.*s] is not a valid %s address%s", v6 ? "IPv6:" : "", (int)n,
			    in, fam, v6 ? "" : " (an IPv6 literal starts with \"IPv6:\")");
	return 0;
}

/* A Domain of RFC 5321 4.1.2 (sub-domains of letters, digits and '-',
 * U-labels with SMTPUTF8) or an address literal. */
static int domain_check(const char *s, size_t len, bool utf8, struct perr *p)
{
	if (len == 0)
		return perr(p, "empty domain");
	if (s[0] == '[')
		return literal_check(s, len, p);
	if (len > SMTP_DOMAIN_MAX)
		return perr(p, "domain longer than %d octets", SMTP_DOMAIN_MAX);
	size_t label = 0;
	for (size_t i = 0; i <= len;) {
		if (i == len || s[i] == '.') {
			size_t ll = i - label;
			if (ll == 0)
				return perr(p, "empty label in the domain (a dot at its start or end, "
					    "or two dots in a row)");
			if (ll > 63)
				return perr(p, "a domain label is longer than 63 octets");
			if (s[label] == '-' || s[i - 1] == '-')
				return perr(p, "a domain label starts or ends with '-'");
			label = ++i;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			int n = non_ascii(s, len, i, utf8, "domain", p);
			if (n < 0)
				return -1;
			i += (size_t)n;
		} else if (is_alnum(c) || c == '-') {
			i++;
		} else {
			return perr_char(p, c, "domain");
		}
	}
	return 0;
}

bool smtp_domain_valid(const char *s, size_t len, bool utf8)
{
	struct perr p;
	return domain_check(s, len, utf8, &p) == 0;
}

/* The end of a domain in a path: just after ']' for a literal, else at
 * the first byte that cannot belong to one ('>' ',' ':' space, controls,
 * the end). */
static size_t domain_end(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '[') {
		while (i < len && s[i] != ']' && s[i] != '>')
			i++;
		return i < len && s[i] == ']' ? i + 1 : i;
	}
	while (i < len && s[i] != '>' && s[i] != ',' && s[i] != ':' && s[i] != ' ' &&
	       !is_ctl((unsigned char)s[i]))
		i++;
	return i;
}

/* The obsolete source route "@a,@b:" (RFC 5321 4.1.2 A-d-l): each domain
 * is checked, then the route is dropped (Appendix C). */
static int source_route(const char *s, size_t len, size_t *ip, bool utf8, struct perr *p)
{
	size_t i = *ip;
	for (;;) {
		i++;	/* the '@' */
		size_t end = domain_end(s, len, i);
		if (domain_check(s + i, end - i, utf8, p) < 0) {
			if (p->kind == PERR_SYNTAX) {
				char why[sizeof p->why];
				str_copy(why, sizeof why, p->why);
				perr(p, "bad source route: %s", why);
			}
			return -1;
		}
		i = end;
		if (i < len && s[i] == ',') {
			i++;
			if (i >= len || s[i] != '@')
				return perr(p, "bad source route: each hop is written \"@domain\"");
			continue;
		}
		if (i < len && s[i] == ':')
			break;
		return perr(p, "bad source route: it must end with ':' before the mailbox");
	}
	*ip = i + 1;
	return 0;
}

/* Quoted-string local part; *ip is at the opening quote. The unquoted
 * text goes to out->local. */
static int local_quoted(const char *s, size_t len, size_t *ip, bool utf8, struct smtp_path *out,
			struct perr *p)
{
	size_t start = *ip;
	size_t i = start + 1;
	size_t lo = 0;
	for (;;) {
		if (i >= len)
			return perr(p, "unbalanced quote in the local part");
		unsigned char c = (unsigned char)s[i];
		size_t n = 1;
		const char *from = s + i;
		if (c == '"') {
			if (i + 1 - start > SMTP_LOCAL_MAX)
				return perr(p, "local part longer than %d octets", SMTP_LOCAL_MAX);
			i++;
			break;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				return perr(p, "unbalanced quote in the local part");
			unsigned char q = (unsigned char)s[i + 1];
			if (is_ctl(q) || q >= 0x80) {
				char name[SMTP_CHAR_NAME_MAX];
				return perr(p, "%s after a backslash in the local part (only printable "
					    "ASCII may be escaped)", smtp_char_name(q, name, sizeof name));
			}
			from = s + i + 1;
			n = 2;
		} else if (is_ctl(c)) {
			return perr_char(p, c, "local part");
		} else if (c >= 0x80) {
			int k = non_ascii(s, len, i, utf8, "local part", p);
			if (k < 0)
				return -1;
			n = (size_t)k;
		}
		/* +1: the closing quote still has to fit. */
		if (i + n + 1 - start > SMTP_LOCAL_MAX)
			return perr(p, "local part longer than %d octets", SMTP_LOCAL_MAX);
		size_t copy = c == '\\' ? 1 : n;
		memcpy(out->local + lo, from, copy);
		lo += copy;
		i += n;
	}
	if (lo == 0)
		return perr(p, "empty local part \"\"");
	out->local[lo] = '\0';
	out->local_quoted = true;
	if (i < len && s[i] != '@' && s[i] != '>') {
		char name[SMTP_CHAR_NAME_MAX];
		return perr(p, "%s after the closing quote of the local part",
			    smtp_char_name((unsigned char)s[i], name, sizeof name));
	}
	*ip = i;
	return 0;
}

/* Dot-string local part: atoms of atext (and UTF-8) joined by dots. */
static int local_dotted(const char *s, size_t len, size_t *ip, bool utf8, struct smtp_path *out,
			struct perr *p)
{
	size_t start = *ip;
	size_t i = start;
	size_t atom = start;
	for (;;) {
		if (i >= len)
			break;
		unsigned char c = (unsigned char)s[i];
		size_t n = 1;
		if (c == '.') {
			if (i == start)
				return perr(p, "the local part starts with a dot");
			if (i == atom)
				return perr(p, "two dots in a row in the local part");
			atom = i + 1;
		} else if (c >= 0x80) {
			int k = non_ascii(s, len, i, utf8, "local part", p);
			if (k < 0)
				return -1;
			n = (size_t)k;
		} else if (!is_atext(c)) {
			break;
		}
		if (i + n - start > SMTP_LOCAL_MAX)
			return perr(p, "local part longer than %d octets", SMTP_LOCAL_MAX);
		memcpy(out->local + (i - start), s + i, n);
		i += n;
	}
	out->local[i - start] = '\0';
	if (i >= len)
		return perr(p, i == start ? "nothing after '<'" : "missing closing '>'");
	unsigned char c = (unsigned char)s[i];
	if (i == start && (c == '@' || c == '>'))
		return perr(p, "empty local part");
	if (i == atom && i > start)
		return perr(p, "the local part ends with a dot");
	if (c == '@' || c == '>') {
		*ip = i;
		return 0;
	}
	if (c == '"')
		return perr(p, "a quote inside the local part (quote all of it, as in "
			    "\"a b\"@example.org)");
	if (c == ' ')
		return perr(p, "a space in the local part (quote it, as in \"a b\"@example.org, "
			    "or remove it)");
	return perr_char(p, c, "local part");
}

static bool all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static int parse_path(const char *s, size_t len, size_t *ip, bool utf8, bool null_ok,
		      bool postmaster_ok, struct smtp_path *out, struct perr *p)
{
	size_t i = *ip;
	if (i >= len)
		return perr(p, "no address given (write <user@example.org>)");
	if (s[i] != '<')
		return perr(p, "the address must be enclosed in <>, as in <user@example.org>");
	size_t open = i++;
	if (i < len && s[i] == '>') {
		if (!null_ok)
			return perr(p, "the null address <> is only allowed as a sender");
		out->null = true;
		*ip = i + 1;
		return 0;
	}
	if (i < len && s[i] == '@' && source_route(s, len, &i, utf8, p) < 0)
		return -1;
	size_t lstart = i;
	if (i < len && s[i] == '"') {
		if (local_quoted(s, len, &i, utf8, out, p) < 0)
			return -1;
	} else if (local_dotted(s, len, &i, utf8, out, p) < 0) {
		return -1;
	}
	size_t lend = i;
	if (i >= len)
		return perr(p, "missing closing '>'");
	if (s[i] == '>') {
		if (postmaster_ok && !out->local_quoted && strcasecmp(out->local, "postmaster") == 0) {
			out->postmaster = true;
			*ip = i + 1;
			return 0;
		}
		return perr(p, "missing @domain (write local@domain)");
	}
	size_t dstart = ++i;	/* past the '@' */
	size_t dend = domain_end(s, len, i);
	if (domain_check(s + dstart, dend - dstart, utf8, p) < 0)
		return -1;
	i = dend;
	if (i >= len)
		return perr(p, "missing closing '>'");
	if (s[i] != '>') {
		char name[SMTP_CHAR_NAME_MAX];
		return perr(p, "%s after the domain, where '>' should end the address",
			    smtp_char_name((unsigned char)s[i], name, sizeof name));
	}
	i++;
	if (i - open > SMTP_PATH_MAX)
		return perr(p, "address longer than %d octets", SMTP_PATH_MAX);
	size_t ll = lend - lstart;
	size_t dl = dend - dstart;
	memcpy(out->addr, s + lstart, ll);
	out->addr[ll] = '@';
	memcpy(out->addr + ll + 1, s + dstart, dl);
	out->addr[ll + 1 + dl] = '\0';
	out->local_len = ll;
	out->domain = out->addr + ll + 1;
	bool ascii_domain = all_ascii(s + dstart, dl);
	if (ascii_domain && s[dstart] != '[')
		for (char *d = out->addr + ll + 1; *d; d++)
			if (*d >= 'A' && *d <= 'Z')
				*d = (char)(*d - 'A' + 'a');
	out->utf8 = !ascii_domain || !all_ascii(s + lstart, ll);
	*ip = i;
	return 0;
}

int smtp_path_parse(const char *s, size_t len, unsigned flags, bool null_ok, bool postmaster_ok,
		    bool is_rcpt, struct smtp_path *out, size_t *used, struct smtp_reply *r)
{
	memset(out, 0, sizeof *out);
	out->domain = out->addr;
	*used = 0;
	struct perr p = {PERR_SYNTAX, ""};
	size_t i = 0;
	while (i < len && s[i] == ' ')
		i++;
	if (parse_path(s, len, &i, (flags & SMTP_PARSE_UTF8) != 0, null_ok, postmaster_ok, out,
		       &p) < 0) {
		memset(out, 0, sizeof *out);
		out->domain = out->addr;
		const char *who = is_rcpt ? "Recipient" : "Sender";
		if (p.kind == PERR_NONASCII)
			return smtp_reply_set(r, 553, "5.6.7", "%s address has %s: UTF-8 addresses "
					      "need the SMTPUTF8 parameter on MAIL FROM (RFC 6531)",
					      who, p.why);
		return smtp_reply_set(r, 501, is_rcpt ? "5.1.3" : "5.1.7", "Bad %s address syntax: %s",
				      is_rcpt ? "recipient" : "sender", p.why);
	}
	*used = i;
	return 0;
}

int smtp_xtext_decode(const char *s, size_t len, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			/* RFC 3461 asks for upper-case hex; lower case is read too. */
			if (i + 2 >= len)
				return -1;
			int hi = str_hex_digit(s[i + 1]);
			int lo = str_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c < '!' || c > '~' || c == '=') {
			return -1;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int smtp_xtext_encode(const char *s, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= '!' && c <= '~' && c != '+' && c != '=';
		size_t need = plain ? 1 : 3;
		if (o + need >= outsz)
			return -1;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}
