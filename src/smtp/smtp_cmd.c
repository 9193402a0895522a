/* SMTP server command table, EHLO keywords, HELP, and SMTP's wording of
 * the core's refusals. RFC 5321, RFC 3463, RFC 2034, RFC 3207, RFC 4954,
 * RFC 6409, RFC 8314, RFC 3030: see smtp_cmd.h. */
#include "smtp/smtp_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/reply_num.h"
#include "lib/str.h"
#include "smtp/smtp_int.h"

#define ANY SMTP_ST_ANY
#define READY SMTP_ST_READY
#define NONE SESSION_ARG_NONE, 0, 0
#define WORDS(lo, hi) SESSION_ARG_WORDS, lo, hi
#define RAW(lo) SESSION_ARG_RAW, lo, 1
#define NI SESSION_CMD_NOT_IMPL

/* Sorted by verb (a unit test checks it); HELP lists them in this order.
 * BDAT is allowed in every state: a chunk sent out of sequence must still
 * be read and dropped (its handler does that), never run as commands.
 * Each row: verb, states, flags, arguments, usage, handler, SMTP's bits. */
static const struct session_cmd cmd_table[] = {
	{"AUTH", READY, SESSION_CMD_SECRET, WORDS(1, 2), "AUTH mechanism [initial-response]",
	 smtp_cmd_auth, SMTP_P_TLS | SMTP_P_AUTH_TLS, NULL},
	{"BDAT", ANY, 0, RAW(0), "BDAT chunk-size [LAST]", smtp_cmd_bdat, 0, NULL},
	{"DATA", SMTP_ST_RCPT, 0, NONE, "DATA", smtp_cmd_data, SMTP_P_TLS, NULL},
	{"EHLO", ANY, 0, WORDS(1, 1), "EHLO hostname", smtp_cmd_ehlo, 0, NULL},
	{"ETRN", ANY, NI, RAW(0), "ETRN (not implemented)", NULL, 0, NULL},
	{"EXPN", ANY, NI, RAW(0), "EXPN (not implemented: it would list mailing lists)", NULL, 0,
	 NULL},
	{"HELO", ANY, 0, WORDS(1, 1), "HELO hostname", smtp_cmd_helo, 0, NULL},
	{"HELP", ANY, 0, RAW(0), "HELP [command]", smtp_cmd_helpv, 0, NULL},
	{"MAIL", READY, 0, RAW(1), "MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] "
	 "[RET=FULL|HDRS] [ENVID=x]", smtp_cmd_mail, SMTP_P_TLS | SMTP_P_AUTH, NULL},
	{"NOOP", ANY, 0, RAW(0), "NOOP", smtp_cmd_noop, 0, NULL},
	{"QUIT", ANY, 0, NONE, "QUIT", smtp_cmd_quit, 0, NULL},
	{"RCPT", SMTP_ST_MAIL | SMTP_ST_RCPT, 0, RAW(1), "RCPT TO:<address> "
	 "[NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;address]", smtp_cmd_rcpt, SMTP_P_TLS,
	 NULL},
	{"RSET", ANY, 0, NONE, "RSET", smtp_cmd_rset, 0, NULL},
	{"STARTTLS", READY | SMTP_ST_CONNECTED, SESSION_CMD_NEEDS_PLAINTEXT, NONE, "STARTTLS",
	 smtp_cmd_starttls, 0, NULL},
	{"TURN", ANY, NI, RAW(0), "TURN (not implemented)", NULL, 0, NULL},
	{"VRFY", ANY, 0, RAW(1), "VRFY address", smtp_cmd_vrfy, SMTP_P_TLS, NULL},
};

#define N_CMDS (sizeof cmd_table / sizeof cmd_table[0])

const struct session_cmds smtp_cmds = {
	.table = cmd_table,
	.n = N_CMDS,
	.refuse = smtp_sess_refuse,
	.before = smtp_sess_before,
};

static bool is_verb(const struct session_call *c, const char *verb)
{
	return strcmp(c->cmd->verb, verb) == 0;
}

/* RFC 5321 4.1.4: what the client must send first. */
static void refuse_state(const struct session_call *c, struct smtp_reply *r)
{
	if (c->state & SMTP_ST_CONNECTED) {
		smtp_reply_set(r, 503, "5.5.1", "Error: send EHLO first");
	} else if (c->state & SMTP_ST_BDAT) {
		if (is_verb(c, "DATA"))
			smtp_reply_set(r, 503, "5.5.1", "Error: DATA cannot be mixed with BDAT; end "
				       "the message with BDAT n LAST, or send RSET");
		else
			smtp_reply_set(r, 503, "5.5.1", "Error: BDAT transfer in progress; end it "
				       "with BDAT n LAST, or send RSET");
	} else if (is_verb(c, "MAIL")) {
		smtp_reply_set(r, 503, "5.5.1", "Error: nested MAIL command; send RSET to start "
			       "again");
	} else if (is_verb(c, "AUTH") || is_verb(c, "STARTTLS")) {
		smtp_reply_set(r, 503, "5.5.1", "Error: MAIL transaction in progress; send RSET "
			       "first");
	} else if (c->state & SMTP_ST_READY) {
		smtp_reply_set(r, 503, "5.5.1", "Error: need MAIL before %s", c->cmd->verb);
	} else {
		smtp_reply_set(r, 503, "5.5.1", "Error: need RCPT before %s", c->cmd->verb);
	}
}

void smtp_cmd_refusal_reply(const struct session_call *c, enum session_refusal why,
			    struct smtp_reply *r)
{
	switch (why) {
	case SESSION_REFUSE_EMPTY:
		smtp_reply_set(r, 500, "5.5.2", "Error: empty command line");
		break;
	case SESSION_REFUSE_NOT_IMPL:
		smtp_reply_set(r, 502, "5.5.1", "Error: %s is not implemented", c->cmd->verb);
		break;
	case SESSION_REFUSE_STATE:
		refuse_state(c, r);
		break;
	case SESSION_REFUSE_DENIED: {
		unsigned bits = c->cmd->pflags & c->deny;
		if (bits & SMTP_P_TLS)
			smtp_reply_set(r, 530, "5.7.0", "Must issue a STARTTLS command first");
		else if (bits & SMTP_P_AUTH)
			smtp_reply_set(r, 530, "5.7.0", "Authentication required");
		else
			smtp_reply_set(r, 538, "5.7.11", "Encryption required for requested "
				       "authentication mechanism; send STARTTLS first");
		break;
	}
	case SESSION_REFUSE_ARGS:
		smtp_reply_set(r, 501, "5.5.4", "Syntax: %s", c->cmd->help);
		break;
	case SESSION_REFUSE_PLAINTEXT:
		smtp_reply_set(r, 554, "5.5.1", "Error: TLS already active");
		break;
	case SESSION_REFUSE_TLS:	/* no entry needs TLS by itself: roles decide */
	case SESSION_REFUSE_LOGIN:
		smtp_reply_set(r, 530, "5.7.0", "Authentication required");
		break;
	case SESSION_REFUSE_UNKNOWN:
	default:
		smtp_reply_set(r, 500, "5.5.2", "Error: command not recognized");
		break;
	}
}

int smtp_reply_line(struct sbuf *out, int code, const char *enh, bool last, const char *text)
{
	char line[REPLY_NUM_LINE_MAX];
	int n = enh != NULL && enh[0] ? str_fmt(line, sizeof line, "%s %s", enh, text)
				      : str_fmt(line, sizeof line, "%s", text);
	size_t len = n < 0 ? strlen(line) : (size_t)n;
	return reply_num_write_line(out, code, last, line, len);
}

int smtp_ehlo_reply(struct sbuf *out, const struct smtp_ehlo_offer *o)
{
	size_t mark = out->len;
	char first[SMTP_HOSTNAME_MAX * 2 + 32], size[40];
	str_fmt(first, sizeof first, "%s Hello %s", o->hostname, o->greeting);
	str_fmt(size, sizeof size, "SIZE %llu", o->max_size);
	const char *lines[12];
	size_t n = 0;
	lines[n++] = first;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	if (o->starttls)
		lines[n++] = "STARTTLS";
	if (o->auth)
		lines[n++] = "AUTH PLAIN LOGIN";
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "8BITMIME";
	lines[n++] = "DSN";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "CHUNKING";
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = reply_num_write_line(out, 250, i + 1 == n, lines[i], strlen(lines[i]));
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}

int smtp_help_reply(struct sbuf *out, const char *topic)
{
	while (*topic == ' ')
		topic++;
	if (topic[0] != '\0') {
		const struct session_cmd *d = session_cmd_lookup(&smtp_cmds, topic);
		if (d == NULL || (d->flags & SESSION_CMD_NOT_IMPL))
			return smtp_reply_line(out, 504, "5.5.1", true, "HELP: no such command; HELP "
					       "lists them");
		char text[300];
		str_fmt(text, sizeof text, "Syntax: %s", d->help);
		return smtp_reply_line(out, 214, "2.0.0", true, text);
	}
	char verbs[200] = "Commands:";
	size_t len = strlen(verbs);
	for (size_t i = 0; i < N_CMDS; i++) {
		if (cmd_table[i].flags & SESSION_CMD_NOT_IMPL)
			continue;
		int k = str_fmt(verbs + len, sizeof verbs - len, " %s", cmd_table[i].verb);
		if (k > 0)
			len += (size_t)k;
	}
	size_t mark = out->len;
	if (smtp_reply_line(out, 214, "2.0.0", false, verbs) < 0 ||
	    smtp_reply_line(out, 214, "2.0.0", true, "HELP command shows its syntax; see "
			    "inetkit-smtpd(8)") < 0) {
		sbuf_truncate(out, mark);
		return -1;
	}
	return 0;
}
