/* libFuzzer harness for dot-stuffing (core/dotstuff.c). The first byte
 * picks the chunk sizes and whether bare LF ends a line; the rest is the
 * data, cut into chunks as the network would deliver it.
 *
 * Checked: the unstuffer never writes more than a chunk + 1 bytes, always
 * makes progress until the end line, never consumes past it, and gives the
 * same body however the input is cut; stuffing any data and unstuffing the
 * result gives the data back with every line end made CR LF, ends exactly
 * at the end line, and meets no bare CR or LF; stuffing without dots
 * (BDAT) gives exactly the data with CR LF line ends. */
#include <stdlib.h>
#include <string.h>

#include "core/dotstuff.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Unstuff in chunks of `chunk`; returns the body length, *used the input
 * consumed. out has room for n + 1. */
static size_t unstuff(const char *in, size_t n, size_t chunk, bool lenient, char *out,
		      size_t *used, struct dot_unstuffer *u)
{
	dotstuff_unstuff_init(u, lenient);
	size_t i = 0, k = 0;
	while (i < n && !u->done) {
		size_t c = n - i < chunk ? n - i : chunk;
		size_t olen;
		size_t took = dotstuff_unstuff(u, in + i, c, out + k, &olen);
		CHECK(took <= c && olen <= c + 1);
		CHECK(took == c || u->done);
		i += took;
		k += olen;
	}
	*used = i;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 16)
		return 0;
	size_t chunk = 1 + data[0] % 17;
	bool lenient = data[0] & 0x80;
	const char *in = (const char *)data + 1;
	size_t n = size - 1;

	/* Unstuffing arbitrary input, cut two ways. */
	char *a = malloc(n + 2), *b = malloc(n + 2);
	struct dot_unstuffer ua, ub;
	size_t used_a, used_b;
	size_t la = unstuff(in, n, chunk, lenient, a, &used_a, &ua);
	size_t lb = unstuff(in, n, n + 1, lenient, b, &used_b, &ub);
	CHECK(la == lb && used_a == used_b && ua.done == ub.done);
	CHECK(memcmp(a, b, la) == 0);
	CHECK(ua.bare_cr == ub.bare_cr && ua.bare_lf == ub.bare_lf);
	CHECK(ua.done || used_a == n);
	free(a);
	free(b);

	/* Stuffing, then unstuffing: the data back. */
	char *s = malloc(3 * n + DOTSTUFF_END_MAX);
	struct dot_stuffer st;
	dotstuff_stuff_init(&st);
	size_t sn = 0, i = 0;
	while (i < n) {
		size_t c = n - i < chunk ? n - i : chunk;
		size_t olen;
		size_t took = dotstuff_stuff(&st, in + i, c, s + sn, 3 * c, &olen);
		CHECK(took == c);
		i += took;
		sn += olen;
	}
	sn += dotstuff_end(&st, s + sn);
	char *want = malloc(2 * n + 2);
	size_t w = 0;
	for (size_t j = 0; j < n; j++) {
		if (in[j] == '\r' || in[j] == '\n') {
			want[w++] = '\r';
			want[w++] = '\n';
			if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
				j++;
		} else {
			want[w++] = in[j];
		}
	}
	if (w > 0 && want[w - 1] != '\n') {
		want[w++] = '\r';
		want[w++] = '\n';
	}
	char *back = malloc(sn + 1);
	struct dot_unstuffer u;
	size_t used;
	size_t lback = unstuff(s, sn, chunk, false, back, &used, &u);
	CHECK(u.done && used == sn);
	CHECK(u.bare_cr == 0 && u.bare_lf == 0);
	CHECK(lback == w && memcmp(back, want, w) == 0);

	/* Line ends only (a BDAT chunk): exactly the data with CR LF line
	 * ends, however it is cut. */
	char *r = malloc(3 * n + 2);
	dotstuff_stuff_init(&st);
	st.no_dots = true;
	size_t rn = 0;
	for (i = 0; i < n;) {
		size_t c = n - i < chunk ? n - i : chunk;
		size_t olen;
		i += dotstuff_stuff(&st, in + i, c, r + rn, 3 * c, &olen);
		rn += olen;
	}
	rn += dotstuff_end_line(&st, r + rn);
	CHECK(rn == w && memcmp(r, want, w) == 0);
	free(r);
	free(s);
	free(want);
	free(back);
	return 0;
}
