/* FTP server command table and command-line parser. RFC 959 4.1, RFC 854
 * (IAC), RFC 775, RFC 2389, RFC 2428, RFC 2640, RFC 3659, RFC 4217,
 * RFC 7151: see ftpd_cmd.h. */
#include "ftp/ftpd_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "ftp/ftpd_reply.h"

#define LOGGED FTPD_ST_LOGGED
#define PRE FTPD_ST_PRELOGIN
#define ANY FTPD_ST_ANY
#define NL FTPD_F_NEEDS_LOGIN
#define PATH (FTPD_F_NEEDS_LOGIN | FTPD_F_TAKES_PATH)
#define DATA FTPD_F_DATA

/* Sorted by verb (a unit test checks it): looked up with bsearch. */
static const struct ftpd_cmd_def cmd_table[] = {
	{"ABOR", FTPD_CMD_ABOR, ANY, 0, 0, 0, "ABOR (abort the transfer in progress)", NULL},
	{"ACCT", FTPD_CMD_ACCT, ANY, FTPD_F_SECRET | FTPD_F_RAW_ARG | FTPD_F_NOT_IMPL, 0, 1,
	 "ACCT <sp> account-information (not needed here)", NULL},
	{"ALLO", FTPD_CMD_ALLO, LOGGED, NL, 1, 3, "ALLO <sp> size [<sp> R <sp> record-size]", NULL},
	{"APPE", FTPD_CMD_APPE, LOGGED, PATH | DATA, 1, 1, "APPE <sp> pathname", NULL},
	{"AUTH", FTPD_CMD_AUTH, PRE, FTPD_F_FEAT_TLS, 1, 1, "AUTH <sp> TLS", "AUTH TLS"},
	{"CDUP", FTPD_CMD_CDUP, LOGGED, NL, 0, 0, "CDUP (go to the parent directory)", NULL},
	{"CWD", FTPD_CMD_CWD, LOGGED, PATH, 1, 1, "CWD <sp> pathname", "TVFS"},
	{"DELE", FTPD_CMD_DELE, LOGGED, PATH, 1, 1, "DELE <sp> pathname", NULL},
	{"EPRT", FTPD_CMD_EPRT, LOGGED, NL | FTPD_F_RAW_ARG | FTPD_F_NO_EPSV_ALL, 1, 1,
	 "EPRT <sp> |protocol|address|port|", "EPRT"},
	{"EPSV", FTPD_CMD_EPSV, LOGGED, NL, 0, 1, "EPSV [<sp> 1 | 2 | ALL]", "EPSV"},
	{"FEAT", FTPD_CMD_FEAT, PRE | LOGGED, 0, 0, 0, "FEAT (list the extensions)", NULL},
	{"HELP", FTPD_CMD_HELP, PRE | LOGGED, 0, 0, 2, "HELP [<sp> command]", NULL},
	{"HOST", FTPD_CMD_HOST, FTPD_ST_AUTH, 0, 1, 1, "HOST <sp> hostname", "HOST"},
	{"LIST", FTPD_CMD_LIST, LOGGED, PATH | DATA, 0, 1, "LIST [<sp> pathname]", NULL},
	{"MDTM", FTPD_CMD_MDTM, LOGGED, PATH, 1, 1, "MDTM <sp> pathname", "MDTM"},
	{"MKD", FTPD_CMD_MKD, LOGGED, PATH, 1, 1, "MKD <sp> pathname", NULL},
	{"MLSD", FTPD_CMD_MLSD, LOGGED, PATH | DATA, 0, 1, "MLSD [<sp> pathname]", NULL},
	{"MLST", FTPD_CMD_MLST, LOGGED, PATH, 0, 1, "MLST [<sp> pathname]", "MLST"},
	{"MODE", FTPD_CMD_MODE, LOGGED, NL, 1, 1, "MODE <sp> S", NULL},
	{"NLST", FTPD_CMD_NLST, LOGGED, PATH | DATA, 0, 1, "NLST [<sp> pathname]", NULL},
	{"NOOP", FTPD_CMD_NOOP, ANY, 0, 0, 0, "NOOP", NULL},
	{"OPTS", FTPD_CMD_OPTS, PRE | LOGGED, FTPD_F_RAW_ARG, 1, 1,
	 "OPTS <sp> UTF8 ON | MLST facts", "UTF8"},
	{"PASS", FTPD_CMD_PASS, FTPD_ST_PASS, FTPD_F_SECRET | FTPD_F_RAW_ARG, 0, 1,
	 "PASS <sp> password", NULL},
	{"PASV", FTPD_CMD_PASV, LOGGED, NL | FTPD_F_NO_EPSV_ALL, 0, 0, "PASV", NULL},
	{"PBSZ", FTPD_CMD_PBSZ, PRE | LOGGED, FTPD_F_NEEDS_TLS | FTPD_F_FEAT_TLS, 1, 1,
	 "PBSZ <sp> 0", "PBSZ"},
	{"PORT", FTPD_CMD_PORT, LOGGED, NL | FTPD_F_NO_EPSV_ALL, 1, 1,
	 "PORT <sp> h1,h2,h3,h4,p1,p2", NULL},
	{"PROT", FTPD_CMD_PROT, PRE | LOGGED, FTPD_F_NEEDS_TLS | FTPD_F_FEAT_TLS, 1, 1,
	 "PROT <sp> C | P", "PROT"},
	{"PWD", FTPD_CMD_PWD, LOGGED, NL, 0, 0, "PWD (print the working directory)", NULL},
	{"QUIT", FTPD_CMD_QUIT, ANY, 0, 0, 0, "QUIT", NULL},
	{"REIN", FTPD_CMD_REIN, ANY, FTPD_F_NOT_IMPL, 0, 0, "REIN (not implemented)", NULL},
	{"REST", FTPD_CMD_REST, LOGGED, NL, 1, 1, "REST <sp> offset", "REST STREAM"},
	{"RETR", FTPD_CMD_RETR, LOGGED, PATH | DATA, 1, 1, "RETR <sp> pathname", NULL},
	{"RMD", FTPD_CMD_RMD, LOGGED, PATH, 1, 1, "RMD <sp> pathname", NULL},
	{"RNFR", FTPD_CMD_RNFR, LOGGED, PATH, 1, 1, "RNFR <sp> pathname", NULL},
	{"RNTO", FTPD_CMD_RNTO, FTPD_ST_RNFR, PATH, 1, 1, "RNTO <sp> pathname", NULL},
	{"SITE", FTPD_CMD_SITE, LOGGED, NL | FTPD_F_RAW_ARG, 1, 1,
	 "SITE <sp> CHMOD | HELP ...", NULL},
	{"SIZE", FTPD_CMD_SIZE, LOGGED, PATH, 1, 1, "SIZE <sp> pathname", "SIZE"},
	{"SMNT", FTPD_CMD_SMNT, ANY, FTPD_F_RAW_ARG | FTPD_F_NOT_IMPL, 0, 1,
	 "SMNT (not implemented)", NULL},
	{"STAT", FTPD_CMD_STAT, LOGGED | FTPD_ST_XFER, PATH, 0, 1, "STAT [<sp> pathname]", NULL},
	{"STOR", FTPD_CMD_STOR, LOGGED, PATH | DATA, 1, 1, "STOR <sp> pathname", NULL},
	{"STOU", FTPD_CMD_STOU, LOGGED, PATH | DATA, 0, 1, "STOU [<sp> pathname]", NULL},
	{"STRU", FTPD_CMD_STRU, LOGGED, NL, 1, 1, "STRU <sp> F", NULL},
	{"SYST", FTPD_CMD_SYST, PRE | LOGGED, 0, 0, 0, "SYST", NULL},
	{"TYPE", FTPD_CMD_TYPE, LOGGED, NL, 1, 2, "TYPE <sp> A | I", NULL},
	{"USER", FTPD_CMD_USER, PRE, FTPD_F_RAW_ARG, 1, 1, "USER <sp> username", NULL},
	{"XCUP", FTPD_CMD_CDUP, LOGGED, NL | FTPD_F_ALIAS, 0, 0, "XCUP (as CDUP)", NULL},
	{"XCWD", FTPD_CMD_CWD, LOGGED, PATH | FTPD_F_ALIAS, 1, 1, "XCWD <sp> pathname", NULL},
	{"XMKD", FTPD_CMD_MKD, LOGGED, PATH | FTPD_F_ALIAS, 1, 1, "XMKD <sp> pathname", NULL},
	{"XPWD", FTPD_CMD_PWD, LOGGED, NL | FTPD_F_ALIAS, 0, 0, "XPWD (as PWD)", NULL},
	{"XRMD", FTPD_CMD_RMD, LOGGED, PATH | FTPD_F_ALIAS, 1, 1, "XRMD <sp> pathname", NULL},
};

#define N_CMDS (sizeof cmd_table / sizeof cmd_table[0])

const struct ftpd_cmd_def *ftpd_cmd_table(size_t *n)
{
	*n = N_CMDS;
	return cmd_table;
}

static int cmp_verb(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ftpd_cmd_def *)elem)->verb);
}

const struct ftpd_cmd_def *ftpd_cmd_find(const char *verb, size_t verblen)
{
	char up[FTPD_VERB_MAX + 1];
	if (verblen == 0 || verblen > FTPD_VERB_MAX)
		return NULL;
	for (size_t i = 0; i < verblen; i++) {
		char ch = verb[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (ch < 'A' || ch > 'Z')
			return NULL;
		up[i] = ch;
	}
	up[verblen] = '\0';
	return bsearch(up, cmd_table, N_CMDS, sizeof cmd_table[0], cmp_verb);
}

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

static void split_words(struct ftpd_cmd *c)
{
	char *p = c->arg;
	while (*p) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (c->argc == FTPD_ARGS_MAX) {
			c->too_many_args = true;
			break;
		}
		c->argv[c->argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
}

int ftpd_cmd_parse(char *line, size_t len, struct ftpd_cmd *c, struct ftpd_cmd_refusal *r)
{
	memset(c, 0, sizeof *c);
	c->arg = line + len;
	size_t n = telnet_clean((unsigned char *)line, len);
	if (n == (size_t)-1) {
		line[0] = '\0';
		c->arg = line;
		return ftpd_refuse(r, FTPD_R_SYNTAX, "Command line holds a NUL byte.");
	}
	line[n] = '\0';
	char *p = line;
	while (*p == ' ')
		p++;
	c->arg = line + n;
	if (*p == '\0')
		return ftpd_refuse(r, FTPD_R_SYNTAX, "Empty command line.");
	size_t vlen = 0;
	while (p[vlen] != '\0' && p[vlen] != ' ')
		vlen++;
	c->def = ftpd_cmd_find(p, vlen);
	if (c->def != NULL)
		memcpy(c->verb, c->def->verb, strlen(c->def->verb) + 1);
	if (p[vlen] == ' ') {
		c->arg = p + vlen + 1;
		c->arglen = (size_t)(line + n - c->arg);
	}
	c->has_arg = c->arglen > 0;
	if (c->def != NULL && !(c->def->flags & (FTPD_F_TAKES_PATH | FTPD_F_RAW_ARG)))
		split_words(c);
	return 0;
}

static int refuse_state(const struct ftpd_cmd_def *d, const struct ftpd_cmd_ctx *ctx,
			struct ftpd_cmd_refusal *r)
{
	if ((ctx->state & FTPD_ST_PRELOGIN) && (d->flags & FTPD_F_NEEDS_LOGIN))
		return ftpd_refuse(r, FTPD_R_NOT_LOGGED_IN, "Please log in with USER and PASS first.");
	if (ctx->state & FTPD_ST_XFER)
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE,
			      "%s is not allowed during a transfer; ABOR stops it.", d->verb);
	switch (d->id) {
	case FTPD_CMD_PASS:
		if (ctx->state & FTPD_ST_AUTH)
			return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Send USER first.");
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Already logged in.");
	case FTPD_CMD_USER:
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Already logged in.");
	case FTPD_CMD_RNTO:
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Send RNFR first.");
	case FTPD_CMD_HOST:
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "HOST must come before USER.");
	case FTPD_CMD_AUTH:
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "AUTH must come before login.");
	default:
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Bad sequence of commands.");
	}
}

int ftpd_cmd_check(const struct ftpd_cmd *c, const struct ftpd_cmd_ctx *ctx,
		   struct ftpd_cmd_refusal *r)
{
	const struct ftpd_cmd_def *d = c->def;
	if (d == NULL)
		return ftpd_refuse(r, FTPD_R_SYNTAX, "Unknown command.");
	if (d->flags & FTPD_F_NOT_IMPL)
		return ftpd_refuse(r, FTPD_R_NOT_IMPLEMENTED, "%s not implemented.", d->verb);
	if (!(d->states & ctx->state))
		return refuse_state(d, ctx, r);
	if ((d->flags & FTPD_F_NEEDS_TLS) && !ctx->tls)
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Send AUTH TLS first.");
	if ((d->flags & FTPD_F_NO_EPSV_ALL) && ctx->epsv_all)
		return ftpd_refuse(r, FTPD_R_BAD_SEQUENCE, "Only EPSV may be used after EPSV ALL.");
	size_t nargs;
	if (d->flags & (FTPD_F_TAKES_PATH | FTPD_F_RAW_ARG))
		nargs = c->has_arg ? 1 : 0;
	else
		nargs = c->argc + (c->too_many_args ? 1 : 0);
	if (nargs < d->min_args || nargs > d->max_args)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: %s", d->help);
	return 0;
}

int ftpd_cmd_feat(struct sbuf *out, bool tls_available, const char *mlst_facts)
{
	size_t mark = out->len;
	int rc = ftpd_reply_begin(out, FTPD_R_STATUS, "Features:");
	for (size_t i = 0; i < N_CMDS && rc == 0; i++) {
		const struct ftpd_cmd_def *d = &cmd_table[i];
		if (d->feat == NULL || (d->flags & FTPD_F_ALIAS) ||
		    ((d->flags & FTPD_F_FEAT_TLS) && !tls_available))
			continue;
		if (d->id == FTPD_CMD_MLST)
			rc = sbuf_printf(out, " %s %s\r\n", d->feat, mlst_facts);
		else
			rc = sbuf_printf(out, " %s\r\n", d->feat);
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
		const struct ftpd_cmd_def *d = ftpd_cmd_find(topic, strlen(topic));
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
				(cmd_table[i].flags & FTPD_F_NOT_IMPL) ? '*' : ' ');
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
