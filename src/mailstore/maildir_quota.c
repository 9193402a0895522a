/* Maildir++ quota: the "maildirsize" file at the top of a Maildir. Its
 * first line is the quota definition ("10485760S", maybe ",1000C"), each
 * following line "<bytes> <messages>", a change (negative for removals)
 * appended by whoever made it with one O_APPEND write. The sum of the
 * lines is the usage; when the file is missing, malformed or suspect, it is
 * rebuilt by summing the mailbox's files, whose names carry their size
 * (",S=<bytes>") so that a sum needs no stat. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/str.h"
#include "mailstore/mailstore_int.h"

#define SIZE_FILE "maildirsize"
#define SIZE_FILE_MAX 65536	/* larger: not ours, rebuild it */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)

/* A decimal number, optionally negative, at *p; moves *p past it. */
static int parse_num(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	bool neg = s < end && *s == '-';
	if (neg)
		s++;
	if (s == end || *s < '0' || *s > '9')
		return -1;
	int64_t v = 0;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	*p = s;
	return 0;
}

/* "10485760S,1000C": the S item, 0 when there is none. */
static int parse_definition(const char *p, const char *end, uint64_t *quota)
{
	*quota = 0;
	while (p < end) {
		int64_t v;
		if (parse_num(&p, end, &v) < 0 || v < 0 || p == end || (*p != 'S' && *p != 'C'))
			return -1;
		if (*p == 'S')
			*quota = (uint64_t)v;
		p++;
		if (p < end && *p++ != ',')
			return -1;
	}
	return 0;
}

static int parse_size_file(const char *text, size_t len, struct maildir_usage *u,
			   uint64_t *quota)
{
	const char *p = text, *end = text + len;
	const char *nl = memchr(p, '\n', len);
	if (nl == NULL || parse_definition(p, nl, quota) < 0)
		return -1;
	/* A last line without its LF is an append still being written (or
	 * cut short by a crash: then the next append makes it malformed, and
	 * the file is rebuilt). */
	while (end > nl + 1 && end[-1] != '\n')
		end--;
	u->bytes = u->messages = 0;
	for (p = nl + 1; p < end; p++) {
		int64_t b, m;
		while (*p == ' ')
			p++;
		if (parse_num(&p, end, &b) < 0 || *p != ' ')
			return -1;
		while (*p == ' ')
			p++;
		if (parse_num(&p, end, &m) < 0)
			return -1;
		while (*p == ' ')
			p++;
		if (*p != '\n')
			return -1;
		if (__builtin_add_overflow(u->bytes, b, &u->bytes) ||
		    __builtin_add_overflow(u->messages, m, &u->messages))
			return -1;
	}
	return 0;
}

int maildir_size_read(int md_fd, struct maildir_usage *u, uint64_t *quota, off_t *fsize,
		      int64_t *age)
{
	/* O_NONBLOCK: a FIFO put in its place must not stall a delivery. */
	int fd = openat(md_fd, SIZE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	char *text = NULL;
	int rc = -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > SIZE_FILE_MAX || (text = malloc((size_t)st.st_size)) == NULL)
		goto out;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, text + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == 0 || parse_size_file(text, got, u, quota) < 0)
		goto out;
	*fsize = st.st_size;
	*age = (int64_t)time(NULL) - (int64_t)st.st_mtime;
	rc = 0;
out:
	free(text);
	close(fd);
	if (rc < 0)
		errno = EINVAL;
	return rc;
}

/* The size a Maildir file name states (",S=<bytes>" before the ":2,"
 * flags), or -1. */
static int64_t name_size(const char *name)
{
	const char *colon = strchr(name, ':');
	const char *end = colon ? colon : name + strlen(name);
	for (const char *s = name; (s = strstr(s, ",S=")) != NULL && s < end; s++) {
		const char *p = s + 3;
		int64_t v;
		if (parse_num(&p, end, &v) == 0 && v >= 0 && (p == end || *p == ','))
			return v;
	}
	return -1;
}

/* Add the messages of at_fd/sub (new/ or cur/) to u; a missing one is
 * empty. */
static int scan_dir(int at_fd, const char *sub, struct maildir_usage *u, ik_err *e)
{
	int fd = openat(at_fd, sub, DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : ik_err_errno(e, errno, "cannot read %s", sub);
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return ik_err_errno(e, errno, "cannot read %s", sub);
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		int64_t size = name_size(de->d_name);
		if (size < 0) {
			struct stat st;
			if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			size = (int64_t)st.st_size;
		}
		u->bytes += size;
		u->messages++;
	}
	closedir(d);
	return 0;
}

int maildir_size_scan(int md_fd, struct maildir_usage *u, ik_err *e)
{
	u->bytes = u->messages = 0;
	if (scan_dir(md_fd, "new", u, e) < 0 || scan_dir(md_fd, "cur", u, e) < 0)
		return -1;
	/* The Maildir++ folders (".Sent", ".Trash", ...) count too. */
	int fd = openat(md_fd, ".", DIR_FLAGS);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return ik_err_errno(e, errno, "cannot read the mailbox");
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (n[0] != '.' || n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))
			continue;
		int f = openat(fd, n, DIR_FLAGS);
		if (f < 0)
			continue;	/* not a folder (or a link: not followed) */
		rc = scan_dir(f, "new", u, e) < 0 || scan_dir(f, "cur", u, e) < 0 ? -1 : 0;
		close(f);
	}
	closedir(d);
	return rc;
}

int maildir_size_write(int md_fd, uint64_t quota, const struct maildir_usage *u, bool replace,
		       ik_err *e)
{
	char name[MAILSTORE_ID_MAX + 16], text[128];
	if (mailstore_unique(name + 12, sizeof name - 12) < 0)
		return ik_err_set(e, "cannot name a temporary file");
	memcpy(name, "maildirsize.", 12);
	int n = str_fmt(text, sizeof text, "%" PRIu64 "S\n%" PRId64 " %" PRId64 "\n", quota,
			u->bytes, u->messages);
	int tmp = openat(md_fd, "tmp", DIR_FLAGS);
	if (tmp < 0)
		return ik_err_errno(e, errno, "cannot open tmp");
	int fd = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		close(tmp);
		return ik_err_errno(e, err, "cannot create tmp/%s", name);
	}
	int rc = fs_write_all(fd, text, (size_t)n);
	close(fd);
	/* A rename replaces whatever is at the name, a link included, and
	 * never writes through it. A missing file is made with a link, which
	 * fails when another delivery made it first: that one stays, with
	 * what was appended to it since. */
	if (rc == 0 && replace) {
		rc = renameat(tmp, name, md_fd, SIZE_FILE);
	} else if (rc == 0) {
		rc = linkat(tmp, name, md_fd, SIZE_FILE, 0);
		if (rc < 0 && errno == EEXIST)
			rc = 0;
		unlinkat(tmp, name, 0);
	}
	if (rc < 0) {
		int err = errno;
		unlinkat(tmp, name, 0);
		close(tmp);
		return ik_err_errno(e, err, "cannot write " SIZE_FILE);
	}
	close(tmp);
	return 0;
}

int maildir_size_add(int md_fd, int64_t bytes, int64_t messages, ik_err *e)
{
	int fd = openat(md_fd, SIZE_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : ik_err_errno(e, errno, "cannot open " SIZE_FILE);
	char line[64];
	int n = str_fmt(line, sizeof line, "%" PRId64 " %" PRId64 "\n", bytes, messages);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = ik_err_set(e, SIZE_FILE " is not a regular file");
	else if (write(fd, line, (size_t)n) != n)
		rc = ik_err_errno(e, errno, "cannot append to " SIZE_FILE);
	close(fd);
	return rc;
}
