/* The state directory and the service user. Started as root, serve makes
 * the state directory, gives it (and what root made in it) to [serve]
 * user, then drops to that user for good: setgroups, setgid, setuid, in
 * that order, and checks that root cannot be regained. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/account_store.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "lib/str.h"
#include "serve/serve.h"

#define SKELETON_DEPTH 16
#define CHOWN_DEPTH 2	/* STATE/home/NAME, STATE/tls/key.pem */

int serve_user_lookup(struct cfg *c, const char *user, unsigned *uid, unsigned *gid, ik_err *e)
{
	*uid = (unsigned)-1;
	*gid = (unsigned)-1;
	if (geteuid() != 0)
		return 0;
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc = getpwnam_r(user, &pw, buf, sizeof buf, &res);
	if (res == NULL)
		return cfg_error(c, "serve", "user", e, rc ? "cannot look up '%s': %s"
				 : "no user '%s' on this system; create it (useradd --system %s) "
				 "or name another", user, rc ? strerror(rc) : user);
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int serve_state_check(struct cfg *c, const char *state_dir, const char *db, bool given,
		      const char *user, unsigned uid, unsigned gid, ik_err *e)
{
	ik_err why;
	/* Missing is fine: serve makes it (and gives what it makes). */
	int rc = fs_user_access(state_dir, F_OK, user, uid, gid, &why);
	if (rc < 0)
		return cfg_error(c, "serve", "state_dir", e, "%s", why.msg);
	if (rc == ENOENT && given)
		return 0;
	if (rc != 0)
		return cfg_error(c, "serve", "state_dir", e, "%s: %s%s choose another state_dir",
				 state_dir, why.msg, rc == EACCES ? " or" : ";");
	if (given)
		return 0;
	/* SQLite writes accounts.db-wal and -shm next to the database. */
	const char *what = state_dir;
	rc = fs_user_access(state_dir, R_OK | W_OK | X_OK, user, uid, gid, &why);
	if (rc == 0 && db != NULL && access(db, F_OK) == 0) {
		what = db;
		rc = fs_user_access(db, R_OK | W_OK, user, uid, gid, &why);
	}
	if (rc < 0)
		return cfg_error(c, "serve", "state_dir", e, "%s", why.msg);
	if (rc == 0)
		return 0;
	char who[SERVE_USER_MAX + 16] = "this user";
	if (uid != (unsigned)-1)
		str_fmt(who, sizeof who, "user %s", user);
	return cfg_error(c, "serve", "state_dir", e, "%s cannot read and write %s; give the "
			 "directory and its files to %s (chown -R %s %s), or start `inetkit serve` "
			 "once, which does", who, what, who, uid != (unsigned)-1 ? user : "USER",
			 state_dir);
}

/* Copy the regular files and directories of src into dst, keeping what dst
 * already has. */
static int copy_tree(int sfd, int dfd, const char *where, int depth, unsigned uid, unsigned gid,
		     ik_err *e)
{
	if (depth > SKELETON_DEPTH)
		return ik_err_set(e, "skeleton %s is nested too deep", where);
	DIR *d = fdopendir(sfd);
	if (d == NULL) {
		close(sfd);
		return ik_err_errno(e, errno, "cannot read skeleton %s", where);
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		bool created = false;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dfd, n, st.st_mode & 0777) == 0)
				created = true;
			else if (errno != EEXIST)
				rc = ik_err_errno(e, errno, "cannot create %s/%s", where, n);
			int s2 = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (rc == 0 && s2 >= 0 && d2 >= 0) {
				rc = copy_tree(s2, d2, where, depth + 1, uid, gid, e);
				s2 = -1;	/* closed by copy_tree */
			}
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					 st.st_mode & 0666);
			if (out >= 0) {
				created = true;
				char buf[16384];
				ssize_t got;
				while (in >= 0 && (got = read(in, buf, sizeof buf)) > 0)
					if (write(out, buf, (size_t)got) != got) {
						rc = ik_err_errno(e, errno, "cannot copy %s/%s", where, n);
						break;
					}
				close(out);
			} else if (errno != EEXIST) {
				rc = ik_err_errno(e, errno, "cannot create %s/%s", where, n);
			}
			if (in >= 0)
				close(in);
		}
		if (created && uid != (unsigned)-1 && rc == 0 &&
		    fchownat(dfd, n, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			rc = ik_err_errno(e, errno, "cannot give %s/%s to uid %u", where, n, uid);
	}
	closedir(d);
	return rc;
}

/* Give what root owns near the top of the state directory to the user:
 * the database, the certificate pair, homes that `user add` made. */
static void give_tree(int fd, int depth, unsigned uid, unsigned gid)
{
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* Best effort: what stays root's shows up when the service uses it. */
		if (st.st_uid == 0 &&
		    fchownat(dirfd(d), de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			log_event(LOG_WARNING, "state_chown", "name=%s uid=%u reason=\"%s\"",
				  de->d_name, uid, strerror(errno));
		if (S_ISDIR(st.st_mode) && depth < CHOWN_DEPTH) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				give_tree(sub, depth + 1, uid, gid);
		}
	}
	closedir(d);
}

int serve_state_prepare(const struct serve_conf *sc, unsigned uid, unsigned gid, ik_err *e)
{
	if (fs_mkdir_p(sc->state_dir, 0750, uid, gid, e) < 0)
		return -1;
	int dfd = open(sc->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ik_err_errno(e, errno, "cannot open the state directory %s", sc->state_dir);
	if (uid != (unsigned)-1 && fchown(dfd, uid, gid) < 0) {
		int err = errno;
		close(dfd);
		return ik_err_errno(e, err, "cannot give %s to %s", sc->state_dir, sc->user);
	}
	if (sc->skeleton[0] != '\0') {
		int sfd = open(sc->skeleton, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0) {
			int err = errno;
			close(dfd);
			ik_err_errno(e, err, "cannot open %s", sc->skeleton);
			return cfg_error(sc->cfg, "serve", "skeleton", e, "%s", e->msg);
		}
		if (copy_tree(sfd, dfd, sc->skeleton, 0, uid, gid, e) < 0) {
			close(dfd);
			return -1;
		}
	}
	/* The store exists and is migrated before any worker opens it. */
	struct account_store *s;
	if (account_store_open(sc->accounts.db_path, ACCOUNT_STORE_CREATE, &s, e) < 0) {
		close(dfd);
		return -1;
	}
	account_store_close(s);
	if (uid != (unsigned)-1)
		give_tree(dfd, 1, uid, gid);	/* takes dfd */
	else
		close(dfd);
	return 0;
}

int serve_drop_privileges(const char *user, unsigned uid, unsigned gid, ik_err *e)
{
	if (uid == (unsigned)-1)
		return 0;	/* not root: nothing to drop */
	if (uid == 0) {
		log_event(LOG_WARNING, "privileges", "user=%s reason=\"[serve] user is root: "
			  "services keep full privileges\"", user);
		return 0;
	}
	gid_t g = (gid_t)gid;
	if (setgroups(1, &g) < 0)
		return ik_err_errno(e, errno, "cannot drop supplementary groups");
	if (setgid(g) < 0)
		return ik_err_errno(e, errno, "cannot switch to group %u", gid);
	if (setuid((uid_t)uid) < 0)
		return ik_err_errno(e, errno, "cannot switch to user %s", user);
	if (setuid(0) == 0 || geteuid() == 0)
		return ik_err_set(e, "still able to regain root after dropping to %s; refusing to run",
				  user);
	log_event(LOG_INFO, "privileges", "user=%s uid=%u gid=%u", user, uid, gid);
	return 0;
}
