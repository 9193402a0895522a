/* The per-folder IMAP index: what a Maildir cannot hold. UIDVALIDITY,
 * UIDNEXT, the UID of each message (by its Maildir base name), its MODSEQ
 * and the flags last seen (so that a flag change made by another tool,
 * mutt renaming a file, still gets a new MODSEQ), and HIGHESTMODSEQ.
 *
 * Follows RFC 3501 section 2.3.1.1 (UIDs strictly ascending, never
 * reused while UIDVALIDITY stays; UIDVALIDITY changes when they cannot be
 * kept), RFC 7162 section 3.1 (a per-message MODSEQ, HIGHESTMODSEQ never
 * decreases; expunges count as changes) and, for the file, the idea of
 * Dovecot's dovecot-uidlist: a text file in the Maildir.
 *
 * Why a file and not SQLite: the index is derived data that must be
 * rebuilt from the files at any time; a small append-only text log is
 * readable, survives a crash (a torn last line is ignored), needs no
 * schema, and is what Dovecot users know. One file per folder, so folders
 * never contend. The file "inetkit-index" is:
 *
 *   inetkit-index 1 UIDVALIDITY UIDNEXT HIGHESTMODSEQ   (first line)
 *   + UID MODSEQ FLAGS BASE    a message got its UID
 *   = UID MODSEQ FLAGS         its flags changed
 *   - UID MODSEQ               it was expunged
 *   r UID                      every UID below this one has had its
 *                              \Recent given to a session (RFC 3501
 *                              2.3.2: one session only), as Dovecot's
 *                              first_recent_uid
 *
 * (FLAGS are the Maildir letters, "-" for none). Records are appended
 * under an exclusive flock of the file, in one write; when the log holds
 * many more records than messages it is rewritten (a new file renamed
 * over the old one; other readers see the new inode and read it again).
 * A line that does not parse means the index is lost: it is rebuilt from
 * the Maildir with a new, larger UIDVALIDITY.
 *
 * Blocking (file I/O): call it from an offload thread. A struct
 * mail_index belongs to one thread at a time. */
#ifndef INETKIT_MAILSTORE_MAIL_INDEX_H
#define INETKIT_MAILSTORE_MAIL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define MAIL_INDEX_FILE "inetkit-index"
#define MAIL_INDEX_FLAGS_MAX 32	/* flag letters, NUL included */

struct mail_index_rec {
	uint32_t uid;
	uint64_t modseq;
	char flags[MAIL_INDEX_FLAGS_MAX];	/* Maildir letters, sorted */
	char *base;		/* Maildir base name (unique, never changes) */
};

struct mail_index {
	int dirfd;		/* the Maildir (not owned) */
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	struct mail_index_rec *v;	/* live messages, by ascending UID */
	size_t n, cap;
	/* The log as far as read: its inode and the offset after the last
	 * complete line; records in it (live or not), for compaction. */
	uint64_t ino;
	uint64_t off;
	size_t records;
	uint32_t last_uid;	/* the largest UID a "+" record gave */
	uint32_t first_recent;	/* UIDs from here have not had their \Recent */
	bool rebuilt;		/* the last open or sync had to rebuild */
	/* Expunges since the log was last written whole (its first line's
	 * HIGHESTMODSEQ, base_modseq): every one after base_modseq is here,
	 * so QRESYNC's VANISHED (EARLIER) can be exact (RFC 7162 3.2.5.2). */
	struct mail_index_gone {
		uint32_t uid;
		uint64_t modseq;
	} *gone;
	size_t ngone, capgone;
	uint64_t base_modseq;
};

/* A message as found on disk (mailbox_scan): its base name and flags. */
struct mail_index_seen {
	const char *base;
	const char *flags;
};

/* Read (or make) the index of the Maildir dirfd. A missing file is made
 * with a fresh UIDVALIDITY; a damaged one is rebuilt at the next sync. */
int mail_index_open(int dirfd, struct mail_index **out, ik_err *e);
void mail_index_free(struct mail_index *ix);

/* Bring the index up to date with what is on disk (seen[0, n), in
 * delivery order): read what other sessions appended, give new messages
 * the next UIDs in the order given, mark vanished ones expunged and
 * record flag changes with a new MODSEQ. Under the file's lock; one
 * append. Afterwards ix->v holds exactly the messages of seen. */
int mail_index_sync(struct mail_index *ix, const struct mail_index_seen *seen, size_t n,
		    ik_err *e);

/* The same, with the listing made under the index's lock: lock, read what
 * other processes appended, then scan(arg, ix, &seen, &n) lists the
 * folder (ix already holds every record the log has), then sync. A
 * listing made before the lock can be older than records another process
 * appended meanwhile ("+ UID BASE" for a file it moved from new/ to cur/
 * after our listing): those messages would be taken as expunged and get
 * new UIDs. Under the lock no other indexer adds or removes records, so
 * what the scan misses is really gone (renames by flag changes, which do
 * not take this lock, are the scan's to look for again). seen stays the
 * callback's until the call returns. */
typedef int (*mail_index_scan_fn)(void *arg, struct mail_index *ix,
				  const struct mail_index_seen **seen, size_t *n, ik_err *e);
int mail_index_sync_scan(struct mail_index *ix, mail_index_scan_fn scan, void *arg, ik_err *e);

/* Record our own flag change of a message (STORE) under the lock; sets
 * its new MODSEQ. -1 with e when the UID is no longer in the index. */
int mail_index_set_flags(struct mail_index *ix, uint32_t uid, const char *flags,
			 uint64_t *modseq, ik_err *e);

/* Take the \Recent of the UIDs [first_recent, upto) for the caller's
 * session (RFC 3501 2.3.2: a message is recent in one session only,
 * whichever process it runs in), under the lock: *from is set to where
 * the caller's range starts (== upto: nothing was left to take). upto is
 * the caller's view (one more than the largest UID it knows), so that a
 * UID another process gave meanwhile stays for the session that sees it. */
int mail_index_claim_recent(struct mail_index *ix, uint32_t upto, uint32_t *from, ik_err *e);

/* The record of a UID, or NULL (binary search). */
struct mail_index_rec *mail_index_find(struct mail_index *ix, uint32_t uid);

#endif
