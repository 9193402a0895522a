/* Maildir delivery (the Maildir format as qmail and Dovecot keep it,
 * and Maildir++ for the quota): STATE_DIR/mail/NAME/{tmp,new,cur}, every
 * file opened relative to a directory fd and never through a symbolic
 * link, so that nothing planted in a mailbox can send a delivery
 * elsewhere. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/fsutil.h"
#include "lib/str.h"
#include "mailstore/mailstore_int.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)

static atomic_ullong unique_counter;

int mailstore_unique(char *out, size_t outsz)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned long long q = atomic_fetch_add(&unique_counter, 1) + 1;
	return str_fmt(out, outsz, "%lld.M%06ldP%ldQ%llu", (long long)ts.tv_sec,
		       ts.tv_nsec / 1000, (long)getpid(), q) < 0 ? -1 : 0;
}

/* The host part of a Maildir name: '/' and ':' (and ',', which starts
 * the Maildir++ fields) as octal escapes, as the format asks. */
static void host_part(char *out, size_t outsz)
{
	char host[65] = "localhost";
	if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
		str_copy(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)host; *p && o + 5 < outsz; p++) {
		if (*p == '/' || *p == ':' || *p == ',' || *p == '\\')
			o += (size_t)str_fmt(out + o, outsz - o, "\\%03o", *p);
		else if (*p <= ' ' || *p >= 0x7f)
			out[o++] = '_';
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

int mailstore_name_check(const char *name, ik_err *e)
{
	if (name == NULL || name[0] == '\0')
		return ik_err_set(e, "no mailbox name given");
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return ik_err_set(e, "invalid mailbox name '%s': it must not start with '.' or "
				  "hold a '/'", name);
	if (account_name_check(name, e) < 0)
		return ik_err_prefix(e, "mailbox");
	return 0;
}

int mailstore_open(const char *state_dir, struct mailstore **out, ik_err *e)
{
	char path[FS_PATH_MAX];
	if (str_fmt(path, sizeof path, "%s/mail", state_dir) < 0)
		return ik_err_set(e, "state directory path too long: %s", state_dir);
	if (fs_mkdir_p(path, 0700, (unsigned)-1, 0, e) < 0)
		return -1;
	struct mailstore *ms = calloc(1, sizeof *ms);
	if (ms == NULL)
		return ik_err_errno(e, ENOMEM, "cannot open the mail store");
	ms->spool_fd = -1;
	ms->mail_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ms->mail_fd < 0) {
		ik_err_errno(e, errno, "cannot open %s", path);
		goto fail;
	}
	if (mkdirat(ms->mail_fd, MAILSTORE_SPOOL_DIR, 0700) < 0 && errno != EEXIST) {
		ik_err_errno(e, errno, "cannot create %s/" MAILSTORE_SPOOL_DIR, path);
		goto fail;
	}
	ms->spool_fd = openat(ms->mail_fd, MAILSTORE_SPOOL_DIR, DIR_FLAGS);
	if (ms->spool_fd < 0) {
		ik_err_errno(e, errno, "cannot open %s/" MAILSTORE_SPOOL_DIR "%s", path,
			     errno == ELOOP || errno == ENOTDIR ? " (it must be a directory, "
			     "not a symbolic link)" : "");
		goto fail;
	}
	host_part(ms->host, sizeof ms->host);
	*out = ms;
	return 0;
fail:
	mailstore_free(ms);
	return -1;
}

void mailstore_free(struct mailstore *ms)
{
	if (ms == NULL)
		return;
	if (ms->spool_fd >= 0)
		close(ms->spool_fd);
	if (ms->mail_fd >= 0)
		close(ms->mail_fd);
	free(ms);
}

int mailstore_dirfd(const struct mailstore *ms)
{
	return ms->mail_fd;
}

int mailstore_recover(struct mailstore *ms, ik_err *e)
{
	int fd = openat(ms->spool_fd, ".", DIR_FLAGS);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return ik_err_errno(e, errno, "cannot read mail/" MAILSTORE_SPOOL_DIR);
	}
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(ms->spool_fd, de->d_name, 0) == 0)
			removed++;
		else if (errno != ENOENT && errno != EISDIR) {
			int err = errno;
			closedir(d);
			return ik_err_errno(e, err, "cannot remove mail/" MAILSTORE_SPOOL_DIR "/%s",
					    de->d_name);
		}
	}
	closedir(d);
	return removed;
}

/* The error for a mailbox (or its part) that cannot be opened. */
static int open_error(int err, const char *name, const char *part, ik_err *e)
{
	if (err == ELOOP || err == ENOTDIR)
		return ik_err_set(e, "mailbox %s%s%s is not a directory (a symbolic link or a file "
				  "is in its place; it is never followed): move it away",
				  name, part[0] ? "/" : "", part);
	return ik_err_errno(e, err, "cannot open mailbox %s%s%s", name, part[0] ? "/" : "", part);
}

/* Open NAME's Maildir, with create: make it when missing. Returns its fd,
 * or -1 (with *missing set when it is not there and !create). new/ is
 * made last, so a new/ that is there says the others are. */
int mailstore_maildir_open(struct mailstore *ms, const char *name, bool create, bool *missing,
			   ik_err *e)
{
	*missing = false;
	int md = openat(ms->mail_fd, name, DIR_FLAGS);
	if (md < 0 && errno == ENOENT && create) {
		if (mkdirat(ms->mail_fd, name, 0700) < 0 && errno != EEXIST)
			return ik_err_errno(e, errno, "cannot create mailbox %s", name);
		md = openat(ms->mail_fd, name, DIR_FLAGS);
		if (md >= 0 && fsync(ms->mail_fd) < 0) {
			int err = errno;
			close(md);
			return ik_err_errno(e, err, "cannot fsync the mail directory");
		}
	}
	if (md < 0 && errno == ENOENT && !create) {
		*missing = true;
		return -1;
	}
	if (md < 0)
		return open_error(errno, name, "", e);
	if (!create || faccessat(md, "new", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return md;
	static const char *const parts[] = {"tmp", "cur", "new"};
	for (size_t i = 0; i < 3; i++)
		if (mkdirat(md, parts[i], 0700) < 0 && errno != EEXIST) {
			int err = errno;
			close(md);
			return ik_err_errno(e, err, "cannot create mailbox %s/%s", name, parts[i]);
		}
	if (fsync(md) < 0) {
		int err = errno;
		close(md);
		return ik_err_errno(e, err, "cannot fsync mailbox %s", name);
	}
	return md;
}

/* The usage quota is checked against: maildirsize, rebuilt when missing,
 * unreadable, for another quota, grown long, or stale while it says the
 * mailbox is full (mail may have been removed by other tools since). */
static int quota_usage(int md, const char *name, uint64_t quota, uint64_t size,
		       struct maildir_usage *u, ik_err *e)
{
	uint64_t def;
	off_t fsize;
	int64_t age;
	bool fresh = false;
	int rc = maildir_size_read(md, u, &def, &fsize, &age);
	bool missing = rc < 0 && errno == ENOENT;
	if (rc < 0 || def != quota || fsize > 5120) {
		if (maildir_size_scan(md, u, e) < 0 ||
		    maildir_size_write(md, quota, u, !missing, e) < 0)
			return ik_err_prefix(e, "mailbox %s", name);
		fresh = true;
	}
	uint64_t used = u->bytes > 0 ? (uint64_t)u->bytes : 0;
	bool over = used >= quota || used + size > quota;
	if (over && !fresh && age > 15 * 60) {
		if (maildir_size_scan(md, u, e) < 0 || maildir_size_write(md, quota, u, true, e) < 0)
			return ik_err_prefix(e, "mailbox %s", name);
	}
	return 0;
}

static int place(struct mail_spool *sp, int md, const char *name, uint64_t size, ik_err *e)
{
	int tmp = openat(md, "tmp", DIR_FLAGS);
	if (tmp < 0)
		return open_error(errno, name, "tmp", e);
	int nd = openat(md, "new", DIR_FLAGS);
	if (nd < 0) {
		int err = errno;
		close(tmp);
		return open_error(err, name, "new", e);
	}
	struct mailstore *ms = sp->ms;
	char base[MAILSTORE_ID_MAX], file[NAME_MAX + 1];
	str_copy(base, sizeof base, sp->id);
	int rc = -1;
	for (int tries = 0; tries < 8; tries++) {
		if (str_fmt(file, sizeof file, "%s.%s,S=%" PRIu64, base, ms->host, size) < 0) {
			ik_err_set(e, "Maildir name too long");
			break;
		}
		rc = mail_spool_link(sp, tmp, file, nd, file, e);
		/* Taken: the same message twice to one mailbox gets a second
		 * name, as a second copy would. */
		if (rc == 0 || errno != EEXIST || mailstore_unique(base, sizeof base) < 0)
			break;
	}
	if (rc == 0 && fsync(nd) < 0)
		rc = ik_err_errno(e, errno, "cannot fsync mailbox %s/new", name);
	if (rc < 0)
		ik_err_prefix(e, "delivery to %s", name);
	close(nd);
	close(tmp);
	return rc;
}

int mailstore_deliver(struct mailstore *ms, struct mail_spool *sp, const char *name,
		      uint64_t quota, bool *over_quota, ik_err *e)
{
	*over_quota = false;
	if (mailstore_name_check(name, e) < 0)
		return -1;
	if (!sp->synced)
		return ik_err_set(e, "delivery to %s before the spool file is synced", name);
	bool missing;
	int md = mailstore_maildir_open(ms, name, true, &missing, e);
	if (md < 0)
		return -1;
	uint64_t size = mail_spool_size(sp);
	if (quota > 0) {
		struct maildir_usage u;
		if (quota_usage(md, name, quota, size, &u, e) < 0) {
			close(md);
			return -1;
		}
		uint64_t used = u.bytes > 0 ? (uint64_t)u.bytes : 0;
		if (used >= quota || used + size > quota) {
			close(md);
			*over_quota = true;
			return ik_err_set(e, "mailbox %s is full: %" PRIu64 " of %" PRIu64 " bytes "
					  "used, and the message has %" PRIu64, name, used, quota, size);
		}
	}
	int rc = place(sp, md, name, size, e);
	/* The usage line is a hint (rebuilt when wrong): its failure does
	 * not undo a delivery that is already on disk. */
	if (rc == 0)
		maildir_size_add(md, (int64_t)size, 1, NULL);
	close(md);
	return rc;
}

int mailstore_usage(struct mailstore *ms, const char *name, uint64_t *bytes,
		    uint64_t *messages, ik_err *e)
{
	*bytes = 0;
	*messages = 0;
	if (mailstore_name_check(name, e) < 0)
		return -1;
	bool missing;
	int md = mailstore_maildir_open(ms, name, false, &missing, e);
	if (md < 0)
		return missing ? 0 : -1;
	struct maildir_usage u;
	uint64_t def = 0;
	off_t fsize = 0;
	int64_t age = 0;
	int rc = maildir_size_read(md, &u, &def, &fsize, &age);
	bool no_file = rc < 0 && errno == ENOENT;
	/* Summed again when missing, bad, long, or quiet for a while (mail
	 * may have been removed by other tools since); kept for the next
	 * call, with the quota definition it had. */
	if (rc < 0 || fsize > 5120 || age > 15 * 60) {
		rc = maildir_size_scan(md, &u, e);
		if (rc < 0)
			ik_err_prefix(e, "mailbox %s", name);
		else
			maildir_size_write(md, def, &u, !no_file, NULL);
	}
	close(md);
	if (rc == 0) {
		*bytes = u.bytes > 0 ? (uint64_t)u.bytes : 0;
		*messages = u.messages > 0 ? (uint64_t)u.messages : 0;
	}
	return rc;
}

/* ---- a Maildir of its own (a mail client's: `inetkit mail fetch`) ---- */

int maildir_path_open(const char *path, ik_err *e)
{
	if (fs_mkdir_p(path, 0700, (unsigned)-1, (unsigned)-1, e) < 0)
		return ik_err_prefix(e, "Maildir %s", path);
	int md = open(path, DIR_FLAGS);
	if (md < 0)
		return ik_err_errno(e, errno, "Maildir %s", path);
	static const char *const parts[] = {"tmp", "cur", "new"};
	for (size_t i = 0; i < 3; i++)
		if (mkdirat(md, parts[i], 0700) < 0 && errno != EEXIST) {
			int err = errno;
			close(md);
			return ik_err_errno(e, err, "Maildir %s/%s", path, parts[i]);
		}
	if (fsync(md) < 0) {
		int err = errno;
		close(md);
		return ik_err_errno(e, err, "fsync Maildir %s", path);
	}
	return md;
}

int maildir_tmp_name(char *name, size_t namesz, ik_err *e)
{
	char host[MAILSTORE_HOST_MAX], id[MAILSTORE_ID_MAX];
	host_part(host, sizeof host);
	if (mailstore_unique(id, sizeof id) < 0 || str_fmt(name, namesz, "%s.%s", id, host) < 0)
		return ik_err_set(e, "Maildir name too long");
	return 0;
}

int maildir_tmp_open(int md, const char *name, ik_err *e)
{
	char rel[NAME_MAX + 8];
	if (str_fmt(rel, sizeof rel, "tmp/%s", name) < 0)
		return ik_err_set(e, "Maildir name too long");
	int fd = openat(md, rel, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot create tmp/%s", name);
	return fd;
}

int maildir_tmp_create(int md, char *name, size_t namesz, ik_err *e)
{
	for (int tries = 0; tries < 8; tries++) {
		if (maildir_tmp_name(name, namesz, e) < 0)
			return -1;
		int fd = maildir_tmp_open(md, name, e);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return ik_err_set(e, "cannot find a unique name in tmp/");
}

int maildir_tmp_commit(int md, int fd, const char *name, uint64_t size, const char *flags,
		       char *final, size_t finalsz, ik_err *e)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8];
	if (fsync(fd) < 0)
		return ik_err_errno(e, errno, "fsync tmp/%s", name);
	int rc = flags ? str_fmt(final, finalsz, "%s,S=%" PRIu64 ":2,%s", name, size, flags)
		       : str_fmt(final, finalsz, "%s,S=%" PRIu64, name, size);
	if (rc < 0 || str_fmt(from, sizeof from, "tmp/%s", name) < 0 ||
	    str_fmt(to, sizeof to, "%s/%s", flags ? "cur" : "new", final) < 0)
		return ik_err_set(e, "Maildir name too long");
	/* rename, not link: a client's Maildir may sit on a file system
	 * without hard links; the name is unique, so nothing is replaced */
	if (renameat(md, from, md, to) < 0)
		return ik_err_errno(e, errno, "rename tmp/%s", name);
	int dir = openat(md, flags ? "cur" : "new", DIR_FLAGS);
	if (dir < 0)
		return ik_err_errno(e, errno, "open %s/", flags ? "cur" : "new");
	rc = fsync(dir);
	int err = errno;
	close(dir);
	if (rc < 0)
		return ik_err_errno(e, err, "fsync %s/", flags ? "cur" : "new");
	return 0;
}

void maildir_tmp_discard(int md, const char *name)
{
	char rel[NAME_MAX + 8];
	if (str_fmt(rel, sizeof rel, "tmp/%s", name) >= 0)
		unlinkat(md, rel, 0);
}

int maildir_tmp_place(int md, const char *name, uint64_t size, const char *flags, char *final,
		      size_t finalsz, ik_err *e)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8];
	int rc = flags ? str_fmt(final, finalsz, "%s,S=%" PRIu64 ":2,%s", name, size, flags)
		       : str_fmt(final, finalsz, "%s,S=%" PRIu64, name, size);
	if (rc < 0 || str_fmt(from, sizeof from, "tmp/%s", name) < 0 ||
	    str_fmt(to, sizeof to, "%s/%s", flags ? "cur" : "new", final) < 0)
		return ik_err_set(e, "Maildir name too long");
	if (renameat(md, from, md, to) < 0)
		return ik_err_errno(e, errno, "rename tmp/%s", name);
	return 0;
}

int maildir_sync_all(int md, ik_err *e)
{
	if (syncfs(md) < 0)
		return ik_err_errno(e, errno, "syncfs");
	return 0;
}
