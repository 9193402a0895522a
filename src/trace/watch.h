/* `inetkit trace -- COMMAND`: which ports the command's sockets use, so
 * only its packets are kept.
 *
 * The command runs traced (ptrace(2)) with a seccomp filter that stops it
 * at close(2) and close_range(2) only, and at each thread's exit while its
 * files are still open: at those stops, and every few milliseconds, its
 * socket file descriptors (/proc/PID/fd, "socket:[INODE]") are matched
 * with the kernel's socket tables (/proc/PID/net/tcp, tcp6, udp, udp6) to
 * learn their local ports. A connection that lives for a microsecond is
 * still seen, because its socket is looked at before it is closed.
 * Children and threads are followed. */
#ifndef INETKIT_TRACE_WATCH_H
#define INETKIT_TRACE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

struct tr_watch;

/* Starts argv[0] (searched on PATH) stopped before it runs. */
int tr_watch_start(char **argv, struct tr_watch **out, ik_err *e);
/* Lets it run (once the capture is ready). */
int tr_watch_go(struct tr_watch *w, ik_err *e);
/* A descriptor that is readable when the command has something to say
 * (signalfd for SIGCHLD). */
int tr_watch_fd(const struct tr_watch *w);
/* Handles every stop and exit that is waiting; never blocks. */
void tr_watch_service(struct tr_watch *w);
/* Looks at the sockets of every process of the command now. */
void tr_watch_scan(struct tr_watch *w);
/* proto 6 or 17; a port any of the command's sockets had as its own. */
bool tr_watch_port(const struct tr_watch *w, uint8_t proto, uint16_t port);
/* The command (its first process) has ended; *status as from waitpid. */
bool tr_watch_done(const struct tr_watch *w, int *status);
void tr_watch_free(struct tr_watch *w);

#endif
