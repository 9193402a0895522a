/* What `inetkit mail fetch` already copied: a journal per server, user and
 * protocol in MAILDIR/.inetkit-fetch/, so that a fetch is idempotent (a
 * message is never copied twice) and resumable (a killed fetch loses
 * nothing and duplicates nothing).
 *
 * A batch of messages goes: "? KEY NAME" appended to the journal for each
 * and fsync'ed, before any tmp/NAME exists; the messages fetched into
 * tmp/, flushed (syncfs), renamed into new/ or cur/, flushed again;
 * "+ KEY NAME" appended for each and fsync'ed. Four flushes per batch,
 * not per message. On the next start a "?" without its "+" is
 * settled by looking: a Maildir file named NAME... exists (the rename
 * happened: done) or not (tmp/NAME is removed: fetched again). A torn last
 * line (a crash mid-append) is ignored. At the end of a run the journal is
 * rewritten (temporary file, fsync, rename, directory fsync) holding only
 * what is still worth remembering. KEY is a POP3 UIDL or
 * "FOLDER/UIDVALIDITY/UID" for IMAP (RFC 1939 7, RFC 3501 2.3.1.1). A
 * message fetched into a Maildir++ folder (IMAP --folder, --all-folders)
 * is journaled as "SUB/NAME", SUB the folder's directory (".Work") with
 * spaces and '%' as %XX: a crash is settled in the folder the message went
 * to, not in the top Maildir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "lib/sbuf.h"
#include "lib/str.h"
#include "mail/mail_fetch.h"
#include "mailstore/mailstore.h"

#define STATE_DIR ".inetkit-fetch"
#define STATE_MAX (256u * 1024 * 1024)

/* A key or a Maildir name may not hold a space or a line end: the
 * journal's separators. POP3 UIDLs are 0x21-0x7e (RFC 1939 7); folder
 * names are escaped by the IMAP side. */
static bool token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* NAME's file in new/ or cur/ (its full name starts with NAME then ',' or
 * ':'). */
static bool in_maildir(int md, const char *name)
{
	size_t nl = strlen(name);
	static const char *const subs[] = {"new", "cur"};
	for (size_t i = 0; i < 2; i++) {
		int fd = openat(md, subs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		struct dirent *de;
		bool found = false;
		while (!found && (de = readdir(d)) != NULL)
			found = strncmp(de->d_name, name, nl) == 0 &&
				(de->d_name[nl] == ',' || de->d_name[nl] == ':' ||
				 de->d_name[nl] == '\0');
		closedir(d);
		if (found)
			return true;
	}
	return false;
}

/* SUB/NAME of a "?" line: the directory of the Maildir++ folder (opened
 * below md, no symbolic link followed) and NAME; the top Maildir (a dup
 * of md) when there is no '/'. -1 for a directory that is not a folder
 * name (a journal edited by hand) or cannot be opened. */
static int settle_dir(int md, char *name, const char **base)
{
	char *slash = strrchr(name, '/');
	if (!slash) {
		*base = name;
		return fcntl(md, F_DUPFD_CLOEXEC, 0);
	}
	*slash = '\0';
	*base = slash + 1;
	char dir[300];
	size_t o = 0;
	for (const char *p = name; *p; p++) {
		unsigned v;
		if (*p == '%') {
			int hi = p[1] ? str_hex_digit(p[1]) : -1;
			int lo = hi >= 0 && p[2] ? str_hex_digit(p[2]) : -1;
			if (lo < 0)
				return -1;
			v = (unsigned)(hi * 16 + lo);
			p += 2;
		} else {
			v = (unsigned char)*p;
		}
		if (o + 1 >= sizeof dir || v == '/' || v == 0)
			return -1;
		dir[o++] = (char)v;
	}
	dir[o] = '\0';
	if (dir[0] != '.' || strcmp(dir, ".") == 0 || strcmp(dir, "..") == 0)
		return -1;
	return openat(md, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int append_line(struct fetch_state *st, char kind, const char *key, const char *name,
		       ik_err *e)
{
	char line[2048];
	if (str_fmt(line, sizeof line, "%c %s %s\n", kind, key, name) < 0)
		return ik_err_set(e, "fetch state: key too long");
	size_t n = strlen(line);
	ssize_t w = write(st->fd, line, n);
	if (w != (ssize_t)n)
		return ik_err_errno(e, w < 0 ? errno : EIO, "fetch state %s", st->path);
	if (fdatasync(st->fd) < 0)
		return ik_err_errno(e, errno, "fsync fetch state %s", st->path);
	return 0;
}

int fetch_state_open(struct fetch_state *st, int md, const char *id, ik_err *e)
{
	memset(st, 0, sizeof *st);
	st->fd = -1;
	st->md = md;
	st->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (mkdirat(md, STATE_DIR, 0700) < 0 && errno != EEXIST)
		return ik_err_errno(e, errno, "cannot create %s", STATE_DIR);
	char file[300];
	size_t o = 0;
	/* the file name: id with anything but [A-Za-z0-9@._-] as '_' */
	for (const char *p = id; *p && o + 1 < sizeof file; p++) {
		char c = *p;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '@' || c == '.' || c == '-';
		file[o++] = keep ? c : '_';
	}
	file[o] = '\0';
	if (str_fmt(st->path, sizeof st->path, STATE_DIR "/%s", file) < 0)
		return ik_err_set(e, "fetch state name too long");
	st->fd = openat(md, st->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (st->fd < 0)
		return ik_err_errno(e, errno, "fetch state %s", st->path);
	struct sbuf b;
	sbuf_init(&b, STATE_MAX);
	for (;;) {
		char *p = sbuf_reserve(&b, 65536);
		if (!p) {
			sbuf_free(&b);
			return ik_err_set(e, "fetch state %s: too large", st->path);
		}
		ssize_t n = read(st->fd, p, 65536);
		if (n < 0) {
			sbuf_free(&b);
			return ik_err_errno(e, errno, "fetch state %s", st->path);
		}
		if (n == 0)
			break;
		sbuf_commit(&b, (size_t)n);
	}
	/* "?" lines not followed by their "+", settled below */
	GHashTable *pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	size_t off = 0;
	while (off < b.len) {
		char *nl = memchr(b.data + off, '\n', b.len - off);
		if (!nl)
			break;	/* a torn last line */
		*nl = '\0';
		char *line = b.data + off;
		off = (size_t)(nl - b.data) + 1;
		if ((line[0] != '+' && line[0] != '?') || line[1] != ' ')
			continue;
		char *key = line + 2;
		char *sp = strchr(key, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		char *name = sp + 1;
		if (line[0] == '+') {
			g_hash_table_remove(pending, key);
			g_hash_table_add(st->done, g_strdup(key));
		} else {
			g_hash_table_insert(pending, g_strdup(key), g_strdup(name));
		}
	}
	sbuf_free(&b);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, pending);
	int rc = 0;
	while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
		char name[600];
		const char *base;
		if (str_copy(name, sizeof name, v) < 0)
			continue;
		int dfd = settle_dir(md, name, &base);
		if (dfd < 0)
			continue;	/* not ours to touch: fetched again */
		if (in_maildir(dfd, base)) {
			g_hash_table_add(st->done, g_strdup(k));
			rc = append_line(st, '+', k, v, e);
			st->recovered++;
		} else {
			maildir_tmp_discard(dfd, base);
		}
		close(dfd);
	}
	g_hash_table_destroy(pending);
	return rc;
}

bool fetch_state_has(const struct fetch_state *st, const char *key)
{
	return g_hash_table_contains(st->done, key);
}

int fetch_state_record(struct fetch_state *st, char kind, const char *sub,
		       struct maildir_msg *const *msgs, size_t n, ik_err *e)
{
	if (n == 0)
		return 0;
	/* the folder's directory as one token of the line */
	char dir[300];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)sub; *p; p++) {
		bool esc = *p <= ' ' || *p == 0x7f || *p == '%';
		if (o + (esc ? 4 : 2) > sizeof dir)
			return ik_err_set(e, "fetch state: folder name too long");
		if (esc)
			o += (size_t)str_fmt(dir + o, sizeof dir - o, "%%%02X", *p);
		else
			dir[o++] = (char)*p;
	}
	dir[o] = '\0';
	struct sbuf b;
	sbuf_init(&b, STATE_MAX);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (kind == '?' && (!token_ok(msgs[i]->key) || !token_ok(msgs[i]->name)))
			rc = ik_err_set(e, "fetch state: unusable key '%s'", msgs[i]->key);
		else if (sbuf_printf(&b, "%c %s %s%s%s\n", kind, msgs[i]->key, dir, dir[0] ? "/" : "",
				     msgs[i]->name) < 0)
			rc = ik_err_set(e, "fetch state: too much at once");
	}
	if (rc == 0) {
		ssize_t w = write(st->fd, b.data, b.len);
		if (w != (ssize_t)b.len)
			rc = ik_err_errno(e, w < 0 ? errno : EIO, "fetch state %s", st->path);
		else if (fdatasync(st->fd) < 0)
			rc = ik_err_errno(e, errno, "fsync fetch state %s", st->path);
	}
	sbuf_free(&b);
	if (rc == 0 && kind == '+')
		for (size_t i = 0; i < n; i++)
			g_hash_table_add(st->done, g_strdup(msgs[i]->key));
	return rc;
}

int fetch_state_rewrite(struct fetch_state *st, bool (*keep)(const char *key, void *arg),
			void *arg, ik_err *e)
{
	char tmp[sizeof st->path + 8];
	str_fmt(tmp, sizeof tmp, "%s.new", st->path);
	int fd = openat(st->md, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ik_err_errno(e, errno, "fetch state %s", tmp);
	struct sbuf b;
	sbuf_init(&b, STATE_MAX);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, st->done);
	GPtrArray *drop = g_ptr_array_new();
	int rc = 0;
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (keep && !keep(k, arg)) {
			g_ptr_array_add(drop, k);
			continue;
		}
		if (sbuf_printf(&b, "+ %s -\n", (const char *)k) < 0) {
			rc = ik_err_set(e, "fetch state too large");
			break;
		}
	}
	if (rc == 0 && (write(fd, b.data ? b.data : "", b.len) != (ssize_t)b.len || fsync(fd) < 0))
		rc = ik_err_errno(e, errno, "fetch state %s", tmp);
	close(fd);
	sbuf_free(&b);
	if (rc == 0 && renameat(st->md, tmp, st->md, st->path) < 0)
		rc = ik_err_errno(e, errno, "fetch state %s", st->path);
	if (rc == 0) {
		int dfd = openat(st->md, STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		for (guint i = 0; i < drop->len; i++)
			g_hash_table_remove(st->done, drop->pdata[i]);
		/* appends go to the new file from now on */
		close(st->fd);
		st->fd = openat(st->md, st->path, O_RDWR | O_APPEND | O_CLOEXEC);
		if (st->fd < 0)
			rc = ik_err_errno(e, errno, "fetch state %s", st->path);
	} else {
		unlinkat(st->md, tmp, 0);
	}
	g_ptr_array_free(drop, TRUE);
	return rc;
}

void fetch_state_close(struct fetch_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->done)
		g_hash_table_destroy(st->done);
	st->done = NULL;
}
