#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/jail.h"
#include "lib/str.h"

/* Each test gets <tmp>/root (the jail) and <tmp>/outside (must stay
 * untouched) with outside/secret in it. */
struct fixture {
	char base[64];
	char root[96];
	char outside[96];
	struct jail j;
};

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	umask(022);
	struct fixture *f = calloc(1, sizeof *f);
	str_copy(f->base, sizeof f->base, "/tmp/inetkit-jail-XXXXXX");
	if (mkdtemp(f->base) == NULL)
		return -1;
	str_fmt(f->root, sizeof f->root, "%s/root", f->base);
	str_fmt(f->outside, sizeof f->outside, "%s/outside", f->base);
	mkdir(f->root, 0755);
	mkdir(f->outside, 0755);
	char p[160];
	str_fmt(p, sizeof p, "%s/secret", f->outside);
	put_file(p, "secret\n");
	str_fmt(p, sizeof p, "%s/sub", f->root);
	mkdir(p, 0755);
	str_fmt(p, sizeof p, "%s/sub/file", f->root);
	put_file(p, "inside\n");
	ik_err e;
	if (jail_open_root(&f->j, f->root, &e) < 0)
		return -1;
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
	struct fixture *f = *state;
	jail_close(&f->j);
	nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void in_root(struct fixture *f, char *buf, size_t sz, const char *rel)
{
	str_fmt(buf, sz, "%s/%s", f->root, rel);
}

static void vpath_join_cases(void **state)
{
	(void)state;
	static const struct { const char *cwd, *arg, *want; } cases[] = {
		{"/", "a", "/a"},
		{"/a/b", "c", "/a/b/c"},
		{"/a/b", "..", "/a"},
		{"/a/b", "../..", "/"},
		{"/a/b", "../../../../..", "/"},
		{"/a", "/x/y", "/x/y"},
		{"/a", "//x///y//", "/x/y"},
		{"/a", "./b/./c/.", "/a/b/c"},
		{"/a", "", "/a"},
		{"/", "..", "/"},
		{"/", "/..", "/"},
		{"/a", "b/../../..", "/"},
		{"/a", "...", "/a/..."},
		{"/a", ".hidden", "/a/.hidden"},
		{"/", "with space", "/with space"},
		{"/", "../etc/passwd", "/etc/passwd"},
	};
	char out[JAIL_VPATH_MAX];
	ik_err e;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(jail_vpath_join(cases[i].cwd, cases[i].arg, out, sizeof out, &e), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_string_equal(jail_vpath_base("/a/b"), "b");
	assert_string_equal(jail_vpath_base("/"), "");
}

static void vpath_join_refusals(void **state)
{
	(void)state;
	char out[JAIL_VPATH_MAX];
	ik_err e;
	errno = 0;
	assert_int_equal(jail_vpath_join_len("/", "a\0b", 3, out, sizeof out, &e), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(e.msg, "file names cannot contain NUL bytes");

	char name[NAME_MAX + 2];
	memset(name, 'x', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	assert_int_equal(jail_vpath_join("/", name, out, sizeof out, &e), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(e.msg, "a file name is longer than 255 bytes");
	name[NAME_MAX] = '\0';
	assert_int_equal(jail_vpath_join("/", name, out, sizeof out, &e), 0);

	/* 20 components of 255 bytes: over PATH_MAX in total. */
	static char longpath[20 * 256 + 1];
	for (size_t i = 0; i < 20; i++) {
		memset(longpath + i * 256, 'y', 255);
		longpath[i * 256 + 255] = '/';
	}
	longpath[20 * 256 - 1] = '\0';
	assert_int_equal(jail_vpath_join("/", longpath, out, sizeof out, &e), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* Built from cwd + arg: 16 * 256 = 4096 bytes -> refused too. */
	char cwd[JAIL_VPATH_MAX];
	memcpy(cwd, longpath, 15 * 256);
	cwd[15 * 256 - 1] = '\0';
	char full[JAIL_VPATH_MAX];
	assert_int_equal(jail_vpath_join("/", cwd, full, sizeof full, &e), 0);
	assert_int_equal(jail_vpath_join(full, name, out, sizeof out, &e), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(e.msg, "the path is longer than 4095 bytes");
	/* A small output buffer is a limit too. */
	char small[8];
	assert_int_equal(jail_vpath_join("/", "abcdefgh", small, sizeof small, &e), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(jail_vpath_join("/", "abcdef", small, sizeof small, &e), 0);
	assert_string_equal(small, "/abcdef");
}

static void dotdot_escape(void **state)
{
	struct fixture *f = *state;
	errno = 0;
	assert_int_equal(jail_open(&f->j, "../outside/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(jail_open(&f->j, "/sub/../../outside/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
	/* ".." that stays beneath is fine. */
	int fd = jail_open(&f->j, "/sub/../sub/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	struct stat st;
	assert_int_equal(jail_stat(&f->j, "/", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void absolute_symlink_escape(void **state)
{
	struct fixture *f = *state;
	char p[256];
	in_root(f, p, sizeof p, "abs");
	assert_int_equal(symlink("/", p), 0);
	struct stat st;
	errno = 0;
	assert_int_equal(jail_stat(&f->j, "/abs/etc/passwd", &st), -1);
	assert_int_equal(errno, EXDEV);
	assert_string_equal(jail_errno_reply(errno), "Path leads outside your root");
	assert_null(jail_opendir(&f->j, "/abs"));
	assert_int_equal(errno, EXDEV);
	/* lstat of the link itself is allowed: it is a name inside the root. */
	assert_int_equal(jail_lstat(&f->j, "/abs", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char target[64];
	assert_int_equal(jail_readlink(&f->j, "/abs", target, sizeof target), 1);
	assert_string_equal(target, "/");
}

static void relative_symlink_escape(void **state)
{
	struct fixture *f = *state;
	char p[256];
	in_root(f, p, sizeof p, "sub/up");
	assert_int_equal(symlink("../../outside", p), 0);
	errno = 0;
	assert_int_equal(jail_open(&f->j, "/sub/up/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
	/* chmod through it must not touch the outside file. */
	assert_int_equal(jail_chmod(&f->j, "/sub/up/secret", 0600), -1);
	assert_int_equal(errno, EXDEV);
	char sec[256];
	str_fmt(sec, sizeof sec, "%s/secret", f->outside);
	struct stat st;
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

static void symlink_inside_works(void **state)
{
	struct fixture *f = *state;
	char p[256];
	in_root(f, p, sizeof p, "link");
	assert_int_equal(symlink("sub", p), 0);
	in_root(f, p, sizeof p, "sub/back");
	assert_int_equal(symlink("../sub/file", p), 0);
	int fd = jail_open(&f->j, "/link/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	char buf[16] = {0};
	assert_int_equal(read(fd, buf, sizeof buf - 1), 7);
	assert_string_equal(buf, "inside\n");
	close(fd);
	fd = jail_open(&f->j, "/sub/back", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	DIR *d = jail_opendir(&f->j, "/link");
	assert_non_null(d);
	closedir(d);
	assert_int_equal(jail_chmod(&f->j, "/link/file", 0600), 0);
	struct stat st;
	assert_int_equal(jail_stat(&f->j, "/sub/file", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void dangling_symlink_create(void **state)
{
	struct fixture *f = *state;
	char p[256], target[256];
	str_fmt(target, sizeof target, "%s/created", f->outside);
	in_root(f, p, sizeof p, "dangle");
	assert_int_equal(symlink(target, p), 0);
	errno = 0;
	assert_int_equal(jail_open(&f->j, "/dangle", O_WRONLY | O_CREAT, 0644), -1);
	assert_int_equal(errno, EXDEV);
	assert_false(exists(target));
}

static void magic_links_refused(void **state)
{
	(void)state;
	/* A jail whose root holds /proc: the magic link is "inside" by name,
	 * and RESOLVE_NO_MAGICLINKS still refuses it. */
	struct jail pj;
	ik_err e;
	assert_int_equal(jail_open_root(&pj, "/proc/self", &e), 0);
	errno = 0;
	assert_int_equal(jail_open(&pj, "/root/etc/passwd", O_RDONLY, 0), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(jail_open(&pj, "/cwd", O_RDONLY | O_DIRECTORY, 0), -1);
	assert_int_equal(errno, ELOOP);
	jail_close(&pj);
	assert_int_equal(jail_open_root(&pj, "/", &e), 0);
	assert_int_equal(jail_open(&pj, "/proc/self/root/etc/passwd", O_RDONLY, 0), -1);
	assert_int_equal(errno, ELOOP);
	jail_close(&pj);
	assert_int_equal(jail_open_root(&pj, "/nonexistent-inetkit", &e), -1);
	assert_string_equal(e.msg, "cannot open root directory '/nonexistent-inetkit': "
				   "No such file or directory");
}

static void magic_link_via_symlink(void **state)
{
	struct fixture *f = *state;
	char p[256];
	in_root(f, p, sizeof p, "proc");
	assert_int_equal(symlink("/proc/self/root", p), 0);
	errno = 0;
	assert_int_equal(jail_open(&f->j, "/proc/etc/passwd", O_RDONLY, 0), -1);
	assert_true(errno == EXDEV || errno == ELOOP);
}

static void rename_across_dirs(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(jail_mkdir(&f->j, "/a", 0755), 0);
	assert_int_equal(jail_mkdir(&f->j, "/a/b", 0755), 0);
	errno = 0;
	assert_int_equal(jail_mkdir(&f->j, "/a", 0755), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(jail_rename(&f->j, "/sub/file", "/a/b/moved"), 0);
	char p[256];
	in_root(f, p, sizeof p, "a/b/moved");
	assert_true(exists(p));
	in_root(f, p, sizeof p, "sub/file");
	assert_false(exists(p));
	/* Renaming out of the root is refused on the target's parent. */
	char abs[256];
	in_root(f, abs, sizeof abs, "abs");
	assert_int_equal(symlink(f->outside, abs), 0);
	assert_int_equal(jail_rename(&f->j, "/a/b/moved", "/abs/stolen"), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(jail_rename(&f->j, "/abs/secret", "/a/got"), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(jail_rename(&f->j, "/nope", "/a/x"), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(jail_errno_reply(errno), "No such file or directory");
	/* rmdir, unlink and their refusals. */
	assert_int_equal(jail_rmdir(&f->j, "/a"), -1);
	assert_int_equal(errno, ENOTEMPTY);
	assert_int_equal(jail_unlink(&f->j, "/a/b/moved"), 0);
	assert_int_equal(jail_rmdir(&f->j, "/a/b"), 0);
	assert_int_equal(jail_rmdir(&f->j, "/"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(jail_unlink(&f->j, "/a/.."), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(jail_unlink(&f->j, "/a/."), -1);
	assert_int_equal(errno, EINVAL);
	/* unlinking the escaping symlink removes the link, not its target. */
	assert_int_equal(jail_unlink(&f->j, "/abs"), 0);
	char sec[256];
	str_fmt(sec, sizeof sec, "%s/secret", f->outside);
	assert_true(exists(sec));
}

static void swapped_dir_stays_beneath(void **state)
{
	struct fixture *f = *state;
	char name[NAME_MAX + 1];
	int dfd = jail_open_parent(&f->j, "/sub/newdir", name);
	assert_true(dfd >= 0);
	assert_string_equal(name, "newdir");
	/* The client's directory is replaced by a symlink to the outside. */
	char sub[256], moved[256];
	in_root(f, sub, sizeof sub, "sub");
	in_root(f, moved, sizeof moved, "moved");
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(symlink(f->outside, sub), 0);
	/* The fd still names the original directory, now root/moved. */
	assert_int_equal(mkdirat(dfd, name, 0755), 0);
	close(dfd);
	char p[256];
	in_root(f, p, sizeof p, "moved/newdir");
	assert_true(exists(p));
	str_fmt(p, sizeof p, "%s/newdir", f->outside);
	assert_false(exists(p));
	/* New lookups through the swapped name are refused. */
	errno = 0;
	assert_int_equal(jail_mkdir(&f->j, "/sub/other", 0755), -1);
	assert_int_equal(errno, EXDEV);
	str_fmt(p, sizeof p, "%s/other", f->outside);
	assert_false(exists(p));
	assert_int_equal(jail_unlink(&f->j, "/sub/secret"), -1);
	assert_int_equal(errno, EXDEV);
	str_fmt(p, sizeof p, "%s/secret", f->outside);
	assert_true(exists(p));
}

static void upload_commit_and_abort(void **state)
{
	struct fixture *f = *state;
	struct jail_upload u;
	assert_int_equal(jail_open_tmp_for_upload(&f->j, "/sub/up.txt", 0644, &u), 0);
	assert_true(str_has_prefix(u.tmp, JAIL_UPLOAD_PREFIX));
	assert_int_equal(strlen(u.tmp), strlen(JAIL_UPLOAD_PREFIX) + 16);
	assert_int_equal(write(u.fd, "data", 4), 4);
	char p[256];
	in_root(f, p, sizeof p, "sub/up.txt");
	assert_false(exists(p));	/* readers never see half a file */
	assert_int_equal(jail_commit_upload(&u, NULL, 0), 0);
	assert_int_equal(u.fd, -1);
	assert_true(exists(p));
	struct stat st;
	assert_int_equal(jail_stat(&f->j, "/sub/up.txt", &st), 0);
	assert_int_equal(st.st_size, 4);

	/* STOU style: taken names fail with EEXIST, the temporary stays. */
	assert_int_equal(jail_open_tmp_for_upload(&f->j, "/sub/up.txt", 0644, &u), 0);
	errno = 0;
	assert_int_equal(jail_commit_upload(&u, NULL, JAIL_NOREPLACE), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(jail_commit_upload(&u, "../x", 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(jail_commit_upload(&u, "up.txt.1", JAIL_NOREPLACE), 0);
	in_root(f, p, sizeof p, "sub/up.txt.1");
	assert_true(exists(p));

	/* Abort leaves nothing behind. */
	assert_int_equal(jail_open_tmp_for_upload(&f->j, "/sub/gone", 0644, &u), 0);
	char tmp[256];
	str_fmt(tmp, sizeof tmp, "%s/sub/%s", f->root, u.tmp);
	assert_true(exists(tmp));
	jail_abort_upload(&u);
	jail_abort_upload(&u);
	assert_false(exists(tmp));

	/* Upload into a directory reached through an escaping link. */
	in_root(f, p, sizeof p, "out");
	assert_int_equal(symlink("../outside", p), 0);
	assert_int_equal(jail_open_tmp_for_upload(&f->j, "/out/x", 0644, &u), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(u.fd, -1);
	assert_int_equal(jail_open_tmp_for_upload(&f->j, "/", 0644, &u), -1);
	assert_int_equal(errno, EINVAL);
}

static void regular_files_only(void **state)
{
	struct fixture *f = *state;
	char p[256];
	in_root(f, p, sizeof p, "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	/* Would block forever without O_NONBLOCK: no writer. */
	errno = 0;
	assert_int_equal(jail_open_file(&f->j, "/fifo", O_RDONLY, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(jail_errno_reply(errno), "Not a regular file");
	assert_int_equal(jail_open_file(&f->j, "/sub", O_RDONLY, 0), -1);
	assert_int_equal(errno, EISDIR);
	int fd = jail_open_file(&f->j, "/sub/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fd = jail_open_file(&f->j, "/sub/new", O_WRONLY | O_CREAT | O_APPEND, 0640);
	assert_true(fd >= 0);
	close(fd);
	struct stat st;
	assert_int_equal(jail_stat(&f->j, "/sub/new", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(jail_open_file(&f->j, "/../outside/secret", O_RDONLY, 0), -1);
	assert_int_equal(errno, EXDEV);
}

static void errno_texts(void **state)
{
	(void)state;
	assert_string_equal(jail_errno_reply(EACCES), "Permission denied");
	assert_string_equal(jail_errno_reply(EPERM), "Permission denied");
	assert_string_equal(jail_errno_reply(ELOOP),
			    "Too many symbolic links, or a link that may not be followed");
	assert_string_equal(jail_errno_reply(ENOTDIR), "Not a directory");
	assert_string_equal(jail_errno_reply(0), "Operation failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vpath_join_cases),
		cmocka_unit_test(vpath_join_refusals),
		cmocka_unit_test_setup_teardown(dotdot_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(absolute_symlink_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(relative_symlink_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_inside_works, setup, teardown),
		cmocka_unit_test_setup_teardown(dangling_symlink_create, setup, teardown),
		cmocka_unit_test(magic_links_refused),
		cmocka_unit_test_setup_teardown(magic_link_via_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_across_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(swapped_dir_stays_beneath, setup, teardown),
		cmocka_unit_test_setup_teardown(upload_commit_and_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(regular_files_only, setup, teardown),
		cmocka_unit_test(errno_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
