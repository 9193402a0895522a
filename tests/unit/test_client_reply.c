/* The client core's reply expectations against a scripted peer speaking
 * POP3, IMAP and SMTP: one line, dot-terminated bodies, tagged completion,
 * literals, body sinks, the per-call secret flag and the dialect's
 * per-connection context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "core/client.h"
#include "lib/str.h"

#include "fake_peer.h"

/* What the test dialects keep per connection: proof that hooks get it. */
struct dctx {
	int lines;
};

/* POP3 (RFC 1939): "+OK" = 1, "-ERR" = 0; after +OK a DOT command's body
 * follows. */
static int pop3_line(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	struct dctx *d = ctx;
	d->lines++;
	if (len >= 3 && memcmp(line, "+OK", 3) == 0) {
		r->code = 1;
		return 0;
	}
	if (len >= 4 && memcmp(line, "-ERR", 4) == 0) {
		r->code = 0;
		return 1;
	}
	return ik_err_set(e, "not a POP3 status line");
}

static const struct client_dialect pop3 = {
	.name = "pop3", .label = "POP3", .default_expect = CLIENT_EXPECT_LINE,
	.reply_line = pop3_line,
};

/* IMAP (RFC 3501): a line ending in {n} announces a literal; the tagged
 * line says OK (1), NO or BAD (0). */
static int imap_line(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	(void)e;
	struct dctx *d = ctx;
	d->lines++;
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
	size_t t = strlen(r->tag);
	if (!r->segment && t > 0 && len > t + 3 && memcmp(line, r->tag, t) == 0)
		r->code = memcmp(line + t + 1, "OK", 2) == 0;
	return 0;
}

static const struct client_dialect imap = {
	.name = "imap", .label = "IMAP", .default_expect = CLIENT_EXPECT_TAGGED,
	.reply_line = imap_line,
};

static const struct client_dialect smtp = {
	.name = "smtp", .label = "SMTP", .default_expect = CLIENT_EXPECT_NUMERIC,
};

static struct client *open_client(struct fake *f, const struct client_dialect *d, void *ctx,
				  FILE *trace)
{
	struct client_opts o;
	client_opts_default(&o);
	o.trace = trace;
	struct client *c = client_new(d, ctx, &o);
	ik_err e;
	assert_int_equal(client_connect(c, "127.0.0.1", f->port, &e), 0);
	return c;
}

static void pop3_dialogue(void **state)
{
	(void)state;
	static const char script[] =
		"+OK POP3 ready\r\n"
		"+OK\r\n"
		"+OK logged in\r\n"
		"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"
		"-ERR no such message\r\n"
		"+OK 34 octets\r\n..dot line\r\nSubject: x\r\n\r\nbody\r\n..\r\n.\r\n"
		"+OK bye\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	char *tbuf = NULL;
	size_t tlen = 0;
	FILE *trace = open_memstream(&tbuf, &tlen);
	struct dctx d = {0};
	struct client *c = open_client(&f, &pop3, &d, trace);
	assert_ptr_equal(client_dialect_ctx(c), &d);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	/* one line each */
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_string_equal(client_reply_text(&r), "+OK POP3 ready");
	assert_int_equal(r.code, 1);
	assert_int_equal(client_command(c, "USER", "bob", &r, &e), 0);
	struct client_call secret = {.secret = true};
	assert_int_equal(client_call(c, &secret, "PASS", "hunter2", &r, &e), 0);
	assert_string_equal(client_reply_text(&r), "+OK logged in");
	/* dot-terminated */
	struct client_call dot = {.expect = CLIENT_EXPECT_DOT};
	assert_int_equal(client_call(c, &dot, "LIST", NULL, &r, &e), 0);
	assert_int_equal(r.code, 1);
	assert_string_equal(client_reply_text(&r), "+OK 2 messages");
	size_t blen;
	const char *body = client_reply_body(&r, &blen);
	assert_int_equal(blen, 14);
	assert_string_equal(body, "1 120\r\n2 200\r\n");
	/* -ERR: no body follows */
	assert_int_equal(client_call(c, &dot, "RETR", "9", &r, &e), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.body_len, 0);
	/* dot-unstuffed */
	assert_int_equal(client_call(c, &dot, "RETR", "1", &r, &e), 0);
	body = client_reply_body(&r, &blen);
	assert_string_equal(body, ".dot line\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
	assert_int_equal(blen, 34);
	/* the expectation went back to one line */
	assert_int_equal(client_command(c, "QUIT", NULL, &r, &e), 0);
	assert_string_equal(client_reply_text(&r), "+OK bye");
	assert_int_equal(d.lines, 7);
	client_free(c);
	fake_stop(&f);
	fclose(trace);
	assert_string_equal(f.got, "USER bob\r\nPASS hunter2\r\nLIST\r\nRETR 9\r\nRETR 1\r\nQUIT\r\n");
	assert_non_null(strstr(tbuf, "> PASS ****\n"));
	assert_null(strstr(tbuf, "hunter2"));
	/* a body shows as its size, never its text */
	assert_non_null(strstr(tbuf, "* body of 34 bytes\n"));
	assert_null(strstr(tbuf, "Subject"));
	free(tbuf);
	client_reply_free(&r);
}

/* A large body, cut across many reads, into an fd; then one over the
 * sink's limit. */
static void pop3_body_to_fd(void **state)
{
	(void)state;
	struct sbuf script;
	sbuf_init(&script, 1 << 20);
	sbuf_addstr(&script, "+OK message follows\r\n");
	size_t want = 0;
	for (int i = 0; i < 5000; i++) {
		sbuf_printf(&script, "..line %d of the message\r\n", i);
		want += (size_t)snprintf(NULL, 0, ".line %d of the message\r\n", i);
	}
	sbuf_addstr(&script, ".\r\n+OK big\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n.\r\n");
	struct fake f;
	fake_start(&f, script.data, script.len, 1);
	struct dctx d = {0};
	struct client *c = open_client(&f, &pop3, &d, NULL);
	int fd = memfd_create("body", 0);
	struct client_sink sink;
	client_sink_fd(&sink, fd, 1 << 20);
	struct client_call call = {.expect = CLIENT_EXPECT_DOT, .sink = &sink};
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_call(c, &call, "RETR", "1", &r, &e), 0);
	assert_int_equal(r.body_len, want);
	assert_int_equal(r.body.len, 0);	/* none of it in memory */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)want);
	char head[32] = {0};
	assert_int_equal(pread(fd, head, 24, 0), 24);
	assert_string_equal(head, ".line 0 of the message\r\n");
	/* over the limit: refused, and said so */
	client_sink_fd(&sink, fd, 16);
	assert_int_equal(client_call(c, &call, "RETR", "2", &r, &e), -1);
	assert_non_null(strstr(e.msg, "sent a body longer than 16 bytes; giving up on it"));
	close(fd);
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
	sbuf_free(&script);
}

struct parts {
	int begins, ends;
	uint64_t sizes[4];
	char data[256];
	size_t len;
};

static int parts_begin(void *arg, uint64_t size, ik_err *e)
{
	(void)e;
	struct parts *p = arg;
	p->sizes[p->begins++ % 4] = size;
	return 0;
}

static int parts_write(void *arg, const void *buf, size_t n, ik_err *e)
{
	struct parts *p = arg;
	if (n > sizeof p->data - p->len)
		return ik_err_set(e, "test sink full");
	memcpy(p->data + p->len, buf, n);
	p->len += n;
	return 0;
}

static int parts_end(void *arg, ik_err *e)
{
	(void)e;
	((struct parts *)arg)->ends++;
	return 0;
}

static void imap_dialogue(void **state)
{
	(void)state;
	static const char script[] =
		"* OK IMAP4rev1 ready\r\n"
		"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0001 OK CAPABILITY done\r\n"
		"A0002 OK logged in\r\n"
		/* a literal holding what looks like the tagged end */
		"* 1 FETCH (BODY[] {15}\r\nA0003 OK fake\r\n)\r\n"
		"* 2 FETCH (BODY[] {0}\r\n)\r\n"
		"A0003 OK FETCH done\r\n"
		"+ Ready for literal data\r\n"
		"A0004 OK APPEND completed\r\n"
		"* 3 FETCH (BODY[] {5}\r\nhello FLAGS (\\Seen))\r\n"
		"A0005 NO too bad\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	char *tbuf = NULL;
	size_t tlen = 0;
	FILE *trace = open_memstream(&tbuf, &tlen);
	struct dctx d = {0};
	struct client *c = open_client(&f, &imap, &d, trace);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	/* the untagged greeting, as one line */
	struct client_call line = {.expect = CLIENT_EXPECT_LINE};
	client_expect_next(c, &line);
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_string_equal(client_reply_text(&r), "* OK IMAP4rev1 ready");
	/* tagged: untagged lines collected up to the tag */
	assert_int_equal(client_command(c, "CAPABILITY", NULL, &r, &e), 0);
	assert_string_equal(r.tag, "A0001");
	assert_int_equal(r.code, 1);
	assert_string_equal(client_reply_text(&r),
			    "* CAPABILITY IMAP4rev1 AUTH=PLAIN\nA0001 OK CAPABILITY done");
	/* the per-call secret flag: tag and verb shown, never the rest */
	struct client_call secret = {.secret = true};
	assert_int_equal(client_call(c, &secret, "LOGIN", "bob hunter2", &r, &e), 0);
	assert_string_equal(client_reply_last(&r), "A0002 OK logged in");
	/* literals, to a sink in parts; the tagged end inside one is data */
	struct parts p = {0};
	struct client_sink sink = {.write = parts_write, .begin = parts_begin, .end = parts_end,
				   .arg = &p, .max = sizeof p.data};
	struct client_call fetch = {.sink = &sink};
	assert_int_equal(client_call(c, &fetch, "FETCH", "1:2 BODY[]", &r, &e), 0);
	assert_int_equal(r.code, 1);
	assert_int_equal(r.nliterals, 2);
	assert_int_equal(r.body_len, 15);
	assert_int_equal(p.begins, 2);
	assert_int_equal(p.ends, 2);
	assert_int_equal(p.sizes[0], 15);
	assert_int_equal(p.sizes[1], 0);
	assert_int_equal(p.len, 15);
	assert_memory_equal(p.data, "A0003 OK fake\r\n", 15);
	assert_string_equal(client_reply_text(&r), "* 1 FETCH (BODY[] {15}\n)\n"
			    "* 2 FETCH (BODY[] {0}\n)\nA0003 OK FETCH done");
	/* a continuation request: send the literal, then read on */
	assert_int_equal(client_command(c, "APPEND", "INBOX {5}", &r, &e), 0);
	assert_true(r.continuation);
	assert_string_equal(client_reply_text(&r), "+ Ready for literal data");
	assert_int_equal(client_send_raw(c, "Hi!\r\n", 5, false, &e), 0);
	assert_int_equal(client_send(c, "", "", &e), 0);
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_false(r.continuation);
	assert_string_equal(client_reply_text(&r), "A0004 OK APPEND completed");
	/* a literal in memory; the line goes on after it (r->segment) */
	assert_int_equal(client_command(c, "FETCH", "3 BODY[]", &r, &e), 0);
	size_t blen;
	assert_string_equal(client_reply_body(&r, &blen), "hello");
	assert_int_equal(r.code, 0);	/* NO */
	assert_string_equal(client_reply_text(&r),
			    "* 3 FETCH (BODY[] {5}\n FLAGS (\\Seen))\nA0005 NO too bad");
	assert_int_equal(d.lines, 14);
	client_free(c);
	fake_stop(&f);
	fclose(trace);
	assert_string_equal(f.got, "A0001 CAPABILITY\r\nA0002 LOGIN bob hunter2\r\n"
			    "A0003 FETCH 1:2 BODY[]\r\nA0004 APPEND INBOX {5}\r\nHi!\r\n\r\n"
			    "A0005 FETCH 3 BODY[]\r\n");
	assert_non_null(strstr(tbuf, "> A0002 LOGIN ****\n"));
	assert_null(strstr(tbuf, "hunter2"));
	assert_non_null(strstr(tbuf, "* literal of 15 bytes\n"));
	assert_null(strstr(tbuf, "fake"));
	free(tbuf);
	client_reply_free(&r);
}

/* A literal over the call's maximum is refused before a byte of it is
 * read; so is one that would pass the sink's limit. */
static void literal_limits(void **state)
{
	(void)state;
	static const char script[] = "* 1 FETCH (BODY[] {100000}\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct dctx d = {0};
	struct client *c = open_client(&f, &imap, &d, NULL);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	struct client_call call = {.literal_max = 1000};
	assert_int_equal(client_call(c, &call, "FETCH", "1 BODY[]", &r, &e), -1);
	assert_non_null(strstr(e.msg, "announced a literal of 100000 bytes, more than the 1000 "
			       "allowed; giving up on it"));
	client_free(c);
	fake_stop(&f);

	fake_start(&f, script, sizeof script - 1, 1);
	c = open_client(&f, &imap, &d, NULL);
	int fd = memfd_create("literal", 0);
	struct client_sink sink;
	client_sink_fd(&sink, fd, 4096);
	call = (struct client_call){.sink = &sink};
	assert_int_equal(client_call(c, &call, "FETCH", "1 BODY[]", &r, &e), -1);
	assert_non_null(strstr(e.msg, "sent a body longer than 4096 bytes"));
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

/* SMTP: numeric replies with the SMTP label, a secret AUTH, and a message
 * sent dot-stuffed from a file with LF line ends. */
static void smtp_dialogue(void **state)
{
	(void)state;
	static const char script[] =
		"220-mx.example.org ESMTP\r\n220 ready\r\n"
		"250-mx.example.org\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
		"235 2.7.0 Authentication successful\r\n"
		"354 go ahead\r\n"
		"250 2.0.0 queued\r\n"
		"+OK not smtp\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	char *tbuf = NULL;
	size_t tlen = 0;
	FILE *trace = open_memstream(&tbuf, &tlen);
	struct client *c = open_client(&f, &smtp, NULL, trace);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_int_equal(r.code, 220);
	assert_int_equal(client_command(c, "EHLO", "client.example.org", &r, &e), 0);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 3);
	struct client_call secret = {.secret = true};
	assert_int_equal(client_call(c, &secret, "AUTH", "PLAIN AGJvYgBodW50ZXIy", &r, &e), 0);
	assert_int_equal(r.code, 235);
	assert_int_equal(client_command(c, "DATA", NULL, &r, &e), 0);
	assert_int_equal(r.code, 354);
	int fd = memfd_create("msg", 0);
	static const char msg[] = "Subject: hi\n\n.leading dot\n.\nlast line";
	assert_int_equal(write(fd, msg, sizeof msg - 1), (ssize_t)(sizeof msg - 1));
	lseek(fd, 0, SEEK_SET);
	uint64_t sent = 0;
	assert_int_equal(client_send_dot_body(c, fd, &sent, &e), 0);
	close(fd);
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_int_equal(r.code, 250);
	/* a reply that breaks the rule is named with the dialect's label */
	assert_int_equal(client_command(c, "QUIT", NULL, &r, &e), -1);
	assert_non_null(strstr(e.msg, "malformed SMTP reply '+OK not smtp'"));
	client_free(c);
	fake_stop(&f);
	fclose(trace);
	static const char body[] = "Subject: hi\r\n\r\n..leading dot\r\n..\r\nlast line\r\n.\r\n";
	assert_int_equal(sent, sizeof body - 1);
	assert_string_equal(f.got, "EHLO client.example.org\r\n"
			    "AUTH PLAIN AGJvYgBodW50ZXIy\r\nDATA\r\n"
			    "Subject: hi\r\n\r\n..leading dot\r\n..\r\nlast line\r\n.\r\nQUIT\r\n");
	assert_non_null(strstr(tbuf, "> AUTH ****\n"));
	assert_null(strstr(tbuf, "AGJvYgBodW50ZXIy"));
	assert_null(strstr(tbuf, "Subject"));
	assert_non_null(strstr(tbuf, "* sent a message of 37 bytes (48 on the wire)\n> .\n"));
	free(tbuf);
	client_reply_free(&r);
}

/* The dialect's own rule: its hook ends the reply, and may ask for a
 * literal, after which the rest of the line reaches it as a segment. */
static int until_end(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	struct dctx *d = ctx;
	d->lines += r->segment ? 100 : 1;
	if (len == 5 && memcmp(line, "a {3}", 5) == 0)
		client_reply_literal(r, 3);
	if (len > 0 && line[0] == '!')
		return ik_err_set(e, "refused '%.*s'", (int)len, line);
	return len == 3 && memcmp(line, "END", 3) == 0;
}

static const struct client_dialect own_rule = {
	.name = "own", .reply_line = until_end,
};

static void hook_decides(void **state)
{
	(void)state;
	static const char script[] = "a {3}\r\nxyz tail\r\nmore\r\nEND\r\n!bad\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct dctx d = {0};
	struct client *c = open_client(&f, &own_rule, &d, NULL);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_string_equal(client_reply_text(&r), "a {3}\n tail\nmore\nEND");
	size_t blen;
	assert_string_equal(client_reply_body(&r, &blen), "xyz");
	assert_int_equal(r.nliterals, 1);
	assert_int_equal(d.lines, 1 + 100 + 1 + 1);
	/* a line the dialect refuses: its message, with the peer named */
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "127.0.0.1:"));
	assert_non_null(strstr(e.msg, ": refused '!bad'"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pop3_dialogue),
		cmocka_unit_test(pop3_body_to_fd),
		cmocka_unit_test(imap_dialogue),
		cmocka_unit_test(literal_limits),
		cmocka_unit_test(smtp_dialogue),
		cmocka_unit_test(hook_decides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
