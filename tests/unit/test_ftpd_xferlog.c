#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ftpd/ftpd_xferlog.h"

/* 2026-01-05 12:00:00 UTC, a Monday. */
#define T0 ((time_t)1767614400)

static void real_user_download(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_xferlog_rec r = {
		.when = T0, .utc = true, .seconds = 2, .host = "127.0.0.1", .bytes = 1048576,
		.path = "/pub/a.iso", .direction = FTPD_XFER_OUTGOING, .access = FTPD_XFER_REAL,
		.user = "alice", .complete = true,
	};
	assert_int_equal(ftpd_xferlog_format(&b, &r), 0);
	assert_string_equal(sbuf_cstr(&b),
		"Mon Jan  5 12:00:00 2026 2 127.0.0.1 1048576 /pub/a.iso b _ o r alice ftp 0 * c\n");
	sbuf_free(&b);
}

static void anonymous_upload_incomplete(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_xferlog_rec r = {
		.when = T0 + 86400 * 10 + 3661, .utc = true, .seconds = 0, .host = "::1",
		.bytes = 0, .path = "/incoming/my report\t2.txt", .ascii = true,
		.direction = FTPD_XFER_INCOMING, .access = FTPD_XFER_ANONYMOUS,
		.user = "guest@example.org", .service = "ftps", .auth_user = "ident\nuser",
		.complete = false,
	};
	assert_int_equal(ftpd_xferlog_format(&b, &r), 0);
	assert_string_equal(sbuf_cstr(&b),
		"Thu Jan 15 13:01:01 2026 0 ::1 0 /incoming/my_report_2.txt a _ i a "
		"guest@example.org ftps 1 ident_user i\n");
	sbuf_reset(&b);
	/* Empty fields become '*'; deletions are direction d. */
	struct ftpd_xferlog_rec d = {
		.when = T0, .utc = true, .host = "", .path = "/x", .direction = FTPD_XFER_DELETE,
		.access = FTPD_XFER_GUEST, .user = NULL, .complete = true,
	};
	assert_int_equal(ftpd_xferlog_format(&b, &d), 0);
	assert_string_equal(sbuf_cstr(&b), "Mon Jan  5 12:00:00 2026 0 * 0 /x b _ d g * ftp 0 * c\n");
	sbuf_free(&b);
	struct sbuf small = SBUF_INIT(30);
	assert_int_equal(ftpd_xferlog_format(&small, &d), -1);
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
}

static void local_time(void **state)
{
	(void)state;
	setenv("TZ", "UTC+2", 1);	/* POSIX: two hours west of UTC */
	tzset();
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_xferlog_rec r = {
		.when = T0, .host = "127.0.0.1", .path = "/f", .direction = FTPD_XFER_OUTGOING,
		.access = FTPD_XFER_REAL, .user = "bob", .complete = true,
	};
	assert_int_equal(ftpd_xferlog_format(&b, &r), 0);
	assert_true(strncmp(sbuf_cstr(&b), "Mon Jan  5 10:00:00 2026 ", 25) == 0);
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_user_download),
		cmocka_unit_test(anonymous_upload_incomplete),
		cmocka_unit_test(local_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
