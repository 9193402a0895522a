/* libFuzzer harness for the numeric reply rule (core/reply_num.c), as the
 * FTP and SMTP clients read it: the input fed line by line; and the writer,
 * whose output must read back as one reply.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a completed reply has a code from 100 to 599, and its first line
 *    carries that code;
 *  - a refused line always comes with a message, free of control bytes;
 *  - what reply_num_write writes from any text (the input) is read back as
 *    exactly one reply with the code written, every line ending in CR LF
 *    and none longer than REPLY_NUM_LINE_MAX. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reply_num.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_reply_num: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed_lines(const char *s, size_t n)
{
	struct reply_num r;
	reply_num_init(&r);
	size_t start = 0;
	bool first = true;
	int first_code = -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && s[start + len - 1] == '\r')
			len--;
		ik_err e = {{0}};
		int k = reply_num_line(&r, s + start, len, "FTP", &e);
		if (k < 0) {
			CHECK(e.msg[0] != '\0');
			for (const char *p = e.msg; *p; p++)
				CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
			reply_num_init(&r);
			first = true;
		} else {
			if (first)
				first_code = r.code;
			first = false;
			if (k > 0) {
				CHECK(r.code >= 100 && r.code <= 599);
				CHECK(r.code == first_code);
				reply_num_init(&r);
				first = true;
			}
		}
		start = i + 1;
	}
}

static void write_and_read_back(const char *text, int code)
{
	struct sbuf out;
	sbuf_init(&out, 1 << 20);
	if (reply_num_write(&out, code, text) < 0) {
		CHECK(out.len == 0);
		sbuf_free(&out);
		return;
	}
	struct reply_num p;
	reply_num_init(&p);
	const char *s = sbuf_cstr(&out);
	const char *end = s + out.len;
	int done = 0;
	while (s < end) {
		const char *lf = memchr(s, '\n', (size_t)(end - s));
		CHECK(lf != NULL && lf > s && lf[-1] == '\r');
		size_t len = (size_t)(lf - s) - 1;
		CHECK(len + 2 <= REPLY_NUM_LINE_MAX);
		CHECK(memchr(s, '\r', len) == NULL);
		CHECK(done == 0);	/* nothing after the end */
		done = reply_num_line(&p, s, len, "SMTP", NULL);
		CHECK(done >= 0);
		s = lf + 1;
	}
	CHECK(done == 1 && p.code == code);
	sbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	feed_lines(s, size);
	write_and_read_back(s, 100 + (size > 0 ? data[0] : 0) % 500);
	free(s);
	return 0;
}
