/* libFuzzer harness for the DATA body scanner (core/session_data.c),
 * checked against a plain reference written from RFC 5321 4.1.1.4 and
 * 4.5.2 that sees the whole input at once: the body ends at the first
 * CRLF "." CRLF (or a "." CRLF at the very start), lines are split at
 * CRLF and lose a leading dot, a CR not before LF is a bare CR, a LF not
 * after CR a bare LF. The first byte picks the limit, the second how the
 * rest arrives (chunk size). Checked: the same end, the same body (cut at
 * the limit), the same size, flags and counts; never more delivered than
 * the limit; at most 2 bytes left undecided; progress with 3 or more. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref {
	size_t end;		/* input bytes up to and with the marker; 0: no marker */
	char *body;
	size_t len;
	uint64_t bare_cr, bare_lf, nul;
};

static void reference(const char *in, size_t n, struct ref *r)
{
	memset(r, 0, sizeof *r);
	size_t text;		/* the body's raw bytes: in[0, text) */
	if (n >= 3 && memcmp(in, ".\r\n", 3) == 0) {
		text = 0;
		r->end = 3;
	} else {
		size_t k = 0;
		while (k + 5 <= n && memcmp(in + k, "\r\n.\r\n", 5) != 0)
			k++;
		if (k + 5 > n)
			return;
		text = k + 2;
		r->end = k + 5;
	}
	r->body = malloc(text + 1);
	CHECK(r->body != NULL);
	bool line_start = true;
	for (size_t i = 0; i < text; i++) {
		char c = in[i];
		if (c == '\r' && (i + 1 >= text || in[i + 1] != '\n'))
			r->bare_cr++;
		if (c == '\n' && (i == 0 || in[i - 1] != '\r'))
			r->bare_lf++;
		if (c == '\0')
			r->nul++;
		if (!(line_start && c == '.'))
			r->body[r->len++] = c;
		line_start = c == '\n' && i > 0 && in[i - 1] == '\r';
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint64_t max = data[0] == 0 ? 0 : 1 + (uint64_t)(data[0] - 1) * 3;
	size_t step = 1 + data[1] % 64;
	const char *in = (const char *)data + 2;
	size_t n = size - 2;

	struct ref r;
	reference(in, n, &r);

	struct session_datascan ds = {.max = max};
	char *out = malloc(n + 1);
	char buf[64 + 3];
	CHECK(out != NULL);
	size_t nout = 0, have = 0, pos = 0, gone = 0, end = 0;
	while (end == 0 && pos < n) {
		size_t add = n - pos < step ? n - pos : step;
		CHECK(have + add <= sizeof buf);
		memcpy(buf + have, in + pos, add);
		have += add;
		pos += add;
		for (int rounds = 0; end == 0; rounds++) {
			CHECK(rounds <= 64 * 4);
			size_t used = 12345, chunk = 12345;
			enum session_data_status st = session_data_scan(&ds, buf, have, &used, &chunk);
			CHECK(used <= have && chunk <= used);
			memcpy(out + nout, buf, chunk);
			nout += chunk;
			CHECK(max == 0 || nout <= max);
			memmove(buf, buf + used, have - used);
			have -= used;
			gone += used;
			if (st == SESSION_DATA_END)
				end = gone;
			else if (used == 0)
				break;
		}
		if (end == 0)
			CHECK(have <= 2);	/* undecided bytes only */
	}

	CHECK(end == r.end);
	if (end > 0) {
		size_t want = max > 0 && r.len > max ? (size_t)max : r.len;
		CHECK(nout == want);
		CHECK(nout == 0 || memcmp(out, r.body, nout) == 0);
		CHECK(ds.body.size == r.len);
		CHECK(ds.body.bare_cr == r.bare_cr && ds.body.bare_lf == r.bare_lf &&
		      ds.body.nul == r.nul);
		unsigned flags = (max > 0 && r.len > max ? SESSION_BODY_TOO_BIG : 0) |
				 (r.bare_cr ? SESSION_BODY_BARE_CR : 0) |
				 (r.bare_lf ? SESSION_BODY_BARE_LF : 0) |
				 (r.nul ? SESSION_BODY_NUL : 0);
		CHECK(ds.body.flags == flags);
	}
	free(out);
	free(r.body);
	return 0;
}
