/* Watching directories for changes, on the event loop: Linux inotify
 * (inotify(7)). No RFC. One inotify descriptor per struct fswatch, read
 * by a loop event; a change inside a watched directory (an entry created,
 * removed, or renamed in, out or within it) calls the watch's callback on
 * the loop thread. The changes the kernel reports together are coalesced:
 * at most one call per watch per batch. A queue overflow (IN_Q_OVERFLOW)
 * calls every watch, since any may have changed.
 *
 * What it is for: a server that must notice files other processes write
 * (IMAP IDLE on a Maildir) without polling them.
 *
 *   struct fswatch *w = fswatch_new(loop, &e);
 *   struct fswatch_dir *d = fswatch_add(w, dirfd, "new", cb, arg, &e);
 *   ... cb(arg) runs after changes ...
 *   fswatch_remove(w, d);
 *   fswatch_free(w);
 *
 * A watch may be removed (and others added) from inside a callback. */
#ifndef INETKIT_CORE_FSWATCH_H
#define INETKIT_CORE_FSWATCH_H

#include "core/loop.h"
#include "lib/error.h"

struct fswatch;
struct fswatch_dir;

typedef void (*fswatch_fn)(void *arg);

struct fswatch *fswatch_new(struct loop *l, ik_err *e);
/* Frees the remaining watches too (their callbacks are not called). */
void fswatch_free(struct fswatch *w);

/* Watch the directory path relative to dirfd (AT_FDCWD: the working
 * directory; path "." or "": dirfd itself). NULL with e on failure (no
 * such directory, the user's inotify watch limit). The same directory
 * may be watched more than once: each watch has its own callback. */
struct fswatch_dir *fswatch_add(struct fswatch *w, int dirfd, const char *path, fswatch_fn cb,
				void *arg, ik_err *e);
void fswatch_remove(struct fswatch *w, struct fswatch_dir *d);

/* Watches now held (for tests and metrics). */
size_t fswatch_count(const struct fswatch *w);

#endif
