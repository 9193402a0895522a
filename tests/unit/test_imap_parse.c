#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "imap/imap_parse.h"

static char err[IMAP_ERR_MAX];

static void literal_lines(void **state)
{
	(void)state;
	uint64_t n = 0;
	bool plus = true;
	const char *l = "a APPEND INBOX {310}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 1);
	assert_int_equal(n, 310);
	assert_false(plus);
	l = "a LOGIN {5+}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 1);
	assert_int_equal(n, 5);
	assert_true(plus);
	l = "a LOGIN {0}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 1);
	assert_int_equal(n, 0);
	l = "a APPEND INBOX {4294967295}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 1);
	assert_int_equal(n, 4294967295u);
	l = "a APPEND INBOX {4294967296}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), -1);
	l = "a APPEND INBOX {99999999999999999999}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), -1);
	l = "a APPEND INBOX {}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), -1);
	l = "a LOGIN \"x {5}\"";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 0);
	l = "a LOGIN \"x\\\" {5}";	/* an escaped quote keeps the string open */
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 0);
	l = "a LOGIN \"x\" {5}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 1);
	l = "a NOOP 5}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 0);
	l = "}";
	assert_int_equal(imap_line_literal(l, strlen(l), &n, &plus), 0);
}

static struct imap_args args;

static void parse_ok(const char *s)
{
	if (imap_args_parse(s, strlen(s), &args, err) < 0)
		fail_msg("%s: %s", s, err);
}

static void parse_bad(const char *s, const char *why)
{
	assert_int_equal(imap_args_parse(s, strlen(s), &args, err), -1);
	assert_string_equal(err, why);
	assert_null(args.mem);
}

static void arg_tree(void **state)
{
	(void)state;
	parse_ok("INBOX \"a \\\"b\\\\\" {4}\r\nx\r\ny (1 (2 NIL) ()) nil");
	assert_int_equal(args.n, 5);
	assert_int_equal(args.args[0].type, IMAP_ARG_ATOM);
	assert_string_equal(args.args[0].str, "INBOX");
	assert_int_equal(args.args[1].type, IMAP_ARG_QUOTED);
	assert_string_equal(args.args[1].str, "a \"b\\");
	assert_int_equal(args.args[2].type, IMAP_ARG_LITERAL);
	assert_int_equal(args.args[2].len, 4);
	assert_memory_equal(args.args[2].str, "x\r\ny", 4);
	const struct imap_arg *l = &args.args[3];
	assert_int_equal(l->type, IMAP_ARG_LIST);
	assert_int_equal(l->n, 3);
	assert_string_equal(l->list[0].str, "1");
	assert_int_equal(l->list[1].type, IMAP_ARG_LIST);
	assert_int_equal(l->list[1].n, 2);
	assert_int_equal(l->list[1].list[1].type, IMAP_ARG_NIL);
	assert_int_equal(l->list[2].type, IMAP_ARG_LIST);
	assert_int_equal(l->list[2].n, 0);
	assert_int_equal(args.args[4].type, IMAP_ARG_NIL);
	const char *s = NULL;
	assert_true(imap_arg_astring(&args.args[4], &s));
	assert_string_equal(s, "nil");
	imap_args_free(&args);

	parse_ok("1:* (UID BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> FLAGS)");
	assert_int_equal(args.n, 2);
	assert_string_equal(args.args[1].list[1].str,
			    "BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100>");
	imap_args_free(&args);

	parse_ok("{5+}\r\nhello {2}\r\n   x");
	assert_string_equal(args.args[0].str, "hello");
	assert_string_equal(args.args[1].str, "  ");
	assert_string_equal(args.args[2].str, "x");
	imap_args_free(&args);

	parse_ok("");
	assert_int_equal(args.n, 0);
	imap_args_free(&args);

	parse_bad("(a b", "Missing ')'");
	parse_bad("a)", "Unexpected ')'");
	parse_bad("\"abc", "Missing '\"'");
	parse_bad("\"a\\bc\"", "Bad escape in quoted string");
	parse_bad("\"a\rb\"", "Quoted string holds CR, LF or NUL");
	parse_bad("{5}\r\nabc", "Literal shorter than its size");
	parse_bad("{5}abcde", "Literal size not followed by CRLF");
	parse_bad("{4294967296}\r\n", "Bad literal size");
	parse_bad("{x}\r\n", "Bad literal size");
	parse_bad("a\"b\"", "Missing space between arguments");
	parse_bad("{1}\r\n a", "Missing space between arguments");
	parse_bad("BODY[HEADER", "Missing ']'");
	parse_bad("a \x01", "Unexpected character");
	char deep[64] = "";
	memset(deep, '(', IMAP_DEPTH_MAX);
	parse_bad(deep, "Lists nested too deep");
	char nul[] = "{3}\r\na\0b";
	assert_int_equal(imap_args_parse(nul, sizeof nul - 1, &args, err), -1);
	assert_string_equal(err, "Literal holds a NUL byte");
}

static void many_args(void **state)
{
	(void)state;
	static char buf[3 * IMAP_ARGS_MAX + 10];
	size_t n = 0;
	for (int i = 0; i < IMAP_ARGS_MAX + 1; i++) {
		buf[n++] = 'a';
		buf[n++] = ' ';
	}
	assert_int_equal(imap_args_parse(buf, n, &args, err), -1);
	assert_string_equal(err, "Too many arguments");
}

static void seqsets(void **state)
{
	(void)state;
	struct imap_seqset set;
	const char *s = "1,3:5,*,10:*,9:7";
	assert_int_equal(imap_seqset_parse(s, strlen(s), &set, err), 0);
	assert_int_equal(set.n, 5);
	assert_int_equal(set.r[1].lo, 3);
	assert_int_equal(set.r[1].hi, 5);
	assert_int_equal(set.r[2].lo, IMAP_SEQ_STAR);
	assert_int_equal(set.r[4].lo, 7);
	assert_int_equal(set.r[4].hi, 9);
	assert_true(imap_seqset_has(&set, 1, 20));
	assert_false(imap_seqset_has(&set, 2, 9));
	assert_true(imap_seqset_has(&set, 4, 20));
	assert_true(imap_seqset_has(&set, 20, 20));
	assert_true(imap_seqset_has(&set, 15, 20));
	assert_true(imap_seqset_has(&set, 8, 20));
	/* "10:*" with the largest being 6 is "6:10": 6 matches (RFC 3501 6.4.8). */
	s = "10:*";
	assert_int_equal(imap_seqset_parse(s, strlen(s), &set, err), 0);
	assert_true(imap_seqset_has(&set, 6, 6));
	assert_false(imap_seqset_has(&set, 5, 6));
	s = "*";
	assert_int_equal(imap_seqset_parse(s, strlen(s), &set, err), 0);
	assert_false(imap_seqset_has(&set, 0, 0));
	assert_true(imap_seqset_has(&set, 4, 4));
	assert_int_equal(imap_seqset_parse("4294967294", 10, &set, err), 0);
	const char *bad[] = {"", "0", "1,", ",1", "1:", "1::2", "a", "1 2", "4294967295",
			     "01", "1,,2", "-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (imap_seqset_parse(bad[i], strlen(bad[i]), &set, err) == 0)
			fail_msg("accepted '%s'", bad[i]);
		assert_string_equal(err, "Invalid sequence set");
	}
	assert_int_equal(imap_seqset_parse("$", 1, &set, err), 0);
	assert_true(set.dollar);
	static char longset[IMAP_SEQ_MAX * 2 + 4];
	size_t n = 0;
	for (int i = 0; i <= IMAP_SEQ_MAX; i++) {
		longset[n++] = '1';
		longset[n++] = ',';
	}
	assert_int_equal(imap_seqset_parse(longset, n - 1, &set, err), -1);
	assert_string_equal(err, "Sequence set too long");
}

static void section_ok(const char *s, const char *spec, size_t nparts,
		       enum imap_section_kind kind, bool peek)
{
	struct imap_section sec;
	if (imap_section_parse(s, strlen(s), &sec, err) < 0)
		fail_msg("%s: %s", s, err);
	assert_string_equal(sec.spec, spec);
	assert_int_equal(sec.nparts, nparts);
	assert_int_equal(sec.kind, kind);
	assert_int_equal(sec.peek, peek);
}

static void section_bad(const char *s, const char *why)
{
	struct imap_section sec;
	if (imap_section_parse(s, strlen(s), &sec, err) == 0)
		fail_msg("accepted '%s'", s);
	assert_string_equal(err, why);
}

static void sections(void **state)
{
	(void)state;
	section_ok("BODY[]", "", 0, IMAP_SECTION_ALL, false);
	section_ok("body.peek[]", "", 0, IMAP_SECTION_ALL, true);
	section_ok("BODY[header]", "HEADER", 0, IMAP_SECTION_HEADER, false);
	section_ok("BODY[TEXT]", "TEXT", 0, IMAP_SECTION_TEXT, false);
	section_ok("BODY[1]", "1", 1, IMAP_SECTION_ALL, false);
	section_ok("BODY[1.2.3]", "1.2.3", 3, IMAP_SECTION_ALL, false);
	section_ok("BODY[1.2.MIME]", "1.2.MIME", 2, IMAP_SECTION_MIME, false);
	section_ok("BODY[2.HEADER]", "2.HEADER", 1, IMAP_SECTION_HEADER, false);
	section_ok("BODY.PEEK[HEADER.FIELDS (From to \"Subject\")]",
		   "HEADER.FIELDS (FROM TO SUBJECT)", 0, IMAP_SECTION_HEADER_FIELDS, true);
	section_ok("BODY[HEADER.FIELDS.NOT (X-A)]", "HEADER.FIELDS.NOT (X-A)", 0,
		   IMAP_SECTION_HEADER_FIELDS_NOT, false);

	struct imap_section sec;
	const char *s = "BODY[HEADER.FIELDS (From to)]<10.200>";
	assert_int_equal(imap_section_parse(s, strlen(s), &sec, err), 0);
	assert_true(sec.partial);
	assert_int_equal(sec.offset, 10);
	assert_int_equal(sec.length, 200);
	assert_int_equal(sec.nfields, 2);
	assert_string_equal(sec.fields[0], "From");
	assert_string_equal(sec.fields[1], "to");
	s = "BODY[1.2]<0.4294967295>";
	assert_int_equal(imap_section_parse(s, strlen(s), &sec, err), 0);
	assert_int_equal(sec.part[0], 1);
	assert_int_equal(sec.part[1], 2);
	assert_int_equal(sec.length, 4294967295u);

	section_bad("BODY[MIME]", "MIME needs a part number");
	section_bad("BODY[0]", "Bad section part number");
	section_bad("BODY[1.]", "Bad section");
	section_bad("BODY[1HEADER]", "Bad section");
	section_bad("BODY[FOO]", "Bad section");
	section_bad("BODY[HEADER.FIELDS]", "Expected a list of header field names");
	section_bad("BODY[HEADER.FIELDS ()]", "Empty header field name");
	section_bad("BODY[HEADER.FIELDS (a:b)]", "Bad header field name");
	section_bad("BODY[]<1>", "Bad partial <offset.length>");
	section_bad("BODY[]<1.0>", "Bad partial <offset.length>");
	section_bad("BODY[]<1.4294967296>", "Bad partial <offset.length>");
	section_bad("BODY[]x", "Junk after section");
	section_bad("BINARY[]", "Unknown FETCH attribute");
}

static int fetch(const char *s, struct imap_fetch *f)
{
	parse_ok(s);
	int rc = imap_fetch_parse(args.args, args.n, f, err);
	imap_args_free(&args);
	return rc;
}

static void fetch_atts(void **state)
{
	(void)state;
	static struct imap_fetch f;
	assert_int_equal(fetch("FAST", &f), 0);
	assert_int_equal(f.items,
			 IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE);
	assert_int_equal(fetch("full", &f), 0);
	assert_true(f.items & IMAP_FETCH_BODY);
	assert_true(f.items & IMAP_FETCH_ENVELOPE);
	assert_int_equal(fetch("(UID RFC822.SIZE BODY.PEEK[] BODY[1.MIME] BODYSTRUCTURE)", &f),
			 0);
	assert_int_equal(f.items,
			 IMAP_FETCH_UID | IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_BODYSTRUCTURE);
	assert_int_equal(f.nbodies, 2);
	assert_true(f.bodies[0].peek);
	assert_int_equal(f.bodies[1].kind, IMAP_SECTION_MIME);
	assert_int_equal(fetch("(FLAGS) (CHANGEDSINCE 12345)", &f), 0);
	assert_true(f.changedsince_given);
	assert_int_equal(f.changedsince, 12345);
	assert_true(f.items & IMAP_FETCH_MODSEQ);
	assert_int_equal(fetch("(FLAGS) (CHANGEDSINCE 1 VANISHED)", &f), 0);
	assert_true(f.vanished);

	assert_int_equal(fetch("(FLAGS ALL)", &f), -1);
	assert_string_equal(err, "A macro (ALL, FAST, FULL) cannot be in a list");
	assert_int_equal(fetch("(FLAGS FOO)", &f), -1);
	assert_string_equal(err, "Unknown FETCH attribute");
	assert_int_equal(fetch("()", &f), -1);
	assert_string_equal(err, "Empty FETCH attribute list");
	assert_int_equal(fetch("FLAGS UID", &f), -1);
	assert_string_equal(err, "Junk after FETCH attributes");
	assert_int_equal(fetch("FLAGS (VANISHED)", &f), -1);
	assert_string_equal(err, "VANISHED needs CHANGEDSINCE");
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE x)", &f), -1);
	assert_string_equal(err, "Bad FETCH modifier");
	assert_int_equal(fetch("\"FLAGS\"", &f), -1);
	assert_string_equal(err, "Invalid FETCH attribute");
}

static int store(const char *s, struct imap_store *st)
{
	parse_ok(s);
	int rc = imap_store_parse(args.args, args.n, st, err);
	if (rc < 0)
		imap_args_free(&args);
	return rc;
}

static void store_args(void **state)
{
	(void)state;
	struct imap_store st;
	assert_int_equal(store("+FLAGS.SILENT (\\Seen \\deleted $Junk)", &st), 0);
	assert_int_equal(st.op, IMAP_STORE_ADD);
	assert_true(st.silent);
	assert_int_equal(st.nflags, 3);
	assert_string_equal(st.flags[1], "\\deleted");
	assert_string_equal(st.flags[2], "$Junk");
	imap_args_free(&args);
	assert_int_equal(store("-flags \\Flagged \\Draft", &st), 0);
	assert_int_equal(st.op, IMAP_STORE_REMOVE);
	assert_false(st.silent);
	assert_int_equal(st.nflags, 2);
	imap_args_free(&args);
	assert_int_equal(store("FLAGS ()", &st), 0);
	assert_int_equal(st.op, IMAP_STORE_SET);
	assert_int_equal(st.nflags, 0);
	imap_args_free(&args);
	assert_int_equal(store("(UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)", &st), 0);
	assert_true(st.unchangedsince_given);
	assert_int_equal(st.unchangedsince, 320162338);
	imap_args_free(&args);

	assert_int_equal(store("+FLAGS (\\Recent)", &st), -1);
	assert_string_equal(err, "Invalid flag");
	assert_int_equal(store("+FLAGS (\\Foo)", &st), -1);
	assert_string_equal(err, "Invalid flag");
	assert_int_equal(store("+FLAGS (a%b)", &st), -1);
	assert_string_equal(err, "Invalid flag");
	assert_int_equal(store("FLAGS", &st), -1);
	assert_string_equal(err, "Expected [+-]FLAGS[.SILENT] and flags");
	assert_int_equal(store("*FLAGS (\\Seen)", &st), -1);
	assert_string_equal(err, "Expected [+-]FLAGS[.SILENT]");
	assert_int_equal(store("FLAGS (\\Seen) x", &st), -1);
	assert_string_equal(err, "Junk after the flag list");
	assert_int_equal(store("(UNCHANGEDSINCE) FLAGS (\\Seen)", &st), -1);
	assert_string_equal(err, "Bad STORE modifier");
}

static struct imap_search_cmd sc;

static int search(const char *s)
{
	parse_ok(s);
	int rc = imap_search_parse(args.args, args.n, &sc, err);
	if (rc < 0)
		imap_args_free(&args);
	return rc;
}

static void search_done(void)
{
	imap_search_free(&sc);
	imap_args_free(&args);
}

static void search_keys(void **state)
{
	(void)state;
	assert_int_equal(search("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\""), 0);
	const struct imap_search *k = sc.root.kids;
	assert_int_equal(k->op, IMAP_SK_FLAG);
	assert_string_equal(k->str, "\\Flagged");
	k = k->next;
	assert_int_equal(k->op, IMAP_SK_SINCE);
	assert_int_equal(k->num, 8797);	/* 1994-02-01 */
	k = k->next;
	assert_int_equal(k->op, IMAP_SK_NOT);
	assert_int_equal(k->kids->op, IMAP_SK_HEADER);
	assert_string_equal(k->kids->str, "From");
	assert_string_equal(k->kids->str2, "Smith");
	assert_null(k->next);
	search_done();

	assert_int_equal(search("CHARSET UTF-8 OR (SUBJECT x UID 1:*) 2,4 HEADER X-Y {3}\r\nz\xc3\xa9"),
			 0);
	assert_string_equal(sc.charset, "UTF-8");
	k = sc.root.kids;
	assert_int_equal(k->op, IMAP_SK_OR);
	assert_int_equal(k->kids->op, IMAP_SK_AND);
	assert_int_equal(k->kids->kids->next->op, IMAP_SK_UID);
	assert_int_equal(k->kids->next->op, IMAP_SK_SEQSET);
	assert_int_equal(k->kids->next->set->n, 2);
	k = k->next;
	assert_int_equal(k->op, IMAP_SK_HEADER);
	assert_string_equal(k->str, "X-Y");
	assert_string_equal(k->str2, "z\xc3\xa9");
	search_done();

	assert_int_equal(search("RETURN (MIN COUNT) LARGER 100 SMALLER 5000 KEYWORD $Junk MODSEQ 7"),
			 0);
	assert_true(sc.esearch);
	assert_int_equal(sc.ret, IMAP_ESEARCH_MIN | IMAP_ESEARCH_COUNT);
	assert_int_equal(sc.root.kids->num, 100);
	assert_int_equal(sc.root.kids->next->next->next->op, IMAP_SK_MODSEQ);
	assert_int_equal(sc.root.kids->next->next->next->num, 7);
	search_done();
	assert_int_equal(search("RETURN () ALL"), 0);
	assert_int_equal(sc.ret, IMAP_ESEARCH_ALL);
	search_done();
	assert_int_equal(search("MODSEQ \"/flags/\\\\draft\" all 620162338"), 0);
	assert_int_equal(sc.root.kids->num, 620162338);
	search_done();

	const struct {
		const char *in, *why;
	} bad[] = {
		{"", "Missing search key"},
		{"FOO", "Unknown search key"},
		{"FROM", "Missing search argument"},
		{"OR SEEN", "Missing search key"},
		{"NOT", "Missing search key"},
		{"SINCE 31-Feb-2020", "Invalid search date"},
		{"SINCE 1-Foo-2020", "Invalid search date"},
		{"LARGER x", "Invalid search number"},
		{"LARGER 4294967296", "Invalid search number"},
		{"UID", "Missing UID set"},
		{"UID 0", "Invalid sequence set"},
		{"KEYWORD \\Seen", "Invalid keyword"},
		{"()", "Missing search key"},
		{"$", "$ (SEARCHRES) is not supported"},
		{"RETURN (FOO) ALL", "Unknown SEARCH RETURN option"},
		{"\"ALL\"", "Unknown search key"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (search(bad[i].in) == 0)
			fail_msg("accepted '%s'", bad[i].in);
		if (strcmp(err, bad[i].why) != 0)
			fail_msg("'%s': '%s', want '%s'", bad[i].in, err, bad[i].why);
	}
	/* Bounded: more keys than the node budget. */
	static char many[IMAP_SEARCH_MAX * 5 + 10];
	size_t n = 0;
	for (int i = 0; i <= IMAP_SEARCH_MAX; i++) {
		memcpy(many + n, "SEEN ", 5);
		n += 5;
	}
	many[n] = '\0';
	assert_int_equal(search(many), -1);
	assert_string_equal(err, "Too many search keys");
	char deep[400] = "";
	for (int i = 0; i < 70; i++)
		memcpy(deep + 4 * i, "NOT ", 4);
	memcpy(deep + 280, "SEEN", 5);
	assert_int_equal(search(deep), -1);
	assert_string_equal(err, "Search keys nested too deep");
}

static void dates(void **state)
{
	(void)state;
	int64_t d, t;
	assert_int_equal(imap_date_parse("1-Jan-1970", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(imap_date_parse("29-feb-2024", &d), 0);
	assert_int_equal(imap_date_parse("29-Feb-2023", &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-70", &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-1970x", &d), -1);
	assert_int_equal(imap_datetime_parse("17-Jul-1996 02:44:25 -0700", &t), 0);
	assert_int_equal(t, 837596665);
	assert_int_equal(imap_datetime_parse(" 7-Jul-1996 02:44:25 +0000", &t), 0);
	assert_int_equal(imap_datetime_parse("17-Jul-1996 24:44:25 -0700", &t), -1);
	assert_int_equal(imap_datetime_parse("17-Jul-1996 02:44:25", &t), -1);
}

static void string_forms(void **state)
{
	(void)state;
	assert_int_equal(imap_string_form("INBOX", 5, true), 0);
	assert_int_equal(imap_string_form("INBOX", 5, false), 1);
	assert_int_equal(imap_string_form("NIL", 3, true), 1);
	assert_int_equal(imap_string_form("", 0, true), 1);
	assert_int_equal(imap_string_form("a b", 3, true), 1);
	assert_int_equal(imap_string_form("a*", 2, true), 1);
	assert_int_equal(imap_string_form("a\r\n", 3, true), 2);
	assert_int_equal(imap_string_form("caf\xc3\xa9", 5, true), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_lines), cmocka_unit_test(arg_tree),
		cmocka_unit_test(many_args),     cmocka_unit_test(seqsets),
		cmocka_unit_test(sections),      cmocka_unit_test(fetch_atts),
		cmocka_unit_test(store_args),    cmocka_unit_test(search_keys),
		cmocka_unit_test(dates),         cmocka_unit_test(string_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
