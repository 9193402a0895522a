/* `inetkit udp bench`: request/response load on a UDP (RFC 768) echo
 * server (RFC 862). Each
 * "connection" is a connected UDP socket with one datagram in flight; a
 * reply that does not come within --timeout counts as lost and the next
 * request goes out. Requests carry a sequence number in their first 8
 * bytes (when the size allows) so that a late reply is not taken for the
 * current one. Same report as tcp bench (tools/bench_common.c runs both). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/cli.h"
#include "core/loop.h"
#include "core/workers.h"
#include "tcp/bench_common.h"
#include "tcp/tcp_int.h"
#include "udp/udp_int.h"

static const char bench_help[] =
	"Usage: inetkit udp bench [OPTIONS] HOST PORT\n"
	"\n"
	"Load a UDP echo server: each socket sends a datagram and waits for it\n"
	"to come back; prints requests/s, bytes/s, latency percentiles and lost\n"
	"datagrams.\n"
	"  --conns N       sockets at once (default 50)\n"
	"  --size BYTES    datagram size (default 64)\n"
	"  --duration S    run S seconds (default 5)\n"
	"  --requests N    stop after N replies in all instead\n"
	"  --threads N     event loops in threads (default 1)\n"
	"  --timeout T     a reply later than T is lost (default 1s)\n"
	"  --json          the result as JSON\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -h, --help      this help\n";

static int udp_bench_option(struct bench *b, int opt, const char *arg)
{
	(void)opt;	/* --timeout is the only one */
	if (tcp_parse_seconds(arg, &b->timeout_ms) < 0 || b->timeout_ms == 0)
		return cli_usage_error("udp", "--timeout '%s' is not a duration above 0", arg);
	return 0;
}

static const struct option udp_bench_opts[] = {
	{"timeout", required_argument, NULL, BENCH_OPT_EXTRA},
	{NULL, 0, NULL, 0},
};

struct usock {
	struct bench_thread *t;
	int fd;
	struct event *ev;
	uint64_t seq, t0;
	unsigned char *req;
};

static void send_request(struct usock *s)
{
	struct bench_thread *t = s->t;
	if (!bench_may_start(t)) {
		event_del(s->ev);
		bench_check_done(t);
		return;
	}
	t->started++;
	s->seq++;
	if (t->b->size >= 8)
		memcpy(s->req, &s->seq, 8);
	s->t0 = bench_now_ns();
	struct timeval tv = loop_tv(t->b->timeout_ms);
	event_add(s->ev, &tv);	/* re-arms the reply timeout */
	if (send(s->fd, s->req, t->b->size, 0) < 0) {
		t->errors++;
		t->last_errno = errno;
		return;		/* the timeout sends the next one */
	}
	t->bytes_out += t->b->size;
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct usock *s = arg;
	struct bench_thread *t = s->t;
	if (what & EV_TIMEOUT) {
		t->lost++;
		send_request(s);
		return;
	}
	for (;;) {
		ssize_t n = recv((int)fd, t->rbuf, UDP_DEFAULT_BUFFER, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				t->errors++;
				t->last_errno = errno;
			}
			return;
		}
		t->bytes_in += (uint64_t)n;
		if ((uint64_t)n != t->b->size || memcmp(t->rbuf, s->req, t->b->size) != 0) {
			if (t->b->size >= 8 && (uint64_t)n == t->b->size)
				continue;	/* a late reply to an earlier request */
			t->errors++;
			continue;
		}
		hist_add(&t->lat, bench_now_ns() - s->t0);
		t->requests++;
		send_request(s);
		return;
	}
}

static bool udp_bench_start(struct bench_thread *t)
{
	struct usock *socks = t->socks;
	bool any = false;
	for (unsigned i = 0; i < t->n; i++)
		if (socks[i].fd >= 0 && bench_may_start(t)) {
			send_request(&socks[i]);
			any = true;
		}
	return any;
}

static int udp_bench_prepare(struct bench *b)
{
	if (workers_raise_nofile((uint64_t)b->conns + 64) < (uint64_t)b->conns + 16)
		return cli_error("udp", CLI_USAGE, "--conns %u needs more open files than the limit; "
				 "raise it with ulimit -n", b->conns);
	return 0;
}

static int setup_socks(struct bench_thread *t)
{
	struct bench *b = t->b;
	struct usock *socks = calloc(t->n, sizeof *socks);
	t->socks = socks;
	if (t->base == NULL || socks == NULL || t->rbuf == NULL)
		return -1;
	/* Clean-up after a failure part-way closes only sockets that exist. */
	for (unsigned i = 0; i < t->n; i++)
		socks[i].fd = -1;
	for (unsigned i = 0; i < t->n; i++) {
		struct usock *s = &socks[i];
		s->t = t;
		s->fd = socket(b->ep.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s->req = malloc(b->size);
		if (s->fd < 0 || s->req == NULL)
			return -1;
		for (uint64_t k = 0; k < b->size; k++)
			s->req[k] = (unsigned char)('a' + (k + i) % 26);
		if (connect(s->fd, (struct sockaddr *)&b->ep.ss, b->ep.len) < 0)
			return -1;
		s->ev = event_new(t->base, s->fd, EV_READ | EV_PERSIST, on_sock, s);
		if (s->ev == NULL)
			return -1;
	}
	return 0;
}

static int udp_bench_setup(struct bench_thread *t)
{
	if (setup_socks(t) < 0)
		return cli_error("udp", CLI_FAIL, "cannot set up the sockets: %s", strerror(errno));
	return 0;
}

static int udp_bench_finish(struct bench *b, struct bench_result *r, int last_errno)
{
	if (r->requests == 0 && last_errno == ECONNREFUSED)
		return cli_error("udp", CLI_FAIL, "nothing listens on %s (port unreachable: connection "
				 "refused)", b->ep.text);
	bench_print(r, b->json);
	if (r->requests == 0)
		return cli_error("udp", CLI_FAIL, "no reply from %s", b->ep.text);
	return CLI_OK;
}

static void udp_bench_free_thread(struct bench_thread *t)
{
	struct usock *socks = t->socks;
	for (unsigned k = 0; socks != NULL && k < t->n; k++) {
		if (socks[k].ev != NULL)
			event_free(socks[k].ev);
		if (socks[k].fd >= 0)
			close(socks[k].fd);
		free(socks[k].req);
	}
}

static const struct bench_ops udp_bench_ops = {
	.proto = "udp",
	.help = bench_help,
	.socktype = SOCK_DGRAM,
	.size_max = UDP_MAX_V4,
	.extra = udp_bench_opts,
	.option = udp_bench_option,
	.prepare = udp_bench_prepare,
	.setup = udp_bench_setup,
	.start = udp_bench_start,
	.finish = udp_bench_finish,
	.free_thread = udp_bench_free_thread,
};

int udp_bench_main(int argc, char **argv)
{
	struct bench b = {.timeout_ms = 1000, .rbuf_size = UDP_DEFAULT_BUFFER, .payload_fd = -1};
	return bench_main(&udp_bench_ops, &b, argc, argv);
}
