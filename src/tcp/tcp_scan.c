/* Port scans, at most `parallel` probes in flight, each with its own
 * timeout.
 *
 * `inetkit tcp connect --scan LOW-HIGH HOST`: a zero-I/O connect probe
 * (RFC 9293 three-way handshake, then close) of every port in the range.
 * A port is open when the handshake completes, closed when refused (RST),
 * and filtered when nothing answers in time.
 *
 * `inetkit udp scan HOST LOW-HIGH` (and `udp send --scan`): an empty
 * datagram (RFC 768) on a connected socket. A reply means open; ICMP port
 * unreachable, which the connected socket reports as "connection refused"
 * (RFC 1122 4.1.3.3, RFC 792), means closed; silence means open|filtered
 * (a service that ignores empty datagrams, or a firewall), after --retries
 * more tries. Kernels limit ICMP errors (net.ipv4.icmp_msgs_per_sec, 1000
 * a second with bursts of 50 by default, loopback included): UDP probes
 * are paced to --rate a second so that the answers are not lost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/cli.h"
#include "lib/json.h"
#include "core/loop.h"
#include "core/workers.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "tcp/tcp_int.h"

enum port_state { P_UNTRIED, P_OPEN, P_CLOSED, P_FILTERED, P_ERROR };

struct probe {
	struct scan *sc;
	struct event *ev;
	int fd;
	uint16_t port;
	unsigned tries;
};

struct scan {
	struct loop *loop;
	const struct scan_opts *o;
	const char *tool;
	struct endpoint target;
	struct event *pace;		/* UDP: waits for the next send slot */
	uint64_t next_us;		/* UDP: the next probe may start then */
	uint16_t low, high;
	uint16_t next;		/* next port to probe */
	bool exhausted;
	unsigned inflight, parallel;
	uint64_t timeout_ms;
	unsigned char *state;	/* per port in the range */
	struct probe *probes;
	int last_error;
};

static void scan_fill(struct scan *sc);

static void probe_done(struct probe *p, enum port_state st)
{
	struct scan *sc = p->sc;
	sc->state[p->port - sc->low] = (unsigned char)st;
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	sc->inflight--;
	scan_fill(sc);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int send_probe(struct probe *p)
{
	if (send(p->fd, "", 0, MSG_DONTWAIT) == 0)
		return 0;
	return -1;
}

/* A UDP probe's answer: a datagram, the ICMP error, or nothing in time. */
static void on_udp_probe(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct scan *sc = p->sc;
	if (!(what & EV_READ)) {
		if (p->tries <= sc->o->retries && send_probe(p) == 0) {
			p->tries++;
			struct timeval tv = loop_tv(sc->timeout_ms);
			event_add(p->ev, &tv);
			return;
		}
		probe_done(p, P_FILTERED);	/* open|filtered: nothing came back */
		return;
	}
	char byte;
	ssize_t n = recv((int)fd, &byte, 1, MSG_DONTWAIT);
	if (n >= 0)
		probe_done(p, P_OPEN);
	else if (errno == ECONNREFUSED)
		probe_done(p, P_CLOSED);
	else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return;
	else {
		sc->last_error = errno;
		probe_done(p, P_ERROR);
	}
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	if (!(what & EV_WRITE)) {
		probe_done(p, P_FILTERED);
		return;
	}
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		probe_done(p, P_OPEN);
	else if (err == ECONNREFUSED)
		probe_done(p, P_CLOSED);
	else if (err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH)
		probe_done(p, P_FILTERED);
	else {
		p->sc->last_error = err;
		probe_done(p, P_ERROR);
	}
}

static void probe_start(struct scan *sc, struct probe *p, uint16_t port)
{
	p->sc = sc;
	p->port = port;
	p->ev = NULL;
	p->tries = 1;
	sc->inflight++;
	bool udp = sc->o->socktype == SOCK_DGRAM;
	p->fd = socket(sc->target.ss.ss_family, sc->o->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		sc->last_error = errno;
		probe_done(p, P_ERROR);
		return;
	}
	struct sockaddr_storage ss = sc->target.ss;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	if (udp) {
		/* Connected: the kernel hands this socket the ICMP error. */
		if (connect(p->fd, (struct sockaddr *)&ss, sc->target.len) < 0 || send_probe(p) < 0) {
			if (errno == ECONNREFUSED) {
				probe_done(p, P_CLOSED);
				return;
			}
			sc->last_error = errno;
			probe_done(p, P_ERROR);
			return;
		}
		p->ev = event_new(loop_base(sc->loop), p->fd, EV_READ | EV_PERSIST, on_udp_probe, p);
		struct timeval tv = loop_tv(sc->timeout_ms);
		if (p->ev == NULL || event_add(p->ev, &tv) < 0) {
			sc->last_error = ENOMEM;
			probe_done(p, P_ERROR);
		}
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&ss, sc->target.len) == 0) {
		probe_done(p, P_OPEN);
		return;
	}
	if (errno == ECONNREFUSED) {
		probe_done(p, P_CLOSED);
		return;
	}
	if (errno != EINPROGRESS) {
		sc->last_error = errno;
		probe_done(p, P_ERROR);
		return;
	}
	p->ev = event_new(loop_base(sc->loop), p->fd, EV_WRITE, on_probe, p);
	struct timeval tv = loop_tv(sc->timeout_ms);
	if (p->ev == NULL || event_add(p->ev, &tv) < 0) {
		sc->last_error = ENOMEM;
		probe_done(p, P_ERROR);
	}
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scan_fill(arg);
}

/* UDP: may a probe start now? Else the pace timer comes back when one may.
 * A burst of a tenth of a second's worth, then one every 1/rate s. */
static bool paced(struct scan *sc)
{
	if (sc->o->socktype != SOCK_DGRAM || sc->o->rate == 0)
		return false;
	uint64_t now = now_us(), gap = 1000000 / sc->o->rate;
	uint64_t burst = gap * (sc->o->rate / 10 + 1);
	if (sc->next_us + burst < now)
		sc->next_us = now - burst;
	if (sc->next_us > now) {
		struct timeval tv = {0, (suseconds_t)(sc->next_us - now)};
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec = tv.tv_usec / 1000000;
			tv.tv_usec %= 1000000;
		}
		event_add(sc->pace, &tv);
		return true;
	}
	sc->next_us += gap;
	return false;
}

/* Keep `parallel` probes running until every port was tried. A probe that
 * ends at once calls back in here; the loop below only starts new ones. */
static void scan_fill(struct scan *sc)
{
	static bool filling;
	if (filling)
		return;
	filling = true;
	while (!sc->exhausted && sc->inflight < sc->parallel && !paced(sc)) {
		struct probe *p = NULL;
		for (unsigned i = 0; i < sc->parallel; i++)
			if (sc->probes[i].ev == NULL && sc->probes[i].fd < 0) {
				p = &sc->probes[i];
				break;
			}
		if (p == NULL)
			break;
		uint16_t port = sc->next;
		if (sc->next == sc->high)
			sc->exhausted = true;
		else
			sc->next++;
		probe_start(sc, p, port);
	}
	filling = false;
	if (sc->exhausted && sc->inflight == 0)
		loop_exit(sc->loop);
}

static int parse_range(const char *s, uint16_t *low, uint16_t *high)
{
	char buf[32];
	if (str_copy(buf, sizeof buf, s) < 0)
		return -1;
	char *hi = str_split(buf, '-');
	uint64_t a, b;
	if (str_to_u64(buf, 65535, &a) < 0 || a == 0)
		return -1;
	if (hi == NULL)
		b = a;
	else if (str_to_u64(hi, 65535, &b) < 0 || b == 0)
		return -1;
	*low = (uint16_t)a;
	*high = (uint16_t)b;
	return 0;
}

static void scan_report(struct scan *sc, const char *host, bool json, uint64_t ms)
{
	bool udp = sc->o->socktype == SOCK_DGRAM;
	unsigned counts[5] = {0};
	for (unsigned p = sc->low; p <= sc->high; p++)
		counts[sc->state[p - sc->low]]++;
	char addr[ENDPOINT_TEXT_MAX];
	endpoint_format_host((struct sockaddr *)&sc->target.ss, addr, sizeof addr);
	if (json) {
		struct sbuf out = SBUF_INIT(16 << 20);
		struct json j;
		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_str(&j, "proto", udp ? "udp" : "tcp");
		json_kv_str(&j, "host", host);
		json_kv_str(&j, "address", addr);
		json_kv_uint(&j, "low", sc->low);
		json_kv_uint(&j, "high", sc->high);
		json_key(&j, "open");
		json_arr_begin(&j);
		for (unsigned p = sc->low; p <= sc->high; p++)
			if (sc->state[p - sc->low] == P_OPEN)
				json_uint(&j, p);
		json_arr_end(&j);
		if (udp) {
			json_key(&j, "open_filtered");
			json_arr_begin(&j);
			for (unsigned p = sc->low; p <= sc->high; p++)
				if (sc->state[p - sc->low] == P_FILTERED)
					json_uint(&j, p);
			json_arr_end(&j);
		}
		json_kv_uint(&j, "closed", counts[P_CLOSED]);
		json_kv_uint(&j, udp ? "open_filtered_count" : "filtered", counts[P_FILTERED]);
		json_kv_uint(&j, "errors", counts[P_ERROR]);
		json_kv_uint(&j, "elapsed_ms", ms);
		json_obj_end(&j);
		printf("%s\n", sbuf_cstr(&out));
		sbuf_free(&out);
	} else {
		for (unsigned p = sc->low; p <= sc->high; p++)
			if (sc->state[p - sc->low] == P_OPEN || (udp && sc->state[p - sc->low] == P_FILTERED))
				printf("%u %s\n", p, sc->state[p - sc->low] == P_OPEN ? "open" : "open|filtered");
		fprintf(stderr, "scanned %u %sport%s of %s in %llu ms: %u open, %u closed, %u %s%s\n",
			sc->high - sc->low + 1u, udp ? "UDP " : "", sc->high == sc->low ? "" : "s", addr,
			(unsigned long long)ms, counts[P_OPEN], counts[P_CLOSED], counts[P_FILTERED],
			udp ? "open|filtered (no answer)" : "filtered",
			counts[P_ERROR] ? ", some errors" : "");
	}
	if (counts[P_ERROR] > 0)
		fprintf(stderr, "inetkit %s: %u probe%s failed: %s\n", sc->tool, counts[P_ERROR],
			counts[P_ERROR] == 1 ? "" : "s", strerror(sc->last_error));
}

int port_scan_run(const char *host, const char *range, const struct scan_opts *o)
{
	struct scan sc = {.o = o};
	const char *tool = o->socktype == SOCK_DGRAM ? "udp" : "tcp";
	sc.tool = tool;
	unsigned parallel = o->parallel;
	uint64_t timeout_ms = o->timeout_ms;
	bool json = o->json;
	if (parse_range(range, &sc.low, &sc.high) < 0)
		return cli_usage_error(tool, "%s '%s' is not a port range LOW-HIGH of ports 1 to 65535",
				       o->what, range);
	if (sc.low > sc.high)
		return cli_usage_error(tool, "%s '%s': the range must go from low to high", o->what,
				       range);
	ik_err e;
	size_t n = 0;
	if (endpoint_resolve_connect(host, 1, o->family, o->socktype, &sc.target, 1, &n, &e) < 0 ||
	    n == 0)
		return cli_error(tool, CLI_FAIL, "%s", n == 0 && e.msg[0] == '\0' ? "no address" : e.msg);
	unsigned nports = sc.high - sc.low + 1u;
	if (parallel > nports)
		parallel = nports;
	uint64_t limit = workers_raise_nofile(parallel + 64);
	if (limit < parallel + 16)
		parallel = limit > 32 ? (unsigned)(limit - 16) : 16;
	sc.parallel = parallel;
	sc.timeout_ms = timeout_ms;
	sc.next = sc.low;
	sc.state = calloc(nports, 1);
	sc.probes = calloc(parallel, sizeof *sc.probes);
	sc.loop = loop_new(&e);
	int rc = CLI_FAIL;
	if (sc.loop != NULL)
		sc.pace = evtimer_new(loop_base(sc.loop), on_pace, &sc);
	if (sc.state == NULL || sc.probes == NULL || sc.loop == NULL || sc.pace == NULL) {
		cli_error(tool, CLI_FAIL, "%s", sc.loop == NULL ? e.msg : "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < parallel; i++)
		sc.probes[i].fd = -1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	scan_fill(&sc);
	if (!(sc.exhausted && sc.inflight == 0))
		loop_run(sc.loop);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t ms = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
		      (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000000);
	scan_report(&sc, host, json, ms);
	/* Exit 0 when something may listen (UDP: open|filtered too). */
	rc = CLI_FAIL;
	for (unsigned p = 0; p < nports; p++)
		if (sc.state[p] == P_OPEN || (o->socktype == SOCK_DGRAM && sc.state[p] == P_FILTERED))
			rc = CLI_OK;
out:
	for (unsigned i = 0; sc.probes != NULL && i < parallel; i++) {
		if (sc.probes[i].ev != NULL)
			event_free(sc.probes[i].ev);
		if (sc.probes[i].fd >= 0)
			close(sc.probes[i].fd);
	}
	free(sc.probes);
	free(sc.state);
	if (sc.pace != NULL)
		event_free(sc.pace);
	if (sc.loop != NULL)
		loop_free(sc.loop);
	return rc;
}
