/* core/fswatch: directory changes reach the callbacks on the loop,
 * coalesced per batch; watches of one directory are independent; a
 * watch removed from its own callback is not called again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fswatch.h"
#include "core/loop.h"

struct fx {
	struct loop *loop;
	struct fswatch *w;
	char dir[64];
	int dirfd;
};

struct hits {
	struct fx *fx;
	int n;
	struct fswatch_dir *self;	/* removed on the first call when set */
	bool remove_self;
};

static void on_change(void *arg)
{
	struct hits *h = arg;
	h->n++;
	if (h->remove_self && h->self != NULL) {
		fswatch_remove(h->fx->w, h->self);
		h->self = NULL;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_exit(arg);
}

/* Run the loop for ms: the batches the kernel queued are delivered. */
static void spin(struct fx *fx, uint64_t ms)
{
	struct event *t = loop_timer(fx->loop, ms, false, on_timeout, fx->loop);
	assert_non_null(t);
	loop_run(fx->loop);
	event_free(t);
}

static void touch(struct fx *fx, const char *name)
{
	int fd = openat(fx->dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	ik_err e;
	fx->loop = loop_new(&e);
	assert_non_null(fx->loop);
	fx->w = fswatch_new(fx->loop, &e);
	assert_non_null(fx->w);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_fswatch.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	char sub[96];
	snprintf(sub, sizeof sub, "%s/new", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fx->dirfd >= 0);
	*state = fx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	fswatch_free(fx->w);
	loop_free(fx->loop);
	assert_int_equal(nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	close(fx->dirfd);
	free(fx);
	return 0;
}

static void test_create_rename_delete(void **state)
{
	struct fx *fx = *state;
	struct hits h = {fx, 0, NULL, false};
	ik_err e;
	struct fswatch_dir *d = fswatch_add(fx->w, fx->dirfd, "new", on_change, &h, &e);
	assert_non_null(d);
	assert_int_equal(fswatch_count(fx->w), 1);
	spin(fx, 20);
	assert_int_equal(h.n, 0);	/* nothing changed yet */
	/* Several changes at once: one call. */
	touch(fx, "new/a");
	touch(fx, "new/b");
	spin(fx, 50);
	assert_int_equal(h.n, 1);
	assert_int_equal(renameat(fx->dirfd, "new/a", fx->dirfd, "new/a:2,S"), 0);
	spin(fx, 50);
	assert_int_equal(h.n, 2);
	assert_int_equal(unlinkat(fx->dirfd, "new/b", 0), 0);
	spin(fx, 50);
	assert_int_equal(h.n, 3);
	/* A file outside the watched directory: no call. */
	touch(fx, "other");
	spin(fx, 50);
	assert_int_equal(h.n, 3);
	fswatch_remove(fx->w, d);
	assert_int_equal(fswatch_count(fx->w), 0);
	touch(fx, "new/c");
	spin(fx, 50);
	assert_int_equal(h.n, 3);
}

static void test_two_watches_one_dir(void **state)
{
	struct fx *fx = *state;
	struct hits h1 = {fx, 0, NULL, false}, h2 = {fx, 0, NULL, false};
	ik_err e;
	struct fswatch_dir *d1 = fswatch_add(fx->w, fx->dirfd, "new", on_change, &h1, &e);
	struct fswatch_dir *d2 = fswatch_add(fx->w, fx->dirfd, "new", on_change, &h2, &e);
	assert_non_null(d1);
	assert_non_null(d2);
	touch(fx, "new/x");
	spin(fx, 50);
	assert_int_equal(h1.n, 1);
	assert_int_equal(h2.n, 1);
	/* Removing one keeps the kernel watch for the other. */
	fswatch_remove(fx->w, d1);
	touch(fx, "new/y");
	spin(fx, 50);
	assert_int_equal(h1.n, 1);
	assert_int_equal(h2.n, 2);
	fswatch_remove(fx->w, d2);
}

static void test_remove_in_callback(void **state)
{
	struct fx *fx = *state;
	struct hits h = {fx, 0, NULL, true}, other = {fx, 0, NULL, false};
	ik_err e;
	h.self = fswatch_add(fx->w, fx->dirfd, "new", on_change, &h, &e);
	assert_non_null(h.self);
	assert_non_null(fswatch_add(fx->w, fx->dirfd, "new", on_change, &other, &e));
	touch(fx, "new/p");
	spin(fx, 50);
	assert_int_equal(h.n, 1);
	assert_int_equal(other.n, 1);
	assert_null(h.self);
	assert_int_equal(fswatch_count(fx->w), 1);
	touch(fx, "new/q");
	spin(fx, 50);
	assert_int_equal(h.n, 1);
	assert_int_equal(other.n, 2);
	/* fswatch_free drops the one left */
}

static void test_missing_dir(void **state)
{
	struct fx *fx = *state;
	struct hits h = {fx, 0, NULL, false};
	ik_err e;
	assert_null(fswatch_add(fx->w, fx->dirfd, "nonexistent", on_change, &h, &e));
	assert_int_equal(fswatch_count(fx->w), 0);
	touch(fx, "new/z");
	assert_null(fswatch_add(fx->w, fx->dirfd, "new/z", on_change, &h, &e));	/* not a dir */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_rename_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_watches_one_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
