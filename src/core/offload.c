/* Offload pool: pending jobs in a FIFO under one mutex; finished jobs go to
 * a second list and an eventfd wakes the loop, which drains that list. The
 * loop side never blocks on a worker: it only takes the mutex to swap
 * lists. */
#include "core/offload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

struct job {
	offload_work_fn work;
	offload_done_fn done;
	void *arg;
	struct job *next;
};

struct joblist {
	struct job *head, *tail;
	size_t n;
};

struct offload {
	struct loop *loop;
	pthread_t threads[OFFLOAD_MAX_THREADS];
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct joblist waiting;		/* submitted, no thread yet */
	struct joblist finished;	/* ran, not yet delivered */
	size_t running;
	size_t queue_max;
	bool shutdown;
	int efd;
	struct event *ev;
};

static void list_push(struct joblist *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static struct job *list_pop(struct joblist *l)
{
	struct job *j = l->head;
	if (j == NULL)
		return NULL;
	l->head = j->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->n--;
	return j;
}

static void wake_loop(struct offload *o)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	while (write(o->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void *thread_main(void *arg)
{
	struct offload *o = arg;
	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (o->waiting.n == 0 && !o->shutdown)
			pthread_cond_wait(&o->cv, &o->mu);
		if (o->shutdown)
			break;
		struct job *j = list_pop(&o->waiting);
		o->running++;
		pthread_mutex_unlock(&o->mu);
		j->work(j->arg);
		pthread_mutex_lock(&o->mu);
		o->running--;
		list_push(&o->finished, j);
		wake_loop(o);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

static void deliver(struct offload *o, enum offload_status st, struct joblist *l)
{
	struct job *j;
	while ((j = list_pop(l)) != NULL) {
		offload_done_fn done = j->done;
		void *arg = j->arg;
		free(j);
		done(arg, st);
	}
	(void)o;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct offload *o = arg;
	uint64_t n;
	while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&o->mu);
	struct joblist got = o->finished;
	o->finished = (struct joblist){0};
	pthread_mutex_unlock(&o->mu);
	deliver(o, OFFLOAD_DONE, &got);
}

struct offload *offload_new(struct loop *l, unsigned threads, size_t queue_max, ik_err *e)
{
	if (threads < 1 || threads > OFFLOAD_MAX_THREADS || queue_max < 1) {
		ik_err_set(e, "offload pool: threads must be 1-%d and the queue at least 1",
			   OFFLOAD_MAX_THREADS);
		return NULL;
	}
	struct offload *o = calloc(1, sizeof *o);
	if (o == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	o->loop = l;
	o->queue_max = queue_max;
	o->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (o->efd < 0) {
		ik_err_errno(e, errno, "offload pool: cannot create an eventfd");
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	o->ev = event_new(loop_base(l), o->efd, EV_READ | EV_PERSIST, on_wake, o);
	if (o->ev == NULL || event_add(o->ev, NULL) < 0) {
		ik_err_set(e, "offload pool: cannot watch its eventfd");
		offload_free(o);
		return NULL;
	}
	/* Signals belong to the loop thread (core/loop): the pool threads
	 * inherit a full mask and never see SIGTERM or SIGHUP. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < threads; i++) {
		int rc = pthread_create(&o->threads[i], NULL, thread_main, o);
		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			ik_err_errno(e, rc, "offload pool: cannot start thread %u of %u", i + 1, threads);
			offload_free(o);
			return NULL;
		}
		o->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return o;
}

int offload_submit(struct offload *o, offload_work_fn work, offload_done_fn done, void *arg,
		   ik_err *e)
{
	struct job *j = malloc(sizeof *j);
	if (j == NULL) {
		errno = ENOMEM;
		return ik_err_set(e, "out of memory");
	}
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&o->mu);
	if (o->waiting.n >= o->queue_max || o->shutdown) {
		size_t n = o->waiting.n;
		pthread_mutex_unlock(&o->mu);
		free(j);
		errno = EAGAIN;
		return ik_err_set(e, "busy: %zu jobs already wait for the %u worker threads; try again later",
				  n, o->nthreads);
	}
	list_push(&o->waiting, j);
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	return 0;
}

size_t offload_waiting(struct offload *o)
{
	pthread_mutex_lock(&o->mu);
	size_t n = o->waiting.n;
	pthread_mutex_unlock(&o->mu);
	return n;
}

size_t offload_in_flight(struct offload *o)
{
	pthread_mutex_lock(&o->mu);
	size_t n = o->waiting.n + o->running + o->finished.n;
	pthread_mutex_unlock(&o->mu);
	return n;
}

void offload_free(struct offload *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->shutdown = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	for (unsigned i = 0; i < o->nthreads; i++)
		pthread_join(o->threads[i], NULL);
	if (o->ev != NULL)
		event_free(o->ev);
	/* Threads are gone: the lists are ours alone now. */
	deliver(o, OFFLOAD_DONE, &o->finished);
	deliver(o, OFFLOAD_CANCELLED, &o->waiting);
	close(o->efd);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}
