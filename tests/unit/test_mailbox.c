#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "mailstore/mailbox.h"
#include "mailstore/mailstore.h"

struct fx {
	char dir[64];
	struct mailstore *ms;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	str_copy(f->dir, sizeof f->dir, "/tmp/ik-mailbox-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	ik_err e = {""};
	if (mailstore_open(f->dir, &f->ms, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	mailstore_free(f->ms);
	int rc = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

/* Write a file into mail/alice/SUB/NAME. */
static void put(const struct fx *f, const char *sub, const char *name, const char *body)
{
	char p[512];
	str_fmt(p, sizeof p, "%s/mail/alice/%s/%s", f->dir, sub, name);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(body, fp);
	fclose(fp);
}

static bool exists(const struct fx *f, const char *sub, const char *name)
{
	char p[512];
	str_fmt(p, sizeof p, "%s/mail/alice/%s/%s", f->dir, sub, name);
	return access(p, F_OK) == 0;
}

static struct mailbox *open_alice(struct fx *f)
{
	struct mailbox *mb = NULL;
	ik_err e = {""};
	assert_int_equal(mailbox_open(f->ms, "alice", NULL, &mb, &e), 0);
	return mb;
}

static void test_name_parse(void **state)
{
	(void)state;
	char base[256];
	struct mailbox_entry me;
	assert_int_equal(mailbox_name_parse("1700.M1P2Q3.host,S=120,W=125:2,SF", base,
					    sizeof base, &me), 0);
	assert_string_equal(base, "1700.M1P2Q3.host");
	assert_true(me.has_size && me.has_vsize);
	assert_int_equal(me.size, 120);
	assert_int_equal(me.vsize, 125);
	assert_string_equal(me.flags, "SF");
	/* Other fields stay in the base; no info, no flags. */
	assert_int_equal(mailbox_name_parse("1700.x,Q=1,S=9", base, sizeof base, &me), 0);
	assert_string_equal(base, "1700.x,Q=1");
	assert_true(me.has_size);
	assert_false(me.has_vsize);
	assert_string_equal(me.flags, "");
	/* A first field that looks like S= is the base, not a size. */
	assert_int_equal(mailbox_name_parse("S=12", base, sizeof base, &me), 0);
	assert_string_equal(base, "S=12");
	assert_false(me.has_size);
	assert_int_equal(mailbox_name_parse(":2,S", base, sizeof base, &me), -1);
	/* Bad numbers are kept as base fields. */
	assert_int_equal(mailbox_name_parse("a,S=x1", base, sizeof base, &me), 0);
	assert_string_equal(base, "a,S=x1");
}

static void test_crlf_size(void **state)
{
	(void)state;
	bool cr = false;
	assert_int_equal(mailbox_crlf_size("a\nb\n", 4, &cr), 6);
	cr = false;
	assert_int_equal(mailbox_crlf_size("a\r\nb", 4, &cr), 4);
	cr = false;
	/* A CR at a chunk's end is carried to the next. */
	assert_int_equal(mailbox_crlf_size("a\r", 2, &cr), 2);
	assert_true(cr);
	assert_int_equal(mailbox_crlf_size("\n", 1, &cr), 1);
}

static void test_scan_move_flags_remove(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);	/* made on first open */
	put(f, "new", "1700000002.M2P1Q1.h,S=4", "b\nc\n");
	put(f, "new", "1700000001.M1P1Q1.h", "a\n");
	put(f, "cur", "1600000000.M0P1Q1.h,S=3,W=4:2,S", "x\r\n");
	put(f, "new", ".hidden", "x");
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].base, "1600000000.M0P1Q1.h");
	assert_false(l.v[0].in_new);
	assert_string_equal(l.v[0].flags, "S");
	assert_int_equal(l.v[0].vsize, 4);
	assert_string_equal(l.v[1].base, "1700000001.M1P1Q1.h");
	assert_true(l.v[1].has_size);	/* from stat */
	assert_int_equal(l.v[1].size, 2);
	assert_false(l.v[1].has_vsize);
	assert_string_equal(l.v[2].base, "1700000002.M2P1Q1.h");
	assert_int_equal(l.v[2].size, 4);

	/* new -> cur with W= computed and :2, added. */
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(mailbox_to_cur(mb, &l.v[i], &e), 0);
	assert_int_equal(mailbox_sync(mb, &e), 0);
	assert_true(exists(f, "cur", "1700000001.M1P1Q1.h,W=3:2,"));
	assert_true(exists(f, "cur", "1700000002.M2P1Q1.h,S=4,W=6:2,"));
	assert_true(exists(f, "cur", "1600000000.M0P1Q1.h,S=3,W=4:2,S"));
	assert_int_equal(l.v[2].vsize, 6);

	/* Flags by rename, sorted, once each. */
	assert_int_equal(mailbox_set_flags(mb, &l.v[2], "SRS", &e), 0);
	assert_true(exists(f, "cur", "1700000002.M2P1Q1.h,S=4,W=6:2,RS"));

	/* Another session renamed it: the entry finds it by its base. */
	char a[512], b[512];
	str_fmt(a, sizeof a, "%s/mail/alice/cur/1700000002.M2P1Q1.h,S=4,W=6:2,RS", f->dir);
	str_fmt(b, sizeof b, "%s/mail/alice/cur/1700000002.M2P1Q1.h,S=4,W=6:2,FRS", f->dir);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(mailbox_remove(mb, &l.v[2], &e), 0);
	assert_false(exists(f, "cur", "1700000002.M2P1Q1.h,S=4,W=6:2,FRS"));
	/* Removing what is gone is fine. */
	assert_int_equal(mailbox_remove(mb, &l.v[2], &e), 0);
	mailbox_list_free(&l);

	struct mailbox_list l2;
	assert_int_equal(mailbox_scan(mb, &l2, &e), 0);
	assert_int_equal(l2.n, 2);
	assert_true(l2.v[1].has_vsize);	/* cached in the name */
	assert_int_equal(l2.v[1].vsize, 3);
	mailbox_list_free(&l2);
	mailbox_close(mb);
}

static void move(const struct fx *f, const char *from, const char *to)
{
	char a[512], b[512];
	str_fmt(a, sizeof a, "%s/mail/alice/%s", f->dir, from);
	str_fmt(b, sizeof b, "%s/mail/alice/%s", f->dir, to);
	assert_int_equal(rename(a, b), 0);
}

/* The entry's view set back to new/NAME, as a scan would have seen it. */
static void entry_in_new(struct mailbox_entry *me, const char *name)
{
	me->in_new = true;
	free(me->name);
	me->name = strdup(name);
	assert_non_null(me->name);
}

/* A change of flags is applied to the flags the file has when it is
 * renamed: what another session, mutt or POP3 did since the scan stays. */
static void test_change_flags_after_renames_elsewhere(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);
	put(f, "cur", "1.a,S=2,W=3:2,", "x\n");
	put(f, "new", "2.b,S=2", "y\n");
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 2);

	/* mutt flagged 1.a: +S keeps its F. */
	move(f, "cur/1.a,S=2,W=3:2,", "cur/1.a,S=2,W=3:2,F");
	assert_int_equal(mailbox_change_flags(mb, &l.v[0], "S", "", false, &e), 0);
	assert_true(exists(f, "cur", "1.a,S=2,W=3:2,FS"));
	assert_string_equal(l.v[0].flags, "FS");

	/* POP3 moved 2.b to cur/ (W= added) and marked it seen: found there. */
	move(f, "new/2.b,S=2", "cur/2.b,S=2,W=3:2,S");
	assert_int_equal(mailbox_change_flags(mb, &l.v[1], "R", "", false, &e), 0);
	assert_true(exists(f, "cur", "2.b,S=2,W=3:2,RS"));
	assert_false(l.v[1].in_new);

	/* A change that is none in the entry's view: with check, the file
	 * is looked at and the flag set elsewhere is removed. */
	move(f, "cur/1.a,S=2,W=3:2,FS", "cur/1.a,S=2,W=3:2,FST");
	assert_int_equal(mailbox_change_flags(mb, &l.v[0], "", "T", false, &e), 0);
	assert_true(exists(f, "cur", "1.a,S=2,W=3:2,FST"));	/* not looked at */
	assert_int_equal(mailbox_change_flags(mb, &l.v[0], "", "T", true, &e), 0);
	assert_true(exists(f, "cur", "1.a,S=2,W=3:2,FS"));
	assert_string_equal(l.v[0].flags, "FS");

	/* Back to new/ without info (a tool undid the move): out again. */
	move(f, "cur/2.b,S=2,W=3:2,RS", "new/2.b,S=2,W=3");
	assert_int_equal(mailbox_change_flags(mb, &l.v[1], "F", "S", false, &e), 0);
	assert_true(exists(f, "cur", "2.b,S=2,W=3:2,F"));

	/* mailbox_to_cur keeps the flags found too. */
	move(f, "cur/2.b,S=2,W=3:2,F", "new/2.b,S=2,W=3");
	entry_in_new(&l.v[1], "2.b,S=2");
	move(f, "new/2.b,S=2,W=3", "cur/2.b,S=2,W=3:2,D");
	assert_int_equal(mailbox_to_cur(mb, &l.v[1], &e), 0);
	assert_true(exists(f, "cur", "2.b,S=2,W=3:2,D"));

	/* Removed elsewhere: -1, errno ENOENT, nothing made. */
	char p[512];
	str_fmt(p, sizeof p, "%s/mail/alice/cur/1.a,S=2,W=3:2,FS", f->dir);
	assert_int_equal(unlink(p), 0);
	errno = 0;
	assert_int_equal(mailbox_change_flags(mb, &l.v[0], "S", "", true, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mailbox_change_flags(mb, &l.v[0], "R", "", false, &e), -1);
	assert_int_equal(errno, ENOENT);
	mailbox_list_free(&l);
	mailbox_close(mb);
}

/* A file moved new/ -> cur/ behind the entry (the usual move: the name
 * with ":2,FLAGS", with or without the W= the mover knew) is found by
 * mailbox_entry_find with a stat, and a move it cannot guess by reading
 * the directories. */
static void test_find_moved(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);
	put(f, "new", "1.a,S=2", "x\n");
	put(f, "new", "2.b,S=2", "y\n");
	put(f, "new", "3.c,S=2", "z\n");
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 3);
	move(f, "new/1.a,S=2", "cur/1.a,S=2:2,");
	assert_int_equal(mailbox_entry_find(mb, &l.v[0], &e), 1);
	assert_false(l.v[0].in_new);
	assert_string_equal(l.v[0].name, "1.a,S=2:2,");
	/* the entry knows the CR LF size; the mover did not (and then did) */
	assert_int_equal(mailbox_vsize(mb, &l.v[1], &e), 0);
	move(f, "new/2.b,S=2", "cur/2.b,S=2:2,");
	assert_int_equal(mailbox_entry_find(mb, &l.v[1], &e), 1);
	assert_string_equal(l.v[1].name, "2.b,S=2:2,");
	move(f, "cur/2.b,S=2:2,", "new/2.b,S=2");
	entry_in_new(&l.v[1], "2.b,S=2");
	move(f, "new/2.b,S=2", "cur/2.b,S=2,W=3:2,");
	assert_int_equal(mailbox_entry_find(mb, &l.v[1], &e), 1);
	assert_string_equal(l.v[1].name, "2.b,S=2,W=3:2,");
	/* moved with a flag set: not guessed, found by reading cur/ */
	move(f, "new/3.c,S=2", "cur/3.c,S=2:2,S");
	assert_int_equal(mailbox_entry_find(mb, &l.v[2], &e), 1);
	assert_string_equal(l.v[2].name, "3.c,S=2:2,S");
	assert_string_equal(l.v[2].flags, "S");
	mailbox_list_free(&l);
	mailbox_close(mb);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	struct mailbox *a = open_alice(f), *b = open_alice(f);
	ik_err e = {""};
	assert_int_equal(mailbox_lock(a, &e), 0);
	assert_int_equal(mailbox_lock(b, &e), 1);
	/* An idle session gives back new/ and cur/, not the lock. */
	mailbox_release_dirs(a);
	assert_int_equal(mailbox_lock(b, &e), 1);
	/* The lock is a regular file's (NFS sends those to the server). */
	char p[512];
	struct stat st;
	str_fmt(p, sizeof p, "%s/mail/alice/" MAILBOX_LOCK_FILE, f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	mailbox_close(a);
	assert_int_equal(mailbox_lock(b, &e), 0);
	mailbox_close(b);
}

static void test_folder(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = NULL;
	ik_err e = {""};
	mailbox_close(open_alice(f));
	assert_int_equal(mailbox_open(f->ms, "alice", "Sent", &mb, &e), -1);
	assert_int_equal(mailbox_open(f->ms, "alice", "../x", &mb, &e), -1);
	assert_int_equal(mailbox_open(f->ms, "alice", ".x", &mb, &e), -1);
	char p[512];
	static const char *const parts[] = {"", "/new", "/cur", "/tmp"};
	for (int i = 0; i < 4; i++) {
		str_fmt(p, sizeof p, "%s/mail/alice/.Sent%s", f->dir, parts[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	put(f, ".Sent/cur", "1.a,S=2:2,S", "z\n");
	assert_int_equal(mailbox_open(f->ms, "alice", "Sent", &mb, &e), 0);
	struct mailbox_list l;
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].base, "1.a");
	mailbox_list_free(&l);
	mailbox_close(mb);
}

/* Read the whole message with chunks of cap bytes. */
static bool last_whole;	/* read_all's reader: mailbox_read_whole at the end */

static char *read_all(struct mailbox *mb, struct mailbox_entry *me,
		      const struct mailbox_read_opts *o, size_t cap)
{
	struct mailbox_reader *r;
	ik_err e = {""};
	assert_int_equal(mailbox_read_open(mb, me, o, &r, &e), 0);
	char *all = calloc(1, 65536), *buf = malloc(cap);
	size_t total = 0, n;
	do {
		assert_int_equal(mailbox_read_chunk(r, buf, cap, &n, &e), 0);
		assert_true(total + n < 65536);
		memcpy(all + total, buf, n);
		total += n;
	} while (n > 0);
	free(buf);
	last_whole = mailbox_read_whole(r);
	mailbox_read_close(r);
	return all;
}

static void test_read(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);
	const char *msg = "Subject: x\n\n.dot\nline2\r\nline3\n..two\nend";
	put(f, "new", "1.a,S=40", msg);
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 1);
	struct mailbox_read_opts plain = {0};
	for (size_t cap = 8; cap <= 64; cap += 7) {
		char *s = read_all(mb, &l.v[0], &plain, cap);
		assert_string_equal(s, "Subject: x\r\n\r\n.dot\r\nline2\r\nline3\r\n..two\r\nend");
		free(s);
	}
	struct mailbox_read_opts pop = {.dot_stuff = true, .final_crlf = true};
	char *s = read_all(mb, &l.v[0], &pop, 9);
	assert_string_equal(s, "Subject: x\r\n\r\n..dot\r\nline2\r\nline3\r\n...two\r\nend\r\n");
	free(s);
	/* TOP 0: the header and the blank line. */
	struct mailbox_read_opts top = {.dot_stuff = true, .final_crlf = true,
					.body_lines_limit = true, .body_lines = 0};
	s = read_all(mb, &l.v[0], &top, 16);
	assert_string_equal(s, "Subject: x\r\n\r\n");
	free(s);
	top.body_lines = 2;
	s = read_all(mb, &l.v[0], &top, 16);
	assert_string_equal(s, "Subject: x\r\n\r\n..dot\r\nline2\r\n");
	assert_false(last_whole);	/* cut: not a retrieval */
	free(s);
	top.body_lines = 100;
	s = read_all(mb, &l.v[0], &top, 16);
	assert_string_equal(s, "Subject: x\r\n\r\n..dot\r\nline2\r\nline3\r\n...two\r\nend\r\n");
	assert_true(last_whole);
	free(s);
	/* Exactly all of its 5 body lines: whole too. */
	top.body_lines = 5;
	free(read_all(mb, &l.v[0], &top, 16));
	assert_true(last_whole);
	top.body_lines = 4;
	free(read_all(mb, &l.v[0], &top, 16));
	assert_false(last_whole);
	/* The vsize matches what the plain reader writes. */
	assert_int_equal(mailbox_vsize(mb, &l.v[0], &e), 0);
	assert_int_equal(l.v[0].vsize, strlen("Subject: x\r\n\r\n.dot\r\nline2\r\nline3\r\n..two\r\nend"));
	/* Moved by another session: the reader finds it. */
	assert_int_equal(mailbox_to_cur(mb, &l.v[0], &e), 0);
	l.v[0].in_new = true;
	free(l.v[0].name);
	l.v[0].name = strdup("1.a,S=40");
	s = read_all(mb, &l.v[0], &plain, 64);
	assert_true(str_has_prefix(s, "Subject: x\r\n"));
	free(s);
	assert_false(l.v[0].in_new);
	/* Gone: an error that says so. */
	assert_int_equal(mailbox_remove(mb, &l.v[0], &e), 0);
	struct mailbox_reader *r;
	assert_int_equal(mailbox_read_open(mb, &l.v[0], &plain, &r, &e), -1);
	assert_int_equal(errno, ENOENT);
	mailbox_list_free(&l);
	mailbox_close(mb);
}

/* The ends the reader finds without a size: a CR before the LF in
 * another read, lone CRs, a last line without LF, and a TOP whose line
 * limit falls on the last byte of a read that was not short. */
static void test_read_ends(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);
	put(f, "new", "1.a", "A: b\r\n\nx\ry\r\r\nz\r");
	put(f, "new", "2.b", "A: b\n\none\ntwo\n");
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 2);
	struct mailbox_read_opts plain = {0}, fin = {.final_crlf = true};
	for (size_t cap = 8; cap <= 40; cap++) {
		char *s = read_all(mb, &l.v[0], &plain, cap);
		assert_string_equal(s, "A: b\r\n\r\nx\ry\r\r\nz\r");
		assert_true(last_whole);
		free(s);
		s = read_all(mb, &l.v[0], &fin, cap);
		assert_string_equal(s, "A: b\r\n\r\nx\ry\r\r\nz\r\n");
		free(s);
		struct mailbox_read_opts top = {.dot_stuff = true, .final_crlf = true,
						.body_lines_limit = true, .body_lines = 2};
		s = read_all(mb, &l.v[1], &top, cap);
		assert_string_equal(s, "A: b\r\n\r\none\r\ntwo\r\n");
		assert_true(last_whole);	/* all of it: a retrieval */
		free(s);
		top.body_lines = 1;
		s = read_all(mb, &l.v[1], &top, cap);
		assert_string_equal(s, "A: b\r\n\r\none\r\n");
		assert_false(last_whole);
		free(s);
	}
	mailbox_list_free(&l);
	mailbox_close(mb);
}

static size_t file_lines(const struct fx *f, char *buf, size_t bufsz)
{
	char p[512];
	str_fmt(p, sizeof p, "%s/mail/alice/" MAILBOX_RETRIEVED_FILE, f->dir);
	FILE *fp = fopen(p, "r");
	if (fp == NULL)
		return 0;
	size_t n = fread(buf, 1, bufsz - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

static void test_retrieved_times(void **state)
{
	struct fx *f = *state;
	struct mailbox *mb = open_alice(f);
	put(f, "cur", "1.a,S=2:2,S", "x\n");
	put(f, "cur", "2.b,S=2,W=3:2,", "y\n");
	put(f, "new", "3.c,S=2", "z\n");
	struct mailbox_list l;
	ik_err e = {""};
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 3);
	int64_t t[3] = {7, 7, 7};
	size_t stale = 9;
	/* No file: nothing retrieved. */
	assert_int_equal(mailbox_retrieved_load(mb, &l, t, &stale, &e), 0);
	assert_true(t[0] == 0 && t[1] == 0 && t[2] == 0 && stale == 0);
	t[0] = 1800000000;
	t[2] = 1800000500;
	assert_int_equal(mailbox_retrieved_save(mb, &l, t, &e), 0);
	char buf[1024];
	assert_int_equal(file_lines(f, buf, sizeof buf), 2);
	assert_string_equal(buf, "1800000000 1.a\n1800000500 3.c\n");
	/* Keyed by base name: a rename (flags, new/ -> cur/) keeps it. */
	assert_int_equal(mailbox_to_cur(mb, &l.v[2], &e), 0);
	assert_int_equal(mailbox_set_flags(mb, &l.v[0], "RS", &e), 0);
	mailbox_list_free(&l);
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	int64_t u[3];
	assert_int_equal(mailbox_retrieved_load(mb, &l, u, &stale, &e), 0);
	assert_true(u[0] == 1800000000 && u[1] == 0 && u[2] == 1800000500 && stale == 0);
	/* Another client removed one; junk lines: all stale, dropped by a save. */
	assert_int_equal(mailbox_remove(mb, &l.v[2], &e), 0);
	char p[512];
	str_fmt(p, sizeof p, "%s/mail/alice/" MAILBOX_RETRIEVED_FILE, f->dir);
	FILE *fp = fopen(p, "a");
	fputs("junk\n-5 1.a\n 2.b\n", fp);
	fclose(fp);
	mailbox_list_free(&l);
	assert_int_equal(mailbox_scan(mb, &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(mailbox_retrieved_load(mb, &l, u, &stale, &e), 0);
	assert_true(u[0] == 1800000000 && u[1] == 0);
	assert_int_equal(stale, 4);
	assert_int_equal(mailbox_retrieved_save(mb, &l, u, &e), 0);
	assert_int_equal(file_lines(f, buf, sizeof buf), 1);
	assert_string_equal(buf, "1800000000 1.a\n");
	/* Nothing left: no file. */
	u[0] = 0;
	assert_int_equal(mailbox_retrieved_save(mb, &l, u, &e), 0);
	assert_int_equal(access(p, F_OK), -1);
	/* The message names are as other readers expect them. */
	assert_true(exists(f, "cur", "1.a,S=2:2,RS"));
	mailbox_list_free(&l);
	mailbox_close(mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_crlf_size),
		cmocka_unit_test_setup_teardown(test_scan_move_flags_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_flags_after_renames_elsewhere, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_find_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrieved_times, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
