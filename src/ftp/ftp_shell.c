/* The shell's driver: reading command lines (a terminal with libedit, a
 * -c string, a -f script or a pipe), splitting them into words, looking
 * the verb up in the one command table and running it. Scripts stop at
 * the first failure, with its message and a non-zero exit; a person at a
 * terminal sees the message and goes on. */
#include "ftp/ftp_shell.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "lib/str.h"
#include "core/term.h"

int shell_split(char *buf, char **argv, int max, ik_err *e)
{
	int argc = 0;
	char *r = buf, *w = buf;
	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			break;
		if (argc >= max)
			return ik_err_set(e, "more than %d words on one line", max);
		argv[argc++] = w;
		char quote = 0;
		for (; *r; r++) {
			if (quote) {
				if (*r == quote) {
					quote = 0;
					continue;
				}
				if (*r == '\\' && quote == '"' && (r[1] == '"' || r[1] == '\\'))
					r++;
				*w++ = *r;
				continue;
			}
			if (*r == ' ' || *r == '\t')
				break;
			if (*r == '"' || *r == '\'') {
				quote = *r;
				continue;
			}
			if (*r == '\\' && r[1] != '\0')
				r++;
			*w++ = *r;
		}
		if (quote)
			return ik_err_set(e, "missing closing %c", quote);
		bool more = *r != '\0';
		*w++ = '\0';
		if (more)
			r++;
	}
	return argc;
}

const struct shell_cmd *shell_find(const char *name)
{
	for (size_t i = 0; i < shell_ncmds; i++)
		if (strcmp(shell_cmds[i].name, name) == 0)
			return &shell_cmds[i];
	for (size_t i = 0; i < shell_naliases; i++)
		if (strcmp(shell_aliases[i].alias, name) == 0)
			return shell_find(shell_aliases[i].name);
	return NULL;
}

int shell_exec(struct shell *sh, char *line, ik_err *e)
{
	char *argv[SHELL_MAX_ARGS];
	e->msg[0] = '\0';
	line += strspn(line, " \t");
	int argc;
	if (line[0] == '!') {
		/* The rest of the line goes to /bin/sh as typed. */
		argv[0] = (char *)"!";
		argv[1] = line + 1 + strspn(line + 1, " \t");
		argc = argv[1][0] != '\0' ? 2 : 1;
	} else {
		argc = shell_split(line, argv, SHELL_MAX_ARGS, e);
		if (argc < 0)
			return SH_USAGE;
	}
	if (argc == 0 || argv[0][0] == '#')
		return SH_OK;
	const struct shell_cmd *c = shell_find(argv[0]);
	if (c == NULL) {
		char near[32];
		struct cli_names names = {shell_cmds, shell_ncmds, sizeof shell_cmds[0]};
		if (cli_closest(argv[0], names, near, sizeof near))
			return ik_err_set(e, "unknown command '%s'; did you mean '%s'? (try 'help')",
					  argv[0], near), SH_USAGE;
		return ik_err_set(e, "unknown command '%s' (try 'help')", argv[0]), SH_USAGE;
	}
	int n = argc - 1;
	if (n < c->min_args || n > c->max_args)
		return ik_err_set(e, "usage: %s", c->usage), SH_USAGE;
	if (c->needs_conn && !(sh->open && ftp_connected(&sh->f)))
		return ik_err_set(e, "not connected (use 'open HOST')"), SH_FAIL;
	int r = c->run(sh, argc, argv, e);
	if (sh->open && !ftp_connected(&sh->f)) {
		/* The server went away: say so once, then forget the session. */
		if (r == SH_OK)
			r = SH_FAIL, ik_err_set(e, "the connection to %s was lost", sh->target);
		ftp_close(&sh->f);
		sh->open = false;
		memset(&sh->cred, 0, sizeof sh->cred);
	}
	return r;
}

/* -c "cmd; cmd": split at ';' outside quotes. */
static int run_commands(struct shell *sh, const char *text, ik_err *e)
{
	char *copy = strdup(text);
	if (copy == NULL)
		return ik_err_set(e, "out of memory"), SH_FAIL;
	char *start = copy;
	char quote = 0;
	int r = SH_OK;
	for (char *p = copy;; p++) {
		if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '"' || *p == '\''))
			quote = *p;
		else if (*p == '\\' && p[1] != '\0')
			p++;
		else if ((*p == ';' && !quote) || *p == '\0') {
			bool last = *p == '\0';
			*p = '\0';
			r = shell_exec(sh, start, e);
			if (r != SH_OK || sh->quit || last)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return r;
}

static int run_stream(struct shell *sh, FILE *in, ik_err *e)
{
	char *line = NULL;
	size_t cap = 0;
	int r = SH_OK;
	ssize_t n;
	while (!sh->quit && (n = getline(&line, &cap, in)) >= 0) {
		line[strcspn(line, "\r\n")] = '\0';
		r = shell_exec(sh, line, e);
		if (r != SH_OK)
			break;
	}
	free(line);
	return r;
}

/* "ftp> ", or "ftp HOST:DIR> " while connected ("[::1]" for an IPv6
 * address). The directory comes from the server: control bytes become
 * '?', and a long one keeps its end. */
static void shell_prompt(const struct shell *sh, char *buf, size_t sz)
{
	if (!sh->open) {
		str_copy(buf, sz, "ftp> ");
		return;
	}
	char host[FTP_URL_FIELD_MAX + 2], dir[64];
	bool v6 = strchr(sh->target, ':') != NULL;
	str_fmt(host, sizeof host, "%s%s%s", v6 ? "[" : "", sh->target, v6 ? "]" : "");
	const char *cwd = sh->f.cwd;
	size_t n = strlen(cwd);
	char tail[64];
	if (n >= sizeof dir) {
		const char *from = cwd + n - (sizeof dir - 4);
		while ((*from & 0xc0) == 0x80)	/* not inside a UTF-8 sequence */
			from++;
		str_fmt(tail, sizeof tail, "...%s", from);
		cwd = tail;
	}
	term_safe_copy(dir, sizeof dir, cwd);
	str_fmt(buf, sz, "ftp %s:%s> ", host, dir);
}

static int run_interactive(struct shell *sh, ik_err *e)
{
	struct shell_edit *ed = shell_edit_new(sh);
	if (ed == NULL)
		return run_stream(sh, stdin, e);
	while (!sh->quit) {
		char prompt[FTP_URL_FIELD_MAX + 96];
		shell_prompt(sh, prompt, sizeof prompt);
		char *line = shell_edit_read(ed, prompt);
		if (line == NULL)
			break;
		ik_err err;
		if (shell_exec(sh, line, &err) != SH_OK && err.msg[0])
			fprintf(stderr, "%s\n", err.msg);
		free(line);
	}
	shell_edit_free(ed);
	return SH_OK;
}

int ftp_shell_run(const struct ftp_opts *o, const struct ftp_shell_opts *so, ik_err *e)
{
	struct shell sh;
	memset(&sh, 0, sizeof sh);
	sh.o = *o;
	sh.so = so;
	e->msg[0] = '\0';
	bool scripted = so->commands != NULL || so->script != NULL;
	sh.interactive = !scripted && term_is_tty(stdin);
	if (sh.interactive)
		setlocale(LC_CTYPE, "");
	int r = SH_OK;
	if (so->open_target != NULL) {
		char line[FTP_PATH_MAX + 16];
		char quoted[FTP_PATH_MAX];
		size_t k = 0;
		for (const char *p = so->open_target; *p && k + 2 < sizeof quoted; p++) {
			if (*p == '"' || *p == '\\')
				quoted[k++] = '\\';
			quoted[k++] = *p;
		}
		quoted[k] = '\0';
		str_fmt(line, sizeof line, "open \"%s\"", quoted);
		r = shell_exec(&sh, line, e);
		if (r != SH_OK && !sh.interactive)
			goto out;
		if (r != SH_OK) {
			fprintf(stderr, "%s\n", e->msg);
			e->msg[0] = '\0';
			r = SH_OK;
		}
	}
	if (so->commands != NULL) {
		r = run_commands(&sh, so->commands, e);
	} else if (so->script != NULL) {
		FILE *in = strcmp(so->script, "-") == 0 ? stdin : fopen(so->script, "r");
		if (in == NULL) {
			ik_err_errno(e, errno, "cannot read %s", so->script);
			r = SH_USAGE;
			goto out;
		}
		r = run_stream(&sh, in, e);
		if (in != stdin)
			fclose(in);
	} else if (sh.interactive) {
		r = run_interactive(&sh, e);
	} else {
		r = run_stream(&sh, stdin, e);
	}
out:
	if (sh.open)
		ftp_close(&sh.f);
	memset(&sh.cred, 0, sizeof sh.cred);
	shell_cache_drop(&sh);
	if (sh.ctx != NULL)
		SSL_CTX_free(sh.ctx);
	return r == SH_OK ? CLI_OK : r == SH_USAGE ? CLI_USAGE : CLI_FAIL;
}
