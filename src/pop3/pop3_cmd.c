/* POP3 server command table, CAPA, POP3's wording of the core's refusals
 * and the argument parsers. RFC 1939, RFC 2449, RFC 3206, RFC 2595,
 * RFC 5034: see pop3_cmd.h. */
#include "pop3/pop3_cmd.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/str.h"
#include "pop3/pop3_int.h"

#define AUTH POP3_ST_AUTH
#define TRANS POP3_ST_TRANS
#define ANY POP3_ST_ANY
#define NONE SESSION_ARG_NONE, 0, 0
#define WORDS(lo, hi) SESSION_ARG_WORDS, lo, hi
#define RAW(lo) SESSION_ARG_RAW, lo, 1
#define PRE SESSION_CMD_BEFORE_LOGIN
#define IN SESSION_CMD_NEEDS_LOGIN

/* Sorted by verb (a unit test checks it). Each row: verb, states, flags,
 * arguments, usage, handler, POP3's bits. USER and PASS take the rest of
 * the line: names and passwords may hold spaces (RFC 1939 7 allows it
 * for PASS). RPOP (RFC 1081) trusted the client's port: never. */
static const struct session_cmd cmd_table[] = {
	{"APOP", AUTH, PRE, WORDS(2, 2), "APOP name digest", pop3_cmd_apop, POP3_P_APOP, NULL},
	{"AUTH", AUTH, PRE | SESSION_CMD_SECRET, WORDS(0, 2), "AUTH [mechanism [initial-response]]",
	 pop3_cmd_auth, POP3_P_PLAIN, NULL},
	{"CAPA", ANY, PRE, NONE, "CAPA", pop3_cmd_capa, 0, NULL},
	{"DELE", TRANS, IN, WORDS(1, 1), "DELE msg", pop3_cmd_dele, 0, NULL},
	{"LIST", TRANS, IN, WORDS(0, 1), "LIST [msg]", pop3_cmd_list, 0, NULL},
	{"NOOP", TRANS, IN, NONE, "NOOP", pop3_cmd_noop, 0, NULL},
	{"PASS", AUTH, PRE | SESSION_CMD_SECRET, RAW(1), "PASS password", pop3_cmd_pass,
	 POP3_P_PLAIN, NULL},
	{"QUIT", ANY, PRE, NONE, "QUIT", pop3_cmd_quit, 0, NULL},
	{"RETR", TRANS, IN, WORDS(1, 1), "RETR msg", pop3_cmd_retr, 0, NULL},
	{"RPOP", AUTH, PRE | SESSION_CMD_NOT_IMPL, RAW(0), "RPOP (never: it trusts the client's "
	 "port)", NULL, 0, NULL},
	{"RSET", TRANS, IN, NONE, "RSET", pop3_cmd_rset, 0, NULL},
	{"STAT", TRANS, IN, NONE, "STAT", pop3_cmd_stat, 0, NULL},
	{"STLS", AUTH, PRE | SESSION_CMD_NEEDS_PLAINTEXT, NONE, "STLS", pop3_cmd_stls, 0, NULL},
	{"TOP", TRANS, IN, WORDS(2, 2), "TOP msg lines", pop3_cmd_top, 0, NULL},
	{"UIDL", TRANS, IN, WORDS(0, 1), "UIDL [msg]", pop3_cmd_uidl, 0, NULL},
	{"USER", AUTH, PRE, RAW(1), "USER name", pop3_cmd_user, POP3_P_PLAIN, NULL},
};

#define N_CMDS (sizeof cmd_table / sizeof cmd_table[0])

const struct session_cmds pop3_cmds = {
	.table = cmd_table,
	.n = N_CMDS,
	.prelogin = POP3_ST_AUTH,
	.refuse = pop3_sess_refuse,
	.before = pop3_sess_before,
};

void pop3_cmd_refusal_text(const struct session_call *c, enum session_refusal why, char *out,
			   size_t outsz)
{
	switch (why) {
	case SESSION_REFUSE_EMPTY:
		str_copy(out, outsz, "-ERR Empty command line");
		break;
	case SESSION_REFUSE_NOT_IMPL:
		str_fmt(out, outsz, "-ERR %s is not supported; use USER and PASS, or AUTH",
			c->cmd->verb);
		break;
	case SESSION_REFUSE_LOGIN:
		str_fmt(out, outsz, "-ERR %s needs a login first: USER and PASS, or AUTH",
			c->cmd->verb);
		break;
	case SESSION_REFUSE_STATE:
		if (c->state & POP3_ST_TRANS)
			str_fmt(out, outsz, "-ERR Already logged in; %s is for the AUTHORIZATION "
				"state", c->cmd->verb);
		else
			str_fmt(out, outsz, "-ERR %s needs a login first: USER and PASS, or AUTH",
				c->cmd->verb);
		break;
	case SESSION_REFUSE_DENIED:
		if (c->cmd->pflags & c->deny & POP3_P_APOP)
			str_copy(out, outsz, "-ERR APOP is not enabled on this server; use USER and "
				 "PASS, or AUTH");
		else
			str_copy(out, outsz, "-ERR [AUTH] Plaintext authentication is disallowed on "
				 "non-secure connections; send STLS first");
		break;
	case SESSION_REFUSE_ARGS:
		str_fmt(out, outsz, "-ERR Syntax: %s", c->cmd->help);
		break;
	case SESSION_REFUSE_PLAINTEXT:
		str_copy(out, outsz, "-ERR TLS is already active");
		break;
	case SESSION_REFUSE_TLS:
		str_copy(out, outsz, "-ERR [AUTH] TLS required; send STLS first");
		break;
	case SESSION_REFUSE_UNKNOWN:
	default:
		str_copy(out, outsz, "-ERR Unknown command");
		break;
	}
}

int pop3_capa_reply(struct sbuf *out, const struct pop3_capa *o)
{
	size_t mark = out->len;
	int rc = sbuf_addstr(out, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
			     "AUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (rc == 0 && o->user)
		rc = sbuf_addstr(out, "USER\r\n");
	if (rc == 0 && o->sasl)
		rc = sbuf_addstr(out, "SASL PLAIN LOGIN\r\n");
	if (rc == 0 && o->stls)
		rc = sbuf_addstr(out, "STLS\r\n");
	/* RFC 2449 6.5, 6.7: both values are the server's, the same for every
	 * user, so never the USER tag (which would say they may change after
	 * the login). */
	if (rc == 0 && o->login_delay_s > 0)
		rc = sbuf_printf(out, "LOGIN-DELAY %llu\r\n", (unsigned long long)o->login_delay_s);
	if (rc == 0 && o->expire_days == -2)
		rc = sbuf_addstr(out, "EXPIRE NEVER\r\n");
	else if (rc == 0 && o->expire_days >= 0)
		rc = sbuf_printf(out, "EXPIRE %lld\r\n", (long long)o->expire_days);
	if (rc == 0)
		rc = sbuf_addstr(out, "IMPLEMENTATION inetkit\r\n.\r\n");
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}

static int parse_dec(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 9)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int pop3_parse_msgno(const char *s, uint64_t *out)
{
	uint64_t v;
	if (parse_dec(s, &v) < 0 || v == 0)
		return -1;
	*out = v;
	return 0;
}

int pop3_parse_lines(const char *s, uint64_t *out)
{
	return parse_dec(s, out);
}

void pop3_uidl_of(const char *base, char *out, size_t outsz)
{
	size_t n = strlen(base);
	bool ok = n >= 1 && n <= 70;
	for (size_t i = 0; ok && i < n; i++)
		ok = base[i] >= 0x21 && base[i] <= 0x7e;
	if (ok) {
		str_copy(out, outsz, base);
		return;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(base, n, md, &mdlen, EVP_sha256(), NULL);
	size_t o = 0;
	if (outsz > 1)
		out[o++] = 'X';
	for (unsigned i = 0; i < mdlen && i < 32 && o + 2 < outsz; i++) {
		static const char hex[] = "0123456789abcdef";
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}
