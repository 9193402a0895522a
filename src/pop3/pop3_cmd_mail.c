/* The TRANSACTION and UPDATE states (RFC 1939 5 and 6): STAT, LIST,
 * UIDL, RETR, TOP, DELE, RSET, NOOP, and QUIT, which removes the messages
 * marked deleted on the offload pool, then answers and closes. A
 * connection that ends any other way removes nothing.
 *
 * Sizes are the octets sent for a message (CR LF line ends, RFC 1939
 * 11), known from the Maildir names without reading a message. Multi-line
 * replies (LIST, UIDL, RETR, TOP) are produced as the client reads them
 * (the session's drained event refills the output), so neither a large
 * message nor a large maildrop is ever held in memory; RETR and TOP read
 * the file chunk by chunk, with LF turned into CR LF and dot-stuffing
 * done on the way (mailstore/mailbox.h). Reading stops while one is
 * sent: pipelined commands wait their turn. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "core/log.h"
#include "core/offload.h"
#include "lib/str.h"
#include "pop3/pop3_int.h"

enum { OUT_NONE, OUT_LIST, OUT_UIDL, OUT_MSG };

#define FILL_HIGH (128 * 1024)	/* refill up to this much queued */
#define FILL_LOW (32 * 1024)	/* ... when it falls to this */
#define CHUNK 65536

/* ---- offloaded work ---- */

struct pop3_job {
	struct pop3_sess *ps;	/* NULL once the session went */
	void (*work)(void *arg);
	void (*done)(struct pop3_sess *ps, void *arg);
	void *arg;
};

static void job_work(void *arg)
{
	struct pop3_job *j = arg;
	j->work(j->arg);
}

static void job_done(void *arg, enum offload_status st)
{
	(void)st;
	struct pop3_job *j = arg;
	struct pop3_sess *ps = j->ps;
	if (ps != NULL) {
		ps->job = NULL;
		session_resume(ps->s);
	}
	j->done(ps, j->arg);
	free(j);
	if (ps != NULL && ps->stop_pending && ps->job == NULL && ps->out_kind == OUT_NONE)
		pop3_sess_stop(ps);
}

int pop3_job_run(struct pop3_sess *ps, void (*work)(void *arg),
		 void (*done)(struct pop3_sess *ps, void *arg), void *arg)
{
	struct pop3_job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return -1;
	*j = (struct pop3_job){ps, work, done, arg};
	ik_err e;
	if (offload_submit(ps->srv->pool, job_work, job_done, j, &e) < 0) {
		log_event(LOG_WARNING, "pop3_busy", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(ps->s), e.msg);
		free(j);
		return -1;
	}
	ps->job = j;
	session_pause(ps->s);
	return 0;
}

void pop3_job_detach(struct pop3_sess *ps)
{
	if (ps->job != NULL) {
		ps->job->ps = NULL;
		ps->job = NULL;
	}
}

/* ---- the maildrop ---- */

int pop3_drop_take(struct pop3_sess *ps, struct mailbox *mb, struct mailbox_list *l)
{
	struct pop3_drop *d = &ps->drop;
	bool *del = calloc(l->n ? l->n : 1, sizeof *del);
	bool *got = calloc(l->n ? l->n : 1, sizeof *got);
	if (del == NULL || got == NULL) {
		free(del);
		free(got);
		return -1;	/* the caller still owns mb and l */
	}
	d->mb = mb;
	d->list = *l;
	d->deleted = del;
	d->retrieved = got;
	d->live = l->n;
	ps->listed = l->n;
	d->live_octets = 0;
	for (size_t i = 0; i < l->n; i++)
		d->live_octets += l->v[i].vsize;
	return 0;
}

static void drop_free(struct pop3_drop *d)
{
	mailbox_list_free(&d->list);
	mailbox_close(d->mb);
	free(d->deleted);
	free(d->retrieved);
	memset(d, 0, sizeof *d);
}

void pop3_drop_release(struct pop3_sess *ps)
{
	mailbox_read_close(ps->rd);
	ps->rd = NULL;
	drop_free(&ps->drop);
}

/* The message a number names, or NULL after an -ERR. */
static struct mailbox_entry *message(struct pop3_sess *ps, const char *arg, size_t *idx)
{
	uint64_t n;
	if (pop3_parse_msgno(arg, &n) < 0) {
		pop3_err(ps, "Invalid message number '%s'", arg);
		return NULL;
	}
	if (n > ps->drop.list.n) {
		pop3_err(ps, "No such message; the maildrop has %zu", ps->drop.list.n);
		return NULL;
	}
	*idx = (size_t)(n - 1);
	if (ps->drop.deleted[*idx]) {
		pop3_err(ps, "Message %llu is deleted", (unsigned long long)n);
		return NULL;
	}
	return &ps->drop.list.v[*idx];
}

/* ---- multi-line replies, produced as the client reads ---- */

static void out_end(struct pop3_sess *ps)
{
	evbuffer_add(session_output(ps->s), ".\r\n", 3);
	ps->out_kind = OUT_NONE;
	session_flush(ps->s);
	session_resume(ps->s);
	if (ps->stop_pending && ps->job == NULL)
		pop3_sess_stop(ps);
}

static void fill_listing(struct pop3_sess *ps)
{
	struct evbuffer *out = session_output(ps->s);
	const struct pop3_drop *d = &ps->drop;
	while (ps->out_next < d->list.n && evbuffer_get_length(out) < FILL_HIGH) {
		size_t i = ps->out_next++;
		if (d->deleted[i])
			continue;
		if (ps->out_kind == OUT_LIST) {
			evbuffer_add_printf(out, "%zu %llu\r\n", i + 1,
					    (unsigned long long)d->list.v[i].vsize);
		} else {
			char uid[80];
			pop3_uidl_of(d->list.v[i].base, uid, sizeof uid);
			evbuffer_add_printf(out, "%zu %s\r\n", i + 1, uid);
		}
	}
	if (ps->out_next >= d->list.n) {
		out_end(ps);
		return;
	}
	session_flush(ps->s);
	session_notify_drained(ps->s, FILL_LOW);
}

static void fill_message(struct pop3_sess *ps)
{
	struct evbuffer *out = session_output(ps->s);
	while (evbuffer_get_length(out) < FILL_HIGH) {
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(out, CHUNK, &v, 1) < 1) {
			session_close(ps->s, "out of memory while sending a message");
			return;
		}
		size_t n = 0;
		ik_err e;
		int rc = mailbox_read_chunk(ps->rd, v.iov_base, v.iov_len < CHUNK ? v.iov_len : CHUNK,
					    &n, &e);
		v.iov_len = n;
		evbuffer_commit_space(out, &v, 1);
		if (rc < 0) {
			/* Half a message was sent: only closing can say so. */
			log_event(LOG_ERR, "pop3_read_failed", "session=%llu user=%s reason=\"%s\"",
				  (unsigned long long)session_id(ps->s), ps->user, e.msg);
			session_close(ps->s, "message read failed");
			return;
		}
		ps->octets += n;
		if (n == 0) {
			/* RFC 2449 6.7 counts a TOP that gave the whole message
			 * as a download, as RETR. */
			if (ps->rd_top && mailbox_read_whole(ps->rd))
				ps->drop.retrieved[ps->rd_msg] = true;
			mailbox_read_close(ps->rd);
			ps->rd = NULL;
			out_end(ps);
			return;
		}
	}
	session_flush(ps->s);
	session_notify_drained(ps->s, FILL_LOW);
}

void pop3_retr_drained(struct pop3_sess *ps)
{
	if (ps->closing || session_closing(ps->s))
		return;
	if (ps->out_kind == OUT_MSG)
		fill_message(ps);
	else if (ps->out_kind == OUT_LIST || ps->out_kind == OUT_UIDL)
		fill_listing(ps);
}

static void listing(struct session_call *c, int kind)
{
	struct pop3_sess *ps = c->proto;
	const struct pop3_drop *d = &ps->drop;
	if (c->argc == 1) {
		size_t i;
		const struct mailbox_entry *me = message(ps, c->argv[0], &i);
		if (me == NULL)
			return;
		if (kind == OUT_LIST) {
			pop3_ok(ps, "%zu %llu", i + 1, (unsigned long long)me->vsize);
		} else {
			char uid[80];
			pop3_uidl_of(me->base, uid, sizeof uid);
			pop3_ok(ps, "%zu %s", i + 1, uid);
		}
		return;
	}
	if (kind == OUT_LIST)
		pop3_ok(ps, "%llu messages (%llu octets)", (unsigned long long)d->live,
			(unsigned long long)d->live_octets);
	else
		pop3_ok(ps, "Unique-ID listing follows");
	ps->out_kind = kind;
	ps->out_next = 0;
	session_pause(ps->s);
	fill_listing(ps);
}

void pop3_cmd_list(struct session_call *c) { listing(c, OUT_LIST); }
void pop3_cmd_uidl(struct session_call *c) { listing(c, OUT_UIDL); }

void pop3_cmd_stat(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	pop3_ok(ps, "%llu %llu", (unsigned long long)ps->drop.live,
		(unsigned long long)ps->drop.live_octets);
}

static void send_message(struct pop3_sess *ps, size_t i, bool top, uint64_t lines)
{
	struct mailbox_entry *me = &ps->drop.list.v[i];
	struct mailbox_read_opts o = {
		.dot_stuff = true,
		.final_crlf = true,
		.body_lines_limit = top,
		.body_lines = lines,
	};
	ik_err e;
	/* Opening reads no data: the directory entry is in the cache. */
	if (mailbox_read_open(ps->drop.mb, me, &o, &ps->rd, &e) < 0) {
		log_event(LOG_WARNING, "pop3_message_gone", "session=%llu user=%s message=%s "
			  "reason=\"%s\"", (unsigned long long)session_id(ps->s), ps->user, me->base,
			  e.msg);
		pop3_err(ps, "[SYS/PERM] Message %zu was removed by another client", i + 1);
		return;
	}
	if (top) {
		pop3_ok(ps, "Top of message %zu follows", i + 1);
	} else {
		pop3_ok(ps, "%llu octets", (unsigned long long)me->vsize);
		ps->drop.retrieved[i] = true;
		ps->retrieved++;
	}
	ps->rd_msg = i;
	ps->rd_top = top;
	ps->out_kind = OUT_MSG;
	session_pause(ps->s);
	fill_message(ps);
}

void pop3_cmd_retr(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	size_t i;
	if (message(ps, c->argv[0], &i) != NULL)
		send_message(ps, i, false, 0);
}

void pop3_cmd_top(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	size_t i;
	uint64_t lines;
	if (message(ps, c->argv[0], &i) == NULL)
		return;
	if (pop3_parse_lines(c->argv[1], &lines) < 0) {
		pop3_err(ps, "Invalid line count '%s'", c->argv[1]);
		return;
	}
	send_message(ps, i, true, lines);
}

void pop3_cmd_dele(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	size_t i;
	const struct mailbox_entry *me = message(ps, c->argv[0], &i);
	if (me == NULL)
		return;
	ps->drop.deleted[i] = true;
	ps->drop.live--;
	ps->drop.live_octets -= me->vsize;
	pop3_ok(ps, "Message %zu deleted", i + 1);
}

void pop3_cmd_rset(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	struct pop3_drop *d = &ps->drop;
	d->live = d->list.n;
	d->live_octets = 0;
	for (size_t i = 0; i < d->list.n; i++) {
		d->deleted[i] = false;
		d->live_octets += d->list.v[i].vsize;
	}
	pop3_ok(ps, "Maildrop has %llu messages (%llu octets)", (unsigned long long)d->live,
		(unsigned long long)d->live_octets);
}

void pop3_cmd_noop(struct session_call *c)
{
	pop3_send(c->proto, "+OK\r\n", 5);
}

/* ---- QUIT and UPDATE ---- */

struct update_job {
	struct pop3_drop drop;	/* the session's, taken over: it finishes without it */
	int64_t expire_days;	/* the conf's: -1 none, -2 NEVER, 0, N */
	uint64_t removed, failed, expired;
	ik_err e;
};

/* EXPIRE N > 0 (RFC 2449 6.7): a message first retrieved by a session
 * that ended with QUIT at least N days ago is removed now, with those the
 * client deleted; the messages retrieved in this session get their time.
 * A failure here keeps the mail (nothing expires), so it is only logged. */
static int expire_mark(struct update_job *j, int64_t *times, int64_t now, bool *dirty)
{
	struct pop3_drop *d = &j->drop;
	size_t stale;
	if (mailbox_retrieved_load(d->mb, &d->list, times, &stale, &j->e) < 0)
		return -1;
	*dirty = stale > 0;
	int64_t keep = j->expire_days * 86400;
	for (size_t i = 0; i < d->list.n; i++) {
		if (d->deleted[i])
			continue;
		if (times[i] > 0 && now - times[i] >= keep) {
			d->deleted[i] = true;
			j->expired++;
		} else if (times[i] == 0 && d->retrieved[i]) {
			/* The first retrieval starts the period; later ones do
			 * not extend it. */
			times[i] = now;
			*dirty = true;
		}
	}
	return 0;
}

static void update_work(void *arg)
{
	struct update_job *j = arg;
	struct pop3_drop *d = &j->drop;
	int64_t *times = NULL;
	bool dirty = false;
	int64_t now = (int64_t)time(NULL);
	if (j->expire_days > 0) {
		times = calloc(d->list.n ? d->list.n : 1, sizeof *times);
		if (times == NULL || expire_mark(j, times, now, &dirty) < 0) {
			log_event(LOG_ERR, "pop3_expire_failed", "reason=\"%s\"",
				  times == NULL ? "out of memory" : j->e.msg);
			free(times);
			times = NULL;
			j->e.msg[0] = '\0';
		}
	}
	for (size_t i = 0; i < d->list.n; i++) {
		if (!d->deleted[i])
			continue;
		ik_err e;
		if (mailbox_remove(d->mb, &d->list.v[i], &e) < 0) {
			j->failed++;
			j->e = e;
		} else {
			j->removed++;
			if (times != NULL && times[i] != 0) {
				times[i] = 0;
				dirty = true;
			}
		}
	}
	/* As Dovecot does (unless pop3_no_flag_updates): what this session
	 * retrieved and kept is \Seen (the S flag) for IMAP and mutt. A
	 * failure only costs the flag, so it is logged, not reported. */
	uint64_t flagged = 0;
	for (size_t i = 0; i < d->list.n; i++) {
		struct mailbox_entry *me = &d->list.v[i];
		if (!d->retrieved[i] || d->deleted[i] || strchr(me->flags, 'S') != NULL)
			continue;
		/* Added to the flags the file has now: one an IMAP session or
		 * mutt set since the scan is kept. */
		ik_err e = {"too many flags"};
		if (mailbox_change_flags(d->mb, me, "S", "", false, &e) < 0)
			log_event(LOG_WARNING, "pop3_seen_failed", "message=%s reason=\"%s\"", me->base,
				  e.msg);
		else
			flagged++;
	}
	if ((j->removed > 0 || flagged > 0) && mailbox_sync(d->mb, &j->e) < 0)
		j->failed++;
	if (times != NULL && dirty) {
		ik_err e;
		if (mailbox_retrieved_save(d->mb, &d->list, times, &e) < 0)
			log_event(LOG_ERR, "pop3_expire_failed", "reason=\"%s\"", e.msg);
	}
	free(times);
}

static void update_done(struct pop3_sess *ps, void *arg)
{
	struct update_job *j = arg;
	if (j->failed > 0)
		log_event(LOG_ERR, "pop3_update_failed", "removed=%llu failed=%llu reason=\"%s\"",
			  (unsigned long long)j->removed, (unsigned long long)j->failed, j->e.msg);
	if (ps != NULL) {
		ps->deleted = j->removed;
		ps->expired = j->expired;
		ps->result = j->failed > 0 ? "update failed" : "quit";
		char line[200];
		if (j->failed > 0)
			str_fmt(line, sizeof line, "-ERR [SYS/TEMP] %llu deleted messages could not "
				"be removed", (unsigned long long)j->failed);
		else
			str_fmt(line, sizeof line, "+OK inetkit POP3 server signing off (%llu "
				"messages deleted)", (unsigned long long)j->removed);
		pop3_shutdown(ps, line, ps->result);
	}
	drop_free(&j->drop);	/* and the lock with it, after the removals */
	free(j);
}

void pop3_cmd_quit(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	if (ps->state == POP3_ST_AUTH) {
		ps->result = "quit";
		pop3_shutdown(ps, "+OK inetkit POP3 server signing off", "quit");
		return;
	}
	struct update_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		pop3_shutdown(ps, "-ERR [SYS/TEMP] Out of memory; nothing was deleted", "update failed");
		return;
	}
	struct pop3_drop *d = &ps->drop;
	/* RFC 2449 6.7: EXPIRE 0 means a retrieved message is deleted. */
	j->expire_days = ps->srv->conf->expire_days;
	if (j->expire_days == 0)
		for (size_t i = 0; i < d->list.n; i++)
			d->deleted[i] |= d->retrieved[i];
	j->drop = *d;
	memset(d, 0, sizeof *d);
	if (pop3_job_run(ps, update_work, update_done, j) < 0) {
		drop_free(&j->drop);
		free(j);
		pop3_shutdown(ps, "-ERR [SYS/TEMP] Server busy; nothing was deleted", "update failed");
	}
}
