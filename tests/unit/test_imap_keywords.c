/* Unit tests for imap_keywords.c: keywords as Maildir letters a..z named
 * in the folder's dovecot-keywords file (Dovecot's format and lock), the
 * 26-keyword limit, and the remapping of a message's letters when it is
 * copied to a folder whose file names them differently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
#include <cmocka.h>

#include "imap/imap_int.h"

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/imap-kw-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return dfd < 0 ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(int fd, const char *name, const char *text)
{
	int f = openat(fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(f >= 0);
	assert_int_equal(write(f, text, strlen(text)), (ssize_t)strlen(text));
	close(f);
}

static void read_file(int fd, const char *name, char *buf, size_t sz)
{
	int f = openat(fd, name, O_RDONLY);
	assert_true(f >= 0);
	ssize_t n = read(f, buf, sz - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(f);
}

static void letters_and_file(void **state)
{
	(void)state;
	char err[IMAP_ERR_MAX], out[40], file[256];
	struct imap_keywords *kw = imap_kw_open(dfd);
	assert_non_null(kw);
	const char *flags[] = {"\\Seen", "Work", "$Forwarded", "\\Flagged", "work"};
	assert_int_equal(imap_flags_letters(dfd, kw, flags, 5, true, out, sizeof out, err), 0);
	assert_string_equal(out, "FSab");
	read_file(dfd, "dovecot-keywords", file, sizeof file);
	assert_string_equal(file, "0 Work\n1 $Forwarded\n");
	/* unknown keywords are skipped when not made; system flags checked */
	const char *more[] = {"Other", "\\Draft"};
	assert_int_equal(imap_flags_letters(dfd, kw, more, 2, false, out, sizeof out, err), 0);
	assert_string_equal(out, "D");
	const char *bad[] = {"\\Bogus"};
	assert_int_equal(imap_flags_letters(dfd, kw, bad, 1, true, out, sizeof out, err), -1);
	assert_string_equal(err, "Invalid flag");
	/* names of letters; a letter without a name is not shown */
	struct sbuf b = SBUF_INIT(256);
	bool first = true;
	imap_kw_put_letters(&b, kw, "FSabz", &first);
	assert_string_equal(sbuf_cstr(&b), "Work $Forwarded");
	sbuf_free(&b);
	imap_kw_free(kw);
}

static void dovecot_file_is_read(void **state)
{
	(void)state;
	int sub = openat(dfd, "dv", O_RDONLY | O_DIRECTORY);
	if (sub < 0) {
		assert_int_equal(mkdirat(dfd, "dv", 0700), 0);
		sub = openat(dfd, "dv", O_RDONLY | O_DIRECTORY);
	}
	/* junk lines and indexes out of range are skipped */
	write_file(sub, "dovecot-keywords", "3 Later\nbogus\n26 TooFar\n0 $Label1\nx y\n2 \\Bad\n");
	struct imap_keywords *kw = imap_kw_open(sub);
	assert_int_equal(imap_kw_find(kw, "later"), 3);
	assert_int_equal(imap_kw_find(kw, "$label1"), 0);
	assert_int_equal(imap_kw_find(kw, "TooFar"), -1);
	assert_int_equal(imap_kw_find(kw, "\\Bad"), -1);
	/* a new one takes the lowest free index and keeps the others */
	assert_int_equal(imap_kw_add(sub, kw, "Next"), 1);
	char file[256];
	read_file(sub, "dovecot-keywords", file, sizeof file);
	assert_string_equal(file, "0 $Label1\n1 Next\n3 Later\n");
	/* a stale lock left by a crash is taken over */
	write_file(sub, "dovecot-keywords.lock", "");
	struct timespec old[2] = {{time(NULL) - 120, 0}, {time(NULL) - 120, 0}};
	assert_int_equal(utimensat(sub, "dovecot-keywords.lock", old, 0), 0);
	assert_int_equal(imap_kw_add(sub, kw, "After"), 2);
	imap_kw_free(kw);
	close(sub);
}

static void twenty_six_at_most(void **state)
{
	(void)state;
	int sub;
	assert_int_equal(mkdirat(dfd, "full", 0700), 0);
	sub = openat(dfd, "full", O_RDONLY | O_DIRECTORY);
	struct imap_keywords *kw = imap_kw_open(sub);
	char names[26][8], err[IMAP_ERR_MAX], out[40];
	const char *flags[26];
	for (int i = 0; i < 26; i++) {
		snprintf(names[i], sizeof names[i], "k%02d", i);
		flags[i] = names[i];
	}
	assert_false(imap_kw_full(kw));
	assert_int_equal(imap_flags_letters(sub, kw, flags, 26, true, out, sizeof out, err), 0);
	assert_string_equal(out, "abcdefghijklmnopqrstuvwxyz");
	assert_true(imap_kw_full(kw));
	const char *one[] = {"more"};
	assert_int_equal(imap_flags_letters(sub, kw, one, 1, true, out, sizeof out, err), -1);
	assert_string_equal(err, "[LIMIT] A mailbox holds at most 26 keywords");
	/* PERMANENTFLAGS loses \* once full */
	static struct imap_folder f;
	static struct imap_sess ss;
	ss.sel = &f;
	ss.kw = kw;
	struct sbuf b = SBUF_INIT(4096);
	imap_put_flag_lists(&b, &ss);
	assert_non_null(strstr(sbuf_cstr(&b), " k25)] Flags permitted."));
	sbuf_free(&b);
	imap_kw_free(kw);
	close(sub);
}

static void remap_to_another_folder(void **state)
{
	(void)state;
	int a, t;
	assert_int_equal(mkdirat(dfd, "from", 0700), 0);
	assert_int_equal(mkdirat(dfd, "to", 0700), 0);
	a = openat(dfd, "from", O_RDONLY | O_DIRECTORY);
	t = openat(dfd, "to", O_RDONLY | O_DIRECTORY);
	write_file(a, "dovecot-keywords", "0 Alpha\n1 Beta\n");
	write_file(t, "dovecot-keywords", "0 Beta\n");
	struct imap_keywords *kw = imap_kw_open(a);
	char out[40], file[128];
	assert_int_equal(imap_kw_remap(kw, t, "PSab", out, sizeof out), 0);
	assert_string_equal(out, "PSab");	/* Beta stays a, Alpha becomes b */
	read_file(t, "dovecot-keywords", file, sizeof file);
	assert_string_equal(file, "0 Beta\n1 Alpha\n");
	assert_int_equal(imap_kw_remap(kw, t, "Sb", out, sizeof out), 0);
	assert_string_equal(out, "Sa");
	imap_kw_free(kw);
	close(a);
	close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(letters_and_file),
		cmocka_unit_test(dovecot_file_is_read),
		cmocka_unit_test(twenty_six_at_most),
		cmocka_unit_test(remap_to_another_folder),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
