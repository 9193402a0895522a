/* The [smtp] section: every key is read here (the getters are the schema,
 * see core/config.h), checked, and documented in inetkit-smtpd(8) and
 * inetkit.conf(5). RFC 5321 4.5.3 gives the limits' minimums (100
 * recipients, 5 minutes for a command, 10 minutes for DATA), RFC 6409 and
 * RFC 8314 the submission roles, RFC 5321 3.6.2 and 7.1 why relaying is
 * off unless a client is authenticated or listed (never an open relay). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/dns.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/tls.h"
#include "lib/str.h"
#include "mailauth/mailauth.h"
#include "mailstore/mailstore.h"
#include "smtp/smtp.h"
#include "smtp/smtp_alias.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_route.h"
#include "core/dns.h"
#include "core/server_conf.h"
#include "core/workers.h"
#include <stdio.h>

static int read_hostname(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	char host[SMTP_HOSTNAME_MAX + 1] = "localhost";
	if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
		str_copy(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	const char *v;
	if (cfg_get_str(cfg, sec, "hostname", "The name the server gives itself in its greeting, "
			"EHLO reply and Received: headers; empty: the machine's name", "", &v, e) < 0)
		return -1;
	if (v[0] == '\0')
		v = host;
	if (str_copy(c->hostname, sizeof c->hostname, v) < 0 ||
	    !smtp_domain_valid(v, strlen(v), false))
		return cfg_error(cfg, sec, "hostname", e, "'%s' is not a host name such as "
				 "mail.example.org", v);
	return 0;
}

static int read_domains(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	const char *items[CFG_MAX_LIST];
	size_t n;
	if (cfg_get_list(cfg, sec, "domains", "The local domains: mail to them is delivered "
			 "here (space-separated)", "localhost", items, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(items[i]);
		if (len > SMTP_DOMAIN_MAX || !smtp_domain_valid(items[i], len, false) ||
		    items[i][0] == '[')
			return cfg_error(cfg, sec, "domains", e, "'%s' is not a domain name such as "
					 "example.org", items[i]);
		char *d = strdup(items[i]);
		if (d == NULL)
			return ik_err_set(e, "out of memory");
		for (char *p = d; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		c->domains[c->ndomains++] = d;
	}
	return 0;
}

static int read_relay(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	const char *items[CFG_MAX_LIST];
	size_t n;
	if (cfg_get_list(cfg, sec, "relay_networks", "Client networks (CIDR) that may send to "
			 "other domains without AUTH; empty: none (never an open relay)", NULL,
			 items, &n, e) < 0)
		return -1;
	if (n == 0)
		return 0;
	if ((c->relay = acl_new("smtp-relay", e)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ik_err why;
		if (acl_add(c->relay, ACL_ALLOW, items[i], &why) < 0)
			return cfg_error(cfg, sec, "relay_networks", e, "%s", why.msg);
	}
	return 0;
}

static int read_limits(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	int bare;
	static const char *const bare_words[] = {"reject", "normalize", NULL};
	if (cfg_get_size(cfg, sec, "max_size", "Largest message accepted (SIZE, RFC 1870); "
			 "bigger ones are refused with 552", SMTP_DEFAULT_MAX_SIZE, &c->max_size,
			 e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_recipients", "Recipients of one message; more are "
			 "answered 452", 100, 1, 100000, &c->max_recipients, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_errors", "Error replies in one session before it is "
			 "closed with 421", 10, 1, 100000, &c->max_errors, e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions", "Sessions of the whole server, across all "
			 "workers; more are answered 421", 1000, 1, 1000000, &c->max_sessions,
			 e) < 0 ||
	    cfg_get_uint(cfg, sec, "max_sessions_per_ip", "Sessions from one client address; 0: "
			 "no limit", 50, 0, 1000000, &c->max_per_ip, e) < 0 ||
	    cfg_get_duration(cfg, sec, "command_timeout", "A client silent this long while the "
			     "server waits for a command is closed (421)", 300000, &c->command_ms,
			     e) < 0 ||
	    cfg_get_duration(cfg, sec, "data_timeout", "A client silent this long while it sends "
			     "a message (DATA, BDAT) is closed (421)", 600000, &c->data_ms, e) < 0 ||
	    cfg_get_uint(cfg, sec, "auth_attempts", "Failed AUTH attempts in one session before it "
			 "is closed with 421", 3, 1, 1000, &c->auth_attempts, e) < 0 ||
	    cfg_get_bool(cfg, sec, "auth_plaintext", "Allow AUTH without TLS (passwords in "
			 "clear text)", false, &c->auth_plaintext, e) < 0 ||
	    cfg_get_enum(cfg, sec, "bare_newline", "A bare CR or LF in DATA: reject the message "
			 "(550) or normalize it into a line end", bare_words, SMTP_BARE_REJECT,
			 &bare, e) < 0)
		return -1;
	c->bare_newline = (enum smtp_bare_newline)bare;
	if (c->max_size < 1024 || c->max_size > (1ULL << 40))
		return cfg_error(cfg, sec, "max_size", e, "from 1k to 1T");
	if (c->command_ms < 1000 || c->data_ms < 1000)
		return cfg_error(cfg, sec, c->command_ms < 1000 ? "command_timeout" : "data_timeout",
				 e, "at least 1s (RFC 5321 4.5.3.2 asks for minutes)");
	return 0;
}

/* dkim_selector and dkim_key: both or neither. The key is read here, at
 * start and on reload, while the process may still read a root-only file. */
static int read_dkim(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	const char *sel, *key;
	if (cfg_get_str(cfg, sec, "dkim_selector", "DKIM selector for the local domains' "
			"signatures (RFC 6376); empty: mail is not signed", "", &sel, e) < 0 ||
	    cfg_get_str(cfg, sec, "dkim_key", "The DKIM private key (PEM: inetkit dkim keygen) "
			"that signs mail authenticated users send from a local domain", "",
			&key, e) < 0)
		return -1;
	if ((sel[0] == '\0') != (key[0] == '\0'))
		return cfg_error(cfg, sec, sel[0] ? "dkim_selector" : "dkim_key", e,
				 "dkim_selector and dkim_key go together: set both, or neither");
	if (sel[0] == '\0')
		return 0;
	for (const char *p = sel; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return cfg_error(cfg, sec, "dkim_selector", e, "'%s' is not a selector "
					 "(letters, digits, '-', '_', '.')", sel);
	if (str_copy(c->dkim_selector, sizeof c->dkim_selector, sel) < 0 ||
	    str_copy(c->dkim_key_path, sizeof c->dkim_key_path, key) < 0)
		return cfg_error(cfg, sec, "dkim_selector", e, "too long");
	ik_err why;
	if ((c->dkim = dkim_key_load(key, &why)) == NULL)
		return cfg_error(cfg, sec, "dkim_key", e, "%s", why.msg);
	return 0;
}

/* The inbound checks (mailauth); the DNS servers they ask are the
 * relay's dns_servers (read_relay_out). */
static int read_checks(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	if (cfg_get_bool(cfg, sec, "mail_auth", "Check SPF, DKIM and DMARC of mail on the listen "
			 "role and add an Authentication-Results header", true, &c->mail_auth,
			 e) < 0 ||
	    cfg_get_bool(cfg, sec, "dmarc_enforce", "Refuse (550 5.7.1) a message that fails "
			 "DMARC under its domain's p=reject; no: only the header says so", false,
			 &c->dmarc_enforce, e) < 0)
		return -1;
	return 0;
}

static int read_listen(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	if (listen_spec_configure(cfg, sec, "listen", "Addresses for mail from other servers "
				  "(the port 25 role): HOST:PORT, [IPV6]:PORT, *:PORT or PORT",
				  SMTP_DEFAULT_LISTEN, false, c->listen, &c->nlisten, e) < 0 ||
	    listen_spec_configure(cfg, sec, "submission_listen", "Addresses for message submission "
				  "(the port 587 role: STARTTLS, then AUTH); empty: none", NULL, false,
				  c->submission, &c->nsubmission, e) < 0 ||
	    listen_spec_configure(cfg, sec, "submissions_listen", "Addresses for submission over "
				  "implicit TLS (the port 465 role); empty: none", NULL, false,
				  c->submissions, &c->nsubmissions, e) < 0)
		return -1;
	if (c->nlisten + c->nsubmission + c->nsubmissions == 0)
		return cfg_error(cfg, sec, "listen", e, "give at least one [HOST:]PORT to listen on "
				 "(listen, submission_listen or submissions_listen)");
	return 0;
}

/* The relay's keys (issue 13 fixed their names and forms). */
static int read_relay_out(struct cfg *cfg, const char *sec, struct smtp_conf *c, ik_err *e)
{
	const char *v;
	ik_err why;
	if (cfg_get_bool(cfg, sec, "relay_enabled", "Deliver the outbound queue (the relay); no: "
			 "mail for other domains only waits in the queue", true, &c->relay_enabled,
			 e) < 0)
		return -1;
	if (cfg_get_str(cfg, sec, "dns_servers", "DNS servers for MX, A, AAAA and TXT lookups, "
			"HOST:PORT ...; empty: those of /etc/resolv.conf", "", &v, e) < 0)
		return -1;
	if (v[0] != '\0' && dns_servers_check(v, &why) < 0)
		return cfg_error(cfg, sec, "dns_servers", e, "%s", why.msg);
	if (str_copy(c->dns_servers, sizeof c->dns_servers, v) < 0)
		return cfg_error(cfg, sec, "dns_servers", e, "too long");
	if (cfg_get_str(cfg, sec, "relayhost", "Send all outbound mail through this host, "
			"[HOST]:PORT (TLS required, no MX lookup); empty: deliver by MX", "", &v,
			e) < 0)
		return -1;
	struct smtp_hostport hp;
	if (v[0] != '\0' && smtp_route_hostport(v, &hp, &why) < 0)
		return cfg_error(cfg, sec, "relayhost", e, "%s", why.msg);
	if (str_copy(c->relayhost, sizeof c->relayhost, v) < 0)
		return cfg_error(cfg, sec, "relayhost", e, "too long");
	const char *items[CFG_MAX_LIST];
	size_t n;
	if (cfg_get_list(cfg, sec, "relayhost_auth", "USER PASSWORD_FILE for AUTH at the "
			 "relayhost; the file's one line is the password or app password", NULL,
			 items, &n, e) < 0)
		return -1;
	if (n != 0 && n != 2)
		return cfg_error(cfg, sec, "relayhost_auth", e, "write USER PASSWORD_FILE");
	if (n == 2) {
		if (c->relayhost[0] == '\0')
			return cfg_error(cfg, sec, "relayhost_auth", e, "needs relayhost");
		if (str_copy(c->relay_user, sizeof c->relay_user, items[0]) < 0)
			return cfg_error(cfg, sec, "relayhost_auth", e, "user name too long");
		FILE *f = fopen(items[1], "re");
		if (f == NULL)
			return cfg_error(cfg, sec, "relayhost_auth", e, "cannot read '%s': %s",
					 items[1], strerror(errno));
		char line[sizeof c->relay_pass];
		bool ok = fgets(line, sizeof line, f) != NULL;
		fclose(f);
		size_t l = ok ? strcspn(line, "\r\n") : 0;
		line[l] = '\0';
		if (l == 0)
			return cfg_error(cfg, sec, "relayhost_auth", e, "'%s' holds no password on "
					 "its first line", items[1]);
		str_copy(c->relay_pass, sizeof c->relay_pass, line);
		explicit_bzero(line, sizeof line);
	}
	if (cfg_get_list(cfg, sec, "transport", "Per-domain routes, DOMAIN [HOST]:PORT, ... "
			 "(these domains skip the MX lookup)", NULL, items, &n, e) < 0)
		return -1;
	if (n % 2 != 0)
		return cfg_error(cfg, sec, "transport", e, "write DOMAIN [HOST]:PORT pairs");
	for (size_t i = 0; i < n; i += 2) {
		if (!smtp_domain_valid(items[i], strlen(items[i]), false))
			return cfg_error(cfg, sec, "transport", e, "'%s' is not a domain", items[i]);
		if (smtp_route_hostport(items[i + 1], &hp, &why) < 0)
			return cfg_error(cfg, sec, "transport", e, "%s", why.msg);
		c->transport[i] = strdup(items[i]);
		c->transport[i + 1] = strdup(items[i + 1]);
		if (c->transport[i] == NULL || c->transport[i + 1] == NULL)
			return ik_err_set(e, "out of memory");
		c->ntransport = i / 2 + 1;
	}
	if (cfg_get_duration(cfg, sec, "max_queue_lifetime", "A message not delivered after this "
			     "long is returned to its sender", 5ULL * 24 * 3600 * 1000,
			     &c->max_queue_lifetime_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "delay_warning", "After this long undelivered, the sender "
			     "is told once that the message is delayed (0: never)", 4ULL * 3600 * 1000,
			     &c->delay_warning_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "queue_retry", "The wait after a first failed delivery "
			     "attempt; doubled after each next one", 300000, &c->queue_retry_ms,
			     e) < 0 ||
	    cfg_get_duration(cfg, sec, "queue_retry_max", "The longest wait between two delivery "
			     "attempts", 3600000, &c->queue_retry_max_ms, e) < 0 ||
	    cfg_get_duration(cfg, sec, "relay_connect_timeout", "Time to connect to a remote "
			     "server before trying the next address", 30000, &c->relay_connect_ms,
			     e) < 0 ||
	    cfg_get_uint(cfg, sec, "relay_concurrency", "Messages the relay delivers at once",
			 50, 1, 10000, &c->relay_concurrency, e) < 0 ||
	    cfg_get_uint(cfg, sec, "relay_destination_concurrency", "Connections the relay has "
			 "open to one destination (domain or relayhost) at once", 20, 1, 10000,
			 &c->relay_destination_concurrency, e) < 0 ||
	    cfg_get_duration(cfg, sec, "relay_reply_timeout", "Time the relay waits for a "
			     "remote's greeting or reply to a command (twice as long after the "
			     "message)", 300000, &c->relay_reply_ms, e) < 0)
		return -1;
	if (c->relay_reply_ms < 1000)
		return cfg_error(cfg, sec, "relay_reply_timeout", e, "at least 1s");
	if (c->queue_retry_ms < 1000)
		return cfg_error(cfg, sec, "queue_retry", e, "at least 1s");
	return 0;
}

void *smtp_conf_read(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
		     bool *enabled, ik_err *e)
{
	struct smtp_conf *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->section = sec;
	const char *v;
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    read_listen(cfg, sec, c, e) < 0 || read_hostname(cfg, sec, c, e) < 0 ||
	    read_domains(cfg, sec, c, e) < 0 || read_relay(cfg, sec, c, e) < 0 ||
	    read_limits(cfg, sec, c, e) < 0 || read_relay_out(cfg, sec, c, e) < 0 ||
	    read_dkim(cfg, sec, c, e) < 0 ||
	    read_checks(cfg, sec, c, e) < 0 ||
	    cfg_get_str(cfg, sec, "aliases", "An aliases file (/etc/aliases syntax: name: "
			"targets); empty: none (postmaster is a mailbox of its own)", "", &v, e) < 0)
		goto fail;
	if (str_copy(c->aliases_path, sizeof c->aliases_path, v) < 0) {
		cfg_error(cfg, sec, "aliases", e, "path too long");
		goto fail;
	}
	if (c->aliases_path[0] != '\0') {
		ik_err why;
		if (smtp_aliases_load(c->aliases_path, &c->aliases, &why) < 0) {
			cfg_error(cfg, sec, "aliases", e, "%s", why.msg);
			goto fail;
		}
	}
	if (server_conf_paths(ctx, cfg, sizeof c->state_dir, c->state_dir, c->cert, c->key,
			      c->config_path, e) < 0)
		goto fail;
	return c;
fail:
	smtp_conf_free(c);
	return NULL;
}

void smtp_conf_free(void *conf)
{
	struct smtp_conf *c = conf;
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	listen_spec_free(c->submission, c->nsubmission);
	listen_spec_free(c->submissions, c->nsubmissions);
	for (size_t i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	acl_free(c->relay);
	for (size_t i = 0; i < CFG_MAX_LIST; i++)
		free(c->transport[i]);
	explicit_bzero(c->relay_pass, sizeof c->relay_pass);
	smtp_aliases_free(c->aliases);
	if (c->ssl != NULL)
		SSL_CTX_free(c->ssl);
	dkim_key_free(c->dkim);
	free(c);
}

bool smtp_conf_local_domain(const struct smtp_conf *c, const char *domain)
{
	for (size_t i = 0; i < c->ndomains; i++)
		if (str_eq_nocase(c->domains[i], domain))
			return true;
	return false;
}

int smtp_conf_prepare(struct smtp_conf *c, ik_err *e)
{
	return server_conf_tls(&c->ssl, c->cert, c->key, e);
}

/* STATE_DIR/NAME for the service user; a directory it cannot use is an
 * error now, not a 451 at every message. */
static int make_dir(const struct smtp_conf *c, struct cfg *cfg, const char *name,
		    const char *user, unsigned uid, unsigned gid, ik_err *e)
{
	return server_conf_state_subdir(cfg, c->state_dir, name, user, uid, gid,
					"the SMTP server stores mail there", e);
}

int smtp_conf_check(void *conf, struct cfg *cfg, const char *user, unsigned uid, unsigned gid,
		    ik_err *e)
{
	const struct smtp_conf *c = conf;
	if (make_dir(c, cfg, "mail", user, uid, gid, e) < 0 ||
	    make_dir(c, cfg, "mail/.spool", user, uid, gid, e) < 0 ||
	    make_dir(c, cfg, "queue", user, uid, gid, e) < 0)
		return -1;
	/* Crash leftovers, once for every worker: a spool file is never
	 * acknowledged, a queue entry without its envelope never complete. */
	struct mailstore *ms = NULL;
	struct smtp_queue *q = NULL;
	int rc = -1, gone = 0, qgone = 0;
	if (mailstore_open(c->state_dir, &ms, e) == 0 && (gone = mailstore_recover(ms, e)) >= 0 &&
	    smtp_queue_open(c->state_dir, &q, e) == 0 && (qgone = smtp_queue_recover(q, e)) >= 0)
		rc = 0;
	smtp_queue_free(q);
	mailstore_free(ms);
	if (rc < 0)
		return ik_err_prefix(e, "[%s] %s", c->section, c->state_dir);
	if (gone > 0 || qgone > 0)
		log_event(LOG_NOTICE, "smtp_recover", "state_dir=%s spool_removed=%d "
			  "queue_removed=%d reason=\"left by a crash, never acknowledged\"",
			  c->state_dir, gone, qgone);
	return 0;
}

int smtp_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct smtp_conf *c = conf;
	if (smtp_conf_prepare(c, e) < 0)
		return -1;
	if (server_conf_bind(set, c->listen, c->nlisten, NULL, e) < 0 ||
	    server_conf_bind(set, c->submission, c->nsubmission, &c->submission_from, e) < 0)
		return -1;
	if (server_conf_bind(set, c->submissions, c->nsubmissions, &c->submissions_from, e) < 0)
		return -1;
	/* A session holds its connection and, while receiving, a spool file. */
	workers_raise_nofile(c->max_sessions * 2 + 64);
	return 0;
}
