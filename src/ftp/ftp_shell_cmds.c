/* The shell's commands, as one table (name, argument counts, whether a
 * connection is needed, what the arguments name for completion, handler,
 * help). The classic ftp(1) command set; globs for mget/mput are matched
 * with fnmatch(3) by us, never by a shell or glob(3). */
#include "ftp/ftp_shell.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "core/term.h"
#include "ftp/ftp_cli.h"

void shell_cache_drop(struct shell *sh)
{
	ftp_listing_free(&sh->cache);
	sh->cache_ok = false;
}

const struct ftp_listing *shell_remote_names(struct shell *sh, const char *dir)
{
	if (sh->cache_ok && strcmp(sh->cache_dir, dir) == 0)
		return &sh->cache;
	shell_cache_drop(sh);
	ik_err e;
	if (!sh->open || ftp_list_dir(&sh->f, dir, &sh->cache, &e) < 0)
		return NULL;
	ftp_listing_sort(&sh->cache);
	str_copy(sh->cache_dir, sizeof sh->cache_dir, dir);
	sh->cache_ok = true;
	return &sh->cache;
}

int shell_said(struct shell *sh)
{
	if (sh->interactive)
		printf("%s\n", client_reply_text(&sh->f.r));
	return SH_OK;
}

static int fail(void) { return SH_FAIL; }

static int c_open(struct shell *sh, int argc, char **argv, ik_err *e)
{
	struct ftp_url u;
	char spec[FTP_URL_FIELD_MAX + 16];
	if (argc == 3)
		str_fmt(spec, sizeof spec, "%s:%s", argv[1], argv[2]);
	else
		str_copy(spec, sizeof spec, argv[1]);
	if (ftp_url_parse_host(spec, &u, e) < 0)
		return SH_USAGE;
	if (sh->open) {
		ftp_close(&sh->f);
		sh->open = false;
	}
	shell_cache_drop(sh);
	struct ftp_cred cred;
	if (ftp_cred_resolve(&u, sh->so->user, sh->so->password_stdin, sh->so->netrc, &cred,
			     e) < 0)
		return SH_USAGE;
	if ((u.implicit_tls || sh->o.tls) && sh->ctx == NULL) {
		sh->ctx = ftp_tls_ctx_new(&sh->o, e);
		if (sh->ctx == NULL)
			return SH_USAGE;
	}
	int r = ftp_open(&sh->f, &sh->o, sh->ctx, u.host, u.port, u.implicit_tls, &cred, e);
	if (r == 0)
		sh->cred = cred;
	memset(&cred, 0, sizeof cred);
	if (r < 0) {
		ftp_close(&sh->f);
		return SH_FAIL;
	}
	sh->open = true;
	str_copy(sh->target, sizeof sh->target, u.host);
	sh->port = u.port;
	sh->implicit_tls = u.implicit_tls;
	if (sh->interactive)
		printf("Connected to %s.\n%s\n", u.host, client_reply_text(&sh->f.r));
	if (u.path[0] != '\0' && ftp_cwd(&sh->f, u.path, e) < 0)
		return SH_FAIL;
	return SH_OK;
}

/* Many servers refuse a second USER on a logged-in session ("530 You're
 * already logged in"), so `user` logs in on a new connection. */
static int c_user(struct shell *sh, int argc, char **argv, ik_err *e)
{
	struct ftp_cred cred;
	memset(&cred, 0, sizeof cred);
	str_copy(cred.user, sizeof cred.user, argv[1]);
	if (argc == 3) {
		str_copy(cred.pass, sizeof cred.pass, argv[2]);
	} else if (term_read_secret("Password: ", cred.pass, sizeof cred.pass) < 0) {
		return ik_err_set(e, "no password given"), SH_USAGE;
	}
	ftp_close(&sh->f);
	sh->open = false;
	memset(&sh->cred, 0, sizeof sh->cred);
	shell_cache_drop(sh);
	int r = ftp_open(&sh->f, &sh->o, sh->ctx, sh->target, sh->port, sh->implicit_tls, &cred, e);
	if (r == 0)
		sh->cred = cred;
	memset(&cred, 0, sizeof cred);
	if (r < 0) {
		ftp_close(&sh->f);
		return SH_FAIL;
	}
	sh->open = true;
	return shell_said(sh);
}

static int c_cd(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc;
	shell_cache_drop(sh);
	return ftp_cwd(&sh->f, argv[1], e) < 0 ? fail() : SH_OK;
}

static int c_pwd(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv;
	if (ftp_cmd(&sh->f, "PWD", NULL, e) < 0)
		return SH_FAIL;
	if (sh->f.r.code != 257)
		return ftp_reply_error(&sh->f, e), SH_FAIL;
	char path[FTP_PATH_MAX];
	if (ftp_parse_pwd(client_reply_text(&sh->f.r), path, sizeof path) < 0)
		return ik_err_set(e, "cannot read the PWD reply: %s",
				  client_reply_text(&sh->f.r)), SH_FAIL;
	str_copy(sh->f.cwd, sizeof sh->f.cwd, path);
	printf("%s\n", path);
	return SH_OK;
}

static int get_one(struct shell *sh, const char *remote, const char *local, ik_err *e)
{
	char name[FTP_PATH_MAX];
	if (local == NULL) {
		const char *base = ftp_path_base(remote);
		if (!ftp_name_safe(base))
			return ik_err_set(e, "no local name for '%s'; give one", remote), SH_USAGE;
		str_copy(name, sizeof name, base);
		local = name;
	}
	return ftp_get(&sh->f, remote, local, e) < 0 ? SH_FAIL : SH_OK;
}

static int c_get(struct shell *sh, int argc, char **argv, ik_err *e)
{
	return get_one(sh, argv[1], argc > 2 ? argv[2] : NULL, e);
}

static int c_put(struct shell *sh, int argc, char **argv, ik_err *e)
{
	const char *remote = argc > 2 ? argv[2] : ftp_path_base(argv[1]);
	shell_cache_drop(sh);
	return ftp_put(&sh->f, argv[1], remote, e) < 0 ? SH_FAIL : SH_OK;
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int c_mget(struct shell *sh, int argc, char **argv, ik_err *e)
{
	for (int i = 1; i < argc; i++) {
		if (!has_glob(argv[i])) {
			int r = get_one(sh, argv[i], NULL, e);
			if (r != SH_OK)
				return r;
			continue;
		}
		char dir[FTP_PATH_MAX];
		ftp_path_dir(argv[i], dir, sizeof dir);
		const char *pat = ftp_path_base(argv[i]);
		const struct ftp_listing *l = shell_remote_names(sh, dir);
		if (l == NULL)
			return ik_err_set(e, "cannot list '%s': %s", *dir ? dir : ".",
					  client_reply_text(&sh->f.r)), SH_FAIL;
		/* Copy the names: transfers may refresh the cache. */
		size_t n = l->n, matched = 0;
		char **names = calloc(n ? n : 1, sizeof *names);
		if (names == NULL)
			return ik_err_set(e, "out of memory"), SH_FAIL;
		for (size_t k = 0; k < n; k++)
			if (l->items[k].type == FTP_FT_FILE &&
			    fnmatch(pat, l->items[k].name, FNM_PERIOD) == 0)
				names[matched++] = strdup(l->items[k].name);
		int r = SH_OK;
		for (size_t k = 0; k < matched && r == SH_OK; k++) {
			char remote[FTP_PATH_MAX];
			if (names[k] == NULL || ftp_path_join(remote, sizeof remote, dir, names[k]) < 0)
				continue;
			if (sh->interactive)
				printf("get %s\n", names[k]);
			r = get_one(sh, remote, NULL, e);
		}
		for (size_t k = 0; k < matched; k++)
			free(names[k]);
		free(names);
		if (r != SH_OK)
			return r;
		if (matched == 0)
			return ik_err_set(e, "no remote file matches '%s'", argv[i]), SH_FAIL;
	}
	return SH_OK;
}

static int c_mput(struct shell *sh, int argc, char **argv, ik_err *e)
{
	shell_cache_drop(sh);
	for (int i = 1; i < argc; i++) {
		if (!has_glob(argv[i])) {
			if (ftp_put(&sh->f, argv[i], ftp_path_base(argv[i]), e) < 0)
				return SH_FAIL;
			continue;
		}
		char dir[FTP_PATH_MAX];
		ftp_path_dir(argv[i], dir, sizeof dir);
		const char *pat = ftp_path_base(argv[i]);
		DIR *d = opendir(*dir ? dir : ".");
		if (d == NULL)
			return ik_err_errno(e, errno, "cannot read %s", *dir ? dir : "."), SH_FAIL;
		size_t matched = 0;
		int r = SH_OK;
		struct dirent *de;
		while (r == SH_OK && (de = readdir(d)) != NULL) {
			if (fnmatch(pat, de->d_name, FNM_PERIOD) != 0)
				continue;
			char local[FTP_PATH_MAX];
			struct stat st;
			if (ftp_path_join(local, sizeof local, dir, de->d_name) < 0 ||
			    stat(local, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			matched++;
			if (sh->interactive)
				printf("put %s\n", de->d_name);
			if (ftp_put(&sh->f, local, de->d_name, e) < 0)
				r = SH_FAIL;
		}
		closedir(d);
		if (r != SH_OK)
			return r;
		if (matched == 0)
			return ik_err_set(e, "no local file matches '%s'", argv[i]), SH_FAIL;
	}
	return SH_OK;
}

static int simple(struct shell *sh, const char *verb, const char *arg, ik_err *e)
{
	shell_cache_drop(sh);
	return ftp_expect(&sh->f, verb, arg, 2, e) < 0 ? SH_FAIL : shell_said(sh);
}

static int c_mkdir(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc;
	return simple(sh, "MKD", argv[1], e);
}

static int c_rmdir(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc;
	return simple(sh, "RMD", argv[1], e);
}

static int c_rename(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc;
	shell_cache_drop(sh);
	return ftp_rename(&sh->f, argv[1], argv[2], e) < 0 ? SH_FAIL : shell_said(sh);
}

static int c_binary(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv, (void)e;
	sh->o.ascii = false;
	if (sh->open)
		sh->f.ascii = false;
	return SH_OK;
}

static int c_ascii(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv, (void)e;
	sh->o.ascii = true;
	if (sh->open)
		sh->f.ascii = true;
	return SH_OK;
}

static int c_passive(struct shell *sh, int argc, char **argv, ik_err *e)
{
	bool on;
	if (argc == 1)
		on = sh->o.active;	/* toggle */
	else if (strcmp(argv[1], "on") == 0)
		on = true;
	else if (strcmp(argv[1], "off") == 0)
		on = false;
	else
		return ik_err_set(e, "usage: passive [on|off]"), SH_USAGE;
	sh->o.active = !on;
	if (sh->open)
		sh->f.passive = on;
	if (sh->interactive)
		printf("Passive mode %s.\n", on ? "on" : "off");
	return SH_OK;
}

static int c_status(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv, (void)e;
	if (!sh->open || !ftp_connected(&sh->f)) {
		printf("Not connected.\n");
	} else {
		struct client_conn *cc = client_connection(sh->f.c);
		char tls[128];
		client_conn_tls_info(cc, tls, sizeof tls);
		printf("Connected to %s (%s).\n", sh->target, cc->peer_text);
		printf("TLS: %s\n", tls[0] ? tls : "none");
		printf("Data protection: %s\n", sh->f.prot_p ? "private (PROT P)" : "clear");
		printf("Remote directory: %s\n", sh->f.cwd);
		printf("Listing: %s\n", sh->f.feat.mlsd ? "MLSD" : "LIST");
	}
	printf("Mode: %s; type: %s; resume: %s\n", sh->o.active ? "active" : "passive",
	       sh->o.ascii ? "ascii" : "binary", sh->o.cont ? "on" : "off");
	return SH_OK;
}

static int c_help(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)sh;
	if (argc > 1) {
		const struct shell_cmd *c = shell_find(argv[1]);
		if (c == NULL)
			return ik_err_set(e, "unknown command '%s'", argv[1]), SH_USAGE;
		printf("%-28s %s\n", c->usage, c->help);
		return SH_OK;
	}
	for (size_t i = 0; i < shell_ncmds; i++)
		printf("%-28s %s\n", shell_cmds[i].usage, shell_cmds[i].help);
	return SH_OK;
}

static int c_bye(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv, (void)e;
	sh->quit = true;
	return SH_OK;
}

static int c_disconnect(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)argc, (void)argv, (void)e;
	if (sh->open)
		ftp_close(&sh->f);
	sh->open = false;
	memset(&sh->cred, 0, sizeof sh->cred);
	shell_cache_drop(sh);
	return SH_OK;
}

const struct shell_cmd shell_cmds[] = {
	{"open", 1, 2, false, ARG_HOST, c_open, "open HOST|URL [PORT]", "connect and log in"},
	{"user", 1, 2, true, ARG_NONE, c_user, "user NAME [PASSWORD]", "log in as another user"},
	{"ls", 0, SHELL_MAX_ARGS, true, ARG_REMOTE, shell_ls, "ls [-l] [-a] [-1] [PATH...]",
	 "list names (-l: with details; -a: also those starting with '.')"},
	{"dir", 0, SHELL_MAX_ARGS, true, ARG_REMOTE, shell_dir, "dir [-a] [PATH...]",
	 "list with details (ls -l)"},
	{"cd", 1, 1, true, ARG_REMOTE, c_cd, "cd DIR", "change the remote directory"},
	{"pwd", 0, 0, true, ARG_NONE, c_pwd, "pwd", "show the remote directory"},
	{"lls", 0, SHELL_MAX_ARGS, false, ARG_LOCAL, shell_lls, "lls [-l] [-a] [-1] [PATH...]",
	 "list local names"},
	{"lcd", 0, 1, false, ARG_LOCAL, shell_lcd, "lcd [DIR]", "change the local directory"},
	{"lpwd", 0, 0, false, ARG_NONE, shell_lpwd, "lpwd", "show the local directory"},
	{"!", 0, 1, false, ARG_NONE, shell_bang, "!COMMAND",
	 "run COMMAND with /bin/sh here (! alone: your shell)"},
	{"get", 1, 2, true, ARG_REMOTE, c_get, "get REMOTE [LOCAL]", "download a file"},
	{"put", 1, 2, true, ARG_LOCAL, c_put, "put LOCAL [REMOTE]", "upload a file"},
	{"mget", 1, SHELL_MAX_ARGS, true, ARG_REMOTE, c_mget, "mget PATTERN...",
	 "download the files matching (* ? [...])"},
	{"mput", 1, SHELL_MAX_ARGS, true, ARG_LOCAL, c_mput, "mput PATTERN...",
	 "upload the local files matching"},
	{"mirror", 1, SHELL_MAX_ARGS, true, ARG_REMOTE, shell_mirror, "mirror [-R] [OPTS] SRC [DST]",
	 "copy a remote tree here, new and changed files only (-R: from here; also "
	 "--delete, -P N, -v, -q)"},
	{"mkdir", 1, 1, true, ARG_REMOTE, c_mkdir, "mkdir DIR", "make a remote directory"},
	{"rmdir", 1, 1, true, ARG_REMOTE, c_rmdir, "rmdir DIR", "remove an empty remote directory"},
	{"delete", 1, SHELL_MAX_ARGS, true, ARG_REMOTE, shell_delete, "delete [-r] PATH",
	 "delete a remote file (-r: a directory and all in it; also rm)"},
	{"rename", 2, 2, true, ARG_REMOTE, c_rename, "rename FROM TO", "rename a remote file"},
	{"binary", 0, 0, false, ARG_NONE, c_binary, "binary", "transfer bytes as they are"},
	{"ascii", 0, 0, false, ARG_NONE, c_ascii, "ascii", "convert line ends (CR LF)"},
	{"passive", 0, 1, false, ARG_NONE, c_passive, "passive [on|off]",
	 "passive (default) or active data connections"},
	{"status", 0, 0, false, ARG_NONE, c_status, "status", "show the session's settings"},
	{"help", 0, 1, false, ARG_CMD, c_help, "help [COMMAND]", "this list"},
	{"disconnect", 0, 0, false, ARG_NONE, c_disconnect, "disconnect", "close the session"},
	{"bye", 0, 0, false, ARG_NONE, c_bye, "bye", "leave (also quit, exit)"},
};

const size_t shell_ncmds = sizeof shell_cmds / sizeof shell_cmds[0];

const struct shell_alias shell_aliases[] = {
	{"quit", "bye"}, {"exit", "bye"}, {"rm", "delete"}, {"mv", "rename"},
	{"md", "mkdir"}, {"rd", "rmdir"}, {"bin", "binary"}, {"?", "help"},
	{"close", "disconnect"},
};

const size_t shell_naliases = sizeof shell_aliases / sizeof shell_aliases[0];
