/* `inetkit user add | del | passwd | disable | enable`. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/account_hash.h"
#include "core/account_lockout.h"
#include "core/cli.h"
#include "core/fsutil.h"
#include "lib/str.h"
#include "tools/user_tool.h"

/* Parse the add options into a; returns 0 or an exit code. */
static int add_options(struct user_ctx *c, struct account *a)
{
	ik_err e;
	a->cls = ACCOUNT_REAL;
	if (c->cls != NULL && account_class_parse(c->cls, &a->cls) < 0)
		return cli_usage_error(USER_CMD, "--class '%s' is not real or guest", c->cls);
	a->rights = a->cls == ACCOUNT_GUEST ? ACCOUNT_RO : ACCOUNT_RW;
	if (c->rights != NULL) {
		if (a->cls != ACCOUNT_GUEST)
			return cli_usage_error(USER_CMD, "--rights applies to guest accounts only "
					       "(real accounts always have rw)");
		if (account_rights_parse(c->rights, &a->rights) < 0)
			return cli_usage_error(USER_CMD, "--rights '%s' is not ro, rw or upload",
					       c->rights);
	}
	if (c->expires != NULL) {
		if (account_parse_expiry(c->expires, (int64_t)time(NULL), &a->expires, &e) < 0)
			return cli_usage_error(USER_CMD, "--expires %s", e.msg);
	} else if (a->cls == ACCOUNT_GUEST) {
		return cli_usage_error(USER_CMD, "a guest account needs --expires (a date such as "
				       "2026-12-31 or a duration such as 7d)");
	}
	if (c->quota != NULL && str_to_size(c->quota, &a->quota) < 0)
		return cli_usage_error(USER_CMD, "--quota '%s' is not a size (examples: 512, 64k, "
				       "10M, 2G)", c->quota);
	if (c->home != NULL) {
		if (c->home[0] == '\0')
			return cli_usage_error(USER_CMD, "--home is empty");
		if (c->home[0] == '/') {
			if (str_copy(a->home, sizeof a->home, c->home) < 0)
				return cli_usage_error(USER_CMD, "--home is too long");
		} else {
			char cwd[ACCOUNT_PATH_MAX];
			if (getcwd(cwd, sizeof cwd) == NULL ||
			    str_fmt(a->home, sizeof a->home, "%s/%s", cwd, c->home) < 0)
				return cli_usage_error(USER_CMD, "--home is too long");
		}
	}
	return 0;
}

int user_add(struct user_ctx *c)
{
	ik_err e;
	struct account a;
	memset(&a, 0, sizeof a);
	if (account_name_check(c->args[0], &e) < 0)
		return cli_usage_error(USER_CMD, "%s", e.msg);
	str_copy(a.name, sizeof a.name, c->args[0]);
	int rc = add_options(c, &a);
	if (rc != 0)
		return rc;
	if (a.home[0] == '\0' &&
	    str_fmt(a.home, sizeof a.home, "%s/%s/%s", c->policy.state_dir,
		    a.cls == ACCOUNT_GUEST ? "guests" : "home", a.name) < 0)
		return cli_usage_error(USER_CMD, "state directory path too long");
	/* Before asking for a password that would be thrown away. */
	rc = account_store_get(c->store, a.name, &(struct account){0}, NULL, 0, &e);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (rc > 0)
		return cli_error(USER_CMD, CLI_FAIL, "an account named '%s' already exists", a.name);
	char pw[ACCOUNT_PASSWORD_MAX + 2];
	rc = user_read_password(c, true, pw, sizeof pw);
	if (rc != 0)
		return rc;
	char hash[ACCOUNT_HASH_MAX];
	rc = account_hash_password(pw, c->policy.hash_cost, hash, sizeof hash, &e);
	account_wipe(pw, sizeof pw);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	a.created = (int64_t)time(NULL);
	/* The home belongs to whoever owns the state directory: the user
	 * `serve` runs as, once it has started there. */
	struct stat st;
	unsigned uid = (unsigned)-1, gid = 0;
	if (geteuid() == 0 && stat(c->policy.state_dir, &st) == 0 && st.st_uid != 0) {
		uid = st.st_uid;
		gid = st.st_gid;
	}
	/* As useradd -m: missing directories above the home are made too,
	 * mode 0755 and owned by whoever runs this; only the home itself
	 * goes to the service user. */
	char above[ACCOUNT_PATH_MAX];
	str_copy(above, sizeof above, a.home);
	if (fs_mkdir_p(dirname(above), 0755, (unsigned)-1, 0, &e) < 0 ||
	    fs_mkdir_p(a.home, 0750, uid, gid, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	rc = account_store_add(c->store, &a, hash, &e);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (rc == 0)
		return cli_error(USER_CMD, CLI_FAIL, "an account named '%s' already exists", a.name);
	char when[32] = "never";
	if (a.expires != 0)
		account_format_time(a.expires, when, sizeof when);
	if (a.cls == ACCOUNT_GUEST)
		printf("added guest account %s (rights %s, expires %s, home %s)\n", a.name,
		       account_rights_name(a.rights), when, a.home);
	else
		printf("added real account %s (home %s)\n", a.name, a.home);
	return CLI_OK;
}

int user_del(struct user_ctx *c)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	ik_err e;
	if (account_store_del(c->store, a.name, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	printf("deleted account %s (its home %s is left in place)\n", a.name, a.home);
	return CLI_OK;
}

int user_passwd(struct user_ctx *c)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	char pw[ACCOUNT_PASSWORD_MAX + 2];
	rc = user_read_password(c, true, pw, sizeof pw);
	if (rc != 0)
		return rc;
	ik_err e;
	char hash[ACCOUNT_HASH_MAX];
	rc = account_hash_password(pw, c->policy.hash_cost, hash, sizeof hash, &e);
	account_wipe(pw, sizeof pw);
	if (rc < 0 || account_store_set_hash(c->store, a.name, hash, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	printf("changed the password of %s\n", a.name);
	return CLI_OK;
}

static int set_disabled(struct user_ctx *c, bool disabled)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	ik_err e;
	if (account_store_set_disabled(c->store, a.name, disabled, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (!disabled) {
		char key[ACCOUNT_LOCKOUT_KEY_MAX];
		account_lockout_key(key, sizeof key, "user", a.name);
		if (account_lockout_clear(c->store, key, &e) < 0)
			return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	}
	printf("%s account %s\n", disabled ? "disabled" : "enabled", a.name);
	return CLI_OK;
}

int user_disable(struct user_ctx *c) { return set_disabled(c, true); }
int user_enable(struct user_ctx *c) { return set_disabled(c, false); }
