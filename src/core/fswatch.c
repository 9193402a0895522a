/* Directory watches on the loop with inotify(7); see fswatch.h. No RFC.
 *
 * The kernel gives one watch descriptor per directory per inotify
 * instance, whoever adds it: watches of one directory share it, and it is
 * removed from the kernel with the last of them. Watches are kept in a
 * list (a folder server holds a few per selected folder); a batch marks
 * the ones hit, then calls them, so that a burst of deliveries costs one
 * call per watch. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/fswatch.h"
#include "lib/str.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_ONLYDIR)

struct fswatch_dir {
	struct fswatch_dir *next;
	int wd;
	fswatch_fn cb;
	void *arg;
	bool hit;		/* changed in the batch being read */
	bool dead;		/* removed during a batch: freed after it */
};

struct fswatch {
	int fd;
	struct event *ev;
	struct fswatch_dir *dirs;
	size_t n;
	bool dispatching;
};

static void sweep(struct fswatch *w)
{
	for (struct fswatch_dir **pp = &w->dirs; *pp != NULL;) {
		struct fswatch_dir *d = *pp;
		if (d->dead) {
			*pp = d->next;
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

static void mark(struct fswatch *w, int wd, bool all)
{
	for (struct fswatch_dir *d = w->dirs; d != NULL; d = d->next)
		if (all || d->wd == wd)
			d->hit = true;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fswatch *w = arg;
	/* Aligned as the kernel's struct inotify_event needs. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;	/* EAGAIN: all read */
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
			mark(w, ev->wd, (ev->mask & IN_Q_OVERFLOW) != 0);
			off += (ssize_t)sizeof *ev + ev->len;
		}
	}
	w->dispatching = true;
	for (struct fswatch_dir *d = w->dirs; d != NULL; d = d->next) {
		if (!d->hit || d->dead)
			continue;
		d->hit = false;
		d->cb(d->arg);
	}
	w->dispatching = false;
	sweep(w);
}

struct fswatch *fswatch_new(struct loop *l, ik_err *e)
{
	struct fswatch *w = calloc(1, sizeof *w);
	if (w == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		ik_err_errno(e, errno, "inotify_init1");
		free(w);
		return NULL;
	}
	w->ev = event_new(loop_base(l), w->fd, EV_READ | EV_PERSIST, on_read, w);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0) {
		ik_err_set(e, "cannot watch the inotify descriptor");
		if (w->ev != NULL)
			event_free(w->ev);
		close(w->fd);
		free(w);
		return NULL;
	}
	return w;
}

void fswatch_free(struct fswatch *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	close(w->fd);	/* drops every kernel watch */
	while (w->dirs != NULL) {
		struct fswatch_dir *d = w->dirs;
		w->dirs = d->next;
		free(d);
	}
	free(w);
}

struct fswatch_dir *fswatch_add(struct fswatch *w, int dirfd, const char *path, fswatch_fn cb,
				void *arg, ik_err *e)
{
	/* inotify takes a path: a directory descriptor is reached through
	 * /proc (no chroot here; see jail.h). */
	char full[PATH_MAX];
	if (dirfd == AT_FDCWD)
		str_copy(full, sizeof full, path[0] ? path : ".");
	else if (path[0] == '/')
		str_copy(full, sizeof full, path);
	else
		str_fmt(full, sizeof full, "/proc/self/fd/%d/%s", dirfd, path);
	struct fswatch_dir *d = calloc(1, sizeof *d);
	if (d == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	/* IN_MASK_ADD: a second watch of the directory keeps the first's. */
	d->wd = inotify_add_watch(w->fd, full, WATCH_MASK | IN_MASK_ADD);
	if (d->wd < 0) {
		ik_err_errno(e, errno, "cannot watch %s", path);
		free(d);
		return NULL;
	}
	d->cb = cb;
	d->arg = arg;
	d->next = w->dirs;
	w->dirs = d;
	w->n++;
	return d;
}

void fswatch_remove(struct fswatch *w, struct fswatch_dir *d)
{
	if (d == NULL)
		return;
	bool shared = false;
	for (struct fswatch_dir *o = w->dirs; o != NULL && !shared; o = o->next)
		shared = o != d && !o->dead && o->wd == d->wd;
	if (!shared)
		inotify_rm_watch(w->fd, d->wd);
	w->n--;
	d->dead = true;
	if (!w->dispatching)
		sweep(w);
}

size_t fswatch_count(const struct fswatch *w)
{
	return w->n;
}
