/* The timed worker every lookup runs in (RFC 3493 calls have no timeout of
 * their own).
 *
 * Why a detached worker thread rather than glibc's getaddrinfo_a: a reverse
 * lookup (getnameinfo) and the services/protocols databases have no
 * asynchronous form, so one mechanism covers every lookup; the worker owns a
 * copy of its job, so giving up on it is just dropping a reference, whereas a
 * getaddrinfo_a request that gai_cancel cannot stop must keep its gaicb alive
 * in memory the caller can no longer free. */
#include "net/lookup.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/lookup_int.h"

struct timed_job {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int refs;		/* the caller's and the worker's */
	bool done;
	bool abandoned;
	void (*fn)(void *);
	size_t size;
	max_align_t data[];	/* the job copy, suitably aligned */
};

static atomic_int abandoned_workers;

int lookup_abandoned_count(void)
{
	return atomic_load(&abandoned_workers);
}

static void job_release(struct timed_job *j)
{
	pthread_mutex_lock(&j->lock);
	int left = --j->refs;
	pthread_mutex_unlock(&j->lock);
	if (left > 0)
		return;
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *job_worker(void *arg)
{
	struct timed_job *j = arg;
	j->fn(j->data);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	bool was_abandoned = j->abandoned;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->lock);
	if (was_abandoned)
		atomic_fetch_sub(&abandoned_workers, 1);
	job_release(j);
	return NULL;
}

static int job_start(struct timed_job *j, ik_err *e)
{
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);
	if (rc != 0)
		return ik_err_errno(e, rc, "cannot start a lookup thread");
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the caller: the worker may sit in a resolver
	 * for seconds and must not swallow a SIGINT meant for the program. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t tid;
	rc = pthread_create(&tid, &attr, job_worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return ik_err_errno(e, rc, "cannot start a lookup thread");
	return 0;
}

enum lookup_status lookup_run_timed(void (*fn)(void *job), void *job,
				    size_t size, int timeout_ms, ik_err *e)
{
	if (timeout_ms <= 0) {
		fn(job);
		return LOOKUP_OK;
	}
	if (atomic_load(&abandoned_workers) >= LOOKUP_ABANDONED_MAX) {
		ik_err_set(e, "%d earlier lookups are still waiting for the resolver; try again later",
			   LOOKUP_ABANDONED_MAX);
		return LOOKUP_TEMPORARY;
	}
	struct timed_job *j = calloc(1, sizeof *j + size);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot start a lookup");
		return LOOKUP_FAILED;
	}
	memcpy(j->data, job, size);
	j->fn = fn;
	j->size = size;
	j->refs = 2;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&j->lock, NULL);
	if (job_start(j, e) < 0) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->lock);
		free(j);
		return LOOKUP_FAILED;
	}

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->lock);
	while (!j->done) {
		if (pthread_cond_timedwait(&j->cv, &j->lock, &deadline) == ETIMEDOUT)
			break;
	}
	bool finished = j->done;
	if (!finished) {
		j->abandoned = true;
		atomic_fetch_add(&abandoned_workers, 1);
	}
	pthread_mutex_unlock(&j->lock);
	if (finished)
		memcpy(job, j->data, size);
	job_release(j);
	return finished ? LOOKUP_OK : LOOKUP_TIMEOUT;
}

enum lookup_status lookup_run_named(void (*fn)(void *job), void *job, size_t size,
				    int timeout_ms, const char *what, ik_err *e)
{
	enum lookup_status st = lookup_run_timed(fn, job, size, timeout_ms, e);
	if (st == LOOKUP_TIMEOUT)
		ik_err_set(e, "timed out after %g s looking up '%s'", timeout_ms / 1000.0, what);
	return st;
}
