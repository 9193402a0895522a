/* The transfer engine (ftpd_xfer.c): struct ftpd_xfer and the calls on it, command to reply. */
#ifndef INETKIT_FTPD_FTPD_XFER_H
#define INETKIT_FTPD_FTPD_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/jail.h"
#include "ftpd/ftpd_ascii.h"

struct ftpd_sess;
struct ftpd_dir;
struct session;

enum ftpd_xfer_kind { FTPD_X_RETR, FTPD_X_STOR, FTPD_X_APPE, FTPD_X_STOU, FTPD_X_LIST };

/* One transfer, from the command to its final reply. */
struct ftpd_xfer {
	struct ftpd_sess *fs;
	enum ftpd_xfer_kind kind;
	char *vpath;			/* what the client named (logs, replies) */
	int file_fd;			/* RETR source, or an upload written in place */
	struct jail_upload up;		/* STOR/STOU through a temporary */
	bool tmp;
	bool noreplace;			/* commit must not replace a file */
	const struct jail *jail;	/* STOU: where the names are tried */
	char *kpath;			/* uploads: the target's kernel path (STOU: the name announced) */
	bool created;			/* in place: the file did not exist before */
	off_t offset;			/* RETR start, or upload start in place */
	off_t size;			/* RETR: the file's size */
	off_t orig_size;		/* in place: the size before */
	uint64_t old_size;		/* replacing a file: its size (quota) */
	uint64_t skip;			/* TYPE A RETR after REST: wire bytes to drop */
	bool ascii;
	struct ftpd_ascii asc;
	struct ftpd_dir *dir;		/* listings */
	char *buf;			/* bounded buffer for TLS, TYPE A, listings */
	struct session *data;		/* the data connection (raw mode), once connected */
	bool tls_ready, running, file_eof, sendfile, waiting;
	bool tls;			/* PROT P: the data connection uses TLS */
	/* An upload refused once its data connection is open (quota, TLS
	 * reuse): the rest is read and dropped, then this is the reply. */
	char *refusal;			/* NULL while the upload is taken */
	int refusal_code;
	uint64_t drop_left;		/* how much more may be dropped before closing */
	uint64_t bytes;			/* payload bytes moved */
	uint64_t start_ms;
};

/* new: a transfer for fs (NULL after a reply); begin: wait for the data
 * connection, then run it. */
struct ftpd_xfer *ftpd_xfer_new(struct ftpd_sess *fs, enum ftpd_xfer_kind kind, const char *vpath);
void ftpd_xfer_begin(struct ftpd_xfer *x);
void ftpd_xfer_free(struct ftpd_xfer *x);
/* ftpd_cmd_xfer.c: an upload is complete: move it into place. 0, or -1 with
 * the reply code and text. */
int ftpd_xfer_commit(struct ftpd_xfer *x, int *code, char *text, size_t textsz);
/* An upload did not complete: remove the temporary, or give back what a
 * quota refusal added in place. */
void ftpd_xfer_discard(struct ftpd_xfer *x, bool truncate);
/* The data channel has a connection for x: take it and start. */
void ftpd_xfer_connected(struct ftpd_xfer *x);
/* The end: close the data connection, commit or discard an upload, log,
 * reply, free x. */
void ftpd_xfer_finish(struct ftpd_xfer *x, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ftpd_xfer_finish_ok(struct ftpd_xfer *x);
bool ftpd_xfer_is_upload(const struct ftpd_xfer *x);
void ftpd_xfer_failed(struct ftpd_xfer *x, int code, const char *text);
/* ABOR: stop the transfer; replies 426 then 226. */
void ftpd_xfer_abort(struct ftpd_sess *fs);
/* The session is going away: stop without replies. */
void ftpd_xfer_drop(struct ftpd_sess *fs);
const char *ftpd_xfer_name(const struct ftpd_xfer *x);
uint64_t ftpd_xfer_bytes(const struct ftpd_xfer *x);

/* ftpd_session.c: called by the engine when a transfer has ended and its
 * reply is out. */
void ftpd_xfer_ended(struct ftpd_sess *fs);

#endif
