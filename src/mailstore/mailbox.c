/* Reading and changing a Maildir (maildir(5), Maildir++, Dovecot's S= and
 * W= name fields): see mailbox.h. Every file is reached relative to a
 * directory fd, never through a symbolic link. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"
#include "mailstore/mailbox.h"
#include "mailstore/mailstore_int.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
#define READ_BUF 65536

struct mailbox {
	int md_fd;	/* the Maildir (or Maildir++ folder) */
	int new_fd;	/* -1 until needed (mailbox_release_dirs closes them) */
	int cur_fd;
	int lock_fd;	/* MAILBOX_LOCK_FILE while the session lock is held */
	char what[NAME_MAX * 2 + 4];	/* "NAME" or "NAME/.Folder", for messages */
};

struct mailbox_reader {
	int fd;
	struct mailbox_read_opts o;
	uint64_t off;
	bool eof;		/* a read came back short: the end of the file */
	bool at_line_start;
	bool prev_cr;
	bool in_body;
	bool done;
	uint64_t line_len;	/* bytes of the current line so far */
	uint64_t body_done;	/* body lines written */
};

static int close_fd(int fd)
{
	return fd >= 0 ? close(fd) : 0;
}

void mailbox_close(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	close_fd(mb->new_fd);
	close_fd(mb->cur_fd);
	close_fd(mb->lock_fd);
	close_fd(mb->md_fd);
	free(mb);
}

static int folder_check(const char *folder, ik_err *e)
{
	if (folder[0] == '\0' || folder[0] == '.' || strchr(folder, '/') != NULL ||
	    strlen(folder) > NAME_MAX - 1)
		return ik_err_set(e, "invalid folder name '%s': it must not be empty, start with "
				  "'.' or hold a '/'", folder);
	return 0;
}

int mailbox_open(struct mailstore *ms, const char *name, const char *folder,
		 struct mailbox **out, ik_err *e)
{
	if (mailstore_name_check(name, e) < 0)
		return -1;
	if (folder != NULL && folder_check(folder, e) < 0)
		return -1;
	struct mailbox *mb = calloc(1, sizeof *mb);
	if (mb == NULL)
		return ik_err_errno(e, ENOMEM, "cannot open mailbox %s", name);
	mb->new_fd = mb->cur_fd = mb->lock_fd = -1;
	bool missing;
	mb->md_fd = mailstore_maildir_open(ms, name, folder == NULL, &missing, e);
	if (mb->md_fd < 0)
		goto fail;
	str_copy(mb->what, sizeof mb->what, name);
	if (folder != NULL) {
		char dot[NAME_MAX + 1];
		str_fmt(dot, sizeof dot, ".%s", folder);
		str_fmt(mb->what, sizeof mb->what, "%s/%s", name, dot);
		int fd = openat(mb->md_fd, dot, DIR_FLAGS);
		if (fd < 0) {
			ik_err_errno(e, errno, "cannot open folder %s", mb->what);
			goto fail;
		}
		close(mb->md_fd);
		mb->md_fd = fd;
	}
	mb->new_fd = openat(mb->md_fd, "new", DIR_FLAGS);
	mb->cur_fd = openat(mb->md_fd, "cur", DIR_FLAGS);
	if (mb->new_fd < 0 || mb->cur_fd < 0) {
		ik_err_errno(e, errno, "cannot open %s/%s", mb->what, mb->new_fd < 0 ? "new" : "cur");
		goto fail;
	}
	*out = mb;
	return 0;
fail:
	mailbox_close(mb);
	return -1;
}

void mailbox_release_dirs(struct mailbox *mb)
{
	close_fd(mb->new_fd);
	close_fd(mb->cur_fd);
	mb->new_fd = mb->cur_fd = -1;
}

/* new/ or cur/, opened when first needed. */
static int sub_fd(struct mailbox *mb, bool in_new)
{
	int *p = in_new ? &mb->new_fd : &mb->cur_fd;
	if (*p < 0)
		*p = openat(mb->md_fd, in_new ? "new" : "cur", DIR_FLAGS);
	return *p;
}

int mailbox_dirfd(const struct mailbox *mb)
{
	return mb->md_fd;
}

static int open_lock_file(struct mailbox *mb, ik_err *e)
{
	int fd = openat(mb->md_fd, MAILBOX_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		ik_err_errno(e, errno, "cannot open %s/" MAILBOX_LOCK_FILE, mb->what);
	return fd;
}

int mailbox_lock(struct mailbox *mb, ik_err *e)
{
	if (mb->lock_fd >= 0)
		return 0;
	/* flock on a regular file in the Maildir: held per open file, so two
	 * sessions of one process exclude each other as two processes do;
	 * and, unlike a flock of the directory, the NFS client sends it to
	 * the server, so sessions on two nodes sharing the Maildir exclude
	 * each other too (docs/scale-out.md). */
	int fd = open_lock_file(mb, e);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		mb->lock_fd = fd;
		return 0;
	}
	int err = errno;
	close(fd);
	if (err == EWOULDBLOCK)
		return 1;
	return ik_err_errno(e, err, "cannot lock %s", mb->what);
}

int mailbox_lock_age(struct mailbox *mb, int64_t *age_s, ik_err *e)
{
	int fd = mb->lock_fd >= 0 ? mb->lock_fd : open_lock_file(mb, e);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		ik_err_errno(e, errno, "cannot read the stamp file of %s", mb->what);
		if (fd != mb->lock_fd)
			close(fd);
		return -1;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* A new stamp file (size 0) was never stamped: one byte marks it. */
	*age_s = st.st_size == 0 ? -1 : (int64_t)(now.tv_sec - st.st_mtim.tv_sec);
	int rc = 0;
	if ((st.st_size == 0 && pwrite(fd, "1", 1, 0) != 1) || futimens(fd, NULL) < 0)
		rc = ik_err_errno(e, errno, "cannot stamp %s/" MAILBOX_LOCK_FILE, mb->what);
	if (fd != mb->lock_fd)
		close(fd);
	return rc;
}

/* ---- names ---- */

static bool parse_num(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

int mailbox_name_parse(const char *fname, char *base, size_t basesz, struct mailbox_entry *me)
{
	me->has_size = me->has_vsize = false;
	me->size = me->vsize = 0;
	me->flags[0] = '\0';
	const char *info = strchr(fname, ':');
	size_t plen = info != NULL ? (size_t)(info - fname) : strlen(fname);
	if (plen == 0)
		return -1;
	size_t bl = 0;
	const char *p = fname, *end = fname + plen;
	bool first = true;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *fe = comma != NULL ? comma : end;
		size_t fl = (size_t)(fe - p);
		uint64_t v;
		if (!first && fl > 2 && p[0] == 'S' && p[1] == '=' && parse_num(p + 2, fl - 2, &v)) {
			me->size = v;
			me->has_size = true;
		} else if (!first && fl > 2 && p[0] == 'W' && p[1] == '=' &&
			   parse_num(p + 2, fl - 2, &v)) {
			me->vsize = v;
			me->has_vsize = true;
		} else {
			if (bl + fl + 2 > basesz)
				return -1;
			if (!first)
				base[bl++] = ',';
			memcpy(base + bl, p, fl);
			bl += fl;
		}
		first = false;
		p = comma != NULL ? comma + 1 : end;
	}
	if (bl == 0)
		return -1;
	base[bl] = '\0';
	if (info != NULL && info[1] == '2' && info[2] == ',')
		str_copy(me->flags, sizeof me->flags, info + 3);
	return 0;
}

/* Letters once each, in ASCII order (maildir(5)). */
static void flags_norm(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (int c = 0x21; c < 0x7f; c++)
		if (c != ',' && c != '/' && strchr(in, c) != NULL && o + 1 < outsz)
			out[o++] = (char)c;
	out[o] = '\0';
}

/* The file name of me in cur/ with flags: the name before the info, W=
 * added when known and missing, then ":2,FLAGS". */
static int cur_name(const struct mailbox_entry *me, const char *flags, char *out, size_t outsz)
{
	const char *info = strchr(me->name, ':');
	size_t plen = info != NULL ? (size_t)(info - me->name) : strlen(me->name);
	char prefix[NAME_MAX + 1];
	if (plen >= sizeof prefix)
		return -1;
	memcpy(prefix, me->name, plen);
	prefix[plen] = '\0';
	bool w = strstr(prefix, ",W=") != NULL;
	if (me->has_vsize && !w)
		return str_fmt(out, outsz, "%s,W=%" PRIu64 ":2,%s", prefix, me->vsize, flags) < 0 ||
		       strlen(out) > NAME_MAX ? -1 : 0;
	return str_fmt(out, outsz, "%s:2,%s", prefix, flags) < 0 || strlen(out) > NAME_MAX ? -1 : 0;
}

/* ---- listing ---- */

static int entry_set(struct mailbox_entry *me, const char *fname, bool in_new)
{
	char base[NAME_MAX + 1];
	struct mailbox_entry t;
	if (mailbox_name_parse(fname, base, sizeof base, &t) < 0)
		return 1;	/* not a message name: skipped */
	char *n = strdup(fname), *b = strdup(base);
	if (n == NULL || b == NULL) {
		free(n);
		free(b);
		return -1;
	}
	t.name = n;
	t.base = b;
	t.in_new = in_new;
	*me = t;
	return 0;
}

static int scan_dir(struct mailbox *mb, bool in_new, struct mailbox_list *l, size_t *cap,
		    ik_err *e)
{
	int dfd = sub_fd(mb, in_new);
	int fd = openat(dfd, ".", DIR_FLAGS);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		close_fd(fd);
		return ik_err_errno(e, errno, "cannot read %s/%s", mb->what, in_new ? "new" : "cur");
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (l->n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct mailbox_entry *v = realloc(l->v, nc * sizeof *v);
			if (v == NULL) {
				rc = ik_err_errno(e, ENOMEM, "cannot list %s", mb->what);
				break;
			}
			l->v = v;
			*cap = nc;
		}
		struct mailbox_entry *me = &l->v[l->n];
		int r = entry_set(me, de->d_name, in_new);
		if (r < 0) {
			rc = ik_err_errno(e, ENOMEM, "cannot list %s", mb->what);
			break;
		}
		if (r > 0)
			continue;
		/* Parsed once here, not in each comparison of the sort. */
		me->stamp = strtoull(me->base, NULL, 10);
		if (!me->has_size) {
			struct stat st;
			if (fstatat(dfd, me->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode)) {
				free(me->name);
				free(me->base);
				continue;	/* gone meanwhile, or not a file */
			}
			me->size = (uint64_t)st.st_size;
			me->has_size = true;
		}
		l->n++;
	}
	closedir(d);
	return rc;
}

/* Delivery order: the seconds that start a Maildir name, then the rest. */
static int entry_cmp(const void *a, const void *b)
{
	const struct mailbox_entry *x = a, *y = b;
	if (x->stamp != y->stamp)
		return x->stamp < y->stamp ? -1 : 1;
	return strcmp(x->base, y->base);
}

int mailbox_scan(struct mailbox *mb, struct mailbox_list *out, ik_err *e)
{
	struct mailbox_list l = {0};
	size_t cap = 0;
	/* new/ before cur/: a message another process moves from new/ to
	 * cur/ meanwhile is then seen in one or the other (or both), never in
	 * neither, as it could be when cur/ is read first. */
	if (scan_dir(mb, true, &l, &cap, e) < 0 || scan_dir(mb, false, &l, &cap, e) < 0) {
		mailbox_list_free(&l);
		return -1;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, entry_cmp);
	/* Seen in both: the cur/ name is the one that still exists. */
	size_t k = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (k > 0 && strcmp(l.v[k - 1].base, l.v[i].base) == 0) {
			struct mailbox_entry *keep = &l.v[k - 1], *drop = &l.v[i];
			if (keep->in_new && !drop->in_new) {
				struct mailbox_entry t = *keep;
				*keep = *drop;
				*drop = t;
			}
			free(drop->name);
			free(drop->base);
			continue;
		}
		l.v[k++] = l.v[i];
	}
	l.n = k;
	*out = l;
	return 0;
}

void mailbox_list_free(struct mailbox_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].base);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The move most often made behind our back, new/NAME to cur/NAME:2,FLAGS
 * (another session letting its \Recent go, mutt, POP3), looked for with
 * a stat or two before a whole directory is read: a FETCH of many
 * messages moved meanwhile must not read cur/ once for each. With and
 * without the W= that the mover may or may not have known. 1: found. */
static int find_moved(struct mailbox *mb, struct mailbox_entry *me)
{
	char nn[NAME_MAX + 1];
	for (int with_w = me->has_vsize ? 1 : 0; with_w >= 0; with_w--) {
		struct mailbox_entry t = *me;
		t.has_vsize = with_w == 1;
		struct stat st;
		if (cur_name(&t, me->flags, nn, sizeof nn) < 0 ||
		    fstatat(sub_fd(mb, false), nn, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		char *n = strdup(nn);
		if (n == NULL)
			return 0;	/* the directory read below finds it */
		free(me->name);
		me->name = n;
		me->in_new = false;
		return 1;
	}
	return 0;
}

int mailbox_entry_find(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	if (me->in_new && find_moved(mb, me) == 1)
		return 1;
	for (int pass = 0; pass < 2; pass++) {
		bool in_new = pass == 1;
		int fd = openat(sub_fd(mb, in_new), ".", DIR_FLAGS);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		if (d == NULL) {
			close_fd(fd);
			return ik_err_errno(e, errno, "cannot read %s", mb->what);
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char base[NAME_MAX + 1];
			struct mailbox_entry t;
			if (de->d_name[0] == '.' ||
			    mailbox_name_parse(de->d_name, base, sizeof base, &t) < 0 ||
			    strcmp(base, me->base) != 0)
				continue;
			char *n = strdup(de->d_name);
			closedir(d);
			if (n == NULL)
				return ik_err_errno(e, ENOMEM, "cannot find a message");
			free(me->name);
			me->name = n;
			me->in_new = in_new;
			str_copy(me->flags, sizeof me->flags, t.flags);
			if (t.has_vsize && !me->has_vsize) {
				me->vsize = t.vsize;
				me->has_vsize = true;
			}
			return 1;
		}
		closedir(d);
	}
	return 0;
}

/* ---- sizes ---- */

uint64_t mailbox_crlf_size(const char *p, size_t n, bool *last_was_cr)
{
	/* Line by line with memchr (vectorised): the first SELECT of a
	 * fresh Maildir runs this over every message. */
	if (n == 0)
		return 0;
	uint64_t add = 0;
	size_t i = 0;
	const char *q;
	while (i < n && (q = memchr(p + i, '\n', n - i)) != NULL) {
		size_t k = (size_t)(q - p);
		if (!(k > 0 ? p[k - 1] == '\r' : *last_was_cr))
			add++;
		i = k + 1;
	}
	*last_was_cr = p[n - 1] == '\r';
	return n + add;
}

/* Open me's file read-only, finding it again if it moved. */
static int open_msg(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	for (int tries = 0; tries < 3; tries++) {
		int fd = openat(sub_fd(mb, me->in_new), me->name,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT)
			return ik_err_errno(e, errno, "cannot open message %s in %s", me->base,
					    mb->what);
		int r = mailbox_entry_find(mb, me, e);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	errno = ENOENT;
	return ik_err_errno(e, ENOENT, "message %s of %s is gone", me->base, mb->what);
}

int mailbox_vsize(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	if (me->has_vsize)
		return 0;
	int fd = open_msg(mb, me, e);
	if (fd < 0)
		return -1;
	char *buf = malloc(READ_BUF);
	if (buf == NULL) {
		close(fd);
		return ik_err_errno(e, ENOMEM, "cannot read message %s", me->base);
	}
	uint64_t total = 0;
	bool cr = false;
	ssize_t n;
	while ((n = read(fd, buf, READ_BUF)) > 0)
		total += mailbox_crlf_size(buf, (size_t)n, &cr);
	int err = errno;
	free(buf);
	close(fd);
	if (n < 0)
		return ik_err_errno(e, err, "cannot read message %s of %s", me->base, mb->what);
	me->vsize = total;
	me->has_vsize = true;
	return 0;
}

/* ---- changes ---- */

/* The flags a change gives: set (NULL: the file's flags now, me->flags)
 * with add added and del removed, normalised. */
static void flags_target(const struct mailbox_entry *me, const char *set, const char *add,
			 const char *del, char *out, size_t outsz)
{
	char all[2 * MAILBOX_FLAGS_MAX];
	size_t n = 0;
	for (const char *p = set != NULL ? set : me->flags; *p && n + 1 < sizeof all; p++)
		all[n++] = *p;
	for (const char *p = add; *p && n + 1 < sizeof all; p++)
		all[n++] = *p;
	all[n] = '\0';
	char norm[MAILBOX_FLAGS_MAX];
	flags_norm(all, norm, sizeof norm);
	size_t o = 0;
	for (const char *p = norm; *p && o + 1 < outsz; p++)
		if (strchr(del, *p) == NULL)
			out[o++] = *p;
	out[o] = '\0';
}

/* Rename me to cur/ with the flags of flags_target. The target is worked
 * out again from the flags found on disk whenever the file is not where
 * me says (another session, mutt or POP3 renamed it: found again by its
 * base name in new/ or cur/), so a flag set or cleared elsewhere since me
 * was scanned is kept, not undone. With check, a change that leaves me's
 * name as it is looks the file up first (a change made elsewhere may make
 * this one a real rename). */
static int rename_to(struct mailbox *mb, struct mailbox_entry *me, const char *set,
		     const char *add, const char *del, bool check, ik_err *e)
{
	char nn[NAME_MAX + 1], flags[MAILBOX_FLAGS_MAX];
	for (int tries = 0; tries < 4; tries++) {
		flags_target(me, set, add, del, flags, sizeof flags);
		if (cur_name(me, flags, nn, sizeof nn) < 0)
			return ik_err_set(e, "message name too long: %s", me->name);
		int err;
		if (!me->in_new && strcmp(nn, me->name) == 0) {
			struct stat st;
			if (!check || fstatat(sub_fd(mb, false), me->name, &st,
					      AT_SYMLINK_NOFOLLOW) == 0)
				return 0;
			err = errno;
			check = false;	/* found again below: its name is now known */
		} else if (renameat(sub_fd(mb, me->in_new), me->name, sub_fd(mb, false), nn) == 0) {
			char *n = strdup(nn);
			if (n == NULL)
				return ik_err_errno(e, ENOMEM, "cannot rename a message");
			free(me->name);
			me->name = n;
			me->in_new = false;
			str_copy(me->flags, sizeof me->flags, flags);
			return 0;
		} else {
			err = errno;
		}
		if (err != ENOENT)
			return ik_err_errno(e, err, "cannot rename %s in %s", me->name, mb->what);
		int r = mailbox_entry_find(mb, me, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			ik_err_errno(e, ENOENT, "message %s of %s is gone", me->base, mb->what);
			errno = ENOENT;	/* the caller tells "gone" from a failure */
			return -1;
		}
	}
	errno = EAGAIN;
	return ik_err_set(e, "message %s of %s keeps moving", me->base, mb->what);
}

int mailbox_to_cur(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	if (!me->in_new && me->has_vsize && strstr(me->name, ",W=") != NULL)
		return 0;
	if (mailbox_vsize(mb, me, e) < 0)
		return -1;
	return rename_to(mb, me, NULL, "", "", false, e);
}

int mailbox_move_to_cur(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	if (!me->in_new)
		return 0;
	return rename_to(mb, me, NULL, "", "", false, e);
}

int mailbox_set_flags(struct mailbox *mb, struct mailbox_entry *me, const char *flags,
		      ik_err *e)
{
	return rename_to(mb, me, flags, "", "", false, e);
}

int mailbox_change_flags(struct mailbox *mb, struct mailbox_entry *me, const char *add,
			 const char *del, bool check, ik_err *e)
{
	return rename_to(mb, me, NULL, add, del, check, e);
}

int mailbox_remove(struct mailbox *mb, struct mailbox_entry *me, ik_err *e)
{
	for (int tries = 0; tries < 3; tries++) {
		if (unlinkat(sub_fd(mb, me->in_new), me->name, 0) == 0) {
			/* A hint only (rebuilt when wrong): its failure does not
			 * undo the removal. */
			maildir_size_add(mb->md_fd, -(int64_t)me->size, -1, NULL);
			return 0;
		}
		if (errno != ENOENT)
			return ik_err_errno(e, errno, "cannot remove %s from %s", me->name, mb->what);
		int r = mailbox_entry_find(mb, me, e);
		if (r <= 0)
			return r;	/* gone already: removed by another session */
	}
	return ik_err_set(e, "message %s of %s keeps moving", me->base, mb->what);
}

int mailbox_sync(struct mailbox *mb, ik_err *e)
{
	if (fsync(sub_fd(mb, false)) < 0)
		return ik_err_errno(e, errno, "cannot fsync %s/cur", mb->what);
	if (fsync(sub_fd(mb, true)) < 0)
		return ik_err_errno(e, errno, "cannot fsync %s/new", mb->what);
	return 0;
}

/* ---- reading ---- */

int mailbox_read_open(struct mailbox *mb, struct mailbox_entry *me,
		      const struct mailbox_read_opts *o, struct mailbox_reader **out, ik_err *e)
{
	struct mailbox_reader *r = calloc(1, sizeof *r);
	if (r == NULL)
		return ik_err_errno(e, ENOMEM, "cannot read a message");
	/* No fstat for the size: a read that comes back short is the end
	 * (a Maildir message is never written in place), so a message that
	 * fits the first read costs open, read, close. */
	r->fd = open_msg(mb, me, e);
	if (r->fd < 0) {
		free(r);
		return -1;
	}
	r->o = *o;
	r->at_line_start = true;
	*out = r;
	return 0;
}

bool mailbox_read_whole(const struct mailbox_reader *r)
{
	return r->done && r->eof;
}

void mailbox_read_close(struct mailbox_reader *r)
{
	if (r == NULL)
		return;
	close_fd(r->fd);
	free(r);
}

/* The end of a line (its LF at in[i], already counted in line_len as
 * nothing): CR LF out, the header/body bookkeeping. True when the body
 * line limit is reached with it. */
static bool end_line(struct mailbox_reader *r, char *out, size_t *o)
{
	if (!r->prev_cr)
		out[(*o)++] = '\r';
	out[(*o)++] = '\n';
	/* Empty: nothing, or a lone CR, before the LF. */
	bool empty = r->line_len == 0 || (r->line_len == 1 && r->prev_cr);
	r->prev_cr = false;
	r->at_line_start = true;
	r->line_len = 0;
	if (!r->in_body) {
		if (empty)
			r->in_body = true;
	} else {
		r->body_done++;
	}
	return r->in_body && r->o.body_lines_limit && r->body_done >= r->o.body_lines;
}

/* Convert in[0, n) into out (room for 2 n bytes): runs up to each LF are
 * copied whole, so the per-byte work is memchr's. Returns the bytes of in
 * consumed (fewer than n when the line limit stopped it). */
static size_t convert(struct mailbox_reader *r, const char *in, size_t n, char *out, size_t *o)
{
	size_t i = 0;
	while (i < n) {
		if (r->at_line_start && r->o.dot_stuff && in[i] == '.')
			out[(*o)++] = '.';
		const char *nl = memchr(in + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : n;
		size_t run = end - i;
		if (run > 0) {
			memcpy(out + *o, in + i, run);
			*o += run;
			r->line_len += run;
			r->prev_cr = in[end - 1] == '\r';
			r->at_line_start = false;
		}
		if (nl == NULL)
			return n;
		i = end + 1;
		if (end_line(r, out, o)) {
			r->done = true;
			return i;
		}
	}
	return n;
}

/* convert without dot-stuffing or a line limit (IMAP's reads; POP3
 * always dot-stuffs): no per-line bookkeeping, only whether the last
 * byte out was a CR and whether a line is open (what finish needs). */
static size_t convert_plain(struct mailbox_reader *r, const char *in, size_t n, char *out,
			    size_t *o)
{
	size_t i = 0, k = *o;
	bool cr = r->prev_cr;
	const char *nl;
	while (i < n && (nl = memchr(in + i, '\n', n - i)) != NULL) {
		size_t end = (size_t)(nl - in);
		if (end > i) {
			memcpy(out + k, in + i, end - i);
			k += end - i;
			cr = in[end - 1] == '\r';
		}
		if (!cr)
			out[k++] = '\r';
		out[k++] = '\n';
		cr = false;
		i = end + 1;
	}
	r->at_line_start = i == n;
	if (i < n) {
		memcpy(out + k, in + i, n - i);
		k += n - i;
		cr = in[n - 1] == '\r';
	}
	r->prev_cr = cr;
	*o = k;
	return n;
}

/* The last line without a line end gets one (final_crlf). */
static void finish(struct mailbox_reader *r, char *out, size_t *o)
{
	r->done = true;
	if (r->o.final_crlf && !r->at_line_start) {
		if (!r->prev_cr)
			out[(*o)++] = '\r';
		out[(*o)++] = '\n';
	}
}

int mailbox_read_chunk(struct mailbox_reader *r, char *out, size_t cap, size_t *len, ik_err *e)
{
	*len = 0;
	if (r->done || cap < 8)
		return 0;
	if (r->in_body && r->o.body_lines_limit && r->body_done >= r->o.body_lines) {
		r->done = true;
		return 0;
	}
	size_t want = (cap - 2) / 2;
	char in[32768];
	if (want > sizeof in)
		want = sizeof in;
	ssize_t n;
	do
		n = pread(r->fd, in, want, (off_t)r->off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ik_err_errno(e, errno, "cannot read a message");
	size_t o = 0;
	if (n == 0) {
		r->eof = true;
		finish(r, out, &o);
		*len = o;
		return 0;
	}
	size_t used = r->o.dot_stuff || r->o.body_lines_limit
		? convert(r, in, (size_t)n, out, &o) : convert_plain(r, in, (size_t)n, out, &o);
	r->off += used;
	/* Short: the end of the file, done now without one more read to
	 * see it (a regular file reads short only there). */
	if (used == (size_t)n && (size_t)n < want) {
		r->eof = true;
	} else if (r->done && used == (size_t)n) {
		/* The line limit fell on the last byte read: whether that was
		 * all of the file decides mailbox_read_whole. */
		char c;
		ssize_t k;
		do
			k = pread(r->fd, &c, 1, (off_t)r->off);
		while (k < 0 && errno == EINTR);
		r->eof = k == 0;
	}
	if (!r->done && r->eof)
		finish(r, out, &o);
	*len = o;
	return 0;
}
