/* Logins and what each account may do. RFC 959 USER/PASS (331, 230,
 * 530), RFC 1635 (anonymous FTP: "anonymous" or "ftp", an e-mail address
 * as password, read-only, an optional write-only upload directory),
 * RFC 2577 section 4 (failed logins: a delay and a limit per connection;
 * the accounts module adds lockouts per name and per address).
 *
 * The password is checked by core/account on its thread pool; the session
 * is paused meanwhile, so nothing the client pipelines runs before the
 * answer. The quota needs the bytes already in the home: they are counted
 * on the server's own pool before 230 is sent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/offload.h"
#include "lib/str.h"
#include "ftpd/ftpd_anon.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_login.h"
#include "ftpd/ftpd_sess.h"

#define SCAN_DEPTH 64

struct ftpd_scan {
	struct ftpd_sess *fs;	/* NULL once the session is gone */
	int root_fd;
	uint64_t total;
	bool failed;
};

const char *ftpd_who(const struct ftpd_sess *fs)
{
	if (fs->name[0] != '\0')
		return fs->name;
	return "-";
}

bool ftpd_expired(const struct ftpd_sess *fs)
{
	return fs->expires != 0 && (int64_t)time(NULL) >= fs->expires;
}

bool ftpd_may_overwrite(const struct ftpd_sess *fs)
{
	return fs->cls != ACCOUNT_ANON && fs->rights == ACCOUNT_RW;
}

void ftpd_auth_cancel(struct ftpd_sess *fs)
{
	if (fs->auth_req != NULL) {
		account_verify_cancel(fs->auth_req);
		fs->auth_req = NULL;
	}
	if (fs->scan != NULL) {
		fs->scan->fs = NULL;
		fs->scan = NULL;
	}
}

void ftpd_cmd_user(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	const struct ftpd_conf *conf = fs->srv->conf;
	/* With anonymous logins off, the anonymous names get the same prompt as
	 * any other, as vsftpd does: the reply tells nothing about the config. */
	bool anon = conf->anon.enabled && ftpd_anon_name(c->arg);
	if (conf->require_tls_login && !session_is_tls(fs->s)) {
		ftpd_send(fs, FTPD_R_NOT_LOGGED_IN, "This server requires TLS for logins: send "
			  "AUTH TLS first.");
		return;
	}
	/* Longer than any account name: kept short, and it will not match. */
	str_copy(fs->user, sizeof fs->user, c->arg);
	ftpd_set_state(fs, FTPD_ST_PASS);
	if (anon)
		ftpd_send(fs, FTPD_R_NEED_PASSWORD, "Anonymous login: send your e-mail address "
			  "as the password.");
	else
		ftpd_send(fs, FTPD_R_NEED_PASSWORD, "Please specify the password.");
}

/* ---- after the check ---- */

static int open_roots(struct ftpd_sess *fs, const struct account *a, ik_err *e)
{
	if (jail_open_root(&fs->jail, a->home, e) < 0)
		return -1;
	if (a->cls == ACCOUNT_ANON && a->upload[0] != '\0') {
		char v[JAIL_VPATH_MAX];
		if (jail_vpath_join("/", a->upload, v, sizeof v, e) < 0)
			return -1;
		/* Confined like any client path: a symlink cannot move it out. */
		fs->upjail.root_fd = jail_open(&fs->jail, v, O_PATH | O_DIRECTORY, 0);
		if (fs->upjail.root_fd < 0) {
			log_event(LOG_WARNING, "ftp_upload_dir", "dir=%s/%s reason=\"%s\"", a->home,
				  a->upload, strerror(errno));
		} else if ((fs->upvpath = strdup(v)) == NULL) {
			return ik_err_set(e, "out of memory");
		}
	}
	if ((fs->cwd = strdup("/")) == NULL)
		return ik_err_set(e, "out of memory");
	return 0;
}

static void login_done(struct ftpd_sess *fs)
{
	session_set_login(fs->s, true);
	ftpd_set_state(fs, FTPD_ST_READY);
	ftpd_sess_timer(fs);
	log_event(LOG_INFO, "ftp_login", "session=%llu peer=%s user=%s class=%s rights=%s "
		  "quota=%llu used=%llu", (unsigned long long)session_id(fs->s), fs->host, fs->name,
		  account_class_name(fs->cls), account_rights_name(fs->rights),
		  (unsigned long long)fs->quota, (unsigned long long)fs->used);
	if (fs->cls == ACCOUNT_ANON) {
		if (fs->upvpath != NULL)
			ftpd_send(fs, FTPD_R_LOGGED_IN, "Anonymous access granted: read-only; "
				  "uploads go to %s.", fs->upvpath);
		else
			ftpd_send(fs, FTPD_R_LOGGED_IN, "Anonymous access granted: read-only.");
	} else if (fs->cls == ACCOUNT_GUEST) {
		ftpd_send(fs, FTPD_R_LOGGED_IN, "Login successful (guest account, rights: %s).",
			  account_rights_name(fs->rights));
	} else {
		ftpd_send(fs, FTPD_R_LOGGED_IN, "Login successful.");
	}
}

/* On a pool thread: the bytes of regular files under the home. */
static uint64_t scan_dir(int dfd, int depth, bool *failed)
{
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		*failed = true;
		return 0;
	}
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode) && depth < SCAN_DEPTH) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				total += scan_dir(sub, depth + 1, failed);
		}
	}
	closedir(d);
	return total;
}

static void scan_work(void *arg)
{
	struct ftpd_scan *sc = arg;
	int fd = openat(sc->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		sc->failed = true;
	else
		sc->total = scan_dir(fd, 0, &sc->failed);
}

static void scan_done(void *arg, enum offload_status st)
{
	struct ftpd_scan *sc = arg;
	struct ftpd_sess *fs = sc->fs;
	close(sc->root_fd);
	uint64_t total = sc->total;
	free(sc);
	if (fs == NULL)
		return;
	fs->scan = NULL;
	session_resume(fs->s);
	if (st != OFFLOAD_DONE) {
		ftpd_sess_shutdown(fs, "421 Server shutting down.");
		return;
	}
	fs->used = total;
	login_done(fs);
}

static void start_scan(struct ftpd_sess *fs)
{
	ik_err e;
	struct ftpd_scan *sc = calloc(1, sizeof *sc);
	if (sc == NULL || (sc->root_fd = dup(fs->jail.root_fd)) < 0) {
		free(sc);
		ftpd_send(fs, FTPD_R_UNAVAILABLE, "Server out of resources; try again later.");
		ftpd_sess_shutdown(fs, NULL);
		return;
	}
	sc->fs = fs;
	if (offload_submit(fs->srv->pool, scan_work, scan_done, sc, &e) < 0) {
		close(sc->root_fd);
		free(sc);
		ftpd_sess_shutdown(fs, "421 Server busy; try again later.");
		return;
	}
	fs->scan = sc;
	session_pause(fs->s);
}

static void login_ok(struct ftpd_sess *fs, const struct account *a)
{
	ik_err e;
	fs->cls = a->cls;
	fs->rights = a->rights;
	fs->quota = a->cls == ACCOUNT_ANON ? 0 : a->quota;
	fs->expires = a->expires;
	str_copy(fs->name, sizeof fs->name, a->name);
	if (open_roots(fs, a, &e) < 0) {
		char q[IK_ERR_MAX + 8];
		log_event(LOG_ERR, "ftp_login_failed", "session=%llu user=%s reason=%s",
			  (unsigned long long)session_id(fs->s), a->name, log_quote(q, sizeof q, e.msg));
		jail_close(&fs->jail);
		jail_close(&fs->upjail);
		free(fs->upvpath);
		fs->upvpath = NULL;
		fs->name[0] = '\0';
		ftpd_set_state(fs, FTPD_ST_AUTH);
		ftpd_send(fs, FTPD_R_NOT_LOGGED_IN, "Login failed: your home directory is not "
			  "available; tell the administrator.");
		return;
	}
	if (fs->quota > 0) {
		start_scan(fs);
		return;
	}
	login_done(fs);
}

static void login_failed(struct ftpd_sess *fs, enum account_status st)
{
	fs->failures++;
	fs->user[0] = '\0';
	ftpd_set_state(fs, FTPD_ST_AUTH);
	if (st == ACCOUNT_BUSY || st == ACCOUNT_ERROR) {
		ftpd_sess_shutdown(fs, st == ACCOUNT_BUSY ? "421 Server busy; try again later."
				   : "421 Login service unavailable; try again later.");
		return;
	}
	const char *why = st == ACCOUNT_NO_ANONYMOUS ? "anonymous login is not allowed here"
			  : account_status_public(st);
	if (fs->failures >= fs->srv->conf->max_login_failures) {
		char text[160];
		str_fmt(text, sizeof text, "530 Login failed: %s. Too many failures; closing.", why);
		ftpd_sess_shutdown(fs, text);
		return;
	}
	ftpd_send(fs, FTPD_R_NOT_LOGGED_IN, "Login failed: %s.", why);
}

static void on_verified(const struct account_result *r, void *arg)
{
	struct ftpd_sess *fs = arg;
	fs->auth_req = NULL;
	session_resume(fs->s);
	if (r->status == ACCOUNT_OK)
		login_ok(fs, &r->acct);
	else
		login_failed(fs, r->status);
}

/* Without an accounts database only anonymous logins exist. */
static void verify_local(struct ftpd_sess *fs)
{
	const struct account_anon *an = &fs->srv->conf->anon;
	if (!ftpd_anon_name(fs->user)) {
		log_event(LOG_NOTICE, "login", "service=ftp peer=%s result=unknown reason=\"no "
			  "accounts database\"", fs->host);
		login_failed(fs, ACCOUNT_UNKNOWN);
		return;
	}
	if (!an->enabled) {
		login_failed(fs, ACCOUNT_NO_ANONYMOUS);
		return;
	}
	struct account a;
	account_anon_account(an, &a);
	login_ok(fs, &a);
}

void ftpd_cmd_pass(struct session_call *c)
{
	struct ftpd_sess *fs = c->proto;
	struct ftpd_server *srv = fs->srv;
	if (srv->auth == NULL) {
		verify_local(fs);
		return;
	}
	struct account_query q = {
		.name = fs->user,
		.password = c->arg,
		.service = "ftp",
		.peer = fs->host,
		.anon = &srv->conf->anon,
	};
	ik_err e;
	fs->auth_req = account_verify(srv->auth, &q, on_verified, fs, &e);
	if (fs->auth_req == NULL) {
		login_failed(fs, ACCOUNT_BUSY);
		return;
	}
	/* Nothing else runs for this client until the answer is in. */
	session_pause(fs->s);
}

/* ---- paths and rights ---- */

static bool in_upload(const struct ftpd_sess *fs, const char *v)
{
	if (fs->upvpath == NULL)
		return false;
	size_t n = strlen(fs->upvpath);
	return strncmp(v, fs->upvpath, n) == 0 && (v[n] == '\0' || v[n] == '/');
}

int ftpd_path(struct ftpd_sess *fs, const char *arg, size_t arglen, enum ftpd_access want,
	      char *out, size_t outsz, const struct jail **jail, const char **kpath)
{
	if (jail_vpath_join_len(fs->cwd, arg, arglen, out, outsz, NULL) < 0) {
		ftpd_send(fs, FTPD_R_BAD_NAME, errno == EINVAL ? "Invalid file name: it holds a "
			  "NUL byte." : "File name too long.");
		return -1;
	}
	if (str_has_prefix(jail_vpath_base(out), JAIL_UPLOAD_PREFIX)) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "%s: No such file or directory.", out);
		return -1;
	}
	*jail = &fs->jail;
	*kpath = out;
	bool up = in_upload(fs, out);
	if (want == FTPD_NAV)
		return 0;
	if (want == FTPD_READ) {
		if (fs->rights == ACCOUNT_UPLOAD || (up && fs->cls == ACCOUNT_ANON)) {
			ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: %s is write-only "
				  "(uploads only).", up ? fs->upvpath : "this account");
			return -1;
		}
		return 0;
	}
	if (fs->cls == ACCOUNT_ANON) {
		if (!up || fs->upjail.root_fd < 0) {
			if (fs->upvpath != NULL)
				ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: anonymous "
					  "users may only upload into %s.", fs->upvpath);
			else
				ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: anonymous "
					  "access is read-only.");
			return -1;
		}
		if (want == FTPD_WRITE) {
			ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: uploads cannot be "
				  "changed or removed.");
			return -1;
		}
		*jail = &fs->upjail;
		*kpath = out[strlen(fs->upvpath)] != '\0' ? out + strlen(fs->upvpath) : "/";
		return 0;
	}
	if (fs->rights == ACCOUNT_RO) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: this account is "
			  "read-only.");
		return -1;
	}
	if (fs->rights == ACCOUNT_UPLOAD && want == FTPD_WRITE) {
		ftpd_send(fs, FTPD_R_FILE_UNAVAILABLE, "Permission denied: this account may upload "
			  "new files but not change or delete any.");
		return -1;
	}
	return 0;
}

int ftpd_target(struct ftpd_sess *fs, const struct session_call *c, enum ftpd_access want,
		struct ftpd_target *t)
{
	return ftpd_path(fs, c->arg, c->arglen, want, t->v, sizeof t->v, &t->j, &t->k);
}
