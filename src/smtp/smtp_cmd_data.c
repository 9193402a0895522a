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
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/offload.h"
#include "core/timeutil.h"
#include "lib/str.h"
#include "mailauth/mailauth.h"
#include "mailauth/mailauth_dns.h"
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
	/* DKIM signing (authenticated users, a local From domain) */
	bool sign;
	char dkim_domain[256];		/* signed for, or "" */
	char dkim_err[IK_ERR_MAX];	/* why signing failed, or "" */
	/* inbound checks (the listen role): the message read once, checked,
	 * then written back with its Authentication-Results header */
	bool verify;
	struct sbuf msg;		/* the spooled text */
	struct mauth_msg *mm;		/* its DKIM signatures, hashed */
	struct mauth_check *check;	/* the DNS part, under way */
	bool in_start, check_over;
	struct mauth_result res;
	char *ip, *helo;
	char ar[2048];			/* the header, "" until checked */
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
	mauth_check_cancel(j->check);
	mauth_msg_free(j->mm);
	sbuf_free(&j->msg);
	free(j->ip);
	free(j->helo);
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

/* The end of our own trace fields (Return-Path, Received) at the top of
 * msg: a signature goes after them, where a header added later would. */
static size_t after_trace(const char *msg, size_t len)
{
	size_t off = 0;
	for (int i = 0; i < 2 && off < len; i++) {
		const char *want = i == 0 ? "Return-Path:" : "Received:";
		if (len - off < strlen(want) || strncasecmp(msg + off, want, strlen(want)) != 0)
			break;
		/* The field ends at a line end not followed by white space. */
		for (;;) {
			const char *nl = memchr(msg + off, '\n', len - off);
			off = nl != NULL ? (size_t)(nl - msg) + 1 : len;
			if (off >= len || (msg[off] != ' ' && msg[off] != '\t'))
				break;
		}
	}
	return off;
}

/* Blocking: sign the spooled message with the server's DKIM key when its
 * From domain is a local one (RFC 6376; relaxed/relaxed). A failure is
 * logged and the message goes unsigned: never lost for want of a
 * signature. */
static void dkim_sign_job(struct smtp_job *j)
{
	const struct smtp_conf *c = j->srv->conf;
	struct sbuf msg = SBUF_INIT(c->max_size + 65536), out = SBUF_INIT(c->max_size + 131072);
	ik_err e = {""};
	char dom[256];
	if (mail_spool_read_all(j->sp, &msg, &e) < 0) {
		str_copy(j->dkim_err, sizeof j->dkim_err, e.msg);
	} else if (mauth_from_domain(msg.data, msg.len, dom, sizeof dom) == 0 &&
		   smtp_conf_local_domain(c, dom)) {
		struct dkim_sign_opts o = {dom, c->dkim_selector, DKIM_RELAXED, DKIM_RELAXED,
					   (int64_t)time(NULL)};
		size_t off = after_trace(msg.data, msg.len);
		if (sbuf_add(&out, msg.data, off) < 0 ||
		    dkim_sign(c->dkim, &o, msg.data, msg.len, &out, &e) < 0 ||
		    sbuf_add(&out, msg.data + off, msg.len - off) < 0 ||
		    mail_spool_replace(j->sp, out.data, out.len, &e) < 0) {
			str_copy(j->dkim_err, sizeof j->dkim_err, e.msg[0] ? e.msg : "out of memory");
		} else {
			str_copy(j->dkim_domain, sizeof j->dkim_domain, dom);
			j->size = j->env.size = mail_spool_size(j->sp);
		}
	}
	sbuf_free(&msg);
	sbuf_free(&out);
}

/* Whether field f (at its start) is an Authentication-Results field that
 * names our authserv-id: RFC 8601 5 has such fields from outside removed,
 * as a forged result would be read as ours. */
static bool forged_ar(const char *f, size_t len, const char *id)
{
	static const char name[] = "authentication-results:";
	size_t n = sizeof name - 1, idl = strlen(id);
	if (len < n || strncasecmp(f, name, n) != 0)
		return false;
	size_t p = n;
	while (p < len && (f[p] == ' ' || f[p] == '\t' || f[p] == '\n' || f[p] == '\r'))
		p++;
	return len - p >= idl && strncasecmp(f + p, id, idl) == 0 &&
	       (len - p == idl || f[p + idl] == ';' || f[p + idl] == ' ' ||
		f[p + idl] == '\t' || f[p + idl] == '\n' || f[p + idl] == '\r');
}

/* Blocking: the spool becomes trace fields, our Authentication-Results,
 * then the message without fields that claim to be ours. */
static int put_auth_results(struct smtp_job *j, ik_err *e)
{
	const char *m = j->msg.data;
	size_t len = j->msg.len, off = after_trace(m, len);
	struct sbuf out = SBUF_INIT(len + sizeof j->ar + 16);
	int rc = sbuf_add(&out, m, off);
	if (rc == 0)
		rc = sbuf_addstr(&out, j->ar);
	/* The header fields: copied one by one, forged results left out. */
	size_t p = off;
	while (rc == 0 && p < len) {
		if (m[p] == '\n') {	/* the empty line: the body follows as it is */
			break;
		}
		size_t q = p;
		for (;;) {
			const char *nl = memchr(m + q, '\n', len - q);
			q = nl != NULL ? (size_t)(nl - m) + 1 : len;
			if (q >= len || (m[q] != ' ' && m[q] != '\t'))
				break;
		}
		if (!forged_ar(m + p, q - p, j->srv->conf->hostname))
			rc = sbuf_add(&out, m + p, q - p);
		p = q;
	}
	if (rc == 0)
		rc = sbuf_add(&out, m + p, len - p);
	if (rc < 0)
		ik_err_set(e, "out of memory");
	else
		rc = mail_spool_replace(j->sp, out.data, out.len, e);
	if (rc == 0)
		j->size = j->env.size = mail_spool_size(j->sp);
	sbuf_free(&out);
	return rc;
}

/* Blocking, on a pool thread: nothing here touches the session. */
static int deliver(struct smtp_job *j)
{
	ik_err e = {""};
	struct mailstore *ms = j->srv->store;
	/* The results first: the signature (an authenticated user on port 25)
	 * is made over the text as it is stored. */
	if (j->ar[0] != '\0' && put_auth_results(j, &e) < 0)
		return job_fail(j, 451, "4.3.0", "Error: the message could not be stored; try again "
				"later", &e);
	if (j->sign)
		dkim_sign_job(j);
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
	if (j->dkim_domain[0] != '\0')
		log_event(LOG_INFO, "smtp_dkim_signed", "session=%llu id=%s d=%s s=%s",
			  (unsigned long long)j->session, j->id, j->dkim_domain,
			  j->srv->conf->dkim_selector);
	if (j->dkim_err[0] != '\0') {
		char q[IK_ERR_MAX + 8];
		log_quote(q, sizeof q, j->dkim_err);
		log_event(LOG_WARNING, "smtp_dkim_failed", "session=%llu id=%s reason=%s",
			  (unsigned long long)j->session, j->id, q);
	}
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

/* ---- the inbound checks: read (pool), DNS (loop), then delivery ---- */

static void check_read(void *arg)
{
	struct smtp_job *j = arg;
	ik_err e = {""};
	sbuf_init(&j->msg, j->srv->conf->max_size + 65536);
	if (mail_spool_read_all(j->sp, &j->msg, &e) < 0 ||
	    (j->mm = mauth_msg_prepare(j->msg.data, j->msg.len, &e)) == NULL)
		job_fail(j, 451, "4.3.0", "Error: the message could not be stored; try again later",
			 &e);
}

/* A delivery that cannot go on: its answer now. */
static void job_end_now(struct smtp_job *j)
{
	job_done(j, OFFLOAD_DONE);
}

static void checked(struct smtp_job *j)
{
	const struct smtp_conf *c = j->srv->conf;
	struct sbuf ar = SBUF_INIT(sizeof j->ar - 1);
	if (mauth_ar_format(c->hostname, &j->res, &ar) == 0)
		str_copy(j->ar, sizeof j->ar, sbuf_cstr(&ar));
	sbuf_free(&ar);
	char q[200];
	log_quote(q, sizeof q, j->res.from_domain[0] ? j->res.from_domain : "-");
	log_event(LOG_INFO, "smtp_auth", "session=%llu id=%s spf=%s dkim=%s dmarc=%s from=%s",
		  (unsigned long long)j->session, j->id, mauth_res_name(j->res.spf),
		  j->res.ndkim == 0 ? "none" : mauth_res_name(j->res.dkim[0].res),
		  mauth_res_name(j->res.dmarc), q);
	if (c->dmarc_enforce && j->res.reject) {
		/* RFC 7489 6.7 and 10.3: refused at the end of DATA, with the reason. */
		str_fmt(j->text, sizeof j->text, "Message rejected: it fails the DMARC policy "
			"(p=reject) of %s", j->res.from_domain);
		j->code = 550;
		str_copy(j->enh, sizeof j->enh, "5.7.1");
		job_end_now(j);
		return;
	}
	ik_err e;
	if (offload_submit(j->srv->pool, job_work, job_done, j, &e) < 0) {
		job_fail(j, 451, "4.3.0", "Error: server busy; try again later", &e);
		job_end_now(j);
	}
}

static void check_done(void *arg, const struct mauth_result *r)
{
	struct smtp_job *j = arg;
	j->check = NULL;
	j->res = *r;
	if (j->in_start) {
		j->check_over = true;	/* mauth_check_start goes on with it */
		return;
	}
	checked(j);
}

static void check_read_done(void *arg, enum offload_status st)
{
	struct smtp_job *j = arg;
	if (st != OFFLOAD_DONE || j->ss == NULL || j->code != 0) {
		job_done(j, st);
		return;
	}
	struct mauth_dns dns;
	mauth_dns_on_core(&dns, j->srv->dns);
	struct mauth_input in = {j->ip, j->helo, j->from, j->mm, arc4random_uniform(100)};
	struct mauth_check *chk = NULL;
	ik_err e;
	j->in_start = true;
	int rc = mauth_check_start(&dns, &in, check_done, j, &chk, &e);
	j->in_start = false;
	if (rc < 0) {
		job_fail(j, 451, "4.3.0", "Error: out of memory; try again later", &e);
		job_end_now(j);
	} else if (j->check_over) {
		checked(j);
	} else {
		j->check = chk;
	}
}

void smtp_job_detach(struct smtp_sess *ss)
{
	struct smtp_job *j = ss->job;
	if (j == NULL)
		return;
	j->ss = NULL;
	ss->job = NULL;
	if (j->check != NULL) {
		/* Waiting for DNS: nothing of it was acknowledged; it ends here. */
		job_fail(j, 451, "4.3.0", "client gone during the checks", NULL);
		job_end_now(j);
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
	j->sign = ss->user[0] != '\0' && ss->srv->conf->dkim != NULL;
	j->verify = ss->role == SMTP_ROLE_MTA && ss->srv->dns != NULL;
	if (j->verify && ((j->ip = strdup(ss->host)) == NULL || (j->helo = strdup(ss->helo)) == NULL))
		return -1;
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
	if (offload_submit(ss->srv->pool, j->verify ? check_read : job_work,
			   j->verify ? check_read_done : job_done, j, &e) < 0) {
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
