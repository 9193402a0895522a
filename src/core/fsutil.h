/* Local file-system helpers (POSIX), and the service user: the account a
 * server started as root runs as once it has dropped its privileges. */
#ifndef INETKIT_CORE_FSUTIL_H
#define INETKIT_CORE_FSUTIL_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/sbuf.h"

/* Longest path fs_mkdir_p takes, NUL included. */
#define FS_PATH_MAX 1024

/* mkdir -p: create path and any missing parents with mode; those it
 * creates are given to uid/gid when uid is not (unsigned)-1 (a home made by
 * root for the service user). An existing non-directory is an error. */
int fs_mkdir_p(const char *path, unsigned mode, unsigned uid, unsigned gid, ik_err *e);

/* dir made absolute against the current directory, without touching the
 * file system (it may not exist yet): "./x" and "x" name cwd/x. */
int fs_absolute(const char *dir, char *out, size_t outsz, ik_err *e);

/* write(2) all n bytes, again after EINTR and short writes (blocking
 * descriptors: files, pipes, terminals). 0, or -1 with errno set. */
int fs_write_all(int fd, const void *buf, size_t n);

/* The user this process's services become after the privilege drop, set
 * (as root) before they open anything: files made for them before the drop
 * are given to it. (unsigned)-1: none (not root, or root stays root). */
void fs_set_service_user(unsigned uid, unsigned gid);

/* Open path for appending, creating it with mode: a log a service keeps
 * writing and opens again on SIGHUP. As root with a service user set, a
 * symbolic link is refused, and the file is given to that user (the owner
 * only, for a file that was there), so that the service can open it again
 * without root. Returns the descriptor, or -1 with e set ("cannot open
 * PATH for appending ..."). */
int fs_open_append(const char *path, unsigned mode, ik_err *e);

/* Whether user `name` (uid/gid, with no supplementary groups, as a service
 * is after the privilege drop; uid (unsigned)-1: this process as it is,
 * and name is not used)
 * can reach path: search permission on every directory on the way, then
 * want (F_OK, or R_OK, W_OK, X_OK ored) on path itself. The check runs
 * as that user in a child process, so permissions and ACLs count exactly
 * as they will. Returns 0 when it can; else the errno the user would get
 * (ENOENT: path, or a directory on the way, is missing) with e naming the
 * directory or file that stops it and, for EACCES, the chmod that allows
 * it; -1 with e set when the check could not run. */
int fs_user_access(const char *path, int want, const char *name, unsigned uid, unsigned gid,
		   ik_err *e);

/* Append the whole of the regular file path to out; out's maximum is the
 * largest file read ("PATH is larger than N bytes"). A directory, FIFO or
 * device is refused. 0, or -1 with e set naming path. */
int fs_read_file(const char *path, struct sbuf *out, ik_err *e);

#endif
