/* Internals of the Maildir store, shared by its files:
 *   mailstore.c      opening, recovery, unique names, delivery
 *   mail_spool.c     the spool file: buffered writes, CRLF -> LF, sync, link
 *   maildir_quota.c  the Maildir++ "maildirsize" file and usage sums */
#ifndef INETKIT_MAILSTORE_MAILSTORE_INT_H
#define INETKIT_MAILSTORE_MAILSTORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mailstore/mailstore.h"

/* The host part of Maildir names, escaped: at most 64 bytes of the name,
 * each byte at most 4 when escaped. */
#define MAILSTORE_HOST_MAX (64 * 4 + 1)

struct mailstore {
	int mail_fd;	/* STATE_DIR/mail */
	int spool_fd;	/* STATE_DIR/mail/.spool */
	char host[MAILSTORE_HOST_MAX];
};

struct mail_spool {
	struct mailstore *ms;
	int fd;		/* O_RDWR: written here, read back for copies */
	char id[MAILSTORE_ID_MAX];
	char *buf;	/* MAIL_SPOOL_BUF bytes, made on the first write */
	size_t blen;	/* bytes waiting in buf */
	uint64_t size;	/* bytes written to fd or waiting in buf */
	bool held_cr;	/* put_crlf: the last byte was a CR, not yet written */
	bool synced;
	int failed;	/* errno of a failed write: every later call fails */
};

/* "SECONDS.M<usec>P<pid>Q<counter>": unique across the processes and
 * threads of one host (the counter is atomic, the pid is read each time
 * so that forked workers differ). */
int mailstore_unique(char *out, size_t outsz);

/* NAME for a mailbox: an account name, never "." first nor a "/". */
int mailstore_name_check(const char *name, ik_err *e);

/* Open NAME's Maildir (mailstore.c), with create: make it when missing.
 * Returns its fd, or -1 (with *missing set when it is not there and
 * !create). */
int mailstore_maildir_open(struct mailstore *ms, const char *name, bool create, bool *missing,
			   ik_err *e);

/* The usage of the Maildir open as md_fd. */
struct maildir_usage {
	int64_t bytes;
	int64_t messages;
};

/* Read "maildirsize": 0 with the sum of its lines, its quota definition
 * (bytes of the "<n>S" item, 0 when none), its size and its age in
 * seconds; -1 when it is missing or not in the format (errno ENOENT for
 * missing). */
int maildir_size_read(int md_fd, struct maildir_usage *u, uint64_t *quota, off_t *fsize,
		      int64_t *age);
/* Sum the files of new/ and cur/ (and of the Maildir++ folders' new/ and
 * cur/) from their ",S=" names, else their size. */
int maildir_size_scan(int md_fd, struct maildir_usage *u, ik_err *e);
/* Write a fresh "maildirsize" holding quota and u (via tmp/): replacing
 * the one there, or (!replace) only where there is none yet. */
int maildir_size_write(int md_fd, uint64_t quota, const struct maildir_usage *u, bool replace,
		       ik_err *e);
/* Append "<bytes> <messages>" when "maildirsize" exists (O_APPEND: one
 * short write, atomic against other deliveries). */
int maildir_size_add(int md_fd, int64_t bytes, int64_t messages, ik_err *e);

#endif
