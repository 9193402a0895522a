/* The event loop every server runs on: a libevent base plus the process's
 * signal policy. SIGINT/SIGTERM call the stop handler (default: leave the
 * loop), SIGHUP calls the reload handler, SIGPIPE is ignored (a write to a
 * closed socket is an error return, not a death). loop_new unblocks
 * SIGINT, SIGTERM and SIGHUP, which core/workers keeps blocked while a
 * worker starts, so a signal sent during start-up is handled, not fatal. */
#ifndef INETKIT_CORE_LOOP_H
#define INETKIT_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "lib/error.h"

struct loop;

typedef void (*loop_signal_cb)(struct loop *l, int sig, void *arg);
typedef void (*loop_fn)(void *arg);

struct loop *loop_new(ik_err *e);
void loop_free(struct loop *l);
struct event_base *loop_base(struct loop *l);

void loop_on_stop(struct loop *l, loop_signal_cb cb, void *arg);
void loop_on_reload(struct loop *l, loop_signal_cb cb, void *arg);

/* Runs until loop_exit() or until nothing is left to wait for. */
int loop_run(struct loop *l);
/* Leave the loop after the callbacks now running return. */
void loop_exit(struct loop *l);
/* True once a stop signal arrived or loop_exit was called. */
bool loop_stopping(const struct loop *l);

/* Run fn(arg) from the loop after the current callback returns: how a
 * session frees itself from inside its own callback. Returns 0 or -1. */
int loop_defer(struct loop *l, loop_fn fn, void *arg);

/* A timer: after ms milliseconds (and every ms if repeat) call cb.
 * Free with event_free(). */
struct event *loop_timer(struct loop *l, uint64_t ms, bool repeat,
			 event_callback_fn cb, void *arg);

/* Milliseconds to struct timeval. */
struct timeval loop_tv(uint64_t ms);

#endif
