/* Line editing, history and tab completion for the shell (libedit):
 * command names and aliases for the first word, then remote names (listed once per
 * directory and cached), local names or command names as the command's
 * table entry says. */
#include "ftp/ftp_shell.h"

#include <dirent.h>
#include <histedit.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"

struct shell_edit {
	EditLine *el;
	History *hist;
	struct shell *sh;
	char prompt[FTP_URL_FIELD_MAX + 96];
};

struct cands {
	char **v;
	size_t n, cap;
};

static void cands_add(struct cands *c, const char *name, bool dir)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		char **v = realloc(c->v, cap * sizeof *v);
		if (v == NULL)
			return;
		c->v = v;
		c->cap = cap;
	}
	size_t n = strlen(name);
	char *s = malloc(n + 2);
	if (s == NULL)
		return;
	memcpy(s, name, n);
	s[n] = dir ? '/' : '\0';
	s[n + 1] = '\0';
	c->v[c->n++] = s;
}

static void cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

static char *prompt_of(EditLine *el)
{
	struct shell_edit *ed;
	el_get(el, EL_CLIENTDATA, &ed);
	return ed->prompt;
}

static void remote_cands(struct shell *sh, const char *dir, const char *pre, struct cands *c)
{
	const struct ftp_listing *l = shell_remote_names(sh, dir);
	if (l == NULL)
		return;
	size_t pl = strlen(pre);
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->items[i].name, pre, pl) == 0)
			cands_add(c, l->items[i].name, l->items[i].type == FTP_FT_DIR);
}

static void local_cands(const char *dir, const char *pre, struct cands *c)
{
	DIR *d = opendir(*dir ? dir : ".");
	if (d == NULL)
		return;
	size_t pl = strlen(pre);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, pre, pl) != 0 || (de->d_name[0] == '.' && pre[0] != '.'))
			continue;
		struct stat st;
		bool isdir = fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
		cands_add(c, de->d_name, isdir);
	}
	closedir(d);
}

/* Insert text with spaces and quotes escaped, as shell_split reads them. */
static void insert_escaped(EditLine *el, const char *s, size_t n)
{
	char buf[2 * FTP_NAME_MAX + 4];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 3 < sizeof buf; i++) {
		if (s[i] == ' ' || s[i] == '"' || s[i] == '\'' || s[i] == '\\')
			buf[k++] = '\\';
		buf[k++] = s[i];
	}
	buf[k] = '\0';
	if (k > 0)
		el_insertstr(el, buf);
}

static unsigned char complete(EditLine *el, int ch)
{
	(void)ch;
	struct shell_edit *ed;
	el_get(el, EL_CLIENTDATA, &ed);
	const LineInfo *li = el_line(el);
	size_t len = (size_t)(li->cursor - li->buffer);
	char line[4096];
	if (len >= sizeof line)
		return CC_ERROR;
	memcpy(line, li->buffer, len);
	line[len] = '\0';
	/* The word being completed starts after the last unescaped space. */
	size_t start = 0;
	int words = 0;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (line[i] == ' ') {
			if (i > start)
				words++;
			start = i + 1;
		}
	}
	char word[FTP_PATH_MAX];
	size_t w = 0;
	for (size_t i = start; i < len && w + 1 < sizeof word; i++) {
		if (line[i] == '\\' && i + 1 < len)
			i++;
		word[w++] = line[i];
	}
	word[w] = '\0';
	enum shell_argkind kind = ARG_CMD;
	if (words > 0) {
		char first[64];
		size_t k = 0;
		while (k < len && k + 1 < sizeof first && line[k] == ' ')
			k++;
		size_t f = 0;
		while (k < len && line[k] != ' ' && f + 1 < sizeof first)
			first[f++] = line[k++];
		first[f] = '\0';
		const struct shell_cmd *c = shell_find(first);
		kind = c != NULL ? c->kind : ARG_NONE;
	}
	struct cands c = {0};
	char dir[FTP_PATH_MAX];
	const char *slash = strrchr(word, '/');
	const char *pre = slash != NULL ? slash + 1 : word;
	str_fmt(dir, sizeof dir, "%.*s", slash != NULL ? (int)(slash - word + 1) : 0, word);
	if (kind == ARG_CMD) {
		/* Names and the aliases people type from habit (rm, quit ...);
		 * not "!" and "?", which are typed, not looked for. */
		for (size_t i = 0; i < shell_ncmds; i++)
			if (strncmp(shell_cmds[i].name, word, w) == 0 && shell_cmds[i].name[1] != '\0')
				cands_add(&c, shell_cmds[i].name, false);
		for (size_t i = 0; i < shell_naliases; i++)
			if (strncmp(shell_aliases[i].alias, word, w) == 0 &&
			    shell_aliases[i].alias[1] != '\0')
				cands_add(&c, shell_aliases[i].alias, false);
	} else if (kind == ARG_REMOTE) {
		remote_cands(ed->sh, dir, pre, &c);
	} else if (kind == ARG_LOCAL) {
		local_cands(dir, pre, &c);
	}
	unsigned char rc = CC_REFRESH;
	size_t pl = strlen(pre);
	if (c.n == 0) {
		rc = CC_REFRESH_BEEP;
	} else if (c.n == 1) {
		const char *s = c.v[0];
		size_t sl = strlen(s);
		insert_escaped(el, s + pl, sl - pl);
		if (sl == 0 || s[sl - 1] != '/')
			el_insertstr(el, " ");
	} else {
		size_t common = strlen(c.v[0]);
		for (size_t i = 1; i < c.n; i++) {
			size_t k = 0;
			while (k < common && c.v[i][k] == c.v[0][k])
				k++;
			common = k;
		}
		if (common > pl) {
			insert_escaped(el, c.v[0] + pl, common - pl);
		} else {
			fputc('\n', stdout);
			for (size_t i = 0; i < c.n; i++) {
				term_put_safe(stdout, c.v[i]);
				fputs(i + 1 < c.n ? "  " : "\n", stdout);
			}
			fflush(stdout);
			rc = CC_REDISPLAY;
		}
	}
	cands_free(&c);
	return rc;
}

/* One editor for the life of the process: libedit keeps copies of the
 * names given to EL_ADDFN that el_end() does not free, so ending an editor
 * would leak them. The editor stays reachable from here instead. */
static struct shell_edit *editor;

struct shell_edit *shell_edit_new(struct shell *sh)
{
	if (!term_is_tty(stdin) || !term_is_tty(stdout))
		return NULL;
	if (editor != NULL) {
		editor->sh = sh;
		return editor;
	}
	struct shell_edit *ed = calloc(1, sizeof *ed);
	if (ed == NULL)
		return NULL;
	ed->sh = sh;
	ed->el = el_init("inetkit-ftp", stdin, stdout, stderr);
	ed->hist = history_init();
	if (ed->el == NULL || ed->hist == NULL) {
		if (ed->el != NULL)
			el_end(ed->el);
		if (ed->hist != NULL)
			history_end(ed->hist);
		free(ed);
		return NULL;
	}
	HistEvent ev;
	history(ed->hist, &ev, H_SETSIZE, 1000);
	history(ed->hist, &ev, H_SETUNIQUE, 1);
	el_set(ed->el, EL_CLIENTDATA, ed);
	el_set(ed->el, EL_PROMPT, prompt_of);
	el_set(ed->el, EL_EDITOR, "emacs");
	el_set(ed->el, EL_SIGNAL, 1);
	el_set(ed->el, EL_HIST, history, ed->hist);
	el_set(ed->el, EL_ADDFN, "ik-complete", "complete a command or name", complete);
	el_set(ed->el, EL_BIND, "^I", "ik-complete", NULL);
	editor = ed;
	return ed;
}

char *shell_edit_read(struct shell_edit *ed, const char *prompt)
{
	str_copy(ed->prompt, sizeof ed->prompt, prompt);
	int count = 0;
	const char *line = el_gets(ed->el, &count);
	if (line == NULL || count <= 0)
		return NULL;
	char *copy = strdup(line);
	if (copy == NULL)
		return NULL;
	copy[strcspn(copy, "\r\n")] = '\0';
	if (copy[0] != '\0') {
		HistEvent ev;
		history(ed->hist, &ev, H_ENTER, copy);
	}
	return copy;
}

void shell_edit_free(struct shell_edit *ed)
{
	/* Kept for the process's life (see editor above); only detach it
	 * from the shell that is going away. */
	if (ed != NULL)
		ed->sh = NULL;
}
