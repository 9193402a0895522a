/* Walking trees for mirror: the remote one through listings (MLSD or
 * LIST, see ftp_dir.c), the local one with readdir. Names a server gives
 * us become local path components, so each must pass ftp_name_safe (no
 * "..", no '/'): a hostile listing cannot write outside the target. */
#include "ftp/ftp_tree.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"

void ftp_tree_free(struct ftp_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].rel);
	free(t->v);
	memset(t, 0, sizeof *t);
}

int ftp_tree_add(struct ftp_tree *t, const char *rel, bool dir, uint64_t size, time_t mtime,
		 int prec)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct ftp_node *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	char *copy = strdup(rel);
	if (copy == NULL)
		return -1;
	t->v[t->n++] = (struct ftp_node){copy, dir, size, mtime, prec};
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct ftp_node *)a)->rel, ((const struct ftp_node *)b)->rel);
}

void ftp_tree_sort(struct ftp_tree *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof t->v[0], cmp_node);
}

const struct ftp_node *ftp_tree_find(const struct ftp_tree *t, const char *rel)
{
	struct ftp_node key = {.rel = (char *)rel};
	return t->n ? bsearch(&key, t->v, t->n, sizeof t->v[0], cmp_node) : NULL;
}

static void note_skip(bool verbose, const char *side, const char *rel, const char *why)
{
	if (!verbose)
		return;
	fprintf(stdout, "skip %s ", side);
	term_put_safe(stdout, rel);
	fprintf(stdout, " (%s)\n", why);
}

int ftp_tree_remote(struct ftp *f, const char *root, bool missing_ok, bool verbose,
		    struct ftp_tree *t, ik_err *e)
{
	memset(t, 0, sizeof *t);
	/* Directories are listed breadth first; t itself is the queue. */
	size_t next_dir = 0;
	bool first = true;
	for (;;) {
		const char *rel = "";
		if (!first) {
			while (next_dir < t->n && !t->v[next_dir].dir)
				next_dir++;
			if (next_dir >= t->n)
				break;
			rel = t->v[next_dir++].rel;
		}
		char path[FTP_PATH_MAX];
		if (ftp_path_join(path, sizeof path, root, rel) < 0)
			return ik_err_set(e, "remote path too long under %s", root);
		struct ftp_listing l;
		if (ftp_list_dir(f, path, &l, e) < 0) {
			if (first && missing_ok && ftp_connected(f) &&
			    ftp_reply_class(f->r.code) == 5)
				return 0;
			return ik_err_prefix(e, "listing %s", path);
		}
		first = false;
		t->skipped += l.skipped;
		char relcopy[FTP_PATH_MAX];
		str_copy(relcopy, sizeof relcopy, rel);	/* t->v may move */
		for (size_t i = 0; i < l.n; i++) {
			const struct ftp_item *it = &l.items[i];
			char child[FTP_PATH_MAX];
			if (ftp_path_join(child, sizeof child, relcopy, it->name) < 0)
				continue;
			if (!ftp_name_safe(it->name)) {
				t->skipped++;
				note_skip(verbose, "remote", child, "unsafe name");
				continue;
			}
			if (it->type != FTP_FT_FILE && it->type != FTP_FT_DIR) {
				t->skipped++;
				note_skip(verbose, "remote", child, "not a file or directory");
				continue;
			}
			if (ftp_tree_add(t, child, it->type == FTP_FT_DIR, it->size, it->mtime,
					 it->prec) < 0) {
				ftp_listing_free(&l);
				return ik_err_set(e, "out of memory");
			}
		}
		ftp_listing_free(&l);
	}
	return 0;
}

static int walk_local(const char *root, const char *rel, bool verbose, struct ftp_tree *t,
		      int depth, ik_err *e)
{
	char path[FTP_PATH_MAX];
	if (ftp_path_join(path, sizeof path, root, rel) < 0)
		return ik_err_set(e, "local path too long under %s", root);
	if (depth > 256)
		return ik_err_set(e, "%s: directories nested too deep", path);
	DIR *d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT && *rel == '\0')
			return 0;
		return ik_err_errno(e, errno, "cannot read directory %s", path);
	}
	size_t first_child = t->n;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char child[FTP_PATH_MAX];
		if (ftp_path_join(child, sizeof child, rel, de->d_name) < 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			t->skipped++;
			note_skip(verbose, "local", child, "not a file or directory");
			continue;
		}
		if (ftp_tree_add(t, child, S_ISDIR(st.st_mode), (uint64_t)st.st_size, st.st_mtime,
				 1) < 0) {
			closedir(d);
			return ik_err_set(e, "out of memory");
		}
	}
	closedir(d);
	size_t end = t->n;
	for (size_t i = first_child; i < end; i++) {
		if (!t->v[i].dir)
			continue;
		char sub[FTP_PATH_MAX];
		str_copy(sub, sizeof sub, t->v[i].rel);	/* t->v may move */
		if (walk_local(root, sub, verbose, t, depth + 1, e) < 0)
			return -1;
	}
	return 0;
}

int ftp_tree_local(const char *root, bool verbose, struct ftp_tree *t, ik_err *e)
{
	memset(t, 0, sizeof *t);
	return walk_local(root, "", verbose, t, 0, e);
}

int ftp_delete(struct ftp *f, const char *path, bool recursive, bool verbose, ik_err *e)
{
	if (ftp_cmd(f, "DELE", path, e) < 0)
		return -1;
	if (ftp_reply_class(f->r.code) == 2)
		return 0;
	ik_err dele;
	ftp_reply_error(f, &dele);
	/* DELE refuses directories (RFC 959 4.1.3); is that why? */
	int isdir = ftp_is_dir(f, path, e);
	if (isdir <= 0) {
		if (isdir == 0)
			*e = dele;
		return -1;
	}
	if (!recursive) {
		*e = dele;
		return 1;
	}
	struct ftp_tree t;
	if (ftp_tree_remote(f, path, false, verbose, &t, e) < 0) {
		ftp_tree_free(&t);
		return -1;
	}
	ftp_tree_sort(&t);
	/* Backwards through the sorted paths: "a/b" before "a". */
	int r = 0;
	for (size_t i = t.n; r == 0 && i-- > 0;) {
		const struct ftp_node *n = &t.v[i];
		char p[FTP_PATH_MAX];
		if (ftp_path_join(p, sizeof p, path, n->rel) < 0) {
			r = ik_err_set(e, "remote path too long: %s", n->rel);
			break;
		}
		if (verbose) {
			fputs("delete ", stdout);
			term_put_safe(stdout, n->rel);
			fputc('\n', stdout);
		}
		if (ftp_expect(f, n->dir ? "RMD" : "DELE", p, 2, e) < 0)
			r = ik_err_prefix(e, "deleting %s", p);
	}
	size_t left = t.skipped;
	ftp_tree_free(&t);
	if (r < 0)
		return -1;
	if (ftp_expect(f, "RMD", path, 2, e) < 0) {
		if (left > 0)
			ik_err_prefix(e, "%zu entr%s left in %s (links, special files or names that "
				      "cannot be named safely)", left, left == 1 ? "y is" : "ies are",
				      path);
		return -1;
	}
	return 0;
}
