/* The IMAP session: one I/O entry point (sess_io), the assembly of a
 * command from its lines and literals, replies, limits (errors, literal
 * sizes, timeouts), the hooks of the command table (imap_cmd.c says what is
 * allowed where, core/session_cmd checks it, handlers never re-check it),
 * and the session's log line.
 *
 * RFC 3501 2.2 (commands are tagged; a literal "{n}" CRLF waits for the
 * server's "+" continuation before its bytes), 7.1.5 (BYE), 5.4 (the
 * autologout timer: 30 minutes once logged in), RFC 7888 (LITERAL+: "{n+}"
 * bytes follow at once; a refused one is still read and dropped, never
 * run as commands), RFC 2595 / RFC 3501 6.2.1 (after STARTTLS the core
 * drops what the client pipelined in plaintext). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "lib/str.h"
#include "net/endpoint.h"

/* A literal before login may hold a login name or password, no more:
 * a client that has not logged in cannot make us read megabytes. */
#define IMAP_PREAUTH_LITERAL_MAX 8192
#define IMAP_CMD_OVERHEAD (1u << 20)	/* command text around its literals */

/* ---- replies ---- */

void imap_send_sbuf(struct imap_sess *ss, struct sbuf *b)
{
	if (b->len > 0 && !ss->closing)
		session_write(ss->s, b->data, b->len);
	sbuf_free(b);
}

void imap_untagged(struct imap_sess *ss, const char *fmt, ...)
{
	if (ss->closing)
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	session_printf(ss->s, "* %s\r\n", text);
}

void imap_reply(struct imap_sess *ss, const char *tag, const char *status, const char *fmt, ...)
{
	if (ss->closing)
		return;
	/* Every command ends here, most with a constant text ("Fetch
	 * completed."): that is copied, not formatted, and the line is put
	 * together here, not by a second printf. */
	char text[1024];
	const char *txt = fmt;
	if (strchr(fmt, '%') != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
		txt = text;
	}
	const char *t = tag != NULL ? tag : "*";
	size_t tl = strlen(t), sl = strlen(status), xl = strlen(txt);
	char line[1280];
	if (tl + sl + xl + 4 <= sizeof line) {
		char *p = line;
		memcpy(p, t, tl);
		p += tl;
		*p++ = ' ';
		memcpy(p, status, sl);
		p += sl;
		*p++ = ' ';
		memcpy(p, txt, xl);
		p += xl;
		*p++ = '\r';
		*p++ = '\n';
		session_write(ss->s, line, (size_t)(p - line));
	} else {
		session_printf(ss->s, "%s %s %s\r\n", t, status, txt);
	}
	if (strcmp(status, "BAD") != 0)
		return;
	if (++ss->errors < ss->srv->conf->max_errors)
		return;
	log_event(LOG_NOTICE, "imap_too_many_errors", "session=%llu peer=%s errors=%u",
		  (unsigned long long)session_id(ss->s), ss->host, ss->errors);
	imap_sess_shutdown(ss, "* BYE Too many invalid IMAP commands.");
}

const char *imap_who(const struct imap_sess *ss)
{
	return ss->user[0] != '\0' ? ss->user : "-";
}

void imap_set_state(struct imap_sess *ss, unsigned state)
{
	static const char *const names[] = {"not-authenticated", "authenticated", "selected",
					    "logout"};
	const char *name = "?";
	for (unsigned i = 0; i < 4; i++)
		if (state == 1u << i)
			name = names[i];
	ss->state = state;
	session_set_state(ss->s, state, name);
	const struct imap_conf *c = ss->srv->conf;
	session_set_idle_timeout(ss->s, state == IMAP_ST_NOAUTH ? c->preauth_ms : c->auth_ms);
}

static void cmd_reset(struct imap_sess *ss)
{
	if (ss->cmd.data != NULL)
		explicit_bzero(ss->cmd.data, ss->cmd.len);
	sbuf_reset(&ss->cmd);
	ss->cmd_bad[0] = '\0';
	ss->literal_nul = false;
}

void imap_sess_shutdown(struct imap_sess *ss, const char *bye)
{
	if (ss->closing)
		return;
	if (bye != NULL) {
		session_write(ss->s, bye, strlen(bye));
		session_write(ss->s, "\r\n", 2);
	}
	ss->closing = true;
	imap_auth_cancel(ss);
	cmd_reset(ss);
	session_reply_close(ss->s, NULL, 0, bye != NULL ? bye : "closed after the last reply");
}

/* ---- strings in replies (RFC 3501 4.3, 9) ---- */

void imap_put_string(struct sbuf *b, const char *s, size_t len, bool atom_ok)
{
	switch (imap_string_form(s, len, atom_ok)) {
	case 0:
		sbuf_add(b, s, len);
		break;
	case 1: {
		/* Room for the worst case (at most 1024 bytes, each escaped)
		 * once, not a call per byte: ENVELOPE and BODYSTRUCTURE are
		 * mostly quoted strings. */
		char *d = sbuf_reserve(b, 2 * len + 2);
		if (d == NULL)
			break;
		size_t n = 0;
		d[n++] = '"';
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				d[n++] = '\\';
			d[n++] = s[i];
		}
		d[n++] = '"';
		sbuf_commit(b, n);
		break;
	}
	default:
		sbuf_printf(b, "{%zu}\r\n", len);
		sbuf_add(b, s, len);
		break;
	}
}

void imap_put_nstring(struct sbuf *b, const char *s)
{
	if (s == NULL)
		sbuf_addstr(b, "NIL");
	else
		imap_put_string(b, s, strlen(s), false);
}

void imap_capabilities(const struct imap_sess *ss, struct sbuf *b)
{
	bool tls = session_is_tls(ss->s);
	bool login_ok = tls || ss->srv->conf->login_plaintext;
	sbuf_addstr(b, "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS "
		    "MOVE CHILDREN SPECIAL-USE ESEARCH CONDSTORE QRESYNC UTF8=ACCEPT STATUS=SIZE");
	if (ss->state == IMAP_ST_NOAUTH) {
		if (!tls && ss->srv->conf->ssl != NULL)
			sbuf_addstr(b, " STARTTLS");
		sbuf_addstr(b, login_ok ? " AUTH=PLAIN" : " LOGINDISABLED");
	}
}

/* ---- the hooks of imap_cmds ---- */

void imap_sess_refuse(struct session_call *c, enum session_refusal why)
{
	struct imap_sess *ss = c->proto;
	const char *tag = c->tag;
	switch (why) {
	case SESSION_REFUSE_EMPTY:
		if (tag == NULL)
			imap_reply(ss, NULL, "BAD", "Empty command line");
		else
			imap_reply(ss, tag, "BAD", "Missing command");
		break;
	case SESSION_REFUSE_UNKNOWN:
		imap_reply(ss, tag, "BAD", "Unknown command %.40s", c->verb);
		break;
	case SESSION_REFUSE_NOT_IMPL:
		imap_reply(ss, tag, "BAD", "%s is not implemented", c->cmd->verb);
		break;
	case SESSION_REFUSE_LOGIN:
		imap_reply(ss, tag, "BAD", "%s: log in first", c->cmd->verb);
		break;
	case SESSION_REFUSE_STATE:
		if ((c->state & IMAP_ST_AUTH) && (c->cmd->states & IMAP_ST_SELECTED))
			imap_reply(ss, tag, "BAD", "%s: no mailbox selected", c->cmd->verb);
		else if (c->cmd->states == IMAP_ST_NOAUTH)
			imap_reply(ss, tag, "BAD", "%s: already logged in", c->cmd->verb);
		else
			imap_reply(ss, tag, "BAD", "%s: not allowed now", c->cmd->verb);
		break;
	case SESSION_REFUSE_TLS:
	case SESSION_REFUSE_DENIED:
		imap_reply(ss, tag, "NO", "[PRIVACYREQUIRED] Plaintext authentication disallowed on "
			   "non-secure connections; use STARTTLS first");
		break;
	case SESSION_REFUSE_ARGS:
		imap_reply(ss, tag, "BAD", "Syntax: %s", c->cmd->help);
		break;
	case SESSION_REFUSE_PLAINTEXT:
		imap_reply(ss, tag, "BAD", "TLS is already active");
		break;
	default:
		imap_reply(ss, tag, "BAD", "Command refused");
		break;
	}
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">. */
static bool tag_valid(const char *t)
{
	if (t == NULL || t[0] == '\0' || strlen(t) > IMAP_TAG_MAX)
		return false;
	for (const char *p = t; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\+", ch) != NULL)
			return false;
	}
	return true;
}

bool imap_sess_before(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	if (!tag_valid(c->tag)) {
		imap_reply(ss, NULL, "BAD", "Invalid tag");
		return false;
	}
	if (ss->cmd_bad[0] != '\0') {
		imap_reply(ss, c->tag, "BAD", "%s", ss->cmd_bad);
		return false;
	}
	ss->commands++;
	unsigned deny = 0;
	if (!session_is_tls(ss->s) && !ss->srv->conf->login_plaintext)
		deny |= IMAP_P_LOGIN;
	c->deny = deny;
	return true;
}

/* ---- input: assembling a command ---- */

/* The tag of the command being assembled (its first word), for a reply
 * before the command is complete. */
static void pending_tag(const struct imap_sess *ss, char *tag, size_t sz)
{
	const char *p = sbuf_cstr(&ss->cmd);
	size_t n = strcspn(p, " \r\n");
	if (n >= sz)
		n = sz - 1;
	memcpy(tag, p, n);
	tag[n] = '\0';
	if (!tag_valid(tag))
		str_copy(tag, sz, "*");
}

static void run_command(struct imap_sess *ss)
{
	if (memchr(ss->cmd.data != NULL ? ss->cmd.data : "", '\0', ss->cmd.len) != NULL) {
		char tag[IMAP_TAG_MAX + 1];
		pending_tag(ss, tag, sizeof tag);
		imap_reply(ss, tag, "BAD", "Literal holds a NUL byte");
	} else {
		/* session_cmd_run wants a writable NUL-terminated line. */
		if (sbuf_addch(&ss->cmd, '\0') == 0) {
			ss->cmd.len--;
			session_cmd_run(ss->s, &imap_cmds, ss->cmd.data, ss);
		}
	}
	cmd_reset(ss);
}

static void on_line(struct imap_sess *ss, const char *line, size_t len)
{
	if (ss->idling) {
		imap_server_idle_remove(ss);
		/* RFC 2177: the only thing a client may send is DONE. */
		if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
			ss->idling = false;
			ik_err e;
			if (ss->sel != NULL)
				imap_folder_sync(ss, ss->sel, true, &e);
			imap_reply(ss, ss->idle_tag, "OK", "Idle completed.");
		} else {
			ss->idling = false;
			imap_reply(ss, ss->idle_tag, "BAD", "Expected DONE.");
		}
		cmd_reset(ss);
		return;
	}
	if (sbuf_add(&ss->cmd, line, len) < 0) {
		str_copy(ss->cmd_bad, sizeof ss->cmd_bad, "Command too long");
		sbuf_reset(&ss->cmd);
	}
	uint64_t n = 0;
	bool plus = false;
	int lit = imap_line_literal(line, len, &n, &plus);
	if (lit == 0) {
		run_command(ss);
		return;
	}
	char tag[IMAP_TAG_MAX + 1];
	pending_tag(ss, tag, sizeof tag);
	if (lit < 0) {
		imap_reply(ss, tag, "BAD", "Invalid literal size");
		cmd_reset(ss);
		return;
	}
	uint64_t max = ss->state == IMAP_ST_NOAUTH ? IMAP_PREAUTH_LITERAL_MAX
						   : ss->srv->conf->max_literal;
	if (n > max) {
		/* RFC 7888 4: a non-synchronizing literal is on its way and
		 * must be read and dropped; a synchronizing one never comes. */
		if (plus) {
			session_discard_counted(ss->s, n);
			str_copy(ss->cmd_bad, sizeof ss->cmd_bad, "[TOOBIG] Literal too large");
		} else {
			imap_reply(ss, tag, "NO", "[TOOBIG] Literal too large (the limit is %llu bytes)",
				   (unsigned long long)max);
			cmd_reset(ss);
		}
		return;
	}
	if (sbuf_addstr(&ss->cmd, "\r\n") < 0) {
		str_copy(ss->cmd_bad, sizeof ss->cmd_bad, "Command too long");
		sbuf_reset(&ss->cmd);
	}
	ik_err e;
	if (session_read_counted(ss->s, n, max, &e) < 0) {
		imap_reply(ss, tag, "NO", "[TOOBIG] %s", e.msg);
		cmd_reset(ss);
		return;
	}
	if (!plus)
		session_write(ss->s, "+ OK\r\n", 6);
}

static void on_body(struct imap_sess *ss, const char *p, size_t n)
{
	if (ss->cmd_bad[0] != '\0')
		return;
	if (sbuf_add(&ss->cmd, p, n) < 0) {
		str_copy(ss->cmd_bad, sizeof ss->cmd_bad, "Command too long");
		sbuf_reset(&ss->cmd);
	}
}

static void on_line_error(struct imap_sess *ss, enum session_line_status st)
{
	if (ss->sasl != NULL) {
		imap_auth_cancel(ss);
		session_set_mode(ss->s, SESSION_MODE_LINE);
		imap_reply(ss, ss->auth_tag, "BAD", "Bad SASL response line; authentication cancelled");
		return;
	}
	cmd_reset(ss);
	if (st == SESSION_LINE_TOO_LONG)
		imap_reply(ss, NULL, "BAD", "Line too long (the limit is %d bytes)", IMAP_LINE_MAX);
	else if (st == SESSION_LINE_NUL)
		imap_reply(ss, NULL, "BAD", "NUL byte in command line");
	else
		imap_reply(ss, NULL, "BAD", "Bad command line");
}

static void tls_ready(struct imap_sess *ss)
{
	ss->tls_ready = true;
	SSL *ssl = session_ssl(ss->s);
	if (ssl != NULL)
		str_fmt(ss->tls_info, sizeof ss->tls_info, "%s %s", SSL_get_version(ssl),
			SSL_get_cipher_name(ssl));
	log_event(LOG_INFO, "imap_tls", "session=%llu peer=%s tls=\"%s\"",
		  (unsigned long long)session_id(ss->s), ss->host, ss->tls_info);
}

static void on_timeout(struct imap_sess *ss, const char *reason)
{
	if (ss->closing)
		return;
	log_event(LOG_INFO, "imap_timeout", "session=%llu peer=%s state=%u reason=\"%s\"",
		  (unsigned long long)session_id(ss->s), ss->host, ss->state, reason);
	imap_sess_shutdown(ss, "* BYE Disconnected for inactivity.");
}

static void log_session(struct imap_sess *ss, const char *reason)
{
	char why[200], tls[128];
	log_quote(why, sizeof why, reason != NULL ? reason : "-");
	log_quote(tls, sizeof tls, ss->tls_info[0] ? ss->tls_info : "no");
	log_event(LOG_INFO, "imap_session", "session=%llu peer=%s tls=%s user=%s commands=%u "
		  "errors=%u result=%s", (unsigned long long)session_id(ss->s), session_peer(ss->s),
		  tls, imap_who(ss), ss->commands, ss->errors, why);
}

static void sess_free(struct imap_sess *ss)
{
	imap_auth_cancel(ss);
	imap_folder_free(ss->sel);
	imap_kw_drop(ss);
	cmd_reset(ss);
	sbuf_free(&ss->cmd);
	imap_server_remove(ss);
	free(ss);
}

static void sess_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	struct imap_sess *ss = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		if (!ss->closing)
			on_line(ss, ev->line, ev->len);
		explicit_bzero(ev->line, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		if (!ss->closing)
			on_line_error(ss, ev->error);
		break;
	case SESSION_EV_SASL_LINE:
		if (!ss->closing)
			imap_auth_line(ss, ev);
		break;
	case SESSION_EV_BODY:
		on_body(ss, ev->data, ev->len);
		break;
	case SESSION_EV_BODY_END:
		/* The literal is in; the command goes on with the next line. */
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
			imap_auth_cancel(ss);
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

bool imap_sess_accept(struct imap_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit_tls)
{
	const struct imap_conf *c = srv->conf;
	struct imap_sess *ss = calloc(1, sizeof *ss);
	if (ss == NULL) {
		close(fd);
		return false;
	}
	ss->srv = srv;
	ss->implicit_tls = implicit_tls;
	sbuf_init(&ss->cmd, c->max_literal + IMAP_CMD_OVERHEAD);
	endpoint_format_host(peer, ss->host, sizeof ss->host);
	/* A FETCH of a whole message is queued at once (up to the literal
	 * limit): the output limit must hold it. */
	struct session_opts o = {
		.proto = "imap",
		.mode = SESSION_MODE_LINE,
		.max_line = IMAP_LINE_MAX,
		.eol = SESSION_EOL_LF,
		.idle_ms = c->preauth_ms,
		.out_max = c->max_literal * 2 + (8u << 20),
		.log_close = true,
	};
	ik_err e;
	ss->s = session_new(srv->loop, fd, peer, len, implicit_tls ? c->ssl : NULL, &o, sess_io, ss,
			    &e);
	if (ss->s == NULL) {
		log_event(LOG_ERR, "imap_accept_failed", "reason=\"%s\"", e.msg);
		sbuf_free(&ss->cmd);
		free(ss);
		return false;
	}
	imap_server_add(srv, ss);
	imap_set_state(ss, IMAP_ST_NOAUTH);
	log_event(LOG_INFO, "imap_connect", "session=%llu peer=%s tls=%s",
		  (unsigned long long)session_id(ss->s), session_peer(ss->s),
		  implicit_tls ? "implicit" : "no");
	/* RFC 3501 7.1.1: the greeting, with the capabilities (saves a round
	 * trip); over implicit TLS it waits for the handshake in the core. */
	struct sbuf b = SBUF_INIT(1024);
	sbuf_addstr(&b, "* OK [CAPABILITY ");
	imap_capabilities(ss, &b);
	sbuf_addstr(&b, "] inetkit IMAP ready.\r\n");
	imap_send_sbuf(ss, &b);
	return true;
}

/* ---- UID sets ---- */

static void uidrun_flush(struct imap_uidrun *r)
{
	if (!r->any)
		return;
	if (r->lo == r->hi)
		sbuf_printf(r->b, "%" PRIu32, r->lo);
	else
		sbuf_printf(r->b, "%" PRIu32 ":%" PRIu32, r->lo, r->hi);
}

void imap_uidrun_add(struct imap_uidrun *r, uint32_t uid)
{
	if (r->any && r->hi != UINT32_MAX && uid == r->hi + 1) {
		r->hi = uid;
		return;
	}
	if (r->any) {
		uidrun_flush(r);
		sbuf_addch(r->b, ',');
	} else if (r->line != NULL) {
		sbuf_addstr(r->b, r->line);
	}
	r->lo = r->hi = uid;
	r->any = true;
}

void imap_uidrun_end(struct imap_uidrun *r)
{
	uidrun_flush(r);
	if (r->any && r->line != NULL)
		sbuf_addstr(r->b, "\r\n");
	r->any = false;
}
