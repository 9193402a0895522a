/* The [imap] section: every key is read here (the getters are the schema,
 * see core/config.h), checked, and documented in inetkit-imapd(8) and
 * inetkit.conf(5). RFC 3501 5.4 gives the 30-minute minimum of the
 * autologout timer once authenticated; RFC 3501 6.2.3 and RFC 8314 why
 * LOGIN is refused without TLS unless allowed (LOGINDISABLED). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/tls.h"
#include "core/server_conf.h"
#include "core/workers.h"
#include "imap/imap.h"
#include "lib/str.h"

static int read_keys(struct cfg *cfg, const char *sec, struct imap_conf *c, ik_err *e)
{
	if (listen_spec_configure(cfg, sec, "listen", "Addresses for IMAP with STARTTLS: "
				  "HOST:PORT, [IPV6]:PORT, *:PORT or PORT", IMAP_DEFAULT_LISTEN,
				  false, c->listen, &c->nlisten, e) < 0 ||
	    listen_spec_configure(cfg, sec, "tls_listen", "Addresses for IMAP over implicit TLS "
				  "(the port 993 role); empty: none", NULL, false, c->tls_listen,
				  &c->ntls_listen, e) < 0 ||
	    cfg_get_bool(cfg, sec, "login_plaintext", "Allow LOGIN and AUTHENTICATE without TLS "
			 "(passwords in clear text); otherwise LOGINDISABLED until STARTTLS", false,
			 &c->login_plaintext, e) < 0 ||
	    cfg_get_size(cfg, sec, "max_literal", "Largest literal, and so largest APPEND; a "
			 "bigger one is refused before it is read", 50ULL << 20, &c->max_literal,
			 e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions", "Sessions of the whole server, across all "
			 "workers; more are answered BYE", 1000, 1, 1000000, &c->max_sessions, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions_per_ip", "Sessions from one client address; 0: "
			 "no limit", 50, 0, 1000000, &c->max_per_ip, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions_per_user", "Logged-in sessions of one user in "
			 "one worker process; more logins are refused NO [LIMIT]; 0: no limit", 20, 0,
			 1000000, &c->max_per_user, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_errors", "BAD replies in one session before it is closed "
			 "with BYE", 20, 1, 100000, &c->max_errors, e) < 0 ||
	    cfg_get_uint(cfg, sec, "auth_attempts", "Failed logins in one session before it is "
			 "closed with BYE", 3, 1, 1000, &c->auth_attempts, e) < 0 ||
	    cfg_get_duration(cfg, sec, "preauth_timeout", "A client silent this long before it "
			     "logs in is closed (BYE)", 60000, &c->preauth_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "timeout", "A logged-in client silent this long (IDLE "
			     "included) is closed; RFC 3501 5.4 asks for at least 30 minutes",
			     1800000, &c->auth_ms, e) < 0)
		return -1;
	if (c->nlisten + c->ntls_listen == 0)
		return cfg_error(cfg, sec, "listen", e, "give at least one [HOST:]PORT to listen on "
				 "(listen or tls_listen)");
	if (c->max_literal < 1024 || c->max_literal > (1ULL << 32) - 1)
		return cfg_error(cfg, sec, "max_literal", e, "from 1k to 4G-1");
	if (c->preauth_ms < 1000 || c->auth_ms < 1000)
		return cfg_error(cfg, sec, c->preauth_ms < 1000 ? "preauth_timeout" : "timeout", e,
				 "at least 1s");
	return 0;
}

void *imap_conf_read(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e)
{
	struct imap_conf *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->section = sec;
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    read_keys(cfg, sec, c, e) < 0)
		goto fail;
	if (server_conf_paths(ctx, cfg, sizeof c->state_dir, c->state_dir, c->cert, c->key,
			      c->config_path, e) < 0)
		goto fail;
	return c;
fail:
	imap_conf_free(c);
	return NULL;
}

void imap_conf_free(void *conf)
{
	struct imap_conf *c = conf;
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	listen_spec_free(c->tls_listen, c->ntls_listen);
	if (c->ssl != NULL)
		SSL_CTX_free(c->ssl);
	free(c);
}

int imap_conf_prepare(struct imap_conf *c, ik_err *e)
{
	return server_conf_tls(&c->ssl, c->cert, c->key, e);
}

int imap_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e)
{
	const struct imap_conf *c = conf;
	return server_conf_state_subdir(cfg, c->state_dir, "mail", user, uid, gid,
					"the IMAP server reads mail there", e);
}

int imap_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct imap_conf *c = conf;
	if (imap_conf_prepare(c, e) < 0)
		return -1;
	if (server_conf_bind(set, c->listen, c->nlisten, NULL, e) < 0)
		return -1;
	if (server_conf_bind(set, c->tls_listen, c->ntls_listen, &c->tls_from, e) < 0)
		return -1;
	/* A session holds its connection and a selected folder's files. */
	workers_raise_nofile(c->max_sessions * 6 + 64);
	return 0;
}
