/* The offload pool: a few threads that run work which would block the
 * event loop (password hashing, SQLite), with the result handed back to the
 * loop as a callback. No RFC; POSIX threads and a Linux eventfd.
 *
 *   offload_submit(pool, work, done, arg)
 *     work(arg)          runs on a pool thread: touch nothing the loop owns
 *     done(arg, status)  runs later on the loop thread, in submission order
 *                        among jobs that finished together
 *
 * The queue is bounded: a submit beyond queue_max waiting jobs fails at once
 * (errno EAGAIN) so that the caller can answer "busy, try later" instead of
 * letting a flood grow memory without limit. Pools do not survive fork():
 * create one per process, after forking. */
#ifndef INETKIT_CORE_OFFLOAD_H
#define INETKIT_CORE_OFFLOAD_H

#include <stddef.h>

#include "lib/error.h"
#include "core/loop.h"

#define OFFLOAD_MAX_THREADS 64

enum offload_status {
	OFFLOAD_DONE = 0,	/* work ran */
	OFFLOAD_CANCELLED = 1,	/* the pool was freed before work ran */
};

typedef void (*offload_work_fn)(void *arg);
typedef void (*offload_done_fn)(void *arg, enum offload_status status);

struct offload;

/* threads: 1..OFFLOAD_MAX_THREADS; queue_max: jobs that may wait for a
 * thread (>= 1). */
struct offload *offload_new(struct loop *l, unsigned threads, size_t queue_max, ik_err *e);

/* Queue a job. Returns 0, or -1 with e set (and errno EAGAIN when the queue
 * is full). done is never called for a job that was refused. */
int offload_submit(struct offload *o, offload_work_fn work, offload_done_fn done, void *arg,
		   ik_err *e);

/* Jobs waiting for a thread, and jobs submitted but not yet delivered. */
size_t offload_waiting(struct offload *o);
size_t offload_in_flight(struct offload *o);

/* Waits for running jobs to finish, then calls done for every job not yet
 * delivered: OFFLOAD_DONE for those that ran, OFFLOAD_CANCELLED for those
 * that never started. Call from the loop thread. */
void offload_free(struct offload *o);

#endif
