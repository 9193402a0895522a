/* DATA and BDAT: the message into the spool, then delivery on the offload
 * pool, then 250 — never before its own message is on disk.
 *
 * RFC 5321 4.1.1.4 (DATA, 354, the CRLF.CRLF end; the core's data mode
 * unstuffs dots and reports bare CR, bare LF and NUL, which RFC 5321 2.3.8
 * forbids: refused with 550 5.6.11 and the whole message discarded, or,
 * with bare_newline = normalize, turned into line ends), 4.4 (trace
 * headers: Return-Path and Received, RFC 3848 and RFC 6531 3.7.3 for the
 * "with" types), 4.5.3.1.7 and RFC 1870 (size: 552 5.3.4), RFC 3030
 * (BDAT chunks, LAST; a refused chunk is read and dropped, never run as
 * commands), RFC 3463 (4.2.2 / 5.2.2 mailbox full, 4.3.0 temporary).
 *
 * Durable before acknowledged: the spool file is written on the loop (page
 * cache only); then, on the server's pool, it is fsync'ed once, linked
 * into each local mailbox's new/ (one file, hard links) and into the
 * queue for the other domains, each directory fsync'ed, and only when all
 * of it is done does the loop send "250 2.0.0 Ok: queued as ID". The
 * session is paused meanwhile. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/offload.h"
#include "core/timeutil.h"
#include "lib/str.h"
#include "core/metrics.h"
#include "smtp/smtp_int.h"

enum body_kind { BODY_DATA = 1, BODY_BDAT, BODY_DISCARD };

/* A message being delivered off the loop: what it needs, copied out of
 * the transaction, so that the session may go meanwhile. */
struct smtp_job {
	struct smtp_sess *ss;		/* NULL once the session is gone */
	struct smtp_server *srv;
	struct mail_spool *sp;
	char **local;			/* unique mailbox names */
	uint64_t *quota;
	size_t nlocal;
	struct smtp_envelope env;	/* the queue's, when there are remote recipients */
	uint64_t size;
	uint64_t session;
	/* the answer */
	int code;
	char enh[16];
	char text[300];
	char err[IK_ERR_MAX];
	/* for the log */
	char id[MAILSTORE_ID_MAX];
	char *from, *to;
	size_t nrcpt;
	char tls[96], auth[ACCOUNT_NAME_MAX + 1];
};

/* ---- the trace headers (RFC 5321 4.4) ---- */

/* "Tue, 1 Jul 2025 12:00:00 +0200" (RFC 5322 3.3), in local time. */
static void rfc5322_date(char *out, size_t outsz)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	str_fmt(out, outsz, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
		tm.tm_mday, time_month_abbr(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		tm.tm_sec, sign, off / 60, off % 60);
}

/* RFC 3848 / RFC 6531 3.7.3: ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP... */
static void with_type(const struct smtp_sess *ss, char *out, size_t outsz)
{
	bool tls = ss->tls_info[0] != '\0', auth = ss->user[0] != '\0';
	const char *base = ss->txn->mail.smtputf8 ? "UTF8SMTP" : ss->esmtp || tls || auth ? "ESMTP"
			   : "SMTP";
	str_fmt(out, outsz, "%s%s%s", base, tls ? "S" : "", auth ? "A" : "");
}

static int write_trace(struct smtp_sess *ss, ik_err *e)
{
	struct smtp_txn *t = ss->txn;
	const struct smtp_conf *c = ss->srv->conf;
	struct sbuf b = SBUF_INIT(4096);
	char with[16], date[64], ip[80];
	with_type(ss, with, sizeof with);
	rfc5322_date(date, sizeof date);
	str_fmt(ip, sizeof ip, strchr(ss->host, ':') != NULL ? "IPv6:%s" : "%s", ss->host);
	sbuf_printf(&b, "Return-Path: <%s>\n", t->mail.from.addr);
	sbuf_printf(&b, "Received: from %s ([%s])\n\tby %s (inetkit) with %s id %s", ss->helo, ip,
		    c->hostname, with, t->id);
	if (ss->tls_info[0] != '\0')
		sbuf_printf(&b, "\n\t(%s)", ss->tls_info);
	if (ss->user[0] != '\0')
		sbuf_printf(&b, "\n\t(authenticated as %s)", ss->user);
	if (t->nrcpt == 1)
		sbuf_printf(&b, "\n\tfor <%s>", t->rcpt[0].env.addr);
	sbuf_printf(&b, ";\n\t%s\n", date);
	int rc = mail_spool_put(t->spool, b.data, b.len, e);
	sbuf_free(&b);
	return rc;
}

/* The spool file and its trace headers, at DATA or the first BDAT. */
static int start_message(struct smtp_sess *ss)
{
	struct smtp_txn *t = ss->txn;
	ik_err e;
	t->spool = mail_spool_new(ss->srv->store, &e);
	if (t->spool != NULL)
		str_copy(t->id, sizeof t->id, mail_spool_id(t->spool));
	if (t->spool == NULL || write_trace(ss, &e) < 0) {
		log_event(LOG_ERR, "smtp_spool_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), e.msg);
		mail_spool_free(t->spool);
		t->spool = NULL;
		return -1;
	}
	return 0;
}

/* ---- the body ---- */

/* bare_newline = normalize: every CRLF, bare CR and bare LF becomes one LF
 * (a CR at the end of a chunk waits for the next). */
static int put_normalized(struct smtp_txn *t, const char *p, size_t n, ik_err *e)
{
	char out[8192];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k + 2 > sizeof out) {
			if (mail_spool_put(t->spool, out, k, e) < 0)
				return -1;
			k = 0;
		}
		char ch = p[i];
		if (t->pending_cr) {
			t->pending_cr = false;
			out[k++] = '\n';
			if (ch == '\n')
				continue;
		}
		if (ch == '\r')
			t->pending_cr = true;
		else
			out[k++] = ch;
	}
	return k > 0 ? mail_spool_put(t->spool, out, k, e) : 0;
}

void smtp_data_body(struct smtp_sess *ss, const char *p, size_t n)
{
	struct smtp_txn *t = ss->txn;
	if (t == NULL || t->spool == NULL || t->write_failed ||
	    (ss->body_kind != BODY_DATA && ss->body_kind != BODY_BDAT))
		return;
	ik_err e;
	int rc = ss->body_kind == BODY_DATA && ss->srv->conf->bare_newline == SMTP_BARE_NORMALIZE
		 ? put_normalized(t, p, n, &e) : mail_spool_put_crlf(t->spool, p, n, &e);
	if (rc < 0) {
		t->write_failed = true;
		log_event(LOG_ERR, "smtp_spool_failed", "session=%llu id=%s reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), t->id, e.msg);
	}
}

/* ---- the message log line: no body, no header ---- */

static char *rcpt_list(const struct smtp_txn *t)
{
	struct sbuf b = SBUF_INIT(1024);
	for (size_t i = 0; i < t->nrcpt; i++)
		if (sbuf_printf(&b, "%s%s", i ? "," : "", t->rcpt[i].env.addr) < 0)
			break;
	char *s = strdup(sbuf_cstr(&b));
	sbuf_free(&b);
	return s;
}

static void log_message(uint64_t session, const char *id, const char *from, size_t nrcpt,
			const char *to, uint64_t size, const char *tls, const char *auth,
			const char *result, const char *reason)
{
	char qf[SMTP_PATH_MAX * 2], qt[1100], qr[IK_ERR_MAX + 200], qtls[128];
	log_quote(qf, sizeof qf, from[0] ? from : "<>");
	log_quote(qt, sizeof qt, to != NULL ? to : "-");
	log_quote(qr, sizeof qr, reason != NULL ? reason : "-");
	log_quote(qtls, sizeof qtls, tls[0] ? tls : "no");
	log_event(LOG_INFO, "smtp_message", "session=%llu id=%s from=%s nrcpt=%zu to=%s "
		  "size=%" PRIu64 " tls=%s auth=%s result=%s reason=%s", (unsigned long long)session,
		  id[0] ? id : "-", qf, nrcpt, qt, size, qtls, auth[0] ? auth : "-", result, qr);
}

/* The message is refused after its body: the reply, the log, and the
 * transaction is over (RFC 5321 4.1.1.4: a new one starts with MAIL). */
static void refuse_message(struct smtp_sess *ss, int code, const char *enh, const char *text)
{
	struct smtp_txn *t = ss->txn;
	char *to = rcpt_list(t);
	log_message(session_id(ss->s), t->id, t->mail.from.addr, t->nrcpt, to,
		    t->spool != NULL ? mail_spool_size(t->spool) : 0, ss->tls_info, ss->user,
		    "refused", text);
	free(to);
	smtp_txn_free(ss);
	smtp_set_state(ss, smtp_idle_state(ss));
	smtp_send(ss, code, enh, "%s", text);
}

/* ---- delivery, off the loop ---- */

static void job_free(struct smtp_job *j)
{
	mail_spool_free(j->sp);
	for (size_t i = 0; i < j->nlocal; i++)
		free(j->local[i]);
	free(j->local);
	free(j->quota);
	smtp_envelope_clear(&j->env);
	free(j->from);
	free(j->to);
	free(j);
}

static int job_fail(struct smtp_job *j, int code, const char *enh, const char *text,
		    const ik_err *e)
{
	j->code = code;
	str_copy(j->enh, sizeof j->enh, enh);
	str_copy(j->text, sizeof j->text, text);
	if (e != NULL)
		str_copy(j->err, sizeof j->err, e->msg);
	return -1;
}

/* Blocking, on a pool thread: nothing here touches the session. */
static int deliver(struct smtp_job *j)
{
	ik_err e = {""};
	struct mailstore *ms = j->srv->store;
	if (mail_spool_sync(j->sp, &e) < 0)
		return job_fail(j, 451, "4.3.0", "Error: the message could not be stored; try again "
				"later", &e);
	/* Quotas first, so that nobody gets the message unless everybody can. */
	for (size_t i = 0; i < j->nlocal; i++) {
		if (j->quota[i] == 0)
			continue;
		uint64_t used, msgs;
		if (mailstore_usage(ms, j->local[i], &used, &msgs, &e) < 0)
			return job_fail(j, 451, "4.3.0", "Error: the message could not be stored; "
					"try again later", &e);
		if (j->size > j->quota[i]) {
			str_fmt(j->text, sizeof j->text, "Error: mailbox of %s is full: the message "
				"is bigger than its quota", j->local[i]);
			return job_fail(j, 552, "5.2.2", j->text, NULL);
		}
		/* Permanent, as Dovecot and Postfix answer by default: a sender
		 * retrying for days would mostly fill the queue, and the bounce
		 * tells a human why. A mailbox already full is 452 at RCPT. */
		if (used + j->size > j->quota[i]) {
			str_fmt(j->text, sizeof j->text, "Error: mailbox of %s is full: the message "
				"would take it over its quota", j->local[i]);
			return job_fail(j, 552, "5.2.2", j->text, NULL);
		}
	}
	for (size_t i = 0; i < j->nlocal; i++) {
		bool over = false;
		if (mailstore_deliver(ms, j->sp, j->local[i], 0, &over, &e) < 0)
			return job_fail(j, 451, "4.3.0", "Error: the message could not be stored; "
					"try again later", &e);
	}
	if (j->env.nrcpt > 0 && smtp_queue_add(j->srv->queue, ms, j->sp, &j->env, &e) < 0)
		return job_fail(j, 451, "4.3.0", "Error: the message could not be queued; try "
				"again later", &e);
	mail_spool_free(j->sp);	/* its links stay */
	j->sp = NULL;
	j->code = 250;
	return 0;
}

static void job_work(void *arg)
{
	deliver(arg);
}

static void job_done(void *arg, enum offload_status st)
{
	struct smtp_job *j = arg;
	if (st != OFFLOAD_DONE)
		job_fail(j, 451, "4.3.0", "Error: server shutting down; try again later", NULL);
	bool ok = j->code == 250;
	if (ok) {
		metrics_add("smtp", METRIC_MESSAGES_ACCEPTED, 1);
		metrics_add("smtp", METRIC_MESSAGES_DELIVERED, (int64_t)j->nlocal);
	}
	log_message(j->session, j->id, j->from, j->nrcpt, j->to, j->size, j->tls, j->auth,
		    ok ? "queued" : j->ss == NULL ? "failed, client gone" : "failed",
		    ok ? (j->ss == NULL ? "client gone before the reply" : NULL)
		    : j->err[0] ? j->err : j->text);
	struct smtp_sess *ss = j->ss;
	if (ss != NULL) {
		ss->job = NULL;
		session_resume(ss->s);
		if (ok) {
			ss->messages++;
			smtp_send(ss, 250, "2.0.0", "Ok: queued as %s", j->id);
		} else {
			smtp_send(ss, j->code, j->enh, "%s", j->text);
		}
		if (ss->quit_pending) {
			char text[SMTP_HOSTNAME_MAX + 64];
			str_fmt(text, sizeof text, "421 4.3.2 %s Service shutting down; closing",
				ss->srv->conf->hostname);
			smtp_sess_shutdown(ss, text);
		}
	}
	job_free(j);
}

void smtp_job_detach(struct smtp_sess *ss)
{
	if (ss->job != NULL) {
		ss->job->ss = NULL;
		ss->job = NULL;
	}
}

static bool has(char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static int dup_or_null(char **out, const char *s)
{
	*out = NULL;
	return s == NULL || (*out = strdup(s)) != NULL ? 0 : -1;
}

/* What the job needs, copied out of the transaction: unique mailboxes,
 * unique remote recipients with their DSN data, the envelope. */
static int job_fill(struct smtp_job *j, struct smtp_sess *ss)
{
	const struct smtp_txn *t = ss->txn;
	size_t maxl = 0, maxr = 0;
	for (size_t i = 0; i < t->nrcpt; i++) {
		maxl += t->rcpt[i].nlocal;
		maxr += t->rcpt[i].nremote;
	}
	j->local = calloc(maxl + 1, sizeof *j->local);
	j->quota = calloc(maxl + 1, sizeof *j->quota);
	j->env.rcpt = calloc(maxr + 1, sizeof *j->env.rcpt);
	if (j->local == NULL || j->quota == NULL || j->env.rcpt == NULL)
		return -1;
	for (size_t i = 0; i < t->nrcpt; i++) {
		const struct smtp_rcpt *r = &t->rcpt[i];
		for (size_t k = 0; k < r->nlocal; k++) {
			if (has(j->local, j->nlocal, r->local[k]))
				continue;
			if ((j->local[j->nlocal] = strdup(r->local[k])) == NULL)
				return -1;
			j->quota[j->nlocal++] = r->quota[k];
		}
		for (size_t k = 0; k < r->nremote; k++) {
			bool seen = false;
			for (size_t m = 0; m < j->env.nrcpt && !seen; m++)
				seen = strcmp(j->env.rcpt[m].addr, r->remote[k]) == 0;
			if (seen)
				continue;
			struct smtp_env_rcpt *er = &j->env.rcpt[j->env.nrcpt];
			if ((er->addr = strdup(r->remote[k])) == NULL)
				return -1;
			j->env.nrcpt++;
			er->notify = r->env.notify;
			/* ORCPT names what the client gave: the address itself, not
			 * an alias's target. */
			if (r->nremote == 1 && r->nlocal == 0 &&
			    dup_or_null(&er->orcpt, r->env.orcpt) < 0)
				return -1;
		}
	}
	const struct smtp_mail_args *m = &t->mail;
	str_copy(j->env.id, sizeof j->env.id, t->id);
	j->env.ret = m->ret;
	j->env.body = m->body;
	j->env.smtputf8 = m->smtputf8;
	j->env.arrival = (int64_t)time(NULL);
	j->env.size = j->size;
	if (dup_or_null(&j->env.from, m->from.addr) < 0 ||
	    dup_or_null(&j->env.envid, m->envid[0] ? m->envid : NULL) < 0 ||
	    dup_or_null(&j->env.auth_user, ss->user[0] ? ss->user : NULL) < 0 ||
	    dup_or_null(&j->env.client, session_peer(ss->s)) < 0 ||
	    dup_or_null(&j->env.helo, ss->helo) < 0 ||
	    dup_or_null(&j->env.tls, ss->tls_info[0] ? ss->tls_info : NULL) < 0 ||
	    dup_or_null(&j->from, m->from.addr) < 0 || (j->to = rcpt_list(t)) == NULL)
		return -1;
	j->nrcpt = t->nrcpt;
	str_copy(j->id, sizeof j->id, t->id);
	str_copy(j->tls, sizeof j->tls, ss->tls_info);
	str_copy(j->auth, sizeof j->auth, ss->user);
	return 0;
}

/* The body is complete and acceptable: deliver it off the loop. */
static void start_delivery(struct smtp_sess *ss)
{
	struct smtp_txn *t = ss->txn;
	struct smtp_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		refuse_message(ss, 451, "4.3.0", "Error: out of memory; try again later");
		return;
	}
	j->srv = ss->srv;
	j->ss = ss;
	j->session = session_id(ss->s);
	j->size = mail_spool_size(t->spool);
	if (job_fill(j, ss) < 0) {
		job_free(j);
		refuse_message(ss, 451, "4.3.0", "Error: out of memory; try again later");
		return;
	}
	/* The spool is the job's now; the transaction is over. */
	j->sp = t->spool;
	t->spool = NULL;
	ik_err e;
	if (offload_submit(ss->srv->pool, job_work, job_done, j, &e) < 0) {
		t->spool = j->sp;
		j->sp = NULL;
		job_free(j);
		refuse_message(ss, 451, "4.3.0", "Error: server busy; try again later");
		return;
	}
	ss->job = j;
	smtp_txn_free(ss);
	smtp_set_state(ss, smtp_idle_state(ss));
	session_pause(ss->s);
}

/* ---- the end of a body ---- */

static void data_timeouts(struct smtp_sess *ss, bool reading)
{
	const struct smtp_conf *c = ss->srv->conf;
	session_set_idle_timeout(ss->s, reading ? c->data_ms : c->command_ms);
}

/* The checks every message passes after its last byte (DATA or BDAT
 * LAST), then delivery. */
static void finish_message(struct smtp_sess *ss, const struct session_body *b, bool data)
{
	struct smtp_txn *t = ss->txn;
	const struct smtp_conf *c = ss->srv->conf;
	char text[200];
	if (b->flags & SESSION_BODY_TOO_BIG) {
		str_fmt(text, sizeof text, "Error: message too big: the limit is %llu bytes",
			(unsigned long long)c->max_size);
		refuse_message(ss, 552, "5.3.4", text);
	} else if (b->flags & SESSION_BODY_NUL) {
		refuse_message(ss, 550, "5.6.11", "NUL byte in message: message refused "
			       "(RFC 5321 2.3.8)");
	} else if (data && (b->flags & (SESSION_BODY_BARE_CR | SESSION_BODY_BARE_LF)) &&
		   c->bare_newline == SMTP_BARE_REJECT) {
		refuse_message(ss, 550, "5.6.11", "Bare CR or LF in message: message refused "
			       "(RFC 5321 2.3.8)");
	} else if (t->write_failed || t->spool == NULL) {
		refuse_message(ss, 451, "4.3.0", "Error: the message could not be stored; try "
			       "again later");
	} else {
		start_delivery(ss);
	}
}

/* The end of a dropped BDAT chunk: its reply; LAST ends a failed
 * transaction. */
static void discard_end(struct smtp_sess *ss)
{
	struct smtp_reply r = ss->body_reply;
	if (ss->body_last || ss->txn == NULL) {
		smtp_txn_free(ss);
		smtp_set_state(ss, smtp_idle_state(ss));
	}
	smtp_send_reply(ss, &r);
}

void smtp_data_end(struct smtp_sess *ss, const struct session_body *b)
{
	int kind = ss->body_kind;
	ss->body_kind = 0;
	if (ss->closing)
		return;
	data_timeouts(ss, false);
	if (kind == BODY_DISCARD) {
		discard_end(ss);
		return;
	}
	struct smtp_txn *t = ss->txn;
	if (kind == BODY_DATA) {
		finish_message(ss, b, true);
		return;
	}
	/* A BDAT chunk: NUL bytes are counted by the core, the rest is ours. */
	t->bdat_size += b->size;
	if (b->flags & SESSION_BODY_NUL)
		t->bdat_failed = true;
	if (ss->body_last) {
		struct session_body all = {.size = t->bdat_size,
					   .flags = t->bdat_failed ? SESSION_BODY_NUL : 0};
		finish_message(ss, &all, false);
		return;
	}
	if (t->bdat_failed) {
		/* Reported now; the chunks that follow are dropped. */
		smtp_send(ss, 550, "5.6.11", "NUL byte in message: message refused (RFC 5321 "
			  "2.3.8); send RSET");
		return;
	}
	smtp_send(ss, 250, "2.0.0", "Ok: %llu octets received",
		  (unsigned long long)b->size);
}

void smtp_cmd_data(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	if (start_message(ss) < 0) {
		refuse_message(ss, 451, "4.3.0", "Error: the message cannot be stored now; try "
			       "again later");
		return;
	}
	smtp_send(ss, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	ss->body_kind = BODY_DATA;
	data_timeouts(ss, true);
	session_read_data(ss->s, ss->srv->conf->max_size);
}

/* Read a chunk's n bytes and drop them; r is the reply at its end. */
static void discard_chunk(struct smtp_sess *ss, uint64_t n, bool last, const struct smtp_reply *r)
{
	ss->body_kind = BODY_DISCARD;
	ss->body_last = last;
	ss->body_reply = *r;
	data_timeouts(ss, true);
	session_discard_counted(ss->s, n);
}

/* "n" or "n LAST" (RFC 3030 2: BDAT SP chunk-size [ SP end-marker ]). */
static int bdat_args(char *arg, uint64_t *n, bool *last)
{
	char *size = arg;
	while (*size == ' ')
		size++;
	char *rest = str_split(size, ' ');
	*last = false;
	if (rest != NULL) {
		while (*rest == ' ')
			rest++;
		char *more = str_split(rest, ' ');
		while (more != NULL && *more == ' ')
			more++;
		if ((more != NULL && *more != '\0') || !str_eq_nocase(rest, "LAST"))
			return -1;
		*last = true;
	}
	return str_to_u64(size, UINT64_MAX, n);
}

void smtp_cmd_bdat(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	const struct smtp_conf *conf = ss->srv->conf;
	uint64_t n;
	bool last;
	if (bdat_args(c->arg, &n, &last) < 0) {
		/* Where its chunk ends is unknown: the bytes that follow cannot
		 * be told from commands. The session ends here. */
		smtp_sess_shutdown(ss, "501 5.5.4 Syntax: BDAT chunk-size [LAST]; closing");
		return;
	}
	struct smtp_reply r;
	if (ss->state != SMTP_ST_RCPT && ss->state != SMTP_ST_BDAT) {
		/* Out of sequence: the table's wording, and the chunk dropped. */
		struct session_call seq = *c;
		seq.state = ss->state;
		smtp_cmd_refusal_reply(&seq, SESSION_REFUSE_STATE, &r);
		if (ss->state == SMTP_ST_MAIL && ss->txn != NULL && ss->txn->rcpt_tried > 0)
			smtp_reply_set(&r, 554, "5.5.1", "Error: no valid recipients");
		discard_chunk(ss, n, false, &r);
		return;
	}
	struct smtp_txn *t = ss->txn;
	if (t->bdat_failed) {
		smtp_reply_set(&r, 503, "5.5.1", "Error: the message was refused; send RSET");
		discard_chunk(ss, n, last, &r);
		return;
	}
	if (n > conf->max_size || t->bdat_size + n > conf->max_size) {
		t->bdat_failed = true;
		smtp_reply_set(&r, 552, "5.3.4", "Error: message too big: the limit is %llu bytes",
			       (unsigned long long)conf->max_size);
		smtp_set_state(ss, SMTP_ST_BDAT);
		discard_chunk(ss, n, last, &r);
		return;
	}
	if (t->spool == NULL && start_message(ss) < 0) {
		t->bdat_failed = true;
		smtp_reply_set(&r, 451, "4.3.0", "Error: the message cannot be stored now; try "
			       "again later");
		smtp_set_state(ss, SMTP_ST_BDAT);
		discard_chunk(ss, n, last, &r);
		return;
	}
	ik_err e;
	if (session_read_counted(ss->s, n, 0, &e) < 0) {
		smtp_reply_set(&r, 451, "4.3.0", "Error: %s", e.msg);
		discard_chunk(ss, n, last, &r);
		return;
	}
	smtp_set_state(ss, SMTP_ST_BDAT);
	ss->body_kind = BODY_BDAT;
	ss->body_last = last;
	data_timeouts(ss, true);
}
