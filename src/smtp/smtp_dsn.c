/* Building RFC 3464 delivery status notifications (see smtp_dsn.h). */
#include <string.h>
#include <time.h>

#include "lib/str.h"
#include "smtp/smtp_dsn.h"

int smtp_dsn_wanted(const struct smtp_envelope *env, const struct smtp_env_rcpt *r,
		    enum smtp_dsn_action a)
{
	if (env->from == NULL || env->from[0] == '\0')
		return 0;
	unsigned nt = r->notify;
	if (nt & SMTP_NOTIFY_NEVER)
		return 0;
	switch (a) {
	case SMTP_DSN_FAILED: return nt == 0 || (nt & SMTP_NOTIFY_FAILURE);
	case SMTP_DSN_DELAYED: return nt == 0 || (nt & SMTP_NOTIFY_DELAY);
	case SMTP_DSN_DELIVERED: return (nt & SMTP_NOTIFY_SUCCESS) != 0;
	}
	return 0;
}

static void date822(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* A header or field value: control bytes (a remote's reply could hold
 * anything) become spaces, so that no value starts a new field. */
static void put_clean(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		sbuf_addch(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

static const char *action_word(enum smtp_dsn_action a)
{
	return a == SMTP_DSN_FAILED ? "failed" : a == SMTP_DSN_DELAYED ? "delayed" : "delivered";
}

int smtp_dsn_build(const struct smtp_dsn *d, struct sbuf *out, ik_err *e)
{
	const struct smtp_envelope *env = d->env;
	enum smtp_dsn_action kind = d->n ? d->rcpt[0].action : SMTP_DSN_FAILED;
	for (size_t i = 0; i < d->n; i++)
		if (d->rcpt[i].action == SMTP_DSN_FAILED)
			kind = SMTP_DSN_FAILED;
	char date[64], arrival[64], until[64];
	date822(d->now, date, sizeof date);
	date822(env->arrival, arrival, sizeof arrival);
	date822(d->retry_until, until, sizeof until);
	const char *subject = kind == SMTP_DSN_FAILED ? "Undelivered Mail Returned to Sender"
			      : kind == SMTP_DSN_DELAYED ? "Delayed Mail (still being retried)"
			      : "Successful Mail Delivery Report";
	sbuf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", d->hostname);
	sbuf_addstr(out, "To: <");
	put_clean(out, env->from);
	sbuf_addstr(out, ">\n");
	sbuf_printf(out, "Subject: %s\nDate: %s\nMessage-ID: <%s.%s@%s>\n", subject, date,
		    env->id, d->boundary, d->hostname);
	sbuf_addstr(out, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n");
	sbuf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
		    "\tboundary=\"%s\"\n\n", d->boundary);
	sbuf_addstr(out, "This is a MIME-encapsulated message.\n\n");
	/* 1: for people */
	sbuf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n\n", d->boundary);
	sbuf_printf(out, "This is the mail system at %s.\n\n", d->hostname);
	if (kind == SMTP_DSN_FAILED)
		sbuf_addstr(out, "Your message could not be delivered to one or more recipients.\n"
			    "It is attached below.\n\n");
	else if (kind == SMTP_DSN_DELAYED)
		sbuf_printf(out, "Your message could not be delivered yet. The mail system will "
			    "keep trying until %s.\nYou do not need to send it again.\n\n", until);
	else
		sbuf_addstr(out, "Your message was delivered to the recipients below.\n\n");
	for (size_t i = 0; i < d->n; i++) {
		const struct smtp_dsn_rcpt *r = &d->rcpt[i];
		sbuf_addstr(out, "<");
		put_clean(out, r->rcpt->addr);
		sbuf_printf(out, ">: %s", action_word(r->action));
		if (r->diag) {
			sbuf_addstr(out, ": ");
			put_clean(out, r->diag);
		}
		sbuf_addch(out, '\n');
	}
	sbuf_addch(out, '\n');
	/* 2: for programs (RFC 3464 2.2, 2.3) */
	sbuf_printf(out, "--%s\nContent-Type: message/delivery-status\n\n", d->boundary);
	sbuf_printf(out, "Reporting-MTA: dns; %s\n", d->hostname);
	if (env->envid) {
		sbuf_addstr(out, "Original-Envelope-Id: ");
		put_clean(out, env->envid);
		sbuf_addch(out, '\n');
	}
	sbuf_printf(out, "Arrival-Date: %s\n", arrival);
	for (size_t i = 0; i < d->n; i++) {
		const struct smtp_dsn_rcpt *r = &d->rcpt[i];
		sbuf_addstr(out, "\nFinal-Recipient: rfc822; ");
		put_clean(out, r->rcpt->addr);
		sbuf_addch(out, '\n');
		if (r->rcpt->orcpt) {
			sbuf_addstr(out, "Original-Recipient: ");
			put_clean(out, r->rcpt->orcpt);
			sbuf_addch(out, '\n');
		}
		sbuf_printf(out, "Action: %s\nStatus: %s\n", action_word(r->action), r->status);
		if (r->remote) {
			char host[256];
			const char *sp = strchr(r->remote, ' ');
			size_t l = sp ? (size_t)(sp - r->remote) : strlen(r->remote);
			if (l >= sizeof host)
				l = sizeof host - 1;
			memcpy(host, r->remote, l);
			host[l] = '\0';
			sbuf_addstr(out, "Remote-MTA: dns; ");
			put_clean(out, host);
			sbuf_addch(out, '\n');
		}
		if (r->diag) {
			sbuf_addstr(out, "Diagnostic-Code: smtp; ");
			put_clean(out, r->diag);
			sbuf_addch(out, '\n');
		}
		sbuf_printf(out, "Last-Attempt-Date: %s\n", date);
		if (r->action == SMTP_DSN_DELAYED)
			sbuf_printf(out, "Will-Retry-Until: %s\n", until);
	}
	sbuf_addch(out, '\n');
	/* 3: the message, or its header (RFC 3461 4.3) */
	bool hdrs = env->ret == SMTP_RET_HDRS || kind != SMTP_DSN_FAILED;
	const char *m = d->message ? d->message : "";
	size_t ml = d->message ? d->message_len : 0;
	if (hdrs) {
		const char *end = NULL;
		for (size_t i = 0; i + 1 < ml; i++)
			if (m[i] == '\n' && m[i + 1] == '\n') {
				end = m + i + 1;
				break;
			}
		ml = end ? (size_t)(end - m) : ml;
	}
	sbuf_printf(out, "--%s\nContent-Type: %s\n\n", d->boundary,
		    hdrs ? "text/rfc822-headers" : "message/rfc822");
	sbuf_add(out, m, ml);
	if (ml > 0 && m[ml - 1] != '\n')
		sbuf_addch(out, '\n');
	if (sbuf_printf(out, "\n--%s--\n", d->boundary) < 0)
		return ik_err_set(e, "the delivery report is too large");
	return 0;
}
