/* .netrc parsing (the format of BSD ftp(1) and GNU inetutils; there is no
 * RFC). The file is small and trusted by its owner, but still bounded: at
 * most 1 MiB, tokens at most FTP_NETRC_FIELD_MAX bytes. */
#include "ftp/ftp_netrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"

#define NETRC_FILE_MAX (1024 * 1024)

struct lexer {
	const char *s, *end;
	int line;
	const char *name;
};

/* Next token into buf; 1 got one, 0 at end, -1 too long/unterminated. */
static int next_token(struct lexer *lx, char *buf, size_t bufsz, ik_err *e)
{
	for (;;) {
		while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' || *lx->s == '\n' ||
					   *lx->s == '\r' || *lx->s == ',')) {
			if (*lx->s == '\n')
				lx->line++;
			lx->s++;
		}
		if (lx->s < lx->end && *lx->s == '#') {
			while (lx->s < lx->end && *lx->s != '\n')
				lx->s++;
			continue;
		}
		break;
	}
	if (lx->s >= lx->end)
		return 0;
	size_t n = 0;
	bool quoted = *lx->s == '"';
	if (quoted)
		lx->s++;
	while (lx->s < lx->end) {
		char c = *lx->s;
		if (quoted ? c == '"' : (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
			break;
		if (c == '\\' && lx->s + 1 < lx->end) {
			lx->s++;
			c = *lx->s;
		}
		if (c == '\n')
			lx->line++;
		if (n + 1 >= bufsz)
			return ik_err_set(e, "%s line %d: a token is longer than %zu bytes", lx->name,
					  lx->line, bufsz - 1);
		buf[n++] = c;
		lx->s++;
	}
	if (quoted) {
		if (lx->s >= lx->end)
			return ik_err_set(e, "%s line %d: missing closing '\"'", lx->name, lx->line);
		lx->s++;
	}
	buf[n] = '\0';
	return 1;
}

/* macdef bodies run to the next empty line. */
static void skip_macro(struct lexer *lx)
{
	while (lx->s < lx->end) {
		if (*lx->s == '\n') {
			lx->line++;
			if (lx->s + 1 < lx->end && lx->s[1] == '\n') {
				lx->s += 2;
				lx->line++;
				return;
			}
		}
		lx->s++;
	}
}

int ftp_netrc_find(const char *name, const char *text, size_t len, const char *host,
		   const char *user, struct ftp_netrc_match *m, ik_err *e)
{
	struct lexer lx = {text, text + len, 1, name};
	char tok[FTP_NETRC_FIELD_MAX];
	/* entry: 0 none yet, 1 a machine that matches, 2 one that does not,
	 * 3 default */
	int entry = 0;
	struct ftp_netrc_match cur, def;
	bool have_def = false;
	memset(&cur, 0, sizeof cur);
	memset(&def, 0, sizeof def);
	memset(m, 0, sizeof *m);
	for (;;) {
		int r = next_token(&lx, tok, sizeof tok, e);
		if (r < 0)
			return -1;
		bool end = r == 0;
		bool new_entry = !end && (strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0);
		if (end || new_entry) {
			/* Close the entry in progress. */
			bool user_ok = user == NULL || (cur.has_login && strcmp(cur.login, user) == 0);
			if (entry == 1 && user_ok) {
				*m = cur;
				return 1;
			}
			if (entry == 3 && !have_def && (user == NULL || !cur.has_login ||
							strcmp(cur.login, user) == 0)) {
				def = cur;
				have_def = true;
			}
			memset(&cur, 0, sizeof cur);
		}
		if (end)
			break;
		if (strcmp(tok, "machine") == 0) {
			r = next_token(&lx, tok, sizeof tok, e);
			if (r <= 0)
				return r < 0 ? -1 : ik_err_set(e, "%s line %d: 'machine' needs a host name",
							       name, lx.line);
			entry = strcasecmp(tok, host) == 0 ? 1 : 2;
		} else if (strcmp(tok, "default") == 0) {
			entry = 3;
		} else if (strcmp(tok, "login") == 0 || strcmp(tok, "password") == 0 ||
			   strcmp(tok, "account") == 0 || strcmp(tok, "port") == 0) {
			char key[16];
			str_copy(key, sizeof key, tok);
			r = next_token(&lx, tok, sizeof tok, e);
			if (r <= 0)
				return r < 0 ? -1 : ik_err_set(e, "%s line %d: '%s' needs a value",
							       name, lx.line, key);
			if (entry == 0)
				return ik_err_set(e, "%s line %d: '%s' before any 'machine' or "
						  "'default'", name, lx.line, key);
			if (strcmp(key, "login") == 0) {
				str_copy(cur.login, sizeof cur.login, tok);
				cur.has_login = true;
			} else if (strcmp(key, "password") == 0) {
				str_copy(cur.password, sizeof cur.password, tok);
				cur.has_password = true;
			}
		} else if (strcmp(tok, "macdef") == 0) {
			next_token(&lx, tok, sizeof tok, e);
			skip_macro(&lx);
		} else {
			return ik_err_set(e, "%s line %d: unknown word '%.40s' (expected machine, "
					  "default, login, password, account or macdef)", name,
					  lx.line, tok);
		}
	}
	if (have_def) {
		*m = def;
		return 1;
	}
	return 0;
}

int ftp_netrc_lookup(const char *path, const char *host, const char *user,
		     struct ftp_netrc_match *m, ik_err *e)
{
	char defpath[1024];
	bool explicit = path != NULL;
	if (!explicit) {
		const char *home = getenv("HOME");
		if (home == NULL || *home == '\0' ||
		    str_fmt(defpath, sizeof defpath, "%s/.netrc", home) < 0)
			return 0;
		path = defpath;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!explicit && errno == ENOENT)
			return 0;
		return ik_err_errno(e, errno, "netrc file %s", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > NETRC_FILE_MAX) {
		close(fd);
		return ik_err_set(e, "netrc file %s: not a regular file of at most 1 MiB", path);
	}
	char *text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return ik_err_set(e, "out of memory");
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int r = ftp_netrc_find(path, text, got, host, user, m, e);
	free(text);
	if (r == 1 && m->has_password && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		memset(m, 0, sizeof *m);
		return ik_err_set(e, "netrc file %s holds a password and others can read it; "
				  "run 'chmod 600 %s'", path, path);
	}
	return r;
}
