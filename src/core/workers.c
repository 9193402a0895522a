/* The pre-fork supervisor; its policy is described in workers.h. It waits
 * for signals with sigtimedwait() instead of handlers, so nothing it does
 * runs in signal context. POSIX.1-2017 signal and process semantics. */
#include "core/workers.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/str.h"

#define STABLE_MS 10000	/* a worker that ran this long gets a fresh back-off */
#define FAST_MS 1000	/* dying sooner than this counts as failing at start */

struct worker {
	pid_t pid;		/* 0: not running */
	bool finished;		/* exited 0: not restarted */
	uint64_t started_ms;
	uint64_t restart_at;	/* 0: no restart pending */
	uint64_t delay_ms;
	unsigned fast_fails;
};

struct sup {
	struct workers_opts o;
	struct worker w[WORKERS_MAX];
	int (*main)(int, void *);
	void *arg;
	sigset_t old_mask;
	pid_t self;
	bool stopping;
	uint64_t kill_at;
	int code;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *status_text(int st, char *buf, size_t bufsz)
{
	if (WIFEXITED(st))
		str_fmt(buf, bufsz, "exit_%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		str_fmt(buf, bufsz, "signal_%d(%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		str_fmt(buf, bufsz, "status_%d", st);
	return buf;
}

static int spawn(struct sup *s, unsigned i, ik_err *e)
{
	fflush(NULL);	/* or the child would write our buffered output again */
	pid_t pid = fork();
	if (pid < 0)
		return ik_err_errno(e, errno, "cannot start worker %u", i);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != s->self)
			_exit(0);	/* the supervisor died before prctl */
		signal(SIGCHLD, SIG_DFL);
		/* Stop, reload and interrupt stay blocked until the worker's loop
		 * has its handlers (loop_new unblocks them): one that arrives
		 * while the worker starts is delivered then, instead of killing
		 * it with the default action. */
		sigset_t mask = s->old_mask;
		sigaddset(&mask, SIGHUP);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		int rc = s->main((int)i, s->arg);
		fflush(NULL);
		/* _exit: the supervisor's atexit handlers are not ours to run. */
		_exit(rc & 0xff);
	}
	s->w[i].pid = pid;
	s->w[i].started_ms = now_ms();
	s->w[i].restart_at = 0;
	log_event(LOG_INFO, "worker_start", "name=%s index=%u pid=%d", s->o.name, i, (int)pid);
	return 0;
}

static void signal_all(struct sup *s, int sig)
{
	for (unsigned i = 0; i < s->o.count; i++)
		if (s->w[i].pid > 0)
			kill(s->w[i].pid, sig);
}

static unsigned alive(const struct sup *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->o.count; i++)
		if (s->w[i].pid > 0)
			n++;
	return n;
}

static void stop(struct sup *s, int sig)
{
	if (s->stopping) {
		log_event(LOG_WARNING, "worker_kill", "name=%s reason=\"second signal\"", s->o.name);
		signal_all(s, SIGKILL);
		return;
	}
	log_event(LOG_INFO, "workers_stop", "name=%s signal=%d grace_ms=%llu", s->o.name, sig,
		  (unsigned long long)s->o.grace_ms);
	s->stopping = true;
	s->kill_at = now_ms() + s->o.grace_ms;
	for (unsigned i = 0; i < s->o.count; i++)
		s->w[i].restart_at = 0;
	signal_all(s, SIGTERM);
}

static void reaped(struct sup *s, unsigned i, int st)
{
	struct worker *w = &s->w[i];
	pid_t pid = w->pid;
	w->pid = 0;
	if (s->stopping)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		w->finished = true;
		log_event(LOG_INFO, "worker_exit", "name=%s index=%u pid=%d status=exit_0", s->o.name,
			  i, (int)pid);
		return;
	}
	uint64_t now = now_ms();
	uint64_t lived = now - w->started_ms;
	if (lived >= STABLE_MS)
		w->delay_ms = 0;
	w->delay_ms = w->delay_ms == 0 ? s->o.restart_min_ms : w->delay_ms * 2;
	if (w->delay_ms > s->o.restart_max_ms)
		w->delay_ms = s->o.restart_max_ms;
	w->fast_fails = lived < FAST_MS ? w->fast_fails + 1 : 0;
	char stxt[64];
	if (w->fast_fails >= s->o.fast_fails) {
		log_event(LOG_ERR, "worker_failing", "name=%s index=%u pid=%d status=%s fails=%u",
			  s->o.name, i, (int)pid, status_text(st, stxt, sizeof stxt), w->fast_fails);
		s->code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		stop(s, SIGTERM);
		return;
	}
	w->restart_at = now + w->delay_ms;
	log_event(LOG_WARNING, "worker_restart", "name=%s index=%u pid=%d status=%s delay_ms=%llu",
		  s->o.name, i, (int)pid, status_text(st, stxt, sizeof stxt),
		  (unsigned long long)w->delay_ms);
}

static void reap(struct sup *s)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < s->o.count; i++)
			if (s->w[i].pid == pid)
				reaped(s, i, st);
	}
}

/* Milliseconds until the next thing to do, or -1 for none. */
static int64_t next_wait(const struct sup *s, uint64_t now)
{
	int64_t wait = -1;
	if (s->stopping) {
		if (alive(s) > 0)
			wait = s->kill_at > now ? (int64_t)(s->kill_at - now) : 0;
		return wait;
	}
	for (unsigned i = 0; i < s->o.count; i++) {
		if (s->w[i].restart_at == 0)
			continue;
		int64_t w = s->w[i].restart_at > now ? (int64_t)(s->w[i].restart_at - now) : 0;
		if (wait < 0 || w < wait)
			wait = w;
	}
	return wait;
}

static bool all_done(const struct sup *s)
{
	if (alive(s) > 0)
		return false;
	if (s->stopping)
		return true;
	for (unsigned i = 0; i < s->o.count; i++)
		if (!s->w[i].finished)
			return false;
	return true;
}

static int supervise(struct sup *s, const sigset_t *set, ik_err *e)
{
	for (unsigned i = 0; i < s->o.count; i++)
		if (spawn(s, i, e) < 0) {
			stop(s, SIGTERM);
			s->code = -1;
			break;
		}
	while (!all_done(s)) {
		uint64_t now = now_ms();
		int64_t wait = next_wait(s, now);
		siginfo_t info;
		int sig;
		if (wait < 0) {
			sig = sigwaitinfo(set, &info);
		} else {
			struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
			sig = sigtimedwait(set, &info, &ts);
		}
		if (sig == SIGTERM || sig == SIGINT)
			stop(s, sig);
		else if (sig == SIGHUP && !s->stopping)
			signal_all(s, SIGHUP);
		reap(s);
		now = now_ms();
		if (s->stopping) {
			if (alive(s) > 0 && now >= s->kill_at) {
				log_event(LOG_WARNING, "worker_kill", "name=%s alive=%u reason=\"grace over\"",
					  s->o.name, alive(s));
				signal_all(s, SIGKILL);
				s->kill_at = UINT64_MAX;
			}
			continue;
		}
		for (unsigned i = 0; i < s->o.count; i++)
			if (s->w[i].restart_at != 0 && now >= s->w[i].restart_at && spawn(s, i, e) < 0) {
				stop(s, SIGTERM);
				s->code = -1;
			}
	}
	return s->code;
}

int workers_run(const struct workers_opts *o, int (*worker_main)(int index, void *arg),
		void *arg, ik_err *e)
{
	if (o->count == 0)
		return worker_main(0, arg);
	if (o->count > WORKERS_MAX)
		return ik_err_set(e, "at most %d workers", WORKERS_MAX);
	static struct sup s;
	memset(&s, 0, sizeof s);
	s.o = *o;
	if (s.o.grace_ms == 0)
		s.o.grace_ms = 5000;
	if (s.o.restart_min_ms == 0)
		s.o.restart_min_ms = 100;
	if (s.o.restart_max_ms < s.o.restart_min_ms)
		s.o.restart_max_ms = 30000;
	if (s.o.fast_fails == 0)
		s.o.fast_fails = 5;
	if (s.o.name == NULL)
		s.o.name = "workers";
	s.main = worker_main;
	s.arg = arg;
	s.self = getpid();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* An ignored SIGCHLD would reap the workers behind our back. */
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, &s.old_mask);
	int rc = supervise(&s, &set, e);
	sigprocmask(SIG_SETMASK, &s.old_mask, NULL);
	return rc;
}

void workers_hold_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

uint64_t workers_raise_nofile(uint64_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t to = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? (rlim_t)want : rl.rlim_max;
		rlim_t old = rl.rlim_cur;
		rl.rlim_cur = to;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = old;
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
