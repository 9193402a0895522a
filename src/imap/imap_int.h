/* The IMAP session, its server generation, the selected folder, and the
 * handlers the command table names. Protocol code only: no sockets
 * (core/session and core/server own them). */
#ifndef INETKIT_IMAP_IMAP_INT_H
#define INETKIT_IMAP_IMAP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/account.h"
#include "core/fswatch.h"
#include "core/sasl.h"
#include "core/server.h"
#include "core/session.h"
#include "imap/imap.h"
#include "imap/imap_parse.h"
#include "lib/sbuf.h"
#include "mailstore/mail_index.h"
#include "mailstore/mailbox.h"
#include "mailstore/mailstore.h"

/* Session states (RFC 3501 section 3), one bit each. */
enum {
	IMAP_ST_NOAUTH = 1 << 0,
	IMAP_ST_AUTH = 1 << 1,
	IMAP_ST_SELECTED = 1 << 2,
	IMAP_ST_LOGOUT = 1 << 3,
};

/* The protocol's own bits of a table entry (session_cmd.pflags). */
enum {
	IMAP_P_LOGIN = 1 << 0,	/* LOGIN, AUTHENTICATE: refused without TLS unless allowed */
};

extern const struct session_cmds imap_cmds;

#define IMAP_TAG_MAX 64
#define IMAP_MAILBOX_MAX 200	/* a mailbox name (a Maildir++ folder name) */

/* The keyword names of a folder (its dovecot-keywords file): letter
 * 'a' + i is name[i]; imap_keywords.c. */
#define IMAP_KEYWORDS_MAX 26
#define IMAP_KEYWORD_MAX 100	/* bytes in one keyword name */
struct imap_keywords {
	char *name[IMAP_KEYWORDS_MAX];
	int dirfd;			/* the folder's Maildir (not owned) */
	unsigned gen, told;		/* name changes seen; as of the last FLAGS sent */
	uint64_t ino;			/* the file as last read: read again when it changes */
	struct timespec mtime;
};

struct imap_server {
	struct imap_conf *conf;
	struct loop *loop;
	struct server *core;
	const struct listen_set *set;
	const struct service_ctx *ctx;
	const struct imap_conf *bound;
	struct account_auth *auth;	/* NULL: no accounts database, nobody logs in */
	struct mailstore *store;
	/* The core timer that looks at the folders of IDLE sessions that
	 * no watch covers (made on the first IDLE, freed with the
	 * generation). */
	struct event *idle_timer;
	/* inotify watches of the selected folders' new/ and cur/ (made with
	 * the first folder; NULL and watch_failed when the kernel refused),
	 * and the short timer that gathers a burst of changes into one wake. */
	struct fswatch *watch;
	bool watch_failed;
	struct event *wake;
	/* The folders some session of this generation has selected: one
	 * shared state each (imap_folder.c). */
	struct imap_fshared *folders;
};

/* One message of the selected folder: sequence number = index + 1. */
struct imap_msg {
	uint32_t uid;
	bool recent;
	uint64_t modseq;
	uint64_t told;			/* the flag letters this session last reported (bits) */
	struct mailbox_entry *me;	/* into the folder's scan (shared, refcounted) */
};

/* One scan of a folder's files, shared by the sessions whose view it is:
 * each holds a reference, so a rescan by one never moves the entries
 * under another. */
struct imap_snap {
	unsigned refs;
	struct mailbox_list list;
	uint32_t *uid;			/* by position in order[]: ascending UIDs */
	struct mailbox_entry **order;	/* the indexed messages, by UID */
	bool *was_new;			/* by position in order[]: found in new/ */
	size_t n;
};

/* What every session that selected one folder shares in a worker: the
 * Maildir handle, the index, the ENVELOPE/BODYSTRUCTURE/header cache and
 * the last scan. Refcounted by the sessions' imap_folder. */
struct imap_fshared {
	struct imap_fshared *next, **prevp;	/* srv->folders */
	unsigned refs;
	char *key;			/* "user/folder" */
	struct mailbox *mb;
	struct mail_index *ix;
	struct imap_cache *cache;	/* read when first needed (imap_folder_cache) */
	struct imap_snap *snap;		/* the last scan, as the index knows it */
	struct timespec new_mtime, cur_mtime;	/* of new/ and cur/ as of snap */
	struct imap_sess *waiters;	/* IDLE sessions on this folder (imap_server.c) */
	struct imap_server *srv;
	struct fswatch_dir *wnew, *wcur;	/* NULL: not watched, polled */
	bool dirty;			/* a watch saw a change since the last scan */
	struct event *linger;		/* unselected: freed when this fires */
	/* UIDs of messages sessions let go of, to move from new/ to cur/ a
	 * batch per loop turn (imap_folder.c release_recent), found in the
	 * folder's scan of that turn. */
	uint32_t *rel;
	size_t nrel, relpos, caprel;
	struct event *rel_ev;
};

/* The selected (or examined) folder: this session's view. */
struct imap_folder {
	char name[IMAP_MAILBOX_MAX + 1];	/* as the client named it ("INBOX") */
	bool readonly;			/* EXAMINE */
	struct imap_fshared *sh;
	struct mailbox *mb;		/* sh->mb and sh->ix (borrowed) */
	struct mail_index *ix;
	struct imap_snap *snap;		/* the scan msgs point into (a reference) */
	struct imap_msg *msgs;
	size_t n;
	uint32_t recent;		/* \Recent messages for this session */
	/* new/ and cur/ as of the last sync: a change of either (a
	 * delivery, a rename by another session or tool) means sync again. */
	struct timespec new_mtime, cur_mtime;
};

struct imap_sess {
	struct imap_server *srv;
	struct session *s;
	struct server_conn conn;
	char host[64];
	bool implicit_tls, tls_ready;
	char tls_info[96];
	unsigned state;
	char user[ACCOUNT_NAME_MAX + 1];
	unsigned auth_failures, errors, commands;
	/* a command being assembled: its lines and literals, as on the wire */
	struct sbuf cmd;
	char cmd_bad[IMAP_ERR_MAX];	/* set: refuse it once complete */
	bool literal_nul;		/* the current literal held a NUL byte */
	/* AUTHENTICATE and LOGIN in flight */
	struct sasl *sasl;
	struct account_request *auth_req;
	char auth_tag[IMAP_TAG_MAX + 1];
	/* IDLE */
	bool idling;
	char idle_tag[IMAP_TAG_MAX + 1];
	struct imap_sess *idle_next, **idle_prevp;	/* sel->sh->waiters while idling */
	/* ENABLE */
	bool condstore;
	bool qresync;			/* RFC 7162: VANISHED for expunges */
	bool utf8;			/* RFC 6855 UTF8=ACCEPT */
	struct imap_keywords *kw;	/* of sel, read at SELECT; NULL: none */
	struct imap_folder *sel;
	bool closing;
};

/* ---- imap_server.c ---- */
void imap_server_add(struct imap_server *srv, struct imap_sess *ss);
void imap_server_remove(struct imap_sess *ss);
/* IDLE: changes to the selected folder are reported within a second. */
void imap_server_idle_add(struct imap_sess *ss);
void imap_server_idle_remove(struct imap_sess *ss);
/* A watched folder changed: its IDLE sessions sync soon. */
void imap_server_folder_changed(struct imap_fshared *sh);

/* ---- imap_session.c ---- */
bool imap_sess_accept(struct imap_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit_tls);
/* "TAG OK|NO|BAD text" (tag NULL: "*"); BAD counts against max_errors. */
void imap_reply(struct imap_sess *ss, const char *tag, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void imap_untagged(struct imap_sess *ss, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void imap_send_sbuf(struct imap_sess *ss, struct sbuf *b);
/* BYE text, then close. */
void imap_sess_shutdown(struct imap_sess *ss, const char *bye);
void imap_set_state(struct imap_sess *ss, unsigned state);
const char *imap_who(const struct imap_sess *ss);
void imap_sess_refuse(struct session_call *c, enum session_refusal why);
bool imap_sess_before(struct session_call *c);
/* The capability list for this session's state (no "CAPABILITY" word). */
void imap_capabilities(const struct imap_sess *ss, struct sbuf *b);
/* Write s as an IMAP string: atom (atom_ok), quoted or literal. */
void imap_put_string(struct sbuf *b, const char *s, size_t len, bool atom_ok);
void imap_put_nstring(struct sbuf *b, const char *s);	/* NULL: NIL */

/* ---- imap_cmd_auth.c ---- */
void imap_auth_line(struct imap_sess *ss, const struct session_ev *ev);
void imap_auth_cancel(struct imap_sess *ss);

/* ---- imap_folder.c ---- */
/* A client's mailbox name to the Maildir++ folder (NULL: INBOX). -1 with
 * err for a name we cannot store. */
int imap_folder_name(const char *name, const char **folder, char *err);
int imap_folder_open(struct imap_sess *ss, const char *name, bool readonly,
		     struct imap_folder **out, ik_err *e);
void imap_folder_free(struct imap_folder *f);
/* Rescan and resync the index; with report set, untagged EXPUNGE,
 * EXISTS, RECENT and FETCH FLAGS go out for what changed. */
int imap_folder_sync(struct imap_sess *ss, struct imap_folder *f, bool report, ik_err *e);
/* Whether new/ or cur/ changed since the last sync (cheap: two stats). */
bool imap_folder_changed(const struct imap_folder *f);
/* "(\Seen \Answered ...)" of a message. */
void imap_put_flags(struct sbuf *b, const struct imap_msg *m);
/* Maildir letters <-> IMAP flags. -1: a flag Maildir cannot hold. */
int imap_flags_to_letters(const char *const *flags, size_t n, char *out, size_t outsz);
/* Messages of a sequence or UID set (indexes into f->msgs). */
bool imap_folder_match(const struct imap_folder *f, size_t i, const struct imap_seqset *set,
		       bool uid);
/* The indexes [*from, *to) outside which no message of set lies (a
 * binary search on UIDs): a UID FETCH of one message looks at one. */
void imap_folder_span(const struct imap_folder *f, const struct imap_seqset *set, bool uid,
		      size_t *from, size_t *to);
/* Store a message (LF or CRLF bytes; stored with LF) into a folder with
 * the flag letters and internal date (0: now); *uid: the UID it got
 * (0 when it could not be learned). */
int imap_folder_append(struct imap_sess *ss, const char *folder, const char *data, size_t len,
		       const char *letters, int64_t date, uint32_t *uidvalidity, uint32_t *uid,
		       ik_err *e);
/* Copy message i of the selected folder into folder (a hard link). */
int imap_folder_copy(struct imap_sess *ss, size_t i, const char *folder, uint32_t *uidvalidity,
		     uint32_t *uid, ik_err *e);
/* Read message me whole, CRLF form. */
int imap_folder_read(struct imap_folder *f, struct mailbox_entry *me, struct sbuf *out, ik_err *e);
/* As imap_folder_read; with header_only, reading stops once the header
 * (up to its blank line) is in: out may hold some of the body too. */
int imap_folder_read_part(struct imap_folder *f, struct mailbox_entry *me, bool header_only,
			  struct sbuf *out, ik_err *e);
int64_t imap_folder_mtime(struct imap_folder *f, struct mailbox_entry *me);
/* The folder's shared ENVELOPE/BODYSTRUCTURE/header cache (read from its
 * file on first use); NULL when out of memory. */
struct imap_cache *imap_folder_cache(struct imap_folder *f);
/* The header of message i (CRLF, up to and with its blank line), from the
 * shared cache or read once and cached; NULL when unreadable. */
const char *imap_folder_header(struct imap_folder *f, size_t i, size_t *len);
/* Free the generation's folder states (all unselected by then). */
void imap_folder_free_all(struct imap_server *srv);
/* The modification times of the folder's new/ and cur/ now. */
void imap_folder_dir_mtimes(const struct imap_fshared *sh, struct timespec *n, struct timespec *c);
/* Flag letters as a bit set ('A'..'z'), to compare cheaply. */
uint64_t imap_flag_bits(const char *letters);
/* qsort/bsearch order of uint32_t UIDs. */
int imap_cmp_uid(const void *a, const void *b);

/* ---- imap_cache.c ---- */
struct imap_cache;
struct imap_cache *imap_cache_load(int dirfd);
void imap_cache_free(struct imap_cache *c);
/* ENVELOPE, BODYSTRUCTURE, BODY of the message base: cached, or computed
 * from msg[0, len) (CRLF form) and cached (in the file at the next
 * imap_cache_flush); NULL when not cached and msg is NULL. */
const char *const *imap_cache_get(struct imap_cache *c, int dirfd, const char *base,
				  const char *msg, size_t len);
/* Append what was computed and not yet written to the file: call it
 * before a reply that carries computed values goes out. */
void imap_cache_flush(struct imap_cache *c);
/* The header of base kept in memory (not in the file), or NULL; and
 * keeping one (hdr[0, len), copied). */
const char *imap_cache_header(struct imap_cache *c, const char *base, size_t *len);
void imap_cache_set_header(struct imap_cache *c, const char *base, const char *hdr, size_t len);

/* ---- imap_mime.c ---- */
/* The message msg[0, len) (CRLF form): ENVELOPE / BODYSTRUCTURE (or
 * BODY with ext false), and the bytes of a section. */
int imap_mime_envelope(const char *msg, size_t len, struct sbuf *out);
int imap_mime_bodystructure(const char *msg, size_t len, bool ext, struct sbuf *out);
/* ENVELOPE, BODYSTRUCTURE and BODY of msg from a single parse. */
int imap_mime_all(const char *msg, size_t len, struct sbuf *envelope, struct sbuf *bodystructure,
		  struct sbuf *body);
int imap_mime_section(const char *msg, size_t len, const struct imap_section *sec,
		      struct sbuf *out);
/* The Date: header as seconds since the epoch (-1: none). */
int64_t imap_mime_date(const char *msg, size_t len);
/* A header field named field whose decoded value holds needle (any case). */
bool imap_mime_header_has(const char *msg, size_t len, const char *field, const char *needle);

/* ---- imap_cmd_mbox.c ---- */
/* A mailbox name from the client as it is stored (modified UTF-7): a
 * UTF8=ACCEPT session's UTF-8 converted into buf; else name itself. */
const char *imap_mbox_in(const struct imap_sess *ss, const char *name, char *buf, size_t sz);
/* A stored name as this session is sent it (UTF-8 after UTF8=ACCEPT). */
void imap_put_mbox(struct sbuf *b, const struct imap_sess *ss, const char *name, bool atom_ok);
/* "* VANISHED (EARLIER) uids": the UIDs of known (NULL: all below
 * UIDNEXT) expunged after modseq (RFC 7162 3.2.5.2, 3.2.6); more when the
 * index no longer knows when they went. */
void imap_put_vanished(struct sbuf *b, const struct imap_folder *f,
		       const struct imap_seqset *known, uint64_t modseq);

/* ---- imap_cmd_search_text.c ---- */
/* Could msg[0, len) hold needle once decoded where its raw bytes do not? */
bool imap_search_needs_decoding(const char *msg, size_t len, const char *needle);
/* needle (UTF-8, any case) in the decoded text parts of msg, and with
 * header set in its decoded header fields (SEARCH BODY / TEXT). */
bool imap_search_decoded(const char *msg, size_t len, const char *needle, bool header);

/* ---- imap_keywords.c ---- */
/* The keywords of the Maildir dirfd (none when it has no file); NULL
 * only when out of memory. */
struct imap_keywords *imap_kw_open(int dirfd);
void imap_kw_free(struct imap_keywords *kw);
/* Read the file again if it changed (another session, Dovecot): 1 when
 * the names changed, 0 when not, -1 on an error. */
int imap_kw_load(int dirfd, struct imap_keywords *kw);
int imap_kw_find(const struct imap_keywords *kw, const char *name);	/* index or -1 */
bool imap_kw_full(const struct imap_keywords *kw);
/* Name a new keyword in the file (under its lock): its index, -1. */
int imap_kw_add(int dirfd, struct imap_keywords *kw, const char *name);
/* IMAP flags (system flags and keywords) to Maildir letters, sorted. An
 * unknown keyword is made (create) or skipped. -1 with err ("Invalid
 * flag", "[LIMIT] ..."). */
int imap_flags_letters(int dirfd, struct imap_keywords *kw, const char *const *flags, size_t n,
		       bool create, char *out, size_t outsz, char *err);
/* " name name" of every keyword of kw. */
void imap_kw_put_names(struct sbuf *b, const struct imap_keywords *kw);
/* The names of the keyword letters among letters, space-separated (the
 * file is read again when one has no name). */
void imap_kw_put_letters(struct sbuf *b, struct imap_keywords *kw, const char *letters,
			 bool *first);
/* Does kw name every keyword letter of letters? */
bool imap_kw_knows(const struct imap_keywords *kw, const char *letters);
/* Did the names change since FLAGS last went out (the file is looked at)? */
bool imap_kw_untold(struct imap_keywords *kw);
/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" of the selected folder. */
void imap_put_flag_lists(struct sbuf *b, const struct imap_sess *ss);
/* The flags of a message of the selected folder, keywords included. */
void imap_put_msg_flags(struct sbuf *b, const struct imap_sess *ss, const struct imap_msg *m);
/* Forget the selected folder's keywords (it is closed). */
void imap_kw_drop(struct imap_sess *ss);
/* The letters of a message of a folder with keywords from, as the folder
 * to_dirfd names the same keywords (made there when missing). */
int imap_kw_remap(const struct imap_keywords *from, int to_dirfd, const char *letters, char *out,
		  size_t outsz);
/* A UID set written from ascending UIDs: "3:5,9". With line set, the
 * set is a response line: line, the set, CRLF (nothing when empty). */
struct imap_uidrun {
	struct sbuf *b;
	const char *line;
	uint32_t lo, hi;
	bool any;
};
void imap_uidrun_add(struct imap_uidrun *r, uint32_t uid);
void imap_uidrun_end(struct imap_uidrun *r);

/* ---- handlers ---- */
void imap_cmd_capability(struct session_call *c);
void imap_cmd_noop(struct session_call *c);
void imap_cmd_logout(struct session_call *c);
void imap_cmd_starttls(struct session_call *c);
void imap_cmd_login(struct session_call *c);
void imap_cmd_authenticate(struct session_call *c);
void imap_cmd_id(struct session_call *c);
void imap_cmd_enable(struct session_call *c);
void imap_cmd_namespace(struct session_call *c);
void imap_cmd_select(struct session_call *c);
void imap_cmd_create(struct session_call *c);
void imap_cmd_delete(struct session_call *c);
void imap_cmd_rename(struct session_call *c);
void imap_cmd_subscribe(struct session_call *c);
void imap_cmd_list(struct session_call *c);
void imap_cmd_status(struct session_call *c);
void imap_cmd_append(struct session_call *c);
void imap_cmd_fetch(struct session_call *c);
void imap_cmd_store(struct session_call *c);
void imap_cmd_search(struct session_call *c);
void imap_cmd_copy(struct session_call *c);
void imap_cmd_expunge(struct session_call *c);
void imap_cmd_close(struct session_call *c);
void imap_cmd_check(struct session_call *c);
void imap_cmd_idle(struct session_call *c);

#endif
