/* DKIM signing (RFC 6376 5; ed25519-sha256 RFC 8463 3): the fields a
 * reader sees are signed, From once more than it occurs so that no From
 * can be added after signing (RFC 6376 8.15, "oversigning"). */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "lib/base64.h"
#include "lib/str.h"
#include "mailauth/mailauth_int.h"

/* RFC 6376 5.4.1's list, less what relays rewrite (Received, Return-Path). */
static const char *const signed_fields[] = {
	"from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
	"mime-version", "content-type", "content-transfer-encoding", "content-id",
	"content-description", "in-reply-to", "references", "list-id", "list-unsubscribe",
	"list-unsubscribe-post",
};

static int hlist(const struct mauth_header *h, struct sbuf *out)
{
	size_t col = 0;
	for (size_t k = 0; k < sizeof signed_fields / sizeof signed_fields[0]; k++) {
		size_t count = 0;
		for (size_t i = 0; i < h->n; i++)
			if (mauth_field_is(&h->f[i], signed_fields[k]))
				count++;
		if (k == 0)
			count++;	/* oversign From */
		for (size_t c = 0; c < count; c++) {
			if (out->len > 0 && sbuf_addch(out, ':') < 0)
				return -1;
			if (out->len - col > 60) {	/* fold: FWS is allowed after a colon */
				if (sbuf_addstr(out, "\n\t ") < 0)
					return -1;
				col = out->len;
			}
			if (sbuf_addstr(out, signed_fields[k]) < 0)
				return -1;
		}
	}
	return 0;
}

static int b64(const unsigned char *p, size_t n, char **out)
{
	size_t sz = base64_encoded_size(n);
	if ((*out = malloc(sz)) == NULL)
		return -1;
	return base64_encode(p, n, *out, sz) < 0 ? -1 : 0;
}

static int sign_digest(EVP_PKEY *pk, enum dkim_alg alg, const unsigned char dg[32],
		       unsigned char **sig, size_t *siglen)
{
	int ok = 0;
	*sig = NULL;
	if (alg == DKIM_ED25519_SHA256) {
		/* RFC 8463 3: PureEdDSA over the SHA-256 hash of the header data. */
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		*siglen = 64;
		ok = md != NULL && (*sig = malloc(64)) != NULL &&
		     EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestSign(md, *sig, siglen, dg, 32) == 1;
		EVP_MD_CTX_free(md);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
		ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		     EVP_PKEY_sign(ctx, NULL, siglen, dg, 32) == 1 &&
		     (*sig = malloc(*siglen)) != NULL &&
		     EVP_PKEY_sign(ctx, *sig, siglen, dg, 32) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	if (!ok) {
		free(*sig);
		*sig = NULL;
		return -1;
	}
	return 0;
}

int dkim_sign(const struct dkim_key *k, const struct dkim_sign_opts *o, const char *msg,
	      size_t len, struct sbuf *out, ik_err *e)
{
	struct mauth_header h;
	if (mauth_header_split(msg, len, &h) < 0)
		return ik_err_set(e, "out of memory");
	struct sbuf hl = SBUF_INIT(4096), field = SBUF_INIT(8192);
	struct dkim_body_hash bh;
	unsigned char bdg[32], hdg[32], *sig = NULL;
	size_t siglen = 0;
	char *bh64 = NULL, *sig64 = NULL;
	EVP_MD_CTX *md = NULL;
	int rc = -1;
	if (dkim_bh_init(&bh, o->bcanon, UINT64_MAX) < 0) {
		ik_err_set(e, "cannot start SHA-256");
		goto out;
	}
	dkim_bh_update(&bh, h.body, h.bodylen);
	if (dkim_bh_final(&bh, bdg) < 0 || b64(bdg, 32, &bh64) < 0 || hlist(&h, &hl) < 0) {
		ik_err_set(e, "cannot hash the body");
		goto out;
	}
	const char *canon[] = {"simple", "relaxed"};
	sbuf_printf(&field, "DKIM-Signature: v=1; a=%s; c=%s/%s; d=%s; s=%s;\n\t",
		    dkim_key_alg(k) == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256",
		    canon[o->hcanon], canon[o->bcanon], o->domain, o->selector);
	if (o->now > 0)
		sbuf_printf(&field, "t=%lld; ", (long long)o->now);
	if (sbuf_printf(&field, "h=%s;\n\tbh=%s;\n\tb=", sbuf_cstr(&hl), bh64) < 0) {
		ik_err_set(e, "the signature field is too long");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    dkim_hash_fields(md, o->hcanon, &h, sbuf_cstr(&hl)) < 0 ||
	    dkim_hash_field(md, o->hcanon, field.data, field.len, false) < 0 ||
	    EVP_DigestFinal_ex(md, hdg, NULL) != 1) {
		ik_err_set(e, "cannot hash the header");
		goto out;
	}
	if (sign_digest(dkim_key_pkey(k), dkim_key_alg(k), hdg, &sig, &siglen) < 0 ||
	    b64(sig, siglen, &sig64) < 0) {
		ik_err_set(e, "cannot sign with the DKIM key");
		goto out;
	}
	/* The value folded at 72 columns; white space in b= is ignored. */
	size_t n = strlen(sig64);
	for (size_t i = 0; i < n; i += 72) {
		if (i > 0)
			sbuf_addstr(&field, "\n\t ");
		sbuf_add(&field, sig64 + i, n - i < 72 ? n - i : 72);
	}
	if (sbuf_addch(&field, '\n') < 0 || sbuf_add(out, field.data, field.len) < 0) {
		ik_err_set(e, "the signature field is too long");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	dkim_bh_cleanup(&bh);
	free(bh64);
	free(sig64);
	free(sig);
	sbuf_free(&hl);
	sbuf_free(&field);
	mauth_header_free(&h);
	return rc;
}
