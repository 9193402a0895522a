#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "ftpd/ftpd_reply.h"

static void single_line(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(ftpd_reply(&b, FTPD_R_READY, "inetkit FTP server ready."), 0);
	assert_string_equal(sbuf_cstr(&b), "220 inetkit FTP server ready.\r\n");
	sbuf_reset(&b);
	/* A file name with CR/LF cannot start a forged reply line. */
	assert_int_equal(ftpd_reply(&b, 550, "%s: No such file", "a\r\n230 fake"), 0);
	assert_string_equal(sbuf_cstr(&b), "550 a  230 fake: No such file\r\n");
	sbuf_reset(&b);
	/* Over-long text is cut to one line. */
	char big[3000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(ftpd_reply(&b, 200, "%s", big), 0);
	assert_true(b.len <= FTPD_REPLY_LINE_MAX);
	assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
	sbuf_free(&b);
}

static void multi_line(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(ftpd_reply_multi(&b, 211, "Features:", " UTF8\n EPSV\r\n", "End"), 0);
	assert_string_equal(sbuf_cstr(&b), "211-Features:\r\n UTF8\r\n EPSV\r\n211 End\r\n");
	sbuf_reset(&b);
	/* RFC 959 4.2: a body line starting with digits is indented. */
	assert_int_equal(ftpd_reply_multi(&b, 213, "Status:", "213 looks final\nplain\n", "End"), 0);
	assert_string_equal(sbuf_cstr(&b),
			    "213-Status:\r\n 213 looks final\r\nplain\r\n213 End\r\n");
	sbuf_reset(&b);
	/* Pieces, and a stray CR inside a body line. */
	assert_int_equal(ftpd_reply_begin(&b, 214, "Help %s", "follows"), 0);
	assert_int_equal(ftpd_reply_body(&b, "a\rb"), 0);
	assert_int_equal(ftpd_reply_body(&b, ""), 0);
	assert_int_equal(ftpd_reply_end(&b, 214, "Done"), 0);
	assert_string_equal(sbuf_cstr(&b), "214-Help follows\r\na b\r\n214 Done\r\n");
	sbuf_free(&b);
	/* A full buffer leaves nothing half-written. */
	struct sbuf small = SBUF_INIT(20);
	assert_int_equal(ftpd_reply_multi(&small, 211, "Features:", " UTF8\n", "End"), -1);
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
}

static void quoted_paths(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(ftpd_reply_path(&b, 257, "/pub", "is the current directory"), 0);
	assert_string_equal(sbuf_cstr(&b), "257 \"/pub\" is the current directory\r\n");
	sbuf_reset(&b);
	/* RFC 959 appendix II: double the quote. */
	assert_int_equal(ftpd_reply_path(&b, 257, "/say \"hi\"", "created"), 0);
	assert_string_equal(sbuf_cstr(&b), "257 \"/say \"\"hi\"\"\" created\r\n");
	sbuf_reset(&b);
	/* RFC 2640 3.1: CR goes out as CR NUL. */
	assert_int_equal(ftpd_reply_path(&b, 257, "/a\rb", "created"), 0);
	assert_int_equal(b.len, strlen("257 \"/a\r") + 1 + strlen("b\" created\r\n"));
	assert_memory_equal(b.data, "257 \"/a\r\0b\" created\r\n", b.len);
	sbuf_reset(&b);
	errno = 0;
	assert_int_equal(ftpd_reply_path(&b, 257, "/a\nb", "created"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(ftpd_reply_path(&b, 257, "/", ""), 0);
	assert_string_equal(sbuf_cstr(&b), "257 \"/\"\r\n");
	sbuf_free(&b);
}

static void errno_replies(void **state)
{
	(void)state;
	assert_int_equal(ftpd_reply_errno_code(ENOENT), 550);
	assert_int_equal(ftpd_reply_errno_code(EACCES), 550);
	assert_int_equal(ftpd_reply_errno_code(ENOSPC), 452);
	assert_int_equal(ftpd_reply_errno_code(EDQUOT), 552);
	assert_int_equal(ftpd_reply_errno_code(ENAMETOOLONG), 553);
	struct sbuf b = SBUF_INIT(4096);
	assert_int_equal(ftpd_reply_errno(&b, EXDEV, "/up/x"), 0);
	assert_string_equal(sbuf_cstr(&b), "550 /up/x: Path leads outside your root.\r\n");
	sbuf_reset(&b);
	assert_int_equal(ftpd_reply_errno(&b, ENOENT, NULL), 0);
	assert_string_equal(sbuf_cstr(&b), "550 No such file or directory.\r\n");
	sbuf_free(&b);
}

static void server_status(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_status s = {
		.server = "inetkit 0.1.0", .peer = "127.0.0.1:40000", .user = "bob\r\n211 x",
		.tls_control = true, .type = 'A', .bytes_in = 5, .bytes_out = 7,
		.idle_timeout_s = 300,
	};
	assert_int_equal(ftpd_reply_status(&b, &s), 0);
	assert_string_equal(sbuf_cstr(&b),
		"211-inetkit 0.1.0 status:\r\n"
		" Connected from 127.0.0.1:40000\r\n"
		" Logged in as bob  211 x\r\n"
		" Control connection: TLS; data connections: clear (PROT C)\r\n"
		" TYPE: ASCII; STRUcture: File; transfer MODE: Stream\r\n"
		" Idle timeout: 300 seconds\r\n"
		" Bytes received: 5; bytes sent: 7\r\n"
		" No data connection\r\n"
		"211 End of status\r\n");
	sbuf_reset(&b);
	s.user = NULL;
	s.transfer_active = true;
	s.transfer_name = "/big.iso";
	s.transfer_bytes = 1234;
	s.type = 'I';
	assert_int_equal(ftpd_reply_status(&b, &s), 0);
	assert_non_null(strstr(sbuf_cstr(&b), " Not logged in\r\n"));
	assert_non_null(strstr(sbuf_cstr(&b), " TYPE: BINARY;"));
	assert_non_null(strstr(sbuf_cstr(&b), " Transferring /big.iso: 1234 bytes so far\r\n"));
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(single_line),
		cmocka_unit_test(multi_line),
		cmocka_unit_test(quoted_paths),
		cmocka_unit_test(errno_replies),
		cmocka_unit_test(server_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
