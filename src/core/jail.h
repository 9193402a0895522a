/* Jail: every file a client names is reached from one directory fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) (Linux 5.6+), so the
 * kernel, not string checks, keeps the client beneath its root: "..", an
 * absolute symlink, a relative symlink that climbs out, a /proc magic link
 * or a directory swapped for a symlink mid-session all fail.
 *
 * Two kinds of path:
 *   virtual path  "/pub/a.txt": what the client sees (PWD, 257 replies);
 *                 normalised lexically by jail_vpath_join. Only for display.
 *   kernel path   the same string handed to openat2 relative to root_fd;
 *                 the kernel does the resolving and the confinement.
 *
 * Errors: functions return -1 (or NULL) with errno set, so a server can map
 * it to a reply; jail_errno_reply gives a short text for it. EXDEV from
 * path resolution means "leads outside your root". */
#ifndef INETKIT_CORE_JAIL_H
#define INETKIT_CORE_JAIL_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/error.h"

/* Longest virtual path including its NUL (Linux PATH_MAX). */
#define JAIL_VPATH_MAX PATH_MAX
/* Upload temporaries are hidden names in the target's directory; listings
 * may want to skip them. */
#define JAIL_UPLOAD_PREFIX ".inetkit-upload-"

struct jail {
	int root_fd;	/* O_PATH | O_DIRECTORY; -1 when closed */
};

/* Open the root directory. Returns 0, or -1 with e naming the path. */
int jail_open_root(struct jail *j, const char *path, ik_err *e);
void jail_close(struct jail *j);

/* Join a virtual cwd and a client argument into a normalised absolute
 * virtual path: "/"-rooted, "." and ".." resolved lexically (never above
 * "/"), repeated and trailing slashes removed. An absolute arg ignores cwd.
 * Refuses components over NAME_MAX (ENAMETOOLONG), results of PATH_MAX or
 * more or longer than outsz (ENAMETOOLONG), and NUL bytes inside the
 * argument (EINVAL; only detectable with the _len form). Returns 0, or -1
 * with errno and e set. */
int jail_vpath_join(const char *cwd, const char *arg, char *out, size_t outsz, ik_err *e);
int jail_vpath_join_len(const char *cwd, const char *arg, size_t arglen,
			char *out, size_t outsz, ik_err *e);
/* The last component of a normalised virtual path ("" for "/"). */
const char *jail_vpath_base(const char *vpath);

/* openat2 beneath the root. flags as for open(2) (O_CLOEXEC is added);
 * mode is used only with O_CREAT / O_TMPFILE. Returns the fd or -1. */
int jail_open(const struct jail *j, const char *vpath, int flags, mode_t mode);
/* jail_open for file data (RETR, STOR in place, APPE): opens without
 * blocking (a FIFO would stall the event loop), then refuses anything but
 * a regular file: EISDIR for a directory, ENODEV for FIFOs, sockets and
 * devices. The returned fd is blocking again. */
int jail_open_file(const struct jail *j, const char *vpath, int flags, mode_t mode);
/* stat following symlinks (confined), or of the last component itself. */
int jail_stat(const struct jail *j, const char *vpath, struct stat *st);
int jail_lstat(const struct jail *j, const char *vpath, struct stat *st);
/* The target text of a symlink (NUL-terminated, truncated to bufsz).
 * Returns its length or -1. */
ssize_t jail_readlink(const struct jail *j, const char *vpath, char *buf, size_t bufsz);
/* A directory stream; entries may be stat'ed with fstatat(dirfd(d), name,
 * ..., AT_SYMLINK_NOFOLLOW), which cannot leave the directory. */
DIR *jail_opendir(const struct jail *j, const char *vpath);

/* Open the parent of vpath (O_PATH | O_DIRECTORY, confined) and copy the
 * final component into name (NAME_MAX + 1 bytes). The final component must
 * not be "", "." or ".." (EINVAL). Returns the fd or -1. The *at calls below
 * work on (fd, name), so a later swap of a parent for a symlink cannot
 * redirect them. */
int jail_open_parent(const struct jail *j, const char *vpath, char name[NAME_MAX + 1]);

int jail_mkdir(const struct jail *j, const char *vpath, mode_t mode);
int jail_rmdir(const struct jail *j, const char *vpath);
int jail_unlink(const struct jail *j, const char *vpath);
/* Replaces an existing target like rename(2). A rename across file systems
 * fails with ENOTSUP (EXDEV is kept for "outside your root"). */
int jail_rename(const struct jail *j, const char *from, const char *to);
/* chmod of what vpath resolves to (a symlink inside the root is followed,
 * confined like jail_open). Only the 07777 bits of mode are used. */
int jail_chmod(const struct jail *j, const char *vpath, mode_t mode);

/* An upload written to a hidden temporary in the target's directory and
 * renamed into place when complete, so a reader never sees half a file. */
struct jail_upload {
	int fd;		/* write the data here (O_WRONLY) */
	int dir_fd;	/* the target's directory */
	char tmp[sizeof JAIL_UPLOAD_PREFIX + 16];
	char name[NAME_MAX + 1];	/* the final name */
};

#define JAIL_NOREPLACE 1u	/* commit fails with EEXIST if the name is taken */

int jail_open_tmp_for_upload(const struct jail *j, const char *vpath, mode_t mode,
			     struct jail_upload *u);
/* Rename the temporary to name (NULL: the name given at open) in the same
 * directory. On success closes both fds. On failure (errno set) the
 * temporary is kept: retry with another name or call jail_abort_upload. */
int jail_commit_upload(struct jail_upload *u, const char *name, unsigned flags);
/* Remove the temporary and close everything; safe to call twice. */
void jail_abort_upload(struct jail_upload *u);

/* Short reply text for an errno from the functions above, such as
 * "No such file or directory" or "Path leads outside your root". */
const char *jail_errno_reply(int err);

#endif
