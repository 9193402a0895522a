/* The access side of a Maildir, shared by the access servers (POP3 and
 * IMAP): open a user's mailbox or one of its Maildir++ folders, list its
 * messages, move them from new/ to cur/, change their flags, remove them,
 * hold an exclusive session lock, and read one message as CR LF lines.
 *
 * Follows the Maildir format (qmail's maildir(5): tmp/ new/ cur/, the
 * ":2,FLAGS" info suffix with its flag letters in ASCII order), Maildir++
 * (folders ".Name", "maildirsize") and Dovecot's conventions for the
 * Maildir file name: ",S=N" is the size of the file as stored (LF line
 * ends), ",W=N" the size with CR LF line ends (what RFC 1939 sizes and
 * IMAP RFC822.SIZE count); a message seen for the first time is moved to
 * cur/ under the same name with ":2," added, and its W= is added then
 * (computed by reading the file once when the delivery did not write it).
 *
 * A message is known by its unique base name: the file name up to the
 * ':' without its ",S=" and ",W=" fields. Renames (flags, the move to
 * cur/) never change it, so a reader that finds a name gone looks for the
 * base again (mailbox_entry_find) instead of failing.
 *
 * Everything here may block on the disk: call it from an offload thread
 * (core/offload.h), except mailbox_read_chunk of a message already open,
 * which reads the page cache in small chunks. A struct mailbox belongs to
 * one thread at a time. */
#ifndef INETKIT_MAILSTORE_MAILBOX_H
#define INETKIT_MAILSTORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "mailstore/mailstore.h"

#define MAILBOX_FLAGS_MAX 32	/* flag letters kept, NUL included */
#define MAILBOX_LOCK_FILE "inetkit-session.lock"	/* the session lock; its mtime: the last lock */

struct mailbox;

struct mailbox_entry {
	char *name;		/* file name now, in new/ or cur/ */
	char *base;		/* unique base name: never changes */
	bool in_new;		/* in new/ (not yet seen by any reader) */
	bool has_size;		/* size known (S= or stat) */
	bool has_vsize;		/* vsize known (W= or read once) */
	uint64_t size;		/* octets as stored (LF line ends) */
	uint64_t vsize;		/* octets with CR LF line ends */
	uint64_t stamp;		/* the seconds that start the name (delivery order) */
	char flags[MAILBOX_FLAGS_MAX];	/* the letters after ":2,", sorted */
};

struct mailbox_list {
	struct mailbox_entry *v;	/* in delivery order (oldest first) */
	size_t n;
};

/* Open the mailbox of NAME (an account name), or its Maildir++ folder
 * when folder is not NULL ("Sent" opens NAME/.Sent). A mailbox that was
 * never delivered to is made (empty) so that a login always finds one.
 * Folder names may not hold '/' nor start with '.'. */
int mailbox_open(struct mailstore *ms, const char *name, const char *folder,
		 struct mailbox **out, ik_err *e);
/* The Maildir's directory fd (owned by mb): where IMAP keeps its
 * per-folder index next to tmp/ new/ cur/. */
int mailbox_dirfd(const struct mailbox *mb);
/* Closes the files (and so releases the lock). Safe on NULL. */
void mailbox_close(struct mailbox *mb);

/* The exclusive session lock (flock of the regular file
 * MAILBOX_LOCK_FILE in the Maildir, not waiting): 0 taken, 1 held by
 * another session (of any process, or of another NFS client), -1 error.
 * Released by mailbox_close. */
int mailbox_lock(struct mailbox *mb, ik_err *e);

/* Close the new/ and cur/ descriptors kept open for speed; the next call
 * that needs one opens it again. A session that waits long then holds two
 * descriptors (the Maildir's and the lock file's). */
void mailbox_release_dirs(struct mailbox *mb);

/* After mailbox_lock: the seconds since the previous session took the
 * lock (MAILBOX_LOCK_FILE's modification time; -1 for the first ever),
 * and the time stamped now for the next one. A minimum time between sessions
 * (POP3 LOGIN-DELAY) is kept with it. */
int mailbox_lock_age(struct mailbox *mb, int64_t *age_s, ik_err *e);

/* List the messages of new/ and cur/. Sizes come from the S= and W=
 * fields when the names hold them; a message without S= is stat'ed; a
 * missing W= is left unknown (has_vsize false) for mailbox_vsize. */
int mailbox_scan(struct mailbox *mb, struct mailbox_list *out, ik_err *e);
void mailbox_list_free(struct mailbox_list *l);

/* Make me->vsize known: read the file once when no W= says it. */
int mailbox_vsize(struct mailbox *mb, struct mailbox_entry *me, ik_err *e);

/* Move a message of new/ to cur/ (same name, W= added when it was missing,
 * ":2," and its flags appended). A message already in cur/ without W= is
 * renamed in place to add it, so the next session need not read it. No
 * fsync: mailbox_sync once after a batch. */
int mailbox_to_cur(struct mailbox *mb, struct mailbox_entry *me, ik_err *e);

/* As mailbox_to_cur, without reading the file: W= goes into the name
 * only when the size is known already (the delivery wrote it, or
 * mailbox_vsize ran); otherwise the next rename of the message (a flag
 * change) adds it once something needed the size. For a reader that
 * moves a whole new/ at once (IMAP's first SELECT of a folder): 10,000
 * messages are 10,000 renames, not 10,000 files read as well. A message
 * already in cur/ is left as it is. */
int mailbox_move_to_cur(struct mailbox *mb, struct mailbox_entry *me, ik_err *e);

/* Set the flags (letters; any order, kept sorted and once each) by a
 * rename; a message still in new/ goes to cur/ with them. They replace
 * whatever flags the file has, also those another session or tool set
 * since me was scanned: to change some flags, mailbox_change_flags. */
int mailbox_set_flags(struct mailbox *mb, struct mailbox_entry *me, const char *flags,
		      ik_err *e);

/* Add the letters add and remove the letters del (either may be "") by a
 * rename to cur/, applied to the flags the file has when it is renamed:
 * when another session, mutt or POP3 renamed it since me was scanned, it
 * is found again by its base name (in new/ or cur/) and the change is
 * applied to the flags found there, so theirs are kept. me->flags are the
 * file's flags afterwards. With check set, a change that leaves me's name
 * as it is still looks the file up (one fstatat): set it when the
 * directories changed since the scan. -1 with errno ENOENT: the message
 * is gone (removed elsewhere). */
int mailbox_change_flags(struct mailbox *mb, struct mailbox_entry *me, const char *add,
			 const char *del, bool check, ik_err *e);

/* Remove (expunge) a message. One already gone counts as removed. The
 * Maildir++ usage line is updated. No fsync: mailbox_sync after a batch. */
int mailbox_remove(struct mailbox *mb, struct mailbox_entry *me, ik_err *e);

/* fsync new/ and cur/: the renames and removals so far are durable. */
int mailbox_sync(struct mailbox *mb, ik_err *e);

/* Find me's file again by its base name after another session renamed
 * it (flags) or moved it to cur/: updates me->name/in_new/flags. 1 found,
 * 0 gone (removed), -1 error. */
int mailbox_entry_find(struct mailbox *mb, struct mailbox_entry *me, ik_err *e);

/* Split a Maildir file name: the base (without ",S=", ",W=" and the
 * info), its sizes, and its flags. Pure; for tests and the index. */
int mailbox_name_parse(const char *fname, char *base, size_t basesz, struct mailbox_entry *me);

/* ---- reading one message as CR LF lines ---- */

struct mailbox_reader;

struct mailbox_read_opts {
	bool dot_stuff;		/* a '.' that starts a line is doubled */
	bool final_crlf;	/* a last line without LF gets CR LF */
	bool body_lines_limit;	/* stop after body_lines lines of the body */
	uint64_t body_lines;	/* (the header and its blank line always) */
};

/* Open me for reading (finding it again if it was renamed). */
int mailbox_read_open(struct mailbox *mb, struct mailbox_entry *me,
		      const struct mailbox_read_opts *o, struct mailbox_reader **out, ik_err *e);
/* Write the next bytes into out (cap >= 8): every LF not after a CR
 * becomes CR LF, with the options above. *len is 0 only at the end.
 * Reads at most cap / 2 bytes of the file per call. */
int mailbox_read_chunk(struct mailbox_reader *r, char *out, size_t cap, size_t *len, ik_err *e);
void mailbox_read_close(struct mailbox_reader *r);
/* After the end (*len 0): whether the whole message was sent, not cut by
 * body_lines (a POP3 TOP that gave all of it counts as a retrieval). */
bool mailbox_read_whole(const struct mailbox_reader *r);

/* The CR LF size of a buffer in stored form, counting as the reader
 * converts (for tests and for sizes of data not yet in a file). */
uint64_t mailbox_crlf_size(const char *p, size_t n, bool *last_was_cr);

/* ---- retrieval times (mailbox_retrieved.c) ----
 *
 * When POP3 first retrieved each message (RETR, or TOP of all of it) in
 * a session that ended with QUIT, for the EXPIRE retention period (RFC
 * 2449 6.7). Kept in MAILBOX_RETRIEVED_FILE beside tmp/ new/ cur/, one
 * "UNIXTIME BASE" line per message: message names and flags stay as
 * Dovecot, mutt and the IMAP server expect them (a flag letter could not
 * carry a time, and the file's mtime is IMAP's INTERNALDATE), and the
 * other readers ignore a plain file there. Only the holder of the
 * session lock (mailbox_lock) writes it; a message removed meanwhile
 * (IMAP EXPUNGE) leaves a line that the next save drops. */
#define MAILBOX_RETRIEVED_FILE "inetkit-pop3-retrieved"

/* times[i] = the retrieval time of l->v[i] (unix seconds), 0 for none.
 * *stale (may be NULL) = lines naming no message of l. */
int mailbox_retrieved_load(struct mailbox *mb, const struct mailbox_list *l, int64_t *times,
			   size_t *stale, ik_err *e);
/* Replace the file with the messages of l whose times[i] > 0 (none:
 * the file is removed), durably (a new file, fsync, rename). */
int mailbox_retrieved_save(struct mailbox *mb, const struct mailbox_list *l,
			   const int64_t *times, ik_err *e);

#endif
