#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/str.h"

/* A fresh directory (mode 0755) for each test. */
static int setup(void **state)
{
	static char dir[64];
	str_copy(dir, sizeof dir, "/tmp/ik-fsutil-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0)
		return -1;
	*state = dir;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	fs_set_service_user((unsigned)-1, (unsigned)-1);
	return nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(char *out, size_t outsz, void **state, const char *name)
{
	str_fmt(out, outsz, "%s/%s", (const char *)*state, name);
}

static void access_as_this_process(void **state)
{
	char p[128], msg[256];
	ik_err e = {""};
	path_in(p, sizeof p, state, "a/b");
	assert_int_equal(fs_user_access(p, F_OK, NULL, (unsigned)-1, 0, &e), ENOENT);
	path_in(msg, sizeof msg, state, "a does not exist");
	assert_string_equal(e.msg, msg);

	path_in(p, sizeof p, state, "file");
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fs_user_access(p, R_OK, NULL, (unsigned)-1, 0, &e), 0);
	path_in(p, sizeof p, state, "file/under");
	assert_int_equal(fs_user_access(p, F_OK, NULL, (unsigned)-1, 0, &e), ENOTDIR);
	path_in(msg, sizeof msg, state, "file is not a directory");
	assert_string_equal(e.msg, msg);
	assert_int_equal(fs_user_access(state[0], X_OK, NULL, (unsigned)-1, 0, &e), 0);
}

static int nobody(unsigned *uid, unsigned *gid)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0 || pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static void access_as_another_user(void **state)
{
	unsigned uid, gid;
	if (nobody(&uid, &gid) < 0)
		skip();
	char locked[128], p[160], msg[512];
	ik_err e = {""};
	path_in(locked, sizeof locked, state, "locked");
	assert_int_equal(mkdir(locked, 0700), 0);
	str_fmt(p, sizeof p, "%s/var", locked);
	assert_int_equal(mkdir(p, 0777), 0);
	/* Root reaches it; nobody stops at the directory above. */
	assert_int_equal(fs_user_access(p, F_OK, NULL, (unsigned)-1, 0, &e), 0);
	assert_int_equal(fs_user_access(p, F_OK, "nobody", uid, gid, &e), EACCES);
	str_fmt(msg, sizeof msg, "user nobody cannot search %s (mode 0700, owner root); allow it "
		"(chmod o+x %s)", locked, locked);
	assert_string_equal(e.msg, msg);
	/* On the path itself: the permissions wanted, and the class that
	 * applies to that user. */
	assert_int_equal(chmod(locked, 0711), 0);
	assert_int_equal(chown(p, uid, gid), 0);
	assert_int_equal(chmod(p, 0100), 0);
	assert_int_equal(fs_user_access(p, R_OK | X_OK, "nobody", uid, gid, &e), EACCES);
	str_fmt(msg, sizeof msg, "user nobody has no rx permission on %s (mode 0100, owner nobody); "
		"allow it (chmod u+rx %s)", p, p);
	assert_string_equal(e.msg, msg);
	assert_int_equal(fs_user_access(p, X_OK, "nobody", uid, gid, &e), 0);
}

static void read_file(void **state)
{
	char p[128];
	ik_err e = {""};
	path_in(p, sizeof p, state, "f");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("0123456789", f);
	fclose(f);
	struct sbuf b = SBUF_INIT(10);
	assert_int_equal(fs_read_file(p, &b, &e), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(sbuf_cstr(&b), "0123456789");
	sbuf_free(&b);
	struct sbuf small = SBUF_INIT(9);
	assert_int_equal(fs_read_file(p, &small, &e), -1);
	assert_non_null(strstr(e.msg, "is larger than 9 bytes"));
	assert_int_equal(small.len, 0);
	sbuf_free(&small);
	struct sbuf d = SBUF_INIT(100);
	assert_int_equal(fs_read_file(state[0], &d, &e), -1);
	assert_non_null(strstr(e.msg, "is not a regular file"));
	path_in(p, sizeof p, state, "missing");
	assert_int_equal(fs_read_file(p, &d, &e), -1);
	assert_non_null(strstr(e.msg, "No such file or directory"));
	sbuf_free(&d);
}

static void open_append_without_a_service_user(void **state)
{
	char p[128];
	ik_err e = {""};
	path_in(p, sizeof p, state, "log");
	int fd = fs_open_append(p, 0640, &e);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\n", 2), 2);
	close(fd);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	path_in(p, sizeof p, state, "none/log");
	assert_int_equal(fs_open_append(p, 0640, &e), -1);
	assert_non_null(strstr(e.msg, "cannot open '"));
	assert_non_null(strstr(e.msg, "for appending: No such file or directory"));
}

static void open_append_gives_the_file_to_the_service_user(void **state)
{
	unsigned uid, gid;
	if (nobody(&uid, &gid) < 0)
		skip();
	fs_set_service_user(uid, gid);
	char p[128], q[128], msg[256];
	ik_err e = {""};
	struct stat st;
	/* Made here: the user's, with its group. */
	path_in(p, sizeof p, state, "made");
	int fd = fs_open_append(p, 0640, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	/* Already there, root's: the owner changes, the group stays. */
	path_in(p, sizeof p, state, "there");
	fd = open(p, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	fd = fs_open_append(p, 0640, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, 0);
	/* A link the user could have put there is not followed. */
	path_in(q, sizeof q, state, "link");
	assert_int_equal(symlink(p, q), 0);
	assert_int_equal(fs_open_append(q, 0640, &e), -1);
	str_fmt(msg, sizeof msg, "cannot open '%s' for appending: it is a symbolic link; name the "
		"file itself", q);
	assert_string_equal(e.msg, msg);
	path_in(q, sizeof q, state, "hard");
	assert_int_equal(link(p, q), 0);
	assert_int_equal(fs_open_append(q, 0640, &e), -1);
	str_fmt(msg, sizeof msg, "cannot give '%s' to user nobody, who must open it again later: it "
		"has more than one hard link", q);
	assert_string_equal(e.msg, msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(access_as_this_process, setup, teardown),
		cmocka_unit_test_setup_teardown(access_as_another_user, setup, teardown),
		cmocka_unit_test_setup_teardown(read_file, setup, teardown),
		cmocka_unit_test_setup_teardown(open_append_without_a_service_user, setup, teardown),
		cmocka_unit_test_setup_teardown(open_append_gives_the_file_to_the_service_user, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
