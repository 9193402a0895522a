/* libFuzzer harness for the client core's reply engine (core/client_reply.c)
 * as a hostile server drives it: the input is everything the server sends,
 * read through a socketpair; the first byte picks, reply after reply, the
 * expectation (line, numeric, dot-terminated, tagged, the dialect's hook)
 * and whether bodies go to a sink or to memory. The test dialect asks for
 * a literal whenever a line ends in "{n}".
 *
 * Checked, beyond "no crash, no sanitizer report": every failure has a
 * message; reply text stays within max_reply and free of control bytes;
 * body and literal bytes never pass their limit and are all accounted for;
 * a literal is never over max_literal. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/client.h"
#include "lib/str.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

#define MAX_REPLY 4096
#define MAX_LITERAL 1024
#define SINK_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_line(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	(void)ctx;
	if (len > 2 && line[len - 1] == '}') {
		size_t open = len - 1;
		while (open > 0 && line[open] != '{')
			open--;
		char num[24];
		uint64_t n;
		if (line[open] == '{' && len - open - 2 < sizeof num) {
			memcpy(num, line + open + 1, len - open - 2);
			num[len - open - 2] = '\0';
			if (str_to_u64(num, UINT64_MAX, &n) == 0)
				client_reply_literal(r, n);
		}
	}
	if (len > 0 && line[0] == '!')
		return ik_err_set(e, "refused by the dialect");
	r->code = len > 0 ? (unsigned char)line[0] : 0;
	return len >= 2 && line[0] == 'O' && line[1] == 'K';
}

static const struct client_dialect fz = {
	.name = "fuzz", .label = "FUZZ", .default_expect = CLIENT_EXPECT_HOOK,
	.reply_line = fz_line,
};

struct counter {
	uint64_t bytes;
	int open;
};

static int cnt_write(void *arg, const void *p, size_t n, ik_err *e)
{
	(void)p;
	(void)e;
	((struct counter *)arg)->bytes += n;
	return 0;
}

static int cnt_begin(void *arg, uint64_t size, ik_err *e)
{
	(void)e;
	struct counter *c = arg;
	CHECK(c->open == 0);
	CHECK(size == CLIENT_SINK_SIZE_UNKNOWN || size <= MAX_LITERAL);
	c->open = 1;
	return 0;
}

static int cnt_end(void *arg, ik_err *e)
{
	(void)e;
	struct counter *c = arg;
	CHECK(c->open == 1);
	c->open = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 48 * 1024)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	int big = 256 * 1024;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	size_t off = 1;
	while (off < size) {
		ssize_t w = write(sv[1], data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(sv[1], SHUT_WR);

	struct client_opts o;
	client_opts_default(&o);
	o.max_line = 256;
	o.max_reply = MAX_REPLY;
	o.max_literal = MAX_LITERAL;
	o.reply_timeout_ms = 2000;
	struct client *c = client_new(&fz, NULL, &o);
	ik_err e = {{0}};
	CHECK(c != NULL);
	CHECK(client_conn_adopt(client_connection(c), sv[0], &e) == 0);
	struct client_reply r;
	client_reply_init(&r);
	struct counter cnt = {0};
	struct client_sink sink = {.write = cnt_write, .begin = cnt_begin, .end = cnt_end,
				   .arg = &cnt, .max = SINK_MAX};
	for (unsigned i = 0; i < 256; i++) {
		unsigned pick = (data[0] >> (i % 8)) + i;
		struct client_call call = {
			.expect = (enum client_expect)(1 + pick % 5),
			.sink = (pick & 8) ? &sink : NULL,
		};
		cnt.bytes = 0;
		int k;
		if (call.expect == CLIENT_EXPECT_TAGGED && i % 2 == 0)
			k = client_send_call(c, &call, "NOOP", NULL, &e);
		else
			k = 0, client_expect_next(c, &call);
		if (k == 0) {
			e.msg[0] = '\0';
			k = client_read_reply(c, &r, &e);
		}
		if (k < 0) {
			CHECK(e.msg[0] != '\0');
			break;
		}
		CHECK(r.text.len <= MAX_REPLY);
		for (size_t j = 0; j < r.text.len; j++)
			CHECK(r.text.data[j] == '\n' || (unsigned char)r.text.data[j] >= 0x20);
		if (call.sink != NULL) {
			CHECK(r.body_len == cnt.bytes && r.body_len <= SINK_MAX && r.body.len == 0);
			CHECK(cnt.open == 0);
		} else {
			CHECK(r.body_len == r.body.len && r.body_len <= MAX_REPLY);
		}
	}
	client_reply_free(&r);
	client_free(c);
	close(sv[1]);
	return 0;
}
