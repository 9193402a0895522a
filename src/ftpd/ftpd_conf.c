/* The [ftp] section: every key is read here (the getters are the schema,
 * see core/config.h), checked, and documented in inetkit-ftpd(8) and
 * inetkit.conf(5). RFC 2577 and RFC 4217 explain the security defaults:
 * active connections only to the client itself, TLS offered, the data
 * channel bound to the control channel's TLS session. */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/datachan.h"
#include "core/fsutil.h"
#include "lib/str.h"
#include "core/tls.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "core/workers.h"
#include "ftpd/ftpd.h"
#include "ftpd/ftpd_anon.h"
#include "ftpd/ftpd_glob.h"

static int read_mode(struct cfg *cfg, const char *sec, const char *key, const char *desc,
		     const char *def, unsigned *out, ik_err *e)
{
	const char *v;
	if (cfg_get_str(cfg, sec, key, desc, def, &v, e) < 0)
		return -1;
	unsigned m = 0;
	size_t len = strlen(v);
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '7' || len > 4)
			return cfg_error(cfg, sec, key, e, "'%s' is not an octal mode such as %s", v,
					 def);
		m = m * 8 + (unsigned)(v[i] - '0');
	}
	if (len == 0 || (m & 0700) == 0)
		return cfg_error(cfg, sec, key, e, "'%s' leaves the owner no access; use e.g. %s",
				 v, def);
	*out = m;
	return 0;
}

static int read_ports(struct cfg *cfg, const char *sec, struct ftpd_conf *c, ik_err *e)
{
	const char *v;
	if (cfg_get_str(cfg, sec, "pasv_ports", "Ports for passive data connections, such as "
			"40000-40999; empty: any", "", &v, e) < 0)
		return -1;
	if (v[0] == '\0')
		return 0;
	char buf[32];
	if (str_copy(buf, sizeof buf, v) < 0)
		return cfg_error(cfg, sec, "pasv_ports", e, "'%s' is not a range such as "
				 "40000-40999", v);
	char *hi = str_split(buf, '-');
	uint64_t a, b;
	if (hi == NULL || str_to_u64(buf, 65535, &a) < 0 || str_to_u64(hi, 65535, &b) < 0 ||
	    a < 1024 || b < a)
		return cfg_error(cfg, sec, "pasv_ports", e, "'%s' is not a range such as "
				 "40000-40999 (ports 1024 to 65535, low first)", v);
	c->pasv_min = (uint16_t)a;
	c->pasv_max = (uint16_t)b;
	return 0;
}

static int read_addr(struct cfg *cfg, const char *sec, struct ftpd_conf *c, ik_err *e)
{
	const char *v;
	if (cfg_get_str(cfg, sec, "pasv_address", "The IPv4 address PASV replies announce; empty: "
			"the control connection's", "", &v, e) < 0)
		return -1;
	if (v[0] == '\0')
		return 0;
	if (inet_pton(AF_INET, v, &c->pasv_addr) != 1)
		return cfg_error(cfg, sec, "pasv_address", e, "'%s' is not an IPv4 address (the "
				 "public address PASV replies announce, e.g. 203.0.113.5)", v);
	c->has_pasv_addr = true;
	return 0;
}

static int read_limits(struct cfg *cfg, const char *sec, struct ftpd_conf *c, ik_err *e)
{
	uint64_t u;
	if (cfg_get_uint(cfg, sec, "max_sessions", "Sessions of the whole server, across all "
			 "workers; more are answered 421", 2000, 1, 1000000, &c->max_sessions,
			 e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_per_ip", "Sessions from one client address; 0: no limit", 50,
			 0, 1000000, &c->max_per_ip, e) < 0 ||
	    cfg_get_duration(cfg, sec, "idle_timeout", "A session with no command for this long is "
			     "closed", 300000, &c->idle_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "login_timeout", "Time to log in after connecting", 60000,
			     &c->login_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "data_timeout", "A data connection that moves nothing for "
			     "this long is closed", 120000, &c->data_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "accept_timeout", "Time the client has to open a data "
			     "connection (at least 1s)", 60000, &c->accept_ms, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_line", "Longest command line; longer ones are answered 500",
			 8192, 512, 1048576, &u, e) < 0)
		return -1;
	c->max_line = (size_t)u;
	if (cfg_get_uint(cfg, sec, "max_login_failures", "Failed logins on one connection before it "
			 "is closed", 3, 1, 1000, &u, e) < 0)
		return -1;
	c->max_login_failures = (unsigned)u;
	if (cfg_get_uint(cfg, sec, "list_max", "Names one listing reads; the rest are left out",
			 100000, 1, 100000000, &c->list_max, e) < 0 ||
	    cfg_get_uint(cfg, sec, "glob_max", "Names one glob pattern may match; more are refused "
			 "with 550", FTPD_GLOB_DEFAULT_MAX, 1, 100000000, &c->glob_max, e) < 0 ||
	    cfg_get_size(cfg, sec, "stat_max", "The most a STAT listing sends on the control "
			 "connection (at least 1k)", 64 * 1024, &c->stat_max, e) < 0 ||
	    cfg_get_size(cfg, sec, "ascii_size_max", "Largest file SIZE counts in ASCII type (it "
			 "reads the file)", 16 * 1024 * 1024, &c->ascii_size_max, e) < 0 ||
	    cfg_get_size(cfg, sec, "download_rate", "Bytes per second each download may send; 0: no "
			 "limit", 0, &c->download_rate, e) < 0 ||
	    cfg_get_size(cfg, sec, "upload_rate", "Bytes per second each upload may receive; 0: no "
			 "limit", 0, &c->upload_rate, e) < 0 ||
	    cfg_get_size(cfg, sec, "data_send_buffer", "SO_SNDBUF of download data connections; 0 "
			 "leaves it to the kernel", FTPD_DEFAULT_SNDBUF, &c->data_send_buffer,
			 e) < 0)
		return -1;
	if (c->data_send_buffer > (64ULL << 20))
		return cfg_error(cfg, sec, "data_send_buffer", e, "at most 64M; 0 leaves the size "
				 "to the kernel");
	if (c->accept_ms < 1000)
		return cfg_error(cfg, sec, "accept_timeout", e, "at least 1s (a data connection "
				 "needs a moment to open)");
	if (c->stat_max < 1024)
		return cfg_error(cfg, sec, "stat_max", e, "at least 1k");
	/* libevent's token buckets count in ev_ssize_t per tick. */
	if (c->download_rate > (1ULL << 30) || c->upload_rate > (1ULL << 30))
		return cfg_error(cfg, sec, c->download_rate > (1ULL << 30) ? "download_rate"
				 : "upload_rate", e, "at most 1G (bytes per second); 0 is no limit");
	if ((c->download_rate != 0 && c->download_rate < 1024) ||
	    (c->upload_rate != 0 && c->upload_rate < 1024))
		return cfg_error(cfg, sec, c->download_rate != 0 && c->download_rate < 1024
				 ? "download_rate" : "upload_rate", e,
				 "at least 1k (bytes per second), or 0 for no limit");
	return 0;
}

static int read_tls(struct cfg *cfg, const char *sec, struct ftpd_conf *c, ik_err *e)
{
	if (cfg_get_bool(cfg, sec, "tls", "Offer AUTH TLS, with the certificate of [tls]", true,
			 &c->tls, e) < 0 ||
	    cfg_get_bool(cfg, sec, "require_tls_login", "Refuse USER and PASS before AUTH TLS",
			 false, &c->require_tls_login, e) < 0 ||
	    cfg_get_bool(cfg, sec, "require_tls_data", "Refuse transfers before PROT P", false,
			 &c->require_tls_data, e) < 0 ||
	    cfg_get_bool(cfg, sec, "tls_data_reuse", "Protected data connections must resume the "
			 "control connection's TLS session", true, &c->tls_reuse, e) < 0)
		return -1;
	if (!c->tls && (c->require_tls_login || c->require_tls_data))
		return cfg_error(cfg, sec, c->require_tls_login ? "require_tls_login"
				 : "require_tls_data", e, "needs tls = yes");
	return 0;
}

void *ftpd_conf_read(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e)
{
	const char *cert = ctx->tls_cert, *key = ctx->tls_key;
	struct ftpd_conf *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->section = sec;
	c->xferlog_fd = -1;
	const char *v;
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    listen_spec_configure(cfg, sec, "listen", "Addresses to listen on: HOST:PORT, "
				  "[IPV6]:PORT, *:PORT or PORT", FTPD_DEFAULT_LISTEN, false, c->listen,
				  &c->nlisten, e) < 0 ||
	    listen_spec_configure(cfg, sec, "implicit_tls_listen", "Addresses for implicit FTPS "
				  "(TLS from the start); empty: none", NULL, false, c->implicit,
				  &c->nimplicit, e) < 0 ||
	    cfg_get_str(cfg, sec, "banner", "The text of the 220 greeting", FTPD_DEFAULT_BANNER, &v,
			e) < 0)
		goto fail;
	if (str_copy(c->banner, sizeof c->banner, v) < 0) {
		cfg_error(cfg, sec, "banner", e, "at most %zu bytes", sizeof c->banner - 1);
		goto fail;
	}
	if (c->nlisten + c->nimplicit == 0) {
		cfg_error(cfg, sec, "listen", e, "give at least one [HOST:]PORT to listen on");
		goto fail;
	}
	if (read_limits(cfg, sec, c, e) < 0 || read_tls(cfg, sec, c, e) < 0 ||
	    cfg_get_bool(cfg, sec, "pasv_enable", "Allow passive data connections (PASV, EPSV)",
			 true, &c->pasv_enable, e) < 0 ||
	    cfg_get_bool(cfg, sec, "port_enable", "Allow active data connections (PORT, EPRT), to "
			 "the client's own address only", true, &c->port_enable, e) < 0 ||
	    read_ports(cfg, sec, c, e) < 0 || read_addr(cfg, sec, c, e) < 0 ||
	    ftpd_anon_configure(cfg, sec, &c->anon, e) < 0 ||
	    read_mode(cfg, sec, "file_mode", "Octal mode of uploaded files", "644", &c->file_mode,
		      e) < 0 ||
	    read_mode(cfg, sec, "dir_mode", "Octal mode of new directories", "755", &c->dir_mode,
		      e) < 0 ||
	    cfg_get_str(cfg, sec, "xferlog", "A wu-ftpd style transfer log file; empty: none", "",
			&v, e) < 0 ||
	    cfg_get_bool(cfg, sec, "log_commands", "Log every command at level info (passwords "
			 "masked)", false, &c->log_commands, e) < 0)
		goto fail;
	if (str_copy(c->xferlog, sizeof c->xferlog, v) < 0) {
		cfg_error(cfg, sec, "xferlog", e, "path too long");
		goto fail;
	}
	if (!c->pasv_enable && !c->port_enable) {
		cfg_error(cfg, sec, "pasv_enable", e, "with port_enable = no too, no transfer "
			  "could ever run; enable one of them");
		goto fail;
	}
	if (c->nimplicit > 0 && !c->tls) {
		cfg_error(cfg, sec, "implicit_tls_listen", e, "needs tls = yes");
		goto fail;
	}
	if ((cert != NULL && str_copy(c->cert, sizeof c->cert, cert) < 0) ||
	    (key != NULL && str_copy(c->key, sizeof c->key, key) < 0)) {
		ik_err_set(e, "[tls] certificate path too long");
		goto fail;
	}
	return c;
fail:
	ftpd_conf_free(c);
	return NULL;
}

void ftpd_conf_free(void *conf)
{
	struct ftpd_conf *c = conf;
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	listen_spec_free(c->implicit, c->nimplicit);
	if (c->ssl != NULL)
		SSL_CTX_free(c->ssl);
	if (c->xferlog_fd >= 0)
		close(c->xferlog_fd);
	free(c);
}

int ftpd_conf_prepare(struct ftpd_conf *c, ik_err *e)
{
	if (c->tls && c->ssl == NULL) {
		if (server_conf_tls(&c->ssl, c->cert, c->key, e) < 0)
			return -1;
		/* RFC 7301 and the ALPACA paper: a client that names another
		 * protocol is not talking to an FTP server on purpose. */
		static const char *const alpn[] = {"ftp"};
		if (tls_server_set_alpn(c->ssl, alpn, 1, true, e) < 0 ||
		    datachan_tls_setup(c->ssl, e) < 0)
			return -1;
	}
	if (c->xferlog[0] != '\0' && c->xferlog_fd < 0) {
		c->xferlog_fd = fs_open_append(c->xferlog, 0640, e);
		if (c->xferlog_fd < 0)
			return ik_err_prefix(e, "[%s] xferlog", c->section);
	}
	return 0;
}

int ftpd_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e)
{
	const struct ftpd_conf *c = conf;
	ik_err why;
	int rc;
	if (c->anon.enabled) {
		const char *root = c->anon.root;
		struct stat st;
		if (stat(root, &st) < 0) {
			int err = errno;
			if (err == ENOENT)
				return cfg_error(cfg, c->section, "anonymous_root", e, "%s does not "
						 "exist; create it (mkdir -p %s) or name the directory "
						 "anonymous users should see", root, root);
			return cfg_error(cfg, c->section, "anonymous_root", e, "%s: %s", root,
					 strerror(err));
		}
		if (!S_ISDIR(st.st_mode))
			return cfg_error(cfg, c->section, "anonymous_root", e, "%s is not a directory; "
					 "name the directory anonymous users should see", root);
		rc = fs_user_access(root, R_OK | X_OK, user, uid, gid, &why);
		if (rc != 0)
			return cfg_error(cfg, c->section, "anonymous_root", e, "%s", why.msg);
	}
	if (c->xferlog[0] != '\0') {
		char dir[sizeof c->xferlog];
		str_copy(dir, sizeof dir, c->xferlog);
		const char *d = dirname(dir);
		rc = fs_user_access(d, X_OK, user, uid, gid, &why);
		if (rc == ENOENT || rc == ENOTDIR)
			return cfg_error(cfg, c->section, "xferlog", e, "%s; create the directory "
					 "(mkdir -p %s) or name another file", why.msg, d);
		if (rc != 0)
			return cfg_error(cfg, c->section, "xferlog", e, "%s or name another file (it "
					 "is opened again, as that user, on SIGHUP)", why.msg);
	}
	return 0;
}

int ftpd_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct ftpd_conf *c = conf;
	if (ftpd_conf_prepare(c, e) < 0)
		return -1;
	if (server_conf_bind(set, c->listen, c->nlisten, NULL, e) < 0)
		return -1;
	if (server_conf_bind(set, c->implicit, c->nimplicit, &c->implicit_from, e) < 0)
		return -1;
	/* A session holds its control and data connections and a file. */
	workers_raise_nofile(c->max_sessions * 3 + 64);
	if (c->anon.enabled)
		log_event(LOG_INFO, "ftp_anonymous", "root=%s upload=%s", c->anon.root,
			  c->anon.upload[0] ? c->anon.upload : "-");
	return 0;
}
