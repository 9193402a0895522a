#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ftpd/ftpd_list.h"

/* 2026-03-04 05:06:07 UTC */
#define T0 ((time_t)1772600767)
#define DAY 86400

static struct stat file_stat(mode_t mode, off_t size, time_t mtime)
{
	struct stat st;
	memset(&st, 0, sizeof st);
	st.st_mode = mode;
	st.st_size = size;
	st.st_mtime = mtime;
	st.st_nlink = 1;
	st.st_uid = 1000;
	st.st_gid = 100;
	st.st_dev = 0x801;
	st.st_ino = 0x1234;
	return st;
}

static struct ftpd_list_ctx ctx_for(uid_t uid)
{
	struct ftpd_list_ctx c = {
		.now = T0, .uid = uid, .gid = 100, .writable = true, .parent_writable = true,
		.facts = FTPD_FACTS_ALL,
	};
	return c;
}

static void mode_strings(void **state)
{
	(void)state;
	char m[11];
	ftpd_list_mode_string(S_IFREG | 0644, m);
	assert_string_equal(m, "-rw-r--r--");
	ftpd_list_mode_string(S_IFDIR | 0755, m);
	assert_string_equal(m, "drwxr-xr-x");
	ftpd_list_mode_string(S_IFLNK | 0777, m);
	assert_string_equal(m, "lrwxrwxrwx");
	ftpd_list_mode_string(S_IFREG | 04755, m);
	assert_string_equal(m, "-rwsr-xr-x");
	ftpd_list_mode_string(S_IFREG | 02644, m);
	assert_string_equal(m, "-rw-r-Sr--");
	ftpd_list_mode_string(S_IFDIR | 01777, m);
	assert_string_equal(m, "drwxrwxrwt");
	ftpd_list_mode_string(S_IFDIR | 01770, m);
	assert_string_equal(m, "drwxrwx--T");
	ftpd_list_mode_string(S_IFIFO | 0600, m);
	assert_string_equal(m, "prw-------");
	ftpd_list_mode_string(S_IFSOCK | 0, m);
	assert_string_equal(m, "s---------");
	ftpd_list_mode_string(S_IFCHR | 0666, m);
	assert_string_equal(m, "crw-rw-rw-");
	ftpd_list_mode_string(S_IFBLK | 0660, m);
	assert_string_equal(m, "brw-rw----");
}

static void dates(void **state)
{
	(void)state;
	char d[24];
	assert_int_equal(ftpd_list_date(T0, T0, d, sizeof d), 0);
	assert_string_equal(d, "Mar 04 05:06");
	assert_int_equal(ftpd_list_date(T0 - 100 * DAY, T0, d, sizeof d), 0);
	assert_string_equal(d, "Nov 24 05:06");
	/* Older than six months: the year instead of the time. */
	assert_int_equal(ftpd_list_date(T0 - 200 * DAY, T0, d, sizeof d), 0);
	assert_string_equal(d, "Aug 16  2025");
	/* In the future: also the year. */
	assert_int_equal(ftpd_list_date(T0 + DAY, T0, d, sizeof d), 0);
	assert_string_equal(d, "Mar 05  2026");
	assert_int_equal(ftpd_list_date(0, T0, d, sizeof d), 0);
	assert_string_equal(d, "Jan 01  1970");
	char tv[16];
	assert_int_equal(ftpd_list_timeval(T0, tv, sizeof tv), 0);
	assert_string_equal(tv, "20260304050607");
	assert_int_equal(ftpd_list_timeval(T0, tv, 14), -1);
}

static void ls_lines(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_list_ctx c = ctx_for(1000);
	struct stat st = file_stat(S_IFREG | 0644, 1234, T0 - DAY);
	assert_int_equal(ftpd_list_ls_line(&b, &st, "notes.txt", NULL, &c), 0);
	assert_string_equal(sbuf_cstr(&b),
		"-rw-r--r--    1 1000     100              1234 Mar 03 05:06 notes.txt\r\n");
	sbuf_reset(&b);
	st = file_stat(S_IFLNK | 0777, 4, T0 - 365 * DAY);
	c.owner = "ftp";
	c.group = "ftp";
	assert_int_equal(ftpd_list_ls_line(&b, &st, "cur", "sub/", &c), 0);
	assert_string_equal(sbuf_cstr(&b),
		"lrwxrwxrwx    1 ftp      ftp                 4 Mar 04  2025 cur -> sub/\r\n");
	sbuf_reset(&b);
	/* Names with CR/LF would forge entries: skipped. */
	assert_int_equal(ftpd_list_ls_line(&b, &st, "evil\r\n-rw-r--r-- fake", NULL, &c), 1);
	assert_int_equal(ftpd_list_ls_line(&b, &st, "ok", "evil\nlink", &c), 1);
	assert_int_equal(b.len, 0);
	assert_int_equal(ftpd_list_nlst_line(&b, "a b.txt"), 0);
	assert_int_equal(ftpd_list_nlst_line(&b, "x\ny"), 1);
	assert_string_equal(sbuf_cstr(&b), "a b.txt\r\n");
	/* A full buffer: -1 and nothing half-written. */
	struct sbuf small = SBUF_INIT(16);
	st = file_stat(S_IFREG | 0644, 1, T0);
	assert_int_equal(ftpd_list_ls_line(&small, &st, "name", NULL, &c), -1);
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
	sbuf_free(&b);
}

static void mlsx_lines(void **state)
{
	(void)state;
	struct sbuf b = SBUF_INIT(4096);
	struct ftpd_list_ctx c = ctx_for(1000);
	struct stat st = file_stat(S_IFREG | 0644, 1234, T0);
	assert_int_equal(ftpd_list_mlsd_line(&b, &st, "notes.txt", FTPD_MLSX_ENTRY, &c), 0);
	assert_string_equal(sbuf_cstr(&b),
		"type=file;size=1234;modify=20260304050607;perm=adfrw;unique=801U1234;"
		"UNIX.mode=0644; notes.txt\r\n");
	sbuf_reset(&b);
	st = file_stat(S_IFDIR | 0755, 4096, T0);
	assert_int_equal(ftpd_list_mlsd_line(&b, &st, ".", FTPD_MLSX_CDIR, &c), 0);
	assert_int_equal(ftpd_list_mlsd_line(&b, &st, "sub", FTPD_MLSX_ENTRY, &c), 0);
	assert_string_equal(sbuf_cstr(&b),
		"type=cdir;size=4096;modify=20260304050607;perm=celmp;unique=801U1234;"
		"UNIX.mode=0755; .\r\n"
		"type=dir;size=4096;modify=20260304050607;perm=cdeflmp;unique=801U1234;"
		"UNIX.mode=0755; sub\r\n");
	sbuf_reset(&b);
	/* MLST: leading space, chosen facts only. */
	c.facts = FTPD_FACT_TYPE | FTPD_FACT_SIZE;
	st = file_stat(S_IFREG | 0600, 7, T0);
	assert_int_equal(ftpd_list_mlst_line(&b, &st, "/pub/a b", &c), 0);
	assert_string_equal(sbuf_cstr(&b), " type=file;size=7; /pub/a b\r\n");
	sbuf_reset(&b);
	c.facts = FTPD_FACT_TYPE;
	st = file_stat(S_IFLNK | 0777, 3, T0);
	assert_int_equal(ftpd_list_mlsd_line(&b, &st, "l", FTPD_MLSX_ENTRY, &c), 0);
	assert_string_equal(sbuf_cstr(&b), "type=OS.unix=symlink; l\r\n");
	assert_int_equal(ftpd_list_mlsd_line(&b, &st, "l\r", FTPD_MLSX_ENTRY, &c), 1);
	sbuf_free(&b);
}

static void perms(void **state)
{
	(void)state;
	char p[16];
	struct ftpd_list_ctx c = ctx_for(2000);	/* not the owner, in group 100 */
	struct stat f = file_stat(S_IFREG | 0640, 1, T0);
	ftpd_list_perm(&f, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "dfr");
	c.gid = 5;	/* other */
	ftpd_list_perm(&f, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "df");
	gid_t groups[] = {7, 100};
	c.groups = groups;
	c.ngroups = 2;
	ftpd_list_perm(&f, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "dfr");
	/* A read-only account: nothing that changes things. */
	c = ctx_for(1000);
	c.writable = false;
	ftpd_list_perm(&f, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "r");
	struct stat d = file_stat(S_IFDIR | 0755, 1, T0);
	ftpd_list_perm(&d, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "el");
	/* root sees everything. */
	c = ctx_for(0);
	struct stat none = file_stat(S_IFREG | 0, 1, T0);
	ftpd_list_perm(&none, FTPD_MLSX_ENTRY, &c, p);
	assert_string_equal(p, "adfrw");
}

static void facts_options(void **state)
{
	(void)state;
	assert_int_equal(ftpd_list_facts_parse("type;size;"), FTPD_FACT_TYPE | FTPD_FACT_SIZE);
	assert_int_equal(ftpd_list_facts_parse("TYPE;Unix.Mode;bogus;perm"),
			 FTPD_FACT_TYPE | FTPD_FACT_UNIX_MODE | FTPD_FACT_PERM);
	assert_int_equal(ftpd_list_facts_parse(""), 0);
	assert_int_equal(ftpd_list_facts_parse(";;;"), 0);
	char buf[128];
	assert_int_equal(ftpd_list_facts_text(FTPD_FACTS_ALL, true, buf, sizeof buf), 0);
	assert_string_equal(buf, "type*;size*;modify*;perm*;unique*;UNIX.mode*;");
	assert_int_equal(ftpd_list_facts_text(FTPD_FACT_TYPE | FTPD_FACT_PERM, true, buf,
					      sizeof buf), 0);
	assert_string_equal(buf, "type*;size;modify;perm*;unique;UNIX.mode;");
	assert_int_equal(ftpd_list_facts_text(FTPD_FACT_TYPE | FTPD_FACT_PERM, false, buf,
					      sizeof buf), 0);
	assert_string_equal(buf, "type;perm;");
	assert_int_equal(ftpd_list_facts_text(0, false, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ftpd_list_facts_text(FTPD_FACTS_ALL, true, buf, 10), -1);
}

static void list_args(void **state)
{
	(void)state;
	struct ftpd_list_opts o;
	assert_string_equal(ftpd_list_parse_args("-la /pub", &o), "/pub");
	assert_true(o.all);
	assert_string_equal(ftpd_list_parse_args("-l", &o), "");
	assert_false(o.all);
	assert_string_equal(ftpd_list_parse_args("-l -a  dir x", &o), "dir x");
	assert_true(o.all);
	assert_string_equal(ftpd_list_parse_args("./-l", &o), "./-l");
	assert_string_equal(ftpd_list_parse_args("-", &o), "-");
	assert_string_equal(ftpd_list_parse_args("*.txt", &o), "*.txt");
	assert_false(o.all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_strings),
		cmocka_unit_test(dates),
		cmocka_unit_test(ls_lines),
		cmocka_unit_test(mlsx_lines),
		cmocka_unit_test(perms),
		cmocka_unit_test(facts_options),
		cmocka_unit_test(list_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
