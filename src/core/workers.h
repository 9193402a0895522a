/* Pre-fork worker processes, the way a server scales across cores: the
 * supervisor binds the listening sockets (SO_REUSEPORT or shared by
 * inheritance), then workers_run() forks count workers that each run
 * worker_main(index, arg) with their own event loop.
 *
 * The supervisor (POSIX signals, no event loop):
 *   - a worker that dies from a signal or exits non-zero is restarted
 *     after a back-off that doubles from restart_min_ms up to
 *     restart_max_ms (log line event=worker_restart pid=... status=...
 *     delay_ms=...); the back-off starts over once a worker has run for
 *     10 s. A worker that fails within its first second fast_fails times
 *     in a row ends the whole run with its exit code;
 *   - a worker that exits 0 has finished (e.g. --once) and is not
 *     restarted; when every worker has finished, workers_run returns 0;
 *   - SIGHUP is forwarded to every worker (reload);
 *   - SIGTERM or SIGINT: SIGTERM to every worker, wait grace_ms, then
 *     SIGKILL the rest; a second signal kills at once. Returns 0.
 * Workers die with the supervisor (PR_SET_PDEATHSIG). count 0 runs
 * worker_main(0, arg) in this process, without forking. */
#ifndef INETKIT_CORE_WORKERS_H
#define INETKIT_CORE_WORKERS_H

#include <stdint.h>

#include "lib/error.h"

struct workers_opts {
	unsigned count;		/* worker processes; 0 = none, run in-process */
	uint64_t grace_ms;	/* SIGTERM to SIGKILL; default 5000 */
	uint64_t restart_min_ms;	/* default 100 */
	uint64_t restart_max_ms;	/* default 30000 */
	unsigned fast_fails;	/* default 5 */
	const char *name;	/* for log lines, e.g. "tcp" */
};

#define WORKERS_MAX 256

/* Returns the exit code for the process (0 after a stop signal), or -1
 * with e set if the workers could not be started. */
int workers_run(const struct workers_opts *o, int (*worker_main)(int index, void *arg),
		void *arg, ik_err *e);

/* Raise the soft open-file limit towards want (at most the hard limit);
 * returns the soft limit now in force. */
uint64_t workers_raise_nofile(uint64_t want);

/* Before a server says it listens:
 * hold SIGINT, SIGTERM and SIGHUP until its loop handles them (loop_new
 * unblocks them; the workers' supervisor waits for them), so that one sent
 * as soon as the listen line is out is acted on instead of killing it. */
void workers_hold_signals(void);

#endif
