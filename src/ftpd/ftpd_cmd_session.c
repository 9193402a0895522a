/* Settings and simple commands of the control connection: RFC 959
 * (TYPE, MODE, STRU, ALLO, NOOP, SYST, QUIT, ABOR, STAT), RFC 3659 (REST
 * STREAM), RFC 2389 (FEAT, OPTS), RFC 2640 (OPTS UTF8), RFC 4217 (AUTH
 * TLS, PBSZ, PROT), RFC 7151 (HOST). The core has already checked
 * what ftpd_cmd.c's table says: state, TLS and the argument count. */
#include <string.h>

#include "inetkit_config.h"
#include "core/log.h"
#include "ftpd/ftpd_args.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_xfer.h"
#include "ftpd/ftpd_list.h"

static void refused(struct ftpd_sess *fs, const struct ftpd_cmd_refusal *r)
{
	ftpd_send(fs, r->code, "%s", r->text);
}

void ftpd_cmd_noop(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	ftpd_send(fs, FTPD_R_OK, "NOOP ok.");
}

void ftpd_cmd_syst(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	ftpd_send(fs, FTPD_R_SYSTEM, "UNIX Type: L8");
}

void ftpd_cmd_quit(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (fs->xfer != NULL) {
		/* RFC 959 4.1.1: QUIT waits for the transfer and its reply. */
		fs->quit_pending = true;
		return;
	}
	ftpd_sess_shutdown(fs, "221 Goodbye.");
}

void ftpd_cmd_abor(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (fs->xfer != NULL) {
		ftpd_xfer_abort(fs);
		return;
	}
	ftpd_data_reset(fs);
	ftpd_send(fs, FTPD_R_DATA_OPEN, "No transfer to abort.");
}

void ftpd_cmd_type(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	char t;
	if (ftpd_args_type(c->argv, c->argc, &t, &r) < 0)
		return refused(fs, &r);
	fs->type = t;
	ftpd_send(fs, FTPD_R_OK, t == 'A' ? "Switching to ASCII mode." : "Switching to Binary mode.");
}

void ftpd_cmd_mode(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	if (ftpd_args_mode(c->argv[0], &r) < 0)
		return refused(fs, &r);
	ftpd_send(fs, FTPD_R_OK, "Mode set to S.");
}

void ftpd_cmd_stru(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	if (ftpd_args_stru(c->argv[0], &r) < 0)
		return refused(fs, &r);
	ftpd_send(fs, FTPD_R_OK, "Structure set to F.");
}

void ftpd_cmd_rest(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	uint64_t off;
	if (ftpd_args_rest(c->argv[0], &off, &r) < 0)
		return refused(fs, &r);
	fs->rest = off;
	ftpd_send(fs, FTPD_R_PENDING, "Restart position accepted (%llu).", (unsigned long long)off);
}

void ftpd_cmd_allo(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	ftpd_send(fs, FTPD_R_SUPERFLUOUS, "ALLO not needed: no storage is reserved here.");
}

void ftpd_cmd_features(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	char facts[128];
	ftpd_list_facts_text(fs->facts, true, facts, sizeof facts);
	struct sbuf b = SBUF_INIT(8192);
	ftpd_cmd_feat(&b, fs->srv->conf->ssl != NULL, facts);
	ftpd_send_sbuf(fs, &b);
}

void ftpd_cmd_helptext(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct sbuf b = SBUF_INIT(16384);
	const char *topic = c->argc > 0 ? c->argv[0] : NULL;
	ftpd_cmd_help(&b, topic);
	ftpd_send_sbuf(fs, &b);
}

void ftpd_cmd_opts(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	struct ftpd_opts o;
	if (ftpd_args_opts(c->arg, &o, &r) < 0)
		return refused(fs, &r);
	if (o.kind == FTPD_OPTS_UTF8) {
		/* RFC 2640: names are sent as stored, and they are UTF-8. */
		ftpd_send(fs, FTPD_R_OK, o.utf8_on ? "UTF8 mode is always on."
			  : "Names are always sent as stored (UTF-8); nothing to switch off.");
		return;
	}
	fs->facts = ftpd_list_facts_parse(o.mlst_facts);
	char facts[128];
	ftpd_list_facts_text(fs->facts, false, facts, sizeof facts);
	ftpd_send(fs, FTPD_R_OK, "MLST OPTS %s", facts);
}

void ftpd_cmd_host(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	if (ftpd_args_host(c->argv[0], &r) < 0)
		return refused(fs, &r);
	/* One site per server: every name is the same virtual host. */
	ftpd_send(fs, FTPD_R_READY, "Host accepted.");
}

void ftpd_cmd_auth(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	SSL_CTX *ctx = fs->srv->conf->ssl;
	if (ctx == NULL) {
		ftpd_send(fs, FTPD_R_NOT_IMPLEMENTED, "TLS is not enabled on this server.");
		return;
	}
	if (ftpd_args_auth(c->argv[0], &r) < 0)
		return refused(fs, &r);
	ftpd_send(fs, FTPD_R_AUTH_OK, "Proceed with TLS negotiation.");
	ik_err e;
	/* Anything the client pipelined behind AUTH is dropped by the core,
	 * never executed as if it had come over TLS. */
	if (session_starttls(fs->s, ctx, &e) < 0) {
		log_event(LOG_WARNING, "ftp_tls", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(fs->s), e.msg);
		session_close(fs->s, "TLS upgrade failed");
		return;
	}
	ftpd_tls_bind_control(fs);
	/* RFC 4217 section 4: the USER given before AUTH is forgotten. */
	fs->user[0] = '\0';
	ftpd_set_state(fs, FTPD_ST_AUTH);
}

void ftpd_cmd_pbsz(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	if (ftpd_args_pbsz(c->argv[0], &r) < 0)
		return refused(fs, &r);
	fs->pbsz = true;
	ftpd_send(fs, FTPD_R_OK, "PBSZ=0");
}

void ftpd_cmd_prot(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_cmd_refusal r;
	char level;
	if (ftpd_args_prot(c->argv[0], &level, &r) < 0)
		return refused(fs, &r);
	if (level == 'C' && fs->srv->conf->require_tls_data) {
		ftpd_send(fs, FTPD_R_POLICY, "Data connections must use TLS here: send PROT P.");
		return;
	}
	fs->prot = level;
	ftpd_send(fs, FTPD_R_OK, level == 'P' ? "Protection level set to Private."
		  : "Protection level set to Clear.");
}

void ftpd_cmd_stat(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	if (c->arglen > 0) {
		ftpd_cmd_stat_path(fs, c);
		return;
	}
	struct ftpd_status st = {
		.server = "inetkit " INETKIT_VERSION " FTP server",
		.peer = session_peer(fs->s),
		.user = session_logged_in(fs->s) ? ftpd_who(fs) : NULL,
		.tls_control = session_is_tls(fs->s),
		.tls_data = fs->prot == 'P',
		.type = fs->type,
		.bytes_in = session_bytes_in(fs->s),
		.bytes_out = session_bytes_out(fs->s),
		.idle_timeout_s = (unsigned)(fs->srv->conf->idle_ms / 1000),
		.transfer_active = fs->xfer != NULL,
		.transfer_name = fs->xfer != NULL ? ftpd_xfer_name(fs->xfer) : NULL,
		.transfer_bytes = fs->xfer != NULL ? ftpd_xfer_bytes(fs->xfer) : 0,
	};
	struct sbuf b = SBUF_INIT(8192);
	ftpd_reply_status(&b, &st);
	ftpd_send_sbuf(fs, &b);
}

