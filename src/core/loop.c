#include "core/loop.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/thread.h>

struct defer_box {
	loop_fn fn;
	void *arg;
};

struct loop {
	struct event_base *base;
	struct event *sig_int, *sig_term, *sig_hup;
	loop_signal_cb stop_cb, reload_cb;
	void *stop_arg, *reload_arg;
	bool stopping;
};

struct timeval loop_tv(uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	return tv;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct loop *l = arg;
	if (sig == SIGHUP) {
		if (l->reload_cb != NULL)
			l->reload_cb(l, (int)sig, l->reload_arg);
		return;
	}
	l->stopping = true;
	if (l->stop_cb != NULL)
		l->stop_cb(l, (int)sig, l->stop_arg);
	else
		event_base_loopbreak(l->base);
}

struct loop *loop_new(ik_err *e)
{
	static bool threads_ready;
	if (!threads_ready) {
		/* The offload pool hands results back from other threads. */
		if (evthread_use_pthreads() < 0) {
			ik_err_set(e, "libevent has no pthreads support");
			return NULL;
		}
		threads_ready = true;
	}
	struct loop *l = calloc(1, sizeof *l);
	if (l == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	l->base = event_base_new();
	if (l->base == NULL) {
		free(l);
		ik_err_set(e, "cannot create the event loop");
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	l->sig_int = evsignal_new(l->base, SIGINT, on_signal, l);
	l->sig_term = evsignal_new(l->base, SIGTERM, on_signal, l);
	l->sig_hup = evsignal_new(l->base, SIGHUP, on_signal, l);
	if (l->sig_int == NULL || l->sig_term == NULL || l->sig_hup == NULL ||
	    evsignal_add(l->sig_int, NULL) < 0 || evsignal_add(l->sig_term, NULL) < 0 ||
	    evsignal_add(l->sig_hup, NULL) < 0) {
		loop_free(l);
		ik_err_set(e, "cannot install signal handlers");
		return NULL;
	}
	/* A supervisor keeps these blocked while its worker starts
	 * (core/workers); now that they have handlers, pending ones arrive. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sig_int)
		event_free(l->sig_int);
	if (l->sig_term)
		event_free(l->sig_term);
	if (l->sig_hup)
		event_free(l->sig_hup);
	event_base_free(l->base);
	free(l);
}

struct event_base *loop_base(struct loop *l) { return l->base; }

void loop_on_stop(struct loop *l, loop_signal_cb cb, void *arg)
{
	l->stop_cb = cb;
	l->stop_arg = arg;
}

void loop_on_reload(struct loop *l, loop_signal_cb cb, void *arg)
{
	l->reload_cb = cb;
	l->reload_arg = arg;
}

int loop_run(struct loop *l)
{
	return event_base_dispatch(l->base) < 0 ? -1 : 0;
}

void loop_exit(struct loop *l)
{
	l->stopping = true;
	event_base_loopbreak(l->base);
}

bool loop_stopping(const struct loop *l) { return l->stopping; }

static void run_box(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct defer_box *box = arg;
	loop_fn fn = box->fn;
	void *farg = box->arg;
	free(box);
	fn(farg);
}

int loop_defer(struct loop *l, loop_fn fn, void *arg)
{
	struct defer_box *box = malloc(sizeof *box);
	if (box == NULL)
		return -1;
	box->fn = fn;
	box->arg = arg;
	struct timeval zero = {0, 0};
	if (event_base_once(l->base, -1, EV_TIMEOUT, run_box, box, &zero) < 0) {
		free(box);
		return -1;
	}
	return 0;
}

struct event *loop_timer(struct loop *l, uint64_t ms, bool repeat,
			 event_callback_fn cb, void *arg)
{
	struct event *ev = event_new(l->base, -1, repeat ? EV_PERSIST : 0, cb, arg);
	if (ev == NULL)
		return NULL;
	struct timeval tv = loop_tv(ms);
	event_add(ev, &tv);
	return ev;
}
