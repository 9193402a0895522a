/* Remote directory listings: MLSD / MLST (RFC 3659 7) when FEAT offers
 * them, else LIST (RFC 959) read by ftp_list.c. LIST is sent without a
 * path after a CWD, because servers treat LIST's argument as ls options or
 * a glob pattern: a directory named "-l" or "[a]" would otherwise list
 * something else. The one option sent is "-a", when asked for dot files. */
#include "ftp/ftp_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/str.h"

#define LIST_LINE_MAX (FTP_NAME_MAX * 2 + 512)
#define LIST_ITEMS_MAX 10000000	/* a bound, not a goal */

void ftp_listing_free(struct ftp_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].target);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const struct ftp_item *)a)->name, ((const struct ftp_item *)b)->name);
}

void ftp_listing_sort(struct ftp_listing *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof l->items[0], cmp_items);
}

int ftp_listing_add(struct ftp_listing *l, const struct ftp_entry *en)
{
	if (l->n == l->cap) {
		if (l->cap >= LIST_ITEMS_MAX)
			return -1;
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ftp_item *p = realloc(l->items, cap * sizeof *p);
		if (p == NULL)
			return -1;
		l->items = p;
		l->cap = cap;
	}
	struct ftp_item *it = &l->items[l->n];
	it->name = strdup(en->name);
	it->target = en->target[0] ? strdup(en->target) : NULL;
	if (it->name == NULL) {
		free(it->target);
		return -1;
	}
	it->type = en->type;
	it->has_size = en->has_size;
	it->size = en->size;
	it->mtime = en->mtime;
	it->prec = en->prec;
	memcpy(it->perm, en->perm, sizeof it->perm);
	l->n++;
	return 0;
}

static int parse_one(struct ftp_listing *out, bool mlsd, time_t now, const char *line,
		     size_t len, ik_err *e)
{
	struct ftp_entry en;
	int r = mlsd ? ftp_mlsd_parse_line(line, len, &en) : ftp_list_parse_line(line, len, now, &en);
	if (r == FTP_LINE_BAD)
		out->skipped++;
	if (r == FTP_LINE_ENTRY && ftp_listing_add(out, &en) < 0)
		return ik_err_set(e, "listing too large for memory");
	return 0;
}

/* Read a listing from an open data connection, line by line. */
static int read_listing(struct ftp *f, struct ftp_data *d, bool mlsd, struct ftp_listing *out,
			ik_err *e)
{
	char *buf = malloc(LIST_LINE_MAX + 65536);
	if (buf == NULL) {
		ftp_data_abort(f, d);
		return ik_err_set(e, "out of memory");
	}
	time_t now = time(NULL);
	size_t have = 0;
	bool overlong = false;	/* skipping the rest of a line too long to keep */
	int rc = 0;
	for (;;) {
		ssize_t r = client_conn_read(&d->conn, buf + have, LIST_LINE_MAX + 65536 - have,
					     f->o.data_timeout_ms, e);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 0) {
			if (have > 0 && !overlong)
				rc = parse_one(out, mlsd, now, buf, have, e);
			break;
		}
		have += (size_t)r;
		size_t start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);
			if (nl == NULL)
				break;
			size_t len = (size_t)(nl - (buf + start));
			if (!overlong && parse_one(out, mlsd, now, buf + start, len, e) < 0) {
				rc = -1;
				break;
			}
			overlong = false;
			start += len + 1;
		}
		if (rc < 0)
			break;
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have >= LIST_LINE_MAX) {
			/* Keep reading, but this line is not an entry. */
			if (!overlong)
				out->skipped++;
			overlong = true;
			have = 0;
		}
	}
	free(buf);
	if (rc < 0) {
		ftp_data_abort(f, d);
		return -1;
	}
	return ftp_data_finish(f, d, e);
}

/* LIST of the current directory. hidden: "LIST -a", which servers that
 * hide dot files by default (vsftpd, pure-ftpd, ProFTPD) take as the ls
 * option; one that refuses it (taking it for a name) gets a plain LIST. */
static int list_here(struct ftp *f, bool hidden, struct ftp_listing *out, ik_err *e)
{
	struct ftp_data d;
	if (hidden) {
		if (ftp_data_open(f, &d, "LIST", "-a", 0, e) == 0)
			return read_listing(f, &d, false, out, e);
		if (!ftp_connected(f) || ftp_reply_class(f->r.code) != 5)
			return -1;
	}
	if (ftp_data_open(f, &d, "LIST", NULL, 0, e) < 0)
		return -1;
	return read_listing(f, &d, false, out, e);
}

static int list_dir(struct ftp *f, const char *path, bool hidden, struct ftp_listing *out,
		    ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (f->feat.mlsd) {
		struct ftp_data d;
		if (ftp_data_open(f, &d, "MLSD", *path ? path : NULL, 0, e) < 0)
			return -1;
		return read_listing(f, &d, true, out, e);
	}
	if (*path == '\0')
		return list_here(f, hidden, out, e);
	if (ftp_expect(f, "CWD", path, 2, e) < 0)
		return -1;
	int r = list_here(f, hidden, out, e);
	ik_err back;
	if (ftp_expect(f, "CWD", f->cwd, 2, r < 0 ? &back : e) < 0 && r == 0)
		return -1;
	return r;
}

int ftp_list_dir(struct ftp *f, const char *path, struct ftp_listing *out, ik_err *e)
{
	return list_dir(f, path, false, out, e);
}

/* MLST answers on the control connection: "250-...\n fact=..; name\n250 ...".
 * 0 with the entry added, 1 when it names the current or parent directory
 * (cdir, pdir), -1. */
static int mlst_one(struct ftp *f, const char *path, struct ftp_listing *out, ik_err *e)
{
	if (ftp_expect(f, "MLST", path, 2, e) < 0)
		return -1;
	const char *t = client_reply_text(&f->r);
	const char *line = strchr(t, '\n');
	while (line != NULL) {
		line++;
		const char *end = strchr(line, '\n');
		if (end == NULL)
			break;	/* the last line is the closing 250 */
		if (*line == ' ') {
			struct ftp_entry en;
			int k = ftp_mlsd_parse_line(line + 1, (size_t)(end - line - 1), &en);
			/* type=cdir (MLST of "." on pure-ftpd): a directory. */
			if (k == FTP_LINE_SKIP)
				return 1;
			if (k == FTP_LINE_ENTRY) {
				/* MLST names the whole path; show its last part. */
				const char *base = ftp_path_base(en.name);
				memmove(en.name, base, strlen(base) + 1);
				if (ftp_listing_add(out, &en) < 0)
					return ik_err_set(e, "out of memory");
				return 0;
			}
		}
		line = end;
	}
	return ik_err_set(e, "cannot read the MLST reply for %s", path);
}

int ftp_list_path(struct ftp *f, const char *path, bool hidden, struct ftp_listing *out,
		  ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (*path == '\0')
		return list_dir(f, path, hidden, out, e);
	if (f->feat.mlsd) {
		/* MLST says what the path is without a data connection. */
		int k = mlst_one(f, path, out, e);
		if (k < 0)
			return -1;
		if (k == 1 || (out->n == 1 && out->items[0].type == FTP_FT_DIR)) {
			ftp_listing_free(out);
			return list_dir(f, path, hidden, out, e);
		}
		out->single = true;
		return 0;
	}
	int code = ftp_cmd(f, "CWD", path, e);
	if (code < 0)
		return -1;
	if (ftp_reply_class(code) == 2) {
		int r = list_here(f, hidden, out, e);
		ik_err back;
		if (ftp_expect(f, "CWD", f->cwd, 2, r < 0 ? &back : e) < 0 && r == 0)
			return -1;
		return r;
	}
	/* Not a directory: a file, listed by its own name (a name with glob
	 * characters may be taken as a pattern by the server; there is no
	 * better way without MLST). */
	ik_err cwd_err;
	ftp_reply_error(f, &cwd_err);
	struct ftp_data d;
	if (ftp_data_open(f, &d, "LIST", path, 0, e) < 0)
		return -1;
	if (read_listing(f, &d, false, out, e) < 0)
		return -1;
	if (out->n == 0) {
		*e = cwd_err;
		return -1;
	}
	out->single = true;
	for (size_t i = 0; i < out->n; i++) {
		char *base = strdup(ftp_path_base(out->items[i].name));
		if (base != NULL) {
			free(out->items[i].name);
			out->items[i].name = base;
		}
	}
	return 0;
}
