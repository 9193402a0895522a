/* Dot-stuffing (core/dotstuff): the sending and receiving halves, whole
 * and cut into chunks at every place, and each other's inverse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/dotstuff.h"

/* Stuff s in chunks of `chunk` bytes (0: all at once) and end it. */
static char *stuff(const char *s, size_t n, size_t chunk, size_t *outn)
{
	struct dot_stuffer st;
	dotstuff_stuff_init(&st);
	char *out = malloc(3 * n + DOTSTUFF_END_MAX + 1);
	size_t k = 0, i = 0;
	if (chunk == 0)
		chunk = n;
	while (i < n) {
		size_t c = n - i < chunk ? n - i : chunk;
		size_t olen;
		size_t used = dotstuff_stuff(&st, s + i, c, out + k, 3 * c, &olen);
		assert_int_equal(used, c);
		i += used;
		k += olen;
	}
	k += dotstuff_end(&st, out + k);
	out[k] = '\0';
	*outn = k;
	return out;
}

/* Unstuff s in chunks; returns the body and how much of s was consumed. */
static char *unstuff(const char *s, size_t n, size_t chunk, bool lenient, size_t *outn,
		     size_t *consumed, struct dot_unstuffer *u)
{
	dotstuff_unstuff_init(u, lenient);
	char *out = malloc(n + 2);
	size_t k = 0, i = 0;
	if (chunk == 0)
		chunk = n;
	while (i < n && !u->done) {
		size_t c = n - i < chunk ? n - i : chunk;
		size_t olen;
		size_t used = dotstuff_unstuff(u, s + i, c, out + k, &olen);
		assert_true(olen <= c + 1);
		i += used;
		k += olen;
		if (used < c)
			assert_true(u->done);
	}
	out[k] = '\0';
	*outn = k;
	*consumed = i;
	return out;
}

static void stuffing(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"hello\r\nworld\r\n", "hello\r\nworld\r\n.\r\n"},
		{"", ".\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.\r\n..b\r\n", "a\r\n..\r\n...b\r\n.\r\n"},
		/* a Maildir file's LF line ends, and no final line end */
		{"a\n.b\nc", "a\r\n..b\r\nc\r\n.\r\n"},
		/* bare CR: never sent bare */
		{"a\rb\r", "a\r\nb\r\n.\r\n"},
		{"a\r.\r\n", "a\r\n..\r\n.\r\n"},
		/* "\n.\n" cannot reach the wire as an early end */
		{"x\n.\ny", "x\r\n..\r\ny\r\n.\r\n"},
		{"mid.dle\r\n", "mid.dle\r\n.\r\n"},
	};
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		size_t n = strlen(cases[t].in);
		for (size_t chunk = 0; chunk <= n; chunk++) {
			size_t k;
			char *o = stuff(cases[t].in, n, chunk, &k);
			assert_string_equal(o, cases[t].out);
			free(o);
		}
	}
	/* Too little room: no byte taken; 3 bytes always take one. */
	struct dot_stuffer st;
	dotstuff_stuff_init(&st);
	char out[3];
	size_t olen;
	assert_int_equal(dotstuff_stuff(&st, ".", 1, out, 2, &olen), 0);
	assert_int_equal(olen, 0);
	assert_int_equal(dotstuff_stuff(&st, ".", 1, out, 3, &olen), 1);
	assert_int_equal(olen, 2);
}

/* BDAT (RFC 3030): line ends made CR LF, dots left alone, no end line. */
static void crlf_only(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"a\n.b\n", "a\r\n.b\r\n"},
		{".\n", ".\r\n"},
		{"x\n.\ny", "x\r\n.\r\ny\r\n"},
		{"a\rb\r\n", "a\r\nb\r\n"},
		{"", ""},
	};
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		size_t n = strlen(cases[t].in);
		for (size_t chunk = 1; chunk <= n + 1; chunk++) {
			struct dot_stuffer st;
			dotstuff_stuff_init(&st);
			st.no_dots = true;
			char out[64];
			size_t k = 0, i = 0;
			while (i < n) {
				size_t c = n - i < chunk ? n - i : chunk;
				size_t olen;
				i += dotstuff_stuff(&st, cases[t].in + i, c, out + k, 3 * c, &olen);
				k += olen;
			}
			k += dotstuff_end_line(&st, out + k);
			out[k] = '\0';
			assert_string_equal(out, cases[t].out);
		}
	}
}

static void unstuffing(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		size_t rest;	/* bytes left after the end */
		uint64_t bare_cr, bare_lf;
	} cases[] = {
		{"hello\r\nworld\r\n.\r\n", "hello\r\nworld\r\n", 0, 0, 0},
		{".\r\n", "", 0, 0, 0},
		{"..\r\n...b\r\n.\r\nNEXT\r\n", ".\r\n..b\r\n", 6, 0, 0},
		/* a single leading dot before other text is removed too */
		{".x\r\n.\r\n", "x\r\n", 0, 0, 0},
		/* strict: "\n.\n" and "\r.\r" are no end */
		{"a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", 0, 0, 2},
		{"a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", 0, 2, 0},
		{"a\r\n.\rx\r\n.\r\n", "a\r\n\rx\r\n", 0, 1, 0},
		{"a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", 0, 1, 0},
	};
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		size_t n = strlen(cases[t].in);
		for (size_t chunk = 0; chunk <= n; chunk++) {
			size_t k, used;
			struct dot_unstuffer u;
			char *o = unstuff(cases[t].in, n, chunk, false, &k, &used, &u);
			assert_true(u.done);
			assert_int_equal(k, strlen(cases[t].out));
			assert_memory_equal(o, cases[t].out, k);
			assert_int_equal(n - used, cases[t].rest);
			assert_int_equal(u.bare_cr, cases[t].bare_cr);
			assert_int_equal(u.bare_lf, cases[t].bare_lf);
			free(o);
		}
	}
	/* No end yet: everything consumed, not done. */
	size_t k, used;
	struct dot_unstuffer u;
	char *o = unstuff("abc\r\n.", 6, 0, false, &k, &used, &u);
	assert_false(u.done);
	assert_int_equal(used, 6);
	assert_string_equal(o, "abc\r\n");
	free(o);
	/* A lenient reader takes LF line ends. */
	o = unstuff("a\n..b\n.\nrest", 12, 0, true, &k, &used, &u);
	assert_true(u.done);
	assert_string_equal(o, "a\n.b\n");
	assert_int_equal(used, 8);
	assert_int_equal(u.bare_lf, 3);
	free(o);
}

/* The zero-copy scanner both readers are built on: runs as they stand,
 * a leading dot or the end line dropped, undecided bytes left in place. */
static void scanning(void **state)
{
	(void)state;
	struct dot_unstuffer u;
	size_t run;
	dotstuff_unstuff_init(&u, false);
	assert_int_equal(dotstuff_scan(&u, "a\0\r\n..c\r\n", 9, &run), 5);
	assert_int_equal(run, 4);	/* "a\0\r\n", then the stuffed dot */
	assert_int_equal(dotstuff_scan(&u, ".c\r\n.\r", 6, &run), 4);
	assert_int_equal(run, 4);	/* ".\r" left: the end or stuffing? */
	assert_int_equal(dotstuff_scan(&u, ".\r", 2, &run), 0);
	assert_int_equal(dotstuff_scan(&u, ".\r\nNEXT", 7, &run), 3);
	assert_int_equal(run, 0);
	assert_true(u.done);
	assert_int_equal(dotstuff_scan(&u, "NEXT", 4, &run), 0);
	assert_int_equal(u.nul, 1);
	assert_int_equal(u.bare_cr + u.bare_lf, 0);
	/* A lenient reader: a bare LF ends a line, and "." LF the body. */
	dotstuff_unstuff_init(&u, true);
	assert_int_equal(dotstuff_scan(&u, "a\n.\nb", 5, &run), 4);
	assert_int_equal(run, 2);
	assert_true(u.done);
	assert_int_equal(u.bare_lf, 2);
}

/* unstuff(stuff(x)) is x with every line end made CR LF (and one added
 * at the end when missing). */
static void inverse(void **state)
{
	(void)state;
	const char alphabet[] = {'.', '\r', '\n', 'a'};
	srand(11);
	for (int round = 0; round < 2000; round++) {
		char in[24];
		size_t n = (size_t)(rand() % (int)sizeof in);
		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rand() % 4];
		/* the expected body: line ends normalised */
		char want[80];
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (in[i] == '\r' || in[i] == '\n') {
				want[w++] = '\r';
				want[w++] = '\n';
				if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
					i++;
			} else {
				want[w++] = in[i];
			}
		}
		if (w > 0 && want[w - 1] != '\n') {
			want[w++] = '\r';
			want[w++] = '\n';
		}
		size_t sn;
		char *s = stuff(in, n, (size_t)(rand() % 5), &sn);
		size_t k, used;
		struct dot_unstuffer u;
		char *o = unstuff(s, sn, (size_t)(rand() % 5), false, &k, &used, &u);
		assert_true(u.done);
		assert_int_equal(used, sn);
		assert_int_equal(u.bare_cr + u.bare_lf, 0);
		assert_int_equal(k, w);
		assert_memory_equal(o, want, w);
		free(s);
		free(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stuffing),
		cmocka_unit_test(crlf_only),
		cmocka_unit_test(unstuffing),
		cmocka_unit_test(scanning),
		cmocka_unit_test(inverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
