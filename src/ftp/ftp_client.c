/* The FTP client session: connect, optional TLS (RFC 4217: AUTH TLS, PBSZ
 * 0, PROT P; or implicit TLS), login (RFC 959 USER/PASS), FEAT (RFC 2389),
 * UTF-8 names (RFC 2640 OPTS UTF8 ON) and the small commands. The login is
 * a state machine driven by one loop; client_set_state is the only place
 * the state changes. */
#include "ftp/ftp_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"
#include "core/tls.h"
#include "ftp/ftp_netrc.h"

static const char *const state_names[FTP_ST_COUNT] = {
	[FTP_ST_CLOSED] = "closed", [FTP_ST_GREETING] = "greeting", [FTP_ST_AUTH] = "auth-tls",
	[FTP_ST_PBSZ] = "pbsz", [FTP_ST_PROT] = "prot", [FTP_ST_USER] = "user",
	[FTP_ST_PASS] = "pass", [FTP_ST_FEAT] = "feat", [FTP_ST_OPTS] = "opts-utf8",
	[FTP_ST_PWD] = "pwd", [FTP_ST_READY] = "ready", [FTP_ST_DATA] = "data",
	[FTP_ST_QUIT] = "quit",
};

static const char *const secret_verbs[] = {"PASS", "ACCT", NULL};

static const struct client_dialect ftp_dialect = {
	.name = "ftp",
	.label = "FTP",
	.state_names = state_names,
	.nstates = FTP_ST_COUNT,
	.default_expect = CLIENT_EXPECT_NUMERIC,
	.secret_verbs = secret_verbs,
};

void ftp_opts_default(struct ftp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->family = AF_UNSPEC;
	o->connect_timeout_ms = CLIENT_CONNECT_TIMEOUT_DEFAULT;
	o->reply_timeout_ms = CLIENT_REPLY_TIMEOUT_DEFAULT;
	o->greeting_timeout_ms = FTP_GREETING_TIMEOUT_DEFAULT;
	o->data_timeout_ms = 60000;
}

bool ftp_connected(const struct ftp *f)
{
	return f->c != NULL && client_state(f->c) != FTP_ST_CLOSED;
}

int ftp_reply_error(struct ftp *f, ik_err *e)
{
	return ik_err_set(e, "%s", client_reply_text(&f->r));
}

int ftp_cmd(struct ftp *f, const char *verb, const char *arg, ik_err *e)
{
	if (f->c == NULL)
		return ik_err_set(e, "not connected (use 'open HOST')");
	if (client_command(f->c, verb, arg, &f->r, e) < 0) {
		/* A broken control connection ends the session. */
		if (strstr(e != NULL ? e->msg : "", "refusing to send") == NULL) {
			client_conn_abort(client_connection(f->c));
			client_set_state(f->c, FTP_ST_CLOSED);
		}
		return -1;
	}
	/* 421: the server is closing the control connection. */
	if (f->r.code == 421) {
		client_conn_abort(client_connection(f->c));
		client_set_state(f->c, FTP_ST_CLOSED);
	}
	return f->r.code;
}

int ftp_expect(struct ftp *f, const char *verb, const char *arg, int cls, ik_err *e)
{
	int code = ftp_cmd(f, verb, arg, e);
	if (code < 0)
		return -1;
	if (ftp_reply_class(code) != cls)
		return ftp_reply_error(f, e);
	return 0;
}

static void format_ms(char *buf, size_t sz, uint64_t ms)
{
	if (ms % 1000 == 0)
		str_fmt(buf, sz, "%llus", (unsigned long long)(ms / 1000));
	else
		str_fmt(buf, sz, "%llums", (unsigned long long)ms);
}

/* An FTP server speaks first (RFC 959 5.4: 220, or 120 then 220). A peer
 * that stays silent (an echo or HTTP server waits for us) or whose first
 * line is no FTP reply (SSH-2.0-..., +OK ...) is not one: say so at once
 * instead of waiting out the reply timeout and suggesting a longer one. */
static int read_greeting(struct ftp *f, ik_err *e)
{
	const char *peer = client_connection(f->c)->peer_text;
	uint64_t ms = f->o.greeting_timeout_ms;
	if (ms == 0 || ms > f->o.reply_timeout_ms)
		ms = f->o.reply_timeout_ms;
	int w = client_wait_line(f->c, ms, e);
	if (w < 0)
		return -1;
	if (w == 0) {
		char d[32];
		format_ms(d, sizeof d, ms);
		return ik_err_set(e, "%s did not greet like an FTP server: it sent no reply line "
				  "within %s; is it an FTP server? (a slow one: raise "
				  "--greeting-timeout)", peer, d);
	}
	if (client_read_reply(f->c, &f->r, e) == 0)
		return 0;
	if (f->r.nlines == 1 && f->r.code == 0) {
		/* The first line broke the FTP reply rule (the text is
		 * already free of control bytes). */
		const char *t = client_reply_text(&f->r);
		size_t n = strlen(t);
		return ik_err_set(e, "%s did not greet like an FTP server: it sent '%.40s%s'; "
				  "is it an FTP server?", peer, t, n > 40 ? "..." : "");
	}
	return -1;
}

/* The login sequence: each state sends one command and picks the next
 * state from the reply. */
static int login_step(struct ftp *f, const struct ftp_cred *cred, ik_err *e)
{
	int st = client_state(f->c);
	int code;
	switch (st) {
	case FTP_ST_GREETING:
		if (read_greeting(f, e) < 0)
			return -1;
		while (f->r.code == 120) {	/* "ready in nnn minutes", then 220 */
			if (client_read_reply(f->c, &f->r, e) < 0)
				return -1;
		}
		if (f->r.code != 220)
			return ftp_reply_error(f, e);
		client_set_state(f->c, f->o.tls && !f->implicit_tls ? FTP_ST_AUTH
					: f->implicit_tls ? FTP_ST_PBSZ : FTP_ST_USER);
		return 0;
	case FTP_ST_AUTH:
		if (ftp_cmd(f, "AUTH", "TLS", e) < 0)
			return -1;
		if (f->r.code != 234) {
			ftp_reply_error(f, e);
			return ik_err_prefix(e, "the server refused TLS");
		}
		if (client_starttls(f->c, f->tls_ctx, !f->o.insecure, e) < 0)
			return -1;
		client_set_state(f->c, FTP_ST_PBSZ);
		return 0;
	case FTP_ST_PBSZ:
		if (ftp_expect(f, "PBSZ", "0", 2, e) < 0)
			return -1;
		client_set_state(f->c, FTP_ST_PROT);
		return 0;
	case FTP_ST_PROT:
		if (ftp_expect(f, "PROT", "P", 2, e) < 0)
			return -1;
		f->prot_p = true;
		client_set_state(f->c, FTP_ST_USER);
		return 0;
	case FTP_ST_USER:
		code = ftp_cmd(f, "USER", cred->user, e);
		if (code < 0)
			return -1;
		if (code == 230)
			client_set_state(f->c, FTP_ST_FEAT);
		else if (code == 331)
			client_set_state(f->c, FTP_ST_PASS);
		else
			return ftp_reply_error(f, e);
		return 0;
	case FTP_ST_PASS:
		code = ftp_cmd(f, "PASS", cred->pass, e);
		if (code < 0)
			return -1;
		if (code == 332) {
			return ik_err_set(e, "%s (accounts, ACCT, are not supported)",
					  client_reply_text(&f->r));
		}
		if (code != 230 && code != 202)
			return ftp_reply_error(f, e);
		client_set_state(f->c, FTP_ST_FEAT);
		return 0;
	case FTP_ST_FEAT:
		code = ftp_cmd(f, "FEAT", NULL, e);
		if (code < 0)
			return -1;
		if (code == 211)
			ftp_parse_feat(client_reply_text(&f->r), &f->feat);
		client_set_state(f->c, f->feat.utf8 ? FTP_ST_OPTS : FTP_ST_PWD);
		return 0;
	case FTP_ST_OPTS:
		/* Servers that list UTF8 mostly have it on already; the answer
		 * does not change what we send. */
		if (ftp_cmd(f, "OPTS", "UTF8 ON", e) < 0)
			return -1;
		client_set_state(f->c, FTP_ST_PWD);
		return 0;
	case FTP_ST_PWD:
		code = ftp_cmd(f, "PWD", NULL, e);
		if (code < 0)
			return -1;
		if (code != 257 || ftp_parse_pwd(client_reply_text(&f->r), f->home,
						 sizeof f->home) < 0)
			str_copy(f->home, sizeof f->home, "/");
		str_copy(f->cwd, sizeof f->cwd, f->home);
		client_set_state(f->c, FTP_ST_READY);
		return 0;
	default:
		return ik_err_set(e, "internal: login in state %d", st);
	}
}

int ftp_open(struct ftp *f, const struct ftp_opts *o, SSL_CTX *tls_ctx, const char *host,
	     uint16_t port, bool implicit_tls, const struct ftp_cred *cred, ik_err *e)
{
	memset(f, 0, sizeof *f);
	f->o = *o;
	f->tls_ctx = tls_ctx;
	f->implicit_tls = implicit_tls;
	f->passive = !o->active;
	f->ascii = o->ascii;
	client_reply_init(&f->r);
	struct client_opts co;
	client_opts_default(&co);
	co.family = o->family;
	co.connect_timeout_ms = o->connect_timeout_ms;
	co.reply_timeout_ms = o->reply_timeout_ms;
	co.trace = o->trace ? stderr : NULL;
	str_copy(co.trace_tag, sizeof co.trace_tag, o->trace_tag);
	f->c = client_new(&ftp_dialect, f, &co);
	if (f->c == NULL)
		return ik_err_set(e, "out of memory");
	if ((implicit_tls || o->tls) && tls_ctx == NULL)
		return ik_err_set(e, "internal: TLS requested without a TLS context");
	if (client_connect(f->c, host, port, e) < 0)
		return -1;
	if (implicit_tls && client_starttls(f->c, tls_ctx, !o->insecure, e) < 0)
		return -1;
	client_set_state(f->c, FTP_ST_GREETING);
	while (client_state(f->c) != FTP_ST_READY) {
		if (login_step(f, cred, e) < 0) {
			client_conn_abort(client_connection(f->c));
			client_set_state(f->c, FTP_ST_CLOSED);
			return -1;
		}
	}
	return 0;
}

void ftp_close(struct ftp *f)
{
	if (f->c != NULL) {
		if (ftp_connected(f)) {
			ik_err e;
			client_set_state(f->c, FTP_ST_QUIT);
			/* The answer to QUIT matters little; do not wait long. */
			ftp_cmd(f, "QUIT", NULL, &e);
			client_conn_close(client_connection(f->c), 1000);
			client_set_state(f->c, FTP_ST_CLOSED);
		}
		client_free(f->c);
		f->c = NULL;
	}
	client_reply_free(&f->r);
}

int ftp_set_type(struct ftp *f, bool ascii, ik_err *e)
{
	char want = ascii ? 'A' : 'I';
	if (f->type_sent == want)
		return 0;
	if (ftp_expect(f, "TYPE", ascii ? "A" : "I", 2, e) < 0)
		return -1;
	f->type_sent = want;
	return 0;
}

int ftp_cwd(struct ftp *f, const char *path, ik_err *e)
{
	if (ftp_expect(f, "CWD", path, 2, e) < 0)
		return -1;
	if (ftp_cmd(f, "PWD", NULL, e) < 0)
		return -1;
	if (f->r.code != 257 ||
	    ftp_parse_pwd(client_reply_text(&f->r), f->cwd, sizeof f->cwd) < 0)
		ftp_path_join(f->cwd, sizeof f->cwd, f->cwd, path);
	return 0;
}

int ftp_is_dir(struct ftp *f, const char *path, ik_err *e)
{
	int code = ftp_cmd(f, "CWD", path, e);
	if (code < 0)
		return -1;
	if (ftp_reply_class(code) != 2)
		return 0;
	if (ftp_expect(f, "CWD", f->cwd, 2, e) < 0)
		return -1;
	return 1;
}

int ftp_size(struct ftp *f, const char *path, uint64_t *size, ik_err *e)
{
	/* SIZE counts the bytes of the current TYPE; binary is what we want. */
	if (ftp_set_type(f, false, e) < 0)
		return -1;
	int code = ftp_cmd(f, "SIZE", path, e);
	if (code < 0)
		return -1;
	if (code == 213 && ftp_parse_size(client_reply_text(&f->r), size) == 0)
		return 1;
	return 0;
}

int ftp_mdtm(struct ftp *f, const char *path, time_t *t, ik_err *e)
{
	int code = ftp_cmd(f, "MDTM", path, e);
	if (code < 0)
		return -1;
	if (code == 213 && ftp_parse_time(client_reply_text(&f->r), t) == 0)
		return 1;
	return 0;
}

int ftp_set_mtime(struct ftp *f, const char *path, time_t t, ik_err *e)
{
	if (!f->feat.mfmt)
		return 1;
	struct tm tm;
	gmtime_r(&t, &tm);
	char arg[FTP_PATH_MAX + 32];
	if (str_fmt(arg, sizeof arg, "%04d%02d%02d%02d%02d%02d %s", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, path) < 0)
		return ik_err_set(e, "path too long");
	int code = ftp_cmd(f, "MFMT", arg, e);
	if (code < 0)
		return -1;
	return ftp_reply_class(code) == 2 ? 0 : 1;
}

int ftp_rename(struct ftp *f, const char *from, const char *to, ik_err *e)
{
	int code = ftp_cmd(f, "RNFR", from, e);
	if (code < 0)
		return -1;
	if (code != 350)
		return ftp_reply_error(f, e);
	return ftp_expect(f, "RNTO", to, 2, e);
}

int ftp_mkdir_p(struct ftp *f, const char *path, ik_err *e)
{
	char buf[FTP_PATH_MAX];
	if (str_copy(buf, sizeof buf, path) < 0)
		return ik_err_set(e, "path too long");
	size_t len = strlen(buf);
	/* Each prefix that ends at a '/', then the whole path. */
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char save = buf[i];
		buf[i] = '\0';
		int code = ftp_cmd(f, "MKD", buf, e);
		if (code < 0)
			return -1;
		if (ftp_reply_class(code) != 2) {
			/* Already there? A directory we can enter is fine. */
			ftp_reply_error(f, e);
			ik_err tmp;
			int c2 = ftp_cmd(f, "CWD", buf, &tmp);
			if (c2 < 0 || ftp_reply_class(c2) != 2)
				return -1;
			if (ftp_cmd(f, "CWD", f->cwd, e) < 0)
				return -1;
		}
		buf[i] = save;
	}
	return 0;
}

int ftp_abs_path(const struct ftp *f, const char *path, char *out, size_t outsz)
{
	if (path[0] == '/')
		return str_copy(out, outsz, path);
	if (path[0] == '\0')
		return str_copy(out, outsz, f->home);
	return ftp_path_join(out, outsz, f->home, path);
}

int ftp_cred_resolve(const struct ftp_url *u, const char *user, bool password_stdin,
		     const char *netrc_path, struct ftp_cred *out, ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (u->has_user && u->has_pass) {
		str_copy(out->user, sizeof out->user, u->user);
		str_copy(out->pass, sizeof out->pass, u->pass);
		return 0;
	}
	const char *name = u->has_user ? u->user : user;
	struct ftp_netrc_match m;
	if (!password_stdin) {
		int found = ftp_netrc_lookup(netrc_path, u->host, name, &m, e);
		if (found < 0)
			return -1;
		if (found && name == NULL && m.has_login)
			name = m.login;
		if (found && name != NULL && m.has_password) {
			str_copy(out->user, sizeof out->user, name);
			str_copy(out->pass, sizeof out->pass, m.password);
			return 0;
		}
	}
	if (name == NULL) {
		str_copy(out->user, sizeof out->user, "anonymous");
		str_copy(out->pass, sizeof out->pass, "anonymous@");
		return 0;
	}
	str_copy(out->user, sizeof out->user, name);
	if (strcmp(name, "anonymous") == 0 || strcmp(name, "ftp") == 0) {
		str_copy(out->pass, sizeof out->pass, "anonymous@");
		return 0;
	}
	char prompt[FTP_URL_FIELD_MAX + 40];
	str_fmt(prompt, sizeof prompt, "Password for %s@%s: ", name, u->host);
	if (password_stdin) {
		if (fgets(out->pass, sizeof out->pass, stdin) == NULL)
			return ik_err_set(e, "--password-stdin: no password on standard input");
		out->pass[strcspn(out->pass, "\r\n")] = '\0';
		return 0;
	}
	if (term_read_secret(prompt, out->pass, sizeof out->pass) < 0)
		return ik_err_set(e, "no password for %s (give it on a terminal, with "
				  "--password-stdin, or in ~/.netrc)", name);
	return 0;
}

SSL_CTX *ftp_tls_ctx_new(const struct ftp_opts *o, ik_err *e)
{
	struct tls_client_opts to = {.ca_file = o->cacert, .insecure = o->insecure};
	return tls_client_ctx(&to, e);
}
