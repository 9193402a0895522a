/* The FTP control connection: one I/O entry point per session (ctl_io),
 * the hooks of the command table (ftp/ftpd_cmd.c's table says what is
 * allowed where, core/session_cmd checks it, the handlers never re-check
 * it), replies, and the idle and login timeouts.
 *
 * RFC 959 (commands, replies, 4.1.1 ABOR/QUIT during a transfer), RFC 854
 * (Telnet IP/DM and the urgent byte that comes with ABOR: SO_OOBINLINE
 * keeps it in the stream). The settings commands are in ftpd_cmd_session.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/str.h"
#include "core/timeutil.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_xfer.h"
#include "ftpd/ftpd_list.h"
#include "net/endpoint.h"

/* ---- replies ---- */

void ftpd_send_sbuf(struct ftpd_sess *fs, struct sbuf *b)
{
	if (b->len > 0 && !fs->closing)
		session_write(fs->s, b->data, b->len);
	sbuf_free(b);
}

void ftpd_send(struct ftpd_sess *fs, int code, const char *fmt, ...)
{
	struct sbuf b = SBUF_INIT(FTPD_REPLY_LINE_MAX + 8);
	va_list ap;
	va_start(ap, fmt);
	ftpd_reply_v(&b, code, fmt, ap);
	va_end(ap);
	ftpd_send_sbuf(fs, &b);
}

void ftpd_send_errno(struct ftpd_sess *fs, int err, const char *what)
{
	struct sbuf b = SBUF_INIT(FTPD_REPLY_LINE_MAX + 8);
	ftpd_reply_errno(&b, err, what);
	ftpd_send_sbuf(fs, &b);
}

void ftpd_set_state(struct ftpd_sess *fs, unsigned state)
{
	static const char *const names[] = {"auth", "pass", "ready", "rnfr", "xfer"};
	const char *name = "?";
	for (unsigned i = 0; i < 5; i++)
		if (state == 1u << i)
			name = names[i];
	fs->state = state;
	session_set_state(fs->s, state, name);
}

/* ---- timeouts ---- */

static void arm_timer(struct ftpd_sess *fs, uint64_t ms)
{
	struct timeval tv = loop_tv(ms);
	event_add(fs->timer, &tv);
}

/* A last reply, then the core's session_reply_close: the session ends
 * when the peer closes too, or after its bounded wait. The reply is the
 * close log line's reason. */
void ftpd_sess_shutdown(struct ftpd_sess *fs, const char *text)
{
	if (fs->closing)
		return;
	if (text != NULL) {
		session_write(fs->s, text, strlen(text));
		session_write(fs->s, "\r\n", 2);
	}
	fs->closing = true;
	event_del(fs->timer);
	session_reply_close(fs->s, NULL, 0, text != NULL ? text : "closed after the last reply");
	ftpd_xfer_drop(fs);
	ftpd_data_reset(fs);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ftpd_sess *fs = arg;
	if (fs->closing)
		return;		/* the core's session_reply_close ends it */
	const struct ftpd_conf *c = fs->srv->conf;
	bool in = session_logged_in(fs->s);
	uint64_t limit = in ? c->idle_ms : c->login_ms;
	if (limit == 0)
		return;
	uint64_t now = time_mono_coarse_ms();
	if (fs->xfer != NULL || fs->auth_req != NULL || fs->scan != NULL) {
		/* A transfer has its own data timeout; a login waits for its check. */
		arm_timer(fs, limit);
		return;
	}
	/* Before login the clock runs from the connection: commands do not
	 * buy a client that never logs in more time. */
	uint64_t since = in ? fs->last_ms : fs->start_ms;
	if (now - since < limit) {
		arm_timer(fs, limit - (now - since));
		return;
	}
	char text[128];
	str_fmt(text, sizeof text, in ? "421 Timeout: idle for %llu seconds; closing control "
		"connection." : "421 Timeout: no login within %llu seconds; closing.",
		(unsigned long long)(limit / 1000));
	log_event(LOG_INFO, "ftp_timeout", "session=%llu peer=%s user=%s idle_ms=%llu",
		  (unsigned long long)session_id(fs->s), fs->host, ftpd_who(fs),
		  (unsigned long long)(now - fs->last_ms));
	ftpd_sess_shutdown(fs, text);
}

void ftpd_sess_timer(struct ftpd_sess *fs)
{
	const struct ftpd_conf *c = fs->srv->conf;
	uint64_t limit = session_logged_in(fs->s) ? c->idle_ms : c->login_ms;
	if (limit > 0 && !fs->closing && !event_pending(fs->timer, EV_TIMEOUT, NULL))
		arm_timer(fs, limit);
}

void ftpd_xfer_ended(struct ftpd_sess *fs)
{
	fs->last_ms = time_mono_coarse_ms();
	if (!fs->quit_pending || fs->closing)
		return;
	ftpd_sess_shutdown(fs, server_stopping(fs->srv->core) ? "421 Server shutting down; goodbye."
			   : "221 Goodbye.");
}

bool ftpd_tls_required_for_data(const struct ftpd_sess *fs)
{
	return fs->srv->conf->require_tls_data && fs->prot != 'P';
}

/* ---- dispatch: the core runs ftpd_cmds; these are its hooks ---- */

static void refused(struct ftpd_sess *fs, const struct ftpd_cmd_refusal *r)
{
	ftpd_send(fs, r->code, "%s", r->text);
}

void ftpd_sess_refuse(struct session_call *c, enum session_refusal why)
{
	struct ftpd_cmd_refusal r;
	ftpd_cmd_refusal_reply(c, why, &r);
	refused(c->proto, &r);
}

/* log_commands: every command at info level, with the user; SECRET
 * arguments are never shown (the core's own line is at debug level). */
static void log_command(struct ftpd_sess *fs, const struct session_call *c)
{
	if (!fs->srv->conf->log_commands)
		return;
	char q[200];
	const char *arg = c->cmd != NULL && (c->cmd->flags & SESSION_CMD_SECRET) && c->arglen > 0
		? "****" : c->arg;
	log_event(LOG_INFO, "ftp_command", "session=%llu user=%s verb=%s arg=%s",
		  (unsigned long long)session_id(fs->s), ftpd_who(fs),
		  c->cmd != NULL ? c->cmd->verb : "?", log_quote(q, sizeof q, arg));
}

bool ftpd_sess_before(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	log_command(fs, c);
	/* RFC 959 4.1.3: RNTO must come right after RNFR. */
	if (fs->state == FTPD_ST_RNFR && (c->cmd == NULL || c->cmd->handler != ftpd_cmd_rnto)) {
		free(fs->rnfr);
		fs->rnfr = NULL;
		ftpd_set_state(fs, FTPD_ST_READY);
	}
	if (session_logged_in(fs->s) && ftpd_expired(fs)) {
		ftpd_sess_shutdown(fs, "421 Your account has expired; closing.");
		return false;
	}
	if (fs->epsv_all)
		c->deny = FTPD_P_NO_EPSV_ALL;
	return true;
}

static void on_line(struct ftpd_sess *fs, char *line, size_t len)
{
	fs->last_ms = time_mono_coarse_ms();
	struct ftpd_cmd_refusal r;
	if (ftpd_cmd_clean(line, len, &r) < 0)
		return refused(fs, &r);
	session_cmd_run(fs->s, &ftpd_cmds, line, fs);
}

static void on_line_error(struct ftpd_sess *fs, enum session_line_status st)
{
	fs->last_ms = time_mono_coarse_ms();
	switch (st) {
	case SESSION_LINE_TOO_LONG:
		ftpd_send(fs, FTPD_R_SYNTAX, "Command line too long (the limit is %zu bytes).",
			  fs->srv->conf->max_line);
		break;
	case SESSION_LINE_NUL:
		ftpd_send(fs, FTPD_R_SYNTAX, "Command line holds a NUL byte.");
		break;
	case SESSION_LINE_BARE_LF:
		ftpd_send(fs, FTPD_R_SYNTAX, "Command lines must end with CRLF, not a bare LF.");
		break;
	default:
		ftpd_send(fs, FTPD_R_SYNTAX, "Bad command line.");
		break;
	}
}

static void sess_free(struct ftpd_sess *fs)
{
	ftpd_auth_cancel(fs);
	ftpd_xfer_drop(fs);
	ftpd_data_free(fs);
	ftpd_tls_unbind_control(fs);
	jail_close(&fs->jail);
	jail_close(&fs->upjail);
	free(fs->upvpath);
	free(fs->cwd);
	free(fs->rnfr);
	if (fs->timer != NULL)
		event_free(fs->timer);
	ftpd_server_remove(fs->srv, fs);
	free(fs);
}

static void ctl_io(struct session *s, const struct session_ev *ev, void *arg)
{
	(void)s;
	struct ftpd_sess *fs = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		if (!fs->closing)
			on_line(fs, ev->line, ev->len);
		/* The line buffer held the command: a password must not linger. */
		memset(ev->line, 0, ev->len);
		break;
	case SESSION_EV_LINE_ERROR:
		if (!fs->closing)
			on_line_error(fs, ev->error);
		break;
	case SESSION_EV_TLS_READY:
		fs->tls_ready = true;
		ftpd_tls_bind_control(fs);
		break;
	case SESSION_EV_EOF:
		/* The client is gone: a running transfer has nobody to report to. */
		ftpd_xfer_drop(fs);
		ftpd_data_reset(fs);
		if (session_is_tls(fs->s) && !fs->tls_ready) {
			/* Gone before its TLS handshake: nothing can reach it. */
			session_close(fs->s, "eof before the TLS handshake");
		} else if (!fs->closing) {
			/* The core sends what is queued, then closes; this bounds
			 * the wait for a peer that stops reading. */
			fs->closing = true;
			event_del(fs->timer);
			session_reply_close(fs->s, NULL, 0, "eof");
		}
		break;
	case SESSION_EV_CLOSED:
		sess_free(fs);
		break;
	default:
		break;
	}
}

bool ftpd_sess_accept(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
		      socklen_t len, bool implicit)
{
	const struct ftpd_conf *c = srv->conf;
	struct ftpd_sess *fs = calloc(1, sizeof *fs);
	if (fs == NULL) {
		close(fd);
		return false;
	}
	fs->srv = srv;
	fs->jail.root_fd = -1;
	fs->upjail.root_fd = -1;
	fs->type = 'A';		/* RFC 959 3.1.1.1: ASCII is the default */
	fs->prot = 'C';
	fs->facts = FTPD_FACTS_ALL;
	fs->implicit_tls = implicit;
	fs->last_ms = fs->start_ms = time_mono_coarse_ms();
	endpoint_format_host(peer, fs->host, sizeof fs->host);
	struct session_opts o = {
		.proto = "ftp",
		.mode = SESSION_MODE_LINE,
		.max_line = c->max_line,
		.eol = SESSION_EOL_CRLF,
		.out_high = 128 * 1024,
		.out_max = 512 * 1024 + c->stat_max,
		.idle_ms = 0,		/* ours: a transfer keeps the control quiet */
		.write_ms = c->data_ms > 0 ? c->data_ms : 120000,
		.log_close = true,
		/* ABOR comes with urgent data (Python's ftplib sends it with
		 * MSG_OOB); inline, the line stays whole. */
		.oob_inline = true,
	};
	ik_err e;
	fs->s = session_new(srv->loop, fd, peer, len, implicit ? c->ssl : NULL, &o, ctl_io, fs, &e);
	if (fs->s == NULL) {
		log_event(LOG_ERR, "ftp_accept_failed", "reason=\"%s\"", e.msg);
		free(fs);
		return false;
	}
	ftpd_server_add(srv, fs);
	fs->timer = event_new(loop_base(srv->loop), -1, 0, on_timer, fs);
	if (fs->timer == NULL) {
		session_close(fs->s, "out of memory");
		return true;
	}
	ftpd_set_state(fs, FTPD_ST_AUTH);
	if (implicit)
		ftpd_tls_bind_control(fs);
	log_event(LOG_INFO, "ftp_connect", "session=%llu peer=%s tls=%s",
		  (unsigned long long)session_id(fs->s), session_peer(fs->s),
		  implicit ? "implicit" : "no");
	ftpd_send(fs, FTPD_R_READY, "%s", c->banner);
	uint64_t limit = c->login_ms;
	if (limit > 0)
		arm_timer(fs, limit);
	return true;
}
