/* Local file-system helpers (POSIX mkdir, chown, write), and the files
 * and directories a service needs after its privilege drop. */
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/str.h"

int fs_mkdir_p(const char *path, unsigned mode, unsigned uid, unsigned gid, ik_err *e)
{
	char p[FS_PATH_MAX];
	if (str_copy(p, sizeof p, path) < 0)
		return ik_err_set(e, "path too long: %s", path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	/* Each prefix in turn, ending with the whole path. */
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char saved = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) == 0) {
			if (uid != (unsigned)-1 && chown(p, uid, gid) < 0)
				return ik_err_errno(e, errno, "cannot give %s to uid %u", p, uid);
		} else if (errno != EEXIST) {
			return ik_err_errno(e, errno, "cannot create directory %s", p);
		} else {
			struct stat st;
			if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
				return ik_err_set(e, "%s exists and is not a directory", p);
		}
		p[i] = saved;
	}
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static unsigned service_uid = (unsigned)-1, service_gid = (unsigned)-1;

void fs_set_service_user(unsigned uid, unsigned gid)
{
	service_uid = uid;
	service_gid = gid;
}

/* The name of uid for a message, or its number. */
static void user_name(unsigned uid, char *out, size_t outsz)
{
	struct passwd pw, *res = NULL;
	char buf[2048];
	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
		str_copy(out, outsz, pw.pw_name);
	else
		str_fmt(out, outsz, "%u", uid);
}

int fs_open_append(const char *path, unsigned mode, ik_err *e)
{
	bool give = service_uid != (unsigned)-1 && service_uid != 0 && geteuid() == 0;
	int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
	int fd;
	bool made = false;
	if (!give) {
		fd = open(path, flags | O_CREAT, mode);
	} else {
		/* The directory may belong to the service user, who must not
		 * be able to point root at another file. */
		flags |= O_NOFOLLOW;
		fd = open(path, flags | O_CREAT | O_EXCL, mode);
		made = fd >= 0;
		if (fd < 0 && errno == EEXIST)
			fd = open(path, flags);
	}
	if (fd < 0) {
		int err = errno;
		char who[64];
		user_name(geteuid(), who, sizeof who);
		if (give && err == ELOOP)
			return ik_err_set(e, "cannot open '%s' for appending: it is a symbolic link; "
					  "name the file itself", path);
		if (err == EACCES && geteuid() != 0)
			return ik_err_set(e, "cannot open '%s' for appending as user %s: %s; give %s "
					  "write access to it (and to its directory, to create it)",
					  path, who, strerror(err), who);
		return ik_err_errno(e, err, "cannot open '%s' for appending", path);
	}
	if (!give)
		return fd;
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "it is not a regular file";
	else if (st.st_nlink != 1)
		why = "it has more than one hard link";
	else if ((made || st.st_uid != service_uid) &&
		 fchown(fd, (uid_t)service_uid, made ? (gid_t)service_gid : (gid_t)-1) < 0)
		why = strerror(errno);
	if (why != NULL) {
		close(fd);
		char who[64];
		user_name(service_uid, who, sizeof who);
		return ik_err_set(e, "cannot give '%s' to user %s, who must open it again later: %s",
				  path, who, why);
	}
	return fd;
}

/* The first place on the way to path that stops this process: 0, or the
 * errno it gets there, with where set to that directory or to path. */
static int walk(const char *path, int want, char *where, size_t wheresz)
{
	char p[FS_PATH_MAX];
	if (str_copy(p, sizeof p, path) < 0) {
		str_copy(where, wheresz, path);
		return ENAMETOOLONG;
	}
	size_t n = strlen(p);
	/* Each directory on the way ("." first for a relative path), then
	 * path itself. */
	for (size_t i = p[0] == '/' ? 1 : 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i > 0 && i < n && p[i - 1] == '/')
			continue;	/* "//" */
		char saved = p[i];
		p[i] = '\0';
		const char *at = i == 0 ? "." : p;
		bool last = i == n;
		struct stat st;
		int err = 0;
		if (stat(at, &st) < 0)
			err = errno;
		else if (!last && !S_ISDIR(st.st_mode))
			err = ENOTDIR;
		else if (faccessat(AT_FDCWD, at, last ? want : X_OK, AT_EACCESS) < 0)
			err = errno;
		if (err != 0) {
			str_copy(where, wheresz, at);
			return err;
		}
		p[i] = saved;
	}
	return 0;
}

struct walk_result {
	int err;
	char where[FS_PATH_MAX];
};

/* walk() as uid/gid, in a child that has become that user for good. */
static int walk_as(const char *path, int want, unsigned uid, unsigned gid,
		   struct walk_result *r, ik_err *e)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return ik_err_errno(e, errno, "cannot check %s", path);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		return ik_err_errno(e, err, "cannot check %s", path);
	}
	if (pid == 0) {
		struct walk_result mine = {0};
		gid_t g = (gid_t)gid;
		if (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid((uid_t)uid) < 0)
			_exit(1);
		mine.err = walk(path, want, mine.where, sizeof mine.where);
		ssize_t w = write(fds[1], &mine, sizeof mine);
		_exit(w == (ssize_t)sizeof mine ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got;
	do
		got = read(fds[0], r, sizeof *r);
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof *r)
		return ik_err_set(e, "cannot check %s as uid %u: the checking process failed", path,
				  uid);
	r->where[sizeof r->where - 1] = '\0';
	return 0;
}

int fs_user_access(const char *path, int want, const char *name, unsigned uid, unsigned gid,
		   ik_err *e)
{
	struct walk_result r = {0};
	bool self = uid == (unsigned)-1;
	if (self) {
		r.err = walk(path, want, r.where, sizeof r.where);
		uid = (unsigned)geteuid();
		gid = (unsigned)getegid();
	} else if (walk_as(path, want, uid, gid, &r, e) < 0) {
		return -1;
	}
	if (r.err == 0)
		return 0;
	char who[64];
	if (name != NULL && !self)
		str_copy(who, sizeof who, name);
	else
		user_name(uid, who, sizeof who);
	bool itself = strcmp(r.where, path) == 0;
	struct stat st;
	if (r.err == ENOENT)
		ik_err_set(e, "%s does not exist", r.where);
	else if (r.err == ENOTDIR)
		ik_err_set(e, "%s is not a directory", r.where);
	else if (r.err != EACCES || stat(r.where, &st) < 0)
		ik_err_errno(e, r.err, "user %s cannot reach %s", who, r.where);
	else {
		char owner[64], perm[4] = "", *p = perm;
		user_name(st.st_uid, owner, sizeof owner);
		char cls = st.st_uid == uid ? 'u' : st.st_gid == gid ? 'g' : 'o';
		int need = itself ? want : X_OK;
		if (need & R_OK)
			*p++ = 'r';
		if (need & W_OK)
			*p++ = 'w';
		if (need & X_OK)
			*p++ = 'x';
		*p = '\0';
		if (itself && !(want == X_OK && S_ISDIR(st.st_mode)))
			ik_err_set(e, "user %s has no %s permission on %s (mode %04o, owner %s); "
				   "allow it (chmod %c+%s %s)", who, perm, r.where,
				   (unsigned)(st.st_mode & 07777), owner, cls, perm, r.where);
		else
			ik_err_set(e, "user %s cannot search %s (mode %04o, owner %s); allow it "
				   "(chmod %c+x %s)", who, r.where, (unsigned)(st.st_mode & 07777), owner,
				   cls, r.where);
	}
	return r.err;
}

int fs_absolute(const char *dir, char *out, size_t outsz, ik_err *e)
{
	if (dir[0] == '\0')
		return ik_err_set(e, "empty directory name");
	if (dir[0] == '/')
		return str_copy(out, outsz, dir) < 0 ? ik_err_set(e, "path too long: %s", dir) : 0;
	char cwd[FS_PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return ik_err_errno(e, errno, "cannot find the current directory");
	while (dir[0] == '.' && dir[1] == '/')
		dir += 2;
	if (strcmp(dir, ".") == 0)
		return str_copy(out, outsz, cwd) < 0 ? ik_err_set(e, "path too long: %s", cwd) : 0;
	if (str_fmt(out, outsz, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, dir) < 0)
		return ik_err_set(e, "path too long: %s/%s", cwd, dir);
	return 0;
}

int fs_read_file(const char *path, struct sbuf *out, ik_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return ik_err_errno(e, err, "cannot read '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ik_err_set(e, "'%s' is not a regular file", path);
	}
	size_t start = out->len;
	for (;;) {
		/* One byte past the limit tells a file that is too large. */
		char *p = sbuf_reserve(out, 4096);
		size_t room = 4096;
		if (p == NULL) {
			room = out->max - out->len;
			p = room > 0 ? sbuf_reserve(out, room) : NULL;
		}
		if (p == NULL) {
			char probe;
			ssize_t r = read(fd, &probe, 1);
			close(fd);
			if (r == 0)
				return 0;
			sbuf_truncate(out, start);
			if (r < 0)
				return ik_err_errno(e, errno, "cannot read '%s'", path);
			return ik_err_set(e, "'%s' is larger than %zu bytes", path, out->max - start);
		}
		ssize_t r = read(fd, p, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close(fd);
			sbuf_truncate(out, start);
			return ik_err_errno(e, err, "cannot read '%s'", path);
		}
		if (r == 0)
			break;
		sbuf_commit(out, (size_t)r);
	}
	close(fd);
	return 0;
}
