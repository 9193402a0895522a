/* ENVELOPE, BODYSTRUCTURE and BODY[section] bytes from a real MIME parser
 * (GMime 3, as DESIGN.md chose: parsing MIME by hand is where mail
 * software breaks). RFC 3501 7.4.2 (the ENVELOPE and BODYSTRUCTURE
 * fields, section numbering, HEADER.FIELDS), RFC 2045/2046 (MIME),
 * RFC 5322 (header fields). Types, parameters, disposition and language
 * come from the raw header fields as written (imap_parse_mime.c), the
 * way Dovecot shows them; GMime finds the parts.
 *
 * The message is given in CRLF form (what IMAP sizes count), parsed from
 * memory with a persistent stream, so a leaf part's content is a window
 * of the original bytes: its size and line count are exact. A message
 * that is a single leaf (most mail) has only its header parsed by GMime
 * for imap_mime_all (parse_head): its content is the rest of the bytes. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "imap/imap_int.h"

static bool raw_has(const char *p, size_t n, const char *needle);

static GMimeMessage *parse(const char *msg, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_persist_stream(p, TRUE);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	return m;
}

/* The end of the header: the offset just after the blank line (or len). */
static size_t header_end(const char *msg, size_t len)
{
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	for (size_t i = 0; i + 3 < len; i++)
		if (msg[i] == '\r' && msg[i + 1] == '\n' && msg[i + 2] == '\r' && msg[i + 3] == '\n')
			return i + 4;
	return len;
}

/* A header field's raw value, unfolded, leading spaces dropped; NULL. */
static char *raw_header(GMimeObject *o, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	GMimeHeader *h = hl != NULL ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *v = h != NULL ? g_mime_header_get_raw_value(h) : NULL;
	if (v == NULL)
		return NULL;
	char *out = malloc(strlen(v) + 1);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	for (const char *p = v; *p; p++)
		if (*p != '\r' && *p != '\n')
			out[n++] = *p;
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	size_t skip = strspn(out, " \t");
	memmove(out, out + skip, n - skip + 1);
	return out;
}

static void put_nstr(struct sbuf *b, const char *s)
{
	if (s == NULL || s[0] == '\0')
		sbuf_addstr(b, "NIL");
	else
		imap_put_string(b, s, strlen(s), false);
}

/* Address parts as the header holds them: GMime decodes RFC 2047
 * encoded-words in display names, ENVELOPE carries them undecoded (RFC
 * 3501 7.4.2; Dovecot does the same). put_addr_header hides every '?' as
 * U+E000 (a private-use character, UTF-8 EE 80 80, that GMime keeps in a
 * phrase) so that no "=?...?=" is decoded; here it becomes '?' again. */
#define ADDR_QMARK "\xee\x80\x80"

/* s[0, n) with each hidden '?' shown again; NIL when empty. */
static void put_astrn(struct sbuf *b, const char *s, size_t n)
{
	if (s == NULL || n == 0) {
		sbuf_addstr(b, "NIL");
		return;
	}
	/* Most names and addresses hold no '?': put as they are. */
	if (memmem(s, n, ADDR_QMARK, 3) == NULL) {
		imap_put_string(b, s, n, false);
		return;
	}
	char *c = malloc(n + 1);
	if (c == NULL)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		if (n - i >= 3 && memcmp(s + i, ADDR_QMARK, 3) == 0) {
			c[k++] = '?';
			i += 3;
		} else {
			c[k++] = s[i++];
		}
	}
	imap_put_string(b, c, k, false);
	free(c);
}

static void put_astr(struct sbuf *b, const char *s)
{
	put_astrn(b, s, s != NULL ? strlen(s) : 0);
}

/* (name NIL local domain) of an address "local@domain" (the last '@'). */
static void put_mailbox(struct sbuf *b, const char *name, const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	sbuf_addch(b, '(');
	put_astr(b, name);
	sbuf_addstr(b, " NIL ");
	put_astrn(b, addr, addr == NULL ? 0 : at != NULL ? (size_t)(at - addr) : strlen(addr));
	sbuf_addch(b, ' ');
	put_astr(b, at != NULL ? at + 1 : NULL);
	sbuf_addch(b, ')');
}

static void put_addr_list(struct sbuf *b, InternetAddressList *l)
{
	int n = l != NULL ? internet_address_list_length(l) : 0;
	if (n == 0) {
		sbuf_addstr(b, "NIL");
		return;
	}
	sbuf_addch(b, '(');
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			sbuf_addstr(b, "(NIL NIL ");
			put_astr(b, internet_address_get_name(ia));
			sbuf_addstr(b, " NIL)");
			InternetAddressList *members =
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
			int m = members != NULL ? internet_address_list_length(members) : 0;
			for (int j = 0; j < m; j++) {
				InternetAddress *mi = internet_address_list_get_address(members, j);
				if (INTERNET_ADDRESS_IS_MAILBOX(mi))
					put_mailbox(b, internet_address_get_name(mi),
						    internet_address_mailbox_get_addr(
							    INTERNET_ADDRESS_MAILBOX(mi)));
			}
			sbuf_addstr(b, "(NIL NIL NIL NIL)");
			continue;
		}
		put_mailbox(b, internet_address_get_name(ia),
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
	}
	sbuf_addch(b, ')');
}

/* The address list of the raw field value v (NULL: absent). */
static void put_addr_value(struct sbuf *b, const char *v)
{
	InternetAddressList *l = NULL;
	size_t q = 0, n = 0;
	for (const char *p = v; p != NULL && *p; p++, n++)
		q += *p == '?';
	if (v != NULL && q == 0) {
		l = internet_address_list_parse(NULL, v);
	} else if (v != NULL) {
		char *hid = malloc(n + 2 * q + 1), *d = hid;
		if (hid != NULL) {
			for (const char *p = v; *p; p++) {
				if (*p == '?') {
					memcpy(d, ADDR_QMARK, 3);
					d += 3;
				} else {
					*d++ = *p;
				}
			}
			*d = '\0';
			l = internet_address_list_parse(NULL, hid);
			free(hid);
		}
	}
	put_addr_list(b, l);
	if (l != NULL)
		g_object_unref(l);
}

/* The field name's address list; absent, the one put at b[from, from +
 * n) again (From stands for a missing Sender and Reply-To, RFC 3501
 * 7.4.2): the same value parsed once, not three times. */
static void put_addr_header(struct sbuf *b, GMimeObject *o, const char *name, size_t from,
			    size_t n)
{
	char *v = raw_header(o, name);
	if (v == NULL && n > 0) {
		char *d = sbuf_reserve(b, n);	/* may move b->data */
		if (d != NULL) {
			memcpy(d, b->data + from, n);
			sbuf_commit(b, n);
		}
		return;
	}
	put_addr_value(b, v);
	free(v);
}

static void put_envelope(struct sbuf *b, GMimeObject *o)
{
	static const char *const plain[] = {"Date", "Subject"};
	sbuf_addch(b, '(');
	for (size_t i = 0; i < 2; i++) {
		char *v = raw_header(o, plain[i]);
		put_nstr(b, v);
		free(v);
		sbuf_addch(b, ' ');
	}
	size_t from = b->len;
	put_addr_header(b, o, "From", 0, 0);
	size_t n = b->len - from;
	sbuf_addch(b, ' ');
	put_addr_header(b, o, "Sender", from, n);
	sbuf_addch(b, ' ');
	put_addr_header(b, o, "Reply-To", from, n);
	static const char *const addrs[] = {"To", "Cc", "Bcc"};
	for (size_t i = 0; i < 3; i++) {
		sbuf_addch(b, ' ');
		put_addr_header(b, o, addrs[i], 0, 0);
	}
	static const char *const ids[] = {"In-Reply-To", "Message-ID"};
	for (size_t i = 0; i < 2; i++) {
		char *v = raw_header(o, ids[i]);
		sbuf_addch(b, ' ');
		put_nstr(b, v);
		free(v);
	}
	sbuf_addch(b, ')');
}

int imap_mime_envelope(const char *msg, size_t len, struct sbuf *out)
{
	GMimeMessage *m = parse(msg, len);
	if (m == NULL) {
		sbuf_addstr(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return 0;
	}
	put_envelope(out, GMIME_OBJECT(m));
	g_object_unref(m);
	return 0;
}

/* A string as written (types, parameter names: the sender's case, as
 * Dovecot sends them). */
static void put_str(struct sbuf *b, const char *s)
{
	imap_put_string(b, s, strlen(s), false);
}

/* The raw field name of o parsed (imap_parse_mime.c); -1: none or bad. */
static int raw_field(GMimeObject *o, const char *name, bool ct, struct imap_mime_hdr *h)
{
	char *v = raw_header(o, name);
	int rc = v != NULL ? imap_mime_hdr_parse(v, strlen(v), ct, h) : -1;
	free(v);
	return rc;
}

/* body-fld-param: the parameters as written; a text part without a
 * charset gets "charset" "us-ascii" (RFC 2045 5.2, and Dovecot adds it). */
static void put_params(struct sbuf *b, const struct imap_mime_hdr *h, bool text)
{
	size_t n = h != NULL ? h->n : 0;
	bool charset = false;
	for (size_t i = 0; i < n; i++)
		charset = charset || strcasecmp(h->p[i].name, "charset") == 0;
	if (n == 0 && !text) {
		sbuf_addstr(b, "NIL");
		return;
	}
	sbuf_addch(b, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sbuf_addch(b, ' ');
		put_str(b, h->p[i].name);
		sbuf_addch(b, ' ');
		put_str(b, h->p[i].value);
	}
	if (text && !charset)
		sbuf_addstr(b, n > 0 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"");
	sbuf_addch(b, ')');
}

static void put_disposition(struct sbuf *b, GMimeObject *o)
{
	struct imap_mime_hdr h;
	if (raw_field(o, "Content-Disposition", false, &h) < 0) {
		sbuf_addstr(b, "NIL");
		return;
	}
	sbuf_addch(b, '(');
	put_str(b, h.type);
	sbuf_addch(b, ' ');
	put_params(b, &h, false);
	sbuf_addch(b, ')');
	imap_mime_hdr_free(&h);
}

/* The extension fields after disposition: language (a list, RFC 3501
 * body-fld-lang), location. */
static void put_lang_loc(struct sbuf *b, GMimeObject *o)
{
	char *lang = raw_header(o, "Content-Language");
	char *loc = raw_header(o, "Content-Location");
	const char *tags[16];
	char buf[1024];
	size_t n = 0;
	sbuf_addch(b, ' ');
	if (lang != NULL &&
	    imap_mime_lang_parse(lang, strlen(lang), tags, 16, &n, buf, sizeof buf) == 0 && n > 0) {
		sbuf_addch(b, '(');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				sbuf_addch(b, ' ');
			put_str(b, tags[i]);
		}
		sbuf_addch(b, ')');
	} else {
		put_nstr(b, lang);
	}
	sbuf_addch(b, ' ');
	put_nstr(b, loc);
	free(lang);
	free(loc);
}

/* The bytes of a leaf part's content as stored (still encoded). */
static GMimeStream *content_stream(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	return w != NULL ? g_mime_data_wrapper_get_stream(w) : NULL;
}

static void count_stream(GMimeStream *st, gint64 *size, gint64 *lines)
{
	*size = 0;
	*lines = 0;
	if (st == NULL)
		return;
	g_mime_stream_reset(st);
	char buf[8192], last = '\n';
	ssize_t n;
	while ((n = g_mime_stream_read(st, buf, sizeof buf)) > 0) {
		*size += n;
		for (ssize_t i = 0; i < n; i++)
			*lines += buf[i] == '\n';
		last = buf[n - 1];
	}
	/* Lines are the line ends in the content: the CRLF before a
	 * boundary belongs to the boundary (RFC 2046 5.1.1), so a part
	 * "abc" CRLF "--b" has none (as Dovecot counts). */
	(void)last;
	g_mime_stream_reset(st);
}

static char *object_string(GMimeObject *o)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	char *s = g_mime_object_to_string(o, fo);
	g_mime_format_options_free(fo);
	return s;
}

/* The content of a leaf as counted from the message's own bytes (the
 * header-only parse, imap_mime_all): NULL elsewhere. ext_at: set to
 * where in b the leaf's extension fields begin (what BODY leaves out). */
struct leaf_count {
	gint64 size, lines;
	size_t ext_at;
};

static void put_structure(struct sbuf *b, GMimeObject *o, bool ext, unsigned depth,
			  struct leaf_count *known)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	if (GMIME_IS_MULTIPART(o) && depth < 32) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		sbuf_addch(b, '(');
		for (int i = 0; i < n; i++)
			put_structure(b, g_mime_multipart_get_part(mp, i), ext, depth + 1, NULL);
		/* No part found (no or a wrong boundary): one empty text part,
		 * as Dovecot shows it. */
		if (n == 0)
			sbuf_printf(b, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0%s)",
				    ext ? " NIL NIL NIL NIL" : "");
		struct imap_mime_hdr h;
		bool have = raw_field(o, "Content-Type", true, &h) == 0;
		sbuf_addch(b, ' ');
		put_str(b, have ? h.subtype : g_mime_content_type_get_media_subtype(ct));
		if (ext) {
			sbuf_addch(b, ' ');
			put_params(b, have ? &h : NULL, false);
			sbuf_addch(b, ' ');
			put_disposition(b, o);
			put_lang_loc(b, o);
		}
		if (have)
			imap_mime_hdr_free(&h);
		sbuf_addch(b, ')');
		return;
	}
	/* Type, subtype and parameters as the sender wrote them; without a
	 * usable Content-Type, RFC 2045 5.2's default: text/plain us-ascii.
	 * (message/rfc822 as a digest's default comes from GMime.) */
	struct imap_mime_hdr h;
	bool have = raw_field(o, "Content-Type", true, &h) == 0;
	const char *type = have ? h.type : ct != NULL && GMIME_IS_MESSAGE_PART(o) ? "message" : "text";
	const char *sub = have ? h.subtype : ct != NULL && GMIME_IS_MESSAGE_PART(o) ? "rfc822" : "plain";
	sbuf_addch(b, '(');
	put_str(b, type);
	sbuf_addch(b, ' ');
	put_str(b, sub);
	sbuf_addch(b, ' ');
	bool is_text = strcasecmp(type, "text") == 0;
	put_params(b, have ? &h : NULL, is_text);
	if (have)
		imap_mime_hdr_free(&h);
	char *id = raw_header(o, "Content-ID"), *desc = raw_header(o, "Content-Description");
	char *enc = raw_header(o, "Content-Transfer-Encoding");
	sbuf_addch(b, ' ');
	put_nstr(b, id);
	sbuf_addch(b, ' ');
	put_nstr(b, desc);
	sbuf_addch(b, ' ');
	put_str(b, enc != NULL && enc[0] != '\0' ? enc : "7bit");
	free(id);
	free(desc);
	free(enc);
	gint64 size = 0, lines = 0;
	if (GMIME_IS_MESSAGE_PART(o) && depth < 32) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		char *s = m != NULL ? object_string(GMIME_OBJECT(m)) : NULL;
		if (s != NULL) {
			size = (gint64)strlen(s);
			for (const char *p = s; *p; p++)
				lines += *p == '\n';
		}
		g_free(s);
		sbuf_printf(b, " %lld ", (long long)size);
		if (m != NULL) {
			put_envelope(b, GMIME_OBJECT(m));
			sbuf_addch(b, ' ');
			put_structure(b, g_mime_message_get_mime_part(m), ext, depth + 1, NULL);
		} else {
			sbuf_addstr(b, "NIL NIL");
		}
		sbuf_printf(b, " %lld", (long long)lines);
	} else {
		if (known != NULL) {
			size = known->size;
			lines = known->lines;
		} else if (GMIME_IS_PART(o)) {
			count_stream(content_stream(GMIME_PART(o)), &size, &lines);
		}

		sbuf_printf(b, " %lld", (long long)size);
		if (is_text)	/* the type as printed */
			sbuf_printf(b, " %lld", (long long)lines);
	}
	if (known != NULL)
		known->ext_at = b->len;
	if (ext) {
		char *md5 = raw_header(o, "Content-MD5");
		sbuf_addch(b, ' ');
		put_nstr(b, md5);
		free(md5);
		sbuf_addch(b, ' ');
		put_disposition(b, o);
		put_lang_loc(b, o);
	}
	sbuf_addch(b, ')');
}

static void put_body(struct sbuf *out, GMimeMessage *m, const char *msg, size_t len, bool ext)
{
	GMimeObject *body = m != NULL ? g_mime_message_get_mime_part(m) : NULL;
	if (body == NULL) {
		/* No body GMime could find: an empty text/plain, as RFC 2045 5.2
		 * defaults it. */
		size_t h = header_end(msg, len);
		size_t lines = 0;
		for (size_t i = h; i < len; i++)
			lines += msg[i] == '\n';
		sbuf_printf(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
			    "%zu %zu%s)", len - h, lines, ext ? " NIL NIL NIL NIL" : "");
	} else {
		put_structure(out, body, ext, 0, NULL);
	}
}

int imap_mime_bodystructure(const char *msg, size_t len, bool ext, struct sbuf *out)
{
	GMimeMessage *m = parse(msg, len);
	put_body(out, m, msg, len, ext);
	if (m != NULL)
		g_object_unref(m);
	return 0;
}

/* Line ends in p[0, n): memchr finds them a vector at a time (a body is
 * mostly text between them). */
static gint64 count_lines(const char *p, size_t n)
{
	gint64 lines = 0;
	const char *end = p + n;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

/* The message's header block alone through GMime, for a message that is
 * one leaf part (not multipart, not message/): GMime parses its fields
 * and decides its type, and the content, which is then the rest of the
 * message to its end (as the full parse finds it: no boundary ends it),
 * is counted from msg directly. A GMimeMessage over the whole message
 * cost four times as much: every address field parsed into lists, the
 * date, the body copied and scanned line by line, and all of it freed.
 * NULL (the caller parses the whole message) when the message is not
 * such a leaf, or when GMime did not end the header where the blank line
 * is (a line it does not take for a field ends the header there). */
static GMimeObject *parse_head(const char *msg, size_t len, struct leaf_count *lc)
{
	/* One parser per thread, kept: a new one allocates its read buffer
	 * (4 KiB), and freeing that next to the heap's top made malloc
	 * consolidate its free lists once per message. */
	static _Thread_local GMimeParser *p;
	size_t h = header_end(msg, len);
	/* A header that names a multipart or message type anywhere (GMime
	 * decides what it is, this only guesses) is parsed whole at once,
	 * not twice: real mail is often multipart. */
	if (raw_has(msg, h, "multipart") || raw_has(msg, h, "message/"))
		return NULL;
	if (p == NULL && (p = g_mime_parser_new()) == NULL)
		return NULL;
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, h);
	g_mime_parser_init_with_stream(p, st);
	g_mime_parser_set_persist_stream(p, TRUE);
	GMimeObject *o = g_mime_parser_construct_part(p, NULL);
	g_object_unref(st);
	if (o == NULL)
		return NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeStream *cs = GMIME_IS_PART(o) ? content_stream(GMIME_PART(o)) : NULL;
	if (ct == NULL || g_mime_content_type_is_type(ct, "multipart", "*") ||
	    g_mime_content_type_is_type(ct, "message", "*") || cs == NULL ||
	    cs->bound_start != (gint64)h) {
		g_object_unref(o);
		return NULL;
	}
	lc->size = (gint64)(len - h);
	lc->lines = count_lines(msg + h, len - h);
	return o;
}

int imap_mime_all(const char *msg, size_t len, struct sbuf *envelope, struct sbuf *bodystructure,
		  struct sbuf *body)
{
	/* One parse for the three: the first FETCH of ENVELOPE or
	 * BODYSTRUCTURE pays for GMime once per message, not three times.
	 * Most mail is a single part: its header is all GMime reads. */
	struct leaf_count lc;
	GMimeObject *o = parse_head(msg, len, &lc);
	if (o != NULL) {
		put_envelope(envelope, o);
		/* BODY is BODYSTRUCTURE without the extension fields: for a
		 * leaf, what comes before them, closed. */
		size_t start = bodystructure->len;
		put_structure(bodystructure, o, true, 0, &lc);
		if (lc.ext_at >= start && lc.ext_at <= bodystructure->len) {
			sbuf_add(body, bodystructure->data + start, lc.ext_at - start);
			sbuf_addch(body, ')');
		}
		g_object_unref(o);
		return 0;
	}
	GMimeMessage *m = parse(msg, len);
	if (m == NULL)
		sbuf_addstr(envelope, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	else
		put_envelope(envelope, GMIME_OBJECT(m));
	put_body(bodystructure, m, msg, len, true);
	put_body(body, m, msg, len, false);
	if (m != NULL)
		g_object_unref(m);
	return 0;
}

/* ---- sections ---- */

static bool field_listed(const char *line, size_t n, const struct imap_section *sec)
{
	for (size_t i = 0; i < sec->nfields; i++) {
		size_t fl = strlen(sec->fields[i]);
		if (fl < n && line[fl] == ':' && strncasecmp(line, sec->fields[i], fl) == 0)
			return true;
		/* "Name :" (obsolete syntax, RFC 5322 4.5) */
		if (fl < n && (line[fl] == ' ' || line[fl] == '\t') &&
		    strncasecmp(line, sec->fields[i], fl) == 0)
			return true;
	}
	return false;
}

/* HEADER, TEXT, HEADER.FIELDS[.NOT] of a message in msg[0, len). */
static void message_section(const char *msg, size_t len, const struct imap_section *sec,
			    struct sbuf *out)
{
	size_t h = header_end(msg, len);
	switch (sec->kind) {
	case IMAP_SECTION_HEADER:
		sbuf_add(out, msg, h);
		return;
	case IMAP_SECTION_TEXT:
		sbuf_add(out, msg + h, len - h);
		return;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT: {
		bool want_listed = sec->kind == IMAP_SECTION_HEADER_FIELDS;
		size_t end = h >= 2 && h <= len ? h - 2 : h;	/* without the blank line */
		size_t i = 0;
		while (i < end) {
			/* One field: its first line and the folded lines after it. */
			size_t s = i;
			do {
				const char *nl = memchr(msg + i, '\n', end - i);
				i = nl != NULL ? (size_t)(nl - msg) + 1 : end;
			} while (i < end && (msg[i] == ' ' || msg[i] == '\t'));
			if (field_listed(msg + s, i - s, sec) == want_listed)
				sbuf_add(out, msg + s, i - s);
		}
		sbuf_addstr(out, "\r\n");
		return;
	}
	default:
		sbuf_add(out, msg, len);
		return;
	}
}

/* The part a section's numbers name (RFC 3501 6.4.5): numbers step into
 * a multipart's parts and, through a message/rfc822 part, into its
 * message; "1" of a message that is not multipart is its body, and a
 * leaf has no parts under it. *owner: the message whose body the part is
 * when it is such a body (its MIME header is that message's header). */
static GMimeObject *find_part(GMimeMessage *m, const struct imap_section *sec,
			      GMimeMessage **owner)
{
	GMimeObject *o = g_mime_message_get_mime_part(m);
	*owner = NULL;
	for (size_t i = 0; o != NULL && i < sec->nparts; i++) {
		uint32_t k = sec->part[i];
		GMimeMessage *in = i == 0 ? m : NULL;
		if (GMIME_IS_MESSAGE_PART(o)) {
			in = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
			o = in != NULL ? g_mime_message_get_mime_part(in) : NULL;
			if (o == NULL)
				return NULL;
			*owner = NULL;
		}
		if (GMIME_IS_MULTIPART(o)) {
			GMimeMultipart *mp = GMIME_MULTIPART(o);
			if (k > (uint32_t)g_mime_multipart_get_count(mp))
				return NULL;
			o = g_mime_multipart_get_part(mp, (int)k - 1);
			*owner = NULL;
		} else if (k != 1 || *owner != NULL) {
			/* Past a message's single body there is nothing. */
			return NULL;
		} else if (in != NULL) {
			*owner = in;	/* "1": the body of a single-part message */
		}
		/* else a leaf's ".1" is the leaf itself, as Dovecot has it */
	}
	return o;
}

int imap_mime_section(const char *msg, size_t len, const struct imap_section *sec,
		      struct sbuf *out)
{
	if (sec->nparts == 0) {
		message_section(msg, len, sec, out);
		return 0;
	}
	GMimeMessage *m = parse(msg, len);
	GMimeMessage *owner = NULL;
	GMimeObject *o = m != NULL ? find_part(m, sec, &owner) : NULL;
	if (o == NULL) {
		if (m != NULL)
			g_object_unref(m);
		return 0;	/* a part that does not exist is empty (RFC 3501 6.4.5) */
	}
	bool message = GMIME_IS_MESSAGE_PART(o);
	if (sec->kind == IMAP_SECTION_MIME && owner == m) {
		/* The body of the message itself: its header (as Dovecot). */
		sbuf_add(out, msg, header_end(msg, len));
	} else if (sec->kind == IMAP_SECTION_MIME) {
		GMimeFormatOptions *fo = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
		char *hdr = owner != NULL ? g_mime_object_get_headers(GMIME_OBJECT(owner), fo)
			    : g_mime_object_get_headers(o, fo);
		g_mime_format_options_free(fo);
		/* The header and its blank line; a part that is empty from
		 * boundary to boundary has neither (as Dovecot counts). */
		gint64 size = 1, lines;
		if (GMIME_IS_PART(o) && (hdr == NULL || hdr[0] == '\0'))
			count_stream(content_stream(GMIME_PART(o)), &size, &lines);
		if (hdr != NULL)
			sbuf_addstr(out, hdr);
		if (size > 0)
			sbuf_addstr(out, "\r\n");
		g_free(hdr);
	} else if (sec->kind != IMAP_SECTION_ALL && !message) {
		/* HEADER, HEADER.FIELDS, TEXT name parts of a message/rfc822
		 * part only: elsewhere empty (RFC 3501 6.4.5; Dovecot too). */
	} else if (sec->kind == IMAP_SECTION_ALL && GMIME_IS_PART(o)) {
		GMimeStream *st = content_stream(GMIME_PART(o));
		if (st != NULL) {
			g_mime_stream_reset(st);
			char buf[8192];
			ssize_t n;
			while ((n = g_mime_stream_read(st, buf, sizeof buf)) > 0)
				sbuf_add(out, buf, (size_t)n);
			g_mime_stream_reset(st);
		}
	} else {
		GMimeObject *whole = o;
		if (GMIME_IS_MESSAGE_PART(o)) {
			GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
			whole = inner != NULL ? GMIME_OBJECT(inner) : o;
		}
		char *s = object_string(whole);
		if (s != NULL) {
			if (sec->kind == IMAP_SECTION_ALL && GMIME_IS_MULTIPART(o))
				sbuf_add(out, s + header_end(s, strlen(s)),
					 strlen(s) - header_end(s, strlen(s)));
			else
				message_section(s, strlen(s), sec, out);
		}
		g_free(s);
	}
	g_object_unref(m);
	return 0;
}

int64_t imap_mime_date(const char *msg, size_t len)
{
	GMimeMessage *m = parse(msg, len);
	if (m == NULL)
		return -1;
	int64_t t = -1;
	GDateTime *d = g_mime_message_get_date(m);
	if (d != NULL)
		t = g_date_time_to_unix(d);
	g_object_unref(m);
	return t;
}

/* needle (ASCII letters in any case) somewhere in p[0, n). */
static bool raw_has(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (k == 0)
		return true;
	/* The first byte by a mask before any compare (no call per byte):
	 * SEARCH runs this over every message's header. A letter matches in
	 * either case: its 0x20 bit set; anything else as it is. */
	unsigned char c0 = (unsigned char)needle[0];
	bool letter = isalpha(c0) && c0 < 0x80;
	unsigned char want = letter ? (unsigned char)(c0 | 0x20) : c0;
	unsigned char mask = letter ? 0x20 : 0;
	for (size_t i = 0; i + k <= n; i++)
		if (((unsigned char)p[i] | mask) == want && strncasecmp(p + i, needle, k) == 0)
			return true;
	return false;
}

/* needle (ASCII, any case) inside one line of a field named field of the
 * header msg[0, len) (up to its blank line). */
static bool raw_field_has(const char *msg, size_t len, const char *field, const char *needle)
{
	size_t fl = strlen(field), end = header_end(msg, len);
	bool in = false;	/* the line is of the field (its first or a folded one) */
	for (size_t i = 0; i < end;) {
		const char *nl = memchr(msg + i, '\n', end - i);
		size_t e = nl != NULL ? (size_t)(nl - msg) : end;
		if (msg[i] != ' ' && msg[i] != '\t')
			in = e - i > fl && msg[i + fl] == ':' && strncasecmp(msg + i, field, fl) == 0;
		if (in) {
			size_t from = msg[i] == ' ' || msg[i] == '\t' ? i : i + fl + 1;
			if (raw_has(msg + from, e - from, needle))
				return true;
		}
		i = e + 1;
	}
	return false;
}

bool imap_mime_header_has(const char *msg, size_t len, const char *field, const char *needle)
{
	/* Most messages do not match: with no encoded word (RFC 2047) in the
	 * header, a needle absent from its raw bytes is absent from every
	 * decoded field, and GMime need not run. */
	bool encoded = false;
	for (size_t i = 0; i + 1 < len && !encoded; i++)
		encoded = msg[i] == '=' && msg[i + 1] == '?';
	bool ascii = true;
	for (const char *q = needle; *q && ascii; q++)
		ascii = (unsigned char)*q < 0x80;
	if (!encoded && ascii && !raw_has(msg, len, needle))
		return false;
	/* Nor, then, is a hit in one raw line of the field anything but a
	 * hit once decoded (the decoded text is the raw text): SEARCH
	 * SUBJECT over a folder finds its matches without GMime. */
	if (!encoded && ascii && raw_field_has(msg, len, field, needle))
		return true;
	GMimeMessage *m = parse(msg, len);
	if (m == NULL)
		return false;
	bool hit = false;
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	gchar *want = g_utf8_casefold(needle, -1);
	for (int i = 0; i < n && !hit; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), field) != 0)
			continue;
		const char *raw = g_mime_header_get_raw_value(h);
		char *dec = raw != NULL ? g_mime_utils_header_decode_text(NULL, raw) : NULL;
		gchar *fold = dec != NULL ? g_utf8_casefold(dec, -1) : NULL;
		hit = fold != NULL && strstr(fold, want) != NULL;
		g_free(fold);
		g_free(dec);
	}
	g_free(want);
	g_object_unref(m);
	return hit;
}
