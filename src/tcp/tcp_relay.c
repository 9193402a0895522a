/* `inetkit tcp relay LISTEN TARGET`: a port forwarder, as
 * `socat TCP-LISTEN:...,fork TCP:...` or HAProxy in tcp mode. Each client
 * accepted on LISTEN gets its own connection to TARGET (a non-blocking
 * connect, core/connector), and the two sessions are linked by the core
 * (session_link): the bytes go both ways with splice(2) between plain
 * sockets, buffered through TLS, with back-pressure, and a FIN from one
 * side becomes a FIN to the other (RFC 9293 section 3.6 half-close). TLS
 * can end at the relay (--tls-listen) or start there (--tls-target,
 * RFC 8446; the target's certificate is checked as RFC 9525 says).
 * Accepting, limits, workers and stop are the tcp server's (tcp_server.c);
 * one log line per connection names both ends, the bytes each way, the
 * time and how it ended. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/log.h"
#include "lib/str.h"
#include "core/tls.h"
#include "core/workers.h"
#include "tcp/tcp_int.h"

static const char relay_help[] =
	"Usage: inetkit tcp relay [OPTIONS] LISTEN... TARGET\n"
	"\n"
	"Forward every connection accepted on LISTEN ([HOST:]PORT or unix:PATH)\n"
	"to TARGET (HOST:PORT or unix:PATH), both ways, until both sides end.\n"
	"A FIN from one side is passed on to the other (half-close).\n"
	"Options:\n"
	"  --max-conns N        at most N clients at once; more are closed (default 1000)\n"
	"  --connect-timeout T  give up on the target after T seconds (default 10)\n"
	"  --idle-timeout T     close a relay idle both ways for T s (default 300, 0: never)\n"
	"  --write-timeout T    drop a side that reads nothing for T s (default 30)\n"
	"  -s, --source ADDR[:PORT]  connect to the target from this local address\n"
	"  -4, -6               IPv4 or IPv6 addresses of the target only\n"
	"  --tls-listen         clients speak TLS to the relay; without --cert a\n"
	"                       self-signed certificate is made\n"
	"  --cert FILE          PEM certificate chain (implies --tls-listen)\n"
	"  --key FILE           PEM private key (default: in the --cert file)\n"
	"  --tls-target         speak TLS to the target, checking its certificate\n"
	"                       and name (the TARGET host; localhost for unix:PATH)\n"
	"  --cacert FILE        trust the CA certificates in FILE (implies --tls-target)\n"
	"  --insecure           do not check the target's certificate (implies --tls-target)\n"
	"  --workers N          N processes sharing the port (SO_REUSEPORT)\n"
	"  --log                one line per connection when it ends\n"
	"  --allow CIDR         only clients in CIDR (repeatable); --deny CIDR refuses\n"
	"                       them (repeatable; wins over --allow)\n"
	"  -h, --help           this help\n"
	"\n"
	"Examples:\n"
	"  inetkit tcp relay 127.0.0.1:8080 127.0.0.1:80\n"
	"  inetkit tcp relay --log unix:/tmp/db.sock 127.0.0.1:5432\n"
	"  inetkit tcp relay --tls-listen --cert site.pem 127.0.0.1:8443 127.0.0.1:8080\n"
	"  inetkit tcp relay --tls-target --cacert ca.pem 127.0.0.1:2525 mail.example:465\n";

enum {
	OPT_CONNECT = TCP_OPT_OWN, OPT_TLS_LISTEN, OPT_TLS_TARGET, OPT_CACERT, OPT_INSECURE,
};

static const struct option relay_opts[] = {
	{"connect-timeout", required_argument, NULL, OPT_CONNECT},
	{"source", required_argument, NULL, 's'},
	{"tls-listen", no_argument, NULL, OPT_TLS_LISTEN},
	{"tls-target", no_argument, NULL, OPT_TLS_TARGET},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	TCP_SERVER_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* One client's relay: its connection to the target, then the target's
 * session; over when both sessions have closed. */
struct tcp_relay {
	const struct tcp_conf *conf;
	struct connector *connecting;
	struct session *target;
	bool client_closed, target_closed;
	uint64_t start_ms;
	uint64_t up, down;		/* bytes sent to the target, to the client */
	char client[ENDPOINT_TEXT_MAX], to[ENDPOINT_TEXT_MAX];
	char end[192];			/* how it ended: the first side to close, and why */
};

/* ---- configuration ---- */

int tcp_relay_prepare(struct tcp_conf *c, ik_err *e)
{
	if (c->ntarget == 0) {
		if (endpoint_resolve_target(c->target, c->family, SOCK_STREAM, c->target_ep,
					    CONNECTOR_MAX_ADDRS, &c->ntarget, "target", e) < 0)
			return -1;
		char host[256];
		uint16_t port;
		if (endpoint_is_unix(c->target) ||
		    endpoint_split(c->target, host, sizeof host, &port, NULL) < 0)
			str_copy(c->target_name, sizeof c->target_name, "localhost");
		else
			str_copy(c->target_name, sizeof c->target_name, host);
	}
	if (c->source != NULL && c->source_ep.len == 0 &&
	    endpoint_parse_source(c->source, &c->source_ep, e) < 0)
		return -1;
	if (c->tls_target && c->target_ssl == NULL) {
		struct tls_client_opts o = {.ca_file = c->cacert, .insecure = c->insecure};
		c->target_ssl = tls_client_ctx(&o, e);
		if (c->target_ssl == NULL)
			return -1;
	}
	return 0;
}

/* ---- one connection ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void relay_set_end(struct tcp_relay *r, const char *side, const char *why)
{
	if (r->end[0] == '\0')
		str_fmt(r->end, sizeof r->end, "%s%s", side, why);
}

/* Both sides closed: the log line, and the connection is over. */
static void relay_check_done(struct tcp_conn *c)
{
	struct tcp_relay *r = c->relay;
	if (!r->client_closed || (r->target != NULL && !r->target_closed))
		return;
	if (r->conf->log) {
		char end[sizeof r->end + 8];
		log_event(LOG_INFO, "relay", "proto=%s client=%s target=%s up=%llu down=%llu ms=%llu "
			  "end=%s", r->conf->name, r->client, r->to[0] != '\0' ? r->to : r->conf->target,
			  (unsigned long long)r->up, (unsigned long long)r->down,
			  (unsigned long long)(now_ms() - r->start_ms),
			  log_quote(end, sizeof end, r->end[0] != '\0' ? r->end : "eof"));
	}
	if (r->connecting != NULL)
		connector_cancel(r->connecting);
	free(r);
	c->relay = NULL;
	tcp_conn_closed(c);
}

/* A session's close reason as the end of the relay: "eof" when it ended
 * by the end-of-file policy, else which side and why. */
static void relay_closed(struct tcp_relay *r, const char *side, const char *reason)
{
	if (strcmp(reason, "eof") == 0 || str_has_prefix(reason, "other side closed"))
		return;
	relay_set_end(r, side, reason);
}

static void target_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct tcp_conn *c = arg;
	struct tcp_relay *r = c->relay;
	if (ev->type != SESSION_EV_CLOSED)
		return;		/* the link moves the bytes and passes the EOF on */
	r->up = session_bytes_out(s);
	r->target_closed = true;
	r->target = NULL;
	relay_closed(r, "target: ", ev->reason);
	relay_check_done(c);
}

static void on_connected(int fd, const struct endpoint *ep, int err, const char *why, void *arg)
{
	(void)err;
	struct tcp_conn *c = arg;
	struct tcp_relay *r = c->relay;
	r->connecting = NULL;
	str_copy(r->to, sizeof r->to, ep->text);
	if (fd < 0) {
		char q[200], reason[220];
		log_event(LOG_WARNING, "relay_failed", "proto=%s client=%s target=%s reason=%s",
			  r->conf->name, r->client, ep->text, log_quote(q, sizeof q, why));
		str_fmt(reason, sizeof reason, "cannot connect to the target: %s", why);
		relay_set_end(r, "", reason);
		session_close(c->s, reason);
		return;
	}
	const struct tcp_conf *conf = r->conf;
	ik_err e;
	SSL *ssl = NULL;
	if (conf->tls_target) {
		ssl = tls_client_ssl(conf->target_ssl, conf->target_name, NULL, &e);
		if (ssl == NULL) {
			close(fd);
			relay_set_end(r, "target: ", e.msg);
			session_close(c->s, e.msg);
			return;
		}
	}
	struct session_opts o = {
		.proto = conf->name,
		.mode = SESSION_MODE_RAW,
		.idle_ms = conf->idle_ms,
		.write_ms = conf->write_ms,
	};
	r->target = session_new_connected(session_loop(c->s), fd, (const struct sockaddr *)&ep->ss,
					  ep->len, ssl, &o, target_io, c, &e);
	if (r->target == NULL) {
		relay_set_end(r, "target: ", e.msg);
		session_close(c->s, e.msg);
		return;
	}
	session_link(c->s, r->target);
}

void tcp_relay_start(struct tcp_conn *c, const struct tcp_conf *conf)
{
	struct tcp_relay *r = calloc(1, sizeof *r);
	if (r == NULL) {
		session_close(c->s, "out of memory");
		return;
	}
	r->conf = conf;
	r->start_ms = now_ms();
	str_copy(r->client, sizeof r->client, session_peer(c->s));
	c->relay = r;
	struct connector_opts o = {
		.timeout_ms = conf->connect_ms,
		.source = conf->source != NULL ? &conf->source_ep : NULL,
	};
	ik_err e;
	r->connecting = connector_start(session_loop(c->s), conf->target_ep, conf->ntarget, &o,
					on_connected, c, &e);
	if (r->connecting == NULL) {
		relay_set_end(r, "", e.msg);
		session_close(c->s, e.msg);
	}
}

void tcp_relay_close(struct tcp_conn *c, const char *reason)
{
	struct tcp_relay *r = c->relay;
	if (r != NULL && r->target != NULL && !r->target_closed)
		session_close(r->target, reason);
	if (c->s != NULL)
		session_close(c->s, reason);
}

void tcp_relay_io(struct tcp_conn *c, const struct session_ev *ev)
{
	struct tcp_relay *r = c->relay;
	if (r == NULL) {
		/* Never started (out of memory): the connection ends as others do. */
		if (ev->type == SESSION_EV_CLOSED)
			tcp_conn_closed(c);
		return;
	}
	switch (ev->type) {
	case SESSION_EV_EOF:
		/* Before the target answers: its FIN is passed on by the link. */
		if (!session_linked(c->s))
			session_keep_writing(c->s);
		break;
	case SESSION_EV_CLOSED:
		r->down = session_bytes_out(c->s);
		r->client_closed = true;
		c->s = NULL;	/* freed after this call; the target may go on */
		if (r->connecting != NULL) {
			connector_cancel(r->connecting);
			r->connecting = NULL;
		}
		relay_closed(r, "client: ", ev->reason);
		relay_check_done(c);
		break;
	default:
		break;	/* data waits for the link; the core moves it */
	}
}

/* ---- the subcommand ---- */

static int relay_option(int o, const char *val, void *arg)
{
	struct tcp_conf *c = arg;
	switch (o) {
	case OPT_CONNECT:
		if (tcp_parse_seconds(val, &c->connect_ms) < 0 || c->connect_ms == 0)
			return cli_usage_error("tcp", "--connect-timeout '%s' is not a duration above "
					       "0 (seconds, or 500ms, 5m)", val);
		return 0;
	case 's': return tcp_set_text(&c->source, val);
	case '4': c->family = AF_INET; return 0;
	case '6': c->family = AF_INET6; return 0;
	case OPT_TLS_LISTEN: c->tls = true; return 0;
	case OPT_TLS_TARGET: c->tls_target = true; return 0;
	case OPT_CACERT: c->tls_target = true; return tcp_set_text(&c->cacert, val);
	case OPT_INSECURE: c->insecure = true; c->tls_target = true; return 0;
	}
	return 0;
}

static int parse_relay(int argc, char **argv, struct tcp_conf *c, uint64_t *workers,
		       struct acl **acl)
{
	ik_err e;
	int rc = tcp_server_getopt(argc, argv, ":hs:46", relay_opts, relay_option, c, c, workers,
				   acl);
	if (rc != 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage_error("tcp", argc - optind == 0 ? "missing LISTEN and TARGET addresses"
				       : "missing the TARGET address (HOST:PORT or unix:PATH) after LISTEN");
	for (int i = optind; i < argc - 1; i++)
		if (tcp_conf_add_listen(c, argv[i], &e) < 0)
			return cli_usage_error("tcp", "bad listen address: %s", e.msg);
	if (tcp_set_text(&c->target, argv[argc - 1]) != 0)
		return CLI_FAIL;
	if (c->key != NULL && c->cert == NULL)
		return cli_usage_error("tcp", "--key needs --cert");
	if (c->insecure && c->cacert != NULL)
		return cli_usage_error("tcp", "--insecure and --cacert contradict each other: choose one");
	/* Bad targets and sources are usage errors, found before binding. */
	struct endpoint probe[CONNECTOR_MAX_ADDRS];
	size_t n;
	if (endpoint_resolve_target(c->target, c->family, SOCK_STREAM, probe, CONNECTOR_MAX_ADDRS,
				    &n, "target", &e) < 0)
		return cli_usage_error("tcp", "%s", e.msg);
	if (c->source != NULL) {
		if (endpoint_is_unix(c->target))
			return cli_usage_error("tcp", "--source applies to TCP targets; %s is a UNIX "
					       "socket", c->target);
		if (endpoint_parse_source(c->source, &c->source_ep, &e) < 0)
			return cli_usage_error("tcp", "%s", e.msg);
		bool match = false;
		for (size_t i = 0; i < n; i++)
			match = match || probe[i].ss.ss_family == c->source_ep.ss.ss_family;
		if (!match)
			return cli_usage_error("tcp", "--source %s is %s but the target %s has no %s "
					       "address", c->source,
					       c->source_ep.ss.ss_family == AF_INET ? "IPv4" : "IPv6",
					       c->target,
					       c->source_ep.ss.ss_family == AF_INET ? "IPv4" : "IPv6");
	}
	return 0;
}

int tcp_relay_main(int argc, char **argv)
{
	struct tcp_conf *c = tcp_conf_new();
	if (c == NULL)
		return cli_error("tcp", CLI_FAIL, "out of memory");
	c->mode = TCP_RELAY;
	uint64_t workers = 0;
	struct acl *acl = NULL;
	int rc = parse_relay(argc, argv, c, &workers, &acl);
	if (rc == 0)
		return tcp_listen_run(c, workers, acl);
	if (rc < 0)
		rc = cli_help(relay_help);
	acl_free(acl);
	tcp_conf_free(c);
	return rc;
}
