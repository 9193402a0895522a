/* DKIM canonicalization (RFC 6376 3.4): simple and relaxed, for header
 * fields and the body, hashed as it goes (SHA-256) over the LF-stored
 * message as the CRLF text it was on the wire. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/sbuf.h"
#include "lib/str.h"
#include "mailauth/mailauth_int.h"

int dkim_canon_parse(const char *c, enum dkim_canon *hc, enum dkim_canon *bc)
{
	*hc = *bc = DKIM_SIMPLE;
	if (c == NULL || *c == '\0')
		return 0;
	const char *slash = strchr(c, '/');
	size_t hl = slash != NULL ? (size_t)(slash - c) : strlen(c);
	if (hl == 7 && strncmp(c, "relaxed", 7) == 0)
		*hc = DKIM_RELAXED;
	else if (!(hl == 6 && strncmp(c, "simple", 6) == 0))
		return -1;
	if (slash == NULL)
		return 0;
	if (strcmp(slash + 1, "relaxed") == 0)
		*bc = DKIM_RELAXED;
	else if (strcmp(slash + 1, "simple") != 0)
		return -1;
	return 0;
}

/* ---- the body ---- */

int dkim_bh_init(struct dkim_body_hash *b, enum dkim_canon canon, uint64_t limit)
{
	memset(b, 0, sizeof *b);
	b->canon = canon;
	b->limit = limit;
	if ((b->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(b->md);
		b->md = NULL;
		return -1;
	}
	return 0;
}

static void emit(struct dkim_body_hash *b, const char *p, size_t n)
{
	uint64_t room = b->total < b->limit ? b->limit - b->total : 0;
	EVP_DigestUpdate(b->md, p, n < room ? n : (size_t)room);
	b->total += n;
}

static void flush_pending(struct dkim_body_hash *b)
{
	for (; b->pending_crlf > 0; b->pending_crlf--)
		emit(b, "\r\n", 2);
	b->any = true;
}

static void body_line(struct dkim_body_hash *b, const char *line, size_t n)
{
	if (b->canon == DKIM_SIMPLE) {
		if (n == 0) {
			b->pending_crlf++;
			return;
		}
		flush_pending(b);
		emit(b, line, n);
		emit(b, "\r\n", 2);
		return;
	}
	bool started = false, sp = false;
	size_t i = 0;
	while (i < n) {
		if (line[i] == ' ' || line[i] == '\t') {
			sp = true;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && line[j] != ' ' && line[j] != '\t')
			j++;
		if (!started) {
			flush_pending(b);
			started = true;
		}
		if (sp)
			emit(b, " ", 1);
		emit(b, line + i, j - i);
		sp = false;
		i = j;
	}
	if (!started) {
		b->pending_crlf++;
		return;
	}
	emit(b, "\r\n", 2);
}

void dkim_bh_update(struct dkim_body_hash *b, const char *body, size_t len)
{
	size_t p = 0;
	while (p < len) {
		const char *nl = memchr(body + p, '\n', len - p);
		size_t e = nl != NULL ? (size_t)(nl - body) : len;
		size_t content = e;
		if (nl != NULL && content > p && body[content - 1] == '\r')
			content--;
		body_line(b, body + p, content - p);
		p = e + 1;
	}
}

int dkim_bh_final(struct dkim_body_hash *b, unsigned char out[32])
{
	/* Simple: an empty body is one CRLF; relaxed: nothing. */
	if (b->canon == DKIM_SIMPLE && !b->any)
		emit(b, "\r\n", 2);
	unsigned int n = 0;
	int rc = EVP_DigestFinal_ex(b->md, out, &n) == 1 && n == 32 ? 0 : -1;
	dkim_bh_cleanup(b);
	return rc;
}

void dkim_bh_cleanup(struct dkim_body_hash *b)
{
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
}

/* ---- header fields ---- */

int dkim_hash_field(EVP_MD_CTX *md, enum dkim_canon canon, const char *p, size_t len, bool crlf)
{
	struct sbuf s = SBUF_INIT(2 * len + 8);
	int rc = 0;
	if (canon == DKIM_SIMPLE) {
		for (size_t i = 0; i < len && rc == 0; i++) {
			if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
				rc = sbuf_addch(&s, '\r');
			if (rc == 0)
				rc = sbuf_addch(&s, p[i]);
		}
	} else {
		const char *colon = memchr(p, ':', len);
		size_t nl = colon != NULL ? (size_t)(colon - p) : len;
		size_t ne = nl;
		while (ne > 0 && (p[ne - 1] == ' ' || p[ne - 1] == '\t'))
			ne--;
		for (size_t i = 0; i < ne && rc == 0; i++)
			rc = sbuf_addch(&s, (char)tolower((unsigned char)p[i]));
		if (rc == 0)
			rc = sbuf_addch(&s, ':');
		bool sp = false, started = false;
		for (size_t i = nl + 1; i < len && rc == 0; i++) {
			char c = p[i];
			if (c == '\r' || c == '\n')
				continue;	/* unfold */
			if (c == ' ' || c == '\t') {
				sp = true;
				continue;
			}
			if (sp && started)
				rc = sbuf_addch(&s, ' ');
			sp = false;
			started = true;
			if (rc == 0)
				rc = sbuf_addch(&s, c);
		}
	}
	if (rc == 0 && crlf)
		rc = sbuf_add(&s, "\r\n", 2);
	if (rc == 0 && s.len > 0 && EVP_DigestUpdate(md, s.data, s.len) != 1)
		rc = -1;
	sbuf_free(&s);
	return rc;
}

int dkim_hash_fields(EVP_MD_CTX *md, enum dkim_canon canon, const struct mauth_header *h,
		     const char *hlist)
{
	bool *used = calloc(h->n + 1, sizeof *used);
	if (used == NULL)
		return -1;
	int rc = 0;
	const char *p = hlist;
	while (*p != '\0' && rc == 0) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		const char *s = p;
		while (*p != '\0' && *p != ':')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
			e--;
		if (*p == ':')
			p++;
		size_t n = (size_t)(e - s);
		if (n == 0)
			continue;
		/* The last unused instance; none: the name hashes nothing. */
		for (size_t i = h->n; i-- > 0;) {
			const struct mauth_field *f = &h->f[i];
			if (used[i] || f->namelen != n || strncasecmp(f->p, s, n) != 0)
				continue;
			used[i] = true;
			rc = dkim_hash_field(md, canon, f->p, f->len, true);
			break;
		}
	}
	free(used);
	return rc;
}

char *dkim_strip_b(const char *field, size_t len, size_t *outlen)
{
	const char *colon = memchr(field, ':', len);
	if (colon == NULL)
		return NULL;
	size_t vstart = (size_t)(colon - field) + 1;
	struct mauth_tags t;
	if (mauth_tags_parse(field + vstart, len - vstart, &t, NULL) < 0)
		return NULL;
	const struct mauth_tag *b = NULL;
	for (size_t i = 0; i < t.n; i++)
		if (strcmp(t.t[i].name, "b") == 0)
			b = &t.t[i];
	if (b == NULL) {
		mauth_tags_free(&t);
		return NULL;
	}
	/* From just after '=' (the white space before the value goes too) to
	 * the end of the value. */
	size_t vs = vstart + b->voff, ve = vs + b->vlen;
	while (vs > 0 && field[vs - 1] != '=')
		vs--;
	mauth_tags_free(&t);
	char *out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, field, vs);
	memcpy(out + vs, field + ve, len - ve);
	*outlen = vs + (len - ve);
	out[*outlen] = '\0';
	return out;
}
