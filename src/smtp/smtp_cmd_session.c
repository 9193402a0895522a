/* The session commands: EHLO, HELO, RSET, NOOP, QUIT, VRFY, HELP and
 * STARTTLS. RFC 5321 4.1.1.1 (EHLO/HELO: a new greeting also resets the
 * transaction), 4.1.1.5 RSET, 4.1.1.9 NOOP, 4.1.1.10 QUIT, 3.5.3 and 7.3
 * (VRFY: 252 tells nothing about who exists), 4.1.1.8 HELP; RFC 3207 4.2
 * (after the handshake the session starts again from nothing: no greeting,
 * no transaction, no AUTH). */
#include <string.h>

#include "core/log.h"
#include "lib/str.h"
#include "smtp/smtp_int.h"

/* A client's name for itself: kept for the Received: header and the log,
 * so only printable ASCII without spaces (RFC 5321 4.1.1.1 asks for a
 * domain or an address literal; as Postfix, anything printable is taken). */
static bool greeting_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SMTP_HOSTNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool greet(struct session_call *c, bool esmtp)
{
	struct smtp_sess *ss = c->proto;
	if (!greeting_name_ok(c->argv[0])) {
		smtp_send(ss, 501, "5.5.4", "Syntax: %s hostname (a domain name or an address "
			  "literal such as [192.0.2.1])", esmtp ? "EHLO" : "HELO");
		return false;
	}
	smtp_txn_free(ss);
	str_copy(ss->helo, sizeof ss->helo, c->argv[0]);
	ss->esmtp = esmtp;
	smtp_set_state(ss, SMTP_ST_READY);
	return true;
}

void smtp_cmd_ehlo(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	if (!greet(c, true))
		return;
	const struct smtp_conf *conf = ss->srv->conf;
	bool tls = session_is_tls(ss->s);
	struct smtp_ehlo_offer o = {
		.hostname = conf->hostname,
		.greeting = ss->helo,
		.max_size = (unsigned long long)conf->max_size,
		.starttls = !tls && conf->ssl != NULL,
		/* RFC 4954 4: offered only when it may be used now. */
		.auth = ss->srv->auth != NULL && ss->user[0] == '\0' &&
			(tls || (ss->role == SMTP_ROLE_MTA && conf->auth_plaintext)),
	};
	struct sbuf b = SBUF_INIT(2048);
	smtp_ehlo_reply(&b, &o);
	smtp_send_sbuf(ss, &b);
}

void smtp_cmd_helo(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	if (greet(c, false))
		smtp_send(ss, 250, NULL, "%s", ss->srv->conf->hostname);
}

void smtp_cmd_rset(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	smtp_txn_free(ss);
	smtp_set_state(ss, smtp_idle_state(ss));
	smtp_send(ss, 250, "2.0.0", "Ok");
}

void smtp_cmd_noop(struct session_call *c)
{
	smtp_send(c->proto, 250, "2.0.0", "Ok");
}

void smtp_cmd_quit(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	smtp_sess_shutdown(ss, "221 2.0.0 Bye");
}

void smtp_cmd_vrfy(struct session_call *c)
{
	smtp_send(c->proto, 252, "2.0.0", "Cannot VRFY user, but will accept message and "
		  "attempt delivery");
}

void smtp_cmd_helpv(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	struct sbuf b = SBUF_INIT(2048);
	smtp_help_reply(&b, c->arg);
	smtp_send_sbuf(ss, &b);
}

void smtp_cmd_starttls(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	SSL_CTX *ctx = ss->srv->conf->ssl;
	if (ctx == NULL) {
		smtp_send(ss, 454, "4.7.0", "TLS not available");
		return;
	}
	smtp_send(ss, 220, "2.0.0", "Ready to start TLS");
	/* What the client pipelined behind STARTTLS is dropped by the core
	 * (CVE-2011-0411): it never runs. */
	ik_err e;
	if (session_starttls(ss->s, ctx, &e) < 0) {
		log_event(LOG_ERR, "smtp_starttls_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), e.msg);
		smtp_sess_shutdown(ss, "454 4.7.0 TLS not available now; closing");
		return;
	}
	/* RFC 3207 4.2: forget everything learnt in plaintext. */
	smtp_txn_free(ss);
	ss->helo[0] = '\0';
	ss->esmtp = false;
	ss->user[0] = '\0';
	session_set_login(ss->s, false);
	smtp_set_state(ss, SMTP_ST_CONNECTED);
}
