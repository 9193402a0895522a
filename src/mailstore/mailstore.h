/* Maildir storage, shared by smtpd (delivery), pop3d and imapd.
 *
 * Follows the Maildir format (tmp/ new/ cur/, unique names, a file is
 * visible only once complete) and Maildir++ (folders .Name, the
 * "maildirsize" quota file). Layout, all under the service's state_dir:
 *
 *   STATE_DIR/mail/NAME/{tmp,new,cur}   one mailbox per local user, made on
 *                                       first delivery (0700)
 *   STATE_DIR/mail/.spool/              messages being received; on the same
 *                                       filesystem as the mailboxes and the
 *                                       queue, so one file is hard-linked
 *                                       into every place it must appear
 *
 * Messages are stored with LF line ends (what mutt and Dovecot expect);
 * mail_spool_put_crlf turns the network's CRLF into LF as it writes.
 *
 * Durable before acknowledged: a message is written into the spool (on the
 * event loop: page cache only), then, on an offload thread, fsync'ed once
 * (mail_spool_sync) and linked into each mailbox's new/ (and the queue),
 * each directory fsync'ed, before the server answers 250. A crash leaves
 * at worst a file in .spool/ (removed by mailstore_recover) and never a
 * partial file in new/.
 *
 * Thread safety: a struct mailstore is read-only after mailstore_open and
 * may be used from several offload threads at once; a mail_spool belongs to
 * one thread at a time. */
#ifndef INETKIT_MAILSTORE_MAILSTORE_H
#define INETKIT_MAILSTORE_MAILSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/sbuf.h"

#define MAILSTORE_ID_MAX 64	/* a spool id / Maildir base name, NUL included */
#define MAILSTORE_SPOOL_DIR ".spool"	/* under STATE_DIR/mail */

struct mailstore;
struct mail_spool;

/* Open (creating what is missing, mode 0700) STATE_DIR/mail and its
 * .spool. The directory fds stay open for the store's life. What it makes
 * belongs to this process's user: open it as the user that serves (after
 * the privilege drop), or in a state directory serve gave to that user. */
int mailstore_open(const char *state_dir, struct mailstore **out, ik_err *e);
void mailstore_free(struct mailstore *ms);

/* Remove spool files a crash left behind (none was acknowledged: a
 * delivered message is already linked where it belongs). Call at start,
 * before any session. Returns how many were removed, or -1. */
int mailstore_recover(struct mailstore *ms, ik_err *e);

/* The directory fd of STATE_DIR/mail (for the queue and access servers to
 * reach siblings with *at() calls); owned by the store. */
int mailstore_dirfd(const struct mailstore *ms);

/* ---- a message being received ---- */

/* A new, empty spool file with a unique id (also the queue id and the base
 * of the Maildir file names). */
struct mail_spool *mail_spool_new(struct mailstore *ms, ik_err *e);
/* Bytes as they are (the trace headers the server adds; LF line ends). */
int mail_spool_put(struct mail_spool *sp, const void *data, size_t len, ik_err *e);
/* Network bytes: every CRLF is written as LF (a CR at the end of one call
 * is held until the next shows whether an LF follows); other bytes are
 * written as they are. */
int mail_spool_put_crlf(struct mail_spool *sp, const void *data, size_t len, ik_err *e);
/* Bytes in the spool file so far (LF form: what a mailbox will hold). */
uint64_t mail_spool_size(const struct mail_spool *sp);
const char *mail_spool_id(const struct mail_spool *sp);
/* The open spool file (read-only use: the queue links or copies it). */
int mail_spool_fd(const struct mail_spool *sp);
/* Its name inside STATE_DIR/mail/.spool (for linkat from the queue). */
const char *mail_spool_name(const struct mail_spool *sp);

/* Blocking (offload thread): the whole message so far appended to out
 * (what is buffered is written out first, not fsync'ed; more may be
 * added afterwards). For signing and verifying a message (mailauth). */
int mail_spool_read_all(struct mail_spool *sp, struct sbuf *out, ik_err *e);
/* Blocking, before mail_spool_sync: the spool's whole text becomes
 * data[0, len) (a header added in front: a DKIM signature, the
 * Authentication-Results). The id stays. */
int mail_spool_replace(struct mail_spool *sp, const void *data, size_t len, ik_err *e);

/* Blocking (offload thread). Write out what is buffered and fsync the
 * file; done once, later calls return 0 at once. */
int mail_spool_sync(struct mail_spool *sp, ik_err *e);

/* Blocking, after mail_spool_sync: make the message appear as dir_fd/name
 * (the queue's ID.msg, a Maildir's new/ file). A hard link; where the file
 * system refuses one (EXDEV, EMLINK, EPERM), a copy written as
 * tmp_fd/tmp_name, fsync'ed and renamed to dir_fd/name. The directory
 * fsync is the caller's (once for all it placed). -1 with errno kept
 * (EEXIST: name is taken, pick another) and e set; nothing is left. */
int mail_spool_link(struct mail_spool *sp, int tmp_fd, const char *tmp_name, int dir_fd,
		    const char *name, ik_err *e);

/* Blocking (offload thread), after mail_spool_sync: store the message in
 * the mailbox of NAME (made on first delivery): hard link into new/ under
 * a unique Maildir name (a copy, fsync'ed, where the filesystem refuses
 * the link), then fsync new/. quota (bytes, 0 = none): when the mailbox
 * already holds quota bytes or more, or would with this message, nothing
 * is stored and -1 is returned with *over_quota set. The usage is kept in
 * the mailbox's Maildir++ "maildirsize" file (rebuilt from the files when
 * missing or unreadable). NAME must be a valid account name
 * (account_name_check): no "/", no leading ".". */
int mailstore_deliver(struct mailstore *ms, struct mail_spool *sp, const char *name,
		      uint64_t quota, bool *over_quota, ik_err *e);

/* Blocking. The bytes and messages NAME's mailbox holds (0, 0 when it does
 * not exist yet): the RCPT-time quota check. */
int mailstore_usage(struct mailstore *ms, const char *name, uint64_t *bytes,
		    uint64_t *messages, ik_err *e);

/* ---- a Maildir of its own (a mail client's), outside any state_dir ----
 * The same format and names as the mailboxes above: a message is written
 * into tmp/, fsync'ed, renamed into new/ (or cur/ with ":2,FLAGS"), and
 * the directory fsync'ed; only then does it exist. Blocking. */

/* Open the Maildir at path, making it (and tmp/ new/ cur/, 0700) when
 * missing; returns its directory fd. */
int maildir_path_open(const char *path, ik_err *e);
/* A new file tmp/NAME with a unique name (into name); returns its fd. */
int maildir_tmp_create(int md, char *name, size_t namesz, ik_err *e);
/* The same in two steps, for a caller that records NAME before the file
 * exists: a unique name, then tmp/NAME made (O_EXCL: -1 with errno EEXIST
 * when taken). */
int maildir_tmp_name(char *name, size_t namesz, ik_err *e);
int maildir_tmp_open(int md, const char *name, ik_err *e);
/* fsync fd, rename tmp/NAME to new/NAME,S=size (flags NULL) or to
 * cur/NAME,S=size:2,FLAGS, fsync that directory. final: the new name. */
int maildir_tmp_commit(int md, int fd, const char *name, uint64_t size, const char *flags,
		       char *final, size_t finalsz, ik_err *e);
/* Many messages at once (a client fetching a batch): write each tmp/
 * file, maildir_sync_all, maildir_tmp_place each (a rename only), and
 * maildir_sync_all again: two flushes for the batch instead of three
 * fsyncs per message. syncfs(2): every file of the Maildir's file system
 * is on disk when it returns. */
int maildir_tmp_place(int md, const char *name, uint64_t size, const char *flags, char *final,
		      size_t finalsz, ik_err *e);
int maildir_sync_all(int md, ik_err *e);
/* Remove tmp/NAME (an aborted message). */
void maildir_tmp_discard(int md, const char *name);

/* Close the spool file and remove its name from .spool (the links made by
 * mailstore_deliver and the queue stay). Safe on NULL. */
void mail_spool_free(struct mail_spool *sp);

#endif
