/* The pieces of mailauth that its unit tests and fuzz harnesses reach:
 * the parsers of header and DNS-record text, canonicalization, the DNS
 * answer cache and the checks that run over it. */
#ifndef INETKIT_MAILAUTH_MAILAUTH_INT_H
#define INETKIT_MAILAUTH_MAILAUTH_INT_H

#include <openssl/evp.h>

#include "mailauth/mailauth.h"

/* ---- header fields of a stored message (mauth_msg.c) ---- */

#define MAUTH_MAX_FIELDS 1000	/* header fields looked at; the rest count as body */

struct mauth_field {
	const char *p;		/* the whole field: name, colon, value, folded lines */
	size_t len;		/* up to, not including, the last line end */
	size_t namelen;		/* the name, without trailing white space */
};

struct mauth_header {
	struct mauth_field *f;
	size_t n;
	const char *body;	/* after the empty line (or the end) */
	size_t bodylen;
};

/* Split msg into its fields (continuation lines joined to their field).
 * -1 only when out of memory. */
int mauth_header_split(const char *msg, size_t len, struct mauth_header *h);
void mauth_header_free(struct mauth_header *h);
/* Whether field f is named name (case-insensitive). */
bool mauth_field_is(const struct mauth_field *f, const char *name);

/* ---- tag lists (RFC 6376 3.2): DKIM-Signature, DKIM keys, DMARC ---- */

#define MAUTH_TAGS_MAX 32

struct mauth_tag {
	const char *name, *val;	/* into the parser's copy, NUL-terminated */
	size_t voff, vlen;	/* the value's place in the input text (raw) */
};

struct mauth_tags {
	char *buf;
	struct mauth_tag t[MAUTH_TAGS_MAX];
	size_t n;
};

/* Parse text[0, len): tag=value pairs separated by ';', white space (and
 * folding: CR, LF) around names and values allowed. -1 with e set on a
 * syntax error, a duplicate tag or more than MAUTH_TAGS_MAX tags. Values
 * keep their inner white space. */
int mauth_tags_parse(const char *text, size_t len, struct mauth_tags *t, ik_err *e);
void mauth_tags_free(struct mauth_tags *t);
const char *mauth_tags_get(const struct mauth_tags *t, const char *name);

/* ---- DKIM (dkim_canon.c, dkim_verify.c) ---- */

/* Canonicalized body hashing, one line at a time, as CRLF text. */
struct dkim_body_hash {
	EVP_MD_CTX *md;
	enum dkim_canon canon;
	size_t pending_crlf;	/* empty lines held back: trailing ones are dropped */
	bool any;		/* a non-empty line was hashed */
	uint64_t limit;		/* l=: bytes to hash at most (UINT64_MAX: all) */
	uint64_t total;		/* canonical bytes seen (hashed or not) */
};

int dkim_bh_init(struct dkim_body_hash *b, enum dkim_canon canon, uint64_t limit);
void dkim_bh_update(struct dkim_body_hash *b, const char *body, size_t len);
/* The SHA-256 digest; frees the context. */
int dkim_bh_final(struct dkim_body_hash *b, unsigned char out[32]);
void dkim_bh_cleanup(struct dkim_body_hash *b);

/* Append field f canonicalized (with its CRLF unless last) to md. raw
 * replaces f's text when given (a DKIM-Signature with b= emptied). */
int dkim_hash_field(EVP_MD_CTX *md, enum dkim_canon canon, const char *p, size_t len,
		    bool crlf);
/* Hash the fields that h= names (colon-separated, white space allowed)
 * from the bottom up, as RFC 6376 5.4.2 selects them. */
int dkim_hash_fields(EVP_MD_CTX *md, enum dkim_canon canon, const struct mauth_header *h,
		     const char *hlist);
/* A DKIM-Signature field's text with the value of its b= tag removed
 * (white space and folding inside the value too); malloc'ed. */
char *dkim_strip_b(const char *field, size_t len, size_t *outlen);
/* "relaxed/simple" -> canons; NULL or "" gives simple/simple. */
int dkim_canon_parse(const char *c, enum dkim_canon *hc, enum dkim_canon *bc);

/* One DKIM-Signature parsed and hashed, waiting for its key. */
struct dkim_pending {
	struct mauth_dkim_res r;	/* d, s, a, b8 filled; res NONE until decided */
	enum dkim_alg alg;
	unsigned char hdr_digest[32];
	unsigned char *sig;
	size_t siglen;
	char *keyname;		/* "s._domainkey.d" */
	bool done;		/* r.res is final (permerror, body hash mismatch...) */
};

/* Parse and hash one DKIM-Signature field (index fi of h). Fills p; sets
 * p->done with a result when it cannot pass whatever the key says. */
void dkim_prepare_sig(const struct mauth_header *h, size_t fi, int64_t now,
		      struct dkim_pending *p);
void dkim_pending_clear(struct dkim_pending *p);
/* Decide p with the key record's TXT answer. */
void dkim_check_key(struct dkim_pending *p, const struct mauth_dns_answer *a);

EVP_PKEY *dkim_key_pkey(const struct dkim_key *k);
/* Base64 with white space (folding) removed; malloc'ed bytes, or NULL. */
unsigned char *mauth_b64_decode(const char *s, size_t *outlen);

/* The prepared message, for the check driver. */
const char *mauth_msg_from_domain(const struct mauth_msg *m);
size_t mauth_msg_nsig(const struct mauth_msg *m);
const struct dkim_pending *mauth_msg_sig(const struct mauth_msg *m, size_t i);

/* Parse a key record (v=DKIM1; k=; p=): the public key, or NULL with why
 * (an empty p= is a revoked key). */
EVP_PKEY *dkim_key_record_parse(const char *txt, enum dkim_alg alg, char *why, size_t whysz);

/* ---- the DNS cache the checks run over (mauth_cache.c) ---- */

#define MAUTH_CACHE_MAX 96

struct mauth_cache_ent {
	enum mauth_rr type;
	char *name;
	bool answered, asked;
	enum mauth_dns_rc rc;
	char **rr;
	size_t n;
};

struct mauth_cache {
	struct mauth_cache_ent e[MAUTH_CACHE_MAX];
	size_t n;
	bool missing;		/* a run needed an answer not here yet */
	bool full;		/* a run needed more entries than fit */
};

/* The answer for (type, name), or NULL: then the name is added as wanted
 * and c->missing is set (names are compared without case and without a
 * trailing dot). */
const struct mauth_dns_answer *mauth_cache_get(struct mauth_cache *c, enum mauth_rr type,
					       const char *name, struct mauth_dns_answer *tmp);
int mauth_cache_put(struct mauth_cache *c, size_t idx, const struct mauth_dns_answer *a);
void mauth_cache_clear(struct mauth_cache *c);

/* ---- SPF (spf_record.c, spf_macro.c, spf_eval.c) ---- */

enum spf_mech {
	SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6, SPF_EXISTS,
};

struct spf_term {
	enum spf_mech mech;
	char qual;		/* '+', '-', '~', '?' */
	char *arg;		/* domain-spec (macro text) or NULL */
	unsigned char ip[16];	/* ip4 (first 4 bytes) / ip6 */
	int cidr4, cidr6;	/* prefix lengths (32 / 128 when not given) */
};

#define SPF_TERMS_MAX 64

struct spf_record {
	struct spf_term t[SPF_TERMS_MAX];
	size_t n;
	char *redirect;		/* the redirect= modifier's domain-spec, or NULL */
	char *exp;		/* exp=, kept for completeness (not used) */
};

/* Parse an SPF record ("v=spf1 ..."). -1 with e set: permerror. */
int spf_record_parse(const char *txt, struct spf_record *r, ik_err *e);
void spf_record_free(struct spf_record *r);
/* Whether a TXT string is an SPF record (RFC 7208 4.5). */
bool spf_is_record(const char *txt);

struct spf_ctx {
	char sender[512];	/* "local@domain" (postmaster@helo for <>) */
	const char *helo;
	unsigned char ip[16];
	bool v6;
	char ipstr[64];
};

/* Expand a macro-string (RFC 7208 7) for domain d into out. -1: syntax
 * error (permerror). */
int spf_macro_expand(const struct spf_ctx *x, const char *domain, const char *spec,
		     char *out, size_t outsz);

/* Evaluate check_host(ip, domain, sender) over the cache. Returns the
 * result, or -1 when the cache lacks an answer (run again later). */
int spf_eval(struct mauth_cache *c, const struct spf_ctx *x, const char *domain, char *why,
	     size_t whysz);
/* Fill x from the client address, HELO and MAIL FROM ("" for <>); the
 * domain to check is written to domain. -1: a bad address. */
int spf_ctx_init(struct spf_ctx *x, const char *ip, const char *helo, const char *mail_from,
		 char *domain, size_t domsz, bool *helo_id);

/* ---- DMARC (dmarc.c) ---- */

struct dmarc_record {
	enum dmarc_policy p, sp;
	bool has_sp;
	bool adkim_strict, aspf_strict;
	unsigned pct;
};

/* Parse a DMARC record ("v=DMARC1; p=..."). -1 with e set. */
int dmarc_record_parse(const char *txt, struct dmarc_record *r, ik_err *e);
/* The organizational domain of name (lower case) into out. */
int mauth_org_domain(const char *name, char *out, size_t outsz);
/* Whether a and b are aligned (RFC 7489 3.1). */
bool dmarc_aligned(const char *a, const char *b, bool strict);
/* Evaluate DMARC for r (spf, dkim and from_domain filled) over the cache:
 * sets r->dmarc, r->policy, r->reject. -1: an answer is missing. */
int dmarc_eval(struct mauth_cache *c, struct mauth_result *r, unsigned pct_draw);

#endif
