/* The header of a stored message (RFC 5322 2.2: fields, folding) and tag
 * lists (RFC 6376 3.2), the text DKIM and DMARC records are written in. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "mailauth/mailauth_int.h"

const char *mauth_res_name(enum mauth_res r)
{
	static const char *const names[] = {"none", "pass", "fail", "softfail", "neutral",
					    "temperror", "permerror", "policy"};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "none";
}

/* The end of the line that starts at p: the index of its LF, or len. */
static size_t line_end(const char *msg, size_t len, size_t p)
{
	const char *nl = memchr(msg + p, '\n', len - p);
	return nl != NULL ? (size_t)(nl - msg) : len;
}

int mauth_header_split(const char *msg, size_t len, struct mauth_header *h)
{
	memset(h, 0, sizeof *h);
	size_t cap = 0, p = 0;
	while (p < len) {
		size_t e = line_end(msg, len, p);
		size_t content = e;
		if (content > p && msg[content - 1] == '\r')
			content--;
		if (content == p) {	/* the empty line: the body follows */
			p = e < len ? e + 1 : len;
			break;
		}
		bool cont = msg[p] == ' ' || msg[p] == '\t';
		if (cont && h->n > 0) {
			h->f[h->n - 1].len = content - (size_t)(h->f[h->n - 1].p - msg);
		} else if (h->n < MAUTH_MAX_FIELDS) {
			if (h->n == cap) {
				size_t ncap = cap ? cap * 2 : 32;
				struct mauth_field *nf = realloc(h->f, ncap * sizeof *nf);
				if (nf == NULL) {
					mauth_header_free(h);
					return -1;
				}
				h->f = nf;
				cap = ncap;
			}
			struct mauth_field *f = &h->f[h->n++];
			f->p = msg + p;
			f->len = content - p;
			const char *colon = memchr(f->p, ':', f->len);
			size_t nl = colon != NULL ? (size_t)(colon - f->p) : 0;
			while (nl > 0 && (f->p[nl - 1] == ' ' || f->p[nl - 1] == '\t'))
				nl--;
			f->namelen = nl;
		} else {
			break;	/* past the limit: what follows counts as body */
		}
		p = e < len ? e + 1 : len;
	}
	h->body = msg + p;
	h->bodylen = len - p;
	return 0;
}

void mauth_header_free(struct mauth_header *h)
{
	free(h->f);
	h->f = NULL;
	h->n = 0;
}

bool mauth_field_is(const struct mauth_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->namelen == n && strncasecmp(f->p, name, n) == 0;
}

int mauth_from_domain(const char *msg, size_t len, char *out, size_t outsz)
{
	struct mauth_header h;
	if (mauth_header_split(msg, len, &h) < 0)
		return -1;
	int rc = -1;
	for (size_t i = 0; i < h.n; i++) {
		if (!mauth_field_is(&h.f[i], "from"))
			continue;
		const char *v = memchr(h.f[i].p, ':', h.f[i].len) + 1;
		const char *end = h.f[i].p + h.f[i].len;
		/* The address: inside <>, or the value itself. */
		const char *lt = memchr(v, '<', (size_t)(end - v));
		if (lt != NULL) {
			const char *gt = memchr(lt, '>', (size_t)(end - lt));
			if (gt == NULL)
				break;
			v = lt + 1;
			end = gt;
		}
		const char *at = NULL;
		for (const char *q = v; q < end; q++)
			if (*q == '@')
				at = q;
		if (at == NULL)
			break;
		const char *d = at + 1;
		size_t n = 0;
		while (d + n < end && (isalnum((unsigned char)d[n]) || d[n] == '.' || d[n] == '-' ||
				       d[n] == '_' || (unsigned char)d[n] >= 0x80))
			n++;
		while (n > 0 && d[n - 1] == '.')
			n--;
		if (n == 0 || n >= outsz)
			break;
		for (size_t k = 0; k < n; k++)
			out[k] = (char)tolower((unsigned char)d[k]);
		out[n] = '\0';
		rc = 0;
		break;
	}
	mauth_header_free(&h);
	return rc;
}

/* ---- tag lists ---- */

static bool fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int mauth_tags_parse(const char *text, size_t len, struct mauth_tags *t, ik_err *e)
{
	memset(t, 0, sizeof *t);
	if ((t->buf = malloc(len + 1)) == NULL)
		return ik_err_set(e, "out of memory");
	memcpy(t->buf, text, len);
	t->buf[len] = '\0';
	if (memchr(text, '\0', len) != NULL)
		goto bad_char;
	size_t p = 0;
	for (;;) {
		while (p < len && fws(text[p]))
			p++;
		if (p == len)
			break;	/* a trailing ';' is allowed */
		size_t ns = p;
		if (!isalpha((unsigned char)text[p])) {
			ik_err_set(e, "tag list: a tag name must start with a letter");
			goto fail;
		}
		while (p < len && (isalnum((unsigned char)text[p]) || text[p] == '_'))
			p++;
		size_t ne = p;
		while (p < len && fws(text[p]))
			p++;
		if (p == len || text[p] != '=') {
			ik_err_set(e, "tag list: '=' expected after the tag name");
			goto fail;
		}
		p++;
		while (p < len && fws(text[p]))
			p++;
		size_t vs = p;
		while (p < len && text[p] != ';') {
			unsigned char c = (unsigned char)text[p];
			if (!fws((char)c) && (c < 0x21 || c == 0x7f))
				goto bad_char;
			p++;
		}
		size_t ve = p;
		while (ve > vs && fws(text[ve - 1]))
			ve--;
		if (t->n == MAUTH_TAGS_MAX) {
			ik_err_set(e, "tag list: more than %d tags", MAUTH_TAGS_MAX);
			goto fail;
		}
		t->buf[ne] = '\0';
		t->buf[ve] = '\0';
		struct mauth_tag *tag = &t->t[t->n];
		tag->name = t->buf + ns;
		tag->val = t->buf + vs;
		tag->voff = vs;
		tag->vlen = ve - vs;
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->t[i].name, tag->name) == 0) {
				ik_err_set(e, "tag list: tag %s given twice", tag->name);
				goto fail;
			}
		t->n++;
		if (p < len)
			p++;	/* the ';' */
	}
	return 0;
bad_char:
	ik_err_set(e, "tag list: a control character in a value");
fail:
	mauth_tags_free(t);
	return -1;
}

void mauth_tags_free(struct mauth_tags *t)
{
	free(t->buf);
	t->buf = NULL;
	t->n = 0;
}

const char *mauth_tags_get(const struct mauth_tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->t[i].name, name) == 0)
			return t->t[i].val;
	return NULL;
}
