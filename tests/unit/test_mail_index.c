#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "lib/str.h"
#include "mailstore/mail_index.h"

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	str_copy(dir, sizeof dir, "/tmp/test_mail_index.XXXXXX");
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	unlinkat(dfd, MAIL_INDEX_FILE ".tmp", 0);
	close(dfd);
	rmdir(dir);
	return 0;
}

static struct mail_index *open_ix(void)
{
	struct mail_index *ix;
	ik_err e;
	assert_int_equal(mail_index_open(dfd, &ix, &e), 0);
	return ix;
}

static void sync_ok(struct mail_index *ix, const struct mail_index_seen *s, size_t n)
{
	ik_err e;
	if (mail_index_sync(ix, s, n, &e) < 0)
		fail_msg("sync: %s", e.msg);
	assert_int_equal(ix->n, n);
}

static void read_file(char *buf, size_t sz)
{
	int fd = openat(dfd, MAIL_INDEX_FILE, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sz - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void write_file(const char *s)
{
	int fd = openat(dfd, MAIL_INDEX_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* Make ix's log long (UID 1's flags changed 400 times), sync so that it
 * is rewritten (only a sync compacts), and read the file into buf. */
static void compact(struct mail_index *ix, const struct mail_index_seen *s, size_t n, char *buf,
		    size_t sz)
{
	ik_err e;
	uint64_t m;
	for (int i = 0; i < 400; i++)
		assert_int_equal(mail_index_set_flags(ix, 1, i % 2 ? "S" : "", &m, &e), 0);
	sync_ok(ix, s, n);
	read_file(buf, sz);
}

static void uids_persist(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix();
	struct mail_index_seen s[] = {{"100.a.host", ""}, {"101.b.host", "S"}, {"102.c.host", "RS"}};
	sync_ok(a, s, 3);
	assert_true(a->rebuilt);	/* a new index is a build from the files */
	uint32_t v = a->uidvalidity;
	assert_true(v > 0);
	assert_int_equal(a->uidnext, 4);
	assert_int_equal(a->v[0].uid, 1);
	assert_int_equal(a->v[2].uid, 3);
	assert_string_equal(a->v[1].base, "101.b.host");
	assert_string_equal(a->v[1].flags, "S");

	/* A second session (another process) sees the same UIDs. */
	struct mail_index *b = open_ix();
	sync_ok(b, s, 3);
	assert_false(b->rebuilt);
	assert_int_equal(b->uidvalidity, v);
	assert_int_equal(b->v[2].uid, 3);

	/* A new message and an expunge, seen by a; b learns both. */
	struct mail_index_seen s2[] = {{"100.a.host", ""}, {"102.c.host", "RS"}, {"103.d.host", ""}};
	sync_ok(a, s2, 3);
	assert_int_equal(a->v[2].uid, 4);
	assert_int_equal(a->uidnext, 5);
	uint64_t hm = a->highestmodseq;
	sync_ok(b, s2, 3);
	assert_int_equal(b->v[1].uid, 3);
	assert_int_equal(b->v[2].uid, 4);
	assert_int_equal(b->highestmodseq, hm);

	/* Expunging the last message keeps UIDNEXT: UIDs are never reused. */
	sync_ok(a, s2, 2);
	assert_int_equal(a->uidnext, 5);
	struct mail_index_seen s3[] = {{"100.a.host", ""}, {"102.c.host", "RS"}, {"104.e.host", ""}};
	sync_ok(b, s3, 3);
	assert_int_equal(b->v[2].uid, 5);
	mail_index_free(a);
	mail_index_free(b);

	/* A fresh reader rebuilds nothing and sees the same. */
	struct mail_index *c = open_ix();
	sync_ok(c, s3, 3);
	assert_false(c->rebuilt);
	assert_int_equal(c->uidvalidity, v);
	assert_int_equal(c->v[2].uid, 5);
	assert_int_equal(c->uidnext, 6);
	mail_index_free(c);
}

static void modseq(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix();
	struct mail_index_seen s[] = {{"1.a", ""}, {"2.b", ""}};
	sync_ok(a, s, 2);
	uint64_t h0 = a->highestmodseq;
	uint64_t m;
	ik_err e;
	assert_int_equal(mail_index_set_flags(a, 2, "S", &m, &e), 0);
	assert_int_equal(m, h0 + 1);
	assert_int_equal(a->highestmodseq, h0 + 1);
	/* The same flags again: no change, no new MODSEQ. */
	assert_int_equal(mail_index_set_flags(a, 2, "S", &m, &e), 0);
	assert_int_equal(m, h0 + 1);
	assert_int_equal(mail_index_set_flags(a, 9, "S", &m, &e), -1);

	/* Another tool renamed a file (mutt set F): the sync notices. */
	struct mail_index *b = open_ix();
	struct mail_index_seen s2[] = {{"1.a", "F"}, {"2.b", "S"}};
	sync_ok(b, s2, 2);
	assert_int_equal(b->v[1].modseq, h0 + 1);
	assert_int_equal(b->v[0].modseq, h0 + 2);
	assert_string_equal(b->v[0].flags, "F");
	sync_ok(a, s2, 2);
	assert_int_equal(a->v[0].modseq, h0 + 2);
	assert_int_equal(a->highestmodseq, h0 + 2);
	assert_non_null(mail_index_find(a, 1));
	assert_null(mail_index_find(a, 3));
	mail_index_free(a);
	mail_index_free(b);
}

static void damage(void **state)
{
	(void)state;
	write_file("inetkit-index 1 500 3 9\n+ 1 1 - 1.a\n+ 2 1 S 2.b\n= 2 x\n");
	struct mail_index *a = open_ix();
	struct mail_index_seen s[] = {{"1.a", ""}, {"2.b", "S"}};
	sync_ok(a, s, 2);
	assert_true(a->rebuilt);
	/* The old UIDVALIDITY was read; the new one is larger. */
	assert_true(a->uidvalidity > 500);
	assert_int_equal(a->v[1].uid, 2);
	mail_index_free(a);

	/* A torn last line (a crash mid-append) is ignored and cut. */
	write_file("inetkit-index 1 500 3 9\n+ 1 1 - 1.a\n+ 2 1 S 2.b\n+ 3 2 - 3");
	a = open_ix();
	struct mail_index_seen s2[] = {{"1.a", ""}, {"2.b", "S"}, {"3.c", ""}};
	sync_ok(a, s2, 3);
	assert_false(a->rebuilt);
	assert_int_equal(a->uidvalidity, 500);
	assert_int_equal(a->v[2].uid, 3);
	assert_int_equal(a->highestmodseq, 10);
	char buf[512];
	read_file(buf, sizeof buf);
	assert_string_equal(buf, "inetkit-index 1 500 3 9\n+ 1 1 - 1.a\n+ 2 1 S 2.b\n+ 3 10 - 3.c\n");
	mail_index_free(a);

	/* UIDs must ascend: a record going back is damage. */
	write_file("inetkit-index 1 500 3 9\n+ 2 1 - 1.a\n+ 1 1 S 2.b\n");
	a = open_ix();
	sync_ok(a, s, 2);
	assert_true(a->rebuilt);
	mail_index_free(a);
	write_file("garbage\n");
	a = open_ix();
	sync_ok(a, s, 2);
	assert_true(a->rebuilt);
	mail_index_free(a);
}

static void compaction(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix(), *b = open_ix();
	struct mail_index_seen s[] = {{"1.a", ""}, {"2.b", ""}};
	sync_ok(a, s, 2);
	sync_ok(b, s, 2);
	char buf[512];
	compact(a, s, 2, buf, sizeof buf);
	assert_true(str_has_prefix(buf, "inetkit-index 1 "));
	assert_non_null(strstr(buf, "\n+ 1 "));
	assert_null(strstr(buf, "\n= "));
	/* b held the old file: it notices the new inode and reads it all. */
	sync_ok(b, s, 2);
	assert_int_equal(b->highestmodseq, a->highestmodseq);
	assert_int_equal(b->v[0].modseq, a->v[0].modseq);
	assert_int_equal(b->uidvalidity, a->uidvalidity);
	mail_index_free(a);
	mail_index_free(b);
}

static void odd_names(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix();
	struct mail_index_seen s[] = {{"ok name with spaces", ""}, {"bad\nname", ""}, {"", ""}};
	ik_err e;
	assert_int_equal(mail_index_sync(a, s, 3, &e), 0);
	assert_int_equal(a->n, 1);
	mail_index_free(a);
	a = open_ix();
	assert_int_equal(mail_index_sync(a, s, 3, &e), 0);
	assert_false(a->rebuilt);
	assert_string_equal(a->v[0].base, "ok name with spaces");
	mail_index_free(a);
}

/* mail_index_sync_scan lists under the lock, after the log was read: a
 * record another process appended before is there for the scan to see,
 * and a message the listing shows keeps that process's UID. A listing
 * made before the lock (mail_index_sync with an old list) would have
 * taken it as expunged. */
struct scan_arg {
	const struct mail_index_seen *s;
	size_t n;
	size_t known;	/* ix->n when the scan ran */
};

static int scan_cb(void *arg, struct mail_index *ix, const struct mail_index_seen **seen,
		   size_t *n, ik_err *e)
{
	(void)e;
	struct scan_arg *a = arg;
	a->known = ix->n;
	*seen = a->s;
	*n = a->n;
	return 0;
}

static int scan_fails(void *arg, struct mail_index *ix, const struct mail_index_seen **seen,
		      size_t *n, ik_err *e)
{
	(void)arg, (void)ix, (void)seen, (void)n;
	return ik_err_set(e, "cannot read the folder");
}

static void scan_under_lock(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix(), *b = open_ix();
	struct mail_index_seen one[] = {{"100.a.host", ""}};
	struct mail_index_seen two[] = {{"100.a.host", ""}, {"101.b.host", "S"}};
	sync_ok(a, one, 1);
	sync_ok(b, two, 2);	/* "another process" indexes 101 as UID 2 */
	struct scan_arg arg = {two, 2, 0};
	ik_err e;
	assert_int_equal(mail_index_sync_scan(a, scan_cb, &arg, &e), 0);
	assert_int_equal(arg.known, 2);	/* b's record was read before the scan */
	assert_int_equal(a->n, 2);
	assert_int_equal(a->v[1].uid, 2);
	char buf[4096];
	read_file(buf, sizeof buf);
	assert_null(strstr(buf, "\n- "));	/* nothing expunged */
	/* A failing scan changes nothing and says why. */
	assert_int_equal(mail_index_sync_scan(a, scan_fails, NULL, &e), -1);
	assert_string_equal(e.msg, "cannot read the folder");
	assert_int_equal(a->n, 2);
	mail_index_free(a);
	mail_index_free(b);
}

/* \Recent is given once per UID, whichever index (process) asks first;
 * the mark survives a rewrite and is read by the others; a damaged index
 * gives nothing (its rebuild makes every UID recent again, once). */
static void recent_once(void **state)
{
	(void)state;
	unlinkat(dfd, MAIL_INDEX_FILE, 0);
	struct mail_index *a = open_ix(), *b = open_ix();
	struct mail_index_seen s[] = {{"1.a", ""}, {"2.b", ""}, {"3.c", ""}};
	sync_ok(a, s, 2);
	ik_err e;
	uint32_t from;
	assert_int_equal(mail_index_claim_recent(a, 3, &from, &e), 0);
	assert_int_equal(from, 1);	/* UIDs 1 and 2: a's */
	assert_int_equal(a->first_recent, 3);
	sync_ok(b, s, 3);	/* b, another process, sees UID 3 arrive */
	assert_int_equal(b->first_recent, 3);
	assert_int_equal(mail_index_claim_recent(b, 3, &from, &e), 0);
	assert_int_equal(from, 3);	/* nothing left below 3 */
	/* b's view goes to UID 3: only that one is b's. */
	assert_int_equal(mail_index_claim_recent(b, 4, &from, &e), 0);
	assert_int_equal(from, 3);
	/* a's view is older than b's claim: it takes nothing. */
	assert_int_equal(mail_index_claim_recent(a, 4, &from, &e), 0);
	assert_int_equal(from, 4);
	assert_int_equal(a->first_recent, 4);
	/* Compaction keeps the mark. */
	char buf[512];
	compact(a, s, 3, buf, sizeof buf);
	assert_non_null(strstr(buf, "\nr 4\n"));
	assert_null(strstr(buf, "\n= "));
	mail_index_free(b);
	b = open_ix();
	sync_ok(b, s, 3);
	assert_int_equal(b->first_recent, 4);
	/* A damaged index: nothing given; the rebuild starts again at 1. */
	write_file("inetkit-index 1 5 4 9\nr x\n");
	assert_int_equal(mail_index_claim_recent(b, 4, &from, &e), 0);
	assert_int_equal(from, 4);
	sync_ok(b, s, 3);
	assert_true(b->rebuilt);
	assert_int_equal(b->first_recent, 1);
	assert_int_equal(mail_index_claim_recent(b, 4, &from, &e), 0);
	assert_int_equal(from, 1);
	mail_index_free(a);
	mail_index_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uids_persist), cmocka_unit_test(modseq),
		cmocka_unit_test(damage),       cmocka_unit_test(compaction),
		cmocka_unit_test(odd_names),
		cmocka_unit_test(scan_under_lock),
		cmocka_unit_test(recent_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
