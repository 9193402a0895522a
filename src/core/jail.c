/* Kernel-enforced confinement of client file access (see jail.h). Uses
 * openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS for every lookup
 * and *at(2) calls on a confined parent fd for the final component. */
#include "core/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/str.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452	/* same number on every architecture */
#endif

#define RESOLVE_JAIL (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

int jail_open_root(struct jail *j, const char *path, ik_err *e)
{
	j->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->root_fd < 0)
		return ik_err_errno(e, errno, "cannot open root directory '%s'", path);
	return 0;
}

void jail_close(struct jail *j)
{
	if (j->root_fd >= 0)
		close(j->root_fd);
	j->root_fd = -1;
}

/* ---- virtual paths ---- */

int jail_vpath_join(const char *cwd, const char *arg, char *out, size_t outsz, ik_err *e)
{
	return jail_vpath_join_len(cwd, arg, strlen(arg), out, outsz, e);
}

/* Append the components of s[0..n) to out (length *len), lexically. */
static int vpath_add(char *out, size_t cap, size_t *len, const char *s, size_t n, ik_err *e)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && s[i] == '/')
			i++;
		size_t start = i;
		while (i < n && s[i] != '/')
			i++;
		size_t clen = i - start;
		const char *c = s + start;
		if (clen == 0 || (clen == 1 && c[0] == '.'))
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			/* Up one level, but "/" is its own parent. */
			while (*len > 1 && out[*len - 1] != '/')
				(*len)--;
			if (*len > 1)
				(*len)--;
			out[*len] = '\0';
			continue;
		}
		if (clen > NAME_MAX) {
			errno = ENAMETOOLONG;
			return ik_err_set(e, "a file name is longer than %d bytes", NAME_MAX);
		}
		size_t need = *len + (*len > 1 ? 1 : 0) + clen;
		if (need + 1 > cap) {
			errno = ENAMETOOLONG;
			return ik_err_set(e, "the path is longer than %zu bytes", cap - 1);
		}
		if (*len > 1)
			out[(*len)++] = '/';
		memcpy(out + *len, c, clen);
		*len += clen;
		out[*len] = '\0';
	}
	return 0;
}

int jail_vpath_join_len(const char *cwd, const char *arg, size_t arglen,
			char *out, size_t outsz, ik_err *e)
{
	size_t cap = outsz < JAIL_VPATH_MAX ? outsz : JAIL_VPATH_MAX;
	if (cap < 2) {
		errno = ENAMETOOLONG;
		return ik_err_set(e, "no room for a path");
	}
	if (memchr(arg, '\0', arglen) != NULL) {
		errno = EINVAL;
		return ik_err_set(e, "file names cannot contain NUL bytes");
	}
	if (arglen >= JAIL_VPATH_MAX) {
		errno = ENAMETOOLONG;
		return ik_err_set(e, "the path is longer than %d bytes", JAIL_VPATH_MAX - 1);
	}
	size_t len = 1;
	out[0] = '/';
	out[1] = '\0';
	if (arglen == 0 || arg[0] != '/') {
		if (cwd != NULL && vpath_add(out, cap, &len, cwd, strlen(cwd), e) < 0)
			return -1;
	}
	return vpath_add(out, cap, &len, arg, arglen, e);
}

const char *jail_vpath_base(const char *vpath)
{
	const char *slash = strrchr(vpath, '/');
	return slash != NULL ? slash + 1 : vpath;
}

/* ---- kernel access ---- */

/* The kernel path for a virtual one: relative to the root fd. */
static const char *kpath(const char *vpath)
{
	while (*vpath == '/')
		vpath++;
	return *vpath != '\0' ? vpath : ".";
}

static int openat2_jail(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode & 07777) : 0,
		.resolve = RESOLVE_JAIL,
	};
	/* EAGAIN: a concurrent rename raced the ".." check; the kernel asks
	 * us to retry rather than risk an escape. */
	for (int tries = 0; tries < 8; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			return (int)fd;
	}
	return -1;
}

int jail_open(const struct jail *j, const char *vpath, int flags, mode_t mode)
{
	return openat2_jail(j->root_fd, kpath(vpath), flags, mode);
}

static int close_keep_errno(int fd, int ret)
{
	int saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ret;
}

int jail_open_file(const struct jail *j, const char *vpath, int flags, mode_t mode)
{
	int fd = jail_open(j, vpath, flags | O_NONBLOCK | O_NOCTTY, mode);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return close_keep_errno(fd, -1);
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return close_keep_errno(fd, -1);
	return fd;
}

int jail_stat(const struct jail *j, const char *vpath, struct stat *st)
{
	int fd = jail_open(j, vpath, O_PATH, 0);
	if (fd < 0)
		return -1;
	int r = fstat(fd, st);
	return close_keep_errno(fd, r);
}

int jail_open_parent(const struct jail *j, const char *vpath, char name[NAME_MAX + 1])
{
	const char *base = jail_vpath_base(vpath);
	size_t blen = strlen(base);
	if (blen == 0 || blen > NAME_MAX || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = blen > NAME_MAX ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	memcpy(name, base, blen + 1);
	size_t plen = (size_t)(base - vpath);
	char parent[JAIL_VPATH_MAX];
	if (plen >= sizeof parent) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(parent, vpath, plen);
	parent[plen] = '\0';
	return openat2_jail(j->root_fd, kpath(parent), O_PATH | O_DIRECTORY, 0);
}

int jail_lstat(const struct jail *j, const char *vpath, struct stat *st)
{
	char name[NAME_MAX + 1];
	if (strcmp(kpath(vpath), ".") == 0)
		return jail_stat(j, vpath, st);
	int dfd = jail_open_parent(j, vpath, name);
	if (dfd < 0)
		return -1;
	int r = fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW);
	return close_keep_errno(dfd, r);
}

ssize_t jail_readlink(const struct jail *j, const char *vpath, char *buf, size_t bufsz)
{
	char name[NAME_MAX + 1];
	if (bufsz == 0) {
		errno = EINVAL;
		return -1;
	}
	int dfd = jail_open_parent(j, vpath, name);
	if (dfd < 0)
		return -1;
	ssize_t n = readlinkat(dfd, name, buf, bufsz - 1);
	if (n >= 0)
		buf[n] = '\0';
	return close_keep_errno(dfd, (int)n);
}

DIR *jail_opendir(const struct jail *j, const char *vpath)
{
	int fd = jail_open(j, vpath, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (d == NULL)
		close_keep_errno(fd, -1);
	return d;
}

int jail_mkdir(const struct jail *j, const char *vpath, mode_t mode)
{
	char name[NAME_MAX + 1];
	int dfd = jail_open_parent(j, vpath, name);
	if (dfd < 0)
		return -1;
	return close_keep_errno(dfd, mkdirat(dfd, name, mode & 07777));
}

int jail_rmdir(const struct jail *j, const char *vpath)
{
	char name[NAME_MAX + 1];
	int dfd = jail_open_parent(j, vpath, name);
	if (dfd < 0)
		return -1;
	return close_keep_errno(dfd, unlinkat(dfd, name, AT_REMOVEDIR));
}

int jail_unlink(const struct jail *j, const char *vpath)
{
	char name[NAME_MAX + 1];
	int dfd = jail_open_parent(j, vpath, name);
	if (dfd < 0)
		return -1;
	return close_keep_errno(dfd, unlinkat(dfd, name, 0));
}

/* renameat's EXDEV means "another file system", not "outside the root". */
static int rename_in(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	int r = renameat2(fromfd, from, tofd, to, flags);
	if (r < 0 && errno == EXDEV)
		errno = ENOTSUP;
	return r;
}

int jail_rename(const struct jail *j, const char *from, const char *to)
{
	char fname[NAME_MAX + 1], tname[NAME_MAX + 1];
	int ffd = jail_open_parent(j, from, fname);
	if (ffd < 0)
		return -1;
	int tfd = jail_open_parent(j, to, tname);
	if (tfd < 0)
		return close_keep_errno(ffd, -1);
	int r = rename_in(ffd, fname, tfd, tname, 0);
	close_keep_errno(tfd, r);
	return close_keep_errno(ffd, r);
}

int jail_chmod(const struct jail *j, const char *vpath, mode_t mode)
{
	/* fchmodat(parent, name) would follow a final symlink without the
	 * beneath check, so resolve the whole path confined first and change
	 * the inode it names. */
	int fd = jail_open(j, vpath, O_PATH, 0);
	if (fd < 0)
		return -1;
	long r = syscall(SYS_fchmodat2, fd, "", (unsigned)(mode & 07777), AT_EMPTY_PATH);
	if (r < 0 && (errno == ENOSYS || errno == EINVAL)) {
		/* Kernels before 6.6: the fd's /proc entry names the same,
		 * already confined inode. */
		char proc[64];
		str_fmt(proc, sizeof proc, "/proc/self/fd/%d", fd);
		r = chmod(proc, mode & 07777);
	}
	return close_keep_errno(fd, (int)r);
}

/* ---- uploads ---- */

static void upload_clear(struct jail_upload *u)
{
	u->fd = -1;
	u->dir_fd = -1;
	u->tmp[0] = '\0';
	u->name[0] = '\0';
}

int jail_open_tmp_for_upload(const struct jail *j, const char *vpath, mode_t mode,
			     struct jail_upload *u)
{
	upload_clear(u);
	u->dir_fd = jail_open_parent(j, vpath, u->name);
	if (u->dir_fd < 0)
		return -1;
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd;
		if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			jail_abort_upload(u);
			errno = EIO;
			return -1;
		}
		str_fmt(u->tmp, sizeof u->tmp, "%s%016llx", JAIL_UPLOAD_PREFIX,
			(unsigned long long)rnd);
		/* O_EXCL never follows a symlink planted under this name. */
		u->fd = openat2_jail(u->dir_fd, u->tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
		if (u->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int saved = errno;
	u->tmp[0] = '\0';
	jail_abort_upload(u);
	errno = saved;
	return -1;
}

int jail_commit_upload(struct jail_upload *u, const char *name, unsigned flags)
{
	const char *to = name != NULL ? name : u->name;
	if (u->dir_fd < 0 || u->tmp[0] == '\0' || to[0] == '\0' || strchr(to, '/') != NULL ||
	    strcmp(to, ".") == 0 || strcmp(to, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (rename_in(u->dir_fd, u->tmp, u->dir_fd, to,
		      (flags & JAIL_NOREPLACE) ? RENAME_NOREPLACE : 0) < 0)
		return -1;
	u->tmp[0] = '\0';
	if (u->fd >= 0)
		close(u->fd);
	close(u->dir_fd);
	upload_clear(u);
	return 0;
}

void jail_abort_upload(struct jail_upload *u)
{
	int saved = errno;
	if (u->fd >= 0)
		close(u->fd);
	if (u->dir_fd >= 0) {
		if (u->tmp[0] != '\0')
			unlinkat(u->dir_fd, u->tmp, 0);
		close(u->dir_fd);
	}
	upload_clear(u);
	errno = saved;
}

const char *jail_errno_reply(int err)
{
	switch (err) {
	case ENOENT: return "No such file or directory";
	case EACCES:
	case EPERM: return "Permission denied";
	case EXDEV: return "Path leads outside your root";
	case ELOOP: return "Too many symbolic links, or a link that may not be followed";
	case ENOTDIR: return "Not a directory";
	case EISDIR: return "Is a directory";
	case EEXIST: return "File exists";
	case ENOTEMPTY: return "Directory not empty";
	case ENAMETOOLONG: return "File name too long";
	case EINVAL: return "Invalid file name";
	case ENOSPC: return "No space left on device";
	case EDQUOT: return "Disk quota exceeded";
	case EFBIG: return "File too large";
	case EROFS: return "Read-only file system";
	case EBUSY: return "Device or resource busy";
	case ETXTBSY: return "Text file busy";
	case EMFILE:
	case ENFILE: return "Too many open files, try again later";
	case ENOTSUP: return "Operation not supported (for example across file systems)";
	case EIO: return "Input/output error";
	case ENODEV: return "Not a regular file";
	default: return "Operation failed";
	}
}
