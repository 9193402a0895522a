/* What the tcp_*.c files share. The server is one code path for
 * `inetkit tcp listen` (configured from options) and the [tcp-echo]
 * service (configured from the config file). */
#ifndef INETKIT_TCP_TCP_INT_H
#define INETKIT_TCP_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "core/connector.h"
#include "lib/error.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/server.h"
#include "core/session.h"

enum tcp_mode { TCP_ECHO, TCP_DISCARD, TCP_CHAT, TCP_EXEC, TCP_SEND, TCP_RECV, TCP_RELAY };

#define TCP_DEFAULT_MAX_CONNS 1000
#define TCP_DEFAULT_IDLE_MS 300000
#define TCP_DEFAULT_WRITE_MS 30000
#define TCP_CHAT_MAX_LINE 1024
#define TCP_DEFAULT_CONNECT_MS 10000

struct tcp_conf {
	const char *name;		/* "tcp" or the config section, for log lines */
	enum tcp_mode mode;
	char *listen[LISTEN_MAX_SOCKETS];
	size_t nlisten;
	uint64_t max_conns;		/* 0: no limit */
	uint64_t idle_ms, write_ms;
	size_t max_line;
	bool tls;
	char *cert, *key;
	bool log, once;
	char **exec_argv;		/* --exec CMD split on spaces */
	char *file;			/* --send / --recv */
	int file_fd;
	off_t file_size;
	SSL_CTX *ssl;			/* made by tcp_conf_prepare */
	/* relay (tcp_relay.c): where each client is connected to */
	char *target;			/* HOST:PORT or unix:PATH */
	int family;			/* -4 / -6 for the target's addresses */
	uint64_t connect_ms;		/* per address of the target */
	char *source;			/* --source ADDR[:PORT], or NULL */
	bool tls_target, insecure;	/* --tls-target, --insecure */
	char *cacert;			/* --cacert FILE */
	/* made by tcp_conf_prepare: */
	struct endpoint target_ep[CONNECTOR_MAX_ADDRS];
	size_t ntarget;
	char target_name[256];		/* the name its certificate must match */
	struct endpoint source_ep;
	SSL_CTX *target_ssl;
};

struct tcp_conn;

/* One running tcp server (tcp_server.c) on core/server: its generations
 * are the confs (the one in force: tcp_server_conf). */
struct tcp_server {
	struct server *core;
	struct loop *loop;
	const struct tcp_conf *bound;	/* whose listen addresses are the sockets */
	const char *restart;		/* "serve", "inetkit tcp listen" */
	uint64_t accepted;
	struct event *sigchld;
	int result;			/* exit code of a one-shot transfer */
};

struct tcp_exec;
struct tcp_relay;

struct tcp_conn {
	struct tcp_server *srv;
	struct session *s;
	struct server_conn conn;	/* in srv->core's registry */
	struct tcp_exec *exec;
	struct tcp_relay *relay;
	bool complete;			/* --recv: the peer's end of file came */
};

/* Configuration life cycle (tcp_server.c). */
struct tcp_conf *tcp_conf_new(void);
void tcp_conf_free(struct tcp_conf *c);
int tcp_conf_add_listen(struct tcp_conf *c, const char *spec, ik_err *e);
/* Open --send/--recv files, make the TLS context (each unless done
 * already). Before binding. */
int tcp_conf_prepare(struct tcp_conf *c, ik_err *e);
const char *tcp_mode_name(enum tcp_mode m);

/* The running server (tcp_server.c). restart names what to restart to
 * apply what a reload cannot ("serve", "inetkit tcp listen"). Stop,
 * close and free are core/server's (srv->core) underneath. */
struct tcp_server *tcp_server_start(struct tcp_conf *c, struct loop *l,
				    const struct listen_set *set, const char *restart, ik_err *e);
void tcp_server_stop(struct tcp_server *srv, void (*done)(void *), void *arg);
void tcp_server_free(struct tcp_server *srv);
/* New settings (SIGHUP), for `tcp listen` and the [tcp-echo] service: c,
 * prepared here (its cert and key read again), applies to connections
 * accepted from now on; open ones keep the conf they were accepted under.
 * A change of listen addresses against the bound conf is logged, not
 * applied ("restart <restart> to apply them"). Returns -1 with e set and
 * srv untouched. c must outlive the connections that use it
 * (tcp_server_uses_conf). */
int tcp_server_reload(struct tcp_server *srv, struct tcp_conf *c, ik_err *e);
/* Whether conf is the one in force or an open connection's. */
bool tcp_server_uses_conf(const struct tcp_server *srv, const struct tcp_conf *conf);
/* The conf in force; the conf a connection was accepted under. */
struct tcp_conf *tcp_server_conf(const struct tcp_server *srv);
struct tcp_conf *tcp_conn_conf(const struct tcp_conn *c);
/* Every open connection: for (c = tcp_conn_first(srv); c; c = tcp_conn_next(c)) */
struct tcp_conn *tcp_conn_first(const struct tcp_server *srv);
struct tcp_conn *tcp_conn_next(const struct tcp_conn *c);

/* A connection is over (its session, and a relay's target, closed). */
void tcp_conn_closed(struct tcp_conn *c);

/* Modes (tcp_chat.c, tcp_exec.c, tcp_xfer.c, tcp_relay.c). */
void tcp_chat_join(struct tcp_conn *c);
void tcp_chat_io(struct tcp_conn *c, const struct session_ev *ev);
int tcp_exec_check(char **argv, ik_err *e);
int tcp_exec_split(const char *cmd, char ***argv, ik_err *e);
int tcp_exec_start(struct tcp_conn *c, ik_err *e);
void tcp_exec_io(struct tcp_conn *c, const struct session_ev *ev);
void tcp_exec_reap(struct tcp_server *srv);
void tcp_xfer_start(struct tcp_conn *c);
void tcp_xfer_io(struct tcp_conn *c, const struct session_ev *ev);
int tcp_relay_prepare(struct tcp_conf *c, ik_err *e);
void tcp_relay_start(struct tcp_conn *c, const struct tcp_conf *conf);
void tcp_relay_io(struct tcp_conn *c, const struct session_ev *ev);
/* Close both sides now (the server stops). */
void tcp_relay_close(struct tcp_conn *c, const char *reason);

/* Subcommands (tcp_listen.c, tcp_relay.c, tcp_connect.c, tcp_scan.c,
 * tcp_bench.c). */
int tcp_listen_main(int argc, char **argv);
/* Serve c (parsed, not prepared) in this process or in workers; takes
 * c. What `tcp listen` and `tcp relay` run once their options are read. */
struct acl;
/* Takes c and acl (may be NULL: everyone) in all cases. */
int tcp_listen_run(struct tcp_conf *c, uint64_t workers, struct acl *acl);
int tcp_relay_main(int argc, char **argv);
/* The server options `tcp listen` and `tcp relay` both take, in their
 * getopt tables as TCP_SERVER_OPTIONS; a subcommand's own option ids start
 * at TCP_OPT_OWN. */
enum {
	TCP_OPT_MAX_CONNS = 256, TCP_OPT_IDLE, TCP_OPT_WRITE, TCP_OPT_CERT, TCP_OPT_KEY,
	TCP_OPT_WORKERS, TCP_OPT_LOG, TCP_OPT_ALLOW, TCP_OPT_DENY,
	TCP_OPT_OWN
};
#define TCP_SERVER_OPTIONS \
	{"max-conns", required_argument, NULL, TCP_OPT_MAX_CONNS}, \
	{"idle-timeout", required_argument, NULL, TCP_OPT_IDLE}, \
	{"write-timeout", required_argument, NULL, TCP_OPT_WRITE}, \
	{"cert", required_argument, NULL, TCP_OPT_CERT}, \
	{"key", required_argument, NULL, TCP_OPT_KEY}, \
	{"workers", required_argument, NULL, TCP_OPT_WORKERS}, \
	{"log", no_argument, NULL, TCP_OPT_LOG}, \
	{"allow", required_argument, NULL, TCP_OPT_ALLOW}, \
	{"deny", required_argument, NULL, TCP_OPT_DENY}
struct option;
/* Their option loop (tcp_listen.c): the server options go into c,
 * *workers and *acl; any other of opts (ended by a NULL name) to
 * own(o, optarg, arg), which returns 0 or an exit code. Returns 0 with
 * optind at the operands, -1 for --help, or an exit code (usage errors
 * name the option and say what it needs). */
int tcp_server_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
		      int (*own)(int o, const char *val, void *arg), void *arg,
		      struct tcp_conf *c, uint64_t *workers, struct acl **acl);
/* A string option's value into *field (replacing one given before). */
int tcp_set_text(char **field, const char *v);
int tcp_connect_main(int argc, char **argv);
/* Port scans (tcp_scan.c): `tcp connect --scan`, `udp scan`. */
struct scan_opts {
	int socktype;		/* SOCK_STREAM or SOCK_DGRAM */
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	uint64_t timeout_ms;	/* per probe */
	unsigned parallel;	/* probes in flight */
	unsigned retries;	/* UDP: more tries of a port that stays silent */
	unsigned rate;		/* UDP: probes a second at most (0: no limit) */
	bool json;
	const char *what;	/* names the range in errors: "--scan" */
};
int port_scan_run(const char *host, const char *range, const struct scan_opts *o);
int tcp_bench_main(int argc, char **argv);

/* A whole-seconds option ("2", "0.5" for half a second) in ms; -1 if bad. */
int tcp_parse_seconds(const char *s, uint64_t *ms);
/* A count option of tool ("tcp", "udp") from min to max: 0, or the usage
 * error's exit status ("--workers 'x' must be a number from 0 to 256"). */
int tcp_parse_count(const char *tool, const char *opt, const char *v, uint64_t min, uint64_t max,
		    uint64_t *out);

#endif
