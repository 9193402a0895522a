/* Mail authentication: DKIM signing and verification, SPF, DMARC, and the
 * Authentication-Results header that reports them.
 *
 * RFC 6376 (DKIM: tag lists, simple and relaxed canonicalization, rsa-sha256,
 * the l= body length, oversigning), RFC 8463 (ed25519-sha256), RFC 8301
 * (rsa-sha1 is refused, RSA keys below 1024 bits are refused), RFC 7208 (SPF:
 * every mechanism but ptr, qualifiers, redirect, the limits of 10 DNS
 * lookups and 2 void lookups, macros), RFC 7489 (DMARC: record discovery at
 * the From domain then its organizational domain, relaxed and strict
 * alignment, p, sp, pct), RFC 8601 (Authentication-Results).
 *
 * Library or own code. Debian has libopendkim, libspf2 and libopendmarc.
 * libspf2 is unmaintained since 2012 and resolves synchronously through
 * its own resolver, which would block a worker's event loop (or an offload
 * thread per message for seconds) and could not use `dns_servers`.
 * libopendkim wants its DNS through its own callback shape and signs
 * through a per-message handle fed header by header, and libopendmarc is a
 * policy parser with no DNS of its own: wiring three libraries with three
 * DNS models to one asynchronous resolver costs more, and hides more, than
 * the checks themselves. The cryptography is the part not to write by hand,
 * and it is OpenSSL 3 (already a dependency): SHA-256, RSA PKCS#1 v1.5 and
 * Ed25519. The parsers here are small, bounded and fuzzed.
 *
 * DNS is reached only through struct mauth_dns (a lookup function and its
 * context), so the checks run on any resolver and in unit tests on a fake
 * table. The checks are written as plain functions over a cache of DNS
 * answers: a run that needs an answer the cache lacks stops and says so;
 * the driver (mauth_check_*) asks the resolver for what is missing and runs
 * again when the answers are in. Each run is deterministic, so counting
 * lookups for SPF's limits stays exact, and no check keeps a callback
 * state machine of its own.
 *
 * Organizational domain (RFC 7489 3.2): a small built-in rule, not the
 * Public Suffix List (no extra package): the last two labels, or the last
 * three when the name ends in a two-letter country code under one of the
 * usual second-level registries (co.uk, com.au, ac.jp, ...).
 *
 * Messages are given as they are stored: LF line ends (a CR before an LF
 * is taken as part of that line end). Canonicalization treats each LF as
 * the CRLF it was on the wire, without building a CRLF copy. */
#ifndef INETKIT_MAILAUTH_MAILAUTH_H
#define INETKIT_MAILAUTH_MAILAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/sbuf.h"

/* ---- DNS, as the checks see it ---- */

enum mauth_rr { MAUTH_TXT, MAUTH_A, MAUTH_AAAA, MAUTH_MX };

enum mauth_dns_rc {
	MAUTH_DNS_OK,		/* n answers (n may be 0: no data) */
	MAUTH_DNS_NXDOMAIN,	/* the name does not exist */
	MAUTH_DNS_TEMP,		/* timeout, SERVFAIL, ...: try again later */
};

/* rr: TXT: one string per record, its character-strings joined; A, AAAA:
 * the address as text ("192.0.2.1", "2001:db8::1"); MX: the exchange's
 * name (preferences do not matter to SPF). */
struct mauth_dns_answer {
	enum mauth_dns_rc rc;
	size_t n;
	const char *const *rr;
};

typedef void (*mauth_dns_cb)(void *arg, const struct mauth_dns_answer *ans);

struct mauth_dns {
	/* Start one lookup; cb is called exactly once with the answer (it may
	 * be called before lookup returns). Returns 0, or -1 when the lookup
	 * could not start (cb is then never called). */
	int (*lookup)(void *ctx, enum mauth_rr type, const char *name, mauth_dns_cb cb,
		      void *arg);
	void *ctx;
};

/* ---- results ---- */

/* RFC 7208 2.6 and RFC 6376 / RFC 7489 as RFC 8601 names them. */
enum mauth_res {
	MAUTH_NONE,
	MAUTH_PASS,
	MAUTH_FAIL,
	MAUTH_SOFTFAIL,
	MAUTH_NEUTRAL,
	MAUTH_TEMPERROR,
	MAUTH_PERMERROR,
	MAUTH_POLICY,
};
const char *mauth_res_name(enum mauth_res r);	/* "pass", "fail", ... */

enum dmarc_policy { DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

#define MAUTH_DKIM_MAX_SIGS 5	/* signatures verified per message; more are ignored */
#define MAUTH_DOMAIN_MAX 254

struct mauth_dkim_res {
	enum mauth_res res;
	char d[MAUTH_DOMAIN_MAX];	/* header.d */
	char s[64];			/* the selector */
	char b8[9];			/* header.b: first 8 characters of b= (RFC 6008) */
	char a[16];			/* "rsa-sha256", "ed25519-sha256" */
	char why[96];			/* a short reason when not pass, or "" */
};

struct mauth_result {
	enum mauth_res spf;
	char spf_domain[MAUTH_DOMAIN_MAX];	/* the identity checked: MAIL FROM's domain or HELO */
	bool spf_helo;				/* spf_domain is the HELO name (MAIL FROM <>) */
	char spf_mailfrom[512];			/* smtp.mailfrom for the header */
	struct mauth_dkim_res dkim[MAUTH_DKIM_MAX_SIGS];
	size_t ndkim;				/* 0: the message carried no signature */
	enum mauth_res dmarc;			/* none, pass, fail, temperror, permerror */
	char from_domain[MAUTH_DOMAIN_MAX];	/* header.from; "" when From had none */
	enum dmarc_policy policy;		/* the policy that applies (p or sp) */
	bool reject;				/* DMARC fail under p=reject, pct drawn */
};

/* ---- the inbound check ---- */

struct mauth_msg;	/* a message prepared for verification */

/* Blocking-free but CPU-heavy (hashes the body once per signature): run it
 * on an offload thread. msg is the stored message (LF line ends) and must
 * stay valid until mauth_msg_free. Returns NULL only when out of memory. */
struct mauth_msg *mauth_msg_prepare(const char *msg, size_t len, ik_err *e);
void mauth_msg_free(struct mauth_msg *m);

struct mauth_input {
	const char *ip;		/* the client's address, "192.0.2.1" or "2001:db8::1" */
	const char *helo;	/* the EHLO / HELO name */
	const char *mail_from;	/* "user@domain", or "" for <> */
	const struct mauth_msg *msg;	/* NULL: no DKIM and no DMARC (SPF only) */
	unsigned pct_draw;	/* 0..99: compared with DMARC pct (random in production) */
};

struct mauth_check;
typedef void (*mauth_check_done)(void *arg, const struct mauth_result *r);

/* Start SPF, DKIM verification and DMARC for in (copied; in->msg must live
 * until done). done is called once, on the resolver's thread, possibly
 * before mauth_check_start returns; then the check frees itself. *out is
 * the check while it is under way, NULL once done was called. -1 (done
 * never called) on out-of-memory. mauth_check_cancel stops a check under
 * way without calling done (lookups under way are answered into nothing). */
int mauth_check_start(const struct mauth_dns *dns, const struct mauth_input *in,
		      mauth_check_done done, void *arg, struct mauth_check **out, ik_err *e);
void mauth_check_cancel(struct mauth_check *c);

/* "Authentication-Results: AUTHSERV-ID; spf=pass smtp.mailfrom=...;\n\t dkim=...;
 * dmarc=...\n" (RFC 8601; LF line ends, as messages are stored). */
int mauth_ar_format(const char *authserv_id, const struct mauth_result *r, struct sbuf *out);

/* ---- DKIM signing ---- */

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };

struct dkim_key;	/* a private key (OpenSSL) */

/* Read a PEM private key (RSA of 1024 bits or more, or Ed25519). */
struct dkim_key *dkim_key_load(const char *path, ik_err *e);
void dkim_key_free(struct dkim_key *k);
enum dkim_alg dkim_key_alg(const struct dkim_key *k);
/* Make a key: rsa (bits 1024..8192) or ed25519; write it as PEM to path
 * (created 0600, never over an existing file). */
struct dkim_key *dkim_key_generate(enum dkim_alg alg, unsigned bits, ik_err *e);
int dkim_key_write(const struct dkim_key *k, const char *path, ik_err *e);
/* The TXT record to publish at SEL._domainkey.DOMAIN: "v=DKIM1; k=rsa; p=..." */
int dkim_key_txt(const struct dkim_key *k, struct sbuf *out, ik_err *e);

struct dkim_sign_opts {
	const char *domain;	/* d= */
	const char *selector;	/* s= */
	enum dkim_canon hcanon, bcanon;
	int64_t now;		/* t= (0: omitted) */
};

/* Sign msg (LF line ends): append the "DKIM-Signature: ..." field, folded,
 * LF-terminated, to out, ready to be put in front of the message. */
int dkim_sign(const struct dkim_key *k, const struct dkim_sign_opts *o, const char *msg,
	      size_t len, struct sbuf *out, ik_err *e);

/* The domain of the (first) From field's address in msg, lower case; -1
 * when there is no From or no address in it. */
int mauth_from_domain(const char *msg, size_t len, char *out, size_t outsz);

#endif
