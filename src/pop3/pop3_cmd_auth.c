/* The AUTHORIZATION state: USER and PASS (RFC 1939 7), APOP (RFC 1939 7,
 * only when configured: it needs a secret kept in clear, the
 * apop_secrets file), AUTH with SASL PLAIN (RFC 4616) and LOGIN (RFC
 * 5034, core/sasl; responses read in the session's SASL mode, never
 * logged), STLS (RFC 2595), CAPA (RFC 2449). Passwords are checked by
 * core/account on its pool (service "pop3": app passwords for pop3 work;
 * failure delay and lockouts are the accounts module's, shared with
 * every service). Then the maildrop is opened, locked and listed on the
 * offload pool, and the session enters TRANSACTION.
 *
 * Response codes (RFC 2449 8, RFC 3206): [AUTH] bad credentials or a
 * plaintext login refused, [IN-USE] the maildrop is locked by another
 * session, [LOGIN-DELAY] too soon after the last login, [SYS/TEMP] a
 * failure that may pass, [SYS/PERM] one that will not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "core/offload.h"
#include "lib/str.h"
#include "pop3/pop3_int.h"

/* ---- the maildrop, opened off the loop ---- */

enum open_status { OPEN_OK, OPEN_IN_USE, OPEN_DELAY, OPEN_FAILED };

struct open_job {
	struct mailstore *ms;
	char user[ACCOUNT_NAME_MAX + 1];
	uint64_t login_delay_s;
	enum open_status status;
	int64_t wait_s;
	struct mailbox *mb;
	struct mailbox_list list;
	ik_err e;
};

static void open_work(void *arg)
{
	struct open_job *j = arg;
	j->status = OPEN_FAILED;
	if (mailbox_open(j->ms, j->user, NULL, &j->mb, &j->e) < 0)
		return;
	int r = mailbox_lock(j->mb, &j->e);
	if (r != 0) {
		j->status = r > 0 ? OPEN_IN_USE : OPEN_FAILED;
		return;
	}
	int64_t age;
	if (mailbox_lock_age(j->mb, &age, &j->e) < 0)
		return;
	if (j->login_delay_s > 0 && age >= 0 && (uint64_t)age < j->login_delay_s) {
		j->wait_s = (int64_t)j->login_delay_s - age;
		j->status = OPEN_DELAY;
		return;
	}
	if (mailbox_scan(j->mb, &j->list, &j->e) < 0)
		return;
	/* As Dovecot does: what a reader has seen moves to cur/, its CR LF
	 * size cached in the name, so later sessions (and IMAP) list it
	 * without reading it. */
	bool moved = false;
	for (size_t i = 0; i < j->list.n; i++) {
		struct mailbox_entry *me = &j->list.v[i];
		bool was = me->in_new || strstr(me->name, ",W=") == NULL;
		if (mailbox_to_cur(j->mb, me, &j->e) < 0)
			return;
		moved |= was;
	}
	if (moved && mailbox_sync(j->mb, &j->e) < 0)
		return;
	/* An idle session holds one descriptor besides its socket. */
	mailbox_release_dirs(j->mb);
	j->status = OPEN_OK;
}

static void open_free(struct open_job *j)
{
	mailbox_list_free(&j->list);
	mailbox_close(j->mb);
	free(j);
}

static void open_done(struct pop3_sess *ps, void *arg)
{
	struct open_job *j = arg;
	if (ps == NULL || ps->closing) {
		open_free(j);
		return;
	}
	switch (j->status) {
	case OPEN_OK:
		if (pop3_drop_take(ps, j->mb, &j->list) < 0) {
			pop3_err_quiet(ps, "[SYS/TEMP] Out of memory; try again later");
			break;
		}
		str_copy(ps->user, sizeof ps->user, j->user);
		j->mb = NULL;
		j->list.v = NULL;
		j->list.n = 0;
		session_set_login(ps->s, true);
		pop3_set_state(ps, POP3_ST_TRANS);
		log_event(LOG_INFO, "pop3_login", "session=%llu peer=%s user=%s messages=%llu "
			  "octets=%llu", (unsigned long long)session_id(ps->s), ps->host, ps->user,
			  (unsigned long long)ps->drop.live, (unsigned long long)ps->drop.live_octets);
		pop3_ok(ps, "Logged in; %llu messages (%llu octets)",
			(unsigned long long)ps->drop.live, (unsigned long long)ps->drop.live_octets);
		break;
	case OPEN_IN_USE:
		pop3_err_quiet(ps, "[IN-USE] Mailbox is locked by another POP3 session; try again "
			       "when it has ended");
		break;
	case OPEN_DELAY:
		pop3_err_quiet(ps, "[LOGIN-DELAY] Logged in too recently; wait %lld seconds",
			       (long long)j->wait_s);
		break;
	default:
		log_event(LOG_ERR, "pop3_maildrop_failed", "session=%llu user=%s reason=\"%s\"",
			  (unsigned long long)session_id(ps->s), j->user, j->e.msg);
		pop3_err_quiet(ps, "[SYS/TEMP] Cannot open the mailbox; try again later");
		break;
	}
	open_free(j);
}

static void open_drop(struct pop3_sess *ps, const char *name)
{
	struct open_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		pop3_err_quiet(ps, "[SYS/TEMP] Out of memory; try again later");
		return;
	}
	j->ms = ps->srv->store;
	str_copy(j->user, sizeof j->user, name);
	j->login_delay_s = ps->srv->conf->login_delay_s;
	if (pop3_job_run(ps, open_work, open_done, j) < 0) {
		free(j);
		pop3_err_quiet(ps, "[SYS/TEMP] Server busy; try again later");
	}
}

/* ---- credentials ---- */

static void auth_failed(struct pop3_sess *ps, enum account_status st)
{
	const struct pop3_conf *c = ps->srv->conf;
	if (st == ACCOUNT_BUSY || st == ACCOUNT_ERROR) {
		pop3_err_quiet(ps, "[SYS/TEMP] Temporary authentication failure; try again later");
		return;
	}
	log_event(LOG_INFO, "pop3_auth_failed", "session=%llu peer=%s result=%s",
		  (unsigned long long)session_id(ps->s), ps->host, account_status_word(st));
	if (++ps->auth_failures >= c->auth_attempts) {
		pop3_shutdown(ps, "-ERR [AUTH] Too many failed logins; closing",
			      "too many failed logins");
		return;
	}
	if (st == ACCOUNT_LOCKED)
		pop3_err_quiet(ps, "[AUTH] Too many failed logins for this account or address; "
			       "try again later");
	else if (st == ACCOUNT_EXPIRED || st == ACCOUNT_DISABLED)
		pop3_err_quiet(ps, "[AUTH] Authentication failed: %s", account_status_public(st));
	else
		pop3_err_quiet(ps, "[AUTH] Authentication failed");
}

static void on_verified(const struct account_result *r, void *arg)
{
	struct pop3_sess *ps = arg;
	ps->auth_req = NULL;
	session_resume(ps->s);
	if (ps->closing)
		return;
	if (r->status != ACCOUNT_OK) {
		auth_failed(ps, r->status);
		return;
	}
	log_event(LOG_INFO, "pop3_auth", "session=%llu peer=%s user=%s%s",
		  (unsigned long long)session_id(ps->s), ps->host, r->acct.name,
		  r->via_app_password ? " via=app_password" : ps->via_apop ? " via=apop" : "");
	open_drop(ps, r->acct.name);
}

/* challenge: NULL for a password; its ctx is handed over either way. */
static void verify(struct pop3_sess *ps, const char *name, const char *password,
		   const struct account_challenge *challenge)
{
	if (ps->srv->auth == NULL) {
		if (challenge != NULL && challenge->ctx_free != NULL)
			challenge->ctx_free(challenge->ctx);
		pop3_err_quiet(ps, "[SYS/PERM] Logins are not enabled (no accounts database)");
		return;
	}
	struct account_query q = {
		.name = name,
		.password = password,
		.service = "pop3",
		.peer = ps->host,
		.challenge = challenge,
	};
	ps->via_apop = challenge != NULL;
	ik_err e;
	ps->auth_req = account_verify(ps->srv->auth, &q, on_verified, ps, &e);
	if (ps->auth_req == NULL) {
		auth_failed(ps, ACCOUNT_BUSY);
		return;
	}
	session_pause(ps->s);
}

void pop3_cmd_user(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	if (str_copy(ps->user_arg, sizeof ps->user_arg, c->arg) < 0) {
		ps->user_arg[0] = '\0';
		pop3_err(ps, "Name too long");
		return;
	}
	pop3_ok(ps, "Send PASS");
}

void pop3_cmd_pass(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	if (ps->user_arg[0] == '\0') {
		pop3_err(ps, "No name given; send USER first");
		return;
	}
	char name[ACCOUNT_NAME_MAX + 1];
	str_copy(name, sizeof name, ps->user_arg);
	ps->user_arg[0] = '\0';
	verify(ps, name, c->arg, NULL);
}

/* ---- APOP ---- */

/* APOP is a login of the accounts module like PASS (core/account.h's
 * challenge): the account must exist and be usable, a wrong digest
 * counts towards its lockout and the address's and is answered after the
 * failure delay, and the login log has it (via=apop). Only the check is
 * ours: the secret comes from the apop_secrets file, not the account's
 * password hash (which cannot give MD5(timestamp + secret)). */
struct apop_ctx {
	char path[ACCOUNT_PATH_MAX];
	char stamp[160];	/* the greeting's <...> */
};

/* On the accounts pool: 1 the digest is right, 0 not, -1 error. */
static int apop_check(const char *name, const char *response, void *arg, ik_err *e)
{
	const struct apop_ctx *x = arg;
	char digest[33];
	size_t n = strlen(response);
	if (n != 32)
		return 0;
	for (size_t i = 0; i <= n; i++)
		digest[i] = response[i] >= 'A' && response[i] <= 'F'
				    ? (char)(response[i] - 'A' + 'a') : response[i];
	char secret[POP3_APOP_SECRETS_MAX];
	int r = pop3_apop_secret(x->path, name, secret, sizeof secret, e);
	if (r <= 0)
		return r;
	char buf[sizeof x->stamp + sizeof secret];
	int len = str_fmt(buf, sizeof buf, "%s%s", x->stamp, secret);
	explicit_bzero(secret, sizeof secret);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	/* RFC 1939 7: MD5 of timestamp + secret, as lower-case hex. */
	int ok = len > 0 && EVP_Digest(buf, (size_t)len, md, &mdlen, EVP_md5(), NULL) == 1 &&
		 mdlen == 16;
	explicit_bzero(buf, sizeof buf);
	if (!ok)
		return ik_err_set(e, "MD5 failed");
	char hex[33];
	for (unsigned i = 0; i < mdlen; i++)
		str_fmt(hex + 2 * i, 3, "%02x", md[i]);
	return CRYPTO_memcmp(hex, digest, 32) == 0 ? 1 : 0;
}

void pop3_cmd_apop(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	struct apop_ctx *x = calloc(1, sizeof *x);
	if (x == NULL) {
		pop3_err_quiet(ps, "[SYS/TEMP] Out of memory; try again later");
		return;
	}
	str_copy(x->path, sizeof x->path, ps->srv->conf->apop_secrets);
	str_copy(x->stamp, sizeof x->stamp, ps->apop_stamp);
	struct account_challenge ch = {
		.mech = "apop",
		.check = apop_check,
		.ctx = x,
		.ctx_free = free,
	};
	verify(ps, c->argv[0], c->argv[1], &ch);
}

/* ---- AUTH ---- */

static void sasl_end(struct pop3_sess *ps)
{
	if (ps->sasl != NULL) {
		sasl_clear(ps->sasl);
		free(ps->sasl);
		ps->sasl = NULL;
	}
	if (!ps->closing && session_mode(ps->s) == SESSION_MODE_SASL) {
		session_set_mode(ps->s, SESSION_MODE_LINE);
		session_set_max_line(ps->s, POP3_LINE_MAX - 2);
	}
}

void pop3_auth_cancel(struct pop3_sess *ps)
{
	if (ps->auth_req != NULL) {
		account_verify_cancel(ps->auth_req);
		ps->auth_req = NULL;
	}
	if (ps->sasl != NULL) {
		sasl_clear(ps->sasl);
		free(ps->sasl);
		ps->sasl = NULL;
	}
}

static void sasl_verify(struct pop3_sess *ps)
{
	struct sasl *st = ps->sasl;
	if (st->authzid[0] != '\0' && strcmp(st->authzid, st->authcid) != 0) {
		sasl_end(ps);
		auth_failed(ps, ACCOUNT_BAD_PASSWORD);
		return;
	}
	char name[SASL_NAME_MAX + 1];
	str_copy(name, sizeof name, st->authcid);
	/* verify copies the password; ours is wiped right after. */
	verify(ps, name, st->password, NULL);
	sasl_end(ps);
}

static void step(struct pop3_sess *ps, enum sasl_step r, const ik_err *e)
{
	switch (r) {
	case SASL_CONTINUE:
		if (session_mode(ps->s) != SESSION_MODE_SASL) {
			session_set_max_line(ps->s, POP3_SASL_LINE_MAX - 2);
			session_set_mode(ps->s, SESSION_MODE_SASL);
		}
		/* RFC 5034 4: "+ " and the base64 challenge ("" included). */
		pop3_send(ps, "+ ", 2);
		pop3_send(ps, ps->sasl->challenge, strlen(ps->sasl->challenge));
		pop3_send(ps, "\r\n", 2);
		break;
	case SASL_DONE:
		sasl_verify(ps);
		break;
	case SASL_CANCELLED:
		sasl_end(ps);
		pop3_err(ps, "Authentication cancelled");
		break;
	case SASL_FAIL:
	default:
		sasl_end(ps);
		pop3_err(ps, "%s", e->msg[0] ? e->msg : "Cannot decode the SASL response");
		break;
	}
}

void pop3_cmd_auth(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	if (c->argc == 0) {
		/* The mechanism list some clients ask for (RFC 1734 era). */
		pop3_send(ps, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n", 22);
		return;
	}
	enum sasl_mech mech;
	if (sasl_mech_parse(c->argv[0], &mech) < 0) {
		pop3_err(ps, "Unsupported authentication mechanism; use one of: %s",
			 sasl_mech_list());
		return;
	}
	ps->sasl = calloc(1, sizeof *ps->sasl);
	if (ps->sasl == NULL) {
		pop3_err_quiet(ps, "[SYS/TEMP] Out of memory; try again later");
		return;
	}
	ik_err e = {""};
	enum sasl_step r = sasl_start(ps->sasl, mech, c->argc > 1 ? c->argv[1] : NULL, &e);
	step(ps, r, &e);
}

void pop3_auth_line(struct pop3_sess *ps, const struct session_ev *ev)
{
	if (ps->sasl == NULL)
		return;
	ik_err e = {""};
	enum sasl_step r = sasl_step(ps->sasl, ev->line, ev->len, &e);
	step(ps, r, &e);
}

/* ---- STLS, CAPA ---- */

void pop3_cmd_stls(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	pop3_ok(ps, "Begin TLS negotiation");
	ik_err e;
	if (session_starttls(ps->s, ps->srv->conf->ssl, &e) < 0) {
		log_event(LOG_ERR, "pop3_stls_failed", "session=%llu reason=\"%s\"",
			  (unsigned long long)session_id(ps->s), e.msg);
		pop3_shutdown(ps, NULL, "STLS failed");
		return;
	}
	/* RFC 2595 4: the client starts again; a USER given before is void. */
	ps->user_arg[0] = '\0';
}

void pop3_cmd_capa(struct session_call *c)
{
	struct pop3_sess *ps = c->proto;
	const struct pop3_conf *conf = ps->srv->conf;
	bool tls = session_is_tls(ps->s);
	bool auth = ps->state == POP3_ST_AUTH;
	bool login_ok = auth && (tls || conf->allow_plaintext_auth);
	struct pop3_capa o = {
		.stls = auth && !tls && conf->ssl != NULL,
		.user = login_ok,
		.sasl = login_ok,
		.login_delay_s = conf->login_delay_s,
		.expire_days = conf->expire_days,
	};
	struct sbuf b = SBUF_INIT(1024);
	if (pop3_capa_reply(&b, &o) == 0)
		pop3_send(ps, b.data, b.len);
	else
		pop3_err_quiet(ps, "[SYS/TEMP] Out of memory");
	sbuf_free(&b);
}
