/* Message flags as IMAP names and as Maildir letters, keywords included.
 *
 * RFC 3501 2.3.2 (system flags and keywords; flags compare without
 * regard to case), 7.2.6 (FLAGS), 7.1 (PERMANENTFLAGS with \* when the
 * client may make new keywords); maildir(5) for the system letters
 * D F R S T. Keywords are the lower-case letters a..z of the ":2," suffix,
 * their names kept in the folder's "dovecot-keywords" file exactly as
 * Dovecot keeps them ("N name" a line, letter 'a' + N), so that Dovecot,
 * mutt (which shows the letters it does not know as they are) and inetkit
 * agree on one Maildir. The file is replaced the way Dovecot replaces it:
 * the new contents are written to "dovecot-keywords.lock", made with
 * O_EXCL (the lock), then renamed over the file; a reader never sees a
 * half-written file. At most 26 keywords per folder: Maildir has no more
 * letters. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/imap_int.h"
#include "lib/str.h"

#define KW_FILE "dovecot-keywords"
#define KW_LOCK KW_FILE ".lock"
#define KW_FILE_MAX 16384	/* 26 names of at most IMAP_KEYWORD_MAX bytes, with room */
#define KW_LOCK_STALE 30	/* seconds: an older lock was left by a crash (Dovecot's rule too) */

static const struct {
	char letter;
	const char *flag;
} sys_flags[] = {
	{'D', "\\Draft"}, {'F', "\\Flagged"}, {'R', "\\Answered"}, {'S', "\\Seen"}, {'T', "\\Deleted"},
};

void imap_kw_free(struct imap_keywords *kw)
{
	if (kw == NULL)
		return;
	for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++)
		free(kw->name[i]);
	free(kw);
}

static void kw_clear(struct imap_keywords *kw)
{
	for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++) {
		free(kw->name[i]);
		kw->name[i] = NULL;
	}
}

/* Parse the file's text: "N name" lines; anything else is skipped (a
 * newer Dovecot may add lines we do not know). */
static void kw_parse(struct imap_keywords *kw, char *text)
{
	for (char *line = text, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *sp = strchr(line, ' ');
		if (sp == NULL || sp == line || sp - line > 2)
			continue;
		unsigned idx = 0;
		bool ok = true;
		for (char *p = line; p < sp; p++) {
			if (*p < '0' || *p > '9')
				ok = false;
			idx = idx * 10 + (unsigned)(*p - '0');
		}
		const char *name = sp + 1;
		if (!ok || idx >= IMAP_KEYWORDS_MAX || name[0] == '\\' || !imap_flag_valid(name) ||
		    strlen(name) > IMAP_KEYWORD_MAX)
			continue;
		free(kw->name[idx]);
		kw->name[idx] = strdup(name);
	}
}

int imap_kw_load(int dirfd, struct imap_keywords *kw)
{
	int fd = openat(dirfd, KW_FILE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		int err = errno;
		bool had = false;
		for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++)
			had = had || kw->name[i] != NULL;
		kw_clear(kw);
		kw->mtime = (struct timespec){0, 0};
		kw->ino = 0;
		kw->gen += had;
		return err != ENOENT ? -1 : had ? 1 : 0;
	}
	if (fstat(fd, &st) < 0 || st.st_size > KW_FILE_MAX) {
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_ino == kw->ino && st.st_mtim.tv_sec == kw->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == kw->mtime.tv_nsec) {
		close(fd);
		return 0;	/* unchanged since we read it */
	}
	char buf[KW_FILE_MAX + 1];
	size_t len = 0;
	ssize_t n;
	while (len < KW_FILE_MAX && (n = read(fd, buf + len, KW_FILE_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	struct imap_keywords old = *kw;
	memset(kw->name, 0, sizeof kw->name);
	kw_parse(kw, buf);
	kw->ino = (uint64_t)st.st_ino;
	kw->mtime = st.st_mtim;
	bool changed = false;
	for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++) {
		if ((old.name[i] == NULL) != (kw->name[i] == NULL) ||
		    (old.name[i] != NULL && strcmp(old.name[i], kw->name[i]) != 0))
			changed = true;
		free(old.name[i]);
	}
	if (changed)
		kw->gen++;
	return changed ? 1 : 0;
}

struct imap_keywords *imap_kw_open(int dirfd)
{
	struct imap_keywords *kw = calloc(1, sizeof *kw);
	if (kw != NULL) {
		kw->dirfd = dirfd;
		imap_kw_load(dirfd, kw);
	}
	return kw;
}

int imap_kw_find(const struct imap_keywords *kw, const char *name)
{
	for (size_t i = 0; kw != NULL && i < IMAP_KEYWORDS_MAX; i++)
		if (kw->name[i] != NULL && strcasecmp(kw->name[i], name) == 0)
			return (int)i;
	return -1;
}

bool imap_kw_full(const struct imap_keywords *kw)
{
	for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (kw == NULL || kw->name[i] == NULL)
			return false;
	return true;
}

/* Take the lock file; a lock older than KW_LOCK_STALE is a crashed
 * writer's and is removed. A few tries, a millisecond apart: writers hold
 * it for one small write. */
static int kw_lock(int dirfd)
{
	for (int tries = 0; tries < 200; tries++) {
		int fd = openat(dirfd, KW_LOCK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		struct stat st;
		if (fstatat(dirfd, KW_LOCK, &st, 0) == 0 &&
		    st.st_mtime + KW_LOCK_STALE < time(NULL))
			unlinkat(dirfd, KW_LOCK, 0);
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	errno = EAGAIN;
	return -1;
}

int imap_kw_add(int dirfd, struct imap_keywords *kw, const char *name)
{
	if (strlen(name) > IMAP_KEYWORD_MAX || name[0] == '\\' || !imap_flag_valid(name))
		return -1;
	int fd = kw_lock(dirfd);
	if (fd < 0)
		return -1;
	/* Under the lock: what another writer (Dovecot too) added counts. */
	kw->ino = 0;
	int idx = imap_kw_load(dirfd, kw) >= 0 ? imap_kw_find(kw, name) : -2;
	for (int i = 0; idx == -1 && i < IMAP_KEYWORDS_MAX; i++)
		if (kw->name[i] == NULL && (kw->name[i] = strdup(name)) != NULL)
			idx = i;
	bool wrote = false;
	if (idx >= 0) {
		struct sbuf b = SBUF_INIT(KW_FILE_MAX);
		for (size_t i = 0; i < IMAP_KEYWORDS_MAX; i++)
			if (kw->name[i] != NULL)
				sbuf_printf(&b, "%zu %s\n", i, kw->name[i]);
		wrote = write(fd, sbuf_cstr(&b), b.len) == (ssize_t)b.len &&
			renameat(dirfd, KW_LOCK, dirfd, KW_FILE) == 0;
		sbuf_free(&b);
	}
	close(fd);
	if (!wrote) {
		unlinkat(dirfd, KW_LOCK, 0);
		kw->ino = 0;
		imap_kw_load(dirfd, kw);
		return -1;
	}
	kw->gen++;
	struct stat st;
	if (fstatat(dirfd, KW_FILE, &st, 0) == 0) {
		kw->ino = (uint64_t)st.st_ino;
		kw->mtime = st.st_mtim;
	}
	return idx;
}

int imap_flags_letters(int dirfd, struct imap_keywords *kw, const char *const *flags, size_t n,
		       bool create, char *out, size_t outsz, char *err)
{
	char set[IMAP_KEYWORDS_MAX + 8] = "";
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char l = 0;
		if (flags[i][0] == '\\') {
			for (size_t j = 0; j < sizeof sys_flags / sizeof sys_flags[0]; j++)
				if (strcasecmp(flags[i], sys_flags[j].flag) == 0)
					l = sys_flags[j].letter;
			if (l == 0)
				return imap_err(err, "Invalid flag");
		} else {
			int idx = imap_kw_find(kw, flags[i]);
			if (idx < 0 && kw != NULL && dirfd >= 0) {
				/* Another session may have named it since we read the file. */
				imap_kw_load(dirfd, kw);
				idx = imap_kw_find(kw, flags[i]);
			}
			if (idx < 0 && create && kw != NULL && dirfd >= 0) {
				if (imap_kw_full(kw))
					return imap_err(err, "[LIMIT] A mailbox holds at most 26 keywords");
				idx = imap_kw_add(dirfd, kw, flags[i]);
				if (idx < 0)
					return imap_err(err, "[SERVERBUG] Cannot store the keyword");
			}
			if (idx < 0)
				continue;	/* an unknown keyword: nothing holds it */
			l = (char)('a' + idx);
		}
		if (strchr(set, l) == NULL && k + 1 < sizeof set) {
			set[k++] = l;
			set[k] = '\0';
		}
	}
	/* Maildir keeps the letters once each, in ASCII order. */
	size_t o = 0;
	for (int c = 'A'; c <= 'z'; c++)
		if (strchr(set, c) != NULL && o + 1 < outsz)
			out[o++] = (char)c;
	if (outsz > 0)
		out[o] = '\0';
	return 0;
}

void imap_kw_put_names(struct sbuf *b, const struct imap_keywords *kw)
{
	for (size_t i = 0; kw != NULL && i < IMAP_KEYWORDS_MAX; i++)
		if (kw->name[i] != NULL)
			sbuf_printf(b, " %s", kw->name[i]);
}

void imap_kw_put_letters(struct sbuf *b, struct imap_keywords *kw, const char *letters,
			 bool *first)
{
	/* A letter we cannot name: another session or Dovecot named it
	 * since we read the file (a stat when the file did not change). */
	if (kw != NULL && !imap_kw_knows(kw, letters))
		imap_kw_load(kw->dirfd, kw);
	for (const char *p = letters; *p; p++) {
		if (*p < 'a' || *p > 'z')
			continue;
		const char *name = kw != NULL ? kw->name[*p - 'a'] : NULL;
		if (name == NULL)
			continue;	/* a letter no file names: not shown (Dovecot does the same) */
		sbuf_printf(b, "%s%s", *first ? "" : " ", name);
		*first = false;
	}
}

bool imap_kw_knows(const struct imap_keywords *kw, const char *letters)
{
	for (const char *p = letters; *p; p++)
		if (*p >= 'a' && *p <= 'z' && (kw == NULL || kw->name[*p - 'a'] == NULL))
			return false;
	return true;
}

bool imap_kw_untold(struct imap_keywords *kw)
{
	if (kw == NULL)
		return false;
	imap_kw_load(kw->dirfd, kw);
	return kw->gen != kw->told;
}

void imap_put_flag_lists(struct sbuf *b, const struct imap_sess *ss)
{
	struct imap_keywords *kw = ss->kw;
	if (kw != NULL)
		kw->told = kw->gen;
	sbuf_addstr(b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	imap_kw_put_names(b, kw);
	sbuf_addstr(b, ")\r\n");
	if (ss->sel == NULL || ss->sel->readonly) {
		sbuf_addstr(b, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
		return;
	}
	sbuf_addstr(b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	imap_kw_put_names(b, kw);
	sbuf_addstr(b, imap_kw_full(kw) ? ")] Flags permitted.\r\n"
		    : " \\*)] Flags permitted.\r\n");
}

void imap_put_msg_flags(struct sbuf *b, const struct imap_sess *ss, const struct imap_msg *m)
{
	imap_put_flags(b, m);	/* "(\\Seen ... \\Recent)": the system flags */
	bool any = false;
	for (const char *p = m->me->flags; *p && !any; p++)
		any = *p >= 'a' && *p <= 'z';
	if (!any || ss->kw == NULL || b->len == 0)
		return;
	/* The keywords go inside the parentheses. */
	bool first = b->len >= 2 && b->data[b->len - 2] == '(';
	sbuf_truncate(b, b->len - 1);
	imap_kw_put_letters(b, ss->kw, m->me->flags, &first);
	sbuf_addch(b, ')');
}

void imap_kw_drop(struct imap_sess *ss)
{
	imap_kw_free(ss->kw);
	ss->kw = NULL;
}

int imap_kw_remap(const struct imap_keywords *from, int to_dirfd, const char *letters, char *out,
		  size_t outsz)
{
	struct imap_keywords *to = imap_kw_open(to_dirfd);
	if (to == NULL)
		return -1;
	const char *names[IMAP_KEYWORDS_MAX + 8];
	char sys[8];
	size_t n = 0, s = 0;
	for (const char *p = letters; *p && n < IMAP_KEYWORDS_MAX; p++) {
		if (*p >= 'a' && *p <= 'z') {
			if (from != NULL && from->name[*p - 'a'] != NULL)
				names[n++] = from->name[*p - 'a'];
		} else if (s + 1 < sizeof sys) {
			sys[s++] = *p;
		}
	}
	sys[s] = '\0';
	char err[IMAP_ERR_MAX], kl[IMAP_KEYWORDS_MAX + 1] = "";
	/* A keyword the target cannot hold (26 there already) is dropped:
	 * the copy itself matters more. */
	int rc = imap_flags_letters(to_dirfd, to, names, n, true, kl, sizeof kl, err);
	if (rc < 0)
		kl[0] = '\0';
	char all[IMAP_KEYWORDS_MAX + 16];
	str_fmt(all, sizeof all, "%s%s", sys, kl);
	/* Sorted as maildir(5) wants: upper case before lower case. */
	size_t o = 0;
	for (int c = 0x21; c < 0x7f; c++)
		if (strchr(all, c) != NULL && o + 1 < outsz)
			out[o++] = (char)c;
	if (outsz > 0)
		out[o] = '\0';
	imap_kw_free(to);
	return 0;
}
