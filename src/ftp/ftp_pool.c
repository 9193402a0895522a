/* Parallel transfers for mirror: FTP does one transfer per control
 * connection (RFC 959 3.2), so N at once means N logged-in sessions. Each
 * runs in its own thread and takes the next job from a shared index; a
 * session is never shared between threads. */
#include "ftp/ftp_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"

struct pool {
	const struct ftp_pool_opts *po;
	struct ftp_job *jobs;
	size_t n;
	pthread_mutex_t mu;
	size_t next;
	size_t done, failed;
	uint64_t bytes;
	ik_err first;
	struct ftp_opts fo;
	SSL_CTX *ctx;
};

struct worker {
	struct pool *p;
	struct ftp *f;		/* borrowed (worker 0) or opened here */
	struct ftp own;
	int id;
	pthread_t th;
};

static void record_error(struct pool *p, const ik_err *e)
{
	pthread_mutex_lock(&p->mu);
	if (p->failed++ == 0)
		p->first = *e;
	pthread_mutex_unlock(&p->mu);
}

static int do_job(struct worker *w, const struct ftp_job *j, ik_err *e)
{
	const struct ftp_pool_opts *po = w->p->po;
	char rpath[FTP_PATH_MAX], lpath[FTP_PATH_MAX];
	if (ftp_path_join(rpath, sizeof rpath, po->rroot, j->rel) < 0 ||
	    ftp_path_join(lpath, sizeof lpath, po->lroot, j->rel) < 0)
		return ik_err_set(e, "path too long: %s", j->rel);
	if (po->verbose)
		ftp_batch_say(po->batch, po->upload ? "put" : "get", j->rel);
	if (po->upload) {
		if (ftp_put(w->f, lpath, rpath, e) < 0)
			return -1;
		ik_err ignore;
		if (j->prec > 0)
			ftp_set_mtime(w->f, rpath, j->mtime, &ignore);
		return 0;
	}
	uint64_t got = 0;
	int fd = open(lpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot write %s", lpath);
	int r = ftp_get_fd(w->f, rpath, fd, 0, j->size, j->rel, &got, e);
	if (close(fd) < 0 && r == 0)
		r = ik_err_errno(e, errno, "write %s", lpath);
	if (r == 0 && j->prec > 0) {
		/* The server's time, so that the next mirror sees no change. */
		struct timespec ts[2] = {{j->mtime, 0}, {j->mtime, 0}};
		utimensat(AT_FDCWD, lpath, ts, AT_SYMLINK_NOFOLLOW);
	}
	return r;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		ik_err e;
		if (do_job(w, &p->jobs[i], &e) < 0) {
			ik_err_prefix(&e, "%s", p->jobs[i].rel);
			record_error(p, &e);
			if (!ftp_connected(w->f))
				break;	/* this session is gone; the others go on */
		} else {
			pthread_mutex_lock(&p->mu);
			p->done++;
			p->bytes += p->jobs[i].size;
			pthread_mutex_unlock(&p->mu);
		}
		ftp_batch_file_done(p->po->batch);
	}
	return NULL;
}

static void *open_and_work(void *arg)
{
	struct worker *w = arg;
	const struct ftp_endpoint_info *where = w->p->po->where;
	ik_err e;
	struct ftp_opts o = w->p->fo;
	str_fmt(o.trace_tag, sizeof o.trace_tag, "[%d] ", w->id);
	if (ftp_open(&w->own, &o, w->p->ctx, where->host, where->port,
		     where->implicit_tls, &where->cred, &e) < 0) {
		/* Servers limit connections per client: fewer at once is
		 * slower, not wrong. */
		fprintf(stderr, "inetkit ftp: extra connection %d: %s; going on with fewer\n",
			w->id, e.msg);
		ftp_close(&w->own);
		return NULL;
	}
	w->f = &w->own;
	w->own.batch = w->p->po->batch;
	work(w);
	ftp_close(&w->own);
	return NULL;
}

int ftp_pool_run(struct ftp *f, const struct ftp_pool_opts *po, struct ftp_job *jobs,
		 size_t n, struct ftp_pool_result *res, ik_err *e)
{
	memset(res, 0, sizeof *res);
	unsigned extra = po->parallel > 1 ? po->parallel - 1 : 0;
	if (extra > n)
		extra = n > 0 ? (unsigned)n - 1 : 0;
	struct worker *ws = calloc(extra + 1, sizeof *ws);
	if (ws == NULL)
		return ik_err_set(e, "out of memory");
	struct pool p;
	memset(&p, 0, sizeof p);
	p.po = po;
	p.jobs = jobs;
	p.n = n;
	p.fo = f->o;
	p.fo.progress = false;	/* one bar per file makes no sense N at once */
	p.ctx = f->tls_ctx;
	pthread_mutex_init(&p.mu, NULL);
	/* The batch has the one bar; f is the caller's and gets its own back. */
	bool progress = f->o.progress;
	struct ftp_batch *batch = f->batch;
	f->o.progress = false;
	f->batch = po->batch;
	unsigned started = 0;
	for (unsigned i = 0; i < extra; i++) {
		ws[i + 1].p = &p;
		ws[i + 1].id = (int)i + 2;
		if (pthread_create(&ws[i + 1].th, NULL, open_and_work, &ws[i + 1]) != 0)
			break;
		started++;
	}
	ws[0].p = &p;
	ws[0].f = f;
	ws[0].id = 1;
	work(&ws[0]);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ws[i + 1].th, NULL);
	free(ws);
	pthread_mutex_destroy(&p.mu);
	f->o.progress = progress;
	f->batch = batch;
	res->done = p.done;
	res->failed = p.failed;
	res->bytes = p.bytes;
	if (p.next < p.n && p.failed == 0)
		return ik_err_set(e, "%zu transfers not done: every connection failed", p.n - p.next);
	if (p.failed > 0) {
		*e = p.first;
		if (p.failed > 1)
			ik_err_prefix(e, "%zu transfers failed; the first", p.failed);
		return -1;
	}
	return 0;
}
