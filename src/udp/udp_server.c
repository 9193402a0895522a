/* The UDP server: echo (RFC 862 section "UDP Based Echo Service": each
 * datagram back to its sender) or print (each datagram on stdout with its
 * peer). Datagrams are taken and answered in batches with recvmmsg and
 * sendmmsg. The receive buffer is one byte larger than any datagram can
 * be, so a cut is impossible by default; with a smaller --buffer, a cut
 * datagram is seen (MSG_TRUNC gives its real size) and reported, never
 * passed on as if whole: print mode notes "[truncated: N of M bytes]",
 * echo mode does not answer it, and both log a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/acl.h"
#include "core/log.h"
#include "core/server.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "udp/udp.h"
#include "udp/udp_int.h"

#define BATCH 32
#define ROUNDS 8	/* batches per wake-up, so one socket cannot starve others */

struct udp_server {
	struct udp_conf *conf;		/* in force */
	const struct udp_conf *bound;	/* whose listen addresses are the sockets */
	const char *restart;		/* "serve": what to restart for them */
	struct loop *loop;
	struct event *ev[LISTEN_MAX_SOCKETS];
	size_t nev;
	unsigned char *bufs;
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct sockaddr_storage peers[BATCH];
	const struct listen_set *set;	/* its acl is read for each datagram */
	uint64_t datagrams, truncated, dropped, refused;
};

struct udp_conf *udp_conf_new(void)
{
	struct udp_conf *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->name = "udp";
	c->buffer = UDP_DEFAULT_BUFFER;
	return c;
}

void udp_conf_free(struct udp_conf *c)
{
	if (c == NULL)
		return;
	listen_spec_free(c->listen, c->nlisten);
	free(c);
}

int udp_conf_add_listen(struct udp_conf *c, const char *spec, ik_err *e)
{
	return listen_spec_add(c->listen, &c->nlisten, spec, e);
}

/* One datagram per line: trailing line end dropped, control bytes and
 * backslashes escaped so that a datagram can never end or forge a line. */
static void print_datagram(const char *peer, const unsigned char *p, size_t got, size_t size)
{
	size_t n = got;
	if (n > 0 && p[n - 1] == '\n') {
		n--;
		if (n > 0 && p[n - 1] == '\r')
			n--;
	}
	flockfile(stdout);
	printf("[%s] ", peer);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '\\')
			fputs("\\\\", stdout);
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	if (got < size)
		printf(" [truncated: %zu of %zu bytes]", got, size);
	putchar('\n');
	funlockfile(stdout);
}

static void send_batch(struct udp_server *srv, int fd, unsigned k)
{
	unsigned done = 0;
	while (done < k) {
		int n = sendmmsg(fd, srv->out + done, k - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			srv->dropped += k - done;	/* socket buffer full: UDP drops */
			return;
		}
		srv->dropped++;		/* this one failed; send the rest */
		done++;
	}
}

static void on_datagrams(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct udp_server *srv = arg;
	struct udp_conf *conf = srv->conf;
	for (int round = 0; round < ROUNDS; round++) {
		/* MSG_TRUNC: msg_len is the datagram's real size, even when cut. */
		int n = recvmmsg((int)fd, srv->in, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n <= 0)
			return;
		unsigned k = 0;
		for (int i = 0; i < n; i++) {
			size_t size = srv->in[i].msg_len;
			bool cut = (srv->in[i].msg_hdr.msg_flags & MSG_TRUNC) || size > conf->buffer;
			size_t got = size > conf->buffer ? conf->buffer : size;
			const struct sockaddr *peer = (struct sockaddr *)&srv->peers[i];
			char ptext[ENDPOINT_TEXT_MAX];
			/* Not allowed: dropped unanswered, as if nobody listened
			 * (logged at debug level only: datagrams come fast). */
			if (acl_refuse(srv->set->acl, peer, LOG_DEBUG)) {
				srv->refused++;
				continue;
			}
			srv->datagrams++;
			if (cut || conf->log || conf->mode == UDP_PRINT)
				endpoint_format(peer, ptext, sizeof ptext);
			if (cut) {
				srv->truncated++;
				log_event(LOG_WARNING, "truncated", "proto=%s peer=%s got=%zu size=%zu "
					  "hint=\"raise --buffer\"", conf->name, ptext, got, size);
			} else if (conf->log) {
				log_event(LOG_INFO, "datagram", "proto=%s peer=%s bytes=%zu", conf->name,
					  ptext, size);
			}
			if (conf->mode == UDP_PRINT) {
				print_datagram(ptext, srv->iov[i].iov_base, got, size);
				continue;
			}
			if (cut)
				continue;	/* never echo a part as if it were the whole */
			srv->oiov[k].iov_base = srv->iov[i].iov_base;
			srv->oiov[k].iov_len = got;
			memset(&srv->out[k].msg_hdr, 0, sizeof srv->out[k].msg_hdr);
			srv->out[k].msg_hdr.msg_name = &srv->peers[i];
			srv->out[k].msg_hdr.msg_namelen = srv->in[i].msg_hdr.msg_namelen;
			srv->out[k].msg_hdr.msg_iov = &srv->oiov[k];
			srv->out[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		if (k > 0)
			send_batch(srv, (int)fd, k);
		/* The kernel wrote the peers' address lengths: ready them again. */
		for (int i = 0; i < n; i++)
			srv->in[i].msg_hdr.msg_namelen = sizeof srv->peers[i];
		if (conf->mode == UDP_PRINT)
			fflush(stdout);
		if (n < BATCH)
			return;
	}
}

struct udp_server *udp_server_start(struct udp_conf *conf, struct loop *l,
				    const struct listen_set *set, ik_err *e)
{
	struct udp_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL || (srv->bufs = malloc(conf->buffer * BATCH)) == NULL) {
		free(srv);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	srv->conf = conf;
	srv->bound = conf;
	srv->restart = "inetkit udp listen";
	srv->loop = l;
	srv->set = set;
	for (unsigned i = 0; i < BATCH; i++) {
		srv->iov[i].iov_base = srv->bufs + (size_t)i * conf->buffer;
		srv->iov[i].iov_len = conf->buffer;
		srv->in[i].msg_hdr.msg_name = &srv->peers[i];
		srv->in[i].msg_hdr.msg_namelen = sizeof srv->peers[i];
		srv->in[i].msg_hdr.msg_iov = &srv->iov[i];
		srv->in[i].msg_hdr.msg_iovlen = 1;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->socktype[i] != SOCK_DGRAM)
			continue;
		srv->ev[srv->nev] = event_new(loop_base(l), set->fd[i], EV_READ | EV_PERSIST,
					      on_datagrams, srv);
		if (srv->ev[srv->nev] == NULL || event_add(srv->ev[srv->nev], NULL) < 0) {
			if (srv->ev[srv->nev] != NULL)
				srv->nev++;
			udp_server_free(srv);
			ik_err_set(e, "cannot watch the UDP sockets");
			return NULL;
		}
		srv->nev++;
	}
	return srv;
}

struct stop_box {
	void (*done)(void *);
	void *arg;
};

static void stop_done(void *arg)
{
	struct stop_box *b = arg;
	if (b->done != NULL)
		b->done(b->arg);
	free(b);
}

void udp_server_stop(struct udp_server *srv, void (*done)(void *), void *arg)
{
	/* No sessions to finish: stop reading, and report done from the loop. */
	for (size_t i = 0; i < srv->nev; i++)
		event_del(srv->ev[i]);
	struct stop_box *b = malloc(sizeof *b);
	if (b == NULL)
		return;
	b->done = done;
	b->arg = arg;
	if (loop_defer(srv->loop, stop_done, b) < 0)
		free(b);
}

void udp_server_free(struct udp_server *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nev; i++)
		event_free(srv->ev[i]);
	if (srv->datagrams > 0 || srv->refused > 0)
		log_event(LOG_INFO, "udp_stats", "proto=%s datagrams=%llu truncated=%llu dropped=%llu "
			  "refused=%llu", srv->conf->name, (unsigned long long)srv->datagrams,
			  (unsigned long long)srv->truncated, (unsigned long long)srv->dropped,
			  (unsigned long long)srv->refused);
	free(srv->bufs);
	free(srv);
}

/* ---- the [udp-echo] service ----
 *   enabled  yes|no, default yes
 *   listen   list of [HOST:]PORT, default 127.0.0.1:2007
 *   mode     echo|print, default echo */

static void *svc_configure(struct cfg *cfg, const char *sec, const struct service_ctx *ctx,
			   bool *enabled, ik_err *e)
{
	(void)ctx;
	static const char *const modes[] = {"echo", "print", NULL};
	struct udp_conf *c = udp_conf_new();
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	int mode = 0;
	if (cfg_get_bool(cfg, sec, "enabled", "Run this service", true, enabled, e) < 0 ||
	    listen_spec_configure(cfg, sec, "listen", "Addresses to listen on: HOST:PORT, "
				  "[IPV6]:PORT, *:PORT or PORT", "127.0.0.1:2007", true, c->listen,
				  &c->nlisten, e) < 0 ||
	    cfg_get_enum(cfg, sec, "mode", "echo answers each datagram (RFC 862); print writes it "
			 "to standard output", modes, 0, &mode, e) < 0)
		goto fail;
	c->mode = mode == 1 ? UDP_PRINT : UDP_ECHO;
	c->name = "udp-echo";
	return c;
fail:
	udp_conf_free(c);
	return NULL;
}

static int svc_bind(void *conf, struct listen_set *set, ik_err *e)
{
	struct udp_conf *c = conf;
	return listen_bind_specs(set, (const char *const *)c->listen, c->nlisten, SOCK_DGRAM, 0, e);
}

static void *svc_start(void *conf, struct loop *l, const struct listen_set *set,
		       const struct service_ctx *ctx, ik_err *e)
{
	struct udp_server *srv = udp_server_start(conf, l, set, e);
	if (srv != NULL)
		srv->restart = ctx->restart;
	return srv;
}

static void svc_stop(void *running, void (*done)(void *), void *arg)
{
	udp_server_stop(running, done, arg);
}

/* Reload (SIGHUP): the mode applies from the next datagram on; there are
 * no sessions to keep. serve frees confs only at exit, so the old one may
 * simply be dropped. The receive buffers keep their size. */
static int svc_reload(void *running, void *new_conf, ik_err *e)
{
	(void)e;
	struct udp_server *srv = running;
	struct udp_conf *c = new_conf;
	if (!str_list_equal(srv->bound->listen, srv->bound->nlisten, c->listen, c->nlisten))
		listen_log_changed(c->name, srv->restart);
	c->buffer = srv->conf->buffer;
	srv->conf = c;
	return 0;
}

static void svc_free_running(void *running) { udp_server_free(running); }
static void svc_free_conf(void *conf) { udp_conf_free(conf); }

static void svc_describe(void *conf, const struct server_endpoint *ep, struct sbuf *out)
{
	const struct udp_conf *c = conf;
	sbuf_printf(out, "udp %-7s  %-22s try: inetkit udp send %s %u hello\n",
		    c->mode == UDP_PRINT ? "print" : "echo", ep->text, ep->host, ep->port);
}

const struct service_ops service_udp_echo = {
	.section = "udp-echo",
	.summary = "UDP echo or print server (RFC 862)",
	.configure = svc_configure,
	.bind = svc_bind,
	.start = svc_start,
	.stop = svc_stop,
	.reload = svc_reload,
	.free_running = svc_free_running,
	.free_conf = svc_free_conf,
	.describe = svc_describe,
};
