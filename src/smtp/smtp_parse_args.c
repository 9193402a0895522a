/* The arguments of MAIL and RCPT: "FROM:<path> [params]" and "TO:<path>
 * [params]" (RFC 5321 4.1.1.2, 4.1.1.3, 4.1.2 esmtp-param), with the
 * parameters of RFC 1870 (SIZE), RFC 6152 / RFC 3030 (BODY), RFC 6531
 * (SMTPUTF8), RFC 3461 (RET, ENVID, NOTIFY, ORCPT) and RFC 4954 5 (AUTH).
 *
 * Replies: 555 5.5.4 for a parameter we do not know (RFC 5321 4.1.1.11),
 * 501 5.5.4 for a bad value or one given twice, 552 5.3.4 for a SIZE over
 * the limit (RFC 1870 6), 553 5.6.7 for a non-ASCII sender without
 * SMTPUTF8 (RFC 6531 3.6). */
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_parse_int.h"

#define ENVID_MAX 100		/* RFC 3461 4.4 */
#define KW_SHOWN 30		/* a keyword or value echoed in a reply is cut here */

struct param {
	const char *kw;
	size_t kwlen;
	const char *val;	/* NULL: no "=" */
	size_t vlen;
};

static bool kw_is(const struct param *p, const char *name)
{
	return p->kwlen == strlen(name) && strncasecmp(p->kw, name, p->kwlen) == 0;
}

static bool val_is(const struct param *p, const char *v)
{
	return p->val != NULL && p->vlen == strlen(v) && strncasecmp(p->val, v, p->vlen) == 0;
}

static int shown(size_t n)
{
	return (int)(n > KW_SHOWN ? KW_SHOWN : n);
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "FROM:" / "TO:" in any case, after optional spaces; then spaces, which
 * real clients send before the path. *i is set past the colon. */
static int keyword(const char *arg, size_t len, const char *kw, size_t *i)
{
	size_t k = 0;
	while (k < len && arg[k] == ' ')
		k++;
	size_t n = strlen(kw);
	if (len - k < n || strncasecmp(arg + k, kw, n) != 0)
		return -1;
	*i = k + n;
	return 0;
}

/* The next "KEYWORD[=value]" at s[*i, len), after one or more spaces.
 * 1: read into p; 0: nothing left; -1: r says why. */
static int param_next(const char *s, size_t len, size_t *i, struct param *p,
		      struct smtp_reply *r)
{
	size_t j = *i;
	char name[SMTP_CHAR_NAME_MAX];
	if (j >= len)
		return 0;
	if (s[j] != ' ')
		return smtp_reply_set(r, 501, "5.5.2", "Syntax error: %s right after the address "
				      "(parameters are separated from it by a space)",
				      smtp_char_name((unsigned char)s[j], name, sizeof name));
	while (j < len && s[j] == ' ')
		j++;
	if (j >= len) {
		*i = j;
		return 0;
	}
	p->kw = s + j;
	while (j < len && (is_alnum((unsigned char)s[j]) || (s[j] == '-' && s + j > p->kw)))
		j++;
	p->kwlen = (size_t)(s + j - p->kw);
	if (p->kwlen == 0 || (j < len && s[j] != '=' && s[j] != ' '))
		return smtp_reply_set(r, 501, "5.5.4", "Bad parameter syntax: %s in a parameter "
				      "name (write KEYWORD or KEYWORD=value)",
				      smtp_char_name((unsigned char)s[j], name, sizeof name));
	p->val = NULL;
	p->vlen = 0;
	if (j < len && s[j] == '=') {
		p->val = s + ++j;
		while (j < len && s[j] != ' ') {
			unsigned char c = (unsigned char)s[j];
			/* esmtp-value: %d33-60 / %d62-126 */
			if (c < 33 || c > 126 || c == '=')
				return smtp_reply_set(r, 501, "5.5.4", "Bad value for %.*s: %s is not "
						      "allowed in a parameter value", shown(p->kwlen),
						      p->kw, smtp_char_name(c, name, sizeof name));
			j++;
		}
		p->vlen = (size_t)(s + j - p->val);
		if (p->vlen == 0)
			return smtp_reply_set(r, 501, "5.5.4", "%.*s= needs a value", shown(p->kwlen),
					      p->kw);
	}
	*i = j;
	return 1;
}

/* Each parameter at most once (RFC 5321 4.1.2 does not allow repeats);
 * seen is a bitmask over the command's known parameters. */
static int once(unsigned *seen, unsigned bit, const struct param *p, struct smtp_reply *r)
{
	if (*seen & bit)
		return smtp_reply_set(r, 501, "5.5.4", "%.*s given twice", shown(p->kwlen), p->kw);
	*seen |= bit;
	return 0;
}

static int need_value(const struct param *p, const char *usage, struct smtp_reply *r)
{
	if (p->val == NULL)
		return smtp_reply_set(r, 501, "5.5.4", "%.*s needs a value: %s", shown(p->kwlen),
				      p->kw, usage);
	return 0;
}

static int unknown(const struct param *p, const char *verb, const char *known,
		   struct smtp_reply *r)
{
	return smtp_reply_set(r, 555, "5.5.4", "Unsupported %s parameter %.*s (this server knows "
			      "%s)", verb, shown(p->kwlen), p->kw, known);
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* xtext into out, which must then hold no control bytes (it ends up in
 * the envelope file, a DSN, a log). */
static int xtext_value(const struct param *p, char *out, size_t outsz, struct smtp_reply *r)
{
	int n = smtp_xtext_decode(p->val, p->vlen, out, outsz);
	if (n < 0)
		return smtp_reply_set(r, 501, "5.5.4", "Bad %.*s value: not valid xtext (RFC 3461 4: "
				      "printable ASCII, with '+' and '=' written +2B and +3D)",
				      shown(p->kwlen), p->kw);
	if (has_ctl(out, (size_t)n))
		return smtp_reply_set(r, 501, "5.5.4", "Bad %.*s value: it decodes to a control "
				      "character", shown(p->kwlen), p->kw);
	return n;
}

/* RFC 1870: digits only. A number too big for 64 bits is over any limit. */
static int param_size(const struct param *p, uint64_t max_size, uint64_t *out,
		      struct smtp_reply *r)
{
	if (need_value(p, "SIZE=<bytes>", r) < 0)
		return -1;
	for (size_t k = 0; k < p->vlen; k++)
		if (p->val[k] < '0' || p->val[k] > '9')
			return smtp_reply_set(r, 501, "5.5.4", "Bad SIZE value '%.*s': use the size in "
					      "bytes, digits only", shown(p->vlen), p->val);
	char digits[24];
	bool overflow = p->vlen >= sizeof digits;
	if (!overflow) {
		memcpy(digits, p->val, p->vlen);
		digits[p->vlen] = '\0';
		overflow = str_to_u64(digits, UINT64_MAX, out) < 0;
	}
	if (overflow || (max_size != 0 && *out > max_size))
		return smtp_reply_set(r, 552, "5.3.4", "Message size exceeds fixed maximum message "
				      "size");
	return 0;
}

static int param_body(const struct param *p, unsigned flags, enum smtp_body_type *out,
		      struct smtp_reply *r)
{
	bool binary = flags & SMTP_PARSE_BINARY;
	const char *usage = binary ? "use 7BIT, 8BITMIME or BINARYMIME" : "use 7BIT or 8BITMIME";
	if (need_value(p, usage, r) < 0)
		return -1;
	if (val_is(p, "7BIT"))
		*out = SMTP_BODY_7BIT;
	else if (val_is(p, "8BITMIME"))
		*out = SMTP_BODY_8BITMIME;
	else if (val_is(p, "BINARYMIME") && binary)
		*out = SMTP_BODY_BINARYMIME;
	else if (val_is(p, "BINARYMIME"))
		return smtp_reply_set(r, 501, "5.5.4", "BODY=BINARYMIME is not offered here (it "
				      "needs CHUNKING): use 7BIT or 8BITMIME");
	else
		return smtp_reply_set(r, 501, "5.5.4", "Bad BODY value '%.*s': %s", shown(p->vlen),
				      p->val, usage);
	return 0;
}

/* AUTH=<> or AUTH=addr-spec, as xtext (RFC 4954 5). Kept only as
 * "given": the server never trusts it. */
static int param_auth(const struct param *p, struct smtp_reply *r)
{
	if (need_value(p, "AUTH=<> or AUTH=user@domain", r) < 0)
		return -1;
	char dec[SMTP_PATH_MAX - 1];
	int n = xtext_value(p, dec, sizeof dec, r);
	if (n < 0)
		return -1;
	if (n == 2 && dec[0] == '<' && dec[1] == '>')
		return 0;
	char path[SMTP_PATH_MAX + 1];
	str_fmt(path, sizeof path, "<%s>", dec);
	struct smtp_path ap;
	struct smtp_reply pr;
	size_t used;
	if (smtp_path_parse(path, strlen(path), SMTP_PARSE_UTF8, false, false, false, &ap, &used,
			    &pr) < 0 || used != strlen(path))
		return smtp_reply_set(r, 501, "5.5.4", "Bad AUTH value: use AUTH=<> or "
				      "AUTH=user@domain (xtext)");
	return 0;
}

enum {
	MAIL_SIZE = 1 << 0,
	MAIL_BODY = 1 << 1,
	MAIL_SMTPUTF8 = 1 << 2,
	MAIL_RET = 1 << 3,
	MAIL_ENVID = 1 << 4,
	MAIL_AUTH = 1 << 5,
};

static int mail_param(const struct param *p, unsigned flags, uint64_t max_size, unsigned *seen,
		      struct smtp_mail_args *out, struct smtp_reply *r)
{
	bool dsn = flags & SMTP_PARSE_DSN;
	if (kw_is(p, "SIZE")) {
		if (once(seen, MAIL_SIZE, p, r) < 0 || param_size(p, max_size, &out->size, r) < 0)
			return -1;
		out->size_given = true;
	} else if (kw_is(p, "BODY")) {
		if (once(seen, MAIL_BODY, p, r) < 0 || param_body(p, flags, &out->body, r) < 0)
			return -1;
	} else if (kw_is(p, "SMTPUTF8")) {
		if (once(seen, MAIL_SMTPUTF8, p, r) < 0)
			return -1;
		if (p->val != NULL)
			return smtp_reply_set(r, 501, "5.5.4", "SMTPUTF8 takes no value");
		out->smtputf8 = true;
	} else if (dsn && kw_is(p, "RET")) {
		if (once(seen, MAIL_RET, p, r) < 0 || need_value(p, "RET=FULL or RET=HDRS", r) < 0)
			return -1;
		if (val_is(p, "FULL"))
			out->ret = SMTP_RET_FULL;
		else if (val_is(p, "HDRS"))
			out->ret = SMTP_RET_HDRS;
		else
			return smtp_reply_set(r, 501, "5.5.4", "Bad RET value '%.*s': use FULL or HDRS",
					      shown(p->vlen), p->val);
	} else if (dsn && kw_is(p, "ENVID")) {
		if (once(seen, MAIL_ENVID, p, r) < 0 || need_value(p, "ENVID=<xtext>", r) < 0)
			return -1;
		if (p->vlen > ENVID_MAX)
			return smtp_reply_set(r, 501, "5.5.4", "ENVID is longer than %d characters",
					      ENVID_MAX);
		if (xtext_value(p, out->envid, sizeof out->envid, r) < 0)
			return -1;
	} else if (kw_is(p, "AUTH")) {
		if (once(seen, MAIL_AUTH, p, r) < 0 || param_auth(p, r) < 0)
			return -1;
		out->auth_given = true;
	} else {
		return unknown(p, "MAIL", dsn ? "SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH"
					       : "SIZE, BODY, SMTPUTF8 and AUTH", r);
	}
	return 0;
}

static int no_crlf_nul(const char *arg, size_t len, struct smtp_reply *r)
{
	for (size_t i = 0; i < len; i++)
		if (arg[i] == '\r' || arg[i] == '\n' || arg[i] == '\0')
			return smtp_reply_set(r, 501, "5.5.2", "Syntax error: CR, LF and NUL bytes are "
					      "not allowed in a command");
	return 0;
}

int smtp_mail_parse(const char *arg, size_t len, unsigned flags, uint64_t max_size,
		    struct smtp_mail_args *out, struct smtp_reply *r)
{
	memset(out, 0, sizeof *out);
	out->from.domain = out->from.addr;
	if (no_crlf_nul(arg, len, r) < 0)
		return -1;
	size_t i;
	if (keyword(arg, len, "FROM:", &i) < 0)
		return smtp_reply_set(r, 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
	/* The path comes before SMTPUTF8: read it with UTF-8 allowed, then
	 * refuse a non-ASCII one if the parameter is missing. */
	size_t used;
	if (smtp_path_parse(arg + i, len - i, flags | SMTP_PARSE_UTF8, true, false, false, &out->from,
			    &used, r) < 0)
		return -1;
	i += used;
	unsigned seen = 0;
	struct param p;
	int got;
	while ((got = param_next(arg, len, &i, &p, r)) > 0)
		if (mail_param(&p, flags, max_size, &seen, out, r) < 0)
			return -1;
	if (got < 0)
		return -1;
	if (out->from.utf8 && !out->smtputf8 && !(flags & SMTP_PARSE_UTF8))
		return smtp_reply_set(r, 553, "5.6.7", "Sender address has non-ASCII characters: "
				      "UTF-8 addresses need the SMTPUTF8 parameter on MAIL FROM "
				      "(RFC 6531)");
	return 0;
}

/* NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int param_notify(const struct param *p, unsigned *out, struct smtp_reply *r)
{
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {
		{"NEVER", SMTP_NOTIFY_NEVER},
		{"SUCCESS", SMTP_NOTIFY_SUCCESS},
		{"FAILURE", SMTP_NOTIFY_FAILURE},
		{"DELAY", SMTP_NOTIFY_DELAY},
	};
	static const char usage[] = "use NEVER, or a comma-separated list of SUCCESS, FAILURE "
				    "and DELAY";
	if (need_value(p, usage, r) < 0)
		return -1;
	unsigned bits = 0;
	const char *s = p->val;
	const char *end = p->val + p->vlen;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma != NULL ? comma : end;
		size_t n = (size_t)(e - s);
		if (n == 0)
			return smtp_reply_set(r, 501, "5.5.4", "Bad NOTIFY value: an empty item in the "
					      "list; %s", usage);
		size_t k = 0;
		while (k < sizeof words / sizeof words[0] &&
		       !(strlen(words[k].word) == n && strncasecmp(words[k].word, s, n) == 0))
			k++;
		if (k == sizeof words / sizeof words[0])
			return smtp_reply_set(r, 501, "5.5.4", "Bad NOTIFY value '%.*s': %s", shown(n), s,
					      usage);
		if (bits & words[k].bit)
			return smtp_reply_set(r, 501, "5.5.4", "Bad NOTIFY value: %s is listed twice",
					      words[k].word);
		bits |= words[k].bit;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return smtp_reply_set(r, 501, "5.5.4", "Bad NOTIFY value: NEVER cannot be combined "
				      "with SUCCESS, FAILURE or DELAY");
	*out = bits;
	return 0;
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2), kept decoded as "type;address"
 * with the type in lower case. */
static int param_orcpt(const struct param *p, char *out, size_t outsz, struct smtp_reply *r)
{
	static const char usage[] = "use ORCPT=rfc822;user@domain (xtext)";
	if (need_value(p, usage, r) < 0)
		return -1;
	if (p->vlen > SMTP_XTEXT_MAX)
		return smtp_reply_set(r, 501, "5.5.4", "ORCPT is longer than %d characters",
				      SMTP_XTEXT_MAX);
	const char *semi = memchr(p->val, ';', p->vlen);
	if (semi == NULL)
		return smtp_reply_set(r, 501, "5.5.4", "Bad ORCPT value: the address type is "
				      "missing; %s", usage);
	size_t tlen = (size_t)(semi - p->val);
	const char *type;
	if (tlen == 6 && strncasecmp(p->val, "rfc822", 6) == 0)
		type = "rfc822";
	else if (tlen == 5 && strncasecmp(p->val, "utf-8", 5) == 0)
		type = "utf-8";
	else
		return smtp_reply_set(r, 501, "5.5.4", "Bad ORCPT address type '%.*s': use rfc822 "
				      "or utf-8", shown(tlen), p->val);
	struct param addr = {p->kw, p->kwlen, semi + 1, p->vlen - tlen - 1};
	if (addr.vlen == 0)
		return smtp_reply_set(r, 501, "5.5.4", "Bad ORCPT value: the address is empty; %s",
				      usage);
	size_t tl = strlen(type);
	memcpy(out, type, tl);
	out[tl] = ';';
	return xtext_value(&addr, out + tl + 1, outsz - tl - 1, r) < 0 ? -1 : 0;
}

enum { RCPT_NOTIFY = 1 << 0, RCPT_ORCPT = 1 << 1 };

static int rcpt_param(const struct param *p, unsigned flags, unsigned *seen,
		      struct smtp_rcpt_args *out, struct smtp_reply *r)
{
	bool dsn = flags & SMTP_PARSE_DSN;
	if (dsn && kw_is(p, "NOTIFY")) {
		if (once(seen, RCPT_NOTIFY, p, r) < 0 || param_notify(p, &out->notify, r) < 0)
			return -1;
	} else if (dsn && kw_is(p, "ORCPT")) {
		if (once(seen, RCPT_ORCPT, p, r) < 0 ||
		    param_orcpt(p, out->orcpt, sizeof out->orcpt, r) < 0)
			return -1;
	} else {
		return unknown(p, "RCPT", dsn ? "NOTIFY and ORCPT" : "no RCPT parameters", r);
	}
	return 0;
}

int smtp_rcpt_parse(const char *arg, size_t len, unsigned flags, struct smtp_rcpt_args *out,
		    struct smtp_reply *r)
{
	memset(out, 0, sizeof *out);
	out->to.domain = out->to.addr;
	if (no_crlf_nul(arg, len, r) < 0)
		return -1;
	size_t i;
	if (keyword(arg, len, "TO:", &i) < 0)
		return smtp_reply_set(r, 501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
	size_t used;
	if (smtp_path_parse(arg + i, len - i, flags, false, true, true, &out->to, &used, r) < 0)
		return -1;
	i += used;
	unsigned seen = 0;
	struct param p;
	int got;
	while ((got = param_next(arg, len, &i, &p, r)) > 0)
		if (rcpt_param(&p, flags, &seen, out, r) < 0) {
			out->orcpt[0] = '\0';
			return -1;
		}
	return got < 0 ? -1 : 0;
}
