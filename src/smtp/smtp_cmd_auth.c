/* AUTH (RFC 4954) with the SASL mechanisms PLAIN (RFC 4616) and LOGIN:
 * core/sasl turns the client's lines into credentials, the session's SASL
 * mode reads them (never logged, wiped after use), core/account checks
 * them on its pool (service "smtp": app passwords for smtp work; the
 * failure delay and the lockouts are the accounts module's).
 *
 * Replies (RFC 4954 6, RFC 3463): 334 challenge, 235 2.7.0 success, 535
 * 5.7.8 bad credentials, 454 4.7.0 temporary failure, 501 5.5.2 a
 * response that cannot be decoded, 501 5.7.0 cancelled with "*", 504
 * 5.5.4 an unknown mechanism, 503 5.5.1 AUTH twice; after auth_attempts
 * failures the session ends with 421 4.7.0. Where AUTH may run at all
 * (TLS first) is the table's and the before hook's (smtp_session.c). */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "lib/str.h"
#include "smtp/smtp_int.h"

static void sasl_end(struct smtp_sess *ss)
{
	if (ss->sasl != NULL) {
		sasl_clear(ss->sasl);
		free(ss->sasl);
		ss->sasl = NULL;
	}
	if (!ss->closing && session_mode(ss->s) == SESSION_MODE_SASL) {
		session_set_mode(ss->s, SESSION_MODE_LINE);
		session_set_max_line(ss->s, SMTP_LINE_MAX - 2);
	}
}

void smtp_auth_cancel(struct smtp_sess *ss)
{
	if (ss->auth_req != NULL) {
		account_verify_cancel(ss->auth_req);
		ss->auth_req = NULL;
	}
	if (ss->sasl != NULL) {
		sasl_clear(ss->sasl);
		free(ss->sasl);
		ss->sasl = NULL;
	}
}

static void auth_failed(struct smtp_sess *ss, enum account_status st)
{
	const struct smtp_conf *c = ss->srv->conf;
	if (st == ACCOUNT_BUSY || st == ACCOUNT_ERROR) {
		smtp_send(ss, 454, "4.7.0", "Temporary authentication failure; try again later");
		return;
	}
	if (++ss->auth_failures >= c->auth_attempts) {
		char text[SMTP_HOSTNAME_MAX + 96];
		str_fmt(text, sizeof text, "421 4.7.0 %s Error: too many failed authentication "
			"attempts; closing", c->hostname);
		smtp_sess_shutdown(ss, text);
		return;
	}
	if (st == ACCOUNT_LOCKED)
		smtp_send(ss, 454, "4.7.0", "Temporary authentication failure: too many failed "
			  "logins; try again later");
	else if (st == ACCOUNT_EXPIRED || st == ACCOUNT_DISABLED)
		smtp_send(ss, 535, "5.7.8", "Error: authentication failed: %s",
			  account_status_public(st));
	else
		smtp_send(ss, 535, "5.7.8", "Error: authentication failed");
}

static void on_verified(const struct account_result *r, void *arg)
{
	struct smtp_sess *ss = arg;
	ss->auth_req = NULL;
	session_resume(ss->s);
	if (ss->closing)
		return;
	if (r->status != ACCOUNT_OK) {
		auth_failed(ss, r->status);
		return;
	}
	str_copy(ss->user, sizeof ss->user, r->acct.name);
	session_set_login(ss->s, true);
	log_event(LOG_INFO, "smtp_auth", "session=%llu peer=%s user=%s%s",
		  (unsigned long long)session_id(ss->s), ss->host, ss->user,
		  r->via_app_password ? " via=app_password" : "");
	smtp_send(ss, 235, "2.7.0", "Authentication successful");
}

static void verify(struct smtp_sess *ss)
{
	struct sasl *st = ss->sasl;
	/* Acting as somebody else (an authorization identity of another
	 * name) is not something an account may do here. */
	if (st->authzid[0] != '\0' && strcmp(st->authzid, st->authcid) != 0) {
		sasl_end(ss);
		auth_failed(ss, ACCOUNT_BAD_PASSWORD);
		return;
	}
	struct account_query q = {
		.name = st->authcid,
		.password = st->password,
		.service = "smtp",
		.peer = ss->host,
	};
	ik_err e;
	ss->auth_req = account_verify(ss->srv->auth, &q, on_verified, ss, &e);
	sasl_end(ss);		/* the password is copied: wipe ours */
	if (ss->auth_req == NULL) {
		auth_failed(ss, ACCOUNT_BUSY);
		return;
	}
	/* Nothing the client sends runs until the answer is in. */
	session_pause(ss->s);
}

static void step(struct smtp_sess *ss, enum sasl_step r, const ik_err *e)
{
	switch (r) {
	case SASL_CONTINUE:
		if (session_mode(ss->s) != SESSION_MODE_SASL) {
			session_set_max_line(ss->s, SMTP_SASL_LINE_MAX - 2);
			session_set_mode(ss->s, SESSION_MODE_SASL);
		}
		smtp_send(ss, 334, NULL, "%s", ss->sasl->challenge);
		break;
	case SASL_DONE:
		verify(ss);
		break;
	case SASL_CANCELLED:
		sasl_end(ss);
		smtp_send(ss, 501, "5.7.0", "Authentication cancelled");
		break;
	case SASL_FAIL:
	default:
		sasl_end(ss);
		smtp_send(ss, 501, "5.5.2", "Error: %s", e->msg[0] ? e->msg
			  : "cannot decode the SASL response");
		break;
	}
}

void smtp_cmd_auth(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	if (ss->srv->auth == NULL) {
		smtp_send(ss, 503, "5.5.1", "Error: authentication is not enabled (no accounts "
			  "database)");
		return;
	}
	if (ss->user[0] != '\0') {
		smtp_send(ss, 503, "5.5.1", "Error: already authenticated");
		return;
	}
	enum sasl_mech mech;
	if (sasl_mech_parse(c->argv[0], &mech) < 0) {
		smtp_send(ss, 504, "5.5.4", "Unsupported authentication mechanism; use one of: %s",
			  sasl_mech_list());
		return;
	}
	ss->sasl = calloc(1, sizeof *ss->sasl);
	if (ss->sasl == NULL) {
		smtp_send(ss, 454, "4.7.0", "Temporary authentication failure; try again later");
		return;
	}
	ik_err e = {""};
	enum sasl_step r = sasl_start(ss->sasl, mech, c->argc > 1 ? c->argv[1] : NULL, &e);
	step(ss, r, &e);
}

void smtp_auth_line(struct smtp_sess *ss, const struct session_ev *ev)
{
	if (ss->sasl == NULL)
		return;
	ik_err e = {""};
	enum sasl_step r = sasl_step(ss->sasl, ev->line, ev->len, &e);
	step(ss, r, &e);
}
