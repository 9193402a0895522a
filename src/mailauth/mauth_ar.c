/* The Authentication-Results header field (RFC 8601 2.2): one resinfo per
 * method, with the properties RFC 8601 2.7 registers (smtp.mailfrom,
 * smtp.helo, header.d, header.s, header.b of RFC 6008, header.from of RFC
 * 7489 11.2), a reason comment where a check did not pass. */
#include <ctype.h>
#include <string.h>

#include "mailauth/mailauth_int.h"

/* A property value: a token as it is, otherwise a quoted-string. */
static int pvalue(struct sbuf *out, const char *v)
{
	bool token = v[0] != '\0';
	for (const char *p = v; *p && token; p++)
		token = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f &&
			strchr("()<>,;:\\\"[]?= ", *p) == NULL;
	/* RFC 8601 2.3: an address (local@domain) may stand as it is. */
	if (!token && strchr(v, '@') != NULL) {
		token = true;
		for (const char *p = v; *p && token; p++)
			token = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f &&
				strchr("()<>,;\\\" ", *p) == NULL;
	}
	if (token)
		return sbuf_addstr(out, v);
	if (sbuf_addch(out, '"') < 0)
		return -1;
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			continue;
		if ((*p == '"' || *p == '\\') && sbuf_addch(out, '\\') < 0)
			return -1;
		if (sbuf_addch(out, *p) < 0)
			return -1;
	}
	return sbuf_addch(out, '"');
}

static int comment(struct sbuf *out, const char *why)
{
	if (why == NULL || why[0] == '\0')
		return 0;
	if (sbuf_addstr(out, " (") < 0)
		return -1;
	for (const char *p = why; *p; p++)
		if (isprint((unsigned char)*p) && *p != '(' && *p != ')' && *p != '\\' &&
		    sbuf_addch(out, *p) < 0)
			return -1;
	return sbuf_addch(out, ')');
}

int mauth_ar_format(const char *authserv_id, const struct mauth_result *r, struct sbuf *out)
{
	static const char *const policies[] = {"none", "quarantine", "reject"};
	int rc = sbuf_printf(out, "Authentication-Results: %s;\n\tspf=%s", authserv_id,
			     mauth_res_name(r->spf));
	if (rc == 0 && r->spf_mailfrom[0] != '\0') {
		rc = sbuf_addstr(out, r->spf_helo ? " smtp.helo=" : " smtp.mailfrom=");
		if (rc == 0)
			rc = pvalue(out, r->spf_mailfrom);
	}
	if (rc == 0 && r->ndkim == 0)
		rc = sbuf_addstr(out, ";\n\tdkim=none");
	for (size_t i = 0; i < r->ndkim && rc == 0; i++) {
		const struct mauth_dkim_res *d = &r->dkim[i];
		rc = sbuf_printf(out, ";\n\tdkim=%s", mauth_res_name(d->res));
		if (rc == 0 && d->res != MAUTH_PASS)
			rc = comment(out, d->why);
		if (rc == 0 && d->d[0] != '\0')
			rc = sbuf_printf(out, " header.d=%s", d->d);
		if (rc == 0 && d->s[0] != '\0')
			rc = sbuf_printf(out, " header.s=%s", d->s);
		if (rc == 0 && d->a[0] != '\0' && (strcmp(d->a, "rsa-sha256") == 0 ||
						   strcmp(d->a, "ed25519-sha256") == 0))
			rc = sbuf_printf(out, " header.a=%s", d->a);
		if (rc == 0 && d->b8[0] != '\0') {
			rc = sbuf_addstr(out, " header.b=");
			if (rc == 0)
				rc = pvalue(out, d->b8);
		}
	}
	if (rc == 0 && r->from_domain[0] != '\0') {
		rc = sbuf_printf(out, ";\n\tdmarc=%s", mauth_res_name(r->dmarc));
		if (rc == 0 && (r->dmarc == MAUTH_PASS || r->dmarc == MAUTH_FAIL))
			rc = sbuf_printf(out, " (p=%s)", policies[r->policy]);
		if (rc == 0)
			rc = sbuf_printf(out, " header.from=%s", r->from_domain);
	}
	if (rc == 0)
		rc = sbuf_addch(out, '\n');
	return rc;
}
