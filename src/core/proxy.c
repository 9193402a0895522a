/* Reading the PROXY protocol header of a balancer's connection on the
 * loop (HAProxy's "The PROXY protocol, versions 1 & 2", section 2: the
 * receiver reads the header before anything else, from trusted senders
 * only, and gives up on an invalid one); see core/proxy.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/proxy.h"
#include "core/proxy_hdr.h"
#include "lib/str.h"
#include "net/endpoint.h"

#define PROXY_TIMEOUT_DEFAULT_MS 5000

int proxy_configure(struct cfg *c, const char *sec, struct listen_proxy **out, ik_err *e)
{
	*out = NULL;
	bool on;
	const char *items[CFG_MAX_LIST];
	size_t n = 0;
	uint64_t ms;
	if (cfg_get_bool(c, sec, "proxy_protocol", "Every connection starts with a PROXY protocol "
			 "header (v1 or v2) from a balancer in proxy_trusted", false, &on, e) < 0 ||
	    cfg_get_list(c, sec, "proxy_trusted", "The balancers' addresses (CIDR list) that may "
			 "send a PROXY header; others are refused", NULL, items, &n, e) < 0 ||
	    cfg_get_duration(c, sec, "proxy_timeout", "How long a PROXY header may take to "
			     "arrive (at most 1m)", PROXY_TIMEOUT_DEFAULT_MS, &ms, e) < 0)
		return -1;
	if (ms == 0 || ms > 60000)
		return cfg_error(c, sec, "proxy_timeout", e, "give a duration from 1ms to 1m");
	if (!on)
		return 0;
	if (n == 0)
		return cfg_error(c, sec, "proxy_trusted", e, "proxy_protocol is on: list the "
				 "balancers' addresses (e.g. 10.0.0.5 or 10.0.0.0/24)");
	struct listen_proxy *p = calloc(1, sizeof *p);
	if (p == NULL)
		return ik_err_set(e, "out of memory");
	str_copy(p->name, sizeof p->name, sec);
	p->timeout_ms = ms;
	if ((p->trusted = acl_new(sec, e)) == NULL) {
		free(p);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ik_err ae;
		if (acl_add(p->trusted, ACL_ALLOW, items[i], &ae) < 0) {
			cfg_error(c, sec, "proxy_trusted", e, "%s", ae.msg);
			proxy_free(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

void proxy_free(struct listen_proxy *p)
{
	if (p == NULL)
		return;
	acl_free(p->trusted);
	free(p);
}

bool proxy_trusted(const struct listen_proxy *p, const struct sockaddr *peer)
{
	return (peer->sa_family == AF_INET || peer->sa_family == AF_INET6) &&
	       acl_check(p->trusted, peer) == ACL_PASS;
}

/* ---- reading the header ---- */

struct wait {
	struct proxy_waits *w;
	struct wait *prev, *next;
	const struct listen_proxy *p;
	int fd;
	struct event *rd, *timer;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t len;
	unsigned char buf[PROXY_HDR_MAX];
};

struct proxy_waits {
	struct loop *loop;
	proxy_done_cb done;
	void *arg;
	struct wait *list;
};

struct proxy_waits *proxy_waits_new(struct loop *l, proxy_done_cb done, void *arg)
{
	struct proxy_waits *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->loop = l;
	w->done = done;
	w->arg = arg;
	return w;
}

/* Unlink and free one; its fd is closed unless given away (keep_fd). */
static void wait_end(struct wait *x, bool keep_fd)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		x->w->list = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	if (x->rd != NULL)
		event_free(x->rd);
	if (x->timer != NULL)
		event_free(x->timer);
	if (!keep_fd)
		close(x->fd);
	free(x);
}

static void wait_fail(struct wait *x, const char *why)
{
	char text[ENDPOINT_TEXT_MAX], q[160];
	log_event(LOG_WARNING, "proxy_refused", "service=%s proxy=%s reason=%s", x->p->name,
		  endpoint_format((struct sockaddr *)&x->peer, text, sizeof text),
		  log_quote(q, sizeof q, why));
	wait_end(x, false);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wait_fail(arg, "no complete PROXY header in time");
}

static void finish(struct wait *x, const struct proxy_hdr *h)
{
	struct proxy_waits *w = x->w;
	int fd = x->fd;
	struct sockaddr_storage client;
	socklen_t len;
	if (h->local) {
		client = x->peer;
		len = x->peerlen;
	} else {
		client = h->src;
		len = h->srclen;
	}
	char ptext[ENDPOINT_TEXT_MAX], ctext[ENDPOINT_TEXT_MAX];
	log_event(LOG_DEBUG, "proxy", "service=%s proxy=%s client=%s version=%d%s", x->p->name,
		  endpoint_format((struct sockaddr *)&x->peer, ptext, sizeof ptext),
		  endpoint_format((struct sockaddr *)&client, ctext, sizeof ctext), h->version,
		  h->local ? " local=yes" : "");
	wait_end(x, true);
	w->done(fd, (struct sockaddr *)&client, len, w->arg);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct wait *x = arg;
	/* Peek: what follows the header stays in the socket for the
	 * session. Bytes of an incomplete header are all the header's. */
	ssize_t n = recv((int)fd, x->buf + x->len, sizeof x->buf - x->len, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		wait_fail(x, n == 0 ? "closed before the PROXY header" : strerror(errno));
		return;
	}
	struct proxy_hdr h;
	size_t used;
	char why[128];
	enum proxy_hdr_result r = proxy_hdr_parse(x->buf, x->len + (size_t)n, &h, &used, why,
						  sizeof why);
	if (r == PROXY_HDR_BAD) {
		wait_fail(x, why);
		return;
	}
	size_t take = r == PROXY_HDR_DONE ? used - x->len : (size_t)n;
	ssize_t got = recv((int)fd, x->buf + x->len, take, 0);
	if (got < 0 || (size_t)got != take) {
		wait_fail(x, "the PROXY header could not be read");
		return;
	}
	x->len += take;
	if (r == PROXY_HDR_DONE)
		finish(x, &h);
}

void proxy_wait(struct proxy_waits *w, const struct listen_proxy *p, int fd,
		const struct sockaddr *peer, socklen_t len)
{
	struct wait *x = calloc(1, sizeof *x);
	if (x == NULL) {
		close(fd);
		return;
	}
	x->w = w;
	x->p = p;
	x->fd = fd;
	if (len > sizeof x->peer)
		len = sizeof x->peer;
	memcpy(&x->peer, peer, len);
	x->peerlen = len;
	x->next = w->list;
	if (w->list != NULL)
		w->list->prev = x;
	w->list = x;
	struct event_base *base = loop_base(w->loop);
	x->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_read, x);
	x->timer = evtimer_new(base, on_timeout, x);
	struct timeval tv = loop_tv(p->timeout_ms);
	if (x->rd == NULL || x->timer == NULL || event_add(x->rd, NULL) < 0 ||
	    event_add(x->timer, &tv) < 0) {
		wait_fail(x, "out of memory");
		return;
	}
}

void proxy_waits_free(struct proxy_waits *w)
{
	if (w == NULL)
		return;
	while (w->list != NULL)
		wait_end(w->list, false);
	free(w);
}
