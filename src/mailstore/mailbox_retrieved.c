/* When POP3 retrieved each message, for the EXPIRE retention period (RFC
 * 2449 6.7): see mailbox.h. The file is small (one line per retrieved
 * message still there) and read and rewritten whole, at the QUIT of a
 * session that retrieved or expired something. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "mailstore/mailbox.h"

#define RETRIEVED_TMP MAILBOX_RETRIEVED_FILE ".tmp"
#define RETRIEVED_MAX (64u * 1024 * 1024)	/* far above any real maildrop's */

struct line {
	const char *base;	/* NUL-terminated in the file's buffer */
	int64_t time;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->base, ((const struct line *)b)->base);
}

/* The file's bytes; an absent file is empty. */
static int read_all(int dirfd, struct sbuf *b, ik_err *e)
{
	int fd = openat(dirfd, MAILBOX_RETRIEVED_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : ik_err_errno(e, errno, "cannot open %s",
							   MAILBOX_RETRIEVED_FILE);
	int rc = 0;
	for (;;) {
		char *p = sbuf_reserve(b, 65536);
		if (p == NULL) {
			rc = ik_err_set(e, "%s is larger than %u bytes", MAILBOX_RETRIEVED_FILE,
					RETRIEVED_MAX);
			break;
		}
		ssize_t n = read(fd, p, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ik_err_errno(e, errno, "cannot read %s", MAILBOX_RETRIEVED_FILE);
			break;
		}
		if (n == 0)
			break;
		sbuf_commit(b, (size_t)n);
	}
	close(fd);
	return rc;
}

/* Split "TIME BASE" lines in place; malformed lines are skipped (the
 * next save drops them). */
static size_t parse(struct sbuf *b, struct line *v, size_t max)
{
	size_t n = 0;
	char *p = b->data, *end = b->data + b->len;
	while (p != NULL && p < end && n < max) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;	/* a torn last line: not a line */
		*nl = '\0';
		char *sp = strchr(p, ' ');
		uint64_t t;
		if (sp != NULL && sp[1] != '\0') {
			*sp = '\0';
			if (str_to_u64(p, INT64_MAX, &t) == 0 && t > 0)
				v[n++] = (struct line){sp + 1, (int64_t)t};
		}
		p = nl + 1;
	}
	return n;
}

int mailbox_retrieved_load(struct mailbox *mb, const struct mailbox_list *l, int64_t *times,
			   size_t *stale, ik_err *e)
{
	for (size_t i = 0; i < l->n; i++)
		times[i] = 0;
	if (stale != NULL)
		*stale = 0;
	struct sbuf b = SBUF_INIT(RETRIEVED_MAX);
	if (read_all(mailbox_dirfd(mb), &b, e) < 0) {
		sbuf_free(&b);
		return -1;
	}
	size_t max = 0;
	for (size_t i = 0; i < b.len; i++)
		max += b.data[i] == '\n';
	if (max == 0) {
		sbuf_free(&b);
		return 0;
	}
	struct line *v = calloc(max, sizeof *v);
	if (v == NULL) {
		sbuf_free(&b);
		return ik_err_errno(e, ENOMEM, "cannot load %s", MAILBOX_RETRIEVED_FILE);
	}
	size_t n = parse(&b, v, max);
	qsort(v, n, sizeof *v, line_cmp);
	size_t matched = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct line key = {l->v[i].base, 0};
		const struct line *hit = bsearch(&key, v, n, sizeof *v, line_cmp);
		if (hit != NULL) {
			times[i] = hit->time;
			matched++;
		}
	}
	if (stale != NULL)
		*stale = max - matched;	/* malformed lines count as stale */
	free(v);
	sbuf_free(&b);
	return 0;
}

int mailbox_retrieved_save(struct mailbox *mb, const struct mailbox_list *l,
			   const int64_t *times, ik_err *e)
{
	int dirfd = mailbox_dirfd(mb);
	struct sbuf b = SBUF_INIT(RETRIEVED_MAX);
	for (size_t i = 0; i < l->n; i++) {
		/* A name that holds a line end cannot be a line: it never
		 * expires (no delivery agent makes one). */
		if (times[i] <= 0 || strchr(l->v[i].base, '\n') != NULL)
			continue;
		if (sbuf_printf(&b, "%" PRId64 " %s\n", times[i], l->v[i].base) < 0) {
			sbuf_free(&b);
			return ik_err_set(e, "%s would be larger than %u bytes",
					  MAILBOX_RETRIEVED_FILE, RETRIEVED_MAX);
		}
	}
	int rc = 0;
	if (b.len == 0) {
		if (unlinkat(dirfd, MAILBOX_RETRIEVED_FILE, 0) < 0 && errno != ENOENT)
			rc = ik_err_errno(e, errno, "cannot remove %s", MAILBOX_RETRIEVED_FILE);
		sbuf_free(&b);
		return rc;
	}
	int fd = openat(dirfd, RETRIEVED_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0) {
		sbuf_free(&b);
		return ik_err_errno(e, errno, "cannot create %s", RETRIEVED_TMP);
	}
	if (fs_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0)
		rc = ik_err_errno(e, errno, "cannot write %s", RETRIEVED_TMP);
	if (close(fd) < 0 && rc == 0)
		rc = ik_err_errno(e, errno, "cannot write %s", RETRIEVED_TMP);
	if (rc == 0 && renameat(dirfd, RETRIEVED_TMP, dirfd, MAILBOX_RETRIEVED_FILE) < 0)
		rc = ik_err_errno(e, errno, "cannot rename %s", RETRIEVED_TMP);
	if (rc == 0 && fsync(dirfd) < 0)
		rc = ik_err_errno(e, errno, "cannot fsync the Maildir after writing %s",
				  MAILBOX_RETRIEVED_FILE);
	if (rc < 0)
		unlinkat(dirfd, RETRIEVED_TMP, 0);
	sbuf_free(&b);
	return rc;
}
