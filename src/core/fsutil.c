/* Local file-system helpers (POSIX mkdir, chown, write). */
#include "core/fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str.h"

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
