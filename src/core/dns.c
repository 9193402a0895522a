/* Asynchronous DNS on the event loop, over c-ares (see dns.h for why).
 * RFC 1035 (messages, rcodes), RFC 2308 (NXDOMAIN vs NODATA), RFC 5321
 * section 5 and RFC 7505 (MX and null MX), RFC 7208 3.3 (TXT strings
 * joined). c-ares tells its sockets' wants through a state callback: each
 * becomes a persistent libevent event, and one timer follows
 * ares_timeout() so that retries and time-outs happen without a thread. */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns.h"
#include "net/endpoint.h"

struct dns_sock {
	ares_socket_t fd;
	struct event *ev;
	struct dns_sock *next;
};

struct dns {
	struct loop *loop;
	ares_channel ch;
	struct dns_sock *socks;
	struct event *timer;
	struct dns_query *queries;	/* live ones, for dns_free */
	bool closing;
};

struct dns_query {
	struct dns *d;
	enum dns_type type;
	dns_cb cb;			/* NULL once cancelled */
	void *arg;
	bool ares_pending;		/* c-ares still holds a pointer to us */
	bool submitting;		/* inside dns_lookup: do not call back yet */
	struct event *ev;		/* a deferred delivery */
	struct dns_result res;
	struct dns_query *prev, *next;
};

const char *dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_A: return "A";
	case DNS_AAAA: return "AAAA";
	case DNS_MX: return "MX";
	case DNS_TXT: return "TXT";
	}
	return "?";
}

const char *dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_BADNAME: return "badname";
	case DNS_CANCELLED: return "cancelled";
	}
	return "?";
}

void dns_opts_default(struct dns_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = DNS_TIMEOUT_DEFAULT;
	o->tries = DNS_TRIES_DEFAULT;
}

void dns_result_free(struct dns_result *r)
{
	if (r->txt) {
		for (size_t i = 0; i < r->n; i++)
			free(r->txt[i].data);
	}
	free(r->mx);
	free(r->a);
	free(r->aaaa);
	free(r->txt);
	r->mx = NULL;
	r->a = NULL;
	r->aaaa = NULL;
	r->txt = NULL;
	r->n = 0;
}

static void result_fail(struct dns_result *r, enum dns_status s, const char *msg)
{
	dns_result_free(r);
	r->status = s;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/* A name c-ares returns, as text without the final dot; false when it
 * does not fit (a hostile answer). */
static bool copy_name(char *dst, const char *src)
{
	size_t n = strlen(src);
	if (n > 0 && src[n - 1] == '.')
		n--;
	if (n >= DNS_NAME_MAX)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

static void parse_mx(const unsigned char *abuf, int alen, struct dns_result *r)
{
	struct ares_mx_reply *head = NULL;
	int st = ares_parse_mx_reply(abuf, alen, &head);
	if (st == ARES_ENODATA) {
		result_fail(r, DNS_NODATA, "no MX records");
		return;
	}
	if (st != ARES_SUCCESS) {
		result_fail(r, DNS_TEMPFAIL, "malformed MX answer");
		return;
	}
	size_t n = 0;
	for (struct ares_mx_reply *p = head; p; p = p->next)
		n++;
	r->mx = calloc(n ? n : 1, sizeof(*r->mx));
	if (!r->mx) {
		ares_free_data(head);
		result_fail(r, DNS_TEMPFAIL, "out of memory");
		return;
	}
	for (struct ares_mx_reply *p = head; p; p = p->next) {
		struct dns_mx m = { .pref = p->priority };
		/* c-ares writes a byte that cannot be in a host name (a dot or
		 * a control inside a label) escaped with a backslash: such an
		 * exchange can never be connected to, so it is left out. */
		if (!p->host || strchr(p->host, '\\') || !copy_name(m.host, p->host))
			continue;
		/* Insertion keeps equal preferences in answer order: the
		 * shuffle among them is the router's. */
		size_t i = r->n;
		while (i > 0 && r->mx[i - 1].pref > m.pref) {
			r->mx[i] = r->mx[i - 1];
			i--;
		}
		r->mx[i] = m;
		r->n++;
	}
	ares_free_data(head);
	if (r->n == 0)
		result_fail(r, DNS_TEMPFAIL, "no usable MX host name in the answer");
}

static void parse_addr(const unsigned char *abuf, int alen, bool v6, struct dns_result *r)
{
	struct hostent *h = NULL;
	int st = v6 ? ares_parse_aaaa_reply(abuf, alen, &h, NULL, NULL)
		    : ares_parse_a_reply(abuf, alen, &h, NULL, NULL);
	if (st == ARES_ENODATA) {
		result_fail(r, DNS_NODATA, v6 ? "no AAAA records" : "no A records");
		return;
	}
	if (st != ARES_SUCCESS || !h) {
		if (h)
			ares_free_hostent(h);
		result_fail(r, DNS_TEMPFAIL, v6 ? "malformed AAAA answer" : "malformed A answer");
		return;
	}
	size_t want = v6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
	size_t n = 0;
	if (h->h_length == (int)want) {
		while (h->h_addr_list && h->h_addr_list[n])
			n++;
	}
	void *arr = calloc(n ? n : 1, want);
	if (!arr) {
		ares_free_hostent(h);
		result_fail(r, DNS_TEMPFAIL, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		memcpy((char *)arr + i * want, h->h_addr_list[i], want);
	ares_free_hostent(h);
	if (v6)
		r->aaaa = arr;
	else
		r->a = arr;
	r->n = n;
	if (n == 0)
		result_fail(r, DNS_NODATA, v6 ? "no AAAA records" : "no A records");
}

static void parse_txt(const unsigned char *abuf, int alen, struct dns_result *r)
{
	struct ares_txt_ext *head = NULL;
	int st = ares_parse_txt_reply_ext(abuf, alen, &head);
	if (st == ARES_ENODATA) {
		result_fail(r, DNS_NODATA, "no TXT records");
		return;
	}
	if (st != ARES_SUCCESS) {
		result_fail(r, DNS_TEMPFAIL, "malformed TXT answer");
		return;
	}
	size_t n = 0;
	for (struct ares_txt_ext *p = head; p; p = p->next)
		if (p->record_start || n == 0)
			n++;
	r->txt = calloc(n ? n : 1, sizeof(*r->txt));
	if (!r->txt)
		goto oom;
	/* Two passes per record would need the list twice; growing each
	 * record's buffer as its strings come is simpler and bounded by the
	 * packet's size. */
	size_t cur = 0;
	bool first = true;
	for (struct ares_txt_ext *p = head; p; p = p->next) {
		if (!first && p->record_start)
			cur++;
		if (first)
			r->n = 1;
		else if (p->record_start)
			r->n = cur + 1;
		first = false;
		struct dns_txt *t = &r->txt[cur];
		size_t add = p->length;
		if (add > SIZE_MAX - t->len - 1)
			goto oom;
		char *nd = realloc(t->data, t->len + add + 1);
		if (!nd)
			goto oom;
		t->data = nd;
		if (add)
			memcpy(t->data + t->len, p->txt, add);
		t->len += add;
		t->data[t->len] = '\0';
	}
	ares_free_data(head);
	if (r->n == 0)
		result_fail(r, DNS_NODATA, "no TXT records");
	return;
oom:
	ares_free_data(head);
	result_fail(r, DNS_TEMPFAIL, "out of memory");
}

void dns_result_from_answer(enum dns_type type, const unsigned char *abuf, size_t alen,
			    struct dns_result *r)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->status = DNS_OK;
	if (alen > 65535 || !abuf) {
		result_fail(r, DNS_TEMPFAIL, "answer too long");
		return;
	}
	switch (type) {
	case DNS_MX:
		parse_mx(abuf, (int)alen, r);
		break;
	case DNS_A:
		parse_addr(abuf, (int)alen, false, r);
		break;
	case DNS_AAAA:
		parse_addr(abuf, (int)alen, true, r);
		break;
	case DNS_TXT:
		parse_txt(abuf, (int)alen, r);
		break;
	}
}

/* ---- the loop side ---- */

static void dns_rearm(struct dns *d)
{
	struct timeval tv;
	struct timeval *t = ares_timeout(d->ch, NULL, &tv);
	if (t)
		evtimer_add(d->timer, t);
	else
		evtimer_del(d->timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;
	ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	if (!d->closing)
		dns_rearm(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns *d = arg;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	if (!d->closing)
		dns_rearm(d);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock **pp = &d->socks;
	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	struct dns_sock *s = *pp;
	if (!readable && !writable) {
		if (s) {
			*pp = s->next;
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return;	/* c-ares times the query out: a temporary failure */
		s->fd = fd;
		s->next = d->socks;
		d->socks = s;
	} else {
		event_free(s->ev);
		s->ev = NULL;
	}
	short what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	s->ev = event_new(loop_base(d->loop), fd, what, on_sock, d);
	if (s->ev)
		event_add(s->ev, NULL);
}

struct dns *dns_new(struct loop *l, const struct dns_opts *o, ik_err *e)
{
	static bool lib_ready;
	if (!lib_ready) {
		int st = ares_library_init(ARES_LIB_INIT_ALL);
		if (st != ARES_SUCCESS)
			return ik_err_set(e, "dns: %s", ares_strerror(st)), NULL;
		lib_ready = true;
	}
	struct dns_opts def;
	if (!o) {
		dns_opts_default(&def);
		o = &def;
	}
	struct dns *d = calloc(1, sizeof(*d));
	if (!d)
		return ik_err_set(e, "dns: out of memory"), NULL;
	d->loop = l;
	d->timer = evtimer_new(loop_base(l), on_timer, d);
	if (!d->timer) {
		free(d);
		return ik_err_set(e, "dns: out of memory"), NULL;
	}
	struct ares_options ao;
	memset(&ao, 0, sizeof(ao));
	ao.sock_state_cb = sock_state;
	ao.sock_state_cb_data = d;
	uint64_t tmo = o->timeout_ms ? o->timeout_ms : DNS_TIMEOUT_DEFAULT;
	ao.timeout = tmo > 600000 ? 600000 : (int)tmo;
	ao.tries = (int)(o->tries ? (o->tries > 10 ? 10 : o->tries) : DNS_TRIES_DEFAULT);
	/* Only DNS: a mail host in /etc/hosts must not shadow the MX. */
	ao.lookups = (char *)"b";
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		   ARES_OPT_LOOKUPS;
	int st = ares_init_options(&d->ch, &ao, mask);
	if (st != ARES_SUCCESS) {
		event_free(d->timer);
		free(d);
		return ik_err_set(e, "dns: cannot start the resolver: %s", ares_strerror(st)),
		       NULL;
	}
	if (o->servers && *o->servers && dns_set_servers(d, o->servers, e) < 0) {
		dns_free(d);
		return NULL;
	}
	return d;
}

static void query_unlink(struct dns_query *q)
{
	struct dns *d = q->d;
	if (q->prev)
		q->prev->next = q->next;
	else if (d->queries == q)
		d->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void query_finish(struct dns_query *q)
{
	dns_cb cb = q->cb;
	q->cb = NULL;
	if (q->ev) {
		event_free(q->ev);
		q->ev = NULL;
	}
	query_unlink(q);
	if (cb)
		cb(q->arg, &q->res);
	dns_result_free(&q->res);
	free(q);
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	d->closing = true;
	/* c-ares calls every outstanding query back with ARES_EDESTRUCTION. */
	ares_destroy(d->ch);
	while (d->queries) {
		struct dns_query *q = d->queries;
		if (q->cb)
			result_fail(&q->res, DNS_CANCELLED, "resolver closed");
		query_finish(q);
	}
	while (d->socks) {
		struct dns_sock *s = d->socks;
		d->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	free(d);
}

/* One server of a list: "IP", "IP:PORT", "[V6]", "[V6]:PORT". */
static int server_parse(const char *tok, struct ares_addr_port_node *n, ik_err *e)
{
	char host[64];
	uint16_t port = 53;
	const char *colon = strchr(tok, ':');
	bool bare_v6 = colon && strchr(colon + 1, ':') && tok[0] != '[';
	if (tok[0] == '[' && !strstr(tok, "]:")) {
		size_t len = strlen(tok);
		if (len < 3 || tok[len - 1] != ']' || len - 2 >= sizeof(host))
			return ik_err_set(e, "dns server '%s': expected [IPV6]:PORT", tok);
		memcpy(host, tok + 1, len - 2);
		host[len - 2] = '\0';
	} else if (!colon || bare_v6) {
		if (strlen(tok) >= sizeof(host))
			return ik_err_set(e, "dns server '%s': not an IP address", tok);
		snprintf(host, sizeof(host), "%s", tok);
	} else if (endpoint_split(tok, host, sizeof(host), &port, e) < 0) {
		return ik_err_prefix(e, "dns server '%s'", tok);
	}
	if (port == 0)
		return ik_err_set(e, "dns server '%s': port 0", tok);
	memset(n, 0, sizeof(*n));
	n->udp_port = port;
	n->tcp_port = port;
	if (inet_pton(AF_INET, host, &n->addr.addr4) == 1) {
		n->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &n->addr.addr6) == 1) {
		n->family = AF_INET6;
	} else {
		return ik_err_set(e, "dns server '%s': '%s' is not an IP address (names cannot "
				  "be used for the servers that resolve names)", tok, host);
	}
	return 0;
}

#define DNS_SERVERS_MAX 8

static int servers_parse(const char *list, struct ares_addr_port_node *nodes, size_t *count,
			 ik_err *e)
{
	size_t n = 0;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		char tok[80];
		size_t len = (size_t)(p - start);
		if (len >= sizeof(tok))
			return ik_err_set(e, "dns server '%.*s' is too long", (int)len, start);
		memcpy(tok, start, len);
		tok[len] = '\0';
		if (n == DNS_SERVERS_MAX)
			return ik_err_set(e, "dns servers: at most %d", DNS_SERVERS_MAX);
		if (server_parse(tok, &nodes[n], e) < 0)
			return -1;
		n++;
	}
	if (n == 0)
		return ik_err_set(e, "dns servers: the list is empty (write HOST:PORT ...)");
	for (size_t i = 0; i < n; i++)
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	*count = n;
	return 0;
}

int dns_servers_check(const char *list, ik_err *e)
{
	struct ares_addr_port_node nodes[DNS_SERVERS_MAX];
	size_t n;
	return servers_parse(list, nodes, &n, e);
}

int dns_set_servers(struct dns *d, const char *list, ik_err *e)
{
	struct ares_addr_port_node nodes[DNS_SERVERS_MAX];
	size_t n;
	if (servers_parse(list, nodes, &n, e) < 0)
		return -1;
	int st = ares_set_servers_ports(d->ch, nodes);
	if (st != ARES_SUCCESS)
		return ik_err_set(e, "dns servers: %s", ares_strerror(st));
	return 0;
}

static void deliver_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	query_finish(arg);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_query *q = arg;
	q->ares_pending = false;
	struct dns_result *r = &q->res;
	switch (status) {
	case ARES_SUCCESS:
		dns_result_from_answer(q->type, abuf, alen > 0 ? (size_t)alen : 0, r);
		break;
	case ARES_ENOTFOUND:
		result_fail(r, DNS_NXDOMAIN, "no such domain (NXDOMAIN)");
		break;
	case ARES_ENODATA:
		result_fail(r, DNS_NODATA, "no records of that type");
		break;
	case ARES_EBADNAME:
		result_fail(r, DNS_BADNAME, "not a valid domain name");
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		result_fail(r, DNS_CANCELLED, "resolver closed");
		break;
	case ARES_ETIMEOUT:
		result_fail(r, DNS_TEMPFAIL, "no answer from the DNS servers (timeout)");
		break;
	case ARES_ESERVFAIL:
		result_fail(r, DNS_TEMPFAIL, "DNS server failure (SERVFAIL)");
		break;
	case ARES_EREFUSED:
		result_fail(r, DNS_TEMPFAIL, "DNS server refused the query (REFUSED)");
		break;
	case ARES_ECONNREFUSED:
		/* c-ares moves on from a server that answers SERVFAIL or
		 * REFUSED, and reports this when none is left. */
		result_fail(r, DNS_TEMPFAIL,
			    "no DNS server gave an answer (SERVFAIL, REFUSED or unreachable)");
		break;
	default:
		result_fail(r, DNS_TEMPFAIL, ares_strerror(status));
		break;
	}
	r->type = q->type;
	if (!q->submitting && !q->d->closing) {
		query_finish(q);
		return;
	}
	if (q->d->closing)
		return;	/* dns_free finishes it */
	/* Answered from inside dns_lookup (c-ares fails some queries at
	 * once): the caller must get its handle before the callback runs. */
	q->ev = evtimer_new(loop_base(q->d->loop), deliver_deferred, q);
	if (!q->ev) {
		/* Out of memory: the handle is dropped rather than leaked. */
		q->cb = NULL;
		query_finish(q);
		return;
	}
	struct timeval zero = { 0, 0 };
	evtimer_add(q->ev, &zero);
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c <= ' ' || c == 0x7f)
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

struct dns_query *dns_lookup(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
			     void *arg, ik_err *e)
{
	if (d->closing)
		return ik_err_set(e, "dns: the resolver is closing"), NULL;
	char qname[DNS_NAME_MAX];
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (!name_ok(name, len))
		return ik_err_set(e, "dns: '%.80s' is not a valid domain name", name), NULL;
	memcpy(qname, name, len);
	qname[len] = '\0';
	struct dns_query *q = calloc(1, sizeof(*q));
	if (!q)
		return ik_err_set(e, "dns: out of memory"), NULL;
	q->d = d;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->ares_pending = true;
	q->submitting = true;
	q->next = d->queries;
	if (d->queries)
		d->queries->prev = q;
	d->queries = q;
	int t = type == DNS_A ? 1 : type == DNS_AAAA ? 28 : type == DNS_MX ? 15 : 16;
	ares_query(d->ch, qname, 1 /* IN */, t, on_answer, q);
	q->submitting = false;
	dns_rearm(d);
	return q;
}

void dns_cancel(struct dns_query *q)
{
	if (!q)
		return;
	q->cb = NULL;
	if (q->ares_pending)
		return;	/* on_answer frees it when c-ares lets go */
	query_finish(q);
}
