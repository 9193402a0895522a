#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ftp/ftp_list.h"

/* 2026-11-22T01:54:00Z */
#define NOW ((time_t)1795312440)

static int L(const char *line, struct ftp_entry *en)
{
	return ftp_list_parse_line(line, strlen(line), NOW, en);
}

static int M(const char *line, struct ftp_entry *en)
{
	return ftp_mlsd_parse_line(line, strlen(line), en);
}

static void unix_lines(void **state)
{
	(void)state;
	struct ftp_entry en;
	/* vsftpd */
	assert_int_equal(L("-rw-r--r--    1 0        0               6 Nov 22 01:54 a.txt", &en),
			 FTP_LINE_ENTRY);
	assert_string_equal(en.name, "a.txt");
	assert_int_equal(en.type, FTP_FT_FILE);
	assert_true(en.has_size);
	assert_int_equal(en.size, 6);
	assert_int_equal(en.mtime, NOW);
	assert_int_equal(en.prec, 60);
	assert_string_equal(en.perm, "-rw-r--r--");
	/* a date with a year */
	assert_int_equal(L("drwxr-xr-x 2 ftp ftp 4096 Jan  5  2019 old dir", &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, "old dir");
	assert_int_equal(en.type, FTP_FT_DIR);
	assert_int_equal(en.mtime, 1546646400);
	assert_int_equal(en.prec, 86400);
	/* a future date means last year */
	assert_int_equal(L("-rw-r--r-- 1 u g 10 Dec 24 08:00 xmas", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.mtime, 1766563200);
	/* the day before is this year */
	assert_int_equal(L("-rw-r--r-- 1 u g 10 Nov 21 13:05 y", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.mtime, 1795266300);
	/* symbolic link */
	assert_int_equal(L("lrwxrwxrwx 1 0 0 7 Mar 10 12:34 link -> target dir", &en),
			 FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_LINK);
	assert_string_equal(en.name, "link");
	assert_string_equal(en.target, "target dir");
	/* no group column; an owner that looks like a month */
	assert_int_equal(L("-rw-r--r-- 1 Jan 1234 Mar 10 12:34 file", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.size, 1234);
	assert_string_equal(en.name, "file");
	/* leading and inner spaces in a name are kept */
	assert_int_equal(L("-rw-r--r-- 1 u g 1 Mar 10 12:34  two  spaces ", &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, " two  spaces ");
	/* UTF-8 name */
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Mar 10 12:34 中文.txt", &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, "中文.txt");
	/* ACL marker and device files */
	assert_int_equal(L("-rw-r--r--+ 1 u g 3 Mar 10 12:34 acl", &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, "acl");
	assert_int_equal(L("crw-rw-rw- 1 0 0 1, 3 Mar 10 12:34 null", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_OTHER);
	assert_false(en.has_size);
	/* pure-ftpd's wider columns, CRLF */
	assert_int_equal(L("-rw-r--r--    1 0          0                   3 Nov 22 01:54 x.txt\r\n",
			   &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, "x.txt");
}

static void unix_skips_and_bad(void **state)
{
	(void)state;
	struct ftp_entry en;
	assert_int_equal(L("total 12", &en), FTP_LINE_SKIP);
	assert_int_equal(L("", &en), FTP_LINE_SKIP);
	assert_int_equal(L("\r\n", &en), FTP_LINE_SKIP);
	assert_int_equal(L("drwxr-xr-x 2 u g 4096 Mar 10 12:34 .", &en), FTP_LINE_SKIP);
	assert_int_equal(L("drwxr-xr-x 2 u g 4096 Mar 10 12:34 ..", &en), FTP_LINE_SKIP);
	assert_int_equal(L("hello world", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Mar 10 12:34", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Foo 10 12:34 x", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Mar 32 12:34 x", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Mar 10 25:34 x", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rwxrwxrwxq 1 u g 3 Mar 10 12:34 x", &en), FTP_LINE_BAD);
	assert_int_equal(L("zrw-r--r-- 1 u g 3 Mar 10 12:34 x", &en), FTP_LINE_BAD);
	assert_int_equal(L("-rw-r--r-- 1 u g 3 Mar 10 12:34 ", &en), FTP_LINE_BAD);
	char big[3000];
	memset(big, 'a', sizeof big);
	memcpy(big, "-rw-r--r-- 1 u g 3 Mar 10 12:34 ", 32);
	big[sizeof big - 1] = '\0';
	assert_int_equal(L(big, &en), FTP_LINE_BAD);
}

static void dos_lines(void **state)
{
	(void)state;
	struct ftp_entry en;
	assert_int_equal(L("11-22-26  01:54AM       <DIR>          My Dir", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_DIR);
	assert_string_equal(en.name, "My Dir");
	assert_int_equal(en.mtime, NOW);
	assert_int_equal(L("12-31-09  11:59PM              1234 report.txt", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_FILE);
	assert_int_equal(en.size, 1234);
	assert_int_equal(en.mtime, 1262303940);
	assert_int_equal(L("02-03-1998  12:07AM  5 a", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.mtime, 886464420);
	assert_int_equal(L("02-03-98  00:07  5 b", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.mtime, 886464420);
	assert_int_equal(L("13-03-98  00:07  5 b", &en), FTP_LINE_BAD);
	assert_int_equal(L("02-03-98  13:07PM  5 b", &en), FTP_LINE_BAD);
	assert_int_equal(L("02-03-98  00:07  <FILE> b", &en), FTP_LINE_BAD);
	assert_int_equal(L("02-03-98  00:07  5", &en), FTP_LINE_BAD);
	assert_int_equal(L("0x-03-98  00:07  5 b", &en), FTP_LINE_BAD);
}

static void mlsd_lines(void **state)
{
	(void)state;
	struct ftp_entry en;
	assert_int_equal(M("type=file;size=6;modify=20261122015400;perm=r; a.txt", &en),
			 FTP_LINE_ENTRY);
	assert_string_equal(en.name, "a.txt");
	assert_int_equal(en.type, FTP_FT_FILE);
	assert_int_equal(en.size, 6);
	assert_int_equal(en.mtime, NOW);
	assert_int_equal(en.prec, 1);
	assert_int_equal(M("Type=dir;Modify=20261122015400.5;UNIX.mode=0755; sub dir", &en),
			 FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_DIR);
	assert_string_equal(en.name, "sub dir");
	assert_string_equal(en.perm, "drwxr-xr-x");
	assert_int_equal(M("type=OS.unix=slink:/etc; l", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_LINK);
	assert_string_equal(en.target, "/etc");
	assert_int_equal(M("type=cdir;modify=20261122015400; /x", &en), FTP_LINE_SKIP);
	assert_int_equal(M("type=pdir; ..", &en), FTP_LINE_SKIP);
	assert_int_equal(M("type=file; ..", &en), FTP_LINE_SKIP);
	assert_int_equal(M("", &en), FTP_LINE_SKIP);
	assert_int_equal(M("type=file;size=6;", &en), FTP_LINE_BAD);
	assert_int_equal(M("type=file;size=6x; a", &en), FTP_LINE_BAD);
	assert_int_equal(M("type=file;modify=2026; a", &en), FTP_LINE_BAD);
	assert_int_equal(M("type=file;modify=20261322015400; a", &en), FTP_LINE_BAD);
	assert_int_equal(M("garbage; a", &en), FTP_LINE_BAD);
	assert_int_equal(M("type=file; ", &en), FTP_LINE_BAD);
	assert_int_equal(M(" name-without-facts", &en), FTP_LINE_ENTRY);
	assert_int_equal(en.type, FTP_FT_OTHER);
	assert_int_equal(M("type=file;size=3; 中文 名.txt\r\n", &en), FTP_LINE_ENTRY);
	assert_string_equal(en.name, "中文 名.txt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unix_lines),
		cmocka_unit_test(unix_skips_and_bad),
		cmocka_unit_test(dos_lines),
		cmocka_unit_test(mlsd_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
