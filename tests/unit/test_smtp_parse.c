#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp_parse.h"

#define DSN SMTP_PARSE_DSN
#define UTF8 SMTP_PARSE_UTF8

static struct smtp_path path;

/* Parse in as a recipient path (postmaster allowed) or a sender one. */
static int parse(const char *in, unsigned flags, bool rcpt, struct smtp_reply *r)
{
	size_t used;
	int rc = smtp_path_parse(in, strlen(in), flags, !rcpt, rcpt, rcpt, &path, &used, r);
	if (rc == 0)
		assert_int_equal(used, strlen(in));
	return rc;
}

static void ok(const char *in, unsigned flags, const char *addr, const char *local)
{
	struct smtp_reply r;
	if (parse(in, flags, false, &r) != 0)
		fail_msg("%s: %d %s %s", in, r.code, r.enh, r.text);
	assert_string_equal(path.addr, addr);
	assert_string_equal(path.local, local);
	const char *at = strrchr(addr, '@');
	assert_string_equal(path.domain, at != NULL ? at + 1 : "");
	assert_int_equal(path.local_len, at != NULL ? (size_t)(at - addr) : 0);
}

static void bad(const char *in, unsigned flags, bool rcpt, int code, const char *enh,
		const char *text)
{
	struct smtp_reply r;
	assert_int_equal(parse(in, flags, rcpt, &r), -1);
	assert_int_equal(r.code, code);
	assert_string_equal(r.enh, enh);
	assert_string_equal(r.text, text);
	assert_string_equal(path.addr, "");
}

#define SBAD(in, why) bad(in, 0, false, 501, "5.1.7", "Bad sender address syntax: " why)
#define RBAD(in, why) bad(in, 0, true, 501, "5.1.3", "Bad recipient address syntax: " why)

static void plain_paths(void **state)
{
	(void)state;
	ok("<alice@example.org>", 0, "alice@example.org", "alice");
	ok("  <alice@Example.ORG>", 0, "alice@example.org", "alice");
	ok("<Alice.Smith+tag@mail.example.org>", 0, "Alice.Smith+tag@mail.example.org",
	   "Alice.Smith+tag");
	ok("<!#$%&'*+-/=?^_`{|}~@x>", 0, "!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~");
	ok("<a@localhost>", 0, "a@localhost", "a");
	ok("<a@x-y.example>", 0, "a@x-y.example", "a");
	assert_false(path.utf8);
	assert_false(path.local_quoted);
	struct smtp_reply r;
	assert_int_equal(parse("<>", 0, false, &r), 0);
	assert_true(path.null);
	assert_string_equal(path.addr, "");
	assert_string_equal(path.domain, "");
	/* The caller's parameters follow. */
	size_t used;
	assert_int_equal(smtp_path_parse("<a@b> SIZE=1", 12, 0, true, false, false, &path, &used,
					 &r), 0);
	assert_int_equal(used, 5);
}

static void quoted_local_parts(void **state)
{
	(void)state;
	ok("<\"a b\"@x.org>", 0, "\"a b\"@x.org", "a b");
	assert_true(path.local_quoted);
	ok("<\"a\\\"b\"@x>", 0, "\"a\\\"b\"@x", "a\"b");
	ok("<\"a\\\\b\"@x>", 0, "\"a\\\\b\"@x", "a\\b");
	ok("<\"a@b\"@x>", 0, "\"a@b\"@x", "a@b");
	ok("<\"<>\"@x>", 0, "\"<>\"@x", "<>");
	ok("<\"john..doe\"@x>", 0, "\"john..doe\"@x", "john..doe");
	SBAD("<\"abc@x>", "unbalanced quote in the local part");
	SBAD("<\"abc\\", "unbalanced quote in the local part");
	SBAD("<\"a\"b@x>", "'b' after the closing quote of the local part");
	SBAD("<a\"b\"@x>", "a quote inside the local part (quote all of it, as in "
	     "\"a b\"@example.org)");
	SBAD("<\"\"@x>", "empty local part \"\"");
	SBAD("<\"a\tb\"@x>", "a TAB in the local part");
	SBAD("<\"a\\\tb\"@x>", "a TAB after a backslash in the local part (only printable ASCII "
	     "may be escaped)");
}

static void dot_string_refusals(void **state)
{
	(void)state;
	SBAD("<a b@x>", "a space in the local part (quote it, as in \"a b\"@example.org, or "
	     "remove it)");
	SBAD("<.a@x>", "the local part starts with a dot");
	SBAD("<a.@x>", "the local part ends with a dot");
	SBAD("<a..b@x>", "two dots in a row in the local part");
	SBAD("<@x>", "bad source route: it must end with ':' before the mailbox");
	SBAD("<(a)@x>", "'(' in the local part");
	SBAD("<a(b)@x>", "'(' in the local part");
	SBAD("<a@>", "empty domain");
	SBAD("a@x", "the address must be enclosed in <>, as in <user@example.org>");
	SBAD("", "no address given (write <user@example.org>)");
	SBAD("<", "nothing after '<'");
	SBAD("<a@x", "missing closing '>'");
	SBAD("<a", "missing closing '>'");
	SBAD("<a@x y>", "a space after the domain, where '>' should end the address");
	SBAD("<a>", "missing @domain (write local@domain)");
	SBAD("<Postmaster>", "missing @domain (write local@domain)");	/* not as a sender */
	SBAD("<@>", "bad source route: empty domain");
}

static void control_bytes(void **state)
{
	(void)state;
	SBAD("<a\rb@x>", "a CR in the local part");
	SBAD("<a\nb@x>", "an LF in the local part");
	SBAD("<a\x01@x>", "control character 0x01 in the local part");
	SBAD("<a\x7f@x>", "control character 0x7f in the local part");
	SBAD("<a@x\r\n>", "a CR after the domain, where '>' should end the address");
	SBAD("<\"a\r\nb\"@x>", "a CR in the local part");
	struct smtp_reply r;
	size_t used;
	assert_int_equal(smtp_path_parse("<a\0b@x>", 7, 0, true, false, false, &path, &used, &r), -1);
	assert_string_equal(r.text, "Bad sender address syntax: a NUL byte in the local part");
}

static void null_and_postmaster(void **state)
{
	(void)state;
	struct smtp_reply r;
	RBAD("<>", "the null address <> is only allowed as a sender");
	assert_int_equal(parse("<Postmaster>", 0, true, &r), 0);
	assert_true(path.postmaster);
	assert_string_equal(path.addr, "");
	assert_string_equal(path.domain, "");
	assert_string_equal(path.local, "Postmaster");
	assert_int_equal(parse("<postMASTER>", 0, true, &r), 0);
	assert_true(path.postmaster);
	assert_int_equal(parse("<postmaster@example.org>", 0, true, &r), 0);
	assert_false(path.postmaster);
	assert_string_equal(path.addr, "postmaster@example.org");
	RBAD("<\"Postmaster\">", "missing @domain (write local@domain)");
	RBAD("<bob>", "missing @domain (write local@domain)");
}

static void source_routes(void **state)
{
	(void)state;
	ok("<@a,@b:u@d>", 0, "u@d", "u");
	ok("<@relay.example:u@d.example>", 0, "u@d.example", "u");
	ok("<@[1.2.3.4]:u@d>", 0, "u@d", "u");
	SBAD("<@a,b:u@d>", "bad source route: each hop is written \"@domain\"");
	SBAD("<@a u@d>", "bad source route: it must end with ':' before the mailbox");
	SBAD("<@a..b:u@d>", "bad source route: empty label in the domain (a dot at its start or "
	     "end, or two dots in a row)");
	SBAD("<@a:>", "empty local part");
}

static void domains_and_literals(void **state)
{
	(void)state;
	ok("<u@[1.2.3.4]>", 0, "u@[1.2.3.4]", "u");
	ok("<u@[IPv6:::1]>", 0, "u@[IPv6:::1]", "u");
	ok("<u@[IPv6:2001:db8::1]>", 0, "u@[IPv6:2001:db8::1]", "u");
	ok("<u@[ipv6:::ffff:1.2.3.4]>", 0, "u@[ipv6:::ffff:1.2.3.4]", "u");
	SBAD("<u@[300.1.1.1]>", "[300.1.1.1] is not a valid IPv4 address: octet 300 is out of range "
	     "0-255");
	SBAD("<u@[1.2.3]>", "[1.2.3] is not a valid IPv4 address: only 3 octets; an IPv4 address "
	     "has 4 (for short forms such as 127.1 see 'inetkit addr aton')");
	SBAD("<u@[::1]>", "address literal [::1] is neither IPv4 nor IPv6: (write [1.2.3.4] or "
	     "[IPv6:2001:db8::1])");
	SBAD("<u@[IPv6:1.2.3.4]>", "[IPv6:1.2.3.4] is not a valid IPv6 address");
	SBAD("<u@[IPv6:fe80::1%eth0]>", "a zone id ('%') is not allowed in an address literal");
	SBAD("<u@[x-tag:foo]>", "address literal [x-tag:foo] is neither IPv4 nor IPv6: (write "
	     "[1.2.3.4] or [IPv6:2001:db8::1])");
	SBAD("<u@[1.2.3.4>", "address literal without its closing ']'");
	SBAD("<u@[]>", "[] is not a valid IPv4 address: empty input");
	SBAD("<u@-a.b>", "a domain label starts or ends with '-'");
	SBAD("<u@a-.b>", "a domain label starts or ends with '-'");
	SBAD("<u@a.b.>", "empty label in the domain (a dot at its start or end, or two dots in a "
	     "row)");
	SBAD("<u@a_b.c>", "'_' in the domain");

	assert_true(smtp_domain_valid("mail.example.org", 16, false));
	assert_true(smtp_domain_valid("[127.0.0.1]", 11, false));
	assert_true(smtp_domain_valid("[IPv6:::1]", 10, false));
	assert_false(smtp_domain_valid("[300.1.1.1]", 11, false));
	assert_false(smtp_domain_valid("", 0, false));
	assert_false(smtp_domain_valid("a b", 3, false));
	assert_false(smtp_domain_valid("a\r\n", 3, false));
	assert_false(smtp_domain_valid("m\xc3\xbcnchen.de", 11, false));
	assert_true(smtp_domain_valid("m\xc3\xbcnchen.de", 11, true));
	assert_false(smtp_domain_valid("m\xc0\xbcnchen.de", 11, true));
}

/* Labels of 63 'd's joined by dots, n octets in all (no dot at the end
 * for the n used here). */
static void make_domain(char *dom, size_t n)
{
	memset(dom, 'd', n);
	for (size_t k = 63; k < n; k += 64)
		dom[k] = '.';
	dom[n] = '\0';
}

static void length_limits(void **state)
{
	(void)state;
	char in[600];
	char want[600];
	struct smtp_reply r;
	/* Local part: 64 octets ok, 65 not. */
	in[0] = '<';
	memset(in + 1, 'l', 64);
	memcpy(in + 65, "@x>", 4);
	char local[65];
	memset(want, 'l', 64);
	memcpy(want + 64, "@x", 3);
	memset(local, 'l', 64);
	local[64] = '\0';
	ok(in, 0, want, local);
	memset(in + 1, 'l', 65);
	memcpy(in + 66, "@x>", 4);
	SBAD(in, "local part longer than 64 octets");
	/* A quoted one counts its quotes. */
	in[1] = '"';
	memset(in + 2, 'q', 62);
	memcpy(in + 64, "\"@x>", 5);
	assert_int_equal(parse(in, 0, false, &r), 0);
	assert_int_equal(strlen(path.local), 62);
	memset(in + 2, 'q', 63);
	memcpy(in + 65, "\"@x>", 5);
	SBAD(in, "local part longer than 64 octets");

	/* Domain: 255 octets in all, labels of 63. */
	char dom[300];
	make_domain(dom, 255);
	assert_true(smtp_domain_valid(dom, 255, false));
	make_domain(dom, 256);
	assert_false(smtp_domain_valid(dom, 256, false));
	make_domain(dom, 127);
	assert_true(smtp_domain_valid(dom, 127, false));
	dom[63] = 'd';				/* a label of 64 */
	assert_false(smtp_domain_valid(dom, 127, false));
	SBAD("<a@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd>",
	     "a domain label is longer than 63 octets");

	/* In a path: a 256-octet domain is named as such; one of 252 with
	 * "<a@" and ">" makes 256 octets, the path limit; 253 is one over. */
	memcpy(in, "<a@", 3);
	make_domain(in + 3, 256);
	memcpy(in + 259, ">", 2);
	SBAD(in, "domain longer than 255 octets");
	make_domain(in + 3, 252);
	memcpy(in + 255, ">", 2);
	assert_int_equal(parse(in, 0, false, &r), 0);
	assert_int_equal(strlen(path.addr), 254);
	make_domain(in + 3, 253);
	memcpy(in + 256, ">", 2);
	SBAD(in, "address longer than 256 octets");
}

static void utf8_paths(void **state)
{
	(void)state;
	const char *in = "<J\xc3\xb6rg@m\xc3\xbcnchen.example>";
	ok(in, UTF8, "J\xc3\xb6rg@m\xc3\xbcnchen.example", "J\xc3\xb6rg");
	assert_true(path.utf8);
	ok("<\"J\xc3\xb6 rg\"@x>", UTF8, "\"J\xc3\xb6 rg\"@x", "J\xc3\xb6 rg");
	ok("<u@M\xc3\xbcNCHEN.example>", UTF8, "u@M\xc3\xbcNCHEN.example", "u");	/* kept as sent */
	bad(in, 0, false, 553, "5.6.7", "Sender address has non-ASCII characters in the local part: "
	    "UTF-8 addresses need the SMTPUTF8 parameter on MAIL FROM (RFC 6531)");
	bad("<u@m\xc3\xbcnchen.example>", 0, true, 553, "5.6.7", "Recipient address has non-ASCII "
	    "characters in the domain: UTF-8 addresses need the SMTPUTF8 parameter on MAIL FROM "
	    "(RFC 6531)");
	const char *malformed = "Bad sender address syntax: malformed UTF-8 in the local part (an "
				"overlong form, a surrogate or a broken sequence)";
	bad("<\xc0\xafx@y>", UTF8, false, 501, "5.1.7", malformed);		/* overlong '/' */
	bad("<\xe0\x80\xaf@y>", UTF8, false, 501, "5.1.7", malformed);
	bad("<\xed\xa0\x80@y>", UTF8, false, 501, "5.1.7", malformed);		/* surrogate */
	bad("<\xc3@y>", UTF8, false, 501, "5.1.7", malformed);
	bad("<\"\xc3\"@y>", UTF8, false, 501, "5.1.7", malformed);
	bad("<u@\xf4\x90\x80\x80>", UTF8, false, 501, "5.1.7", "Bad sender address syntax: malformed "
	    "UTF-8 in the domain (an overlong form, a surrogate or a broken sequence)");
	bad("<\"a\\\xc3\xb6\"@y>", UTF8, false, 501, "5.1.7", "Bad sender address syntax: byte 0xc3 "
	    "after a backslash in the local part (only printable ASCII may be escaped)");
}

/* ---- MAIL and RCPT -------------------------------------------------- */

static struct smtp_mail_args mail;
static struct smtp_rcpt_args rcpt;

static void mail_ok(const char *arg, unsigned flags)
{
	struct smtp_reply r;
	if (smtp_mail_parse(arg, strlen(arg), flags, 1000, &mail, &r) != 0)
		fail_msg("%s: %d %s %s", arg, r.code, r.enh, r.text);
}

static void mail_bad(const char *arg, unsigned flags, int code, const char *enh, const char *text)
{
	struct smtp_reply r;
	assert_int_equal(smtp_mail_parse(arg, strlen(arg), flags, 1000, &mail, &r), -1);
	assert_int_equal(r.code, code);
	assert_string_equal(r.enh, enh);
	assert_string_equal(r.text, text);
}

static void rcpt_ok(const char *arg, unsigned flags)
{
	struct smtp_reply r;
	if (smtp_rcpt_parse(arg, strlen(arg), flags, &rcpt, &r) != 0)
		fail_msg("%s: %d %s %s", arg, r.code, r.enh, r.text);
}

static void rcpt_bad(const char *arg, unsigned flags, int code, const char *enh, const char *text)
{
	struct smtp_reply r;
	assert_int_equal(smtp_rcpt_parse(arg, strlen(arg), flags, &rcpt, &r), -1);
	assert_int_equal(r.code, code);
	assert_string_equal(r.enh, enh);
	assert_string_equal(r.text, text);
}

#define P501(arg, text) mail_bad(arg, DSN, 501, "5.5.4", text)

static void mail_basics(void **state)
{
	(void)state;
	mail_ok("FROM:<a@b.c>", 0);
	assert_string_equal(mail.from.addr, "a@b.c");
	assert_false(mail.size_given);
	assert_int_equal(mail.body, SMTP_BODY_7BIT);
	assert_int_equal(mail.ret, SMTP_RET_UNSET);
	assert_string_equal(mail.envid, "");
	mail_ok("from: <a@b.c>", 0);
	mail_ok("From:<>", 0);
	assert_true(mail.from.null);
	mail_ok("FROM:<a@b.c>   ", 0);
	mail_ok("FROM:<a@b.c>  SIZE=10   BODY=8BITMIME", 0);
	assert_true(mail.size_given);
	assert_int_equal(mail.size, 10);
	mail_bad("<a@b.c>", 0, 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
	mail_bad("FROM <a@b.c>", 0, 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
	mail_bad("", 0, 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
	mail_bad("FROM:", 0, 501, "5.1.7", "Bad sender address syntax: no address given (write "
		 "<user@example.org>)");
	mail_bad("FROM:<a@b.c>SIZE=1", 0, 501, "5.5.2", "Syntax error: 'S' right after the address "
		 "(parameters are separated from it by a space)");
	mail_bad("FROM:<a@b.c>\r\n", 0, 501, "5.5.2", "Syntax error: CR, LF and NUL bytes are not "
		 "allowed in a command");
	struct smtp_reply r;
	assert_int_equal(smtp_mail_parse("FROM:<a@b>\0", 11, 0, 0, &mail, &r), -1);
	assert_string_equal(r.enh, "5.5.2");
}

static void mail_size(void **state)
{
	(void)state;
	mail_ok("FROM:<> SIZE=0", 0);
	assert_true(mail.size_given);
	assert_int_equal(mail.size, 0);
	mail_ok("FROM:<> size=1000", 0);
	assert_int_equal(mail.size, 1000);
	const char *over = "Message size exceeds fixed maximum message size";
	mail_bad("FROM:<> SIZE=1001", 0, 552, "5.3.4", over);
	mail_bad("FROM:<> SIZE=99999999999999999999999", 0, 552, "5.3.4", over);
	mail_bad("FROM:<> SIZE=18446744073709551616", 0, 552, "5.3.4", over);
	struct smtp_reply r;
	/* No limit: any 64-bit size, and the overflow is still over it. */
	const char *max = "FROM:<> SIZE=18446744073709551615";
	assert_int_equal(smtp_mail_parse(max, strlen(max), 0, 0, &mail, &r), 0);
	assert_true(mail.size == UINT64_MAX);
	const char *huge = "FROM:<> SIZE=99999999999999999999999";
	assert_int_equal(smtp_mail_parse(huge, strlen(huge), 0, 0, &mail, &r), -1);
	assert_int_equal(r.code, 552);
	P501("FROM:<> SIZE=-1", "Bad SIZE value '-1': use the size in bytes, digits only");
	P501("FROM:<> SIZE=1k", "Bad SIZE value '1k': use the size in bytes, digits only");
	P501("FROM:<> SIZE=+1", "Bad SIZE value '+1': use the size in bytes, digits only");
	P501("FROM:<> SIZE", "SIZE needs a value: SIZE=<bytes>");
	P501("FROM:<> SIZE=", "SIZE= needs a value");
	P501("FROM:<> SIZE=1 SIZE=1", "SIZE given twice");
}

static void mail_body_and_utf8(void **state)
{
	(void)state;
	mail_ok("FROM:<> BODY=7BIT", 0);
	assert_int_equal(mail.body, SMTP_BODY_7BIT);
	mail_ok("FROM:<> body=8bitmime", 0);
	assert_int_equal(mail.body, SMTP_BODY_8BITMIME);
	mail_ok("FROM:<> BODY=BINARYMIME", SMTP_PARSE_BINARY);
	assert_int_equal(mail.body, SMTP_BODY_BINARYMIME);
	mail_bad("FROM:<> BODY=BINARYMIME", 0, 501, "5.5.4", "BODY=BINARYMIME is not offered here "
		 "(it needs CHUNKING): use 7BIT or 8BITMIME");
	P501("FROM:<> BODY=8BIT", "Bad BODY value '8BIT': use 7BIT or 8BITMIME");
	mail_bad("FROM:<> BODY=QP", SMTP_PARSE_BINARY, 501, "5.5.4", "Bad BODY value 'QP': use 7BIT, "
		 "8BITMIME or BINARYMIME");
	P501("FROM:<> BODY", "BODY needs a value: use 7BIT or 8BITMIME");
	P501("FROM:<> BODY=7BIT BODY=7BIT", "BODY given twice");

	mail_ok("FROM:<J\xc3\xb6rg@x> SMTPUTF8", 0);
	assert_true(mail.smtputf8);
	assert_true(mail.from.utf8);
	mail_ok("FROM:<a@b> smtputf8", 0);
	assert_true(mail.smtputf8);
	assert_false(mail.from.utf8);
	mail_bad("FROM:<J\xc3\xb6rg@x>", 0, 553, "5.6.7", "Sender address has non-ASCII characters: "
		 "UTF-8 addresses need the SMTPUTF8 parameter on MAIL FROM (RFC 6531)");
	mail_bad("FROM:<\xc0\xaf@x> SMTPUTF8", 0, 501, "5.1.7", "Bad sender address syntax: "
		 "malformed UTF-8 in the local part (an overlong form, a surrogate or a broken "
		 "sequence)");
	P501("FROM:<> SMTPUTF8=yes", "SMTPUTF8 takes no value");
	P501("FROM:<> SMTPUTF8 SMTPUTF8", "SMTPUTF8 given twice");
}

static void mail_dsn(void **state)
{
	(void)state;
	mail_ok("FROM:<a@b> RET=FULL ENVID=QQ314159", DSN);
	assert_int_equal(mail.ret, SMTP_RET_FULL);
	assert_string_equal(mail.envid, "QQ314159");
	mail_ok("FROM:<a@b> ret=hdrs envid=a+2Bb+3Dc+20d", DSN);
	assert_int_equal(mail.ret, SMTP_RET_HDRS);
	assert_string_equal(mail.envid, "a+b=c d");
	P501("FROM:<> RET=ALL", "Bad RET value 'ALL': use FULL or HDRS");
	P501("FROM:<> RET", "RET needs a value: RET=FULL or RET=HDRS");
	P501("FROM:<> RET=FULL RET=HDRS", "RET given twice");
	P501("FROM:<> ENVID=a+2", "Bad ENVID value: not valid xtext (RFC 3461 4: printable ASCII, "
	     "with '+' and '=' written +2B and +3D)");
	P501("FROM:<> ENVID=a+ZZ", "Bad ENVID value: not valid xtext (RFC 3461 4: printable ASCII, "
	     "with '+' and '=' written +2B and +3D)");
	P501("FROM:<> ENVID=a+0D+0A", "Bad ENVID value: it decodes to a control character");
	P501("FROM:<> ENVID=a+00", "Bad ENVID value: it decodes to a control character");
	P501("FROM:<> ENVID=a=b", "Bad value for ENVID: '=' is not allowed in a parameter value");
	P501("FROM:<> ENVID=x ENVID=y", "ENVID given twice");
	char arg[200];
	memcpy(arg, "FROM:<> ENVID=", 14);
	memset(arg + 14, 'e', 100);
	arg[114] = '\0';
	mail_ok(arg, DSN);
	assert_int_equal(strlen(mail.envid), 100);
	arg[114] = 'e';
	arg[115] = '\0';
	P501(arg, "ENVID is longer than 100 characters");
	/* DSN not offered: its parameters are unknown. */
	mail_bad("FROM:<> RET=FULL", 0, 555, "5.5.4", "Unsupported MAIL parameter RET (this server "
		 "knows SIZE, BODY, SMTPUTF8 and AUTH)");
}

static void mail_auth_and_unknown(void **state)
{
	(void)state;
	mail_ok("FROM:<a@b> AUTH=<>", 0);
	assert_true(mail.auth_given);
	mail_ok("FROM:<a@b> AUTH=alice@example.org", 0);
	assert_true(mail.auth_given);
	mail_ok("FROM:<a@b> AUTH=a+2Bb@example.org", 0);
	mail_bad("FROM:<a@b> AUTH=alice", 0, 501, "5.5.4", "Bad AUTH value: use AUTH=<> or "
		 "AUTH=user@domain (xtext)");
	mail_bad("FROM:<a@b> AUTH=a+0D@x", 0, 501, "5.5.4", "Bad AUTH value: it decodes to a "
		 "control character");
	mail_bad("FROM:<a@b> AUTH", 0, 501, "5.5.4", "AUTH needs a value: AUTH=<> or "
		 "AUTH=user@domain");
	mail_bad("FROM:<a@b> AUTH=<> AUTH=<>", 0, 501, "5.5.4", "AUTH given twice");
	mail_bad("FROM:<a@b> FOO=bar", DSN, 555, "5.5.4", "Unsupported MAIL parameter FOO (this "
		 "server knows SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH)");
	mail_bad("FROM:<a@b> X-TRACE", DSN, 555, "5.5.4", "Unsupported MAIL parameter X-TRACE (this "
		 "server knows SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH)");
	mail_bad("FROM:<a@b> NOTIFY=NEVER", DSN, 555, "5.5.4", "Unsupported MAIL parameter NOTIFY "
		 "(this server knows SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH)");
	P501("FROM:<a@b> -X=1", "Bad parameter syntax: '-' in a parameter name (write KEYWORD or "
	     "KEYWORD=value)");
	P501("FROM:<a@b> SI_ZE=1", "Bad parameter syntax: '_' in a parameter name (write KEYWORD or "
	     "KEYWORD=value)");
	P501("FROM:<a@b> SIZE=1\t", "Bad value for SIZE: a TAB is not allowed in a parameter value");
	P501("FROM:<a@b> ENVID=\xc3\xa9", "Bad value for ENVID: byte 0xc3 is not allowed in a "
	     "parameter value");
}

static void rcpt_basics(void **state)
{
	(void)state;
	rcpt_ok("TO:<bob@example.org>", DSN);
	assert_string_equal(rcpt.to.addr, "bob@example.org");
	assert_int_equal(rcpt.notify, 0);
	assert_string_equal(rcpt.orcpt, "");
	rcpt_ok("to: <Postmaster>", 0);
	assert_true(rcpt.to.postmaster);
	rcpt_ok("TO:<@hop.example:bob@example.org>", 0);
	assert_string_equal(rcpt.to.addr, "bob@example.org");
	rcpt_bad("<bob@x>", 0, 501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
	rcpt_bad("TO:<>", 0, 501, "5.1.3", "Bad recipient address syntax: the null address <> is "
		 "only allowed as a sender");
	rcpt_bad("TO:<a b@x>", 0, 501, "5.1.3", "Bad recipient address syntax: a space in the local "
		 "part (quote it, as in \"a b\"@example.org, or remove it)");
	rcpt_bad("TO:<j\xc3\xb6rg@x>", DSN, 553, "5.6.7", "Recipient address has non-ASCII characters "
		 "in the local part: UTF-8 addresses need the SMTPUTF8 parameter on MAIL FROM "
		 "(RFC 6531)");
	rcpt_ok("TO:<j\xc3\xb6rg@x>", DSN | UTF8);
	assert_true(rcpt.to.utf8);
	rcpt_bad("TO:<a@x> SIZE=1", DSN, 555, "5.5.4", "Unsupported RCPT parameter SIZE (this server "
		 "knows NOTIFY and ORCPT)");
	rcpt_bad("TO:<a@x> NOTIFY=NEVER", 0, 555, "5.5.4", "Unsupported RCPT parameter NOTIFY (this "
		 "server knows no RCPT parameters)");
	rcpt_bad("TO:<a@x>\n", 0, 501, "5.5.2", "Syntax error: CR, LF and NUL bytes are not allowed "
		 "in a command");
}

#define R501(arg, text) rcpt_bad(arg, DSN, 501, "5.5.4", text)

static void rcpt_notify(void **state)
{
	(void)state;
	rcpt_ok("TO:<a@x> NOTIFY=NEVER", DSN);
	assert_int_equal(rcpt.notify, SMTP_NOTIFY_NEVER);
	rcpt_ok("TO:<a@x> NOTIFY=SUCCESS,FAILURE,DELAY", DSN);
	assert_int_equal(rcpt.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	rcpt_ok("TO:<a@x> notify=delay,failure", DSN);
	assert_int_equal(rcpt.notify, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	const char *use = "use NEVER, or a comma-separated list of SUCCESS, FAILURE and DELAY";
	char want[200];
	snprintf(want, sizeof want, "Bad NOTIFY value 'ALWAYS': %s", use);
	R501("TO:<a@x> NOTIFY=ALWAYS", want);
	R501("TO:<a@x> NOTIFY=NEVER,SUCCESS", "Bad NOTIFY value: NEVER cannot be combined with "
	     "SUCCESS, FAILURE or DELAY");
	R501("TO:<a@x> NOTIFY=SUCCESS,NEVER", "Bad NOTIFY value: NEVER cannot be combined with "
	     "SUCCESS, FAILURE or DELAY");
	R501("TO:<a@x> NOTIFY=SUCCESS,SUCCESS", "Bad NOTIFY value: SUCCESS is listed twice");
	snprintf(want, sizeof want, "Bad NOTIFY value: an empty item in the list; %s", use);
	R501("TO:<a@x> NOTIFY=SUCCESS,", want);
	R501("TO:<a@x> NOTIFY=,DELAY", want);
	R501("TO:<a@x> NOTIFY=SUCCESS,,DELAY", want);
	snprintf(want, sizeof want, "NOTIFY needs a value: %s", use);
	R501("TO:<a@x> NOTIFY", want);
	R501("TO:<a@x> NOTIFY=NEVER NOTIFY=NEVER", "NOTIFY given twice");
}

static void rcpt_orcpt(void **state)
{
	(void)state;
	rcpt_ok("TO:<a@x> ORCPT=rfc822;a@x", DSN);
	assert_string_equal(rcpt.orcpt, "rfc822;a@x");
	rcpt_ok("TO:<a@x> ORCPT=RFC822;a+2Bb@x NOTIFY=FAILURE", DSN);
	assert_string_equal(rcpt.orcpt, "rfc822;a+b@x");
	assert_int_equal(rcpt.notify, SMTP_NOTIFY_FAILURE);
	rcpt_ok("TO:<a@x> ORCPT=utf-8;j\\x{F6}rg@x", DSN);
	assert_string_equal(rcpt.orcpt, "utf-8;j\\x{F6}rg@x");
	R501("TO:<a@x> ORCPT=a@x", "Bad ORCPT value: the address type is missing; use "
	     "ORCPT=rfc822;user@domain (xtext)");
	R501("TO:<a@x> ORCPT=x400;a@x", "Bad ORCPT address type 'x400': use rfc822 or utf-8");
	R501("TO:<a@x> ORCPT=rfc822;", "Bad ORCPT value: the address is empty; use "
	     "ORCPT=rfc822;user@domain (xtext)");
	R501("TO:<a@x> ORCPT=rfc822;a+2", "Bad ORCPT value: not valid xtext (RFC 3461 4: printable "
	     "ASCII, with '+' and '=' written +2B and +3D)");
	R501("TO:<a@x> ORCPT=rfc822;a+0A", "Bad ORCPT value: it decodes to a control character");
	R501("TO:<a@x> ORCPT=rfc822;a ORCPT=rfc822;b", "ORCPT given twice");
	char arg[700];
	int n = snprintf(arg, sizeof arg, "TO:<a@x> ORCPT=rfc822;");
	memset(arg + n, 'o', 493);		/* "rfc822;" and 493: 500 */
	arg[n + 493] = '\0';
	rcpt_ok(arg, DSN);
	assert_int_equal(strlen(rcpt.orcpt), 500);
	arg[n + 493] = 'o';
	arg[n + 494] = '\0';
	R501(arg, "ORCPT is longer than 500 characters");
}

static void xtext(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(smtp_xtext_decode("abc", 3, out, sizeof out), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(smtp_xtext_decode("", 0, out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(smtp_xtext_decode("a+2Bb+3D+20", 11, out, sizeof out), 5);
	assert_string_equal(out, "a+b= ");
	assert_int_equal(smtp_xtext_decode("+2b", 3, out, sizeof out), 1);	/* lower case read */
	assert_int_equal(smtp_xtext_decode("a+2", 3, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("a+", 2, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("+G0", 3, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("a=b", 3, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("a b", 3, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("a\x7f", 2, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("\xc3\xa9", 2, out, sizeof out), -1);
	assert_int_equal(smtp_xtext_decode("abcd", 4, out, 4), -1);	/* no room for the NUL */
	assert_int_equal(smtp_xtext_decode("abc", 3, out, 4), 3);
	assert_int_equal(smtp_xtext_decode("+00", 3, out, 4), 1);	/* bytes, not strings */
	assert_int_equal(out[0], '\0');

	assert_int_equal(smtp_xtext_encode("a+b= c", 6, out, sizeof out), 12);
	assert_string_equal(out, "a+2Bb+3D+20c");
	assert_int_equal(smtp_xtext_encode("\r\n\xff", 3, out, sizeof out), 9);
	assert_string_equal(out, "+0D+0A+FF");
	assert_int_equal(smtp_xtext_encode("a+", 2, out, 4), -1);
	assert_int_equal(smtp_xtext_encode("a+", 2, out, 5), 4);
	/* Round trip of every byte. */
	char all[256];
	char enc[800];
	char dec[257];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	int n = smtp_xtext_encode(all, 256, enc, sizeof enc);
	assert_true(n > 256);
	assert_int_equal(smtp_xtext_decode(enc, (size_t)n, dec, sizeof dec), 256);
	assert_memory_equal(all, dec, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_paths),
		cmocka_unit_test(quoted_local_parts),
		cmocka_unit_test(dot_string_refusals),
		cmocka_unit_test(control_bytes),
		cmocka_unit_test(null_and_postmaster),
		cmocka_unit_test(source_routes),
		cmocka_unit_test(domains_and_literals),
		cmocka_unit_test(length_limits),
		cmocka_unit_test(utf8_paths),
		cmocka_unit_test(mail_basics),
		cmocka_unit_test(mail_size),
		cmocka_unit_test(mail_body_and_utf8),
		cmocka_unit_test(mail_dsn),
		cmocka_unit_test(mail_auth_and_unknown),
		cmocka_unit_test(rcpt_basics),
		cmocka_unit_test(rcpt_notify),
		cmocka_unit_test(rcpt_orcpt),
		cmocka_unit_test(xtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
