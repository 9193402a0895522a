/* The shared client core against a scripted fake server on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/client.h"
#include "core/tls.h"

#include "fake_peer.h"

static const char *const names[] = {"start", "next"};
static const char *const secrets[] = {"PASS", NULL};
static const struct client_dialect dialect = {
	.name = "test", .label = "FTP", .state_names = names, .nstates = 2,
	.default_expect = CLIENT_EXPECT_NUMERIC, .secret_verbs = secrets,
};

static struct client *connect_to(struct fake *f, struct client_opts *o)
{
	struct client *c = client_new(&dialect, NULL, o);
	ik_err e;
	assert_int_equal(client_connect(c, "127.0.0.1", f->port, &e), 0);
	return c;
}

static void replies_and_trace(void **state)
{
	(void)state;
	static const char script[] = "220-hello\r\n220-more\r\n 220 not yet\r\n220 ready\r\n"
				     "331 password please\r\n230-\x1b[2Jwelcome\n230 ok\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	char *tbuf = NULL;
	size_t tlen = 0;
	FILE *trace = open_memstream(&tbuf, &tlen);
	struct client_opts o;
	client_opts_default(&o);
	o.trace = trace;
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(client_reply_last(&r), "220 ready");
	assert_int_equal(client_command(c, "USER", "bob", &r, &e), 0);
	assert_int_equal(r.code, 331);
	assert_int_equal(client_command(c, "PASS", "hunter2", &r, &e), 0);
	assert_int_equal(r.code, 230);
	/* A server's escape sequence is never passed on. */
	assert_string_equal(client_reply_text(&r), "230-?[2Jwelcome\n230 ok");
	client_set_state(c, 1);
	assert_int_equal(client_state(c), 1);
	client_free(c);
	fake_stop(&f);
	fclose(trace);
	assert_non_null(strstr(tbuf, "> USER bob\n"));
	assert_non_null(strstr(tbuf, "> PASS ****\n"));
	assert_null(strstr(tbuf, "hunter2"));
	assert_non_null(strstr(tbuf, "< 220 ready\n"));
	assert_string_equal(f.got, "USER bob\r\nPASS hunter2\r\n");
	free(tbuf);
	client_reply_free(&r);
}

static void refuses_injection(void **state)
{
	(void)state;
	static const char script[] = "220 hi\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct client_opts o;
	client_opts_default(&o);
	struct client *c = connect_to(&f, &o);
	ik_err e;
	assert_int_equal(client_send(c, "RETR", "a\r\nDELE b", &e), -1);
	assert_string_equal(e.msg, "refusing to send a RETR command containing a line break or NUL byte");
	assert_int_equal(client_send(c, "RETR", "a\nb", &e), -1);
	assert_int_equal(client_sendn(c, "RETR", "a\0b", 3, &e), -1);
	assert_int_equal(client_send(c, "RE\r\nTR", NULL, &e), -1);
	assert_int_equal(client_send(c, "NOOP", NULL, &e), 0);
	client_free(c);
	fake_stop(&f);
	assert_string_equal(f.got, "NOOP\r\n");
}

static void long_line_bounded(void **state)
{
	(void)state;
	/* A 100 KiB line without an end. */
	size_t n = 100 * 1024;
	char *big = malloc(n + 2);
	memset(big, 'x', n);
	memcpy(big, "220 ", 4);
	memcpy(big + n, "\r\n", 2);
	struct fake f;
	fake_start(&f, big, n + 2, 1);
	struct client_opts o;
	client_opts_default(&o);
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "sent a reply line longer than 16384 bytes"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
	free(big);
}

static void endless_reply_bounded(void **state)
{
	(void)state;
	static const char first[] = "220-this never ends\r\n";
	struct fake f;
	fake_start(&f, first, sizeof first - 1, 100000);
	struct client_opts o;
	client_opts_default(&o);
	o.max_reply = 64 * 1024;
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "sent a reply longer than 65536 bytes"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

static void reply_timeout(void **state)
{
	(void)state;
	static const char script[] = "220-and then nothing\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct client_opts o;
	client_opts_default(&o);
	o.reply_timeout_ms = 200;
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "no complete reply from 127.0.0.1:"));
	assert_non_null(strstr(e.msg, "within 200 ms"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

static void malformed_and_closed(void **state)
{
	(void)state;
	static const char script[] = "HTTP/1.1 400 Bad Request\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct client_opts o;
	client_opts_default(&o);
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "malformed FTP reply 'HTTP/1.1 400 Bad Request'"));
	client_free(c);
	fake_stop(&f);

	static const char partial[] = "220-bye";
	fake_start(&f, partial, sizeof partial - 1, 1);
	c = connect_to(&f, &o);
	/* the fake closes when we shut our side */
	shutdown(client_connection(c)->fd, SHUT_WR);
	assert_int_equal(client_read_reply(c, &r, &e), -1);
	assert_non_null(strstr(e.msg, "closed the connection"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

static void wait_for_first_line(void **state)
{
	(void)state;
	struct client_opts o;
	client_opts_default(&o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	/* A peer that waits for us to speak first. */
	struct fake f;
	fake_start(&f, "", 0, 1);
	struct client *c = connect_to(&f, &o);
	assert_int_equal(client_wait_line(c, 200, &e), 0);
	assert_non_null(strstr(e.msg, "sent no complete line within 200 ms"));
	client_free(c);
	fake_stop(&f);
	/* A line is waiting: it stays for client_read_reply. */
	static const char hello[] = "220-hi\r\n220 there\r\n";
	fake_start(&f, hello, sizeof hello - 1, 1);
	c = connect_to(&f, &o);
	assert_int_equal(client_wait_line(c, 5000, &e), 1);
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_int_equal(r.code, 220);
	assert_string_equal(client_reply_text(&r), "220-hi\n220 there");
	client_free(c);
	fake_stop(&f);
	/* Part of a line, then the end of the stream. */
	static const char partial[] = "SSH-2.0";
	fake_start(&f, partial, sizeof partial - 1, 1);
	c = connect_to(&f, &o);
	shutdown(client_connection(c)->fd, SHUT_WR);
	assert_int_equal(client_wait_line(c, 5000, &e), -1);
	assert_non_null(strstr(e.msg, "closed the connection"));
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

static void refused_and_unknown(void **state)
{
	(void)state;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	bind(s, (struct sockaddr *)&a, sizeof a);
	socklen_t al = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &al);
	close(s);	/* nothing listens there now */
	struct client_opts o;
	client_opts_default(&o);
	struct client *c = client_new(&dialect, NULL, &o);
	ik_err e;
	assert_int_equal(client_connect(c, "127.0.0.1", ntohs(a.sin_port), &e), -1);
	assert_non_null(strstr(e.msg, "Connection refused"));
	assert_int_equal(client_connect(c, "nosuchhost.invalid", 21, &e), -1);
	assert_non_null(strstr(e.msg, "nosuchhost.invalid"));
	client_free(c);
}

static void data_before_tls(void **state)
{
	(void)state;
	/* A server (or a man in the middle) that sends more after 234. */
	static const char script[] = "234 go ahead\r\n250 injected\r\n";
	struct fake f;
	fake_start(&f, script, sizeof script - 1, 1);
	struct client_opts o;
	client_opts_default(&o);
	struct client *c = connect_to(&f, &o);
	struct client_reply r;
	client_reply_init(&r);
	ik_err e;
	/* both lines in one segment: the second is buffered */
	usleep(50000);
	assert_int_equal(client_read_reply(c, &r, &e), 0);
	assert_int_equal(r.code, 234);
	struct tls_client_opts to = {.insecure = true};
	SSL_CTX *ctx = tls_client_ctx(&to, &e);
	assert_non_null(ctx);
	assert_int_equal(client_starttls(c, ctx, false, &e), -1);
	assert_non_null(strstr(e.msg, "sent data after its TLS go-ahead"));
	SSL_CTX_free(ctx);
	client_free(c);
	fake_stop(&f);
	client_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replies_and_trace),
		cmocka_unit_test(refuses_injection),
		cmocka_unit_test(long_line_bounded),
		cmocka_unit_test(endless_reply_bounded),
		cmocka_unit_test(reply_timeout),
		cmocka_unit_test(malformed_and_closed),
		cmocka_unit_test(wait_for_first_line),
		cmocka_unit_test(refused_and_unknown),
		cmocka_unit_test(data_before_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
