/* Trees of files for mirror: what is on the server and what is here, as
 * sorted lists of paths relative to the mirror's root. Internal to the
 * FTP client (ftp_tree.c, ftp_mirror.c, ftp_pool.c). */
#ifndef INETKIT_FTP_TREE_H
#define INETKIT_FTP_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ftp/ftp_client.h"

struct ftp_node {
	char *rel;		/* "dir/file", never starting with '/' */
	bool dir;
	uint64_t size;
	time_t mtime;
	int prec;		/* seconds of precision of mtime; 0 = unknown */
};

struct ftp_tree {
	struct ftp_node *v;
	size_t n, cap;
	size_t skipped;		/* links, devices, unsafe names, unreadable lines */
};

void ftp_tree_free(struct ftp_tree *t);
int ftp_tree_add(struct ftp_tree *t, const char *rel, bool dir, uint64_t size, time_t mtime,
		 int prec);
void ftp_tree_sort(struct ftp_tree *t);
/* After ftp_tree_sort: the node for rel, or NULL. */
const struct ftp_node *ftp_tree_find(const struct ftp_tree *t, const char *rel);

/* Everything under the remote directory root (absolute). A root that does
 * not exist gives an empty tree when missing_ok, else an error. */
int ftp_tree_remote(struct ftp *f, const char *root, bool missing_ok, bool verbose,
		    struct ftp_tree *t, ik_err *e);
/* Everything under the local directory root (symbolic links and special
 * files are skipped). A missing root gives an empty tree. */
int ftp_tree_local(const char *root, bool verbose, struct ftp_tree *t, ik_err *e);

/* A transfer for the pool of connections. */
struct ftp_job {
	const char *rel;
	uint64_t size;
	time_t mtime;
	int prec;
};

struct ftp_pool_opts {
	const struct ftp_endpoint_info *where;
	bool upload;
	bool verbose;
	unsigned parallel;
	const char *rroot;	/* absolute remote root */
	const char *lroot;	/* local root */
	struct ftp_batch *batch;	/* progress of all jobs */
};

struct ftp_pool_result {
	size_t done, failed;	/* jobs */
	uint64_t bytes;		/* in the jobs done */
};

/* Run jobs over f plus parallel-1 more sessions. Every job is tried; the
 * first error is returned in e with the count of failures. */
int ftp_pool_run(struct ftp *f, const struct ftp_pool_opts *po, struct ftp_job *jobs,
		 size_t n, struct ftp_pool_result *res, ik_err *e);

#endif
