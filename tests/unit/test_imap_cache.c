/* imap/imap_cache: values computed once are found again, in memory and
 * after a reload from the file; headers alone (SEARCH) are kept too;
 * records of the old three-value form still load; a torn tail is
 * ignored. */
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

#include <gmime/gmime.h>

#include "imap/imap_int.h"

static const char MSG[] = "From: A <a@example.org>\r\nSubject: hello\r\n\r\nbody\r\n";

struct fx {
	char dir[64];
	int fd;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_imap_cache.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->fd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fx->fd >= 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	close(fx->fd);
	assert_int_equal(nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(fx);
	return 0;
}

static void write_file(struct fx *fx, const char *data, size_t len)
{
	int fd = openat(fx->fd, "inetkit-cache", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_compute_and_reload(void **state)
{
	struct fx *fx = *state;
	struct imap_cache *c = imap_cache_load(fx->fd);
	assert_non_null(c);
	assert_null(imap_cache_get(c, fx->fd, "m1", NULL, 0));
	const char *const *v = imap_cache_get(c, fx->fd, "m1", MSG, strlen(MSG));
	assert_non_null(v);
	assert_non_null(strstr(v[0], "\"hello\""));		/* ENVELOPE */
	assert_non_null(strcasestr(v[1], "\"text\" \"plain\""));	/* BODYSTRUCTURE */
	size_t len;
	const char *h = imap_cache_header(c, "m1", &len);	/* the header came along */
	assert_non_null(h);
	assert_int_equal(len, strlen(MSG) - strlen("body\r\n"));
	/* A header alone, as SEARCH keeps it. */
	imap_cache_set_header(c, "m2", "Subject: x\r\n\r\n", 14);
	assert_null(imap_cache_get(c, fx->fd, "m2", NULL, 0));
	imap_cache_free(c);	/* writes what is pending */

	c = imap_cache_load(fx->fd);
	v = imap_cache_get(c, fx->fd, "m1", NULL, 0);
	assert_non_null(v);
	assert_non_null(strstr(v[0], "\"hello\""));
	assert_non_null(imap_cache_header(c, "m1", &len));
	h = imap_cache_header(c, "m2", &len);
	assert_non_null(h);
	assert_int_equal(len, 14);
	assert_memory_equal(h, "Subject: x\r\n\r\n", 14);
	assert_null(imap_cache_get(c, fx->fd, "m2", NULL, 0));	/* no ENVELOPE for it */
	assert_null(imap_cache_header(c, "m3", &len));
	imap_cache_free(c);
}

static void test_old_records_and_torn_tail(void **state)
{
	struct fx *fx = *state;
	/* three values (the first format), then a header-only record, then a
	 * record cut short */
	static const char data[] = "a 3 4 5\nENVBSTBODY1\n"
				   "a - - - 3\nHDR"
				   "b 10 10 10\nshort";
	write_file(fx, data, sizeof data - 1);
	struct imap_cache *c = imap_cache_load(fx->fd);
	const char *const *v = imap_cache_get(c, fx->fd, "a", NULL, 0);
	assert_non_null(v);
	assert_string_equal(v[0], "ENV");
	assert_string_equal(v[1], "BSTB");
	assert_string_equal(v[2], "ODY1\n");
	size_t len;
	const char *h = imap_cache_header(c, "a", &len);
	assert_non_null(h);
	assert_int_equal(len, 3);
	assert_null(imap_cache_get(c, fx->fd, "b", NULL, 0));
	imap_cache_free(c);
}

static void test_many(void **state)
{
	struct fx *fx = *state;
	struct imap_cache *c = imap_cache_load(fx->fd);
	char base[32], hdr[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(base, sizeof base, "msg%d", i);
		snprintf(hdr, sizeof hdr, "Subject: %d\r\n\r\n", i);
		imap_cache_set_header(c, base, hdr, strlen(hdr));
	}
	imap_cache_free(c);
	c = imap_cache_load(fx->fd);
	for (int i = 0; i < 5000; i += 7) {
		size_t len;
		snprintf(base, sizeof base, "msg%d", i);
		snprintf(hdr, sizeof hdr, "Subject: %d\r\n\r\n", i);
		const char *h = imap_cache_header(c, base, &len);
		assert_non_null(h);
		assert_int_equal(len, strlen(hdr));
		assert_memory_equal(h, hdr, len);
	}
	imap_cache_free(c);
}

int main(void)
{
	g_mime_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compute_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_records_and_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
