/* The shared parts of a session server's conf (core/server_conf.h). No
 * RFC of its own. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/account.h"
#include "core/fsutil.h"
#include "core/server_conf.h"
#include "core/service.h"
#include "core/tls.h"
#include "lib/str.h"

int server_conf_paths(const struct service_ctx *ctx, const struct cfg *cfg, size_t size,
		      char *state_dir, char *cert, char *key, char *config_path, ik_err *e)
{
	const char *sd = ctx->state_dir != NULL ? ctx->state_dir : ACCOUNT_DEFAULT_STATE_DIR;
	if (str_copy(state_dir, size, sd) < 0 ||
	    (ctx->tls_cert != NULL && str_copy(cert, size, ctx->tls_cert) < 0) ||
	    (ctx->tls_key != NULL && str_copy(key, size, ctx->tls_key) < 0))
		return ik_err_set(e, "[tls] or state_dir path too long");
	if (config_path != NULL)
		str_copy(config_path, size, cfg_path(cfg));
	return 0;
}

int server_conf_tls(SSL_CTX **ssl, const char *cert, const char *key, ik_err *e)
{
	if (*ssl != NULL)
		return 0;
	struct tls_server_opts o = {cert[0] ? cert : NULL, key[0] ? key : NULL};
	*ssl = tls_server_ctx(&o, e);
	return *ssl != NULL ? 0 : -1;
}

void server_conf_tls_keep(SSL_CTX **ssl, const char *cert, SSL_CTX *now_ssl,
			  const char *now_cert)
{
	if (cert[0] == '\0' && *ssl == NULL && now_cert[0] == '\0' && now_ssl != NULL &&
	    SSL_CTX_up_ref(now_ssl) == 1)
		*ssl = now_ssl;
}

int server_conf_state_subdir(struct cfg *cfg, const char *state_dir, const char *name,
			     const char *user, unsigned uid, unsigned gid, const char *role,
			     ik_err *e)
{
	char path[ACCOUNT_PATH_MAX + 16];
	if (str_fmt(path, sizeof path, "%s/%s", state_dir, name) < 0)
		return cfg_error(cfg, "serve", "state_dir", e, "path too long");
	ik_err why;
	if (fs_mkdir_p(path, 0700, uid, gid, &why) < 0)
		return cfg_error(cfg, "serve", "state_dir", e, "%s; choose another state_dir",
				 why.msg);
	if (fs_user_access(path, R_OK | W_OK | X_OK, user, uid, gid, &why) != 0)
		return cfg_error(cfg, "serve", "state_dir", e, "%s (%s)", why.msg, role);
	return 0;
}

int server_conf_bind(struct listen_set *set, char *const *specs, size_t n, size_t *from,
		     ik_err *e)
{
	if (from != NULL)
		*from = set->n;
	if (n == 0)
		return 0;
	return listen_bind_specs(set, (const char *const *)specs, n, SOCK_STREAM, 0, e);
}
