/* `inetkit udp relay LISTEN TARGET`: a UDP port forwarder (RFC 768), as
 * `socat UDP-LISTEN:...,fork UDP:...` does it. Each client address seen
 * on LISTEN gets its own socket connected to TARGET, so the target's
 * replies come back to that socket alone and go out to that client from
 * the address it wrote to. A client quiet for --idle-timeout is
 * forgotten. A target port that answers with ICMP port unreachable shows
 * as "connection refused" on the connected socket (RFC 1122 4.1.3.3): the
 * client's entry ends with that reason. Datagrams are never cut: one
 * larger than the buffer is dropped and counted. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/cli.h"
#include "core/connector.h"
#include "core/listener.h"
#include "core/log.h"
#include "lib/str.h"
#include "core/workers.h"
#include "tcp/tcp_int.h"
#include "udp/udp_int.h"

#define RELAY_DEFAULT_IDLE_MS 60000
#define RELAY_DEFAULT_MAX 1000
#define ROUNDS 64	/* datagrams per wake-up, so one socket cannot starve others */

static const char relay_help[] =
	"Usage: inetkit udp relay [OPTIONS] LISTEN... TARGET\n"
	"\n"
	"Forward datagrams received on LISTEN ([HOST:]PORT or unix:PATH) to TARGET\n"
	"(HOST:PORT or unix:PATH), each client from its own socket, and the\n"
	"target's replies back to that client.\n"
	"Options:\n"
	"  --max-conns N     at most N clients at once; datagrams of more are\n"
	"                    dropped (default 1000)\n"
	"  --idle-timeout T  forget a client quiet both ways for T s (default 60)\n"
	"  -s, --source ADDR[:PORT]  send to the target from this local address\n"
	"  -4, -6            IPv4 or IPv6 address of the target only\n"
	"  --workers N       N processes sharing the port (SO_REUSEPORT; a client\n"
	"                    stays with one of them)\n"
	"  --log             one line per client when it is forgotten\n"
	"  -h, --help        this help\n"
	"\n"
	"Example: inetkit udp relay 127.0.0.1:5353 127.0.0.53:53\n";

enum { OPT_MAX = 256, OPT_IDLE, OPT_WORKERS, OPT_LOG };

static const struct option relay_opts[] = {
	{"max-conns", required_argument, NULL, OPT_MAX},
	{"idle-timeout", required_argument, NULL, OPT_IDLE},
	{"source", required_argument, NULL, 's'},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"log", no_argument, NULL, OPT_LOG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct urelay_conf {
	char *listen[LISTEN_MAX_SOCKETS];
	size_t nlisten;
	const char *target_spec;
	struct endpoint target;
	struct endpoint source;
	bool has_source, log;
	uint64_t idle_ms, max;
};

struct urelay;

/* One client: its address, the socket it came in on, and its own socket
 * connected to the target. */
struct client {
	struct urelay *r;
	struct client *hnext;		/* hash chain */
	struct client *prev, *next;	/* every client */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int lfd, ufd;
	struct event *ev, *timer;
	uint64_t start_ms, last_ms;
	uint64_t up, down, up_n, down_n;
	char text[ENDPOINT_TEXT_MAX];
};

struct urelay {
	const struct urelay_conf *conf;
	struct loop *loop;
	struct event *ev[LISTEN_MAX_SOCKETS];
	size_t nev;
	struct client **buckets;
	size_t nbuckets;		/* a power of two */
	struct client *all;
	uint64_t nclients, refused, cut;
	uint64_t last_refuse_log, last_fail_log;
	unsigned char buf[65536];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* FNV-1a over the address bytes the kernel gave. */
static size_t addr_hash(const struct sockaddr_storage *a, socklen_t len)
{
	const unsigned char *p = (const unsigned char *)a;
	uint64_t h = 1469598103934665603ull;
	for (socklen_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct client **slot(struct urelay *r, const struct sockaddr_storage *a, socklen_t len)
{
	return &r->buckets[addr_hash(a, len) & (r->nbuckets - 1)];
}

/* Its events, its socket and itself. */
static void client_release(struct client *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->timer != NULL)
		event_free(c->timer);
	close(c->ufd);
	free(c);
}

static void client_free(struct client *c, const char *end)
{
	struct urelay *r = c->r;
	if (r->conf->log) {
		char q[160];
		log_event(LOG_INFO, "relay", "proto=udp client=%s target=%s up=%llu down=%llu "
			  "up_datagrams=%llu down_datagrams=%llu ms=%llu end=%s", c->text,
			  r->conf->target.text, (unsigned long long)c->up, (unsigned long long)c->down,
			  (unsigned long long)c->up_n, (unsigned long long)c->down_n,
			  (unsigned long long)(now_ms() - c->start_ms), log_quote(q, sizeof q, end));
	}
	for (struct client **p = slot(r, &c->addr, c->addrlen); *p != NULL; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		r->all = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	r->nclients--;
	client_release(c);
}

/* The target's port is closed: always worth a warning, at most one a
 * second (every client of a dead target would say the same). */
static void target_refused(struct client *c)
{
	struct urelay *r = c->r;
	uint64_t now = now_ms();
	if (now - r->last_fail_log >= 1000) {
		r->last_fail_log = now;
		log_event(LOG_WARNING, "relay_failed", "proto=udp client=%s target=%s "
			  "reason=\"connection refused (ICMP port unreachable)\"", c->text,
			  r->conf->target.text);
	}
	client_free(c, "target refused (port unreachable)");
}

static void arm(struct client *c, uint64_t now)
{
	uint64_t due = c->last_ms + c->r->conf->idle_ms;
	struct timeval tv = loop_tv(due > now ? due - now : 1);
	event_add(c->timer, &tv);
}

/* Activity only moves last_ms; the timer looks when it fires. */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct client *c = arg;
	uint64_t now = now_ms();
	if (now - c->last_ms >= c->r->conf->idle_ms) {
		client_free(c, "idle");
		return;
	}
	arm(c, now);
}

/* The target's replies, back to the client from the address it wrote to. */
static void on_reply(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct client *c = arg;
	struct urelay *r = c->r;
	for (int i = 0; i < ROUNDS; i++) {
		ssize_t n = recv((int)fd, r->buf, sizeof r->buf, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				target_refused(c);
				return;
			}
			return;		/* EAGAIN, or an error the next datagram clears */
		}
		if ((size_t)n > sizeof r->buf) {
			r->cut++;
			continue;
		}
		c->last_ms = now_ms();
		if (sendto(c->lfd, r->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&c->addr,
			   c->addrlen) == n) {
			c->down += (uint64_t)n;
			c->down_n++;
		}
	}
}

static struct client *client_new(struct urelay *r, int lfd, const struct sockaddr_storage *addr,
				 socklen_t addrlen)
{
	const struct urelay_conf *conf = r->conf;
	char text[ENDPOINT_TEXT_MAX];
	if (r->nclients >= conf->max) {
		r->refused++;
		uint64_t now = now_ms();
		if (now - r->last_refuse_log >= 1000) {	/* a flood gets one line a second */
			r->last_refuse_log = now;
			log_event(LOG_WARNING, "refuse", "proto=udp peer=%s reason=\"max-conns %llu "
				  "reached\" refused=%llu", endpoint_format((struct sockaddr *)addr, text,
				  sizeof text), (unsigned long long)conf->max,
				  (unsigned long long)r->refused);
		}
		return NULL;
	}
	struct client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->r = r;
	memcpy(&c->addr, addr, addrlen);
	c->addrlen = addrlen;
	c->lfd = lfd;
	endpoint_format((struct sockaddr *)addr, c->text, sizeof c->text);
	const struct sockaddr *to = (const struct sockaddr *)&conf->target.ss;
	c->ufd = socket(to->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ik_err e = {""};
	int err = 0;
	if (c->ufd < 0) {
		err = errno;
	} else if (to->sa_family == AF_UNIX) {
		/* An unnamed datagram socket gets no replies: autobind one. */
		sa_family_t fam = AF_UNIX;
		if (bind(c->ufd, (struct sockaddr *)&fam, sizeof fam) < 0)
			err = errno;
	} else if (conf->has_source && connector_bind_source(c->ufd, &conf->source, &e) < 0) {
		err = EADDRNOTAVAIL;
	}
	if (err == 0 && connect(c->ufd, to, conf->target.len) < 0)
		err = errno;
	if (err != 0) {
		char q[IK_ERR_MAX + 8], why[IK_ERR_MAX];
		str_copy(why, sizeof why, e.msg[0] != '\0' ? e.msg : strerror(err));
		log_event(LOG_WARNING, "relay_failed", "proto=udp client=%s target=%s reason=%s",
			  c->text, conf->target.text, log_quote(q, sizeof q, why));
		if (c->ufd >= 0)
			close(c->ufd);
		free(c);
		return NULL;
	}
	c->ev = event_new(loop_base(r->loop), c->ufd, EV_READ | EV_PERSIST, on_reply, c);
	c->timer = evtimer_new(loop_base(r->loop), on_idle, c);
	if (c->ev == NULL || c->timer == NULL || event_add(c->ev, NULL) < 0) {
		client_release(c);
		return NULL;
	}
	struct client **s = slot(r, addr, addrlen);
	c->hnext = *s;
	*s = c;
	c->next = r->all;
	if (r->all != NULL)
		r->all->prev = c;
	r->all = c;
	r->nclients++;
	c->start_ms = c->last_ms = now_ms();
	arm(c, c->start_ms);
	return c;
}

static struct client *client_find(struct urelay *r, const struct sockaddr_storage *a,
				  socklen_t len)
{
	for (struct client *c = *slot(r, a, len); c != NULL; c = c->hnext)
		if (c->addrlen == len && memcmp(&c->addr, a, len) == 0)
			return c;
	return NULL;
}

static void on_datagram(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct urelay *r = arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof from;
		memset(&from, 0, sizeof from);
		ssize_t n = recvfrom((int)fd, r->buf, sizeof r->buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &len);
		if (n < 0)
			return;
		if ((size_t)n > sizeof r->buf) {
			r->cut++;
			continue;
		}
		struct client *c = client_find(r, &from, len);
		if (c == NULL && (c = client_new(r, (int)fd, &from, len)) == NULL)
			continue;
		c->last_ms = now_ms();
		ssize_t k = send(c->ufd, r->buf, (size_t)n, MSG_DONTWAIT);
		if (k == n) {
			c->up += (uint64_t)n;
			c->up_n++;
		} else if (k < 0 && errno == ECONNREFUSED) {
			target_refused(c);
		}
	}
}

static void urelay_free(struct urelay *r, const char *end)
{
	while (r->all != NULL)
		client_free(r->all, end);
	for (size_t i = 0; i < r->nev; i++)
		event_free(r->ev[i]);
	if (r->refused > 0 || r->cut > 0)
		log_event(LOG_INFO, "udp_stats", "proto=udp refused=%llu dropped_oversized=%llu",
			  (unsigned long long)r->refused, (unsigned long long)r->cut);
	free(r->buckets);
	free(r);
}

static struct urelay *urelay_start(const struct urelay_conf *conf, struct loop *l,
				   const struct listen_set *set, ik_err *e)
{
	struct urelay *r = calloc(1, sizeof *r);
	if (r == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	r->conf = conf;
	r->loop = l;
	r->nbuckets = 64;
	while (r->nbuckets < conf->max && r->nbuckets < (1u << 16))
		r->nbuckets <<= 1;
	r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
	if (r->buckets == NULL) {
		free(r);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < set->n; i++) {
		r->ev[r->nev] = event_new(loop_base(l), set->fd[i], EV_READ | EV_PERSIST, on_datagram, r);
		if (r->ev[r->nev] == NULL || event_add(r->ev[r->nev], NULL) < 0) {
			if (r->ev[r->nev] != NULL)
				r->nev++;
			urelay_free(r, "");
			ik_err_set(e, "cannot watch the UDP sockets");
			return NULL;
		}
		r->nev++;
	}
	return r;
}

/* ---- the subcommand ---- */

struct relay_run {
	struct urelay_conf *conf;
	struct worker_sets ws;
};

static void on_stop(struct loop *l, int sig, void *arg)
{
	(void)sig;
	(void)arg;
	loop_exit(l);
}

static int relay_worker(int index, void *arg)
{
	struct relay_run *run = arg;
	const struct listen_set *set = worker_sets_take(&run->ws, index);
	ik_err e;
	struct loop *l = loop_new(&e);
	if (l == NULL)
		return cli_error("udp", CLI_FAIL, "%s", e.msg);
	struct urelay *r = urelay_start(run->conf, l, set, &e);
	if (r == NULL) {
		loop_free(l);
		return cli_error("udp", CLI_FAIL, "%s", e.msg);
	}
	loop_on_stop(l, on_stop, NULL);
	loop_run(l);
	urelay_free(r, "server stopping");
	loop_free(l);
	return CLI_OK;
}

static int parse_relay(int argc, char **argv, struct urelay_conf *c, uint64_t *workers)
{
	ik_err e;
	int o, rc, family = AF_UNSPEC;
	const char *source = NULL;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":hs:46", relay_opts, NULL)) != -1) {
		switch (o) {
		case OPT_MAX:
			if ((rc = tcp_parse_count("udp", "--max-conns", optarg, 1, 1000000, &c->max)) != 0)
				return rc;
			break;
		case OPT_IDLE:
			if (tcp_parse_seconds(optarg, &c->idle_ms) < 0 || c->idle_ms == 0)
				return cli_usage_error("udp", "--idle-timeout '%s' is not a duration above 0 "
						       "(seconds, or 500ms, 5m)", optarg);
			break;
		case 's': source = optarg; break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case OPT_WORKERS:
			if ((rc = tcp_parse_count("udp", "--workers", optarg, 0, WORKERS_MAX, workers)) != 0)
				return rc;
			break;
		case OPT_LOG: c->log = true; break;
		case 'h': return -1;
		case ':': return cli_usage_error("udp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("udp", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return cli_usage_error("udp", argc - optind == 0 ? "missing LISTEN and TARGET addresses"
				       : "missing the TARGET address (HOST:PORT or unix:PATH) after LISTEN");
	for (int i = optind; i < argc - 1; i++)
		if (listen_spec_add(c->listen, &c->nlisten, argv[i], &e) < 0)
			return cli_usage_error("udp", "bad listen address: %s", e.msg);
	c->target_spec = argv[argc - 1];
	size_t n;
	/* UDP has no handshake to fall back on: the first address is the one. */
	if (endpoint_resolve_target(c->target_spec, family, SOCK_DGRAM, &c->target, 1, &n,
				    "target", &e) < 0)
		return cli_usage_error("udp", "%s", e.msg);
	if (source != NULL) {
		if (c->target.ss.ss_family == AF_UNIX)
			return cli_usage_error("udp", "--source applies to UDP targets; %s is a UNIX "
					       "socket", c->target_spec);
		if (endpoint_parse_source(source, &c->source, &e) < 0)
			return cli_usage_error("udp", "%s", e.msg);
		if (c->source.ss.ss_family != c->target.ss.ss_family)
			return cli_usage_error("udp", "--source %s and the target %s are of different "
					       "address families", source, c->target.text);
		c->has_source = true;
	}
	return 0;
}

int udp_relay_main(int argc, char **argv)
{
	struct urelay_conf c = {.idle_ms = RELAY_DEFAULT_IDLE_MS, .max = RELAY_DEFAULT_MAX};
	struct relay_run run = {.conf = &c};
	uint64_t workers = 0;
	ik_err e;
	int rc = parse_relay(argc, argv, &c, &workers);
	if (rc < 0) {
		rc = cli_help(relay_help);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (worker_sets_bind(&run.ws, (const char *const *)c.listen, c.nlisten, SOCK_DGRAM,
			     (unsigned)workers, &e) < 0) {
		rc = cli_error("udp", CLI_USAGE, "%s", e.msg);
		goto out;
	}
	workers_raise_nofile(c.max + 64);
	workers_hold_signals();
	for (size_t i = 0; i < run.ws.sets[0].n; i++)
		log_event(LOG_INFO, "listen", "proto=udp addr=%s mode=relay target=%s workers=%llu",
			  run.ws.sets[0].ep[i].text, c.target.text, (unsigned long long)workers);
	struct workers_opts wo = {.count = (unsigned)workers, .name = "udp"};
	rc = workers_run(&wo, relay_worker, &run, &e);
	if (rc < 0)
		rc = cli_error("udp", CLI_FAIL, "%s", e.msg);
out:
	worker_sets_close(&run.ws);
	for (size_t i = 0; i < c.nlisten; i++)
		free(c.listen[i]);
	return rc;
}
