#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ftpd/ftpd_ascii.h"

/* Convert s whole, and in every two-piece split, and compare. */
static void check_to_wire(const char *in, const char *want)
{
	size_t n = strlen(in);
	char out[256];
	for (size_t cut = 0; cut <= n; cut++) {
		struct ftpd_ascii st;
		ftpd_ascii_init(&st);
		size_t w = ftpd_ascii_to_wire(&st, in, cut, out);
		w += ftpd_ascii_to_wire(&st, in + cut, n - cut, out + w);
		assert_true(w <= 2 * n);
		out[w] = '\0';
		assert_string_equal(out, want);
	}
}

static void check_from_wire(const char *in, const char *want)
{
	size_t n = strlen(in);
	char out[256];
	for (size_t cut = 0; cut <= n; cut++) {
		struct ftpd_ascii st;
		ftpd_ascii_init(&st);
		size_t w = ftpd_ascii_from_wire(&st, in, cut, out);
		assert_true(w <= cut + 1);
		size_t w2 = ftpd_ascii_from_wire(&st, in + cut, n - cut, out + w);
		assert_true(w2 <= n - cut + 1);
		w += w2;
		w += ftpd_ascii_from_wire_end(&st, out + w);
		out[w] = '\0';
		assert_string_equal(out, want);
	}
}

static void sending(void **state)
{
	(void)state;
	check_to_wire("", "");
	check_to_wire("a\nb\n", "a\r\nb\r\n");
	check_to_wire("\n\n", "\r\n\r\n");
	check_to_wire("dos\r\nline\r\n", "dos\r\nline\r\n");	/* no CR CR LF */
	check_to_wire("lone\rcr", "lone\rcr");
	check_to_wire("\r\r\n", "\r\r\n");
}

static void receiving(void **state)
{
	(void)state;
	check_from_wire("", "");
	check_from_wire("a\r\nb\r\n", "a\nb\n");
	check_from_wire("\r\n\r\n", "\n\n");
	check_from_wire("unix\nline\n", "unix\nline\n");
	check_from_wire("lone\rcr", "lone\rcr");
	check_from_wire("end\r", "end\r");		/* a final CR is data */
	check_from_wire("\r\r\n", "\r\n");
	check_from_wire("\r\r\r", "\r\r\r");
}

static void byte_by_byte(void **state)
{
	(void)state;
	const char *wire = "x\r\ny\r\r\nz\r";
	struct ftpd_ascii st;
	ftpd_ascii_init(&st);
	char out[64];
	size_t w = 0;
	for (size_t i = 0; i < strlen(wire); i++)
		w += ftpd_ascii_from_wire(&st, wire + i, 1, out + w);
	w += ftpd_ascii_from_wire_end(&st, out + w);
	out[w] = '\0';
	assert_string_equal(out, "x\ny\r\nz\r");
	/* Round trip of a Unix text file. */
	const char *text = "one\ntwo\n\nthree";
	char wirebuf[64], back[64];
	ftpd_ascii_init(&st);
	size_t n = ftpd_ascii_to_wire(&st, text, strlen(text), wirebuf);
	ftpd_ascii_init(&st);
	size_t m = ftpd_ascii_from_wire(&st, wirebuf, n, back);
	m += ftpd_ascii_from_wire_end(&st, back + m);
	back[m] = '\0';
	assert_string_equal(back, text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sending),
		cmocka_unit_test(receiving),
		cmocka_unit_test(byte_by_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
