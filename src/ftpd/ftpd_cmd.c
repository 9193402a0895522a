/* FTP server command table, the Telnet clean-up before the core parses a
 * line, and FTP's wording of the core's refusals. RFC 959 4.1, RFC 854
 * (IAC), RFC 775, RFC 2389, RFC 2428, RFC 2640, RFC 3659, RFC 4217,
 * RFC 7151: see ftpd_cmd.h. */
#include "ftpd/ftpd_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "ftpd/ftpd_sess.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_reply.h"

#define LOGGED FTPD_ST_LOGGED
#define PRE FTPD_ST_PRELOGIN
#define ANY FTPD_ST_ANY
#define NL SESSION_CMD_NEEDS_LOGIN
#define BL SESSION_CMD_BEFORE_LOGIN
#define NONE SESSION_ARG_NONE, 0, 0
#define WORDS(lo, hi) SESSION_ARG_WORDS, lo, hi
#define RAW(lo) SESSION_ARG_RAW, lo, 1
#define PATH(lo) SESSION_ARG_PATH, lo, 1
#define DATA FTPD_P_DATA
#define ALIAS FTPD_P_ALIAS
#define FEAT(line) &(const struct ftpd_verb){.feat = line}
#define SEQ(pre, post) &(const struct ftpd_verb){.seq_before_login = pre, .seq_after_login = post}

/* Sorted by verb (a unit test checks it): HELP lists them in this order
 * and FEAT its lines. Each row: verb, states, flags, arguments, usage,
 * handler, FTP's bits, FTP's data. */
static const struct session_cmd cmd_table[] = {
	{"ABOR", ANY, BL, NONE, "ABOR (abort the transfer in progress)", ftpd_cmd_abor, 0, NULL},
	{"ACCT", ANY, BL | SESSION_CMD_SECRET | SESSION_CMD_NOT_IMPL, RAW(0),
	 "ACCT <sp> account-information (not needed here)", NULL, 0, NULL},
	{"ALLO", LOGGED, NL, WORDS(1, 3), "ALLO <sp> size [<sp> R <sp> record-size]",
	 ftpd_cmd_allo, 0, NULL},
	{"APPE", LOGGED, NL, PATH(1), "APPE <sp> pathname", ftpd_cmd_appe, DATA, NULL},
	{"AUTH", PRE, BL | SESSION_CMD_NEEDS_PLAINTEXT, WORDS(1, 1), "AUTH <sp> TLS", ftpd_cmd_auth,
	 FTPD_P_FEAT_TLS, &(const struct ftpd_verb){.feat = "AUTH TLS",
	 .seq_after_login = "AUTH must come before login."}},
	{"CDUP", LOGGED, NL, NONE, "CDUP (go to the parent directory)", ftpd_cmd_cdup, 0, NULL},
	{"CWD", LOGGED, NL, PATH(1), "CWD <sp> pathname", ftpd_cmd_cwd, 0, FEAT("TVFS")},
	{"DELE", LOGGED, NL, PATH(1), "DELE <sp> pathname", ftpd_cmd_dele, 0, NULL},
	{"EPRT", LOGGED, NL, RAW(1), "EPRT <sp> |protocol|address|port|", ftpd_cmd_eprt,
	 FTPD_P_NO_EPSV_ALL, FEAT("EPRT")},
	{"EPSV", LOGGED, NL, WORDS(0, 1), "EPSV [<sp> 1 | 2 | ALL]", ftpd_cmd_epsv, 0,
	 FEAT("EPSV")},
	{"FEAT", PRE | LOGGED, BL, NONE, "FEAT (list the extensions)", ftpd_cmd_features, 0, NULL},
	{"HELP", PRE | LOGGED, BL, WORDS(0, 2), "HELP [<sp> command]", ftpd_cmd_helptext, 0, NULL},
	{"HOST", FTPD_ST_AUTH, BL, WORDS(1, 1), "HOST <sp> hostname", ftpd_cmd_host, 0,
	 &(const struct ftpd_verb){.feat = "HOST", .seq_before_login = "HOST must come before USER.",
	 .seq_after_login = "HOST must come before USER."}},
	{"LIST", LOGGED, NL, PATH(0), "LIST [<sp> pathname]", ftpd_cmd_list, DATA, NULL},
	{"MDTM", LOGGED, NL, PATH(1), "MDTM <sp> pathname", ftpd_cmd_mdtm, 0, FEAT("MDTM")},
	{"MKD", LOGGED, NL, PATH(1), "MKD <sp> pathname", ftpd_cmd_mkd, 0, NULL},
	{"MLSD", LOGGED, NL, PATH(0), "MLSD [<sp> pathname]", ftpd_cmd_mlsd, DATA, NULL},
	{"MLST", LOGGED, NL, PATH(0), "MLST [<sp> pathname]", ftpd_cmd_mlst, FTPD_P_FEAT_FACTS,
	 FEAT("MLST")},
	{"MODE", LOGGED, NL, WORDS(1, 1), "MODE <sp> S", ftpd_cmd_mode, 0, NULL},
	{"NLST", LOGGED, NL, PATH(0), "NLST [<sp> pathname]", ftpd_cmd_nlst, DATA, NULL},
	{"NOOP", ANY, BL, NONE, "NOOP", ftpd_cmd_noop, 0, NULL},
	{"OPTS", PRE | LOGGED, BL, RAW(1), "OPTS <sp> UTF8 ON | MLST facts", ftpd_cmd_opts, 0,
	 FEAT("UTF8")},
	{"PASS", FTPD_ST_PASS, BL | SESSION_CMD_SECRET, RAW(0), "PASS <sp> password", ftpd_cmd_pass,
	 0, SEQ("Send USER first.", "Already logged in.")},
	{"PASV", LOGGED, NL, NONE, "PASV", ftpd_cmd_pasv, FTPD_P_NO_EPSV_ALL, NULL},
	{"PBSZ", PRE | LOGGED, BL | SESSION_CMD_NEEDS_TLS, WORDS(1, 1), "PBSZ <sp> 0", ftpd_cmd_pbsz,
	 FTPD_P_FEAT_TLS, FEAT("PBSZ")},
	{"PORT", LOGGED, NL, WORDS(1, 1), "PORT <sp> h1,h2,h3,h4,p1,p2", ftpd_cmd_port,
	 FTPD_P_NO_EPSV_ALL, NULL},
	{"PROT", PRE | LOGGED, BL | SESSION_CMD_NEEDS_TLS, WORDS(1, 1), "PROT <sp> C | P",
	 ftpd_cmd_prot, FTPD_P_FEAT_TLS, FEAT("PROT")},
	{"PWD", LOGGED, NL, NONE, "PWD (print the working directory)", ftpd_cmd_pwd, 0, NULL},
	{"QUIT", ANY, BL, NONE, "QUIT", ftpd_cmd_quit, 0, NULL},
	{"REIN", ANY, BL | SESSION_CMD_NOT_IMPL, NONE, "REIN (not implemented)", NULL, 0, NULL},
	{"REST", LOGGED, NL, WORDS(1, 1), "REST <sp> offset", ftpd_cmd_rest, 0, FEAT("REST STREAM")},
	{"RETR", LOGGED, NL, PATH(1), "RETR <sp> pathname", ftpd_cmd_retr, DATA, NULL},
	{"RMD", LOGGED, NL, PATH(1), "RMD <sp> pathname", ftpd_cmd_rmd, 0, NULL},
	{"RNFR", LOGGED, NL, PATH(1), "RNFR <sp> pathname", ftpd_cmd_rnfr, 0, NULL},
	{"RNTO", FTPD_ST_RNFR, NL, PATH(1), "RNTO <sp> pathname", ftpd_cmd_rnto, 0,
	 SEQ(NULL, "Send RNFR first.")},
	{"SITE", LOGGED, NL, RAW(1), "SITE <sp> CHMOD | HELP ...", ftpd_cmd_site, 0, NULL},
	{"SIZE", LOGGED, NL, PATH(1), "SIZE <sp> pathname", ftpd_cmd_size, 0, FEAT("SIZE")},
	{"SMNT", ANY, BL | SESSION_CMD_NOT_IMPL, RAW(0), "SMNT (not implemented)", NULL, 0, NULL},
	{"STAT", LOGGED | FTPD_ST_XFER, NL, PATH(0), "STAT [<sp> pathname]", ftpd_cmd_stat, 0, NULL},
	{"STOR", LOGGED, NL, PATH(1), "STOR <sp> pathname", ftpd_cmd_stor, DATA, NULL},
	{"STOU", LOGGED, NL, PATH(0), "STOU [<sp> pathname]", ftpd_cmd_stou, DATA, NULL},
	{"STRU", LOGGED, NL, WORDS(1, 1), "STRU <sp> F", ftpd_cmd_stru, 0, NULL},
	{"SYST", PRE | LOGGED, BL, NONE, "SYST", ftpd_cmd_syst, 0, NULL},
	{"TYPE", LOGGED, NL, WORDS(1, 2), "TYPE <sp> A | I", ftpd_cmd_type, 0, NULL},
	{"USER", PRE, BL, RAW(1), "USER <sp> username", ftpd_cmd_user, 0,
	 SEQ(NULL, "Already logged in.")},
	{"XCUP", LOGGED, NL, NONE, "XCUP (as CDUP)", ftpd_cmd_cdup, ALIAS, NULL},
	{"XCWD", LOGGED, NL, PATH(1), "XCWD <sp> pathname", ftpd_cmd_cwd, ALIAS, NULL},
	{"XMKD", LOGGED, NL, PATH(1), "XMKD <sp> pathname", ftpd_cmd_mkd, ALIAS, NULL},
	{"XPWD", LOGGED, NL, NONE, "XPWD (as PWD)", ftpd_cmd_pwd, ALIAS, NULL},
	{"XRMD", LOGGED, NL, PATH(1), "XRMD <sp> pathname", ftpd_cmd_rmd, ALIAS, NULL},
};

#define N_CMDS (sizeof cmd_table / sizeof cmd_table[0])

const struct session_cmds ftpd_cmds = {
	.table = cmd_table,
	.n = N_CMDS,
	.prelogin = FTPD_ST_PRELOGIN,
	.refuse = ftpd_sess_refuse,
	.before = ftpd_sess_before,
};

int ftpd_refuse(struct ftpd_cmd_refusal *r, int code, const char *fmt, ...)
{
	r->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	return -1;
}

#define IAC 255
#define IAC_SB 250
#define IAC_SE 240
#define IAC_WILL 251

/* RFC 854: drop Telnet commands from the command stream (clients send IAC
 * IP IAC DM before ABOR), keep IAC IAC as one 0xFF byte, and turn the
 * RFC 2640 "CR NUL" back into CR. Returns the new length, or (size_t)-1
 * for a NUL byte that is not after a CR. */
static size_t telnet_clean(unsigned char *s, size_t len)
{
	size_t w = 0, i = 0;
	while (i < len) {
		unsigned char b = s[i];
		if (b == IAC) {
			if (i + 1 >= len) {
				i++;
			} else if (s[i + 1] == IAC) {
				s[w++] = IAC;
				i += 2;
			} else if (s[i + 1] == IAC_SB) {
				/* Subnegotiation: skip to IAC SE. */
				i += 2;
				while (i < len && !(s[i] == IAC && i + 1 < len && s[i + 1] == IAC_SE))
					i++;
				i = i < len ? i + 2 : len;
			} else if (s[i + 1] >= IAC_WILL) {
				i += 3;	/* WILL/WONT/DO/DONT option */
			} else {
				i += 2;	/* IP, DM, AO, AYT, ... */
			}
			continue;
		}
		if (b == '\0') {
			if (w > 0 && s[w - 1] == '\r' && i > 0 && s[i - 1] == '\r') {
				i++;
				continue;
			}
			return (size_t)-1;
		}
		s[w++] = b;
		i++;
	}
	return w;
}

int ftpd_cmd_clean(char *line, size_t len, struct ftpd_cmd_refusal *r)
{
	size_t n = telnet_clean((unsigned char *)line, len);
	if (n == (size_t)-1) {
		line[0] = '\0';
		return ftpd_refuse(r, FTPD_R_SYNTAX, "Command line holds a NUL byte.");
	}
	line[n] = '\0';
	return 0;
}

static void refuse_state(const struct session_call *c, struct ftpd_cmd_refusal *r)
{
	if (c->state & FTPD_ST_XFER) {
		ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "%s is not allowed during a transfer; ABOR stops it.",
			    c->cmd->verb);
		return;
	}
	const struct ftpd_verb *v = c->cmd->pdata;
	const char *text = v == NULL ? NULL : c->logged_in ? v->seq_after_login : v->seq_before_login;
	ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "%s", text != NULL ? text : "Bad sequence of commands.");
}

void ftpd_cmd_refusal_reply(const struct session_call *c, enum session_refusal why,
			    struct ftpd_cmd_refusal *r)
{
	switch (why) {
	case SESSION_REFUSE_EMPTY:
		ftpd_refuse(r, FTPD_R_SYNTAX, "Empty command line.");
		break;
	case SESSION_REFUSE_NOT_IMPL:
		ftpd_refuse(r, FTPD_R_NOT_IMPLEMENTED, "%s not implemented.", c->cmd->verb);
		break;
	case SESSION_REFUSE_LOGIN:
		ftpd_refuse(r, FTPD_R_NOT_LOGGED_IN, "Please log in with USER and PASS first.");
		break;
	case SESSION_REFUSE_STATE:
		refuse_state(c, r);
		break;
	case SESSION_REFUSE_TLS:
		ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Send AUTH TLS first.");
		break;
	case SESSION_REFUSE_DENIED:
		ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Only EPSV may be used after EPSV ALL.");
		break;
	case SESSION_REFUSE_ARGS:
		ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: %s", c->cmd->help);
		break;
	case SESSION_REFUSE_PLAINTEXT:
		ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Already using TLS.");
		break;
	case SESSION_REFUSE_UNKNOWN:
	default:
		ftpd_refuse(r, FTPD_R_SYNTAX, "Unknown command.");
		break;
	}
}

int ftpd_cmd_feat(struct sbuf *out, bool tls_available, const char *mlst_facts)
{
	size_t mark = out->len;
	int rc = ftpd_reply_begin(out, FTPD_R_STATUS, "Features:");
	for (size_t i = 0; i < N_CMDS && rc == 0; i++) {
		const struct session_cmd *d = &cmd_table[i];
		const struct ftpd_verb *v = d->pdata;
		if (v == NULL || v->feat == NULL || (d->pflags & FTPD_P_ALIAS) ||
		    ((d->pflags & FTPD_P_FEAT_TLS) && !tls_available))
			continue;
		if (d->pflags & FTPD_P_FEAT_FACTS)
			rc = sbuf_printf(out, " %s %s\r\n", v->feat, mlst_facts);
		else
			rc = sbuf_printf(out, " %s\r\n", v->feat);
	}
	if (rc == 0)
		rc = ftpd_reply_end(out, FTPD_R_STATUS, "End");
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}

int ftpd_cmd_help(struct sbuf *out, const char *topic)
{
	if (topic != NULL && topic[0] != '\0') {
		if (str_eq_nocase(topic, "SITE"))
			return ftpd_site_help(out);
		const struct session_cmd *d = session_cmd_lookup(&ftpd_cmds, topic);
		if (d == NULL)
			return ftpd_reply(out, FTPD_R_NOT_IMPLEMENTED, "Unknown command %.16s.", topic);
		return ftpd_reply(out, FTPD_R_HELP, "Syntax: %s", d->help);
	}
	size_t mark = out->len;
	int rc = ftpd_reply_begin(out, FTPD_R_HELP,
				  "The following commands are recognized (* = not implemented):");
	char row[80];
	size_t len = 0;
	for (size_t i = 0; i < N_CMDS && rc == 0; i++) {
		int n = str_fmt(row + len, sizeof row - len, " %-4s%c ", cmd_table[i].verb,
				(cmd_table[i].flags & SESSION_CMD_NOT_IMPL) ? '*' : ' ');
		len += n > 0 ? (size_t)n : 0;
		if (i % 8 == 7 || i + 1 == N_CMDS) {
			while (len > 0 && row[len - 1] == ' ')
				len--;
			rc = sbuf_add(out, row, len);
			if (rc == 0)
				rc = sbuf_add(out, "\r\n", 2);
			len = 0;
		}
	}
	if (rc == 0)
		rc = ftpd_reply_end(out, FTPD_R_HELP, "HELP <command> shows its syntax.");
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}

/* ---- SITE ---- */

static const struct ftpd_site_def site_table[] = {
	{"CHMOD", FTPD_SITE_CHMOD, "CHMOD <sp> mode <sp> pathname"},
	{"HELP", FTPD_SITE_HELP, "HELP"},
};

int ftpd_site_parse(char *arg, struct ftpd_site *s, struct ftpd_cmd_refusal *r)
{
	memset(s, 0, sizeof *s);
	char *name = arg;
	while (*name == ' ')
		name++;
	char *rest = str_split(name, ' ');
	for (size_t i = 0; i < sizeof site_table / sizeof site_table[0]; i++)
		if (str_eq_nocase(name, site_table[i].name))
			s->def = &site_table[i];
	if (s->def == NULL)
		return ftpd_refuse(r, FTPD_R_SYNTAX, "Unknown SITE command; SITE HELP lists them.");
	if (s->def->id == FTPD_SITE_HELP) {
		s->path = rest != NULL ? rest : name + strlen(name);
		return 0;
	}
	/* CHMOD: an octal mode, one space, then the path verbatim. */
	char *mode = rest;
	char *path = mode != NULL ? str_split(mode, ' ') : NULL;
	if (mode == NULL || path == NULL || *path == '\0' || *mode == '\0' || strlen(mode) > 5)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: SITE %s", s->def->help);
	unsigned m = 0;
	for (const char *p = mode; *p; p++) {
		if (*p < '0' || *p > '7')
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "SITE CHMOD: the mode must be octal, "
				      "0 to 7777, such as 644.");
		m = m * 8 + (unsigned)(*p - '0');
	}
	if (m > 07777)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "SITE CHMOD: the mode must be octal, "
			      "0 to 7777, such as 644.");
	s->mode = m;
	s->path = path;
	return 0;
}

int ftpd_site_help(struct sbuf *out)
{
	size_t mark = out->len;
	int rc = ftpd_reply_begin(out, FTPD_R_HELP, "SITE commands:");
	for (size_t i = 0; i < sizeof site_table / sizeof site_table[0] && rc == 0; i++)
		rc = sbuf_printf(out, " SITE %s\r\n", site_table[i].help);
	if (rc == 0)
		rc = ftpd_reply_end(out, FTPD_R_HELP, "End");
	if (rc < 0)
		sbuf_truncate(out, mark);
	return rc;
}
