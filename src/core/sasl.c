/* SASL PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login), server
 * side, with the initial response of RFC 4954 4. Messages name the part
 * that is wrong, never its value: a password must not reach a reply or a
 * log, and a user name is only echoed by the protocol if it chooses. */
#include "core/sasl.h"

#include <string.h>
#include <strings.h>

#include "lib/base64.h"
#include "lib/str.h"

/* authzid NUL authcid NUL passwd, each at its maximum. */
#define SASL_MSG_MAX (2 * SASL_NAME_MAX + SASL_PASS_MAX + 2)

/* base64 of "Username:" and "Password:", what every LOGIN client waits for. */
#define LOGIN_USER_CHALLENGE "VXNlcm5hbWU6"
#define LOGIN_PASS_CHALLENGE "UGFzc3dvcmQ6"

enum {
	STAGE_IDLE,		/* not started, or finished */
	STAGE_PLAIN,		/* PLAIN: waiting for the response */
	STAGE_LOGIN_USER,	/* LOGIN: waiting for the user name */
	STAGE_LOGIN_PASS,	/* LOGIN: waiting for the password */
};

int sasl_mech_parse(const char *name, enum sasl_mech *out)
{
	if (strcasecmp(name, "PLAIN") == 0)
		*out = SASL_PLAIN;
	else if (strcasecmp(name, "LOGIN") == 0)
		*out = SASL_LOGIN;
	else
		return -1;
	return 0;
}

const char *sasl_mech_list(void)
{
	return "PLAIN LOGIN";
}

void sasl_clear(struct sasl *st)
{
	explicit_bzero(st->password, sizeof st->password);
	st->stage = STAGE_IDLE;
}

static enum sasl_step failed(struct sasl *st)
{
	sasl_clear(st);
	return SASL_FAIL;
}

/* Set the message, wipe, and fail: one expression for every refusal. */
#define SASL_FAIL_WITH(st, e, ...) (ik_err_set((e), __VA_ARGS__), failed(st))

/* A user name (authcid or authzid): it is logged, so no control bytes,
 * and RFC 4616 says UTF-8. */
static enum sasl_step check_name(struct sasl *st, const char *what, const char *s, size_t n,
				 bool empty_ok, ik_err *e)
{
	if (n == 0 && !empty_ok)
		return SASL_FAIL_WITH(st, e, "the %s is empty", what);
	if (n > SASL_NAME_MAX)
		return SASL_FAIL_WITH(st, e, "the %s is longer than %d bytes", what, SASL_NAME_MAX);
	if (memchr(s, '\0', n) != NULL)
		return SASL_FAIL_WITH(st, e, "the %s contains a NUL byte", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return SASL_FAIL_WITH(st, e, "the %s contains a control character", what);
	}
	if (!str_utf8_valid(s, n))
		return SASL_FAIL_WITH(st, e, "the %s is not valid UTF-8", what);
	return SASL_CONTINUE;
}

/* The password: any bytes but NUL (RFC 4616 passwd = 1*SAFE), never named. */
static enum sasl_step check_pass(struct sasl *st, const char *s, size_t n, ik_err *e)
{
	if (n == 0)
		return SASL_FAIL_WITH(st, e, "the password is empty");
	if (n > SASL_PASS_MAX)
		return SASL_FAIL_WITH(st, e, "the password is longer than %d bytes", SASL_PASS_MAX);
	if (memchr(s, '\0', n) != NULL)
		return SASL_FAIL_WITH(st, e, "the password contains a NUL byte");
	return SASL_CONTINUE;
}

static enum sasl_step plain_response(struct sasl *st, const char *m, size_t n, ik_err *e)
{
	if (n == 0)
		return SASL_FAIL_WITH(st, e, "the PLAIN response is empty: send base64 of "
				 "\"authzid NUL user NUL password\"");
	const char *nul1 = memchr(m, '\0', n);
	const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - m)) : NULL;
	if (nul2 == NULL)
		return SASL_FAIL_WITH(st, e, "the PLAIN response must be three parts separated by NUL "
				 "bytes: authorization id (may be empty), user name, password");
	size_t zlen = (size_t)(nul1 - m);
	size_t clen = (size_t)(nul2 - nul1 - 1);
	size_t plen = n - (size_t)(nul2 + 1 - m);
	/* A third NUL would sit inside the password: check_pass refuses it. */
	if (check_name(st, "authorization id", m, zlen, true, e) != SASL_CONTINUE ||
	    check_name(st, "user name", nul1 + 1, clen, false, e) != SASL_CONTINUE ||
	    check_pass(st, nul2 + 1, plen, e) != SASL_CONTINUE)
		return SASL_FAIL;
	memcpy(st->authzid, m, zlen);
	st->authzid[zlen] = '\0';
	memcpy(st->authcid, nul1 + 1, clen);
	st->authcid[clen] = '\0';
	memcpy(st->password, nul2 + 1, plen);
	st->password[plen] = '\0';
	st->stage = STAGE_IDLE;
	return SASL_DONE;
}

static enum sasl_step login_user(struct sasl *st, const char *m, size_t n, ik_err *e)
{
	if (check_name(st, "user name", m, n, false, e) != SASL_CONTINUE)
		return SASL_FAIL;
	memcpy(st->authcid, m, n);
	st->authcid[n] = '\0';
	st->stage = STAGE_LOGIN_PASS;
	str_copy(st->challenge, sizeof st->challenge, LOGIN_PASS_CHALLENGE);
	return SASL_CONTINUE;
}

static enum sasl_step login_pass(struct sasl *st, const char *m, size_t n, ik_err *e)
{
	if (check_pass(st, m, n, e) != SASL_CONTINUE)
		return SASL_FAIL;
	memcpy(st->password, m, n);
	st->password[n] = '\0';
	st->stage = STAGE_IDLE;
	return SASL_DONE;
}

/* Decode one client message and hand it to the stage; the decoded copy
 * (which may hold the password) is wiped whatever happens. */
static enum sasl_step respond(struct sasl *st, const char *line, size_t len, ik_err *e)
{
	if (len == 1 && line[0] == '*') {
		sasl_clear(st);
		ik_err_set(e, "authentication cancelled by the client");
		return SASL_CANCELLED;
	}
	if (len > base64_encoded_size(SASL_MSG_MAX) - 1)
		return SASL_FAIL_WITH(st, e, "the response is too long (more than %d bytes once "
				      "decoded)", SASL_MSG_MAX);
	char buf[SASL_MSG_MAX + 3];
	long n = base64_decode(line, len, buf, sizeof buf);
	if (n < 0) {
		explicit_bzero(buf, sizeof buf);
		return SASL_FAIL_WITH(st, e, "the response is not valid base64: use RFC 4648 base64 with "
				 "padding, no spaces or line breaks");
	}
	enum sasl_step r;
	switch (st->stage) {
	case STAGE_PLAIN:
		r = plain_response(st, buf, (size_t)n, e);
		break;
	case STAGE_LOGIN_USER:
		r = login_user(st, buf, (size_t)n, e);
		break;
	case STAGE_LOGIN_PASS:
		r = login_pass(st, buf, (size_t)n, e);
		break;
	default:
		r = SASL_FAIL_WITH(st, e, "no authentication exchange is in progress");
		break;
	}
	explicit_bzero(buf, sizeof buf);
	return r;
}

enum sasl_step sasl_start(struct sasl *st, enum sasl_mech mech, const char *initial, ik_err *e)
{
	explicit_bzero(st, sizeof *st);
	st->mech = mech;
	if (mech == SASL_PLAIN) {
		st->stage = STAGE_PLAIN;
		st->challenge[0] = '\0';	/* RFC 4616: the server sends an empty challenge */
	} else if (mech == SASL_LOGIN) {
		st->stage = STAGE_LOGIN_USER;
		str_copy(st->challenge, sizeof st->challenge, LOGIN_USER_CHALLENGE);
	} else {
		ik_err_set(e, "unknown authentication mechanism");
		return SASL_FAIL;
	}
	if (initial == NULL)
		return SASL_CONTINUE;
	if (strcmp(initial, "=") == 0)	/* RFC 4954 4: an empty initial response */
		initial = "";
	return respond(st, initial, strlen(initial), e);
}

enum sasl_step sasl_step(struct sasl *st, const char *line, size_t len, ik_err *e)
{
	return respond(st, line, len, e);
}
