/* The numeric reply rule (core/reply_num): reading, as the FTP and SMTP
 * clients do, and writing, as servers do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/reply_num.h"

/* Feed lines; returns the index of the line that completed the reply, or
 * -1 if none did, -2 on a malformed line. */
static int feed(struct reply_num *p, const char *const *lines, const char *proto, ik_err *e)
{
	reply_num_init(p);
	for (int i = 0; lines[i] != NULL; i++) {
		int k = reply_num_line(p, lines[i], strlen(lines[i]), proto, e);
		if (k < 0)
			return -2;
		if (k > 0)
			return i;
	}
	return -1;
}

static void end_rule(void **state)
{
	(void)state;
	struct reply_num r;
	ik_err e;
	const char *one[] = {"220 Welcome", NULL};
	assert_int_equal(feed(&r, one, "FTP", &e), 0);
	assert_int_equal(r.code, 220);
	const char *bare[] = {"200", NULL};
	assert_int_equal(feed(&r, bare, "FTP", &e), 0);
	const char *multi[] = {"211-Features:", " MDTM", "211-not the end", "212 other code",
			       "211", NULL};
	assert_int_equal(feed(&r, multi, "FTP", &e), 4);
	assert_int_equal(r.code, 211);
	const char *multi2[] = {"230-Hello", "230 Login ok", "ignored", NULL};
	assert_int_equal(feed(&r, multi2, "FTP", &e), 1);
	const char *open_ended[] = {"220-a", "b", "c", NULL};
	assert_int_equal(feed(&r, open_ended, "FTP", &e), -1);
	const char *bad[] = {"hello", NULL};
	assert_int_equal(feed(&r, bad, "FTP", &e), -2);
	assert_string_equal(e.msg, "malformed FTP reply 'hello' (expected a 3-digit code from 100 to 599)");
	const char *bad2[] = {"220x", NULL};
	assert_int_equal(feed(&r, bad2, "FTP", &e), -2);
	const char *bad3[] = {"600 no", NULL};
	assert_int_equal(feed(&r, bad3, "FTP", &e), -2);
	const char *bad4[] = {"22", NULL};
	assert_int_equal(feed(&r, bad4, "FTP", &e), -2);
	const char *esc[] = {"\x1b[31m evil", NULL};
	assert_int_equal(feed(&r, esc, "FTP", &e), -2);
	assert_null(strchr(e.msg, '\x1b'));
}

static void smtp_form(void **state)
{
	(void)state;
	struct reply_num r;
	ik_err e;
	/* RFC 5321 4.2.1: every line carries the code. */
	const char *ehlo[] = {"250-mx.example.org greets you", "250-PIPELINING",
			      "250-SIZE 10240000", "250 8BITMIME", NULL};
	assert_int_equal(feed(&r, ehlo, "SMTP", &e), 3);
	assert_int_equal(r.code, 250);
	const char *bad[] = {"+OK POP3 ready", NULL};
	assert_int_equal(feed(&r, bad, "SMTP", &e), -2);
	assert_string_equal(e.msg, "malformed SMTP reply '+OK POP3 ready' (expected a 3-digit "
			    "code from 100 to 599)");
	/* A long line is cut in the message, with "...". */
	const char *longl[] = {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL};
	assert_int_equal(feed(&r, longl, "SMTP", &e), -2);
	assert_non_null(strstr(e.msg, "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"));
	assert_int_equal(reply_num_code("354 go", 6), 354);
	assert_int_equal(reply_num_code("054", 3), -1);
	assert_int_equal(reply_num_code("35", 2), -1);
}

static void writer(void **state)
{
	(void)state;
	struct sbuf out;
	sbuf_init(&out, 4096);
	assert_int_equal(reply_num_write(&out, 250, "mx.example.org\nPIPELINING\r\nSIZE 100"), 0);
	assert_string_equal(sbuf_cstr(&out),
			    "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
	sbuf_reset(&out);
	assert_int_equal(reply_num_write(&out, 220, ""), 0);
	assert_string_equal(sbuf_cstr(&out), "220 \r\n");
	sbuf_reset(&out);
	/* A trailing line end does not make an empty last line. */
	assert_int_equal(reply_num_write(&out, 214, "a\nb\n"), 0);
	assert_string_equal(sbuf_cstr(&out), "214-a\r\n214 b\r\n");
	sbuf_reset(&out);
	/* A CR inside a line cannot end it. */
	assert_int_equal(reply_num_write_line(&out, 550, true, "a\rb", 3), 0);
	assert_string_equal(sbuf_cstr(&out), "550 a b\r\n");
	assert_int_equal(reply_num_write_line(&out, 99, true, "x", 1), -1);
	sbuf_reset(&out);
	/* The code alone, for a line the protocol finishes itself. */
	assert_int_equal(reply_num_write_code(&out, 257, true), 0);
	assert_int_equal(reply_num_write_code(&out, 211, false), 0);
	assert_string_equal(sbuf_cstr(&out), "257 211-");
	assert_int_equal(reply_num_write_code(&out, 600, true), -1);
	assert_int_equal(out.len, 8);
	sbuf_reset(&out);
	/* Long text is cut to the line limit. */
	char big[3000];
	memset(big, 'y', sizeof big);
	assert_int_equal(reply_num_write_line(&out, 500, true, big, sizeof big), 0);
	assert_int_equal(out.len, REPLY_NUM_LINE_MAX);
	assert_string_equal(sbuf_cstr(&out) + REPLY_NUM_LINE_MAX - 2, "\r\n");
	sbuf_free(&out);
	/* Full: nothing half written. */
	struct sbuf small;
	sbuf_init(&small, 20);
	assert_int_equal(reply_num_write(&small, 250, "first\nsecond line is long"), -1);
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
}

/* What the writer writes, the reader reads back as one reply. */
static void round_trip(void **state)
{
	(void)state;
	const char *texts[] = {"one", "a\nb\nc", "250 looks like an end\nlast", "x\r\n\r\ny", ""};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		struct sbuf out;
		sbuf_init(&out, 4096);
		assert_int_equal(reply_num_write(&out, 250, texts[t]), 0);
		struct reply_num p;
		reply_num_init(&p);
		const char *s = sbuf_cstr(&out);
		int done = 0;
		size_t lines = 0;
		while (*s != '\0') {
			const char *crlf = strstr(s, "\r\n");
			assert_non_null(crlf);
			assert_int_equal(done, 0);
			done = reply_num_line(&p, s, (size_t)(crlf - s), "SMTP", NULL);
			assert_true(done >= 0);
			lines++;
			s = crlf + 2;
		}
		assert_int_equal(done, 1);
		assert_int_equal(p.code, 250);
		sbuf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(end_rule),
		cmocka_unit_test(smtp_form),
		cmocka_unit_test(writer),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
