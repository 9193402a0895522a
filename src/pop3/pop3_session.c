/* The POP3 session: one I/O entry point (sess_io), replies, the limits
 * (errors, commands before login, line length, timeouts), the hooks of
 * the command table (pop3_cmd.c says what is allowed where, core/
 * session_cmd checks it, handlers never re-check it), the log line.
 *
 * RFC 1939 3 (greeting; the inactivity autologout timer of at least 10
 * minutes in TRANSACTION; a timeout never enters UPDATE), 4 (the APOP
 * timestamp in the greeting), RFC 2449 4 (line length), RFC 2595 4 (after
 * STLS the core drops what the client pipelined in plaintext). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "pop3/pop3_int.h"

/* ---- replies ---- */

void pop3_send(struct pop3_sess *ps, const char *data, size_t len)
{
	if (!ps->closing)
		session_write(ps->s, data, len);
}

static void line_out(struct pop3_sess *ps, const char *prefix, const char *fmt, va_list ap)
{
	char text[600];
	size_t n = (size_t)str_fmt(text, sizeof text, "%s", prefix);
	vsnprintf(text + n, sizeof text - n - 2, fmt, ap);
	/* A CR or LF in a value (a name) must not end the line early. */
	for (char *p = text; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	n = strlen(text);
	text[n++] = '\r';
	text[n++] = '\n';
	pop3_send(ps, text, n);
}

void pop3_ok(struct pop3_sess *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line_out(ps, "+OK ", fmt, ap);
	va_end(ap);
}

void pop3_err_quiet(struct pop3_sess *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line_out(ps, "-ERR ", fmt, ap);
	va_end(ap);
}

static void count_error(struct pop3_sess *ps)
{
	if (ps->closing || ++ps->errors < ps->srv->conf->max_errors)
		return;
	log_event(LOG_NOTICE, "pop3_too_many_errors", "session=%llu peer=%s errors=%u",
		  (unsigned long long)session_id(ps->s), ps->host, ps->errors);
	pop3_shutdown(ps, "-ERR Too many errors; closing", "too many errors");
}

void pop3_err(struct pop3_sess *ps, const char *fmt, ...)
{
	if (ps->closing)
		return;
	va_list ap;
	va_start(ap, fmt);
	line_out(ps, "-ERR ", fmt, ap);
	va_end(ap);
	count_error(ps);
}

void pop3_set_state(struct pop3_sess *ps, unsigned state)
{
	ps->state = state;
	session_set_state(ps->s, state, state == POP3_ST_AUTH ? "authorization" : "transaction");
	/* RFC 1939 3: at least 10 minutes once in TRANSACTION. */
	session_set_idle_timeout(ps->s, state == POP3_ST_AUTH ? ps->srv->conf->auth_ms
				 : ps->srv->conf->idle_ms);
}

void pop3_shutdown(struct pop3_sess *ps, const char *line, const char *reason)
{
	if (ps->closing)
		return;
	if (line != NULL) {
		session_write(ps->s, line, strlen(line));
		session_write(ps->s, "\r\n", 2);
	}
	ps->closing = true;
	pop3_auth_cancel(ps);
	session_reply_close(ps->s, NULL, 0, reason);
}

void pop3_sess_stop(struct pop3_sess *ps)
{
	/* A message half sent or UPDATE under way finishes first. */
	if (ps->job != NULL || ps->out_kind != 0) {
		ps->stop_pending = true;
		return;
	}
	/* RFC 1939: not a QUIT, so nothing is deleted. */
	pop3_shutdown(ps, "-ERR [SYS/TEMP] Server shutting down; nothing was deleted",
		      "server stopping");
}

/* ---- the hooks of pop3_cmds ---- */

void pop3_sess_refuse(struct session_call *c, enum session_refusal why)
{
	struct pop3_sess *ps = c->proto;
	char text[300];
	pop3_cmd_refusal_text(c, why, text, sizeof text);
	pop3_err(ps, "%s", text + strlen("-ERR "));
}

bool pop3_sess_before(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	const struct pop3_conf *conf = ps->srv->conf;
	if (ps->state == POP3_ST_AUTH && ++ps->commands > conf->max_commands_login) {
		log_event(LOG_NOTICE, "pop3_too_many_commands", "session=%llu peer=%s commands=%u",
			  (unsigned long long)session_id(ps->s), ps->host, ps->commands);
		pop3_shutdown(ps, "-ERR Too many commands before login; closing",
			      "too many commands before login");
		return false;
	}
	unsigned deny = 0;
	if (!session_is_tls(ps->s) && !conf->allow_plaintext_auth)
		deny |= POP3_P_PLAIN;
	if (!conf->apop)
		deny |= POP3_P_APOP;
	c->deny = deny;
	return true;
}

/* ---- input ---- */

static void on_line_error(struct pop3_sess *ps, enum session_line_status st)
{
	if (ps->sasl != NULL) {
		pop3_auth_cancel(ps);
		session_set_mode(ps->s, SESSION_MODE_LINE);
		session_set_max_line(ps->s, POP3_LINE_MAX - 2);
		pop3_err(ps, "Bad SASL response line; authentication cancelled");
		return;
	}
	switch (st) {
	case SESSION_LINE_TOO_LONG:
		pop3_err(ps, "Line too long (the limit is %d bytes with CRLF)", POP3_LINE_MAX);
		break;
	case SESSION_LINE_NUL:
		pop3_err(ps, "NUL byte in command line");
		break;
	default:
		pop3_err(ps, "Bad command line");
		break;
	}
}

static void tls_ready(struct pop3_sess *ps)
{
	ps->tls_ready = true;
	SSL *ssl = session_ssl(ps->s);
	if (ssl != NULL)
		str_fmt(ps->tls_info, sizeof ps->tls_info, "%s %s", SSL_get_version(ssl),
			SSL_get_cipher_name(ssl));
}

static void on_timeout(struct pop3_sess *ps, const char *reason)
{
	if (ps->closing)
		return;
	log_event(LOG_INFO, "pop3_timeout", "session=%llu peer=%s state=%u reason=\"%s\"",
		  (unsigned long long)session_id(ps->s), ps->host, ps->state, reason);
	/* RFC 1939 3: an autologout never enters UPDATE; nothing is deleted. */
	pop3_shutdown(ps, "-ERR Disconnected for inactivity; nothing was deleted", "idle timeout");
}

static void log_session(struct pop3_sess *ps, const char *reason)
{
	char why[200], tls[128];
	log_quote(why, sizeof why, ps->result != NULL ? ps->result : reason != NULL ? reason : "-");
	log_quote(tls, sizeof tls, ps->tls_info[0] ? ps->tls_info : "no");
	log_event(LOG_INFO, "pop3_session", "session=%llu peer=%s user=%s tls=%s messages=%llu "
		  "retrieved=%llu deleted=%llu expired=%llu message_octets=%llu bytes_in=%llu "
		  "bytes_out=%llu errors=%u result=%s",
		  (unsigned long long)session_id(ps->s), session_peer(ps->s),
		  ps->user[0] ? ps->user : "-", tls, (unsigned long long)ps->listed,
		  (unsigned long long)ps->retrieved, (unsigned long long)ps->deleted,
		  (unsigned long long)ps->expired,
		  (unsigned long long)ps->octets, (unsigned long long)session_bytes_in(ps->s),
		  (unsigned long long)session_bytes_out(ps->s), ps->errors, why);
}

static void sess_free(struct pop3_sess *ps)
{
	pop3_auth_cancel(ps);
	pop3_job_detach(ps);
	pop3_drop_release(ps);
	pop3_server_remove(ps);
	free(ps);
}

static void sess_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	struct pop3_sess *ps = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		if (!ps->closing)
			session_cmd_run(ps->s, &pop3_cmds, ev->line, ps);
		explicit_bzero(ev->line, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		if (!ps->closing)
			on_line_error(ps, ev->error);
		break;
	case SESSION_EV_SASL_LINE:
		if (!ps->closing)
			pop3_auth_line(ps, ev);
		break;
	case SESSION_EV_DRAINED:
		pop3_retr_drained(ps);
		break;
	case SESSION_EV_TLS_READY:
		tls_ready(ps);
		break;
	case SESSION_EV_TIMEOUT:
		on_timeout(ps, ev->reason);
		break;
	case SESSION_EV_EOF:
		if (session_is_tls(ps->s) && !ps->tls_ready) {
			session_close(ps->s, "eof before the TLS handshake");
		} else if (!ps->closing) {
			/* RFC 1939 6: only QUIT enters UPDATE; a dropped
			 * connection deletes nothing. */
			ps->closing = true;
			pop3_auth_cancel(ps);
			session_reply_close(ps->s, NULL, 0, "eof");
		}
		break;
	case SESSION_EV_CLOSED:
		log_session(ps, ev->reason);
		sess_free(ps);
		break;
	default:
		break;
	}
}

/* RFC 1939 7 (APOP): a timestamp unique to this greeting. */
static void make_stamp(struct pop3_sess *ps)
{
	static unsigned long long counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	str_fmt(ps->apop_stamp, sizeof ps->apop_stamp, "<%ld.%lld.%llu@%s>", (long)getpid(),
		(long long)ts.tv_sec, ++counter, ps->srv->hostname);
}

bool pop3_sess_accept(struct pop3_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit_tls)
{
	const struct pop3_conf *c = srv->conf;
	struct pop3_sess *ps = calloc(1, sizeof *ps);
	if (ps == NULL) {
		close(fd);
		return false;
	}
	ps->srv = srv;
	ps->implicit_tls = implicit_tls;
	endpoint_format_host(peer, ps->host, sizeof ps->host);
	struct session_opts o = {
		.proto = "pop3",
		.mode = SESSION_MODE_LINE,
		.max_line = POP3_LINE_MAX - 2,
		.eol = SESSION_EOL_LF,
		.idle_ms = c->auth_ms,
		/* The log line is ours (pop3_session), with the counts. */
		.log_close = false,
	};
	ik_err e;
	ps->s = session_new(srv->loop, fd, peer, len, implicit_tls ? c->ssl : NULL, &o, sess_io,
			    ps, &e);
	if (ps->s == NULL) {
		log_event(LOG_ERR, "pop3_accept_failed", "reason=\"%s\"", e.msg);
		free(ps);
		return false;
	}
	pop3_server_add(srv, ps);
	pop3_set_state(ps, POP3_ST_AUTH);
	if (c->apop) {
		make_stamp(ps);
		pop3_ok(ps, "inetkit POP3 server ready %s", ps->apop_stamp);
	} else {
		pop3_ok(ps, "inetkit POP3 server ready");
	}
	return true;
}
