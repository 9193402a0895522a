/* FTP's anonymous login: its names and its keys (see ftpd_anon.h). */
#include "ftpd/ftpd_anon.h"

#include <string.h>

#include "core/fsutil.h"
#include "lib/str.h"

static const char *const names[] = {"anonymous", "ftp", NULL};

const struct account_reserved ftpd_anon_names = {
	names, "anonymous login (enable it with anonymous = yes in the service's section)",
};

int ftpd_anon_reserve(ik_err *e)
{
	return account_reserve(&ftpd_anon_names, e);
}

bool ftpd_anon_name(const char *name)
{
	return account_names_has(names, name);
}

/* A directory under the anonymous root: relative, no "." or ".." parts. */
static int relative_dir_check(const char *d)
{
	if (d[0] == '/')
		return -1;
	for (const char *p = d; *p;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

int ftpd_anon_configure(struct cfg *c, const char *section, struct account_anon *a, ik_err *e)
{
	memset(a, 0, sizeof *a);
	a->names = &ftpd_anon_names;
	if (ftpd_anon_reserve(e) < 0)
		return -1;
	char state[ACCOUNT_PATH_MAX];
	if (account_state_dir(c, state, sizeof state, e) < 0)
		return -1;
	char def[ACCOUNT_PATH_MAX + 8];
	str_fmt(def, sizeof def, "%s/ftp", state);
	const char *root, *upload;
	if (cfg_get_bool(c, section, "anonymous", "Allow logins as anonymous or ftp, with an "
			 "e-mail address as password", false, &a->enabled, e) < 0)
		return -1;
	cfg_get_str(c, section, "anonymous_root", "The read-only directory anonymous users see",
		    def, &root, e);
	cfg_get_str(c, section, "anonymous_upload", "A directory under anonymous_root where "
		    "anonymous users may upload but not read; empty: none", "", &upload, e);
	if (fs_absolute(root, a->root, sizeof a->root, e) < 0)
		return cfg_error(c, section, "anonymous_root", e, "%s", e->msg);
	if (relative_dir_check(upload) < 0)
		return cfg_error(c, section, "anonymous_upload", e,
				 "'%s' must be a directory under anonymous_root, written without "
				 "a leading '/' and without '.' or '..' parts (example: incoming)", upload);
	if (str_copy(a->upload, sizeof a->upload, upload) < 0)
		return cfg_error(c, section, "anonymous_upload", e, "too long");
	return 0;
}
