/* The IMAP command parser: pure functions, no I/O (fuzzed by
 * tests/fuzz/fuzz_imap_cmd.c).
 *
 * Follows RFC 3501 section 9 / RFC 9051 section 9 (formal syntax: atoms,
 * quoted strings, literals, lists, sequence sets, fetch attributes, section
 * specs, search keys, store flags), RFC 7888 (LITERAL+ / LITERAL-: "{n+}"),
 * RFC 7162 (CHANGEDSINCE, UNCHANGEDSINCE, MODSEQ search key), RFC 4731
 * (ESEARCH RETURN options) and RFC 6855 / RFC 3516 (literal8 "~{n}", for
 * APPEND UTF8).
 *
 * A command arrives as one buffer: its lines with every literal's bytes in
 * place after its "{n}" CRLF, as on the wire (the session assembles it;
 * imap_line_literal says whether a line ends in a literal announcement).
 * imap_args_parse turns the text after the verb into a tree of arguments;
 * the command parsers (sequence sets, FETCH, SEARCH, STORE) work on that
 * tree. Everything is bounded: nesting depth, number of arguments, number
 * of sequence ranges, search-key nodes; going over is a refusal with a
 * message, never a bigger allocation. */
#ifndef INETKIT_IMAP_PARSE_H
#define INETKIT_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_DEPTH_MAX 16	/* nested parentheses */
#define IMAP_ARGS_MAX 4096	/* arguments in one command, lists included */
#define IMAP_SEQ_MAX 1024	/* ranges in one sequence set */
#define IMAP_SEARCH_MAX 256	/* search-key nodes in one SEARCH */
#define IMAP_SEARCH_SETS 16	/* sequence sets in one SEARCH */
#define IMAP_SECTION_MAX 64	/* header field names in one BODY[HEADER.FIELDS (...)] */
#define IMAP_FETCH_BODIES_MAX 32	/* BODY[...] items in one FETCH */
#define IMAP_FLAGS_MAX 64	/* flags in one STORE or APPEND */
#define IMAP_PART_DEPTH 16	/* numbers in a section's part path: 1.2.3 */

/* The error text a refusal carries ("BAD " + it). */
#define IMAP_ERR_MAX 128
/* Copy msg into err (IMAP_ERR_MAX bytes); returns -1. */
int imap_err(char *err, const char *msg);

/* ---- the literal announcement at the end of a line ---- */

/* Does line[0, len) (without CRLF) end in "{n}" or "{n+}" outside a quoted
 * string? 1 with *n and *plus set, 0 if not, -1 if it ends in a literal
 * announcement that is malformed or whose size does not fit in 32 bits
 * (RFC 3501: number is 32 bits; "{4294967296}" is refused at once). */
int imap_line_literal(const char *line, size_t len, uint64_t *n, bool *plus);

/* ---- the argument tree ---- */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* includes BODY[...]<...> as one atom */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	/* ATOM, QUOTED, LITERAL, NIL: the (unescaped) bytes, NUL-terminated;
	 * a literal may hold any byte but NUL. */
	const char *str;
	size_t len;
	bool lit8;		/* LITERAL written "~{n}" (literal8) */
	/* LIST: the children */
	struct imap_arg *list;
	size_t n;
};

/* The parsed arguments of one command; owns its memory. */
struct imap_args {
	struct imap_arg *args;	/* the top-level arguments */
	size_t n;
	void *mem;
};

/* Parse buf[0, len) (what follows the verb and its space) into args. -1
 * with err set ("Missing ')'", ...) on a syntax error or a limit. A
 * literal in buf is "{n}" or "{n+}", CRLF, then n bytes. */
int imap_args_parse(const char *buf, size_t len, struct imap_args *out, char *err);
void imap_args_free(struct imap_args *a);

/* Helpers on one argument. */
bool imap_arg_is_string(const struct imap_arg *a);	/* atom, quoted or literal */
/* astring: atom, quoted or literal. */
bool imap_arg_astring(const struct imap_arg *a, const char **s);
bool imap_arg_atom_eq(const struct imap_arg *a, const char *word);	/* any case */

/* ---- sequence sets (RFC 3501 section 9 sequence-set) ---- */

#define IMAP_SEQ_STAR UINT32_MAX	/* "*": the largest number in use */

struct imap_seq_range {
	uint32_t lo, hi;	/* lo <= hi; IMAP_SEQ_STAR for "*" */
};

struct imap_seqset {
	struct imap_seq_range r[IMAP_SEQ_MAX];
	size_t n;
	bool dollar;		/* "$" (RFC 5182 SEARCHRES): refused by callers */
};

/* Parse s[0, len). Numbers are 1..4294967295 (nz-number), "a:b" is the
 * same as "b:a"; ranges are kept as written (see imap_seqset_resolve). */
int imap_seqset_parse(const char *s, size_t len, struct imap_seqset *out, char *err);
/* Does set contain x, with "*" meaning max (the last message's number or
 * UID; with max 0, "*" matches nothing)? */
bool imap_seqset_has(const struct imap_seqset *set, uint32_t x, uint32_t max);

/* ---- FETCH (RFC 3501 6.4.5, 7.4.2) ---- */

enum {
	IMAP_FETCH_UID = 1 << 0,
	IMAP_FETCH_FLAGS = 1 << 1,
	IMAP_FETCH_INTERNALDATE = 1 << 2,
	IMAP_FETCH_RFC822_SIZE = 1 << 3,
	IMAP_FETCH_ENVELOPE = 1 << 4,
	IMAP_FETCH_BODY = 1 << 5,	/* BODY without a section: the structure */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 6,
	IMAP_FETCH_RFC822 = 1 << 7,	/* = BODY[], sets \Seen */
	IMAP_FETCH_RFC822_HEADER = 1 << 8,	/* = BODY.PEEK[HEADER] */
	IMAP_FETCH_RFC822_TEXT = 1 << 9,	/* = BODY[TEXT], sets \Seen */
	IMAP_FETCH_MODSEQ = 1 << 10,	/* RFC 7162 */
};

enum imap_section_kind {
	IMAP_SECTION_ALL,	/* BODY[] or BODY[1.2] (the part's content) */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,	/* only after a part number */
};

struct imap_section {
	uint32_t part[IMAP_PART_DEPTH];	/* 1.2.3; nparts 0: the whole message */
	size_t nparts;
	enum imap_section_kind kind;
	const char *fields[IMAP_SECTION_MAX];	/* HEADER.FIELDS[.NOT]: into fieldbuf */
	size_t nfields;
	char fieldbuf[512];	/* the names, NUL-separated (do not copy the struct) */
	bool peek;		/* BODY.PEEK: \Seen is not set */
	bool partial;		/* <offset.length> given */
	uint32_t offset, length;
	/* The section as written between the brackets, normalised to upper
	 * case with field names as sent: what the FETCH reply echoes. */
	char spec[512];
};

struct imap_fetch {
	unsigned items;		/* IMAP_FETCH_* */
	/* Only [0, nbodies) is set: the rest is stale (not cleared per FETCH). */
	struct imap_section bodies[IMAP_FETCH_BODIES_MAX];
	size_t nbodies;
	bool changedsince_given;	/* (CHANGEDSINCE n) modifier, RFC 7162 */
	uint64_t changedsince;
	bool vanished;		/* (VANISHED) modifier, RFC 7162 (UID FETCH only) */
};

/* Parse "BODY[...]<...>" or "BODY.PEEK[...]<...>" as one atom (the text
 * between "[" and "]" may hold spaces, parentheses and quoted names). */
int imap_section_parse(const char *s, size_t len, struct imap_section *out, char *err);
/* The attributes of FETCH: one attribute, a macro (ALL FAST FULL) or a
 * parenthesised list; then optional modifiers, a list. */
int imap_fetch_parse(const struct imap_arg *args, size_t n, struct imap_fetch *out, char *err);

/* ---- STORE (RFC 3501 6.4.6, RFC 7162 3.1.3) ---- */

enum imap_store_op { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_op op;
	bool silent;
	bool unchangedsince_given;
	uint64_t unchangedsince;
	const char *flags[IMAP_FLAGS_MAX];	/* point into the args */
	size_t nflags;
};

/* args: the arguments after the sequence set: [ "(UNCHANGEDSINCE n)" ]
 * ("+"/"-")"FLAGS"[".SILENT"] (flag-list or flags). */
int imap_store_parse(const struct imap_arg *args, size_t n, struct imap_store *out, char *err);
/* A flag as a client may send it: "\Seen" etc. (system flags, any case)
 * or a keyword atom. \Recent may not be stored; \* is not a flag. */
bool imap_flag_valid(const char *flag);
/* A parenthesised flag list or single flags (APPEND, STORE). */
int imap_flag_list(const struct imap_arg *a, size_t n, const char **flags, size_t *nflags,
		   char *err);

/* ---- SEARCH (RFC 3501 6.4.4, RFC 4731, RFC 7162 3.1.5) ---- */

enum imap_search_op {
	IMAP_SK_AND,		/* children all match (a parenthesised list, the top) */
	IMAP_SK_OR,		/* two children */
	IMAP_SK_NOT,		/* one child */
	IMAP_SK_ALL,
	IMAP_SK_SEQSET,		/* message numbers */
	IMAP_SK_UID,		/* UID set */
	IMAP_SK_FLAG,		/* has flag str (ANSWERED -> \Answered, KEYWORD x) */
	IMAP_SK_NOFLAG,		/* has not: UNANSWERED, UNKEYWORD ... */
	IMAP_SK_NEW,		/* \Recent and not \Seen */
	IMAP_SK_OLD,		/* not \Recent */
	IMAP_SK_RECENT,
	IMAP_SK_HEADER,		/* field str, value str2 (substring, any case) */
	IMAP_SK_BODY,		/* str2 in the body text */
	IMAP_SK_TEXT,		/* str2 in the header or body */
	IMAP_SK_BEFORE,		/* internal date, day: num (days since 1970) */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE,	/* Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_LARGER,		/* RFC822.SIZE > num */
	IMAP_SK_SMALLER,
	IMAP_SK_MODSEQ,		/* RFC 7162: MODSEQ >= num */
};

struct imap_search {
	enum imap_search_op op;
	const char *str, *str2;
	uint64_t num;
	struct imap_seqset *set;	/* SEQSET, UID */
	struct imap_search *kids;	/* AND: the first child; OR: 2; NOT: 1 */
	struct imap_search *next;	/* the next child of the same parent */
};

enum {
	IMAP_ESEARCH_MIN = 1 << 0,
	IMAP_ESEARCH_MAX = 1 << 1,
	IMAP_ESEARCH_ALL = 1 << 2,
	IMAP_ESEARCH_COUNT = 1 << 3,
};

struct imap_search_cmd {
	struct imap_search root;	/* AND of the keys */
	bool esearch;		/* RETURN (...) given (RFC 4731) */
	unsigned ret;		/* IMAP_ESEARCH_*; RETURN () means ALL */
	const char *charset;	/* NULL: none given */
	struct imap_search *nodes;	/* owned */
	size_t nnodes;
	struct imap_seqset *sets[IMAP_SEARCH_SETS];	/* owned */
	size_t nsets;
};

/* The SEARCH arguments: [RETURN (...)] [CHARSET name] key... Charsets
 * other than US-ASCII and UTF-8 are refused by the caller (BADCHARSET). */
int imap_search_parse(const struct imap_arg *args, size_t n, struct imap_search_cmd *out,
		      char *err);
void imap_search_free(struct imap_search_cmd *s);

/* ---- MIME header fields for BODYSTRUCTURE (imap_parse_mime.c) ---- */

#define IMAP_MIME_PARAMS_MAX 32	/* parameters kept of one header field */
#define IMAP_MIME_HDR_MAX 65536	/* bytes of one field's value looked at */

struct imap_mime_param {
	const char *name, *value;	/* as written (value unquoted) */
};

/* "type/subtype; a=b" (Content-Type) or "type; a=b" (Content-Disposition),
 * comments dropped, RFC 2231 pieces joined, case and encodings kept. */
struct imap_mime_hdr {
	const char *type, *subtype;	/* subtype NULL for a disposition */
	struct imap_mime_param p[IMAP_MIME_PARAMS_MAX];
	size_t n;
	char *mem;		/* owned: every string above */
	size_t used;
};

/* -1 (nothing to free) when raw holds no type (or no "/subtype" for a
 * Content-Type): the caller uses the RFC 2045 default. */
int imap_mime_hdr_parse(const char *raw, size_t len, bool content_type, struct imap_mime_hdr *h);
void imap_mime_hdr_free(struct imap_mime_hdr *h);
/* The language tags of a Content-Language value ("en, de" -> en, de),
 * copied into buf; -1 when more than max or buf is too small. */
int imap_mime_lang_parse(const char *raw, size_t len, const char **tags, size_t max, size_t *n,
			 char *buf, size_t bufsz);

/* ---- mailbox names: modified UTF-7 <-> UTF-8 (imap_parse_utf7.c) ---- */

/* 0, or -1 when in is not valid (shortest-form) modified UTF-7 / UTF-8
 * or out (outsz bytes, NUL included) is too small. */
int imap_utf7_to_utf8(const char *in, char *out, size_t outsz);
int imap_utf8_to_utf7(const char *in, char *out, size_t outsz);

/* ---- dates (RFC 3501 date, date-time) ---- */

/* "1-Feb-1994" or "01-Feb-1994" (optionally quoted by the caller) ->
 * days since 1970-01-01. */
int imap_date_parse(const char *s, int64_t *days);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" (APPEND) -> seconds since the epoch, UTC. */
int imap_datetime_parse(const char *s, int64_t *t);

/* ---- writing strings back (RFC 3501 4.3, 9: astring, nstring) ---- */

/* How s[0, len) can go out as a string: 0 atom, 1 quoted, 2 literal
 * (holds CR, LF, NUL, 8-bit bytes, or is long). */
int imap_string_form(const char *s, size_t len, bool atom_ok);

#endif
