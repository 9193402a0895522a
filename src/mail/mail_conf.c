/* Accounts of `inetkit mail` (~/.config/inetkit/mail.conf), the server a
 * verb talks to, credentials and the TLS context. The file is the same INI
 * dialect as inetkit.conf, read with the same typed getters (core/config.h),
 * so a misspelt key is an error naming file and line. RFC 8314 decides the
 * default ports: implicit TLS on 465/993/995, STARTTLS on the others. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "core/term.h"
#include "core/tls.h"
#include "ftp/ftp_netrc.h"
#include "lib/str.h"
#include "mail/mail.h"
#include "net/endpoint.h"

static const char *const proto_words[] = {"pop3", "imap", NULL};
static const char *const tls_words[] = {"no", "yes", "implicit", NULL};

/* "~/path" -> "$HOME/path" (a config file is not a shell). */
static int expand_home(struct cfg *cfg, const char *sec, const char *key, const char **v,
		       char *buf, size_t bufsz, ik_err *e)
{
	if (!*v || strncmp(*v, "~/", 2) != 0)
		return 0;
	const char *home = getenv("HOME");
	if (!home || !home[0])
		return cfg_error(cfg, sec, key, e, "'~/' but HOME is not set");
	if (str_fmt(buf, bufsz, "%s/%s", home, *v + 2) < 0)
		return cfg_error(cfg, sec, key, e, "path too long");
	*v = buf;
	return 0;
}

static int read_account(struct cfg *cfg, const char *sec, struct mail_account *a, ik_err *e)
{
	memset(a, 0, sizeof *a);
	a->name = sec + strlen("account ");
	if (cfg_get_str(cfg, sec, "from", "the sender address of mail send", NULL, &a->from, e) < 0 ||
	    cfg_get_str(cfg, sec, "user", "the login name on the servers", NULL, &a->user, e) < 0 ||
	    cfg_get_str(cfg, sec, "password_command", "a command whose first output line is the "
			"password (an app password welcome)", NULL, &a->password_command, e) < 0 ||
	    cfg_get_str(cfg, sec, "smtp_server", "HOST[:PORT] mail send submits to", NULL,
			&a->smtp_server, e) < 0 ||
	    cfg_get_str(cfg, sec, "server", "HOST[:PORT] of the POP3 or IMAP server", NULL,
			&a->server, e) < 0 ||
	    cfg_get_enum(cfg, sec, "protocol", "pop3 or imap, for fetch, list and read",
			 proto_words, MAIL_PROTO_IMAP, &a->protocol, e) < 0 ||
	    cfg_get_enum(cfg, sec, "tls", "yes (implicit TLS on 465/993/995, else STARTTLS), "
			 "implicit (on any port) or no (plaintext allowed)", tls_words, MAIL_TLS_YES,
			 &a->tls, e) < 0 ||
	    cfg_get_bool(cfg, sec, "insecure", "do not verify the server certificate", false,
			 &a->insecure, e) < 0 ||
	    cfg_get_str(cfg, sec, "cacert", "trust the CAs in this file instead of the system's",
			NULL, &a->cacert, e) < 0 ||
	    cfg_get_str(cfg, sec, "maildir", "the local Maildir fetch writes into", NULL,
			&a->maildir, e) < 0 ||
	    expand_home(cfg, sec, "maildir", &a->maildir, a->maildir_buf, sizeof a->maildir_buf,
			e) < 0 ||
	    expand_home(cfg, sec, "cacert", &a->cacert, a->cacert_buf, sizeof a->cacert_buf, e) < 0)
		return -1;
	return 0;
}

int mail_conf_load(struct mail_cli *c, ik_err *e)
{
	char def[4096];
	const char *path = c->config;
	if (!path) {
		const char *xdg = getenv("XDG_CONFIG_HOME");
		const char *home = getenv("HOME");
		if (xdg && xdg[0])
			str_fmt(def, sizeof def, "%s/inetkit/mail.conf", xdg);
		else if (home && home[0])
			str_fmt(def, sizeof def, "%s/.config/inetkit/mail.conf", home);
		else
			def[0] = '\0';
		if (def[0] == '\0' || access(def, F_OK) != 0) {
			if (c->account_name)
				return ik_err_set(e, "--account %s: no config file (%s)",
						  c->account_name, def[0] ? def : "$HOME unset");
			return 0;
		}
		path = def;
	}
	c->cfg = cfg_load(path, e);
	if (!c->cfg)
		return -1;
	size_t n = cfg_section_count(c->cfg), naccounts = 0;
	const char *only = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *sec = cfg_section_name(c->cfg, i);
		if (!str_has_prefix(sec, "account ") || sec[strlen("account ")] == '\0')
			continue;
		struct mail_account a;
		if (read_account(c->cfg, sec, &a, e) < 0)
			return -1;
		naccounts++;
		only = sec;
		if (c->account_name && strcmp(a.name, c->account_name) == 0) {
			c->acct = a;
			/* the expanded paths live in the struct itself */
			if (a.maildir == a.maildir_buf)
				c->acct.maildir = c->acct.maildir_buf;
			if (a.cacert == a.cacert_buf)
				c->acct.cacert = c->acct.cacert_buf;
			c->have_acct = true;
		}
	}
	if (cfg_check_unused(c->cfg, e) < 0)
		return -1;
	if (c->account_name && !c->have_acct)
		return ik_err_set(e, "%s: no [account %s]", path, c->account_name);
	if (!c->account_name && naccounts == 1) {
		if (read_account(c->cfg, only, &c->acct, e) < 0)
			return -1;
		c->have_acct = true;
	} else if (!c->account_name && naccounts > 1 && !c->server) {
		return ik_err_set(e, "%s holds %zu accounts: choose one with --account NAME", path,
				  naccounts);
	}
	return 0;
}

bool mail_tls_on(const struct mail_cli *c)
{
	if (c->no_tls)
		return false;
	if (c->implicit_tls)
		return true;
	return c->have_acct ? c->acct.tls != MAIL_TLS_NO : true;
}

int mail_server_for(const struct mail_cli *c, bool smtp, int protocol, char *host, size_t hostsz,
		    uint16_t *port, bool *implicit_tls, ik_err *e)
{
	const char *spec = c->server;
	if (!spec && c->have_acct)
		spec = smtp ? c->acct.smtp_server : c->acct.server;
	if (!spec || !spec[0])
		return ik_err_set(e, "no server: give --server HOST:PORT or an account with %s",
				  smtp ? "smtp_server" : "server");
	bool tls = mail_tls_on(c);
	bool imp = c->implicit_tls || (!c->no_tls && c->have_acct &&
				       c->acct.tls == MAIL_TLS_IMPLICIT);
	uint16_t def = smtp ? (imp ? 465 : 587) : protocol == MAIL_PROTO_POP3 ? (tls ? 995 : 110)
							       : (tls ? 993 : 143);
	/* "host", "[v6]" or a bare v6 literal take the default port */
	const char *colon = strchr(spec, ':');
	bool port_given = spec[0] == '[' ? strstr(spec, "]:") != NULL
					 : colon != NULL && strchr(colon + 1, ':') == NULL;
	if (!port_given) {
		const char *h = spec;
		size_t l = strlen(h);
		if (h[0] == '[' && l >= 2 && h[l - 1] == ']') {
			h++;
			l -= 2;
		}
		if (l == 0 || l >= hostsz)
			return ik_err_set(e, "server '%s': bad host", spec);
		memcpy(host, h, l);
		host[l] = '\0';
		*port = def;
	} else {
		if (endpoint_split(spec, host, hostsz, port, e) < 0)
			return ik_err_prefix(e, "server '%s'", spec);
		if (host[0] == '\0' || *port == 0)
			return ik_err_set(e, "server '%s': give HOST:PORT", spec);
	}
	*implicit_tls = tls && (*port == 465 || *port == 993 || *port == 995 || c->implicit_tls ||
				(!c->no_tls && c->have_acct && c->acct.tls == MAIL_TLS_IMPLICIT));
	return 0;
}

/* The first line a password_command prints; its exit status must be 0.
 * The command is the user's own, from their own file (as msmtp's
 * passwordeval): it runs under /bin/sh with our privileges, standard
 * output to a pipe we read (bounded), standard input and error as ours. */
static int run_password_command(const char *cmd, char *pass, size_t passsz, ik_err *e)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return ik_err_errno(e, errno, "password_command: pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	char *const argv[] = {"sh", "-c", (char *)cmd, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return ik_err_errno(e, rc, "password_command");
	}
	char out[1024];
	size_t len = 0;
	for (;;) {
		char drop[256];
		bool full = len >= sizeof out - 1;
		ssize_t n = read(fds[0], full ? drop : out + len, full ? sizeof drop
								      : sizeof out - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!full)
			len += (size_t)n;
	}
	close(fds[0]);
	out[len] = '\0';
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		explicit_bzero(out, sizeof out);
		return ik_err_set(e, "password_command failed (exit status %d)",
				  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0])
		return ik_err_set(e, "password_command printed nothing");
	rc = str_copy(pass, passsz, out);
	explicit_bzero(out, sizeof out);
	if (rc < 0)
		return ik_err_set(e, "password_command: the password is too long");
	return 0;
}

int mail_credentials(const struct mail_cli *c, const char *host, char *user, size_t usersz,
		     char *pass, size_t passsz, ik_err *e)
{
	const char *u = c->user ? c->user : c->have_acct ? c->acct.user : NULL;
	user[0] = pass[0] = '\0';
	if (u && str_copy(user, usersz, u) < 0)
		return ik_err_set(e, "user name too long");
	if (c->have_acct && c->acct.password_command && !c->user) {
		if (run_password_command(c->acct.password_command, pass, passsz, e) < 0)
			return -1;
		return user[0] ? 0 : ik_err_set(e, "password_command given but no user");
	}
	struct ftp_netrc_match m;
	int found = ftp_netrc_lookup(c->netrc, host, user[0] ? user : NULL, &m, e);
	if (found < 0)
		return -1;
	if (found == 1) {
		if (!user[0] && m.has_login)
			str_copy(user, usersz, m.login);
		if (m.has_password)
			str_copy(pass, passsz, m.password);
		explicit_bzero(&m, sizeof m);
		if (pass[0])
			return 0;
	}
	if (!user[0])
		return 0;	/* no login at all (a relay on the same host) */
	if (!term_is_tty(stdin))
		return ik_err_set(e, "no password for %s@%s: set password_command in the account, "
				  "or a ~/.netrc entry", user, host);
	char prompt[400];
	str_fmt(prompt, sizeof prompt, "Password for %s@%s: ", user, host);
	if (term_read_secret(prompt, pass, passsz) < 0)
		return ik_err_set(e, "no password given");
	return 0;
}

SSL_CTX *mail_tls_ctx(const struct mail_cli *c, ik_err *e)
{
	struct tls_client_opts to = {
		.ca_file = c->cacert ? c->cacert : c->have_acct ? c->acct.cacert : NULL,
		.insecure = c->insecure || (c->have_acct && c->acct.insecure),
	};
	return tls_client_ctx(&to, e);
}
