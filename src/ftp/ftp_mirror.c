/* mirror: make one tree like another, both ways, moving only new or
 * changed files (size, or time at the precision the listing gives: MLSD
 * seconds per RFC 3659, LIST minutes or days), optionally deleting what the
 * source no longer has. Times: a downloaded file gets the server's time;
 * an uploaded one gets the local time with MFMT when the server has it,
 * else "changed" means the local file is newer than the remote one. */
#include "ftp/ftp_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"
#include "core/timeutil.h"

static time_t floor_to(time_t t, int prec)
{
	return prec > 1 ? t - ((t % prec) + prec) % prec : t;
}

/* Download: same when the sizes match and the local time (which we set
 * from the server's) falls in the remote time's precision window. */
static bool same_down(const struct ftp_node *r, const struct ftp_node *l)
{
	if (r->size != l->size)
		return false;
	if (r->prec == 0)
		return true;
	return floor_to(l->mtime, r->prec) == r->mtime;
}

/* Upload: changed when the size differs or the local file is newer than
 * the remote one, at the remote listing's precision. */
static bool same_up(const struct ftp_node *l, const struct ftp_node *r)
{
	if (r->size != l->size)
		return false;
	if (r->prec == 0)
		return true;
	return floor_to(l->mtime, r->prec) <= r->mtime;
}

static void say(bool verbose, const char *verb, const char *rel)
{
	if (!verbose)
		return;
	fputs(verb, stdout);
	fputc(' ', stdout);
	term_put_safe(stdout, rel);
	fputc('\n', stdout);
}

static int local_mkdir(const char *root, const char *rel, ik_err *e)
{
	char path[FTP_PATH_MAX];
	if (ftp_path_join(path, sizeof path, root, rel) < 0)
		return ik_err_set(e, "local path too long: %s", rel);
	if (mkdir(path, 0755) == 0)
		return 0;
	struct stat st;
	if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return ik_err_errno(e, errno == EEXIST ? ENOTDIR : errno, "cannot make directory %s",
			    path);
}

/* Delete local files and directories that the remote tree lacks; deepest
 * first, so directories are empty when their turn comes. */
static int delete_local(const char *root, const struct ftp_tree *remote,
			const struct ftp_tree *local, bool verbose, size_t *count, ik_err *e)
{
	for (size_t i = local->n; i-- > 0;) {
		const struct ftp_node *l = &local->v[i];
		const struct ftp_node *r = ftp_tree_find(remote, l->rel);
		if (r != NULL && r->dir == l->dir)
			continue;
		char path[FTP_PATH_MAX];
		if (ftp_path_join(path, sizeof path, root, l->rel) < 0)
			continue;
		say(verbose, "delete", l->rel);
		if ((l->dir ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
			return ik_err_errno(e, errno, "cannot delete %s", path);
		(*count)++;
	}
	return 0;
}

static int delete_remote(struct ftp *f, const char *rroot, const struct ftp_tree *remote,
			 const struct ftp_tree *local, bool verbose, size_t *count, ik_err *e)
{
	for (size_t i = remote->n; i-- > 0;) {
		const struct ftp_node *r = &remote->v[i];
		const struct ftp_node *l = ftp_tree_find(local, r->rel);
		if (l != NULL && l->dir == r->dir)
			continue;
		char path[FTP_PATH_MAX];
		if (ftp_path_join(path, sizeof path, rroot, r->rel) < 0)
			continue;
		say(verbose, "delete", r->rel);
		if (ftp_expect(f, r->dir ? "RMD" : "DELE", path, 2, e) < 0)
			return ik_err_prefix(e, "deleting %s", r->rel);
		(*count)++;
	}
	return 0;
}

static int add_job(struct ftp_job **jobs, size_t *n, size_t *cap, const struct ftp_node *src)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct ftp_job *p = realloc(*jobs, nc * sizeof *p);
		if (p == NULL)
			return -1;
		*jobs = p;
		*cap = nc;
	}
	(*jobs)[(*n)++] = (struct ftp_job){src->rel, src->size, src->mtime, src->prec};
	return 0;
}

static int mirror_down(struct ftp *f, struct ftp_pool_opts *po, const struct ftp_mirror_opts *mo,
		       struct ftp_tree *remote, struct ftp_tree *local, struct ftp_job **jobs,
		       size_t *njobs, size_t *deleted, ik_err *e)
{
	size_t cap = 0;
	if (ftp_tree_remote(f, po->rroot, false, mo->verbose, remote, e) < 0)
		return -1;
	if (local_mkdir(po->lroot, "", e) < 0 || ftp_tree_local(po->lroot, false, local, e) < 0)
		return -1;
	ftp_tree_sort(remote);
	ftp_tree_sort(local);
	for (size_t i = 0; i < remote->n; i++) {
		const struct ftp_node *r = &remote->v[i];
		const struct ftp_node *l = ftp_tree_find(local, r->rel);
		if (r->dir) {
			if (l != NULL && !l->dir && mo->delete) {
				char path[FTP_PATH_MAX];
				ftp_path_join(path, sizeof path, po->lroot, r->rel);
				unlink(path);	/* a file where the source has a directory */
			}
			if (local_mkdir(po->lroot, r->rel, e) < 0)
				return -1;
			continue;
		}
		if (l != NULL && !l->dir && same_down(r, l))
			continue;
		if (l != NULL && l->dir)
			return ik_err_set(e, "%s is a directory here but a file on the server%s",
					  r->rel, mo->delete ? "" : " (--delete replaces it)");
		if (add_job(jobs, njobs, &cap, r) < 0)
			return ik_err_set(e, "out of memory");
	}
	if (mo->delete && delete_local(po->lroot, remote, local, mo->verbose, deleted, e) < 0)
		return -1;
	return 0;
}

static int mirror_up(struct ftp *f, struct ftp_pool_opts *po, const struct ftp_mirror_opts *mo,
		     struct ftp_tree *remote, struct ftp_tree *local, struct ftp_job **jobs,
		     size_t *njobs, size_t *deleted, ik_err *e)
{
	size_t cap = 0;
	if (ftp_tree_local(po->lroot, mo->verbose, local, e) < 0)
		return -1;
	if (ftp_tree_remote(f, po->rroot, true, false, remote, e) < 0)
		return -1;
	if (remote->n == 0 && ftp_mkdir_p(f, po->rroot, e) < 0)
		return ik_err_prefix(e, "making %s", po->rroot);
	ftp_tree_sort(remote);
	ftp_tree_sort(local);
	if (mo->delete && delete_remote(f, po->rroot, remote, local, mo->verbose, deleted, e) < 0)
		return -1;
	/* Sorted order puts "a" before "a/b": parents are made first. */
	for (size_t i = 0; i < local->n; i++) {
		const struct ftp_node *l = &local->v[i];
		const struct ftp_node *r = ftp_tree_find(remote, l->rel);
		if (l->dir) {
			if (r != NULL && r->dir)
				continue;
			char path[FTP_PATH_MAX];
			if (ftp_path_join(path, sizeof path, po->rroot, l->rel) < 0)
				return ik_err_set(e, "remote path too long: %s", l->rel);
			say(mo->verbose, "mkdir", l->rel);
			if (ftp_expect(f, "MKD", path, 2, e) < 0)
				return ik_err_prefix(e, "making %s", path);
			continue;
		}
		if (r != NULL && !r->dir && same_up(l, r))
			continue;
		if (r != NULL && r->dir)
			return ik_err_set(e, "%s is a directory on the server but a file here%s",
					  l->rel, mo->delete ? "" : " (--delete replaces it)");
		if (add_job(jobs, njobs, &cap, l) < 0)
			return ik_err_set(e, "out of memory");
	}
	return 0;
}

int ftp_mirror(struct ftp *f, const struct ftp_endpoint_info *where,
	       const struct ftp_mirror_opts *mo, const char *rpath, const char *ldir, ik_err *e)
{
	char rroot[FTP_PATH_MAX];
	if (ftp_abs_path(f, rpath, rroot, sizeof rroot) < 0)
		return ik_err_set(e, "remote path too long");
	struct ftp_pool_opts po = {
		.where = where, .upload = mo->reverse, .verbose = mo->verbose,
		.parallel = mo->parallel, .rroot = rroot, .lroot = ldir,
	};
	struct ftp_tree remote, local;
	memset(&remote, 0, sizeof remote);
	memset(&local, 0, sizeof local);
	struct ftp_job *jobs = NULL;
	size_t njobs = 0, deleted = 0;
	double start = time_mono_s();
	int r = mo->reverse
		? mirror_up(f, &po, mo, &remote, &local, &jobs, &njobs, &deleted, e)
		: mirror_down(f, &po, mo, &remote, &local, &jobs, &njobs, &deleted, e);
	struct ftp_pool_result res = {0};
	bool compared = r == 0;
	if (r == 0 && njobs > 0) {
		uint64_t total = 0;
		for (size_t i = 0; i < njobs; i++)
			total += jobs[i].size;
		struct ftp_batch batch;
		ftp_batch_begin(&batch, f->o.progress && !mo->quiet, njobs, total);
		po.batch = &batch;
		r = ftp_pool_run(f, &po, jobs, njobs, &res, e);
		ftp_batch_end(&batch);
	}
	/* The trees were compared: say what was done, failures included. */
	if (!mo->quiet && compared) {
		const struct ftp_tree *src = mo->reverse ? &local : &remote;
		size_t files = 0;
		for (size_t i = 0; i < src->n; i++)
			files += !src->v[i].dir;
		double secs = time_mono_s() - start;
		char bytes[32], rate[32], failed[32] = "";
		ftp_human_bytes(bytes, sizeof bytes, (double)res.bytes);
		ftp_human_bytes(rate, sizeof rate, secs > 0 ? (double)res.bytes / secs : 0);
		if (res.failed > 0)
			str_fmt(failed, sizeof failed, ", %zu failed", res.failed);
		printf("mirror: %zu of %zu files transferred (%s) in %.1fs, %s/s; %zu deleted, "
		       "%zu skipped%s\n", res.done, files, bytes, secs, rate, deleted,
		       remote.skipped + local.skipped, failed);
		fflush(stdout);
	}
	free(jobs);
	ftp_tree_free(&remote);
	ftp_tree_free(&local);
	return r;
}
