/* The SMTP session: one I/O entry point (sess_io), replies, the limits
 * (errors, line length, timeouts), the hooks of the command table
 * (smtp_cmd.c says what is allowed where, core/session_cmd checks it,
 * handlers never re-check it), and the session's log line.
 *
 * RFC 5321 (4.2 replies, 4.5.3.1 line length, 4.5.3.2 timeouts, 3.8
 * "421 <domain> Service not available, closing transmission channel"),
 * RFC 2920 (PIPELINING: the core's opts.pipelining sends the replies to a
 * pipelined group together), RFC 3207 4.2 (after STARTTLS the core drops
 * what the client pipelined in plaintext; this file resets the rest). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/log.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "smtp/smtp_int.h"

/* ---- replies ---- */

static void count_error(struct smtp_sess *ss, int code)
{
	if (code < 400 || code == 421 || ss->closing)
		return;
	if (++ss->errors < ss->srv->conf->max_errors)
		return;
	char text[SMTP_HOSTNAME_MAX + 64];
	str_fmt(text, sizeof text, "421 4.7.0 %s Error: too many errors; closing",
		ss->srv->conf->hostname);
	log_event(LOG_NOTICE, "smtp_too_many_errors", "session=%llu peer=%s errors=%u",
		  (unsigned long long)session_id(ss->s), ss->host, ss->errors);
	smtp_sess_shutdown(ss, text);
}

void smtp_send_sbuf(struct smtp_sess *ss, struct sbuf *b)
{
	if (b->len > 0 && !ss->closing)
		session_write(ss->s, b->data, b->len);
	sbuf_free(b);
}

static void send_line(struct smtp_sess *ss, int code, const char *enh, const char *text)
{
	if (ss->closing)
		return;
	struct sbuf b = SBUF_INIT(1100);
	smtp_reply_line(&b, code, enh, true, text);
	smtp_send_sbuf(ss, &b);
	count_error(ss, code);
}

void smtp_send(struct smtp_sess *ss, int code, const char *enh, const char *fmt, ...)
{
	char text[800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	send_line(ss, code, enh, text);
}

void smtp_send_reply(struct smtp_sess *ss, const struct smtp_reply *r)
{
	send_line(ss, r->code, r->enh, r->text);
}

const char *smtp_who(const struct smtp_sess *ss)
{
	return ss->user[0] != '\0' ? ss->user : "-";
}

void smtp_set_state(struct smtp_sess *ss, unsigned state)
{
	static const char *const names[] = {"connected", "ready", "mail", "rcpt", "bdat"};
	const char *name = "?";
	for (unsigned i = 0; i < 5; i++)
		if (state == 1u << i)
			name = names[i];
	ss->state = state;
	session_set_state(ss->s, state, name);
}

unsigned smtp_idle_state(const struct smtp_sess *ss)
{
	return ss->helo[0] != '\0' ? SMTP_ST_READY : SMTP_ST_CONNECTED;
}

/* A last reply, then the core's session_reply_close: the session ends
 * when the peer closes too, or after its bounded wait. */
void smtp_sess_shutdown(struct smtp_sess *ss, const char *text)
{
	if (ss->closing)
		return;
	if (text != NULL) {
		session_write(ss->s, text, strlen(text));
		session_write(ss->s, "\r\n", 2);
	}
	ss->closing = true;
	smtp_auth_cancel(ss);
	smtp_check_cancel(ss);
	/* A message being received is dropped now, before the client can
	 * see the close: nothing of it stays in the spool. */
	smtp_txn_free(ss);
	session_reply_close(ss->s, NULL, 0, text != NULL ? text : "closed after the last reply");
}

/* ---- the hooks of smtp_cmds ---- */

void smtp_sess_refuse(struct session_call *c, enum session_refusal why)
{
	struct smtp_sess *ss = c->proto;
	struct smtp_reply r;
	if (why == SESSION_REFUSE_STATE && c->cmd != NULL && strcmp(c->cmd->verb, "DATA") == 0 &&
	    ss->state == SMTP_ST_MAIL && ss->txn != NULL && ss->txn->rcpt_tried > 0)
		smtp_reply_set(&r, 554, "5.5.1", "Error: no valid recipients");
	else
		smtp_cmd_refusal_reply(c, why, &r);
	smtp_send_reply(ss, &r);
}

/* What the roles require (RFC 6409 4.3, RFC 8314, RFC 4954 4): the
 * entries' bits that do not hold now are refused by the core. */
bool smtp_sess_before(struct session_call *c)
{
	struct smtp_sess *ss = c->proto;
	const struct smtp_conf *conf = ss->srv->conf;
	bool tls = session_is_tls(ss->s);
	unsigned deny = 0;
	if (ss->role != SMTP_ROLE_MTA && !tls)
		deny |= SMTP_P_TLS;
	if (ss->role != SMTP_ROLE_MTA && ss->user[0] == '\0')
		deny |= SMTP_P_AUTH;
	if (!tls && !conf->auth_plaintext)
		deny |= SMTP_P_AUTH_TLS;
	c->deny = deny;
	return true;
}

/* ---- input ---- */

static void on_line_error(struct smtp_sess *ss, enum session_line_status st)
{
	if (ss->sasl != NULL) {
		/* A SASL response that broke the line rules ends the exchange. */
		smtp_auth_cancel(ss);
		session_set_mode(ss->s, SESSION_MODE_LINE);
		session_set_max_line(ss->s, SMTP_LINE_MAX - 2);
		smtp_send(ss, 501, "5.5.2", "Error: bad SASL response line; authentication "
			  "cancelled");
		return;
	}
	switch (st) {
	case SESSION_LINE_TOO_LONG:
		smtp_send(ss, 500, "5.5.2", "Error: line too long (the limit is %d bytes with "
			  "CRLF)", SMTP_LINE_MAX);
		break;
	case SESSION_LINE_NUL:
		smtp_send(ss, 500, "5.5.2", "Error: NUL byte in command line");
		break;
	case SESSION_LINE_BARE_LF:
		smtp_send(ss, 500, "5.5.2", "Error: bare LF in command line; lines end with CRLF");
		break;
	default:
		smtp_send(ss, 500, "5.5.2", "Error: bad command line");
		break;
	}
}

static void tls_ready(struct smtp_sess *ss)
{
	ss->tls_ready = true;
	SSL *ssl = session_ssl(ss->s);
	if (ssl != NULL)
		str_fmt(ss->tls_info, sizeof ss->tls_info, "%s %s", SSL_get_version(ssl),
			SSL_get_cipher_name(ssl));
	log_event(LOG_INFO, "smtp_tls", "session=%llu peer=%s tls=\"%s\"",
		  (unsigned long long)session_id(ss->s), ss->host, ss->tls_info);
}

static void on_timeout(struct smtp_sess *ss, const char *reason)
{
	if (ss->closing)
		return;
	char text[SMTP_HOSTNAME_MAX + 64];
	str_fmt(text, sizeof text, "421 4.4.2 %s Error: timeout exceeded; closing",
		ss->srv->conf->hostname);
	log_event(LOG_INFO, "smtp_timeout", "session=%llu peer=%s state=%u reason=\"%s\"",
		  (unsigned long long)session_id(ss->s), ss->host, ss->state, reason);
	smtp_sess_shutdown(ss, text);
}

static void log_session(struct smtp_sess *ss, const char *reason)
{
	char helo[SMTP_HOSTNAME_MAX * 2], why[200], tls[128];
	log_quote(helo, sizeof helo, ss->helo[0] ? ss->helo : "-");
	log_quote(why, sizeof why, reason != NULL ? reason : "-");
	log_quote(tls, sizeof tls, ss->tls_info[0] ? ss->tls_info : "no");
	log_event(LOG_INFO, "smtp_session", "session=%llu peer=%s role=%s helo=%s tls=%s auth=%s "
		  "messages=%u errors=%u result=%s", (unsigned long long)session_id(ss->s),
		  session_peer(ss->s), ss->role == SMTP_ROLE_MTA ? "mta"
		  : ss->role == SMTP_ROLE_SUBMISSION ? "submission" : "submissions", helo, tls,
		  smtp_who(ss), ss->messages, ss->errors, why);
}

static void sess_free(struct smtp_sess *ss)
{
	smtp_auth_cancel(ss);
	smtp_check_cancel(ss);
	smtp_job_detach(ss);
	smtp_txn_free(ss);
	smtp_server_remove(ss);
	free(ss);
}

static void sess_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	struct smtp_sess *ss = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		if (!ss->closing)
			session_cmd_run(ss->s, &smtp_cmds, ev->line, ss);
		/* The line held the command: an AUTH response must not linger. */
		explicit_bzero(ev->line, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		if (!ss->closing)
			on_line_error(ss, ev->error);
		break;
	case SESSION_EV_SASL_LINE:
		if (!ss->closing)
			smtp_auth_line(ss, ev);
		break;
	case SESSION_EV_BODY:
		smtp_data_body(ss, ev->data, ev->len);
		break;
	case SESSION_EV_BODY_END:
		smtp_data_end(ss, ev->body);
		break;
	case SESSION_EV_TLS_READY:
		tls_ready(ss);
		break;
	case SESSION_EV_TIMEOUT:
		on_timeout(ss, ev->reason);
		break;
	case SESSION_EV_EOF:
		if (session_is_tls(ss->s) && !ss->tls_ready) {
			session_close(ss->s, "eof before the TLS handshake");
		} else if (!ss->closing) {
			ss->closing = true;
			smtp_auth_cancel(ss);
			smtp_check_cancel(ss);
			smtp_txn_free(ss);
			session_reply_close(ss->s, NULL, 0, "eof");
		}
		break;
	case SESSION_EV_CLOSED:
		log_session(ss, ev->reason);
		sess_free(ss);
		break;
	default:
		break;
	}
}

bool smtp_sess_accept(struct smtp_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, enum smtp_role role)
{
	const struct smtp_conf *c = srv->conf;
	struct smtp_sess *ss = calloc(1, sizeof *ss);
	if (ss == NULL) {
		close(fd);
		return false;
	}
	ss->srv = srv;
	ss->role = role;
	endpoint_format_host(peer, ss->host, sizeof ss->host);
	ss->relay_ok = c->relay != NULL && acl_check(c->relay, peer) == ACL_PASS;
	struct session_opts o = {
		.proto = "smtp",
		.mode = SESSION_MODE_LINE,
		.max_line = SMTP_LINE_MAX - 2,
		.eol = SESSION_EOL_CRLF,
		.idle_ms = c->command_ms,
		.log_close = true,
		.pipelining = true,
	};
	ik_err e;
	ss->s = session_new(srv->loop, fd, peer, len, role == SMTP_ROLE_SUBMISSIONS ? c->ssl : NULL,
			    &o, sess_io, ss, &e);
	if (ss->s == NULL) {
		log_event(LOG_ERR, "smtp_accept_failed", "reason=\"%s\"", e.msg);
		free(ss);
		return false;
	}
	smtp_server_add(srv, ss);
	smtp_set_state(ss, SMTP_ST_CONNECTED);
	log_event(LOG_INFO, "smtp_connect", "session=%llu peer=%s role=%s relay=%s",
		  (unsigned long long)session_id(ss->s), session_peer(ss->s),
		  role == SMTP_ROLE_MTA ? "mta" : role == SMTP_ROLE_SUBMISSION ? "submission"
		  : "submissions", ss->relay_ok ? "yes" : "no");
	/* RFC 5321 4.2: the greeting; over implicit TLS it waits for the
	 * handshake in the core. */
	char text[SMTP_HOSTNAME_MAX + 32];
	str_fmt(text, sizeof text, "%s ESMTP inetkit", c->hostname);
	send_line(ss, 220, NULL, text);
	return true;
}
