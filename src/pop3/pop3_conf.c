/* The [pop3] section: every key is read here (the getters are the schema,
 * see core/config.h), checked, and documented in inetkit-pop3d(8) and
 * inetkit.conf(5). RFC 1939 3 gives the TRANSACTION idle timer's minimum
 * (10 minutes), RFC 2595 and RFC 8314 the two kinds of listener (STLS,
 * implicit TLS), RFC 2449 LOGIN-DELAY and EXPIRE, RFC 1939 7 APOP's
 * shared secrets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/tls.h"
#include "core/server_conf.h"
#include "core/workers.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "pop3/pop3.h"

static int read_limits(struct cfg *cfg, const char *sec, struct pop3_conf *c, ik_err *e)
{
	if (cfg_get_uint(cfg, sec, "max_errors", "Error replies in one session before it is "
			 "closed", 10, 1, 100000, &c->max_errors, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions", "Sessions of the whole server, across all "
			 "workers; more are refused with -ERR [SYS/TEMP]", 1000, 1, 1000000,
			 &c->max_sessions, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions_per_ip", "Sessions from one client address; 0: "
			 "no limit", 50, 0, 1000000, &c->max_per_ip, e) < 0 ||
	    cfg_get_uint(cfg, sec, "auth_attempts", "Failed logins in one session before it is "
			 "closed", 3, 1, 1000, &c->auth_attempts, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_commands_before_login", "Commands a client may send "
			 "before it logs in; one more closes the session", 30, 1, 100000,
			 &c->max_commands_login, e) < 0 ||
	    cfg_get_duration(cfg, sec, "auth_timeout", "A client silent this long before it "
			     "logs in is closed", 60000, &c->auth_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "idle_timeout", "A logged-in client silent this long is "
			     "closed, nothing deleted (RFC 1939: at least 10m)", 600000, &c->idle_ms,
			     e) < 0)
		return -1;
	if (c->auth_ms < 1000)
		return cfg_error(cfg, sec, "auth_timeout", e, "at least 1s");
	if (c->idle_ms < 600000)
		return cfg_error(cfg, sec, "idle_timeout", e, "at least 10m (RFC 1939 3: the "
				 "autologout timer is at least 10 minutes)");
	return 0;
}

static int read_auth(struct cfg *cfg, const char *sec, struct pop3_conf *c, ik_err *e)
{
	const char *secrets, *expire;
	uint64_t delay_ms;
	if (cfg_get_bool(cfg, sec, "allow_plaintext_auth", "Allow USER/PASS and AUTH on "
			 "connections without TLS (passwords in clear text)", false,
			 &c->allow_plaintext_auth, e) < 0 ||
	    cfg_get_bool(cfg, sec, "apop", "Offer APOP (RFC 1939 7; needs secrets kept in clear "
			 "in apop_secrets)", false, &c->apop, e) < 0 ||
	    cfg_get_str(cfg, sec, "apop_secrets", "The APOP secrets file: lines 'name secret', "
			"mode 0600", "", &secrets, e) < 0 ||
	    cfg_get_duration(cfg, sec, "login_delay", "Shortest time between two logins of a "
			     "user, announced as LOGIN-DELAY (RFC 2449); 0: none", 0, &delay_ms,
			     e) < 0 ||
	    cfg_get_str(cfg, sec, "expire", "EXPIRE (RFC 2449): empty (none), never, or days N: "
			"retrieved mail is deleted at the first QUIT N days later (0: at this QUIT)",
			"", &expire, e) < 0)
		return -1;
	c->login_delay_s = (delay_ms + 999) / 1000;
	if (str_copy(c->apop_secrets, sizeof c->apop_secrets, secrets) < 0)
		return cfg_error(cfg, sec, "apop_secrets", e, "path too long");
	if (c->apop && c->apop_secrets[0] == '\0')
		return cfg_error(cfg, sec, "apop", e, "APOP needs apop_secrets (a file of 'name "
				 "secret' lines)");
	c->expire_days = -1;
	if (str_eq_nocase(expire, "never")) {
		c->expire_days = -2;
	} else if (expire[0] != '\0') {
		uint64_t d;
		if (str_to_u64(expire, 100000, &d) < 0)
			return cfg_error(cfg, sec, "expire", e, "'%s': give never or a number of "
					 "days", expire);
		c->expire_days = (int64_t)d;
	}
	return 0;
}

void *pop3_conf_read(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e)
{
	struct pop3_conf *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->section = sec;
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    listen_spec_configure(cfg, sec, "listen", "Addresses for POP3 with STLS (the port 110 "
				  "role): HOST:PORT, [IPV6]:PORT, *:PORT or PORT",
				  POP3_DEFAULT_LISTEN, false, c->listen, &c->nlisten, e) < 0 ||
	    listen_spec_configure(cfg, sec, "implicit_tls_listen", "Addresses for POP3 over "
				  "implicit TLS (the port 995 role); empty: none", NULL, false,
				  c->tls_listen, &c->ntls_listen, e) < 0 ||
	    read_auth(cfg, sec, c, e) < 0 || read_limits(cfg, sec, c, e) < 0)
		goto fail;
	if (c->nlisten + c->ntls_listen == 0) {
		cfg_error(cfg, sec, "listen", e, "give at least one [HOST:]PORT to listen on "
			  "(listen or implicit_tls_listen)");
		goto fail;
	}
	if (server_conf_paths(ctx, cfg, sizeof c->state_dir, c->state_dir, c->cert, c->key,
			      c->config_path, e) < 0)
		goto fail;
	return c;
fail:
	pop3_conf_free(c);
	return NULL;
}

void pop3_conf_free(void *conf)
{
	struct pop3_conf *c = conf;
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	listen_spec_free(c->tls_listen, c->ntls_listen);
	if (c->ssl != NULL)
		SSL_CTX_free(c->ssl);
	free(c);
}

int pop3_conf_prepare(struct pop3_conf *c, ik_err *e)
{
	return server_conf_tls(&c->ssl, c->cert, c->key, e);
}

int pop3_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e)
{
	const struct pop3_conf *c = conf;
	if (server_conf_state_subdir(cfg, c->state_dir, "mail", user, uid, gid,
				     "the POP3 server reads mail there", e) < 0)
		return -1;
	if (c->apop) {
		struct stat st;
		ik_err why;
		if (stat(c->apop_secrets, &st) < 0)
			return cfg_error(cfg, c->section, "apop_secrets", e, "cannot read %s: %s",
					 c->apop_secrets, strerror(errno));
		if (st.st_mode & 077)
			return cfg_error(cfg, c->section, "apop_secrets", e, "%s is readable by "
					 "others (secrets in clear): chmod 600 it", c->apop_secrets);
		if (fs_user_access(c->apop_secrets, R_OK, user, uid, gid, &why) != 0)
			return cfg_error(cfg, c->section, "apop_secrets", e, "%s", why.msg);
	}
	return 0;
}

int pop3_apop_secret(const char *path, const char *name, char *out, size_t outsz, ik_err *e)
{
	struct sbuf b = SBUF_INIT(1024 * 1024);
	if (fs_read_file(path, &b, e) < 0) {
		sbuf_free(&b);
		return -1;
	}
	int found = 0;
	size_t nlen = strlen(name);
	char *p = b.data;
	for (char *end = b.data + b.len; !found && p != NULL && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > nlen + 1 && p[0] != '#' && memcmp(p, name, nlen) == 0 && p[nlen] == ' ') {
			size_t sl = len - nlen - 1;
			if (sl < outsz) {
				memcpy(out, p + nlen + 1, sl);
				out[sl] = '\0';
				found = 1;
			}
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	explicit_bzero(b.data, b.len);
	sbuf_free(&b);
	return found;
}

int pop3_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct pop3_conf *c = conf;
	if (pop3_conf_prepare(c, e) < 0)
		return -1;
	if (server_conf_bind(set, c->listen, c->nlisten, NULL, e) < 0)
		return -1;
	if (server_conf_bind(set, c->tls_listen, c->ntls_listen, &c->tls_from, e) < 0)
		return -1;
	/* A session holds its connection, and once logged in its maildrop's
	 * two directories, its lock file and a message being read. */
	workers_raise_nofile(c->max_sessions * 6 + 64);
	return 0;
}
