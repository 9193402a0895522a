#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/shmcount.h"

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void limits_in_one_process(void **state)
{
	(void)state;
	ik_err e = {""};
	struct shmcount *sc = shmcount_new(16, 4, &e);
	assert_non_null(sc);
	struct sockaddr_in a = v4("127.0.0.1"), b = v4("127.0.0.2");
	assert_int_equal(shmcount_acquire(sc, SA(a), 4, 2), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(a), 4, 2), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(a), 4, 2), SHMCOUNT_PER_IP);
	assert_int_equal(shmcount_acquire(sc, SA(b), 4, 2), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(b), 4, 0), SHMCOUNT_OK);	/* 0: no per-IP limit */
	assert_int_equal(shmcount_acquire(sc, SA(b), 4, 0), SHMCOUNT_TOTAL);
	assert_int_equal(shmcount_total(sc), 4);
	shmcount_release(sc, SA(a));
	assert_int_equal(shmcount_peer(sc, SA(a)), 1);
	assert_int_equal(shmcount_acquire(sc, SA(a), 4, 2), SHMCOUNT_OK);
	shmcount_release(sc, SA(a));
	shmcount_release(sc, SA(a));
	shmcount_release(sc, SA(a));	/* one too many: ignored */
	assert_int_equal(shmcount_peer(sc, SA(a)), 0);
	assert_int_equal(shmcount_total(sc), 2);
	shmcount_free(sc);
}

static void v4_mapped_is_the_same_address(void **state)
{
	(void)state;
	ik_err e = {""};
	struct shmcount *sc = shmcount_new(16, 2, &e);
	assert_non_null(sc);
	struct sockaddr_in a = v4("127.0.0.1");
	struct sockaddr_in6 m;
	memset(&m, 0, sizeof m);
	m.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
	assert_int_equal(shmcount_acquire(sc, SA(a), 0, 1), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(m), 0, 1), SHMCOUNT_PER_IP);
	shmcount_free(sc);
}

static void table_full_and_slot_reuse(void **state)
{
	(void)state;
	ik_err e = {""};
	struct shmcount *sc = shmcount_new(2, 1, &e);
	assert_non_null(sc);
	struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2"), c = v4("10.0.0.3");
	assert_int_equal(shmcount_acquire(sc, SA(a), 0, 5), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(b), 0, 5), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(c), 0, 5), SHMCOUNT_TABLE_FULL);
	shmcount_release(sc, SA(a));	/* its slot is free again */
	assert_int_equal(shmcount_acquire(sc, SA(c), 0, 5), SHMCOUNT_OK);
	assert_int_equal(shmcount_acquire(sc, SA(b), 0, 5), SHMCOUNT_OK);
	assert_int_equal(shmcount_peer(sc, SA(b)), 2);
	shmcount_free(sc);
}

/* Two processes hammer the same address; the limit holds for both together. */
static void two_processes_share_the_limits(void **state)
{
	(void)state;
	ik_err e = {""};
	struct shmcount *sc = shmcount_new(64, 4, &e);
	assert_non_null(sc);
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct sockaddr_in a = v4("127.0.0.1");
			unsigned char got = 0;
			for (int i = 0; i < 1000; i++) {
				if (shmcount_acquire(sc, SA(a), 100, 30) == SHMCOUNT_OK)
					got++;
				if (got > 0 && i % 3 == 0) {
					shmcount_release(sc, SA(a));
					got--;
				}
			}
			/* Hold what is left; report it; wait to be killed. */
			ssize_t n = write(pfd[1], &got, 1);
			(void)n;
			pause();
			_exit(0);
		}
	}
	unsigned char g[2];
	assert_int_equal(read(pfd[0], &g[0], 1), 1);
	assert_int_equal(read(pfd[0], &g[1], 1), 1);
	struct sockaddr_in a = v4("127.0.0.1");
	assert_int_equal(shmcount_peer(sc, SA(a)), g[0] + g[1]);
	assert_true(g[0] + g[1] <= 30);
	assert_int_equal(shmcount_total(sc), g[0] + g[1]);
	/* A crash (SIGKILL) gives nothing back... */
	for (int k = 0; k < 2; k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
	assert_int_equal(shmcount_total(sc), g[0] + g[1]);
	/* ...until a process claims a column: dead owners' columns are cleared. */
	assert_int_equal(shmcount_acquire(sc, SA(a), 100, 30), SHMCOUNT_OK);
	assert_int_equal(shmcount_total(sc), 1);
	assert_int_equal(shmcount_peer(sc, SA(a)), 1);
	close(pfd[0]);
	close(pfd[1]);
	shmcount_free(sc);
}

/* A child fills the per-address limit and dies; a second child (a
 * restarted worker) gets the whole limit again. */
static void crashed_worker_column_reset(void **state)
{
	(void)state;
	ik_err e = {""};
	struct shmcount *sc = shmcount_new(64, 4, &e);
	assert_non_null(sc);
	struct sockaddr_in a = v4("127.0.0.5");
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		for (int i = 0; i < 3; i++)
			if (shmcount_acquire(sc, SA(a), 10, 3) != SHMCOUNT_OK)
				_exit(1);
		_exit(shmcount_acquire(sc, SA(a), 10, 3) == SHMCOUNT_PER_IP ? 0 : 2);
	}
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(shmcount_peer(sc, SA(a)), 3);
	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		/* What a restarted worker does at start. */
		if (shmcount_attach(sc, &e) < 0 || shmcount_peer(sc, SA(a)) != 0)
			_exit(3);
		for (int i = 0; i < 3; i++)
			if (shmcount_acquire(sc, SA(a), 10, 3) != SHMCOUNT_OK)
				_exit(1);
		_exit(shmcount_acquire(sc, SA(a), 10, 3) == SHMCOUNT_PER_IP ? 0 : 2);
	}
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	shmcount_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limits_in_one_process),
		cmocka_unit_test(v4_mapped_is_the_same_address),
		cmocka_unit_test(table_full_and_slot_reuse),
		cmocka_unit_test(two_processes_share_the_limits),
		cmocka_unit_test(crashed_worker_column_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
