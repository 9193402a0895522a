#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/offload.h"

#define N_JOBS 40

struct job_state {
	struct loop *loop;
	pthread_t main_thread;
	atomic_int ran;
	int delivered;
	int on_main;		/* done callbacks that ran on the loop thread */
	atomic_int off_main;	/* work that ran elsewhere */
	int ticks_before_last;	/* timer ticks seen before the last delivery */
	int ticks;
	bool done_all;
	struct event *timer;
};

struct job {
	struct job_state *st;
	int index;
	bool worked;
	enum offload_status status;
	bool delivered;
};

static void work(void *arg)
{
	struct job *j = arg;
	usleep(2000);
	j->worked = true;
	if (!pthread_equal(pthread_self(), j->st->main_thread))
		atomic_fetch_add(&j->st->off_main, 1);
	atomic_fetch_add(&j->st->ran, 1);
}

static void done(void *arg, enum offload_status status)
{
	struct job *j = arg;
	struct job_state *st = j->st;
	j->status = status;
	j->delivered = true;
	st->delivered++;
	if (pthread_equal(pthread_self(), st->main_thread))
		st->on_main++;
	if (st->delivered == N_JOBS) {
		st->ticks_before_last = st->ticks;
		st->done_all = true;
		loop_exit(st->loop);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct job_state *st = arg;
	st->ticks++;
}

static void runs_off_loop_and_delivers_on_loop(void **state)
{
	(void)state;
	ik_err e;
	struct job_state st;
	memset(&st, 0, sizeof st);
	st.loop = loop_new(&e);
	assert_non_null(st.loop);
	st.main_thread = pthread_self();
	struct offload *o = offload_new(st.loop, 2, N_JOBS, &e);
	assert_non_null(o);
	struct job jobs[N_JOBS];
	for (int i = 0; i < N_JOBS; i++) {
		jobs[i] = (struct job){&st, i, false, OFFLOAD_CANCELLED, false};
		assert_int_equal(offload_submit(o, work, done, &jobs[i], &e), 0);
	}
	/* A timer on the same loop keeps firing while the jobs run. */
	st.timer = loop_timer(st.loop, 1, true, on_tick, &st);
	loop_run(st.loop);
	event_free(st.timer);
	assert_true(st.done_all);
	assert_int_equal(st.on_main, N_JOBS);
	assert_int_equal(st.off_main, N_JOBS);
	assert_true(st.ticks_before_last > 0);
	for (int i = 0; i < N_JOBS; i++) {
		assert_true(jobs[i].worked);
		assert_int_equal(jobs[i].status, OFFLOAD_DONE);
	}
	assert_int_equal(offload_in_flight(o), 0);
	offload_free(o);
	loop_free(st.loop);
}

/* A job that waits until the test opens its gate. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, open;
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

static void gated_work(void *arg)
{
	struct job *j = arg;
	pthread_mutex_lock(&gate.mu);
	gate.started = true;
	pthread_cond_broadcast(&gate.cv);
	while (!gate.open)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
	j->worked = true;
}

static void plain_done(void *arg, enum offload_status status)
{
	struct job *j = arg;
	j->status = status;
	j->delivered = true;
}

static void plain_work(void *arg)
{
	struct job *j = arg;
	j->worked = true;
}

static void *open_gate_later(void *arg)
{
	(void)arg;
	usleep(20000);
	pthread_mutex_lock(&gate.mu);
	gate.open = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	return NULL;
}

static void full_queue_is_refused_and_free_settles_every_job(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	assert_non_null(l);
	struct offload *o = offload_new(l, 1, 2, &e);
	assert_non_null(o);
	struct job jobs[4];
	memset(jobs, 0, sizeof jobs);
	assert_int_equal(offload_submit(o, gated_work, plain_done, &jobs[0], &e), 0);
	/* Wait until the only thread holds job 0: the queue is then empty. */
	pthread_mutex_lock(&gate.mu);
	while (!gate.started)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
	assert_int_equal(offload_submit(o, plain_work, plain_done, &jobs[1], &e), 0);
	assert_int_equal(offload_submit(o, plain_work, plain_done, &jobs[2], &e), 0);
	assert_int_equal(offload_waiting(o), 2);
	errno = 0;
	assert_int_equal(offload_submit(o, plain_work, plain_done, &jobs[3], &e), -1);
	assert_int_equal(errno, EAGAIN);
	assert_string_equal(e.msg, "busy: 2 jobs already wait for the 1 worker threads; try again later");
	pthread_t opener;
	pthread_create(&opener, NULL, open_gate_later, NULL);
	offload_free(o);
	pthread_join(opener, NULL);
	/* Each accepted job was settled exactly once: DONE if it ran. */
	for (int i = 0; i < 3; i++) {
		assert_true(jobs[i].delivered);
		assert_int_equal(jobs[i].status, jobs[i].worked ? OFFLOAD_DONE : OFFLOAD_CANCELLED);
	}
	assert_true(jobs[0].worked);
	assert_false(jobs[3].delivered);
	loop_free(l);
}

static void bad_sizes(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	assert_null(offload_new(l, 0, 10, &e));
	assert_string_equal(e.msg, "offload pool: threads must be 1-64 and the queue at least 1");
	assert_null(offload_new(l, 2, 0, &e));
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_off_loop_and_delivers_on_loop),
		cmocka_unit_test(full_queue_is_refused_and_free_settles_every_job),
		cmocka_unit_test(bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
