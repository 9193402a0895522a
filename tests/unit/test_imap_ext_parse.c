/* Unit tests for the parsers of the IMAP extensions: MIME header fields as
 * BODYSTRUCTURE shows them (imap_parse_mime.c: raw case, comments,
 * RFC 2231 pieces, bad input), literal8 "~{n}" (RFC 6855 APPEND UTF8) and
 * mailbox names in modified UTF-7 / UTF-8 (imap_parse_utf7.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "imap/imap_parse.h"

static struct imap_mime_hdr h;

static void parse_ct(const char *s)
{
	if (imap_mime_hdr_parse(s, strlen(s), true, &h) < 0)
		fail_msg("could not parse %s", s);
}

static void content_type_as_written(void **state)
{
	(void)state;
	parse_ct("TEXT/Plain; CharSet=\"ISO-8859-1\"; format=flowed (a comment)");
	assert_string_equal(h.type, "TEXT");
	assert_string_equal(h.subtype, "Plain");
	assert_int_equal(h.n, 2);
	assert_string_equal(h.p[0].name, "CharSet");
	assert_string_equal(h.p[0].value, "ISO-8859-1");
	assert_string_equal(h.p[1].name, "format");
	assert_string_equal(h.p[1].value, "flowed");
	imap_mime_hdr_free(&h);
	parse_ct(" (c) multipart / mixed ;boundary=\"a \\\"q\\\" b\" ; ; x=1");
	assert_string_equal(h.type, "multipart");
	assert_string_equal(h.subtype, "mixed");
	assert_int_equal(h.n, 2);
	assert_string_equal(h.p[0].value, "a \"q\" b");
	assert_string_equal(h.p[1].name, "x");
	imap_mime_hdr_free(&h);
	/* encoded-words stay as sent */
	parse_ct("application/octet-stream; name=\"=?UTF-8?B?w6l0w6kudHh0?=\"");
	assert_string_equal(h.p[0].value, "=?UTF-8?B?w6l0w6kudHh0?=");
	imap_mime_hdr_free(&h);
	parse_ct("text/plain; name==?UTF-8?Q?a=20b?=");
	assert_string_equal(h.p[0].value, "=?UTF-8?Q?a=20b?=");
	imap_mime_hdr_free(&h);
}

static void rfc2231_pieces_are_joined(void **state)
{
	(void)state;
	const char *s = "attachment; size=3; filename*1*=%C3%A9; filename*0*=UTF-8''%C3%A9t; "
			"filename*2=.pdf";
	assert_int_equal(imap_mime_hdr_parse(s, strlen(s), false, &h), 0);
	assert_string_equal(h.type, "attachment");
	assert_null(h.subtype);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.p[0].name, "size");
	assert_string_equal(h.p[1].name, "filename*");
	assert_string_equal(h.p[1].value, "UTF-8''%C3%A9t%C3%A9.pdf");
	imap_mime_hdr_free(&h);
	s = "attachment; name*0=\"a \"; name*1=\"b\"";
	assert_int_equal(imap_mime_hdr_parse(s, strlen(s), false, &h), 0);
	assert_string_equal(h.p[0].name, "name");
	assert_string_equal(h.p[0].value, "a b");
	imap_mime_hdr_free(&h);
	/* a single extended parameter is kept as it is */
	parse_ct("application/pdf; name*=UTF-8''%C3%A9.pdf");
	assert_string_equal(h.p[0].name, "name*");
	assert_string_equal(h.p[0].value, "UTF-8''%C3%A9.pdf");
	imap_mime_hdr_free(&h);
}

static void bad_fields(void **state)
{
	(void)state;
	assert_int_equal(imap_mime_hdr_parse("", 0, true, &h), -1);
	/* a type without a subtype is kept, the subtype empty (as Dovecot) */
	parse_ct("garbage");
	assert_string_equal(h.type, "garbage");
	assert_string_equal(h.subtype, "");
	imap_mime_hdr_free(&h);
	parse_ct("text/ ; a=b");
	assert_string_equal(h.subtype, "");
	assert_int_equal(h.n, 1);
	imap_mime_hdr_free(&h);
	assert_int_equal(imap_mime_hdr_parse("/plain", 6, true, &h), -1);
	assert_int_equal(imap_mime_hdr_parse("(only a comment", 15, false, &h), -1);
	/* a bad parameter ends the list; what came before stays */
	parse_ct("text/plain; charset=utf-8; =x; y=z");
	assert_int_equal(h.n, 1);
	imap_mime_hdr_free(&h);
	parse_ct("text/plain; a=\"unterminated");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.p[0].value, "unterminated");
	imap_mime_hdr_free(&h);
	/* more parameters than kept: the first IMAP_MIME_PARAMS_MAX */
	char big[4096] = "text/plain";
	size_t used = strlen(big);
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(big + used, sizeof big - used, "; p%d=%d", i, i);
	parse_ct(big);
	assert_int_equal(h.n, IMAP_MIME_PARAMS_MAX);
	imap_mime_hdr_free(&h);
}

static void languages(void **state)
{
	(void)state;
	const char *tags[4];
	char buf[64];
	size_t n;
	const char *s = "en, de (German) ,fr";
	assert_int_equal(imap_mime_lang_parse(s, strlen(s), tags, 4, &n, buf, sizeof buf), 0);
	assert_int_equal(n, 3);
	assert_string_equal(tags[0], "en");
	assert_string_equal(tags[1], "de");
	assert_string_equal(tags[2], "fr");
	s = "a,b,c,d,e";
	assert_int_equal(imap_mime_lang_parse(s, strlen(s), tags, 4, &n, buf, sizeof buf), -1);
}

static void literal8(void **state)
{
	(void)state;
	struct imap_args a;
	char err[IMAP_ERR_MAX];
	const char *s = "INBOX UTF8 (~{3+}\r\nab\xc3)";
	assert_int_equal(imap_args_parse(s, strlen(s), &a, err), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.args[2].type, IMAP_ARG_LIST);
	assert_int_equal(a.args[2].list[0].type, IMAP_ARG_LITERAL);
	assert_true(a.args[2].list[0].lit8);
	assert_int_equal(a.args[2].list[0].len, 3);
	imap_args_free(&a);
	s = "INBOX {2}\r\nab";
	assert_int_equal(imap_args_parse(s, strlen(s), &a, err), 0);
	assert_false(a.args[1].lit8);
	imap_args_free(&a);
	/* "~" alone is an atom; "~{" needs a size */
	s = "~ x";
	assert_int_equal(imap_args_parse(s, strlen(s), &a, err), 0);
	assert_string_equal(a.args[0].str, "~");
	imap_args_free(&a);
	s = "~{x}";
	assert_int_equal(imap_args_parse(s, strlen(s), &a, err), -1);
	assert_string_equal(err, "Bad literal size");
}

static void utf7_names(void **state)
{
	(void)state;
	char out[256], back[256];
	static const char *const pairs[][2] = {
		{"INBOX", "INBOX"},
		{"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
		{"A&B", "A&-B"},
		{"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"},	/* RFC 3501 5.1.3's example */
		{"\xf0\x9f\x98\x80", "&2D3eAA-"},	/* a surrogate pair */
		{"\xc3\xa9 \xc3\xa9", "&AOk- &AOk-"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		assert_int_equal(imap_utf8_to_utf7(pairs[i][0], out, sizeof out), 0);
		assert_string_equal(out, pairs[i][1]);
		assert_int_equal(imap_utf7_to_utf8(out, back, sizeof back), 0);
		assert_string_equal(back, pairs[i][0]);
	}
	/* not modified UTF-7: unterminated, encoded ASCII, adjacent runs,
	 * bad padding, lone surrogates, 8-bit bytes */
	static const char *const bad7[] = {"&AOk", "&AEE-", "&AOk-&AOk-", "&AOl-", "&2D0-",
					   "&-&", "\xc3\xa9", "&,-"};
	for (size_t i = 0; i < sizeof bad7 / sizeof bad7[0]; i++)
		assert_int_equal(imap_utf7_to_utf8(bad7[i], out, sizeof out), -1);
	/* not UTF-8: overlong, surrogate, truncated, control */
	static const char *const bad8[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe5\x8f", "a\x01"};
	for (size_t i = 0; i < sizeof bad8 / sizeof bad8[0]; i++)
		assert_int_equal(imap_utf8_to_utf7(bad8[i], out, sizeof out), -1);
	/* too small an output */
	assert_int_equal(imap_utf8_to_utf7("Entw\xc3\xbcrfe", out, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(content_type_as_written),
		cmocka_unit_test(rfc2231_pieces_are_joined),
		cmocka_unit_test(bad_fields),
		cmocka_unit_test(languages),
		cmocka_unit_test(literal8),
		cmocka_unit_test(utf7_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
