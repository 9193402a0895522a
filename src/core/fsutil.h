/* Local file-system helpers (POSIX). */
#ifndef INETKIT_CORE_FSUTIL_H
#define INETKIT_CORE_FSUTIL_H

#include <stddef.h>

#include "core/error.h"

/* Longest path fs_mkdir_p takes, NUL included. */
#define FS_PATH_MAX 1024

/* mkdir -p: create path and any missing parents with mode; those it
 * creates are given to uid/gid when uid is not (unsigned)-1 (a home made by
 * root for the service user). An existing non-directory is an error. */
int fs_mkdir_p(const char *path, unsigned mode, unsigned uid, unsigned gid, ik_err *e);

/* write(2) all n bytes, again after EINTR and short writes (blocking
 * descriptors: files, pipes, terminals). 0, or -1 with errno set. */
int fs_write_all(int fd, const void *buf, size_t n);

#endif
