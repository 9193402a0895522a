/* The outbound queue: messages for recipients in other domains, accepted
 * from authenticated users or relay networks, waiting for the relay
 * (issue 13) to deliver them.
 *
 * Durable before acknowledged, as local delivery: STATE_DIR/queue/ holds
 * per message ID.msg (the spool file, hard-linked; LF line ends) and
 * ID.env (the envelope, written to a temporary name, fsync'ed, renamed,
 * then the directory fsync'ed). An entry exists once its .env exists; a
 * .msg without its .env is a crash leftover, removed by smtp_queue_recover.
 *
 * The envelope keeps what RFC 3461 (DSN) asks to be carried to the relay:
 * RET, ENVID, and each recipient's NOTIFY and ORCPT, plus how the message
 * came (client, HELO name, authenticated user, TLS) and its body type. */
#ifndef INETKIT_SMTP_SMTP_QUEUE_H
#define INETKIT_SMTP_SMTP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/sbuf.h"
#include "mailstore/mailstore.h"

/* RFC 3461 4.1 NOTIFY bits; 0: the parameter was not given. */
enum {
	SMTP_NOTIFY_NEVER = 1 << 0,
	SMTP_NOTIFY_SUCCESS = 1 << 1,
	SMTP_NOTIFY_FAILURE = 1 << 2,
	SMTP_NOTIFY_DELAY = 1 << 3,
};

enum smtp_ret { SMTP_RET_UNSET, SMTP_RET_FULL, SMTP_RET_HDRS };
enum smtp_body_type { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

struct smtp_env_rcpt {
	char *addr;		/* "local@domain" (UTF-8 when smtputf8) */
	unsigned notify;	/* SMTP_NOTIFY_* */
	char *orcpt;		/* "rfc822;addr" decoded from xtext, or NULL */
};

struct smtp_envelope {
	char id[MAILSTORE_ID_MAX];	/* the queue id (= the spool id) */
	char *from;		/* "" for the null reverse path <> */
	struct smtp_env_rcpt *rcpt;
	size_t nrcpt;
	enum smtp_ret ret;
	char *envid;		/* decoded, or NULL */
	enum smtp_body_type body;
	bool smtputf8;
	char *auth_user;	/* NULL: not authenticated */
	char *client;		/* peer address, "127.0.0.1:5555" */
	char *helo;		/* the EHLO/HELO name */
	char *tls;		/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL */
	int64_t arrival;	/* unix time */
	uint64_t size;		/* bytes of ID.msg */
	unsigned attempts;	/* delivery attempts so far (the relay's) */
	int64_t next_attempt;	/* unix time, 0 = now */
	bool hold;		/* `inetkit queue hold`: not delivered until released */
	bool warned;		/* the delay notice (RFC 3464 action delayed) went out */
	char *last_error;	/* the last temporary failure, for `queue show` */
};

/* Free what the strings and the rcpt array of env hold (env itself is the
 * caller's); safe on a zeroed envelope. */
void smtp_envelope_clear(struct smtp_envelope *env);

struct smtp_queue;

/* Open (creating, 0700, owned by this process's user: see mailstore_open)
 * STATE_DIR/queue. */
int smtp_queue_open(const char *state_dir, struct smtp_queue **out, ik_err *e);
void smtp_queue_free(struct smtp_queue *q);
/* Remove crash leftovers (.msg without .env, temporary envelopes). */
int smtp_queue_recover(struct smtp_queue *q, ik_err *e);

/* Blocking (offload thread), after mail_spool_sync: link the spool file in
 * as env->id.msg (env->id is set from the spool), write env->id.env
 * durably, fsync the directory. On failure nothing is left behind. */
int smtp_queue_add(struct smtp_queue *q, struct mailstore *ms, struct mail_spool *sp,
		   struct smtp_envelope *env, ik_err *e);

/* Ids of the entries, oldest first (by arrival, then id). *ids is an array
 * of n malloc'ed strings; free with smtp_queue_ids_free. */
int smtp_queue_ids(struct smtp_queue *q, char ***ids, size_t *n, ik_err *e);
/* The same without reading one envelope: ordered by the time each id
 * begins with (its spool file's creation), then id. The relay's scans,
 * frequent under load, cost a readdir instead of a read per entry. */
int smtp_queue_ids_by_name(struct smtp_queue *q, char ***ids, size_t *n, ik_err *e);
void smtp_queue_ids_free(char **ids, size_t n);
/* Read one entry's envelope; -1 with errno ENOENT (and e "no such queue
 * entry ID") when there is no such id. The message is read with smtp_queue_open_msg (an fd). */
int smtp_queue_read(struct smtp_queue *q, const char *id, struct smtp_envelope *env, ik_err *e);
int smtp_queue_open_msg(struct smtp_queue *q, const char *id, ik_err *e);
/* Rewrite an entry's envelope (the relay: attempts, what is left). */
int smtp_queue_update(struct smtp_queue *q, const struct smtp_envelope *env, ik_err *e);
/* The same, the directory's fsync left to smtp_queue_sync (a batch). */
int smtp_queue_update_nosync(struct smtp_queue *q, const struct smtp_envelope *env, ik_err *e);
/* Remove an entry (envelope first, so it stops existing at once). */
int smtp_queue_delete(struct smtp_queue *q, const char *id, ik_err *e);
/* The same without the directory's fsync, for a batch of removals and
 * rewrites that smtp_queue_sync then makes durable with one. */
int smtp_queue_delete_nosync(struct smtp_queue *q, const char *id, ik_err *e);
int smtp_queue_sync(struct smtp_queue *q, ik_err *e);

/* A queue id as the spool makes them (1-63 of A-Z a-z 0-9 . _ -, not
 * starting with '.'): anything else names no entry. */
int smtp_queue_id_check(const char *id, ik_err *e);

/* ---- the envelope file's text (its format: smtp_queue_env.c) ---- */

/* Append env as an envelope file to out. */
int smtp_queue_env_format(const struct smtp_envelope *env, struct sbuf *out, ik_err *e);
/* Parse an envelope file's text (from disk, which an admin may edit: any
 * bytes). fname names it in errors ("queue/ID.env line 4: ..."). env->id
 * is kept, the rest replaced; on failure env is left cleared. */
int smtp_queue_env_parse(const char *text, size_t len, const char *fname,
			 struct smtp_envelope *env, ik_err *e);
/* "failure,delay"; "-" when not given. */
const char *smtp_queue_notify_text(unsigned notify, char *buf, size_t bufsz);
const char *smtp_queue_ret_word(enum smtp_ret ret);		/* "-", "full", "hdrs" */
const char *smtp_queue_body_word(enum smtp_body_type body);	/* "7bit", ... */

#endif
