/* The commands of any state and of login: CAPABILITY, NOOP, LOGOUT
 * (RFC 3501 6.1), STARTTLS, LOGIN, AUTHENTICATE (6.2; RFC 4959 SASL-IR,
 * RFC 4616 PLAIN through core/sasl; accounts and app passwords with
 * service "imap", the failure delay and lockout shared with every other
 * service), ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342).
 *
 * Login replies (RFC 5530 response codes): OK [CAPABILITY ...] Logged in,
 * NO [AUTHENTICATIONFAILED], NO [UNAVAILABLE] for a temporary failure,
 * BAD for a cancelled exchange; after auth_attempts failures, BYE. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "lib/str.h"

/* RFC 6154: the folders a new user gets, with their attribute. */
static const char *const special_folders[] = {"Sent", "Drafts", "Trash", "Junk", "Archive"};
#define SPECIAL_MARK "inetkit-special-use"

void imap_cmd_capability(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct sbuf b = SBUF_INIT(1024);
	sbuf_addstr(&b, "* CAPABILITY ");
	imap_capabilities(ss, &b);
	sbuf_addstr(&b, "\r\n");
	imap_send_sbuf(ss, &b);
	imap_reply(ss, c->tag, "OK", "Capability completed.");
}

void imap_cmd_noop(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	ik_err e;
	if (ss->sel != NULL)
		imap_folder_sync(ss, ss->sel, true, &e);
	imap_reply(ss, c->tag, "OK", "NOOP completed.");
}

void imap_cmd_logout(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	imap_set_state(ss, IMAP_ST_LOGOUT);
	session_printf(ss->s, "* BYE Logging out\r\n%s OK Logout completed.\r\n", c->tag);
	imap_sess_shutdown(ss, NULL);
}

void imap_cmd_starttls(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	imap_reply(ss, c->tag, "OK", "Begin TLS negotiation now.");
	ik_err e;
	if (session_starttls(ss->s, ss->srv->conf->ssl, &e) < 0) {
		log_event(LOG_ERR, "imap_starttls_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(ss->s), e.msg);
		imap_sess_shutdown(ss, "* BYE TLS is not available");
	}
}

/* A new user's special-use folders, once (a marker file remembers it, so
 * a folder the user deleted is not made again). */
static void make_special(struct imap_sess *ss)
{
	int md = openat(mailstore_dirfd(ss->srv->store), ss->user, O_RDONLY | O_DIRECTORY |
			O_CLOEXEC);
	if (md < 0)
		return;
	if (faccessat(md, SPECIAL_MARK, F_OK, 0) == 0) {
		close(md);
		return;
	}
	for (size_t i = 0; i < sizeof special_folders / sizeof special_folders[0]; i++) {
		char dot[64];
		str_fmt(dot, sizeof dot, ".%s", special_folders[i]);
		if (mkdirat(md, dot, 0700) < 0)
			continue;
		int fd = openat(md, dot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		mkdirat(fd, "tmp", 0700);
		mkdirat(fd, "new", 0700);
		mkdirat(fd, "cur", 0700);
		int mf = openat(fd, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (mf >= 0)
			close(mf);
		close(fd);
	}
	int mk = openat(md, SPECIAL_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (mk >= 0)
		close(mk);
	close(md);
}

/* Logged-in sessions of user in this worker (the registry's list). A
 * phone, a laptop and a few folders' IDLE sessions are normal; hundreds
 * are a runaway client or an attack on one mailbox. */
static uint64_t user_sessions(const struct imap_sess *ss, const char *user)
{
	uint64_t n = 0;
	for (struct server_conn *c = server_first(ss->srv->core); c != NULL; c = server_next(c)) {
		const struct imap_sess *o = c->arg;
		if (o != NULL && o != ss && o->state != IMAP_ST_NOAUTH && !o->closing &&
		    strcmp(o->user, user) == 0)
			n++;
	}
	return n;
}

static void logged_in(struct imap_sess *ss, const char *tag, const char *name, bool app)
{
	uint64_t max = ss->srv->conf->max_per_user;
	if (max > 0 && user_sessions(ss, name) >= max) {
		log_event(LOG_NOTICE, "imap_login_refused", "session=%llu peer=%s user=%s "
			  "reason=max_sessions_per_user", (unsigned long long)session_id(ss->s),
			  ss->host, name);
		imap_reply(ss, tag, "NO", "[LIMIT] Too many sessions of this user (max_sessions_per_user "
			   "%llu)", (unsigned long long)max);
		return;
	}
	str_copy(ss->user, sizeof ss->user, name);
	session_set_login(ss->s, true);
	imap_set_state(ss, IMAP_ST_AUTH);
	/* The INBOX exists from the first login on (mailbox_open makes it). */
	struct mailbox *mb;
	ik_err e;
	if (mailbox_open(ss->srv->store, ss->user, NULL, &mb, &e) == 0)
		mailbox_close(mb);
	make_special(ss);
	log_event(LOG_INFO, "imap_login", "session=%llu peer=%s user=%s%s",
		  (unsigned long long)session_id(ss->s), ss->host, ss->user,
		  app ? " via=app_password" : "");
	struct sbuf b = SBUF_INIT(1024);
	sbuf_printf(&b, "%s OK [CAPABILITY ", tag);
	imap_capabilities(ss, &b);
	sbuf_addstr(&b, "] Logged in\r\n");
	imap_send_sbuf(ss, &b);
}

static void login_failed(struct imap_sess *ss, const char *tag, enum account_status st)
{
	if (st == ACCOUNT_BUSY || st == ACCOUNT_ERROR) {
		imap_reply(ss, tag, "NO", "[UNAVAILABLE] Temporary authentication failure; try "
			   "again later");
		return;
	}
	if (++ss->auth_failures >= ss->srv->conf->auth_attempts) {
		imap_sess_shutdown(ss, "* BYE Too many failed logins.");
		return;
	}
	if (st == ACCOUNT_LOCKED)
		imap_reply(ss, tag, "NO", "[UNAVAILABLE] Too many failed logins; try again later");
	else if (st == ACCOUNT_EXPIRED || st == ACCOUNT_DISABLED)
		imap_reply(ss, tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed: %s",
			   account_status_public(st));
	else
		imap_reply(ss, tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed.");
}

static void on_verified(const struct account_result *r, void *arg)
{
	struct imap_sess *ss = arg;
	ss->auth_req = NULL;
	session_resume(ss->s);
	if (ss->closing)
		return;
	if (r->status != ACCOUNT_OK)
		login_failed(ss, ss->auth_tag, r->status);
	else
		logged_in(ss, ss->auth_tag, r->acct.name, r->via_app_password);
}

static void verify(struct imap_sess *ss, const char *name, const char *password)
{
	if (ss->srv->auth == NULL) {
		login_failed(ss, ss->auth_tag, ACCOUNT_UNKNOWN);
		return;
	}
	struct account_query q = {
		.name = name,
		.password = password,
		.service = "imap",
		.peer = ss->host,
	};
	ik_err e;
	ss->auth_req = account_verify(ss->srv->auth, &q, on_verified, ss, &e);
	if (ss->auth_req == NULL) {
		login_failed(ss, ss->auth_tag, ACCOUNT_BUSY);
		return;
	}
	/* Nothing the client sends runs until the answer is in. */
	session_pause(ss->s);
}

void imap_cmd_login(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	char err[IMAP_ERR_MAX];
	const char *user, *pass;
	if (imap_args_parse(c->arg, c->arglen, &a, err) < 0) {
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	if (a.n != 2 || !imap_arg_astring(&a.args[0], &user) ||
	    !imap_arg_astring(&a.args[1], &pass)) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: LOGIN user password");
		return;
	}
	str_copy(ss->auth_tag, sizeof ss->auth_tag, c->tag);
	verify(ss, user, pass);
	/* The arena holds a copy of the password: wipe it. */
	explicit_bzero((char *)a.args[1].str, a.args[1].len);
	imap_args_free(&a);
}

void imap_auth_cancel(struct imap_sess *ss)
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

static void sasl_end(struct imap_sess *ss)
{
	if (ss->sasl != NULL) {
		sasl_clear(ss->sasl);
		free(ss->sasl);
		ss->sasl = NULL;
	}
	if (!ss->closing && session_mode(ss->s) == SESSION_MODE_SASL)
		session_set_mode(ss->s, SESSION_MODE_LINE);
}

static void sasl_next(struct imap_sess *ss, enum sasl_step r, const ik_err *e)
{
	switch (r) {
	case SASL_CONTINUE:
		if (session_mode(ss->s) != SESSION_MODE_SASL)
			session_set_mode(ss->s, SESSION_MODE_SASL);
		session_printf(ss->s, "+ %s\r\n", ss->sasl->challenge);
		break;
	case SASL_DONE: {
		struct sasl *st = ss->sasl;
		ss->sasl = NULL;
		sasl_end(ss);
		if (st->authzid[0] != '\0' && strcmp(st->authzid, st->authcid) != 0)
			login_failed(ss, ss->auth_tag, ACCOUNT_BAD_PASSWORD);
		else
			verify(ss, st->authcid, st->password);
		sasl_clear(st);
		free(st);
		break;
	}
	case SASL_CANCELLED:
		sasl_end(ss);
		imap_reply(ss, ss->auth_tag, "BAD", "Authentication cancelled.");
		break;
	case SASL_FAIL:
	default:
		sasl_end(ss);
		imap_reply(ss, ss->auth_tag, "BAD", "%s", e->msg[0] ? e->msg
			   : "Cannot decode the SASL response");
		break;
	}
}

void imap_cmd_authenticate(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	char *mech_s = c->arg, *initial = NULL;
	char *sp = strchr(mech_s, ' ');
	if (sp != NULL) {
		*sp = '\0';
		initial = sp + 1;
	}
	enum sasl_mech mech;
	if (sasl_mech_parse(mech_s, &mech) < 0 || strcasecmp(mech_s, "PLAIN") != 0) {
		imap_reply(ss, c->tag, "NO", "Unsupported authentication mechanism; use PLAIN");
		return;
	}
	ss->sasl = calloc(1, sizeof *ss->sasl);
	if (ss->sasl == NULL) {
		imap_reply(ss, c->tag, "NO", "[UNAVAILABLE] Out of memory");
		return;
	}
	str_copy(ss->auth_tag, sizeof ss->auth_tag, c->tag);
	ik_err e = {""};
	sasl_next(ss, sasl_start(ss->sasl, mech, initial, &e), &e);
}

void imap_auth_line(struct imap_sess *ss, const struct session_ev *ev)
{
	if (ss->sasl == NULL)
		return;
	ik_err e = {""};
	sasl_next(ss, sasl_step(ss->sasl, ev->line, ev->len, &e), &e);
}

void imap_cmd_id(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	imap_untagged(ss, "ID (\"name\" \"inetkit\" \"vendor\" \"inetkit\")");
	imap_reply(ss, c->tag, "OK", "ID completed.");
}

void imap_cmd_enable(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	char err[IMAP_ERR_MAX];
	if (imap_args_parse(c->arg, c->arglen, &a, err) < 0) {
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	struct sbuf b = SBUF_INIT(256);
	sbuf_addstr(&b, "* ENABLED");
	/* RFC 5161 3.1: only what this command newly enabled is listed;
	 * QRESYNC implies CONDSTORE (RFC 7162 3.2.3). */
	for (size_t i = 0; i < a.n; i++) {
		if (imap_arg_atom_eq(&a.args[i], "CONDSTORE") && !ss->condstore) {
			ss->condstore = true;
			sbuf_addstr(&b, " CONDSTORE");
		} else if (imap_arg_atom_eq(&a.args[i], "QRESYNC") && !ss->qresync) {
			ss->qresync = ss->condstore = true;
			sbuf_addstr(&b, " QRESYNC");
		} else if (imap_arg_atom_eq(&a.args[i], "UTF8=ACCEPT") && !ss->utf8) {
			ss->utf8 = true;
			sbuf_addstr(&b, " UTF8=ACCEPT");
		}
	}
	sbuf_addstr(&b, "\r\n");
	imap_args_free(&a);
	imap_send_sbuf(ss, &b);
	imap_reply(ss, c->tag, "OK", "Enabled.");
}

void imap_cmd_namespace(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	imap_untagged(ss, "NAMESPACE ((\"\" \".\")) NIL NIL");
	imap_reply(ss, c->tag, "OK", "Namespace completed.");
}
