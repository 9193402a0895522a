/* The raw Content-Type, Content-Disposition and Content-Language values of
 * a MIME part, parsed the way BODYSTRUCTURE shows them (fuzzed by
 * tests/fuzz/fuzz_imap_mime.c; pure, no I/O).
 *
 * RFC 2045 5.1 (type "/" subtype *(";" attribute "=" value), value a token
 * or quoted string, comments in parentheses anywhere), RFC 2183
 * (disposition), RFC 3282 (Content-Language: a comma list), RFC 2231
 * (parameter continuations "name*0", "name*1*": joined into one
 * parameter, "name*" when any piece is charset/percent-encoded; the
 * encoding is left as sent, a plain piece's '%' escaped and "''" put
 * before a value whose first piece is plain) and RFC 3501 7.4.2 (body-fld-param,
 * body-fld-dsp, body-fld-lang).
 *
 * Why not GMime's decoded parameters: clients compare BODYSTRUCTURE with
 * what Dovecot sends for the same Maildir (the issue asks for the same
 * bytes), and Dovecot sends the values as written: names and types in the
 * sender's case, RFC 2047 encoded-words and RFC 2231 percent-encoding
 * untouched, comments dropped. GMime still finds the parts; only these
 * fields are read from the raw header. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"

static const char *skip_cfws(const char *p, const char *end)
{
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end || *p != '(')
			return p;
		/* A comment, nested, with quoted-pairs (RFC 5322 3.2.2). */
		unsigned depth = 0;
		while (p < end) {
			if (*p == '\\' && p + 1 < end) {
				p += 2;
				continue;
			}
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
			p++;
		}
	}
}

/* RFC 2045 token characters: anything printable but tspecials. */
static bool token_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Copy a token (or, with quoted allowed, a quoted string, unescaped)
 * from *pp into the arena; NULL when there is none. */
static char *take(struct imap_mime_hdr *h, const char **pp, const char *end, bool quoted,
		  bool value)
{
	const char *p = *pp;
	char *d = h->mem + h->used, *s = d;
	if (quoted && p < end && *p == '"') {
		p++;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (*p != '\r' && *p != '\n')
				*d++ = *p;
			p++;
		}
		if (p < end)
			p++;
	} else {
		/* A value may hold what a sloppy sender left unquoted ('/',
		 * '?', '=' of an encoded-word); it ends at ';', space or '('. */
		while (p < end && (token_char((unsigned char)*p) ||
				   (value && (unsigned char)*p >= 0x80) ||
				   (value && *p != ';' && *p != '"' && *p != '(' &&
				    (unsigned char)*p > 0x20 && *p != 0x7f)))
			*d++ = *p++;
		if (d == s)
			return NULL;
	}
	*d++ = '\0';
	h->used += (size_t)(d - s);
	*pp = p;
	return s;
}

/* "name*N" or "name*N*": the piece number and whether it is encoded;
 * -1 for any other name. */
static long piece(const char *name, size_t *base_len, bool *encoded)
{
	const char *star = strchr(name, '*');
	if (star == NULL || star[1] < '0' || star[1] > '9')
		return -1;
	long n = 0;
	const char *p = star + 1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (*p - '0')) > 999)
			return -1;
	*encoded = *p == '*';
	if (*p != '\0' && !(*p == '*' && p[1] == '\0'))
		return -1;
	*base_len = (size_t)(star - name);
	return n;
}

/* Join the RFC 2231 pieces of each name, in piece order, into one
 * parameter where the first piece stood. */
static void join_pieces(struct imap_mime_hdr *h)
{
	struct imap_mime_param out[IMAP_MIME_PARAMS_MAX];
	size_t n = 0;
	bool used[IMAP_MIME_PARAMS_MAX] = {false};
	for (size_t i = 0; i < h->n; i++) {
		if (used[i])
			continue;
		size_t bl;
		bool enc;
		if (piece(h->p[i].name, &bl, &enc) < 0) {
			out[n++] = h->p[i];
			continue;
		}
		/* Collect every piece of this base name, then order them. */
		size_t idx[IMAP_MIME_PARAMS_MAX], k = 0;
		long num[IMAP_MIME_PARAMS_MAX];
		bool any_enc = false;
		for (size_t j = i; j < h->n; j++) {
			size_t bl2;
			bool e2;
			long pn = used[j] ? -1 : piece(h->p[j].name, &bl2, &e2);
			if (pn < 0 || bl2 != bl || strncasecmp(h->p[j].name, h->p[i].name, bl) != 0)
				continue;
			used[j] = true;
			any_enc = any_enc || e2;
			size_t at = k++;
			while (at > 0 && num[at - 1] > pn) {
				idx[at] = idx[at - 1];
				num[at] = num[at - 1];
				at--;
			}
			idx[at] = j;
			num[at] = pn;
		}
		char *d = h->mem + h->used, *name = d;
		memcpy(d, h->p[i].name, bl);
		d += bl;
		if (any_enc)
			*d++ = '*';
		*d++ = '\0';
		char *value = d;
		/* An encoded ("name*") value is charset'language'percent-text:
		 * when its first piece is plain, the charset and language are
		 * empty; a plain piece's '%' is a '%', so it is written %25
		 * (Dovecot joins them so too). */
		bool first_plain = true;
		for (size_t j = 0; j < k; j++) {
			size_t bl2;
			bool e2 = false;
			piece(h->p[idx[j]].name, &bl2, &e2);
			if (j == 0)
				first_plain = !e2;
			if (j == 0 && any_enc && first_plain) {
				*d++ = '\'';
				*d++ = '\'';
			}
			for (const char *v = h->p[idx[j]].value; *v; v++) {
				if (any_enc && !e2 && *v == '%') {
					memcpy(d, "%25", 3);
					d += 3;
				} else {
					*d++ = *v;
				}
			}
		}
		*d++ = '\0';
		h->used += (size_t)(d - name);
		out[n].name = name;
		out[n].value = value;
		n++;
	}
	memcpy(h->p, out, n * sizeof *out);
	h->n = n;
}

int imap_mime_hdr_parse(const char *raw, size_t len, bool content_type, struct imap_mime_hdr *h)
{
	memset(h, 0, sizeof *h);
	/* Every string taken is a piece of the input plus its NUL (at most
	 * 2 * (IMAP_MIME_PARAMS_MAX + 2) of them); the joined pieces copy
	 * names and values once more, a '%' of a plain piece as three
	 * bytes, and "''" before each joined value. */
	if (len > IMAP_MIME_HDR_MAX)
		return -1;
	h->mem = malloc(4 * len + 8 * IMAP_MIME_PARAMS_MAX + 64);
	if (h->mem == NULL)
		return -1;
	const char *p = raw, *end = raw + len;
	p = skip_cfws(p, end);
	h->type = take(h, &p, end, false, false);
	if (h->type == NULL) {
		imap_mime_hdr_free(h);
		return -1;
	}
	if (content_type) {
		/* "type" without "/subtype": kept, with an empty subtype (as
		 * Dovecot shows it) rather than replaced by text/plain. */
		p = skip_cfws(p, end);
		if (p < end && *p == '/') {
			p = skip_cfws(p + 1, end);
			h->subtype = take(h, &p, end, false, false);
		}
		if (h->subtype == NULL) {
			char *d = h->mem + h->used++;
			*d = '\0';
			h->subtype = d;
		}
	}
	/* Parameters: a bad one ends the list (what came before stays). */
	for (;;) {
		p = skip_cfws(p, end);
		if (p >= end || *p != ';')
			break;
		p = skip_cfws(p + 1, end);
		char *name = take(h, &p, end, false, false);
		if (name == NULL) {
			if (p < end && *p == ';')
				continue;	/* ";;" */
			break;
		}
		p = skip_cfws(p, end);
		if (p >= end || *p != '=')
			break;
		p = skip_cfws(p + 1, end);
		char *value = take(h, &p, end, true, true);
		if (value == NULL) {
			char *d = h->mem + h->used;
			*d = '\0';
			h->used++;
			value = d;
		}
		if (h->n == IMAP_MIME_PARAMS_MAX)
			break;
		h->p[h->n].name = name;
		h->p[h->n].value = value;
		h->n++;
	}
	join_pieces(h);
	return 0;
}

void imap_mime_hdr_free(struct imap_mime_hdr *h)
{
	free(h->mem);
	memset(h, 0, sizeof *h);
}

int imap_mime_lang_parse(const char *raw, size_t len, const char **tags, size_t max, size_t *n,
			 char *buf, size_t bufsz)
{
	*n = 0;
	const char *p = raw, *end = raw + len;
	size_t used = 0;
	for (;;) {
		p = skip_cfws(p, end);
		while (p < end && *p == ',')
			p = skip_cfws(p + 1, end);
		if (p >= end)
			break;
		const char *s = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '(' &&
		       *p != '\r' && *p != '\n')
			p++;
		size_t l = (size_t)(p - s);
		if (l == 0) {
			p++;
			continue;
		}
		if (*n == max || used + l + 1 > bufsz)
			return -1;
		memcpy(buf + used, s, l);
		buf[used + l] = '\0';
		tags[(*n)++] = buf + used;
		used += l + 1;
	}
	return 0;
}
