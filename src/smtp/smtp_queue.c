/* The outbound queue's directory, STATE_DIR/queue: ID.msg (the spool
 * file, hard-linked) and ID.env (the envelope; its format is described in
 * smtp_queue_env.c). Durable before acknowledged: the message was fsync'ed
 * in the spool, the envelope is written to ID.env.tmp, fsync'ed and
 * renamed, then one fsync of the directory makes both names last. Every
 * file is opened relative to the directory fd, never through a link. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/str.h"
#include "smtp/smtp_queue.h"

#define ENV_FILE_MAX (16u << 20)
#define FILE_FLAGS (O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

struct smtp_queue {
	int fd;
	char path[FS_PATH_MAX];	/* STATE_DIR/queue, for messages */
};

int smtp_queue_id_check(const char *id, ik_err *e)
{
	size_t n = strlen(id);
	if (n == 0 || n >= MAILSTORE_ID_MAX || id[0] == '.' ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return ik_err_set(e, "'%s' is not a queue id (such as 1700000000.M123456P42Q1)",
				  id);
	return 0;
}

int smtp_queue_open(const char *state_dir, struct smtp_queue **out, ik_err *e)
{
	char path[FS_PATH_MAX];
	if (str_fmt(path, sizeof path, "%s/queue", state_dir) < 0)
		return ik_err_set(e, "state directory path too long: %s", state_dir);
	if (fs_mkdir_p(path, 0700, (unsigned)-1, 0, e) < 0)
		return -1;
	struct smtp_queue *q = malloc(sizeof *q);
	if (q == NULL)
		return ik_err_errno(e, ENOMEM, "cannot open the queue");
	str_copy(q->path, sizeof q->path, path);
	q->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->fd < 0) {
		int err = errno;
		free(q);
		return ik_err_errno(e, err, "cannot open %s", path);
	}
	*out = q;
	return 0;
}

void smtp_queue_free(struct smtp_queue *q)
{
	if (q == NULL)
		return;
	close(q->fd);
	free(q);
}

static int file_name(char *out, size_t outsz, const char *id, const char *ext, ik_err *e)
{
	if (smtp_queue_id_check(id, e) < 0)
		return -1;
	return str_fmt(out, outsz, "%s.%s", id, ext) < 0 ? ik_err_set(e, "queue id too long") : 0;
}

static bool has_suffix(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), k = strlen(suffix);
	*stem = n >= k ? n - k : 0;
	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Write the envelope durably: ID.env.tmp, fsync, rename, fsync the
 * directory (unless the caller does that later for a batch). */
static int write_env(struct smtp_queue *q, const struct smtp_envelope *env, bool sync_dir,
		     ik_err *e)
{
	char name[MAILSTORE_ID_MAX + 8], tmp[MAILSTORE_ID_MAX + 16];
	if (file_name(name, sizeof name, env->id, "env", e) < 0 ||
	    file_name(tmp, sizeof tmp, env->id, "env.tmp", e) < 0)
		return -1;
	struct sbuf b = SBUF_INIT(ENV_FILE_MAX);
	if (smtp_queue_env_format(env, &b, e) < 0) {
		sbuf_free(&b);
		return -1;
	}
	int fd = openat(q->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | FILE_FLAGS, 0600);
	if (fd < 0) {
		sbuf_free(&b);
		return ik_err_errno(e, errno, "cannot create %s/%s", q->path, tmp);
	}
	const char *what = "write";
	int rc = fs_write_all(fd, b.data, b.len);
	if (rc == 0) {
		what = "fsync";
		rc = fsync(fd);
	}
	int err = errno;
	close(fd);
	sbuf_free(&b);
	if (rc == 0) {
		what = "rename";
		rc = renameat(q->fd, tmp, q->fd, name);
		err = errno;
	}
	if (rc < 0) {
		unlinkat(q->fd, tmp, 0);
		return ik_err_errno(e, err, "cannot %s %s/%s", what, q->path, tmp);
	}
	if (sync_dir && fsync(q->fd) < 0)
		return ik_err_errno(e, errno, "cannot fsync the queue directory");
	return 0;
}

int smtp_queue_add(struct smtp_queue *q, struct mailstore *ms, struct mail_spool *sp,
		   struct smtp_envelope *env, ik_err *e)
{
	(void)ms;	/* the spool knows its store */
	str_copy(env->id, sizeof env->id, mail_spool_id(sp));
	env->size = mail_spool_size(sp);
	char msg[MAILSTORE_ID_MAX + 8], tmp[MAILSTORE_ID_MAX + 16];
	if (file_name(msg, sizeof msg, env->id, "msg", e) < 0 ||
	    file_name(tmp, sizeof tmp, env->id, "msg.tmp", e) < 0)
		return -1;
	if (mail_spool_link(sp, q->fd, tmp, q->fd, msg, e) < 0)
		return ik_err_prefix(e, "queue");
	if (write_env(q, env, true, e) < 0) {
		unlinkat(q->fd, msg, 0);
		return -1;
	}
	return 0;
}

/* Read ID.env into env. */
static int read_env(struct smtp_queue *q, const char *id, struct smtp_envelope *env, ik_err *e)
{
	char name[MAILSTORE_ID_MAX + 8], fname[FS_PATH_MAX + MAILSTORE_ID_MAX + 8];
	if (file_name(name, sizeof name, id, "env", e) < 0)
		return -1;
	str_fmt(fname, sizeof fname, "%s/%s", q->path, name);
	int fd = openat(q->fd, name, O_RDONLY | FILE_FLAGS);
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT)
			ik_err_set(e, "no such queue entry %s", id);
		else
			ik_err_errno(e, err, "cannot open %s", fname);
		errno = err;
		return -1;
	}
	struct stat st;
	char *text = NULL;
	int rc = -1;
	if (fstat(fd, &st) < 0) {
		ik_err_errno(e, errno, "cannot read %s", fname);
	} else if (!S_ISREG(st.st_mode)) {
		ik_err_set(e, "%s is not a regular file", fname);
	} else if ((uint64_t)st.st_size > ENV_FILE_MAX) {
		ik_err_set(e, "%s is larger than %u bytes: not an envelope", fname, ENV_FILE_MAX);
	} else if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		ik_err_errno(e, ENOMEM, "cannot read %s", fname);
	} else {
		size_t got = 0;
		int err = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = pread(fd, text + got, (size_t)st.st_size - got, (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				err = n < 0 ? errno : 0;
				break;
			}
			got += (size_t)n;
		}
		if (err != 0) {
			ik_err_errno(e, err, "cannot read %s", fname);
		} else {
			str_copy(env->id, sizeof env->id, id);
			rc = smtp_queue_env_parse(text, got, fname, env, e);
		}
	}
	free(text);
	close(fd);
	errno = EINVAL;
	return rc;
}

int smtp_queue_read(struct smtp_queue *q, const char *id, struct smtp_envelope *env, ik_err *e)
{
	memset(env, 0, sizeof *env);
	return read_env(q, id, env, e);
}

int smtp_queue_open_msg(struct smtp_queue *q, const char *id, ik_err *e)
{
	char name[MAILSTORE_ID_MAX + 8];
	if (file_name(name, sizeof name, id, "msg", e) < 0)
		return -1;
	int fd = openat(q->fd, name, O_RDONLY | FILE_FLAGS);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot open %s/%s", q->path, name);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ik_err_set(e, "%s/%s is not a regular file", q->path, name);
	}
	/* Back to blocking reads (O_NONBLOCK only kept a FIFO from stalling
	 * the open). */
	fcntl(fd, F_SETFL, O_RDONLY);
	return fd;
}

static int update_entry(struct smtp_queue *q, const struct smtp_envelope *env, bool sync_dir,
			ik_err *e)
{
	char name[MAILSTORE_ID_MAX + 8];
	if (file_name(name, sizeof name, env->id, "env", e) < 0)
		return -1;
	struct stat st;
	/* A deleted entry stays deleted. */
	if (fstatat(q->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;
		if (err == ENOENT)
			ik_err_set(e, "no such queue entry %s", env->id);
		else
			ik_err_errno(e, err, "cannot update %s/%s", q->path, name);
		errno = err;
		return -1;
	}
	return write_env(q, env, sync_dir, e);
}

int smtp_queue_update(struct smtp_queue *q, const struct smtp_envelope *env, ik_err *e)
{
	return update_entry(q, env, true, e);
}

int smtp_queue_update_nosync(struct smtp_queue *q, const struct smtp_envelope *env, ik_err *e)
{
	return update_entry(q, env, false, e);
}

int smtp_queue_delete(struct smtp_queue *q, const char *id, ik_err *e)
{
	if (smtp_queue_delete_nosync(q, id, e) < 0)
		return -1;
	return smtp_queue_sync(q, e);
}

int smtp_queue_sync(struct smtp_queue *q, ik_err *e)
{
	if (fsync(q->fd) < 0)
		return ik_err_errno(e, errno, "cannot fsync the queue directory");
	return 0;
}

int smtp_queue_delete_nosync(struct smtp_queue *q, const char *id, ik_err *e)
{
	char env[MAILSTORE_ID_MAX + 8], msg[MAILSTORE_ID_MAX + 8];
	if (file_name(env, sizeof env, id, "env", e) < 0 ||
	    file_name(msg, sizeof msg, id, "msg", e) < 0)
		return -1;
	if (unlinkat(q->fd, env, 0) < 0) {
		int err = errno;
		if (err == ENOENT)
			ik_err_set(e, "no such queue entry %s", id);
		else
			ik_err_errno(e, err, "cannot remove %s/%s", q->path, env);
		errno = err;
		return -1;
	}
	if (unlinkat(q->fd, msg, 0) < 0 && errno != ENOENT)
		return ik_err_errno(e, errno, "cannot remove %s/%s", q->path, msg);
	return 0;
}

/* The directory's names, each passed to fn; stops at fn's -1. */
static int each_name(struct smtp_queue *q, int (*fn)(struct smtp_queue *q, const char *name,
						     void *arg), void *arg, ik_err *e)
{
	int fd = openat(q->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return ik_err_errno(e, errno, "cannot read the queue directory");
	}
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			rc = fn(q, de->d_name, arg);
	closedir(d);
	if (rc < 0)
		return ik_err_errno(e, errno, "cannot read the queue directory");
	return 0;
}

static int recover_one(struct smtp_queue *q, const char *name, void *arg)
{
	int *removed = arg;
	size_t stem;
	bool drop = has_suffix(name, ".tmp", &stem);
	if (!drop && has_suffix(name, ".msg", &stem)) {
		char env[NAME_MAX + 1];
		if (str_fmt(env, sizeof env, "%.*s.env", (int)stem, name) < 0)
			return 0;
		drop = faccessat(q->fd, env, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	}
	if (drop && unlinkat(q->fd, name, 0) == 0)
		(*removed)++;
	return 0;
}

int smtp_queue_recover(struct smtp_queue *q, ik_err *e)
{
	int removed = 0;
	if (each_name(q, recover_one, &removed, e) < 0)
		return -1;
	if (removed > 0 && fsync(q->fd) < 0)
		return ik_err_errno(e, errno, "cannot fsync the queue directory");
	return removed;
}

struct id_list {
	struct id_entry {
		char *id;
		int64_t arrival;
	} *v;
	size_t n, cap;
	bool by_name;	/* the time from the id, the envelope not read */
};

/* The seconds an id starts with (the spool names its files as Maildir
 * does, SECONDS.M<usec>P<pid>Q<n>: the time the message came); 0 when it
 * has none. */
static int64_t id_time(const char *id)
{
	int64_t t = 0;
	for (; *id >= '0' && *id <= '9' && t < INT64_MAX / 10 - 10; id++)
		t = t * 10 + (*id - '0');
	return t;
}

static int collect_id(struct smtp_queue *q, const char *name, void *arg)
{
	struct id_list *l = arg;
	size_t stem;
	if (!has_suffix(name, ".env", &stem) || stem >= MAILSTORE_ID_MAX)
		return 0;
	char id[MAILSTORE_ID_MAX];
	memcpy(id, name, stem);
	id[stem] = '\0';
	if (smtp_queue_id_check(id, NULL) < 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->v, cap * sizeof *l->v);
		if (p == NULL)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	int64_t arrival = 0;
	if (l->by_name) {
		arrival = id_time(id);
	} else {
		/* An envelope that cannot be read is listed first, to be seen. */
		struct smtp_envelope env = {0};
		arrival = read_env(q, id, &env, NULL) == 0 ? env.arrival : 0;
		smtp_envelope_clear(&env);
	}
	if ((l->v[l->n].id = strdup(id)) == NULL)
		return -1;
	l->v[l->n++].arrival = arrival;
	return 0;
}

static int by_arrival(const void *a, const void *b)
{
	const struct id_entry *x = a, *y = b;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return strverscmp(x->id, y->id);
}

static int list_ids(struct smtp_queue *q, bool by_name, char ***ids, size_t *n, ik_err *e)
{
	struct id_list l = {.by_name = by_name};
	*ids = NULL;
	*n = 0;
	if (each_name(q, collect_id, &l, e) < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i].id);
		free(l.v);
		return -1;
	}
	if (l.n > 0)
		qsort(l.v, l.n, sizeof *l.v, by_arrival);
	char **out = malloc((l.n ? l.n : 1) * sizeof *out);
	if (out == NULL) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i].id);
		free(l.v);
		return ik_err_errno(e, ENOMEM, "cannot list the queue");
	}
	for (size_t i = 0; i < l.n; i++)
		out[i] = l.v[i].id;
	free(l.v);
	*ids = out;
	*n = l.n;
	return 0;
}

int smtp_queue_ids(struct smtp_queue *q, char ***ids, size_t *n, ik_err *e)
{
	return list_ids(q, false, ids, n, e);
}

int smtp_queue_ids_by_name(struct smtp_queue *q, char ***ids, size_t *n, ik_err *e)
{
	return list_ids(q, true, ids, n, e);
}

void smtp_queue_ids_free(char **ids, size_t n)
{
	if (ids == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}
