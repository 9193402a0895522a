/* Reading what LIST, NLST, MLSD and STAT name: a directory, one entry,
 * or a glob pattern in the last path component (matched in linear time
 * by ftpd_glob; the name is first tried literally, so a file really
 * called "a*" is found). Names are read, filtered and sorted first, with
 * a cap (list_max, glob_max); the lines are made as the data connection
 * drains, so a huge directory never sits in memory as text. RFC 959
 * (LIST, NLST, STAT), RFC 3659 section 7 (MLSD; the cdir entry). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "ftpd/ftpd_glob.h"
#include "ftpd/ftpd_dir.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_list.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_name(struct ftpd_dir *d, const char *name, size_t *cap)
{
	if (d->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		char **nn = realloc(d->names, ncap * sizeof *nn);
		if (nn == NULL)
			return -1;
		d->names = nn;
		*cap = ncap;
	}
	if ((d->names[d->n] = strdup(name)) == NULL)
		return -1;
	d->n++;
	return 0;
}

/* Read the names of the directory fd (not consumed). 0, or -1 after a
 * reply. */
static int read_names(struct ftpd_sess *fs, struct ftpd_dir *d, int fd, const char *pattern,
		      bool all)
{
	const struct ftpd_conf *c = fs->srv->conf;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (dir == NULL) {
		int err = errno;
		if (dfd >= 0)
			close(dfd);
		ftpd_send_errno(fs, err, d->vdir);
		return -1;
	}
	struct ftpd_glob g;
	if (pattern != NULL)
		ftpd_glob_init(&g, pattern, (size_t)c->glob_max);
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(dir)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    str_has_prefix(n, JAIL_UPLOAD_PREFIX) || !ftpd_list_name_ok(n))
			continue;
		if (pattern != NULL) {
			int m = ftpd_glob_next(&g, n);
			if (m == 0)
				continue;
			if (m < 0) {
				ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "The pattern matches more than "
					  "%llu names; narrow it down.", (unsigned long long)c->glob_max);
				rc = -1;
				break;
			}
		} else if (n[0] == '.' && !all) {
			continue;
		}
		if (d->n >= c->list_max) {
			d->truncated = true;
			break;
		}
		if (add_name(d, n, &cap) < 0) {
			ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory reading the directory.");
			rc = -1;
			break;
		}
	}
	closedir(dir);
	if (rc == 0 && d->n > 1)
		qsort(d->names, d->n, sizeof *d->names, cmp_names);
	return rc;
}

/* What the client typed before the last '/', kept for NLST lines. */
static char *typed_dir(const char *p, size_t len, bool whole)
{
	size_t end = len;
	if (!whole) {
		while (end > 0 && p[end - 1] != '/')
			end--;
	}
	size_t extra = whole && end > 0 && p[end - 1] != '/' ? 1 : 0;
	char *s = malloc(end + extra + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, p, end);
	if (extra)
		s[end++] = '/';
	s[end] = '\0';
	return s;
}

void ftpd_dir_free(struct ftpd_dir *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	free(d->vdir);
	free(d->prefix);
	free(d->ctx);
	free(d);
}

static struct ftpd_dir *dir_new(struct ftpd_sess *fs, enum ftpd_list_kind kind)
{
	struct ftpd_dir *d = calloc(1, sizeof *d);
	if (d == NULL || (d->ctx = calloc(1, sizeof *d->ctx)) == NULL) {
		free(d);
		ftpd_send(fs, FTPD_R_LOCAL_ERROR, "Out of memory.");
		return NULL;
	}
	d->kind = kind;
	d->dir_fd = -1;
	ftpd_list_ctx_for(fs, d->ctx);
	return d;
}

/* v's parent as a virtual path ("/" for "/x"). */
static char *parent_of(const char *v)
{
	const char *base = jail_vpath_base(v);
	size_t n = (size_t)(base - v);
	if (n > 1)
		n--;	/* drop the '/' before the base, but keep "/" itself */
	char *s = malloc(n + 1);
	if (s != NULL) {
		memcpy(s, v, n);
		s[n] = '\0';
	}
	return s;
}

static struct ftpd_dir *fail(struct ftpd_dir *d, struct ftpd_sess *fs, int err, const char *v)
{
	if (err != 0)
		ftpd_send_errno(fs, err, v);
	ftpd_dir_free(d);
	return NULL;
}

struct ftpd_dir *ftpd_dir_open(struct ftpd_sess *fs, enum ftpd_list_kind kind,
			       const char *arg, size_t arglen)
{
	struct ftpd_list_opts o = {.all = kind == FTPD_LIST_MLSD};
	const char *p = arg;
	if (kind != FTPD_LIST_MLSD)
		p = ftpd_list_parse_args(arg, &o);
	size_t plen = arglen - (size_t)(p - arg);
	bool typed = plen > 0;
	char v[JAIL_VPATH_MAX];
	const struct jail *j;
	const char *k;
	if (ftpd_path(fs, typed ? p : ".", typed ? plen : 1, FTPD_READ, v, sizeof v, &j, &k) < 0)
		return NULL;
	struct ftpd_dir *d = dir_new(fs, kind);
	if (d == NULL)
		return NULL;
	d->jail = j;
	int fd = jail_open(j, k, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0) {
		d->dir_fd = fd;
		d->vdir = strdup(v);
		if (d->vdir == NULL || (kind == FTPD_LIST_NLST && typed &&
					(d->prefix = typed_dir(p, plen, true)) == NULL))
			return fail(d, fs, ENOMEM, v);
		if (read_names(fs, d, fd, NULL, o.all) < 0)
			return fail(d, fs, 0, v);
		return d;
	}
	int err = errno;
	const char *base = jail_vpath_base(v);
	bool glob = err == ENOENT && kind != FTPD_LIST_MLSD && ftpd_glob_has_magic(base);
	if (err == ENOTDIR && kind == FTPD_LIST_MLSD) {
		ftpd_send(fs, FTPD_R_BAD_ARGS, "%s is not a directory; MLST shows one file.", v);
		return fail(d, fs, 0, v);
	}
	if (err != ENOTDIR && !glob)
		return fail(d, fs, err, v);
	if ((d->vdir = parent_of(v)) == NULL)
		return fail(d, fs, ENOMEM, v);
	if (kind == FTPD_LIST_NLST && (d->prefix = typed_dir(p, plen, false)) == NULL)
		return fail(d, fs, ENOMEM, v);
	char name[NAME_MAX + 1];
	if (err == ENOTDIR) {
		/* One file: listed from its directory, so a symlink shows as one. */
		d->dir_fd = jail_open_parent(j, k, name);
		size_t cap = 0;
		if (d->dir_fd < 0)
			return fail(d, fs, errno, v);
		if (add_name(d, name, &cap) < 0)
			return fail(d, fs, ENOMEM, v);
		return d;
	}
	d->dir_fd = jail_open(j, d->vdir, O_RDONLY | O_DIRECTORY, 0);
	if (d->dir_fd < 0)
		return fail(d, fs, errno, d->vdir);
	if (read_names(fs, d, d->dir_fd, base, true) < 0)
		return fail(d, fs, 0, v);
	if (d->n == 0) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: no names match.", v);
		return fail(d, fs, 0, v);
	}
	return d;
}

/* A symlink in MLSD shows what it points to, if that stays in the root. */
static void follow_link(const struct ftpd_dir *d, const char *name, struct stat *st)
{
	char v[JAIL_VPATH_MAX];
	if (jail_vpath_join(d->vdir, name, v, sizeof v, NULL) < 0)
		return;
	struct stat t;
	if (jail_stat(d->jail, v, &t) == 0)
		*st = t;
}

static int one_line(struct ftpd_dir *d, struct sbuf *out, const char *name)
{
	struct stat st;
	if (fstatat(d->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 1;	/* gone since it was read: skip */
	switch (d->kind) {
	case FTPD_LIST_LS:
	case FTPD_LIST_STAT: {
		char target[JAIL_VPATH_MAX];
		const char *t = NULL;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(d->dir_fd, name, target, sizeof target - 1);
			if (n >= 0) {
				target[n] = '\0';
				t = target;
			}
		}
		return ftpd_list_ls_line(out, &st, name, t, d->ctx);
	}
	case FTPD_LIST_NLST: {
		if (d->prefix == NULL || d->prefix[0] == '\0')
			return ftpd_list_nlst_line(out, name);
		char full[JAIL_VPATH_MAX + NAME_MAX + 2];
		if (str_fmt(full, sizeof full, "%s%s", d->prefix, name) < 0)
			return 1;
		return ftpd_list_nlst_line(out, full);
	}
	case FTPD_LIST_MLSD:
		if (S_ISLNK(st.st_mode))
			follow_link(d, name, &st);
		return ftpd_list_mlsd_line(out, &st, name, FTPD_MLSX_ENTRY, d->ctx);
	}
	return 1;
}

int ftpd_dir_fill(struct ftpd_dir *d, struct sbuf *out, size_t want)
{
	if (d->kind == FTPD_LIST_MLSD && !d->cdir_done) {
		struct stat st;
		d->cdir_done = true;
		if (fstat(d->dir_fd, &st) == 0 &&
		    ftpd_list_mlsd_line(out, &st, ".", FTPD_MLSX_CDIR, d->ctx) < 0)
			return -1;
	}
	while (d->next < d->n) {
		size_t mark = out->len;
		int r = one_line(d, out, d->names[d->next]);
		if (r < 0) {
			sbuf_truncate(out, mark);
			return out->len > 0 ? 1 : -1;
		}
		d->next++;
		if (out->len >= want)
			return d->next < d->n ? 1 : 0;
	}
	return 0;
}
