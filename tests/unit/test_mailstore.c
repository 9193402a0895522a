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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"
#include "mailstore/mailstore.h"
#include "mailstore/mailstore_int.h"

struct fx {
	char dir[64];
	struct mailstore *ms;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	str_copy(f->dir, sizeof f->dir, "/tmp/ik-mailstore-XXXXXX");
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

static void path_in(char *out, size_t outsz, const struct fx *f, const char *rel)
{
	str_fmt(out, outsz, "%s/%s", f->dir, rel);
}

/* The whole of a file, NUL-terminated; *len its length. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* The names in a directory (not . or ..), how many; the first in first. */
static int list_dir(const char *path, char *first, size_t firstsz)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && first != NULL)
			str_copy(first, firstsz, de->d_name);
	}
	closedir(d);
	return n;
}

static struct mail_spool *spool_with(struct fx *f, const char *text)
{
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_non_null(sp);
	assert_int_equal(mail_spool_put(sp, text, strlen(text), &e), 0);
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	return sp;
}

static char *spool_text(struct fx *f, struct mail_spool *sp, size_t *len)
{
	char p[256];
	str_fmt(p, sizeof p, "%s/mail/.spool/%s", f->dir, mail_spool_name(sp));
	return slurp(p, len);
}

static void crlf_across_chunks(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_non_null(sp);
	/* Trace header as is, then network bytes cut at awkward places:
	 * a CR ending a chunk with its LF starting the next, a CR ending a
	 * chunk followed by no LF, lone CRs and LFs kept. */
	const char *chunks[] = {"Subject: x\r", "\nA\r\nB\r", "C\n", "D\r", "\r", "\n", "E\rF",
				"\r\r\n", "G\r"};
	assert_int_equal(mail_spool_put(sp, "Received: y\n", 12, &e), 0);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
		assert_int_equal(mail_spool_put_crlf(sp, chunks[i], strlen(chunks[i]), &e), 0);
	assert_int_equal(mail_spool_put_crlf(sp, "", 0, &e), 0);
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	assert_int_equal(mail_spool_sync(sp, &e), 0);	/* once only */
	const char *want = "Received: y\nSubject: x\nA\nB\rC\nD\r\nE\rF\r\nG\r";
	size_t len;
	char *got = spool_text(f, sp, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	assert_int_equal(mail_spool_size(sp), strlen(want));
	free(got);
	/* Nothing may be added once synced. */
	assert_int_equal(mail_spool_put(sp, "x", 1, &e), -1);
	mail_spool_free(sp);
}

static void crlf_held_cr_then_raw_put(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_int_equal(mail_spool_put_crlf(sp, "a\r", 2, &e), 0);
	assert_int_equal(mail_spool_put(sp, "\n", 1, &e), 0);	/* the CR was data */
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	size_t len;
	char *got = spool_text(f, sp, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "a\r\n", 3);
	free(got);
	mail_spool_free(sp);
}

static void large_message_through_the_buffer(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	/* 300 KiB of CRLF lines in chunks of 7000 bytes, and one put larger
	 * than the buffer. */
	size_t n = 300 * 1024;
	char *net = malloc(n), *want = malloc(n + 100000);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		net[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : (char)('a' + i % 26);
		if (net[i] != '\r')
			want[w++] = net[i];
	}
	for (size_t off = 0; off < n; off += 7000)
		assert_int_equal(mail_spool_put_crlf(sp, net + off, off + 7000 > n ? n - off : 7000,
						     &e), 0);
	assert_int_equal(mail_spool_put(sp, net, 100000, &e), 0);
	memcpy(want + w, net, 100000);
	w += 100000;
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	assert_int_equal(mail_spool_size(sp), w);
	size_t len;
	char *got = spool_text(f, sp, &len);
	assert_int_equal(len, w);
	assert_memory_equal(got, want, w);
	free(got);
	free(net);
	free(want);
	mail_spool_free(sp);
}

static void deliver_two_users_hard_links(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = spool_with(f, "Subject: hi\n\nbody\n");
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "bob", 0, &over, &e), 0);
	assert_false(over);
	char pa[256], pb[256], na[256], nb[256];
	path_in(pa, sizeof pa, f, "mail/alice/new");
	path_in(pb, sizeof pb, f, "mail/bob/new");
	assert_int_equal(list_dir(pa, na, sizeof na), 1);
	assert_int_equal(list_dir(pb, nb, sizeof nb), 1);
	/* The Maildir name: the spool id, the host, and the size. */
	assert_true(str_has_prefix(na, mail_spool_id(sp)));
	assert_non_null(strstr(na, ",S=18"));
	char fa[512], fb[512];
	str_fmt(fa, sizeof fa, "%s/%s", pa, na);
	str_fmt(fb, sizeof fb, "%s/%s", pb, nb);
	struct stat sa, sb, sd;
	assert_int_equal(stat(fa, &sa), 0);
	assert_int_equal(stat(fb, &sb), 0);
	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_equal(sa.st_size, 18);
	/* The mailbox: 0700, with tmp/ new/ cur/. */
	path_in(pa, sizeof pa, f, "mail/alice");
	assert_int_equal(stat(pa, &sd), 0);
	assert_int_equal(sd.st_mode & 07777, 0700);
	const char *parts[] = {"mail/alice/tmp", "mail/alice/cur", "mail/bob/cur"};
	for (size_t i = 0; i < 3; i++) {
		path_in(pa, sizeof pa, f, parts[i]);
		assert_int_equal(list_dir(pa, NULL, 0), 0);
	}
	/* The spool name goes; the mailboxes keep the message. */
	mail_spool_free(sp);
	assert_int_equal(stat(fa, &sa), 0);
	assert_int_equal(sa.st_nlink, 2);
	path_in(pa, sizeof pa, f, "mail/.spool");
	assert_int_equal(list_dir(pa, NULL, 0), 0);
	char *text = slurp(fb, NULL);
	assert_string_equal(text, "Subject: hi\n\nbody\n");
	free(text);
}

static void same_mailbox_twice_gets_two_names(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = spool_with(f, "x\n");
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), 0);
	char p[256];
	path_in(p, sizeof p, f, "mail/alice/new");
	assert_int_equal(list_dir(p, NULL, 0), 2);
	mail_spool_free(sp);
}

#define THREADS 4
#define PER_THREAD 2000

static void *make_names(void *arg)
{
	char (*names)[MAILSTORE_ID_MAX] = arg;
	for (int i = 0; i < PER_THREAD; i++)
		if (mailstore_unique(names[i], MAILSTORE_ID_MAX) < 0)
			return arg;
	return NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void unique_names_across_threads(void **state)
{
	(void)state;
	static char names[THREADS * PER_THREAD][MAILSTORE_ID_MAX];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_names, names[i * PER_THREAD]), 0);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	qsort(names, THREADS * PER_THREAD, MAILSTORE_ID_MAX, cmp_name);
	for (int i = 1; i < THREADS * PER_THREAD; i++)
		assert_string_not_equal(names[i - 1], names[i]);
	/* SECONDS.M<usec>P<pid>Q<counter>, no character a file name or a
	 * log line would mind. */
	char pid[32];
	str_fmt(pid, sizeof pid, "P%ld", (long)getpid());
	assert_non_null(strstr(names[0], ".M"));
	assert_non_null(strstr(names[0], pid));
	assert_non_null(strchr(names[0], 'Q'));
	assert_int_equal(strspn(names[0], "0123456789.MPQ"), strlen(names[0]));
}

struct deliver_job {
	struct fx *f;
	const char *user;
	int failures;
};

static void *deliver_many(void *arg)
{
	struct deliver_job *j = arg;
	for (int i = 0; i < 50; i++) {
		ik_err e;
		bool over;
		struct mail_spool *sp = mail_spool_new(j->f->ms, &e);
		if (sp == NULL || mail_spool_put(sp, "m\n", 2, &e) < 0 ||
		    mail_spool_sync(sp, &e) < 0 ||
		    mailstore_deliver(j->f->ms, sp, j->user, 1 << 20, &over, &e) < 0)
			j->failures++;
		mail_spool_free(sp);
	}
	return NULL;
}

static void concurrent_first_deliveries(void **state)
{
	struct fx *f = *state;
	struct deliver_job jobs[4] = {{f, "carol", 0}, {f, "carol", 0}, {f, "dave", 0},
				      {f, "carol", 0}};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, deliver_many, &jobs[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].failures, 0);
	}
	char p[256];
	path_in(p, sizeof p, f, "mail/carol/new");
	assert_int_equal(list_dir(p, NULL, 0), 150);
	ik_err e;
	uint64_t bytes, msgs;
	assert_int_equal(mailstore_usage(f->ms, "carol", &bytes, &msgs, &e), 0);
	assert_int_equal(msgs, 150);
	assert_int_equal(bytes, 300);
}

static void quota_refusal_stores_nothing(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = spool_with(f, "0123456789\n");	/* 11 bytes */
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 10, &over, &e), -1);
	assert_true(over);
	assert_string_equal(e.msg, "mailbox alice is full: 0 of 10 bytes used, and the message "
			    "has 11");
	char p[256];
	path_in(p, sizeof p, f, "mail/alice/new");
	assert_int_equal(list_dir(p, NULL, 0), 0);
	/* Fits exactly, then the next one does not. */
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 22, &over, &e), 0);
	assert_false(over);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 22, &over, &e), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 22, &over, &e), -1);
	assert_true(over);
	assert_int_equal(list_dir(p, NULL, 0), 2);
	uint64_t bytes, msgs;
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(bytes, 22);
	assert_int_equal(msgs, 2);
	path_in(p, sizeof p, f, "mail/alice/maildirsize");
	char *text = slurp(p, NULL);
	assert_string_equal(text, "22S\n0 0\n11 1\n11 1\n");
	free(text);
	mail_spool_free(sp);
}

static void maildirsize_rebuilt(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	uint64_t bytes, msgs;
	/* No mailbox yet: empty. */
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(msgs, 0);
	struct mail_spool *sp = spool_with(f, "abc\n");
	for (int i = 0; i < 3; i++)
		assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), 0);
	/* A file in cur/ with no size in its name counts by its size. */
	char p[256];
	path_in(p, sizeof p, f, "mail/alice/cur/old:2,S");
	FILE *fp = fopen(p, "w");
	fputs("12345", fp);
	fclose(fp);
	/* Without a quota there was no maildirsize: the files are summed,
	 * and the sum kept for the next call. */
	path_in(p, sizeof p, f, "mail/alice/maildirsize");
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(bytes, 17);
	assert_int_equal(msgs, 4);
	char *text = slurp(p, NULL);
	assert_string_equal(text, "0S\n17 4\n");
	free(text);
	/* Deliveries without a quota keep it up to date once it is there. */
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), 0);
	text = slurp(p, NULL);
	assert_string_equal(text, "0S\n17 4\n4 1\n");
	free(text);
	path_in(p, sizeof p, f, "mail/alice/new");
	char first[256], victim[512];
	list_dir(p, first, sizeof first);
	str_fmt(victim, sizeof victim, "%s/%s", p, first);
	assert_int_equal(unlink(victim), 0);	/* a mail client removed one */
	path_in(p, sizeof p, f, "mail/alice/maildirsize");
	/* A quota makes one; garbage in it is rebuilt, as is another quota. */
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 1000, &over, &e), 0);
	text = slurp(p, NULL);
	assert_string_equal(text, "1000S\n17 4\n4 1\n");
	free(text);
	fp = fopen(p, "w");
	fputs("1000S\n17 4\nnonsense\n", fp);
	fclose(fp);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 1000, &over, &e), 0);
	text = slurp(p, NULL);
	assert_string_equal(text, "1000S\n21 5\n4 1\n");
	free(text);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 2000, &over, &e), 0);
	text = slurp(p, NULL);
	assert_string_equal(text, "2000S\n25 6\n4 1\n");
	free(text);
	/* A folder counts too. */
	path_in(p, sizeof p, f, "mail/alice/.Sent");
	mkdir(p, 0700);
	path_in(p, sizeof p, f, "mail/alice/.Sent/cur");
	mkdir(p, 0700);
	path_in(p, sizeof p, f, "mail/alice/.Sent/cur/1.M1P1Q1.h,S=100:2,S");
	fp = fopen(p, "w");
	fclose(fp);
	path_in(p, sizeof p, f, "mail/alice/maildirsize");
	unlink(p);
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(bytes, 129);
	assert_int_equal(msgs, 8);
	mail_spool_free(sp);
}

static void usage_summed_again_when_quiet(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	uint64_t bytes, msgs;
	struct mail_spool *sp = spool_with(f, "abc\n");
	for (int i = 0; i < 2; i++)
		assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 100, &over, &e), 0);
	char p[256], first[256], victim[512];
	path_in(p, sizeof p, f, "mail/alice/new");
	list_dir(p, first, sizeof first);
	str_fmt(victim, sizeof victim, "%s/%s", p, first);
	assert_int_equal(unlink(victim), 0);	/* removed by another tool */
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(msgs, 2);	/* the file says so, and it is fresh */
	/* Twenty minutes without a change: the files are counted again. */
	path_in(p, sizeof p, f, "mail/alice/maildirsize");
	struct timespec old[2] = {{time(NULL) - 1200, 0}, {time(NULL) - 1200, 0}};
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(mailstore_usage(f->ms, "alice", &bytes, &msgs, &e), 0);
	assert_int_equal(msgs, 1);
	assert_int_equal(bytes, 4);
	char *text = slurp(p, NULL);
	assert_string_equal(text, "100S\n4 1\n");	/* the quota definition kept */
	free(text);
	/* A full mailbox whose file is stale is counted again before a
	 * delivery is refused. */
	str_fmt(victim, sizeof victim, "100S\n100 25\n");
	FILE *fp = fopen(p, "w");
	fputs(victim, fp);
	fclose(fp);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 100, &over, &e), -1);
	assert_true(over);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 100, &over, &e), 0);
	text = slurp(p, NULL);
	assert_string_equal(text, "100S\n4 1\n4 1\n");
	free(text);
	mail_spool_free(sp);
}

static void recover_removes_leftovers(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	/* Two spool files of a crashed process (never freed). */
	struct mail_spool *a = spool_with(f, "a\n"), *b = spool_with(f, "b\n");
	close(mail_spool_fd(a));
	close(mail_spool_fd(b));
	free(a);
	free(b);
	char p[256];
	path_in(p, sizeof p, f, "mail/.spool");
	assert_int_equal(list_dir(p, NULL, 0), 2);
	assert_int_equal(mailstore_recover(f->ms, &e), 2);
	assert_int_equal(list_dir(p, NULL, 0), 0);
	assert_int_equal(mailstore_recover(f->ms, &e), 0);
}

static void bad_names_refused(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = spool_with(f, "x\n");
	const char *bad[] = {"../x", ".x", "a/b", "", "..", "Alice", "x y"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = '\0';
		assert_int_equal(mailstore_deliver(f->ms, sp, bad[i], 0, &over, &e), -1);
		assert_false(over);
		assert_true(e.msg[0] != '\0');
	}
	assert_int_equal(mailstore_deliver(f->ms, sp, "../x", 0, &over, &e), -1);
	assert_string_equal(e.msg, "invalid mailbox name '../x': it must not start with '.' or "
			    "hold a '/'");
	char p[256];
	path_in(p, sizeof p, f, "mail");
	assert_int_equal(list_dir(p, NULL, 0), 1);	/* .spool only */
	path_in(p, sizeof p, f, "x");
	assert_int_equal(access(p, F_OK), -1);
	uint64_t bytes, msgs;
	assert_int_equal(mailstore_usage(f->ms, ".x", &bytes, &msgs, &e), -1);
	mail_spool_free(sp);
}

static void symlink_mailbox_not_followed(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = spool_with(f, "x\n");
	char target[256], link[256], p[256];
	/* A whole mailbox replaced by a link to somewhere else. */
	path_in(target, sizeof target, f, "elsewhere");
	mkdir(target, 0700);
	path_in(p, sizeof p, f, "elsewhere/new");
	mkdir(p, 0700);
	path_in(link, sizeof link, f, "mail/mallory");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "mallory", 0, &over, &e), -1);
	assert_non_null(strstr(e.msg, "mailbox mallory is not a directory"));
	assert_int_equal(list_dir(p, NULL, 0), 0);
	uint64_t bytes, msgs;
	assert_int_equal(mailstore_usage(f->ms, "mallory", &bytes, &msgs, &e), -1);
	/* new/ inside a real mailbox replaced by a link. */
	assert_int_equal(mailstore_deliver(f->ms, sp, "eve", 0, &over, &e), 0);
	path_in(link, sizeof link, f, "mail/eve/new");
	char moved[256];
	path_in(moved, sizeof moved, f, "mail/eve/new.old");
	assert_int_equal(rename(link, moved), 0);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "eve", 0, &over, &e), -1);
	assert_non_null(strstr(e.msg, "mailbox eve/new is not a directory"));
	assert_int_equal(list_dir(p, NULL, 0), 0);
	/* maildirsize as a link to a file elsewhere: never written through. */
	unlink(link);
	rename(moved, link);
	char outside[256];
	path_in(outside, sizeof outside, f, "elsewhere/victim");
	FILE *fp = fopen(outside, "w");
	fputs("keep\n", fp);
	fclose(fp);
	path_in(link, sizeof link, f, "mail/eve/maildirsize");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "eve", 0, &over, &e), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "eve", 1000, &over, &e), 0);
	char *text = slurp(outside, NULL);
	assert_string_equal(text, "keep\n");
	free(text);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));	/* replaced by a real file */
	mail_spool_free(sp);
}

static void deliver_before_sync_refused(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	bool over;
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_int_equal(mail_spool_put(sp, "x\n", 2, &e), 0);
	assert_int_equal(mailstore_deliver(f->ms, sp, "alice", 0, &over, &e), -1);
	assert_string_equal(e.msg, "delivery to alice before the spool file is synced");
	mail_spool_free(sp);
	mail_spool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(crlf_across_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(crlf_held_cr_then_raw_put, setup, teardown),
		cmocka_unit_test_setup_teardown(large_message_through_the_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(deliver_two_users_hard_links, setup, teardown),
		cmocka_unit_test_setup_teardown(same_mailbox_twice_gets_two_names, setup, teardown),
		cmocka_unit_test_setup_teardown(unique_names_across_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_first_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(quota_refusal_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(maildirsize_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(usage_summed_again_when_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_removes_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_names_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_mailbox_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(deliver_before_sync_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
