/* imap/imap_mime: ENVELOPE, BODYSTRUCTURE and BODY as the client reads
 * them, exact to the byte (RFC 3501 7.4.2), for the messages where a
 * MIME builder goes wrong: multiparts in multiparts, RFC 2231 parameter
 * pieces, a boundary that never comes, a message/rfc822 part, an empty
 * body. The strings are what Dovecot 2.3 sends for the same messages
 * (tests/integration/test_imap_dovecot.py compares the two live). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gmime/gmime.h>

#include "imap/imap_int.h"

/* The three values from one parse, and each from its own call: they must
 * agree. */
struct built {
	struct sbuf env, bs, body;
};

static void build(const char *msg, struct built *out)
{
	size_t len = strlen(msg);
	out->env = (struct sbuf)SBUF_INIT(1u << 20);
	out->bs = (struct sbuf)SBUF_INIT(1u << 20);
	out->body = (struct sbuf)SBUF_INIT(1u << 20);
	assert_int_equal(imap_mime_all(msg, len, &out->env, &out->bs, &out->body), 0);
	struct sbuf e = SBUF_INIT(1u << 20), b = SBUF_INIT(1u << 20), nb = SBUF_INIT(1u << 20);
	assert_int_equal(imap_mime_envelope(msg, len, &e), 0);
	assert_int_equal(imap_mime_bodystructure(msg, len, true, &b), 0);
	assert_int_equal(imap_mime_bodystructure(msg, len, false, &nb), 0);
	assert_string_equal(sbuf_cstr(&e), sbuf_cstr(&out->env));
	assert_string_equal(sbuf_cstr(&b), sbuf_cstr(&out->bs));
	assert_string_equal(sbuf_cstr(&nb), sbuf_cstr(&out->body));
	sbuf_free(&e);
	sbuf_free(&b);
	sbuf_free(&nb);
}

static void built_free(struct built *b)
{
	sbuf_free(&b->env);
	sbuf_free(&b->bs);
	sbuf_free(&b->body);
}

static void section(const char *msg, const char *spec, const char *want)
{
	struct imap_section sec;
	char err[IMAP_ERR_MAX];
	assert_int_equal(imap_section_parse(spec, strlen(spec), &sec, err), 0);
	struct sbuf out = SBUF_INIT(1u << 20);
	assert_int_equal(imap_mime_section(msg, strlen(msg), &sec, &out), 0);
	assert_string_equal(sbuf_cstr(&out), want);
	sbuf_free(&out);
}

static const char NESTED[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: nested\r\n"
	"Date: Sat, 05 Dec 2026 10:00:00 +0100\r\n"
	"Message-ID: <n1@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=inner\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"plain\r\n"
	"text\r\n"
	"--inner\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"<p>html</p>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-ID: <img1@example.org>\r\n"
	"Content-Disposition: inline\r\n"
	"\r\n"
	"iVBORw0KGgo=\r\n"
	"--outer--\r\n";

static void test_nested_multiparts(void **state)
{
	(void)state;
	struct built b;
	build(NESTED, &b);
	assert_string_equal(sbuf_cstr(&b.env),
		"(\"Sat, 05 Dec 2026 10:00:00 +0100\" \"nested\" "
		"((\"Alice\" NIL \"alice\" \"example.org\")) "
		"((\"Alice\" NIL \"alice\" \"example.org\")) "
		"((\"Alice\" NIL \"alice\" \"example.org\")) "
		"((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL \"<n1@example.org>\")");
	assert_string_equal(sbuf_cstr(&b.bs),
		"(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 11 1 NIL NIL NIL NIL)"
		"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 11 0 "
		"NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"
		"(\"image\" \"png\" NIL \"<img1@example.org>\" NIL \"base64\" 12 NIL "
		"(\"inline\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
	assert_string_equal(sbuf_cstr(&b.body),
		"(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 11 1)"
		"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 11 0) "
		"\"alternative\")"
		"(\"image\" \"png\" NIL \"<img1@example.org>\" NIL \"base64\" 12) \"mixed\")");
	/* Section numbers walk the same tree. */
	section(NESTED, "BODY[1.2]", "<p>html</p>");
	section(NESTED, "BODY[1.1]", "plain\r\ntext");
	section(NESTED, "BODY[2.MIME]",
		"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
		"Content-ID: <img1@example.org>\r\nContent-Disposition: inline\r\n\r\n");
	section(NESTED, "BODY[3]", "");
	built_free(&b);
}

static const char RFC2231[] =
	"From: a@example.org\r\n"
	"Subject: names\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: application/pdf;\r\n"
	" name*0*=utf-8''caf%C3%A9;\r\n"
	" name*1=\" menu.pdf\"\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename*=utf-8'fr'caf%C3%A9.pdf\r\n"
	"Content-Language: fr, en-GB\r\n"
	"\r\n"
	"JVBERi0=\r\n"
	"--b--\r\n";

static void test_rfc2231_names(void **state)
{
	(void)state;
	struct built b;
	build(RFC2231, &b);
	/* The pieces joined under the "name*" name, still encoded as the
	 * sender wrote them (as Dovecot sends them: clients decode); a plain
	 * piece is taken as it is, but for its '%'. */
	assert_string_equal(sbuf_cstr(&b.bs),
		"((\"application\" \"pdf\" (\"name*\" \"utf-8''caf%C3%A9 menu.pdf\") NIL NIL "
		"\"7bit\" 8 NIL (\"attachment\" (\"filename*\" \"utf-8'fr'caf%C3%A9.pdf\")) "
		"(\"fr\" \"en-GB\") NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)");
	assert_string_equal(sbuf_cstr(&b.env),
		"(NIL \"names\" ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) "
		"((NIL NIL \"a\" \"example.org\")) NIL NIL NIL NIL NIL)");
	built_free(&b);
	/* Pieces out of order; a plain first piece (an empty charset and
	 * language go first); a plain '%' (written %25); plain pieces only
	 * (joined under the plain name). */
	struct imap_mime_hdr h;
	static const char ct[] = "text/plain; k*2=ba%; k2*0=a; k3*0*=us-ascii'en'xyz; "
				 "k*0=\"foo\"; k2*1*=b%25; k3*1=plop%; k*1=baz";
	assert_int_equal(imap_mime_hdr_parse(ct, strlen(ct), true, &h), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.p[0].name, "k");
	assert_string_equal(h.p[0].value, "foobazba%");
	assert_string_equal(h.p[1].name, "k2*");
	assert_string_equal(h.p[1].value, "''ab%25");
	assert_string_equal(h.p[2].name, "k3*");
	assert_string_equal(h.p[2].value, "us-ascii'en'xyzplop%25");
	imap_mime_hdr_free(&h);
}

static const char BROKEN[] =
	"From: a@example.org\r\n"
	"Subject: broken\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"never-there\"\r\n"
	"\r\n"
	"--not-the-boundary\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"text\r\n";

static void test_broken_boundary(void **state)
{
	(void)state;
	struct built b;
	build(BROKEN, &b);
	/* No part found: one empty text part, as Dovecot shows it. */
	assert_string_equal(sbuf_cstr(&b.bs),
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
		"\"mixed\" (\"boundary\" \"never-there\") NIL NIL NIL)");
	assert_string_equal(sbuf_cstr(&b.body),
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
	/* The bytes are still there: TEXT is the body as sent. */
	section(BROKEN, "BODY[TEXT]",
		"--not-the-boundary\r\nContent-Type: text/plain\r\n\r\ntext\r\n");
	built_free(&b);
}

static const char FORWARD[] =
	"From: \"Bob B.\" <bob@example.net>\r\n"
	"To: Friends: carol@example.org, dan@example.org;\r\n"
	"Subject: =?UTF-8?Q?fwd_caf=C3=A9?=\r\n"
	"Date: Sun, 06 Dec 2026 08:30:00 +0000\r\n"
	"In-Reply-To: <orig@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=f\r\n"
	"\r\n"
	"--f\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"see below\r\n"
	"--f\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Description: the original\r\n"
	"\r\n"
	"From: Eve <eve@example.com>\r\n"
	"Subject: original\r\n"
	"\r\n"
	"hello\r\n"
	"--f--\r\n";

static void test_message_rfc822(void **state)
{
	(void)state;
	struct built b;
	build(FORWARD, &b);
	/* Encoded words stay encoded; a group is its start, its members and
	 * its end (RFC 3501 7.4.2). */
	assert_string_equal(sbuf_cstr(&b.env),
		"(\"Sun, 06 Dec 2026 08:30:00 +0000\" \"=?UTF-8?Q?fwd_caf=C3=A9?=\" "
		"((\"Bob B.\" NIL \"bob\" \"example.net\")) "
		"((\"Bob B.\" NIL \"bob\" \"example.net\")) "
		"((\"Bob B.\" NIL \"bob\" \"example.net\")) "
		"((NIL NIL \"Friends\" NIL)(NIL NIL \"carol\" \"example.org\")"
		"(NIL NIL \"dan\" \"example.org\")(NIL NIL NIL NIL)) NIL NIL "
		"\"<orig@example.org>\" NIL)");
	/* The inner message: its size and lines, its ENVELOPE and its own
	 * BODYSTRUCTURE. */
	assert_string_equal(sbuf_cstr(&b.bs),
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)"
		"(\"message\" \"rfc822\" NIL NIL \"the original\" \"7bit\" 55 "
		"(NIL \"original\" ((\"Eve\" NIL \"eve\" \"example.com\")) "
		"((\"Eve\" NIL \"eve\" \"example.com\")) ((\"Eve\" NIL \"eve\" \"example.com\")) "
		"NIL NIL NIL NIL NIL) "
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL) 3 "
		"NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"f\") NIL NIL NIL)");
	section(FORWARD, "BODY[2.HEADER]", "From: Eve <eve@example.com>\r\nSubject: original\r\n\r\n");
	section(FORWARD, "BODY[2.TEXT]", "hello");
	section(FORWARD, "BODY[2.1]", "hello");
	built_free(&b);
}

static void test_empty_body(void **state)
{
	(void)state;
	static const char *const msgs[] = {
		"Subject: nothing\r\n\r\n",
		"Subject: nothing\r\n",
	};
	for (size_t i = 0; i < 2; i++) {
		struct built b;
		build(msgs[i], &b);
		assert_string_equal(sbuf_cstr(&b.bs),
			"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
			"NIL NIL NIL NIL)");
		assert_string_equal(sbuf_cstr(&b.body),
			"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
		assert_string_equal(sbuf_cstr(&b.env),
			"(NIL \"nothing\" NIL NIL NIL NIL NIL NIL NIL NIL)");
		built_free(&b);
	}
	/* No header at all, no bytes at all. */
	struct built b;
	build("", &b);
	assert_string_equal(sbuf_cstr(&b.env), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	assert_string_equal(sbuf_cstr(&b.body),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
	built_free(&b);
}

/* Single-part messages take imap_mime_all's short way (GMime reads the
 * header alone; the body is counted from the bytes): the same strings as
 * the whole-message parse (build() compares the two), which are these. */
static void test_single_part(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *env, *bs, *body;
	} cases[] = {
		/* charset and another parameter, 8bit body */
		{"From: A <a@b.c>\r\n"
		 "Content-Type: text/plain; charset=\"ISO-8859-1\"; format=flowed\r\n"
		 "Content-Transfer-Encoding: 8bit\r\n\r\n"
		 "h\xe9llo\r\n\xe9\r\n",
		 "(NIL NIL ((\"A\" NIL \"a\" \"b.c\")) ((\"A\" NIL \"a\" \"b.c\")) "
		 "((\"A\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"ISO-8859-1\" \"format\" \"flowed\") NIL NIL "
		 "\"8bit\" 10 2 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"ISO-8859-1\" \"format\" \"flowed\") NIL NIL "
		 "\"8bit\" 10 2)"},
		/* a header and its blank line, no body */
		{"Subject: x\r\nFrom: a@b\r\n\r\n",
		 "(NIL \"x\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
		 "NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"},
		/* a header without its blank line, nor a last line end */
		{"Subject: x\r\nFrom: a@b",
		 "(NIL \"x\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
		 "NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"},
		/* a body without a last line end: no line counted for it */
		{"Subject: x\r\n\r\nbody without newline",
		 "(NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 0 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 0)"},
		/* RFC 2231 pieces, every extension field */
		{"Content-Type: application/octet-stream; name*0*=utf-8''a%20b; name*1=c.txt\r\n"
		 "Content-Disposition: attachment; filename*=utf-8''x%20y.bin\r\n"
		 "Content-Language: en, de\r\nContent-Location: http://x/y\r\n"
		 "Content-ID: <id@x>\r\nContent-Description: desc\r\nContent-MD5: abc==\r\n\r\n"
		 "data\r\n",
		 "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		 "(\"application\" \"octet-stream\" (\"name*\" \"utf-8''a%20bc.txt\") \"<id@x>\" "
		 "\"desc\" \"7bit\" 6 \"abc==\" (\"attachment\" (\"filename*\" \"utf-8''x%20y.bin\")) "
		 "(\"en\" \"de\") \"http://x/y\")",
		 "(\"application\" \"octet-stream\" (\"name*\" \"utf-8''a%20bc.txt\") \"<id@x>\" "
		 "\"desc\" \"7bit\" 6)"},
		/* a line GMime does not take for a field, inside the header */
		{"Subject: x\r\nthis is not a header\r\nFrom: a@b\r\n\r\nbody\r\n",
		 "(NIL \"x\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
		 "NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)"},
		/* a type without a subtype */
		{"Content-Type: text\r\n\r\nbody\r\n",
		 "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		 "(\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)",
		 "(\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)"},
		/* a message/rfc822 the short way's guess misses (GMime reads
		 * "message /rfc822" as one): parsed whole after all */
		{"Content-Type: message /rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n",
		 "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		 "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 24 (NIL \"inner\" NIL NIL NIL NIL NIL "
		 "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 "
		 "NIL NIL NIL NIL) 3 NIL NIL NIL NIL)",
		 "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 24 (NIL \"inner\" NIL NIL NIL NIL NIL "
		 "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1) "
		 "3)"},
		/* no bytes at all */
		{"", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct built b;
		build(cases[i].msg, &b);
		assert_string_equal(sbuf_cstr(&b.env), cases[i].env);
		assert_string_equal(sbuf_cstr(&b.bs), cases[i].bs);
		assert_string_equal(sbuf_cstr(&b.body), cases[i].body);
		built_free(&b);
	}
	/* Sender and Reply-To: From's list when absent, their own when
	 * present (even empty); a '?' in a name or address stays a '?', an
	 * encoded word stays encoded. */
	struct built b;
	build("From: =?utf-8?q?J=C3=B6rg?= <j@x.de>, \"Q?\" <q?@x>\r\n"
	      "Reply-To: r@x\r\nTo: group: a@b, c@d;, e@f\r\n\r\nx\r\n", &b);
	assert_string_equal(sbuf_cstr(&b.env),
		"(NIL NIL ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")(\"Q?\" NIL \"q?\" \"x\")) "
		"((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")(\"Q?\" NIL \"q?\" \"x\")) "
		"((NIL NIL \"r\" \"x\")) ((NIL NIL \"group\" NIL)(NIL NIL \"a\" \"b\")"
		"(NIL NIL \"c\" \"d\")(NIL NIL NIL NIL)(NIL NIL \"e\" \"f\")) NIL NIL NIL NIL)");
	built_free(&b);
	build("From: a@b\r\nSender:\r\n\r\n", &b);
	assert_string_equal(sbuf_cstr(&b.env),
		"(NIL NIL ((NIL NIL \"a\" \"b\")) NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL)");
	built_free(&b);
}

/* SEARCH SUBJECT and friends: decoded, any case, only the named field. */
static void test_header_has(void **state)
{
	(void)state;
	static const char h[] = "From: topic 9 <x@example.org>\r\n"
				"Subject: Message 7 about\r\n Topic 7\r\n"
				"X-Enc: =?UTF-8?Q?caf=C3=A9_au_lait?=\r\n"
				"\r\n"
				"body topic 8\r\n";
	size_t n = strlen(h);
	assert_true(imap_mime_header_has(h, n, "Subject", "topic 7"));
	assert_true(imap_mime_header_has(h, n, "subject", "MESSAGE 7"));
	assert_false(imap_mime_header_has(h, n, "Subject", "topic 9"));	/* From's */
	assert_false(imap_mime_header_has(h, n, "Subject", "topic 8"));	/* the body's */
	assert_true(imap_mime_header_has(h, n, "From", "topic 9"));
	assert_true(imap_mime_header_has(h, n, "X-Enc", "CAFÉ au"));	/* decoded */
	assert_false(imap_mime_header_has(h, n, "X-Enc", "utf-8"));	/* not the raw word */
	static const char plain[] = "Subject: message 17 about topic 7\r\n\r\n";
	assert_true(imap_mime_header_has(plain, strlen(plain), "Subject", "topic 7"));
	assert_false(imap_mime_header_has(plain, strlen(plain), "Subject", "topic 8"));
	assert_false(imap_mime_header_has(plain, strlen(plain), "Subjec", "topic 7"));
}

int main(void)
{
	g_mime_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_multiparts),
		cmocka_unit_test(test_rfc2231_names),
		cmocka_unit_test(test_broken_boundary),
		cmocka_unit_test(test_message_rfc822),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_single_part),
		cmocka_unit_test(test_header_has),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
