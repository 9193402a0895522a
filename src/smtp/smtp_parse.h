/* SMTP argument parsing, pure (no I/O): paths, MAIL/RCPT parameters,
 * xtext. Fuzzed by tests/fuzz/fuzz_smtp_addr.c and fuzz_smtp_cmd.c.
 *
 * RFC 5321 4.1.2 (Path, Mailbox, Local-part with Dot-string and
 * Quoted-string, Domain and address literals, the obsolete source route
 * "@a,@b:" which is read and ignored, 4.5.3.1 length limits), RFC 6531
 * (UTF-8 in local parts and domains, only when the client said SMTPUTF8),
 * RFC 1870 SIZE, RFC 6152 BODY=8BITMIME, RFC 3030 BODY=BINARYMIME,
 * RFC 3461 DSN (RET, ENVID, NOTIFY, ORCPT; xtext), RFC 4954 5 AUTH=.
 *
 * A parse failure fills a struct smtp_reply with the reply the server
 * sends as it is: the basic code, the enhanced code (RFC 3463) and a text
 * that tells a human what was wrong. */
#ifndef INETKIT_SMTP_SMTP_PARSE_H
#define INETKIT_SMTP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_queue.h"

#define SMTP_LOCAL_MAX 64	/* octets, RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX 255	/* 4.5.3.1.2 */
#define SMTP_PATH_MAX 256	/* 4.5.3.1.3, with the angle brackets */
#define SMTP_XTEXT_MAX 500	/* decoded ENVID / ORCPT we keep */

struct smtp_reply {
	int code;		/* 501, 555, 552 ... */
	char enh[16];		/* "5.1.7" */
	char text[200];		/* "Bad sender address syntax: ..." */
};

/* Fill r (the text from a printf format, made ASCII without control
 * bytes) and return -1: the parsers' refusals and the server's replies. */
int smtp_reply_set(struct smtp_reply *r, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Which extensions the session offers/ the client used (they change what
 * is accepted). */
enum {
	SMTP_PARSE_UTF8 = 1 << 0,	/* SMTPUTF8 given on MAIL: UTF-8 allowed */
	SMTP_PARSE_DSN = 1 << 1,	/* DSN offered (always, now) */
	SMTP_PARSE_BINARY = 1 << 2,	/* BINARYMIME offered (with CHUNKING) */
};

struct smtp_path {
	bool null;		/* "<>" */
	bool postmaster;	/* "<Postmaster>" without a domain (RCPT only) */
	bool utf8;		/* holds non-ASCII bytes */
	/* "local@domain", the local part as sent (a quoted one keeps its
	 * quotes), the domain lower-cased when ASCII; "" for <> and the bare
	 * postmaster. */
	char addr[SMTP_PATH_MAX + 1];
	size_t local_len;	/* bytes of the local part in addr */
	const char *domain;	/* into addr, after '@'; "" when none */
	/* The local part unquoted (quoted-pairs resolved): what an account
	 * or alias name is compared with. */
	char local[SMTP_LOCAL_MAX + 1];
	bool local_quoted;
};

/* Parse "<path>" at s[0, len) (leading spaces allowed, as after "FROM:").
 * Sets *used to the bytes read (the caller's parameters follow). flags:
 * SMTP_PARSE_UTF8. null_ok: "<>" allowed (MAIL). postmaster_ok: bare
 * "<Postmaster>" allowed (RCPT). On failure r says why (5.1.7 for a
 * sender, 5.1.3 for a recipient: is_rcpt chooses). */
int smtp_path_parse(const char *s, size_t len, unsigned flags, bool null_ok,
		    bool postmaster_ok, bool is_rcpt, struct smtp_path *out, size_t *used,
		    struct smtp_reply *r);

struct smtp_mail_args {
	struct smtp_path from;
	bool size_given;
	uint64_t size;		/* SIZE= */
	enum smtp_body_type body;	/* BODY= */
	bool smtputf8;		/* SMTPUTF8 */
	enum smtp_ret ret;	/* RET= */
	char envid[SMTP_XTEXT_MAX + 1];	/* ENVID=, decoded; "" when not given */
	bool auth_given;	/* AUTH= (RFC 4954 5): accepted and not trusted */
};

struct smtp_rcpt_args {
	struct smtp_path to;
	unsigned notify;	/* SMTP_NOTIFY_*; 0 when not given */
	char orcpt[SMTP_XTEXT_MAX + 1];	/* "rfc822;addr" decoded; "" when not given */
};

/* The argument of MAIL ("FROM:<path> [params]") / RCPT ("TO:<path>
 * [params]"), as the command table hands it over (RAW). The keyword is
 * any case; spaces between the colon and the path are allowed (what
 * real clients send, and what Postfix accepts). Unknown parameters: 555
 * 5.5.4; a bad value: 501 5.5.4; a bad path: 501 5.1.7 / 5.1.3; a
 * missing keyword: 501 5.5.4 with the usage. max_size (0 = none): a SIZE
 * over it is 552 5.3.4. */
int smtp_mail_parse(const char *arg, size_t len, unsigned flags, uint64_t max_size,
		    struct smtp_mail_args *out, struct smtp_reply *r);
int smtp_rcpt_parse(const char *arg, size_t len, unsigned flags, struct smtp_rcpt_args *out,
		    struct smtp_reply *r);

/* xtext (RFC 3461 4): "+XX" hex escapes; -1 on a bad escape, a character
 * outside "!".."~", a "=" or "+" unescaped, or an output over outsz - 1. */
int smtp_xtext_decode(const char *s, size_t len, char *out, size_t outsz);
/* The reverse (for the queue's envelope file and the relay). */
int smtp_xtext_encode(const char *s, size_t len, char *out, size_t outsz);

/* A domain a server names itself or a client names in EHLO: a host name
 * (letters, digits, '-', dots; UTF-8 labels when utf8) or an address
 * literal "[1.2.3.4]" / "[IPv6:...]". */
bool smtp_domain_valid(const char *s, size_t len, bool utf8);

#endif
