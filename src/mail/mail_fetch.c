/* `inetkit mail fetch`: new mail from a POP3 server (UIDL, RFC 1939 7) or
 * from IMAP folders (UID, RFC 3501 2.3.1.1) into a local Maildir, through
 * mailstore's tmp/ -> new/ (or cur/ with the IMAP flags) with fsync, the
 * journal of mail_state.c making it idempotent and resumable. Also opens
 * the sessions every reading verb uses: connect, TLS (RFC 8314 implicit
 * on 993/995, else RFC 2595 STARTTLS/STLS, required unless --no-tls),
 * log in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/fsutil.h"
#include "core/term.h"
#include "lib/str.h"
#include "mail/mail_fetch.h"
#include "mailstore/mailstore.h"

/* The message's tmp/ file, made at its first byte (a batch holds one
 * open at a time; msg_end closes it). */
static int msg_file(struct fetch_batch *b, struct maildir_msg *m, ik_err *e)
{
	if (m->fd < 0 && (m->fd = maildir_tmp_open(b->md, m->name, e)) < 0)
		return -1;
	return 0;
}

/* CR LF -> LF as the Maildir format stores it (a CR alone stays). */
static int msg_write(void *arg, const void *p, size_t n, ik_err *e)
{
	struct fetch_batch *b = arg;
	if (b->cur >= b->n)
		return ik_err_set(e, "internal: no message to write to");
	struct maildir_msg *m = &b->v[b->cur];
	if (msg_file(b, m, e) < 0)
		return -1;
	char out[8192 + 1];
	const char *in = p;
	size_t i = 0;
	while (i < n) {
		size_t o = 0;
		if (m->held_cr) {
			if (in[i] != '\n')
				out[o++] = '\r';
			m->held_cr = false;
		}
		for (; i < n && o < sizeof out - 1; i++) {
			if (in[i] == '\r') {
				if (i + 1 == n) {
					m->held_cr = true;
					i++;
					break;
				}
				if (in[i + 1] == '\n')
					continue;
			}
			out[o++] = in[i];
		}
		if (m->size + o > MAIL_MSG_MAX)
			return ik_err_set(e, "a message larger than %llu bytes",
					  (unsigned long long)MAIL_MSG_MAX);
		if (fs_write_all(m->fd, out, o) < 0)
			return ik_err_errno(e, errno, "writing tmp/%s", m->name);
		m->size += o;
	}
	return 0;
}

static int msg_begin(void *arg, uint64_t size, ik_err *e)
{
	(void)size;
	struct fetch_batch *b = arg;
	b->cur = SIZE_MAX;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].id == *b->id_src && !b->v[i].got) {
			b->cur = i;
			break;
		}
	if (b->cur == SIZE_MAX)
		return ik_err_set(e, "the server sent a message body for UID %llu, which was "
				  "not asked for (or before its UID)",
				  (unsigned long long)*b->id_src);
	return 0;
}

static int msg_end(void *arg, ik_err *e)
{
	struct fetch_batch *b = arg;
	if (b->cur >= b->n)
		return 0;
	struct maildir_msg *m = &b->v[b->cur];
	/* an empty message has had no write: its file is made here */
	if (msg_file(b, m, e) < 0)
		return -1;
	if (m->held_cr) {
		m->held_cr = false;
		if (write(m->fd, "\r", 1) != 1)
			return ik_err_errno(e, errno, "writing tmp/%s", m->name);
		m->size++;
	}
	/* flushed with the batch (syncfs), so closed now: one descriptor at
	 * a time whatever the batch's size */
	close(m->fd);
	m->fd = -1;
	m->got = true;
	return 0;
}

void fetch_batch_init(struct fetch_batch *b, int md, const char *sub, struct fetch_state *st)
{
	memset(b, 0, sizeof *b);
	b->md = md;
	b->sub = sub;
	b->st = st;
	b->cur = SIZE_MAX;
}

int fetch_batch_add(struct fetch_batch *b, const char *key, uint64_t id, uint64_t size_hint,
		    ik_err *e)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct maildir_msg *v = realloc(b->v, cap * sizeof *v);
		if (!v)
			return ik_err_set(e, "out of memory");
		b->v = v;
		b->cap = cap;
	}
	struct maildir_msg *m = &b->v[b->n];
	memset(m, 0, sizeof *m);
	m->fd = -1;
	m->id = id;
	m->size_hint = size_hint;
	if (str_copy(m->key, sizeof m->key, key) < 0)
		return ik_err_set(e, "fetch state: key too long");
	if (maildir_tmp_name(m->name, sizeof m->name, e) < 0)
		return -1;
	b->n++;
	return 0;
}

int fetch_batch_start(struct fetch_batch *b, ik_err *e)
{
	struct maildir_msg *ptrs[FETCH_BATCH_MAX];
	if (b->n > FETCH_BATCH_MAX)
		return ik_err_set(e, "internal: batch too large");
	for (size_t i = 0; i < b->n; i++)
		ptrs[i] = &b->v[i];
	/* the names are journaled before the files exist: a kill at any
	 * point leaves nothing in tmp/ that the next run does not settle */
	return fetch_state_record(b->st, '?', b->sub, ptrs, b->n, e);
}

void fetch_batch_sink(struct fetch_batch *b, size_t i, struct client_sink *s)
{
	memset(s, 0, sizeof *s);
	if (i != SIZE_MAX)
		b->cur = i;
	else
		s->begin = msg_begin;
	s->write = msg_write;
	s->end = msg_end;
	s->arg = b;
	s->fd = -1;
	s->max = MAIL_MSG_MAX;
}

int fetch_batch_commit(struct fetch_batch *b, size_t *got, ik_err *e)
{
	struct maildir_msg *ptrs[FETCH_BATCH_MAX];
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].got)
			ptrs[n++] = &b->v[i];
	if (n > 0) {
		if (maildir_sync_all(b->md, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			struct maildir_msg *m = ptrs[i];
			if (maildir_tmp_place(b->md, m->name, m->size, m->flags[0] ? m->flags : NULL,
					      m->final, sizeof m->final, e) < 0)
				return -1;
			m->placed = true;
		}
		if (maildir_sync_all(b->md, e) < 0 ||
		    fetch_state_record(b->st, '+', b->sub, ptrs, n, e) < 0)
			return -1;
	}
	*got += n;
	fetch_batch_reset(b);
	return 0;
}

void fetch_batch_reset(struct fetch_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct maildir_msg *m = &b->v[i];
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		/* not in new/ or cur/: its tmp/ file, if made, goes (its "?"
		 * in the journal is settled by the next run in any case) */
		if (!m->placed)
			maildir_tmp_discard(b->md, m->name);
	}
	b->n = 0;
	b->cur = SIZE_MAX;
}

void fetch_batch_free(struct fetch_batch *b)
{
	fetch_batch_reset(b);
	free(b->v);
	b->v = NULL;
	b->cap = 0;
}

int mail_session_open(struct mail_session *s, const struct mail_cli *c, int proto, ik_err *e)
{
	memset(s, 0, sizeof *s);
	s->proto = proto;
	s->trace = c->trace;
	client_reply_init(&s->r);
	sbuf_init(&s->fetch_text, 1024 * 1024);
	bool implicit;
	if (mail_server_for(c, false, proto, s->host, sizeof s->host, &s->port, &implicit, e) < 0)
		return -1;
	char pass[512];
	if (mail_credentials(c, s->host, s->user, sizeof s->user, pass, sizeof pass, e) < 0)
		return -1;
	if (!s->user[0]) {
		explicit_bzero(pass, sizeof pass);
		return ik_err_set(e, "no user: give --user or an account with user");
	}
	bool tls = mail_tls_on(c);
	if (tls && !(s->ctx = mail_tls_ctx(c, e))) {
		explicit_bzero(pass, sizeof pass);
		return ik_err_prefix(e, "TLS");
	}
	struct client_opts co;
	client_opts_default(&co);
	co.family = c->family;
	co.connect_timeout_ms = c->connect_timeout_ms;
	co.reply_timeout_ms = c->timeout_ms;
	co.max_reply = 64 * 1024 * 1024;	/* a UIDL of a big mailbox */
	co.max_line = 1024 * 1024;		/* a SEARCH of one, on one line */
	co.max_literal = MAIL_MSG_MAX;
	co.trace = c->trace ? stderr : NULL;
	s->c = client_new(proto == MAIL_PROTO_POP3 ? &pop3_client_dialect : &imap_client_dialect,
			  s, &co);
	if (!s->c) {
		explicit_bzero(pass, sizeof pass);
		return ik_err_set(e, "out of memory");
	}
	int rc = client_connect(s->c, s->host, s->port, e);
	if (rc == 0 && implicit) {
		client_trace_note(s->c, "step: TLS (implicit: encrypted from the first byte)");
		rc = client_starttls(s->c, s->ctx, !c->insecure && !(c->have_acct && c->acct.insecure),
				     e);
	}
	if (rc == 0)
		rc = proto == MAIL_PROTO_POP3 ? pop3_greeting_login(s, implicit, tls, pass, e)
					      : imap_greeting_login(s, implicit, tls, pass, e);
	explicit_bzero(pass, sizeof pass);
	return rc;
}

void mail_session_close(struct mail_session *s)
{
	if (s->c) {
		client_conn_close(client_connection(s->c), 1000);
		client_free(s->c);
	}
	s->c = NULL;
	client_reply_free(&s->r);
	sbuf_free(&s->fetch_text);
	if (s->list)
		g_ptr_array_free(s->list, TRUE);
	s->list = NULL;
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	s->ctx = NULL;
}

static int fetch_protocol(const struct mail_cli *c)
{
	if (c->protocol != MAIL_PROTO_UNSET)
		return c->protocol;
	return c->have_acct ? c->acct.protocol : MAIL_PROTO_IMAP;
}

int mail_cmd_fetch(struct mail_cli *c)
{
	ik_err e = {0};
	const char *dir = c->maildir ? c->maildir : c->have_acct ? c->acct.maildir : NULL;
	if (!dir)
		return cli_usage_error("mail", "no Maildir: give --maildir DIR or an account with "
				       "maildir");
	int proto = fetch_protocol(c);
	if (proto == MAIL_PROTO_POP3 && (c->folder.n || c->all_folders))
		return cli_usage_error("mail", "--folder and --all-folders are IMAP's");
	if (proto == MAIL_PROTO_IMAP && c->delete_)
		return cli_usage_error("mail", "--delete is POP3's (IMAP fetch keeps the mail)");
	int md = maildir_path_open(dir, &e);
	if (md < 0)
		return cli_error("mail", CLI_FAIL, "%s", e.msg);
	struct mail_session s;
	int rc = CLI_FAIL;
	size_t got = 0;
	struct fetch_state st = {.fd = -1};
	if (mail_session_open(&s, c, proto, &e) < 0)
		goto out;
	char id[600];
	/* not the port: the same mailbox over STARTTLS and implicit TLS */
	str_fmt(id, sizeof id, "%s-%s@%s", proto == MAIL_PROTO_POP3 ? "pop3" : "imap", s.user,
		s.host);
	if (fetch_state_open(&st, md, id, &e) < 0)
		goto out;
	if (proto == MAIL_PROTO_POP3) {
		if (pop3_fetch(&s, c, md, &st, c->delete_, &got, &e) < 0 || pop3_quit(&s, &e) < 0)
			goto out;
	} else {
		GPtrArray *folders = g_ptr_array_new_with_free_func(g_free);
		int frc = 0;
		if (c->all_folders)
			frc = imap_folders(&s, folders, &e);
		else if (c->folder.n == 0)
			g_ptr_array_add(folders, g_strdup("INBOX"));
		for (size_t i = 0; i < c->folder.n; i++)
			g_ptr_array_add(folders, g_strdup(c->folder.v[i]));
		for (guint i = 0; frc == 0 && i < folders->len; i++) {
			char local[512];
			if (imap_folder_local(folders->pdata[i], '/', local, sizeof local) < 0) {
				frc = ik_err_set(&e, "folder '%s': not a usable name",
						 (char *)folders->pdata[i]);
				break;
			}
			int fmd = md;
			if (local[0]) {
				char path[4096];
				str_fmt(path, sizeof path, "%s/%s", dir, local);
				fmd = maildir_path_open(path, &e);
				if (fmd < 0) {
					frc = -1;
					break;
				}
			}
			frc = imap_fetch_folder(&s, c, folders->pdata[i], fmd, local, &st, &got, &e);
			if (fmd != md)
				close(fmd);
		}
		g_ptr_array_free(folders, TRUE);
		if (frc < 0 || imap_logout(&s, &e) < 0)
			goto out;
	}
	if (fetch_state_rewrite(&st, NULL, NULL, &e) < 0)
		goto out;
	if (!c->quiet)
		printf("fetched %zu new message%s into %s\n", got, got == 1 ? "" : "s", dir);
	rc = CLI_OK;
out:
	if (rc != CLI_OK) {
		char safe[sizeof e.msg];
		cli_error("mail", CLI_FAIL, "%s%s", term_safe_copy(safe, sizeof safe, e.msg),
			  got ? " (what was fetched before is kept)" : "");
	}
	fetch_state_close(&st);
	mail_session_close(&s);
	close(md);
	return rc;
}
