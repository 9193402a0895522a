/* The reading side of `inetkit mail`: POP3 (RFC 1939, RFC 2449 CAPA,
 * RFC 2595 STLS) and IMAP (RFC 3501, RFC 2595 STARTTLS) sessions over the
 * client core (core/client.h, blocking driver), a Maildir writer for
 * fetched messages and the fetch journal (mail_state.c). */
#ifndef INETKIT_MAIL_MAIL_FETCH_H
#define INETKIT_MAIL_MAIL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "core/client.h"
#include "lib/error.h"
#include "mail/mail.h"

#define MAIL_MSG_MAX (256ull * 1024 * 1024)	/* one fetched message */

/* ---- the journal (mail_state.c) ---- */
struct fetch_state {
	int md;			/* the Maildir */
	int fd;			/* the journal, O_APPEND */
	char path[300];		/* relative to md */
	GHashTable *done;	/* keys copied */
	size_t recovered;	/* "?" lines found done at open */
};
/* id names the source ("pop3 alice@host:110"); settles what a crash left. */
int fetch_state_open(struct fetch_state *st, int md, const char *id, ik_err *e);
bool fetch_state_has(const struct fetch_state *st, const char *key);
struct maildir_msg;
/* "KIND KEY NAME" for each message, one write and one fdatasync; '+'
 * also marks the keys done. sub: the Maildir++ folder the messages go
 * to, relative to st->md ("" for the top): NAME is then "SUB/NAME". */
int fetch_state_record(struct fetch_state *st, char kind, const char *sub,
		       struct maildir_msg *const *msgs, size_t n, ik_err *e);
/* Rewrite atomically with the keys keep() accepts (keep NULL: all). */
int fetch_state_rewrite(struct fetch_state *st, bool (*keep)(const char *key, void *arg),
			void *arg, ik_err *e);
void fetch_state_close(struct fetch_state *st);

/* ---- a batch of messages into a Maildir (mail_fetch.c) ---- */
struct maildir_msg {
	char key[700];		/* the journal's */
	uint64_t id;		/* POP3 message number, IMAP UID */
	uint64_t size_hint;	/* the server's size, for the progress bar */
	char name[256];		/* tmp/NAME */
	int fd;
	uint64_t size;		/* bytes written (LF line ends) */
	bool held_cr;
	bool got;		/* the whole message arrived (its file closed) */
	bool placed;		/* renamed into new/ or cur/ */
	char flags[16];		/* Maildir letters; "" goes to new/ */
	char final[320];	/* its name in new/ or cur/ */
};
struct fetch_batch {
	int md;
	const char *sub;	/* md's Maildir++ folder below the journal's ("" or ".A") */
	struct fetch_state *st;
	struct maildir_msg *v;
	size_t n, cap;
	size_t cur;		/* the message the sink writes to */
	/* IMAP: where the UID of the FETCH being read is, so that the sink's
	 * begin picks that message */
	const uint64_t *id_src;
};
/* Messages per batch: a batch costs four flushes (mail_state.c) and, over
 * IMAP, one round trip, whatever its size; its files are opened one at a
 * time (at their first byte) and closed at their end, so a batch holds
 * one descriptor, not one per message. 10,000 messages: 10 batches. */
#define FETCH_BATCH_MAX 1024
void fetch_batch_init(struct fetch_batch *b, int md, const char *sub, struct fetch_state *st);
int fetch_batch_add(struct fetch_batch *b, const char *key, uint64_t id, uint64_t size_hint,
		    ik_err *e);
/* Journal the batch ("?"), then make its tmp/ files. */
int fetch_batch_start(struct fetch_batch *b, ik_err *e);
/* A client core sink writing the network's CR LF text as LF into message
 * i; i = SIZE_MAX: each literal goes to the message whose id *b->id_src
 * names when it begins (IMAP, many messages in one FETCH). */
void fetch_batch_sink(struct fetch_batch *b, size_t i, struct client_sink *s);
/* Flush, place the messages that arrived, flush, journal ("+"); the
 * others' tmp/ files are removed. *got += how many were placed. */
int fetch_batch_commit(struct fetch_batch *b, size_t *got, ik_err *e);
/* Remove every tmp/ file, forget the batch (also after a commit). */
void fetch_batch_reset(struct fetch_batch *b);
void fetch_batch_free(struct fetch_batch *b);

/* ---- a session (mail_fetch.c opens; mail_pop3.c, mail_imap.c speak) ---- */
struct mail_session {
	struct client *c;
	struct client_reply r;
	SSL_CTX *ctx;
	int proto;			/* enum mail_proto */
	char host[MAIL_HOST_MAX];
	uint16_t port;
	char user[256];
	bool trace;
	/* IMAP */
	uint64_t uidvalidity;
	uint64_t exists;
	GPtrArray *list;		/* untagged results a command collects */
	struct sbuf fetch_text;		/* the current FETCH response, literals left out */
	char fetch_flags[64];		/* Maildir letters of its FLAGS */
	uint64_t fetch_uid;
	uint64_t fetch_size;		/* RFC822.SIZE */
	uint64_t fetch_seq;		/* the message number of "* n FETCH" */
	bool fetch_has_flags;
	bool cap_starttls, cap_logindisabled;
	bool cap_pipelining;		/* POP3 PIPELINING (RFC 2449) */
	/* IMAP: called after each FETCH line or segment is parsed */
	void (*on_fetch)(struct mail_session *s, void *arg);
	void *on_fetch_arg;
	bool tagged_ok;			/* the last tagged reply was OK */
};

/* Connect, TLS (implicit, or STARTTLS/STLS unless --no-tls), log in. */
int mail_session_open(struct mail_session *s, const struct mail_cli *c, int proto, ik_err *e);
/* Log out (QUIT/LOGOUT) and free. Safe on a session that failed to open. */
void mail_session_close(struct mail_session *s);

/* POP3 (mail_pop3.c) */
int pop3_greeting_login(struct mail_session *s, bool implicit, bool tls, const char *pass,
			ik_err *e);
int pop3_fetch(struct mail_session *s, const struct mail_cli *c, int md, struct fetch_state *st,
	       bool del, size_t *got, ik_err *e);
int pop3_quit(struct mail_session *s, ik_err *e);
extern const struct client_dialect pop3_client_dialect;
/* The POP3 status rule, exported for the unit tests and the fuzzer:
 * 1 for "+OK", 0 for "-ERR", -1 for anything else. */
int pop3_status(const char *line, size_t len);
/* One line of a UIDL or LIST body: "N TOKEN"; 0, or -1 when malformed. */
int pop3_parse_pair(const char *line, size_t len, uint64_t *n, char *tok, size_t toksz);

/* IMAP (mail_imap.c) */
int imap_greeting_login(struct mail_session *s, bool implicit, bool tls, const char *pass,
			ik_err *e);
/* Every selectable folder (LIST "" "*"); names malloc'ed in *out. */
int imap_folders(struct mail_session *s, GPtrArray *out, ik_err *e);
/* md: the folder's local Maildir, sub its name below the journal's
 * Maildir ("" for INBOX). */
int imap_fetch_folder(struct mail_session *s, const struct mail_cli *c, const char *folder,
		      int md, const char *sub, struct fetch_state *st, size_t *got, ik_err *e);
int imap_logout(struct mail_session *s, ik_err *e);
extern const struct client_dialect imap_client_dialect;
/* The IMAP untagged-line parser the hook uses, exported for the unit
 * tests and the fuzzer: 0 (taken or ignored), -1 (a protocol error). */
int imap_client_line(struct mail_session *s, struct client_reply *r, const char *line,
		     size_t len, ik_err *e);
/* IMAP flags ("\\Seen \\Answered") to Maildir letters (sorted). */
void imap_flags_to_maildir(const char *flags, char *out, size_t outsz);
/* IMAP folder name to its Maildir++ folder below root: "" for INBOX,
 * ".A.B" for "A/B" (hierarchy separator sep). -1 for a name that cannot
 * be a directory ("..", a '/' once mapped). */
int imap_folder_local(const char *name, char sep, char *out, size_t outsz);

#endif
