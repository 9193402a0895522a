/* FETCH attributes and section specs, STORE arguments and flags.
 * RFC 3501 sections 6.4.5, 6.4.6 and 9 (fetch-att, section, flag),
 * RFC 7162 section 3.1.3 and 3.1.4 (UNCHANGEDSINCE, CHANGEDSINCE, MODSEQ)
 * and section 3.2.6 (VANISHED). See imap_parse.h. */
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"
#include "lib/str.h"

#define ERR(err, msg) imap_err((err), (msg))

static bool prefix_ci(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - s) >= n && strncasecmp(s, word, n) == 0;
}

static int spec_add(struct imap_section *o, size_t *sl, const char *s, size_t n, bool upper)
{
	if (*sl + n >= sizeof o->spec)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		o->spec[(*sl)++] = upper && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
	}
	o->spec[*sl] = '\0';
	return 0;
}

/* "(name name ...)" at p; names are atoms or quoted strings. */
static int parse_fields(const char **pp, const char *end, struct imap_section *o, size_t *sl,
			char *err)
{
	const char *p = *pp;
	size_t fl = 0;
	if (p >= end || *p++ != '(' || spec_add(o, sl, " (", 2, false) < 0)
		return ERR(err, "Expected a list of header field names");
	for (;;) {
		if (p < end && *p == ')' && o->nfields > 0)
			break;
		if (o->nfields > 0) {
			if (p >= end || *p++ != ' ')
				return ERR(err, "Bad header field list");
			if (spec_add(o, sl, " ", 1, false) < 0)
				return ERR(err, "Header field list too long");
		}
		if (o->nfields == IMAP_SECTION_MAX)
			return ERR(err, "Too many header field names");
		char *name = o->fieldbuf + fl;
		size_t n = 0;
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (fl + n + 1 >= sizeof o->fieldbuf)
					return ERR(err, "Header field list too long");
				name[n++] = *p++;
			}
			if (p >= end)
				return ERR(err, "Missing '\"'");
			p++;
		} else {
			while (p < end && *p != ' ' && *p != ')' && *p != '(' && *p != '"') {
				if (fl + n + 1 >= sizeof o->fieldbuf)
					return ERR(err, "Header field list too long");
				name[n++] = *p++;
			}
		}
		if (n == 0)
			return ERR(err, "Empty header field name");
		/* A field name is printable ASCII without ':' (RFC 5322 2.2). */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f ||
			    name[i] == ':')
				return ERR(err, "Bad header field name");
		name[n] = '\0';
		fl += n + 1;
		o->fields[o->nfields++] = name;
		if (spec_add(o, sl, name, n, true) < 0)
			return ERR(err, "Header field list too long");
	}
	p++;
	if (spec_add(o, sl, ")", 1, false) < 0)
		return ERR(err, "Header field list too long");
	*pp = p;
	return 0;
}

static int parse_u32(const char **pp, const char *end, uint32_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		x = x * 10 + (uint64_t)(*p++ - '0');
		if (x > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)x;
	*pp = p;
	return 0;
}

int imap_section_parse(const char *s, size_t len, struct imap_section *o, char *err)
{
	memset(o, 0, sizeof *o);
	const char *p = s, *end = s + len;
	size_t sl = 0;
	if (prefix_ci(p, end, "BODY.PEEK[")) {
		o->peek = true;
		p += 10;
	} else if (prefix_ci(p, end, "BODY[")) {
		p += 5;
	} else {
		return ERR(err, "Unknown FETCH attribute");
	}
	/* The part path: numbers joined by dots. */
	while (p < end && *p >= '0' && *p <= '9') {
		if (*p == '0')
			return ERR(err, "Bad section part number");
		if (o->nparts == IMAP_PART_DEPTH)
			return ERR(err, "Section part path too deep");
		const char *n0 = p;
		if (parse_u32(&p, end, &o->part[o->nparts]) < 0)
			return ERR(err, "Bad section part number");
		o->nparts++;
		if (spec_add(o, &sl, n0, (size_t)(p - n0), false) < 0)
			return ERR(err, "Section too long");
		if (p < end && *p == '.') {
			p++;
			if (spec_add(o, &sl, ".", 1, false) < 0)
				return ERR(err, "Section too long");
			if (p < end && *p >= '0' && *p <= '9')
				continue;
			if (p >= end || *p == ']')
				return ERR(err, "Bad section");
		}
		break;
	}
	bool after_part = o->nparts > 0;
	if (after_part && sl > 0 && o->spec[sl - 1] != '.' && p < end && *p != ']')
		return ERR(err, "Bad section");
	o->kind = IMAP_SECTION_ALL;
	if (prefix_ci(p, end, "HEADER.FIELDS.NOT")) {
		o->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		p += 17;
	} else if (prefix_ci(p, end, "HEADER.FIELDS")) {
		o->kind = IMAP_SECTION_HEADER_FIELDS;
		p += 13;
	} else if (prefix_ci(p, end, "HEADER")) {
		o->kind = IMAP_SECTION_HEADER;
		p += 6;
	} else if (prefix_ci(p, end, "TEXT")) {
		o->kind = IMAP_SECTION_TEXT;
		p += 4;
	} else if (prefix_ci(p, end, "MIME")) {
		if (!after_part)
			return ERR(err, "MIME needs a part number");
		o->kind = IMAP_SECTION_MIME;
		p += 4;
	}
	static const char *const kinds[] = {"", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
					    "TEXT", "MIME"};
	if (spec_add(o, &sl, kinds[o->kind], strlen(kinds[o->kind]), false) < 0)
		return ERR(err, "Section too long");
	if (o->kind == IMAP_SECTION_HEADER_FIELDS || o->kind == IMAP_SECTION_HEADER_FIELDS_NOT) {
		if (p >= end || *p++ != ' ')
			return ERR(err, "Expected a list of header field names");
		if (parse_fields(&p, end, o, &sl, err) < 0)
			return -1;
	}
	if (p >= end || *p++ != ']')
		return ERR(err, "Bad section");
	if (p < end && *p == '<') {
		p++;
		if (parse_u32(&p, end, &o->offset) < 0 || p >= end || *p++ != '.' ||
		    parse_u32(&p, end, &o->length) < 0 || o->length == 0 || p >= end || *p++ != '>')
			return ERR(err, "Bad partial <offset.length>");
		o->partial = true;
	}
	if (p != end)
		return ERR(err, "Junk after section");
	return 0;
}

static int add_body(struct imap_fetch *f, const struct imap_arg *a, char *err)
{
	if (f->nbodies == IMAP_FETCH_BODIES_MAX)
		return ERR(err, "Too many BODY[] items");
	if (imap_section_parse(a->str, a->len, &f->bodies[f->nbodies], err) < 0)
		return -1;
	f->nbodies++;
	return 0;
}

static int fetch_att(struct imap_fetch *f, const struct imap_arg *a, bool macros, char *err)
{
	static const struct {
		const char *name;
		unsigned items;
		bool macro;
	} atts[] = {
		{"ALL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
				IMAP_FETCH_ENVELOPE, true},
		{"FAST", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE, true},
		{"FULL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
				 IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY, true},
		{"UID", IMAP_FETCH_UID, false},
		{"FLAGS", IMAP_FETCH_FLAGS, false},
		{"INTERNALDATE", IMAP_FETCH_INTERNALDATE, false},
		{"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE, false},
		{"ENVELOPE", IMAP_FETCH_ENVELOPE, false},
		{"BODY", IMAP_FETCH_BODY, false},
		{"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE, false},
		{"RFC822", IMAP_FETCH_RFC822, false},
		{"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER, false},
		{"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT, false},
		{"MODSEQ", IMAP_FETCH_MODSEQ, false},
	};
	if (a->type != IMAP_ARG_ATOM)
		return ERR(err, "Invalid FETCH attribute");
	if (memchr(a->str, '[', a->len) != NULL)
		return add_body(f, a, err);
	for (size_t i = 0; i < sizeof atts / sizeof atts[0]; i++) {
		if (strcasecmp(a->str, atts[i].name) != 0)
			continue;
		if (atts[i].macro && !macros)
			return ERR(err, "A macro (ALL, FAST, FULL) cannot be in a list");
		f->items |= atts[i].items;
		return 0;
	}
	return ERR(err, "Unknown FETCH attribute");
}

static int parse_u64_str(const char *s, uint64_t *v)
{
	return str_to_u64(s, UINT64_MAX, v);
}

int imap_fetch_parse(const struct imap_arg *args, size_t n, struct imap_fetch *f, char *err)
{
	/* Not a memset of the whole: bodies[] is 32 sections of ~1.6 KiB,
	 * 52 KiB cleared for every FETCH (most of what a UID FETCH n
	 * BODY.PEEK[] cost in user space). A section is cleared by
	 * imap_section_parse as it is added; none past nbodies is read. */
	f->items = 0;
	f->nbodies = 0;
	f->changedsince_given = false;
	f->changedsince = 0;
	f->vanished = false;
	if (n == 0)
		return ERR(err, "Missing FETCH attributes");
	if (args[0].type == IMAP_ARG_LIST) {
		if (args[0].n == 0)
			return ERR(err, "Empty FETCH attribute list");
		for (size_t i = 0; i < args[0].n; i++)
			if (fetch_att(f, &args[0].list[i], false, err) < 0)
				return -1;
	} else if (fetch_att(f, &args[0], true, err) < 0) {
		return -1;
	}
	if (n == 1)
		return 0;
	if (n > 2 || args[1].type != IMAP_ARG_LIST || args[1].n == 0)
		return ERR(err, "Junk after FETCH attributes");
	const struct imap_arg *m = args[1].list;
	for (size_t i = 0; i < args[1].n; i++) {
		if (imap_arg_atom_eq(&m[i], "CHANGEDSINCE") && i + 1 < args[1].n &&
		    m[i + 1].type == IMAP_ARG_ATOM && !f->changedsince_given &&
		    parse_u64_str(m[i + 1].str, &f->changedsince) == 0) {
			f->changedsince_given = true;
			i++;
		} else if (imap_arg_atom_eq(&m[i], "VANISHED") && !f->vanished) {
			f->vanished = true;
		} else {
			return ERR(err, "Bad FETCH modifier");
		}
	}
	if (f->vanished && !f->changedsince_given)
		return ERR(err, "VANISHED needs CHANGEDSINCE");
	if (f->changedsince_given)
		f->items |= IMAP_FETCH_MODSEQ;
	return 0;
}

/* ---- flags and STORE ---- */

bool imap_flag_valid(const char *flag)
{
	static const char *const sys[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
					  "\\Draft"};
	if (flag[0] == '\\') {
		for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
			if (strcasecmp(flag, sys[i]) == 0)
				return true;
		return false;
	}
	if (flag[0] == '\0')
		return false;
	for (const char *p = flag; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

int imap_flag_list(const struct imap_arg *a, size_t n, const char **flags, size_t *nflags,
		   char *err)
{
	const struct imap_arg *v = a;
	if (n == 1 && a->type == IMAP_ARG_LIST) {
		v = a->list;
		n = a->n;
	}
	*nflags = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != IMAP_ARG_ATOM || !imap_flag_valid(v[i].str))
			return ERR(err, "Invalid flag");
		if (*nflags == IMAP_FLAGS_MAX)
			return ERR(err, "Too many flags");
		flags[(*nflags)++] = v[i].str;
	}
	return 0;
}

int imap_store_parse(const struct imap_arg *args, size_t n, struct imap_store *o, char *err)
{
	memset(o, 0, sizeof *o);
	if (n > 0 && args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = args[0].list;
		if (args[0].n != 2 || !imap_arg_atom_eq(&m[0], "UNCHANGEDSINCE") ||
		    m[1].type != IMAP_ARG_ATOM || parse_u64_str(m[1].str, &o->unchangedsince) < 0)
			return ERR(err, "Bad STORE modifier");
		o->unchangedsince_given = true;
		args++;
		n--;
	}
	if (n < 2 || args[0].type != IMAP_ARG_ATOM)
		return ERR(err, "Expected [+-]FLAGS[.SILENT] and flags");
	const char *w = args[0].str;
	o->op = IMAP_STORE_SET;
	if (*w == '+' || *w == '-')
		o->op = *w++ == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
	if (strcasecmp(w, "FLAGS.SILENT") == 0)
		o->silent = true;
	else if (strcasecmp(w, "FLAGS") != 0)
		return ERR(err, "Expected [+-]FLAGS[.SILENT]");
	if (args[1].type == IMAP_ARG_LIST && n > 2)
		return ERR(err, "Junk after the flag list");
	if (imap_flag_list(&args[1], n - 1, o->flags, &o->nflags, err) < 0)
		return -1;
	for (size_t i = 0; i < o->nflags; i++)
		if (strcasecmp(o->flags[i], "\\Recent") == 0)
			return ERR(err, "\\Recent cannot be stored");
	return 0;
}
