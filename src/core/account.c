/* Account vocabulary (names, classes, rights, statuses, service lists),
 * the names protocols reserve for their anonymous logins, and the
 * configuration of accounts: [accounts] and [serve] state_dir. */
#include "core/account.h"

#include <string.h>

#include "core/fsutil.h"
#include "lib/str.h"

const char *const account_services[] = {"ftp", "smtp", "pop3", "imap", NULL};

static const char *const status_words[] = {
	[ACCOUNT_OK] = "ok", [ACCOUNT_UNKNOWN] = "unknown",
	[ACCOUNT_BAD_PASSWORD] = "bad_password", [ACCOUNT_WRONG_SERVICE] = "wrong_service",
	[ACCOUNT_EXPIRED] = "expired", [ACCOUNT_DISABLED] = "disabled",
	[ACCOUNT_LOCKED] = "locked", [ACCOUNT_NO_ANONYMOUS] = "anonymous_off",
	[ACCOUNT_BUSY] = "busy", [ACCOUNT_ERROR] = "error",
};

const char *account_status_word(enum account_status s)
{
	return (unsigned)s < sizeof status_words / sizeof status_words[0] ? status_words[s] : "error";
}

const char *account_status_public(enum account_status s)
{
	switch (s) {
	case ACCOUNT_OK: return "logged in";
	case ACCOUNT_UNKNOWN:
	case ACCOUNT_BAD_PASSWORD:
	case ACCOUNT_WRONG_SERVICE: return "login incorrect";
	case ACCOUNT_EXPIRED: return "account expired";
	case ACCOUNT_DISABLED: return "account disabled";
	case ACCOUNT_LOCKED: return "too many failed logins; try again later";
	case ACCOUNT_NO_ANONYMOUS: return "login not allowed here";	/* worded by each protocol */
	case ACCOUNT_BUSY: return "server busy; try again later";
	case ACCOUNT_ERROR: break;
	}
	return "temporary server error; try again later";
}

const char *account_class_name(enum account_class c)
{
	return c == ACCOUNT_GUEST ? "guest" : c == ACCOUNT_ANON ? "anonymous" : "real";
}

const char *account_rights_name(enum account_rights r)
{
	return r == ACCOUNT_RO ? "ro" : r == ACCOUNT_UPLOAD ? "upload" : "rw";
}

int account_class_parse(const char *s, enum account_class *out)
{
	if (strcmp(s, "real") == 0)
		*out = ACCOUNT_REAL;
	else if (strcmp(s, "guest") == 0)
		*out = ACCOUNT_GUEST;
	else
		return -1;
	return 0;
}

int account_rights_parse(const char *s, enum account_rights *out)
{
	if (strcmp(s, "rw") == 0)
		*out = ACCOUNT_RW;
	else if (strcmp(s, "ro") == 0)
		*out = ACCOUNT_RO;
	else if (strcmp(s, "upload") == 0)
		*out = ACCOUNT_UPLOAD;
	else
		return -1;
	return 0;
}

/* Registered at start-up, before any thread reads them. */
#define RESERVED_MAX 8
static const struct account_reserved *reserved[RESERVED_MAX];
static size_t nreserved;

int account_reserve(const struct account_reserved *r, ik_err *e)
{
	for (size_t i = 0; i < nreserved; i++)
		if (reserved[i] == r)
			return 0;
	if (nreserved == RESERVED_MAX)
		return ik_err_set(e, "more than %d lists of reserved account names", RESERVED_MAX);
	reserved[nreserved++] = r;
	return 0;
}

bool account_names_has(const char *const *names, const char *name)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (str_eq_nocase(name, names[i]))
			return true;
	return false;
}

const struct account_reserved *account_reserved_find(const char *name)
{
	for (size_t i = 0; i < nreserved; i++)
		if (account_names_has(reserved[i]->names, name))
			return reserved[i];
	return NULL;
}

void account_anon_account(const struct account_anon *an, struct account *a)
{
	memset(a, 0, sizeof *a);
	a->cls = ACCOUNT_ANON;
	a->rights = ACCOUNT_RO;
	str_copy(a->name, sizeof a->name, an->names->names[0]);
	str_copy(a->home, sizeof a->home, an->root);
	str_copy(a->upload, sizeof a->upload, an->upload);
}

int account_name_check(const char *name, ik_err *e)
{
	size_t n = strlen(name);
	if (n == 0 || n > ACCOUNT_NAME_MAX)
		return ik_err_set(e, "invalid account name '%s': use 1-%d characters", name,
				  ACCOUNT_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return ik_err_set(e, "invalid account name '%s': use a-z, 0-9, '.', '_' "
					  "and '-', starting with a letter or digit", name);
	}
	const struct account_reserved *r = account_reserved_find(name);
	if (r != NULL)
		return ik_err_set(e, "invalid account name '%s': it is reserved for %s", name, r->why);
	return 0;
}

int account_label_check(const char *label, ik_err *e)
{
	size_t n = strlen(label);
	if (n == 0 || n > ACCOUNT_LABEL_MAX)
		return ik_err_set(e, "invalid label '%s': use 1-%d characters", label, ACCOUNT_LABEL_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return ik_err_set(e, "invalid label: control characters are not allowed");
	return 0;
}

int account_services_parse(const char *list, char *out, size_t outsz, ik_err *e)
{
	bool want[8] = {false};
	char copy[256];
	if (str_copy(copy, sizeof copy, list) < 0)
		return ik_err_set(e, "service list too long");
	bool any = false;
	for (char *s = copy; *s;) {
		while (*s == ',' || *s == ' ')
			s++;
		if (*s == '\0')
			break;
		char *end = s;
		while (*end && *end != ',' && *end != ' ')
			end++;
		char saved = *end;
		*end = '\0';
		size_t i = 0;
		while (account_services[i] != NULL && strcmp(account_services[i], s) != 0)
			i++;
		if (account_services[i] == NULL)
			return ik_err_set(e, "unknown service '%s' (known: ftp, smtp, pop3, imap)", s);
		want[i] = true;
		any = true;
		*end = saved;
		s = end;
	}
	if (!any)
		return ik_err_set(e, "empty service list (known: ftp, smtp, pop3, imap)");
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; account_services[i] != NULL; i++) {
		if (!want[i])
			continue;
		int k = str_fmt(out + used, outsz - used, "%s%s", used ? "," : "", account_services[i]);
		if (k < 0)
			return ik_err_set(e, "service list too long");
		used += (size_t)k;
	}
	return 0;
}

bool account_services_has(const char *list, const char *service)
{
	size_t n = strlen(service);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, service, n) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

void account_policy_defaults(struct account_policy *p)
{
	memset(p, 0, sizeof *p);
	p->hash_threads = 2;
	p->hash_queue = 256;
	p->hash_cost = 0;
	p->failure_delay_ms = 1000;
	p->user_failures = 5;
	p->ip_failures = 20;
	p->window_ms = 15 * 60 * 1000;
	p->lockout_ms = 15 * 60 * 1000;
	p->log_keep_ms = 90ULL * 86400 * 1000;
	account_policy_set_state_dir(p, ACCOUNT_DEFAULT_STATE_DIR, NULL);
}

int account_policy_set_state_dir(struct account_policy *p, const char *dir, ik_err *e)
{
	if (fs_absolute(dir, p->state_dir, sizeof p->state_dir, e) < 0)
		return -1;
	size_t n = strlen(p->state_dir);
	while (n > 1 && p->state_dir[n - 1] == '/')
		p->state_dir[--n] = '\0';
	if (str_fmt(p->db_path, sizeof p->db_path, "%s/%s", p->state_dir, ACCOUNT_DB_NAME) < 0)
		return ik_err_set(e, "path too long: %s", p->state_dir);
	return 0;
}

int account_state_dir(struct cfg *c, char *out, size_t outsz, ik_err *e)
{
	const char *dir;
	cfg_get_str(c, "serve", "state_dir", "Where accounts.db, tls/, homes and the anonymous "
		    "FTP root live; relative to where serve starts", ACCOUNT_DEFAULT_STATE_DIR,
		    &dir, e);
	if (fs_absolute(dir, out, outsz, e) < 0)
		return cfg_error(c, "serve", "state_dir", e, "%s", e->msg);
	return 0;
}

int account_policy_configure(struct cfg *c, struct account_policy *p, ik_err *e)
{
	account_policy_defaults(p);
	char dir[ACCOUNT_PATH_MAX];
	if (account_state_dir(c, dir, sizeof dir, e) < 0 ||
	    account_policy_set_state_dir(p, dir, e) < 0)
		return -1;
	const char *sec = "accounts";
	uint64_t u;
	if (cfg_get_uint(c, sec, "hash_threads", "Threads per worker that check passwords, so the "
			 "event loop never waits (applied at a restart)", 2, 1, 64, &u, e) < 0)
		return -1;
	p->hash_threads = (unsigned)u;
	if (cfg_get_uint(c, sec, "hash_queue", "Logins that may wait for a hashing thread per "
			 "worker; more are told the server is busy", 256, 1, 1000000, &u, e) < 0)
		return -1;
	p->hash_queue = (unsigned)u;
	if (cfg_get_uint(c, sec, "hash_cost", "yescrypt cost of new passwords; 0 is libxcrypt's "
			 "default (lower only for tests)", 0, 0, 11, &u, e) < 0)
		return -1;
	p->hash_cost = (unsigned)u;
	if (cfg_get_uint(c, sec, "lockout_failures", "Failed logins of one name within "
			 "lockout_window that lock it for lockout_time; 0: off", 5, 0, 1000000, &u,
			 e) < 0)
		return -1;
	p->user_failures = (unsigned)u;
	if (cfg_get_uint(c, sec, "lockout_ip_failures", "The same for one client address, "
			 "whatever names it tries; 0: off", 20, 0, 1000000, &u, e) < 0)
		return -1;
	p->ip_failures = (unsigned)u;
	if (cfg_get_duration(c, sec, "failure_delay", "A failed login is answered only after this "
			     "delay, whatever the reason (at most 60s)", 1000, &p->failure_delay_ms,
			     e) < 0 ||
	    cfg_get_duration(c, sec, "lockout_window", "The time in which failed logins are counted",
			     15 * 60 * 1000, &p->window_ms, e) < 0 ||
	    cfg_get_duration(c, sec, "lockout_time", "How long a lock lasts; 'inetkit user enable' "
			     "ends one early", 15 * 60 * 1000, &p->lockout_ms, e) < 0 ||
	    cfg_get_duration(c, sec, "login_log_keep", "Login log rows older than this are removed",
			     90ULL * 86400 * 1000, &p->log_keep_ms, e) < 0)
		return -1;
	if (p->failure_delay_ms > 60000)
		return cfg_error(c, sec, "failure_delay", e, "at most 60s (clients give up sooner)");
	return account_store_configure(c, p, e);
}

int account_store_configure(struct cfg *c, struct account_policy *p, ik_err *e)
{
	const char *v;
	if (cfg_get_str(c, "accounts", "store", "Where accounts live: empty for state_dir/accounts.db,"
			" sqlite:PATH, or a postgresql:// URI shared by several nodes", "", &v, e) < 0)
		return -1;
	if (v[0] == '\0')
		return 0;
	if (str_has_prefix(v, "postgresql://") || str_has_prefix(v, "postgres://")) {
		if (str_copy(p->db_path, sizeof p->db_path, v) < 0)
			return cfg_error(c, "accounts", "store", e, "URI too long");
		return 0;
	}
	if (str_has_prefix(v, "sqlite:") && v[7] != '\0') {
		if (fs_absolute(v + 7, p->db_path, sizeof p->db_path, e) < 0)
			return cfg_error(c, "accounts", "store", e, "%s", e->msg);
		return 0;
	}
	return cfg_error(c, "accounts", "store", e, "'%s' is not sqlite:PATH or a postgresql:// "
			 "URI", v);
}
