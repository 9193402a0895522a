/* The FTP control connection: one I/O entry point per session (ctl_io),
 * the command table dispatch (ftp/ftpd_cmd.h decides what is allowed
 * where; the handlers never re-check it), replies, and the idle and
 * login timeouts.
 *
 * RFC 959 (commands, replies, 4.1.1 ABOR/QUIT during a transfer), RFC 854
 * (Telnet IP/DM and the urgent byte that comes with ABOR: SO_OOBINLINE
 * keeps it in the stream). The settings commands are in ftpd_settings.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "ftp/ftpd_int.h"
#include "ftp/ftpd_list.h"
#include "net/endpoint.h"

#define CLOSE_LINGER_MS 5000	/* after a last reply: wait this long for the peer */

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

/* A last reply, then the write side is shut; the session ends when the
 * peer closes too, or after CLOSE_LINGER_MS. */
void ftpd_sess_shutdown(struct ftpd_sess *fs, const char *text)
{
	if (fs->closing)
		return;
	if (text != NULL) {
		session_write(fs->s, text, strlen(text));
		session_write(fs->s, "\r\n", 2);
	}
	fs->closing = true;
	ftpd_xfer_drop(fs);
	ftpd_data_reset(fs);
	session_shutdown_write(fs->s);
	arm_timer(fs, CLOSE_LINGER_MS);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ftpd_sess *fs = arg;
	if (fs->closing) {
		session_close(fs->s, "closed after the last reply");
		return;
	}
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

/* ---- dispatch ---- */

static void refused(struct ftpd_sess *fs, const struct ftpd_cmd_refusal *r)
{
	ftpd_send(fs, r->code, "%s", r->text);
}

typedef void (*handler_fn)(struct ftpd_sess *fs, struct ftpd_cmd *c);

static const handler_fn handlers[FTPD_CMD__COUNT] = {
	[FTPD_CMD_ABOR] = ftpd_cmd_abor,
	[FTPD_CMD_ALLO] = ftpd_cmd_allo,
	[FTPD_CMD_APPE] = ftpd_cmd_appe,
	[FTPD_CMD_AUTH] = ftpd_cmd_auth,
	[FTPD_CMD_CDUP] = ftpd_cmd_cdup,
	[FTPD_CMD_CWD] = ftpd_cmd_cwd,
	[FTPD_CMD_DELE] = ftpd_cmd_dele,
	[FTPD_CMD_EPRT] = ftpd_cmd_eprt,
	[FTPD_CMD_EPSV] = ftpd_cmd_epsv,
	[FTPD_CMD_FEAT] = ftpd_cmd_features,
	[FTPD_CMD_HELP] = ftpd_cmd_helptext,
	[FTPD_CMD_HOST] = ftpd_cmd_host,
	[FTPD_CMD_LIST] = ftpd_cmd_list,
	[FTPD_CMD_MDTM] = ftpd_cmd_mdtm,
	[FTPD_CMD_MKD] = ftpd_cmd_mkd,
	[FTPD_CMD_MLSD] = ftpd_cmd_mlsd,
	[FTPD_CMD_MLST] = ftpd_cmd_mlst,
	[FTPD_CMD_MODE] = ftpd_cmd_mode,
	[FTPD_CMD_NLST] = ftpd_cmd_nlst,
	[FTPD_CMD_NOOP] = ftpd_cmd_noop,
	[FTPD_CMD_OPTS] = ftpd_cmd_opts,
	[FTPD_CMD_PASS] = ftpd_cmd_pass,
	[FTPD_CMD_PASV] = ftpd_cmd_pasv,
	[FTPD_CMD_PBSZ] = ftpd_cmd_pbsz,
	[FTPD_CMD_PORT] = ftpd_cmd_port,
	[FTPD_CMD_PROT] = ftpd_cmd_prot,
	[FTPD_CMD_PWD] = ftpd_cmd_pwd,
	[FTPD_CMD_QUIT] = ftpd_cmd_quit,
	[FTPD_CMD_REST] = ftpd_cmd_rest,
	[FTPD_CMD_RETR] = ftpd_cmd_retr,
	[FTPD_CMD_RMD] = ftpd_cmd_rmd,
	[FTPD_CMD_RNFR] = ftpd_cmd_rnfr,
	[FTPD_CMD_RNTO] = ftpd_cmd_rnto,
	[FTPD_CMD_SITE] = ftpd_cmd_site,
	[FTPD_CMD_SIZE] = ftpd_cmd_size,
	[FTPD_CMD_STAT] = ftpd_cmd_stat,
	[FTPD_CMD_STOR] = ftpd_cmd_stor,
	[FTPD_CMD_STOU] = ftpd_cmd_stou,
	[FTPD_CMD_STRU] = ftpd_cmd_stru,
	[FTPD_CMD_SYST] = ftpd_cmd_syst,
	[FTPD_CMD_TYPE] = ftpd_cmd_type,
	[FTPD_CMD_USER] = ftpd_cmd_user,
};

/* ftpd_cmd.h promises ftpd_cmd_log_arg; part 1 left it out, so the
 * same rule lives here: SECRET arguments are never shown. */
static const char *log_arg(const struct ftpd_cmd *c)
{
	if (c->def != NULL && (c->def->flags & FTPD_F_SECRET) && c->has_arg)
		return "****";
	return c->arg != NULL ? c->arg : "";
}

static void log_command(struct ftpd_sess *fs, const struct ftpd_cmd *c)
{
	bool info = fs->srv->conf->log_commands;
	if (!info && log_get_level() < LOG_DEBUG)
		return;
	char q[200];
	log_event(info ? LOG_INFO : LOG_DEBUG, "ftp_command", "session=%llu user=%s verb=%s arg=%s",
		  (unsigned long long)session_id(fs->s), ftpd_who(fs),
		  c->def != NULL ? c->def->verb : "?", log_quote(q, sizeof q, log_arg(c)));
}

static void on_line(struct ftpd_sess *fs, char *line, size_t len)
{
	fs->last_ms = time_mono_coarse_ms();
	struct ftpd_cmd c;
	struct ftpd_cmd_refusal r;
	if (ftpd_cmd_parse(line, len, &c, &r) < 0)
		return refused(fs, &r);
	log_command(fs, &c);
	/* RFC 959 4.1.3: RNTO must come right after RNFR. */
	if (fs->state == FTPD_ST_RNFR && (c.def == NULL || c.def->id != FTPD_CMD_RNTO)) {
		free(fs->rnfr);
		fs->rnfr = NULL;
		ftpd_set_state(fs, FTPD_ST_READY);
	}
	if (session_logged_in(fs->s) && ftpd_expired(fs)) {
		ftpd_sess_shutdown(fs, "421 Your account has expired; closing.");
		return;
	}
	struct ftpd_cmd_ctx ctx = {fs->state, session_is_tls(fs->s), fs->epsv_all};
	if (ftpd_cmd_check(&c, &ctx, &r) < 0)
		return refused(fs, &r);
	handler_fn h = handlers[c.def->id];
	if (h == NULL) {
		ftpd_send(fs, FTPD_R_NOT_IMPLEMENTED, "%s not implemented.", c.def->verb);
		return;
	}
	h(fs, &c);
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
			arm_timer(fs, CLOSE_LINGER_MS);
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
	/* ABOR comes with urgent data (Python's ftplib sends it with
	 * MSG_OOB); inline, the line stays whole. */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
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
