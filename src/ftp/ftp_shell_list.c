/* The shell's listings: ls and dir on the server, lls here, with the ls(1)
 * options people type from habit (-l, -a, -1, and clusters such as -la).
 * A word starting with '-' is always an option, never a path: "ls -l"
 * must not become LIST of a file named "-l" (a name that starts with '-'
 * goes after "--"). Names starting with '.' are shown with -a only, as
 * ls(1) does; a dot file named on its own is shown. */
#include "ftp/ftp_shell.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"
#include "ftp/ftp_cli.h"
#include "ftpd/ftpd_list.h"

enum { LS_LONG = 1u << 0, LS_ALL = 1u << 1, LS_ONE = 1u << 2 };
static const char ls_letters[] = "la1";

int shell_getopts(const char *letters, int *argc, char **argv, unsigned *flags, ik_err *e)
{
	char known[64];
	size_t k = 0;
	known[0] = '\0';
	for (const char *p = letters; *p; p++) {
		int w = str_fmt(known + k, sizeof known - k, "%s-%c", k ? ", " : "", *p);
		if (w < 0)
			break;
		k += (size_t)w;
	}
	int n = 1;
	bool ended = false;
	*flags = 0;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!ended && strcmp(a, "--") == 0) {
			ended = true;
			continue;
		}
		if (ended || a[0] != '-' || a[1] == '\0') {
			argv[n++] = argv[i];
			continue;
		}
		char bad[64] = "";
		if (a[1] == '-') {
			term_safe_copy(bad, sizeof bad, a);
		} else {
			for (const char *p = a + 1; *p && bad[0] == '\0'; p++) {
				const char *at = strchr(letters, *p);
				if (at != NULL)
					*flags |= 1u << (at - letters);
				else
					str_fmt(bad, sizeof bad, "-%c", term_safe_char((unsigned char)*p));
			}
		}
		if (bad[0] != '\0')
			return ik_err_set(e, "%s: unknown option '%s' (it takes %s; put -- before a "
					  "name that starts with '-')", argv[0], bad, known);
	}
	*argc = n;
	return 0;
}

/* Without -a: names starting with '.' go, unless the path named the file. */
static void drop_hidden(struct ftp_listing *l)
{
	if (l->single)
		return;
	size_t o = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->items[i].name[0] == '.') {
			free(l->items[i].name);
			free(l->items[i].target);
			continue;
		}
		l->items[o++] = l->items[i];
	}
	l->n = o;
}

static void entry_from_stat(struct ftp_entry *en, const struct stat *st)
{
	en->type = S_ISREG(st->st_mode) ? FTP_FT_FILE : S_ISDIR(st->st_mode) ? FTP_FT_DIR
		 : S_ISLNK(st->st_mode) ? FTP_FT_LINK : FTP_FT_OTHER;
	en->has_size = true;
	en->size = (uint64_t)st->st_size;
	en->mtime = st->st_mtime;
	en->prec = 1;
	ftpd_list_mode_string(st->st_mode, en->perm);
}

/* One local entry: name (relative to dirfd) shown as shown. */
static int local_entry(struct ftp_listing *out, int dirfd, const char *name, const char *shown,
		       ik_err *e)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* gone since readdir */
	struct ftp_entry *en = calloc(1, sizeof *en);
	if (en == NULL)
		return ik_err_set(e, "out of memory");
	str_copy(en->name, sizeof en->name, shown);
	entry_from_stat(en, &st);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, en->target, sizeof en->target - 1);
		en->target[n > 0 ? n : 0] = '\0';
	}
	int r = ftp_listing_add(out, en);
	free(en);
	return r < 0 ? ik_err_set(e, "out of memory") : 0;
}

static int local_listing(const char *path, struct ftp_listing *out, ik_err *e)
{
	memset(out, 0, sizeof *out);
	struct stat st;
	/* As ls(1): an operand that is a link to a directory lists the
	 * directory. */
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (lstat(path, &st) < 0)
			return ik_err_errno(e, errno, "lls: cannot read %s", path);
		out->single = true;
		return local_entry(out, AT_FDCWD, path, path, e);
	}
	DIR *d = opendir(path);
	if (d == NULL)
		return ik_err_errno(e, errno, "lls: cannot read directory %s", path);
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = local_entry(out, dirfd(d), de->d_name, de->d_name, e);
	}
	closedir(d);
	if (r < 0)
		ftp_listing_free(out);
	return r;
}

static int list_common(struct shell *sh, int argc, char **argv, unsigned force, bool local,
		       ik_err *e)
{
	unsigned fl;
	if (shell_getopts(ls_letters, &argc, argv, &fl, e) < 0)
		return SH_USAGE;
	fl |= force;
	int nops = argc - 1;
	for (int i = 0; i < (nops > 0 ? nops : 1); i++) {
		const char *path = nops > 0 ? argv[1 + i] : local ? "." : "";
		struct ftp_listing l;
		int r = local ? local_listing(path, &l, e)
			      : ftp_list_path(&sh->f, path, (fl & LS_ALL) != 0, &l, e);
		if (r < 0)
			return SH_FAIL;
		if (!(fl & LS_ALL))
			drop_hidden(&l);
		ftp_listing_sort(&l);
		if (nops > 1) {
			/* Several operands: a heading for each, as ls(1). */
			if (i > 0)
				fputc('\n', stdout);
			term_put_safe(stdout, path);
			fputs(":\n", stdout);
		}
		ftp_print_listing(&l, (fl & LS_LONG) != 0, false, stdout);
		ftp_listing_free(&l);
	}
	fflush(stdout);
	return SH_OK;
}

int shell_ls(struct shell *sh, int argc, char **argv, ik_err *e)
{
	return list_common(sh, argc, argv, 0, false, e);
}

int shell_dir(struct shell *sh, int argc, char **argv, ik_err *e)
{
	return list_common(sh, argc, argv, LS_LONG, false, e);
}

int shell_lls(struct shell *sh, int argc, char **argv, ik_err *e)
{
	return list_common(sh, argc, argv, 0, true, e);
}
