/* `inetkit tcp listen` (RFC 9293 TCP; RFC 862 echo, RFC 863 discard): the
 * [tcp-echo] service (tcp_service.c) configured from the command line, on
 * the runner serve uses (tools/runner.h), in this process or in --workers
 * processes that each have their own SO_REUSEPORT sockets on the same
 * addresses (the kernel spreads the connections among them). SIGHUP
 * (passed on to the workers) reads the --cert/--key files again for the
 * connections accepted afterwards (tcp_server_reload, as the [tcp-echo]
 * service of serve reloads). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/log.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "core/workers.h"
#include "serve/runner.h"
#include "tcp/tcp.h"
#include "tcp/tcp_int.h"

#define STOP_GRACE_MS 2000

static const char listen_help[] =
	"Usage: inetkit tcp listen [OPTIONS] [HOST:]PORT...\n"
	"\n"
	"Serve TCP on each address (IPv4 and IPv6; PORT alone or *:PORT means\n"
	"every address; unix:PATH is a UNIX-domain socket, made mode 0600 and\n"
	"removed at exit). One mode:\n"
	"  --echo            send back what each client sends (default)\n"
	"  --discard         read and drop everything\n"
	"  --chat            a line from one client goes to all the others\n"
	"  --exec CMD        run CMD per connection on its stdin/stdout (split on\n"
	"                    spaces, no shell)\n"
	"  --send FILE       send FILE to the first client, then exit\n"
	"  --recv FILE       write what the first client sends to FILE, then exit\n"
	"Options:\n"
	"  --max-conns N     at most N clients at once; more are closed (default 1000)\n"
	"  --idle-timeout T  close a client idle for T seconds (default 300, 0: never)\n"
	"  --write-timeout T drop a client that reads nothing for T s (default 30)\n"
	"  --max-line BYTES  chat: longest line (default 1024)\n"
	"  --once            serve one client, then exit\n"
	"  --tls             TLS; without --cert a self-signed certificate is made\n"
	"  --cert FILE       PEM certificate chain (implies --tls)\n"
	"  --key FILE        PEM private key (default: in the --cert file)\n"
	"  --workers N       N processes sharing the port (SO_REUSEPORT)\n"
	"  --allow CIDR      take only clients in CIDR (repeatable; default: all)\n"
	"  --deny CIDR       refuse clients in CIDR, allowed or not (repeatable);\n"
	"                    a refused client is closed before any byte is sent\n"
	"  --log             one line per connection when it closes\n"
	"  -h, --help        this help\n"
	"\n"
	"SIGHUP reads the --cert and --key files again: new connections get the\n"
	"new certificate, open ones keep theirs.\n"
	"\n"
	"Examples:\n"
	"  inetkit tcp listen 127.0.0.1:2007\n"
	"  inetkit tcp listen --chat --log '[::1]:6000' 127.0.0.1:6000\n"
	"  inetkit tcp listen --exec '/usr/bin/tr a-z A-Z' 127.0.0.1:7000\n"
	"  inetkit tcp listen --recv out.bin 127.0.0.1:9000\n"
	"  inetkit tcp listen --allow 127.0.0.0/8 --deny 127.0.0.2 '*:2007'\n"
	"  inetkit tcp listen unix:/tmp/echo.sock\n";

enum {
	OPT_ECHO = TCP_OPT_OWN, OPT_DISCARD, OPT_CHAT, OPT_EXEC, OPT_SEND, OPT_RECV, OPT_MAX_LINE,
	OPT_ONCE, OPT_TLS,
};

static const struct option listen_opts[] = {
	{"echo", no_argument, NULL, OPT_ECHO},
	{"discard", no_argument, NULL, OPT_DISCARD},
	{"chat", no_argument, NULL, OPT_CHAT},
	{"exec", required_argument, NULL, OPT_EXEC},
	{"send", required_argument, NULL, OPT_SEND},
	{"recv", required_argument, NULL, OPT_RECV},
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{"once", no_argument, NULL, OPT_ONCE},
	{"tls", no_argument, NULL, OPT_TLS},
	TCP_SERVER_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The confs SIGHUP made in this process, freed once unused. */
struct reloads {
	struct tcp_conf **conf;
	size_t n;
};

/* ---- reload ---- */

/* The conf in force again, for a reload that reads only the certificate
 * files anew: the same settings and --send/--recv file, no TLS context. */
static struct tcp_conf *conf_copy(const struct tcp_conf *o, ik_err *e)
{
	struct tcp_conf *c = tcp_conf_new();
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->name = o->name;
	c->mode = o->mode;
	c->max_conns = o->max_conns;
	c->idle_ms = o->idle_ms;
	c->write_ms = o->write_ms;
	c->max_line = o->max_line;
	c->tls = o->tls;
	c->log = o->log;
	c->once = o->once;
	c->file_size = o->file_size;
	c->family = o->family;
	c->connect_ms = o->connect_ms;
	c->tls_target = o->tls_target;
	c->insecure = o->insecure;
	bool ok = true;
	for (size_t i = 0; ok && i < o->nlisten; i++)
		ok = tcp_conf_add_listen(c, o->listen[i], e) == 0;
	if (ok && ((o->cert != NULL && (c->cert = strdup(o->cert)) == NULL) ||
		   (o->key != NULL && (c->key = strdup(o->key)) == NULL) ||
		   (o->file != NULL && (c->file = strdup(o->file)) == NULL) ||
		   (o->target != NULL && (c->target = strdup(o->target)) == NULL) ||
		   (o->source != NULL && (c->source = strdup(o->source)) == NULL) ||
		   (o->cacert != NULL && (c->cacert = strdup(o->cacert)) == NULL) ||
		   (o->file_fd >= 0 && (c->file_fd = fcntl(o->file_fd, F_DUPFD_CLOEXEC, 0)) < 0))) {
		ik_err_errno(e, errno, "cannot copy the settings");
		ok = false;
	}
	if (ok && o->exec_argv != NULL) {
		/* Its words hold no blanks: joined, they split the same again. */
		struct sbuf cmd = SBUF_INIT(1 << 20);
		for (char **a = o->exec_argv; *a != NULL; a++)
			sbuf_printf(&cmd, "%s%s", a == o->exec_argv ? "" : " ", *a);
		ok = tcp_exec_split(sbuf_cstr(&cmd), &c->exec_argv, e) == 0;
		sbuf_free(&cmd);
	}
	if (!ok) {
		tcp_conf_free(c);
		return NULL;
	}
	return c;
}

/* Free the confs of earlier reloads that nothing uses any more. */
static void prune_reloaded(struct reloads *rl, const struct tcp_server *srv)
{
	size_t k = 0;
	for (size_t i = 0; i < rl->n; i++) {
		if (srv != NULL && tcp_server_uses_conf(srv, rl->conf[i]))
			rl->conf[k++] = rl->conf[i];
		else
			tcp_conf_free(rl->conf[i]);
	}
	rl->n = k;
}

static void on_reload(struct runner_worker *w, void *arg)
{
	struct reloads *rl = arg;
	struct tcp_server *srv = runner_running(w, 0);
	const struct tcp_conf *now = tcp_server_conf(srv);
	if (!now->tls || now->cert == NULL) {
		log_event(LOG_NOTICE, "reload", "proto=tcp reason=\"nothing to reload: no --cert "
			  "file\"");
		return;
	}
	prune_reloaded(rl, srv);
	ik_err e = {""};
	struct tcp_conf *c = conf_copy(now, &e);
	struct tcp_conf **more = realloc(rl->conf, (rl->n + 1) * sizeof *more);
	if (more != NULL)
		rl->conf = more;
	else if (c != NULL)
		ik_err_set(&e, "out of memory");
	if (c == NULL || more == NULL || runner_reload_service(w, 0, c, &e) < 0) {
		char why[IK_ERR_MAX + 8];
		log_event(LOG_WARNING, "reload_failed", "proto=tcp reason=%s keeping=old",
			  log_quote(why, sizeof why, e.msg));
		tcp_conf_free(c);
		return;
	}
	rl->conf[rl->n++] = c;
	log_event(LOG_INFO, "reloaded", "proto=tcp cert=%s key=%s", c->cert,
		  c->key != NULL ? c->key : c->cert);
}

int tcp_set_text(char **field, const char *v)
{
	free(*field);
	*field = strdup(v);
	return *field == NULL ? cli_error("tcp", CLI_FAIL, "out of memory") : 0;
}

static int server_option(int o, const char *val, struct tcp_conf *c, uint64_t *workers, struct acl **acl)
{
	ik_err e;
	switch (o) {
	case TCP_OPT_MAX_CONNS:
		return tcp_parse_count("tcp", "--max-conns", val, 1, 1000000, &c->max_conns);
	case TCP_OPT_IDLE:
	case TCP_OPT_WRITE:
		if (tcp_parse_seconds(val, o == TCP_OPT_IDLE ? &c->idle_ms : &c->write_ms) < 0)
			return cli_usage_error("tcp", "%s '%s' is not a duration (seconds, or 500ms, 5m)",
					       o == TCP_OPT_IDLE ? "--idle-timeout" : "--write-timeout",
					       val);
		return 0;
	case TCP_OPT_CERT: c->tls = true; return tcp_set_text(&c->cert, val);
	case TCP_OPT_KEY: return tcp_set_text(&c->key, val);
	case TCP_OPT_WORKERS:
		return tcp_parse_count("tcp", "--workers", val, 0, WORKERS_MAX, workers);
	case TCP_OPT_LOG: c->log = true; return 0;
	case TCP_OPT_ALLOW:
	case TCP_OPT_DENY:
		if (acl_option(acl, "tcp", o == TCP_OPT_ALLOW ? ACL_ALLOW : ACL_DENY, val, &e) < 0)
			return cli_usage_error("tcp", "%s", e.msg);
		return 0;
	}
	return 0;
}

int tcp_server_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
		      int (*own)(int o, const char *val, void *arg), void *arg,
		      struct tcp_conf *c, uint64_t *workers, struct acl **acl)
{
	size_t nopts = 1;
	while (opts[nopts - 1].name != NULL)
		nopts++;
	int o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int rc;
		if (o == 'h')
			return -1;
		if (o == ':')
			return cli_usage_error("tcp", "option '%s' needs a value", argv[optind - 1]);
		if (o == '?')
			return cli_unknown_option("tcp", argv[optind - 1],
						  (struct cli_names){opts, nopts, sizeof *opts});
		if (o >= TCP_OPT_MAX_CONNS && o < TCP_OPT_OWN)
			rc = server_option(o, optarg, c, workers, acl);
		else
			rc = own(o, optarg, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct listen_opts_state {
	struct tcp_conf *c;
	bool chosen;			/* a mode was given */
};

static int set_mode(struct listen_opts_state *st, enum tcp_mode m)
{
	if (st->chosen && st->c->mode != m)
		return cli_usage_error("tcp", "choose one mode: --echo, --discard, --chat, --exec, "
				       "--send or --recv");
	st->chosen = true;
	st->c->mode = m;
	return 0;
}

static int listen_option(int o, const char *val, void *arg)
{
	struct listen_opts_state *st = arg;
	struct tcp_conf *c = st->c;
	ik_err e;
	uint64_t v;
	int rc;
	switch (o) {
	case OPT_ECHO: return set_mode(st, TCP_ECHO);
	case OPT_DISCARD: return set_mode(st, TCP_DISCARD);
	case OPT_CHAT: return set_mode(st, TCP_CHAT);
	case OPT_EXEC:
		if ((rc = set_mode(st, TCP_EXEC)) == 0 && tcp_exec_split(val, &c->exec_argv, &e) < 0)
			rc = cli_usage_error("tcp", "%s", e.msg);
		return rc;
	case OPT_SEND:
	case OPT_RECV:
		if ((rc = set_mode(st, o == OPT_SEND ? TCP_SEND : TCP_RECV)) == 0) {
			c->once = true;
			rc = tcp_set_text(&c->file, val);
		}
		return rc;
	case OPT_MAX_LINE:
		if ((rc = tcp_parse_count("tcp", "--max-line", val, 1, 1 << 20, &v)) == 0)
			c->max_line = (size_t)v;
		return rc;
	case OPT_ONCE: c->once = true; return 0;
	case OPT_TLS: c->tls = true; return 0;
	}
	return 0;
}

static int parse_listen(int argc, char **argv, struct tcp_conf *c, uint64_t *workers,
			struct acl **acl)
{
	struct listen_opts_state st = {c, false};
	ik_err e;
	int rc = tcp_server_getopt(argc, argv, ":h", listen_opts, listen_option, &st, c, workers,
				   acl);
	if (rc != 0)
		return rc;
	if (optind >= argc)
		return cli_usage_error("tcp", "missing [HOST:]PORT to listen on");
	for (int i = optind; i < argc; i++)
		if (tcp_conf_add_listen(c, argv[i], &e) < 0)
			return cli_usage_error("tcp", "bad listen address: %s", e.msg);
	if (c->key != NULL && c->cert == NULL)
		return cli_usage_error("tcp", "--key needs --cert");
	if (*workers > 0 && c->once)
		return cli_usage_error("tcp", "--workers cannot be combined with --once, --send or --recv");
	return 0;
}

/* The sockets are bound: raise the open-file limit, say where we listen. */
static void on_bound(void *conf, const struct listen_set *set, unsigned workers)
{
	struct tcp_conf *c = conf;
	/* exec: the socket and two pipes; relay: two sockets and two pipes. */
	uint64_t per_conn = c->mode == TCP_EXEC ? 3 : c->mode == TCP_RELAY ? 4 : 1;
	uint64_t limit = workers_raise_nofile(c->max_conns * per_conn + 64);
	if (limit < c->max_conns * per_conn + 16)
		log_event(LOG_WARNING, "nofile", "limit=%llu max_conns=%llu hint=\"raise ulimit -n\"",
			  (unsigned long long)limit, (unsigned long long)c->max_conns);
	for (size_t i = 0; i < set->n; i++) {
		if (c->mode == TCP_RELAY)
			log_event(LOG_INFO, "listen", "proto=tcp addr=%s mode=relay target=%s tls=%s "
				  "tls_target=%s workers=%u", set->ep[i].text, c->target,
				  c->tls ? "yes" : "no", c->tls_target ? "yes" : "no", workers);
		else
			log_event(LOG_INFO, "listen", "proto=tcp addr=%s mode=%s tls=%s workers=%u",
				  set->ep[i].text, tcp_mode_name(c->mode), c->tls ? "yes" : "no", workers);
	}
}

int tcp_listen_run(struct tcp_conf *c, uint64_t workers, struct acl *acl)
{
	ik_err e;
	if (tcp_conf_prepare(c, &e) < 0) {
		acl_free(acl);
		tcp_conf_free(c);
		return cli_error("tcp", CLI_USAGE, "%s", e.msg);
	}
	struct reloads rl = {NULL, 0};
	struct runner_opts ro = {
		.cmd = "tcp",
		.restart = "inetkit tcp listen",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = true,
		.workers = (unsigned)workers,
		.reload = on_reload,
		.reload_arg = &rl,
	};
	int rc = runner_listen(&ro, &service_tcp_echo, c, acl, c->listen, c->nlisten, SOCK_STREAM,
			       on_bound);
	prune_reloaded(&rl, NULL);
	free(rl.conf);
	return rc;
}

int tcp_listen_main(int argc, char **argv)
{
	struct tcp_conf *c = tcp_conf_new();
	if (c == NULL)
		return cli_error("tcp", CLI_FAIL, "out of memory");
	uint64_t workers = 0;
	struct acl *acl = NULL;
	ik_err e;
	int rc = parse_listen(argc, argv, c, &workers, &acl);
	if (rc < 0)
		rc = cli_help(listen_help);
	else if (rc == 0 && c->mode == TCP_EXEC && tcp_exec_check(c->exec_argv, &e) < 0)
		rc = cli_usage_error("tcp", "%s", e.msg);
	else if (rc == 0)
		return tcp_listen_run(c, workers, acl);
	acl_free(acl);
	tcp_conf_free(c);
	return rc;
}
