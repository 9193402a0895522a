/* The queue runner (see smtp_relay.h for the design and the RFCs).
 *
 * A job is one queue entry being delivered: its recipients are split into
 * groups by destination (the relayhost; a transport target; the MX of a
 * domain), each group is one SMTP dialogue (smtp_client.c) after its DNS
 * lookups (core/dns.c), trying MX hosts in order and each host's addresses
 * in turn while connections fail. A dialogue that ends cleanly leaves its
 * connection open, idle, with its destination: the next group for that
 * destination sends RSET and its message on it instead of connecting,
 * looking up and greeting again (as Postfix's connection cache does); an
 * idle connection is closed after IDLE_MS, and open plus idle connections
 * together stay within relay_destination_concurrency. When every group
 * is done, the disk work
 * (reports into the queue, the entry rewritten or removed, all fsync'ed)
 * goes to the offload pool, off the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/dns.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "core/timeutil.h"
#include "core/tls.h"
#include "lib/str.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_dsn.h"
#include "smtp/smtp_int.h"
#include "smtp/smtp_relay.h"
#include "smtp/smtp_route.h"

#define TICK_MS 200
#define MAX_HOSTS 10
#define MAX_ADDRS 16
#define DSN_MESSAGE_MAX (10u * 1024 * 1024)
/* How long a connection waits for the next message to its destination:
 * long enough to bridge the gap between queue entries of one burst,
 * short enough not to hold a remote's connection slot (Postfix keeps its
 * cached connections 2 s by default). */
#define IDLE_MS 2000
/* Transactions on one connection before it is closed anyway, so that a
 * long-lived connection does not pin one remote host of several MX. */
#define REUSE_MAX 500

struct job;

struct group {
	struct job *job;
	size_t *idx;
	size_t n;
	char domain[SMTP_ROUTE_HOST_MAX];
	char hosts[MAX_HOSTS][SMTP_ROUTE_HOST_MAX];
	size_t nhosts, hi;
	uint16_t port;
	bool tls_required, auth;
	struct sockaddr_storage addrs[MAX_ADDRS];
	size_t naddrs, ai;
	int lookups;
	struct dns_query *q[2];
	struct smtp_client *client;
	int fail_code;
	bool fail_temp;
	char fail_text[400];
	char remote[160];
	bool done;
	struct dest *dest;		/* holding one of its slots */
	struct group *wait_next;	/* waiting for a slot of a busy destination */
};

/* An open connection between two messages to its destination. */
struct idle_conn {
	struct smtp_client *client;
	uint64_t since_ms;		/* loop time it became idle */
	struct idle_conn *next;
};

/* A destination (the relayhost, a transport domain, an MX domain) and the
 * dialogues it has open: at most relay_destination_concurrency, the
 * others wait in order (RFC 5321 4.5.4.1 asks a client not to flood one
 * server). */
struct dest {
	char key[SMTP_ROUTE_HOST_MAX];
	unsigned active;		/* dialogues under way (each holds a slot) */
	struct idle_conn *idle;		/* open, waiting: each holds a slot too */
	struct group *wait_head, *wait_tail;
	struct dest *next;
};

struct job {
	struct smtp_relay *r;
	struct job *next;
	struct smtp_envelope env;
	int msg_fd;
	int *code;		/* per recipient */
	char (*text)[400];
	char (*remote)[160];
	unsigned *tx;		/* per recipient: transaction number on its connection */
	bool *bdat;		/* per recipient: the body went as BDAT chunks */
	struct group *groups;
	size_t ngroups, pending;
	bool cancelled;
	bool unsynced;		/* removed or rewritten, the directory not fsync'ed yet */
	struct job *fin_next;	/* in the finishing batch */
};

struct smtp_relay {
	struct smtp_server *srv;
	const struct smtp_conf *conf;
	struct loop *loop;
	struct dns *dns;
	SSL_CTX *tls_may, *tls_verify;
	struct event *tick;
	int lockfd;
	bool locked;
	char lock_path[ACCOUNT_PATH_MAX + 32];
	char wake_path[ACCOUNT_PATH_MAX + 32];
	char queue_path[ACCOUNT_PATH_MAX + 16];
	struct timespec dir_mtime;
	int64_t next_due;	/* earliest next attempt seen; 0: none */
	bool rescan;
	struct job *jobs;
	size_t njobs;
	char **todo;		/* ids of the last scan not started yet, in order */
	size_t ntodo, todo_next;
	struct smtp_hostport relayhost;
	struct dest *dests;
	/* Jobs whose dialogues are over, waiting for the disk work: one batch
	 * at a time goes to the offload pool, so that the removals of all the
	 * jobs that ended meanwhile share one fsync of the queue directory
	 * (group commit) instead of one each. */
	struct job *fin_head, *fin_tail;
	bool fin_busy;
};

static int64_t now_s(void) { return (int64_t)time(NULL); }

static size_t rnd(void *arg, size_t n)
{
	(void)arg;
	uint32_t v = 0;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
		v = (uint32_t)random();
	return n ? v % n : 0;
}

static void job_group_done(struct group *g);
static void on_tick(evutil_socket_t fd, short what, void *arg);
static void start_more(struct smtp_relay *r);
static void group_next_host(struct group *g);
static void group_try_addr(struct group *g);
static void group_route(struct group *g);
static void on_client(void *arg, const struct smtp_client_result *res);

/* Whether a transport entry routes domain (before the relayhost). */
static bool has_transport(const struct smtp_relay *r, const char *domain)
{
	for (size_t t = 0; t < r->conf->ntransport; t++)
		if (str_eq_nocase(r->conf->transport[2 * t], domain))
			return true;
	return false;
}

static void dest_free(struct smtp_relay *r, struct dest *d)
{
	for (struct dest **pp = &r->dests; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			free(d);
			return;
		}
}

/* Close connections idle for IDLE_MS (from the tick), or all (stop). */
static void idle_sweep(struct smtp_relay *r, bool all)
{
	uint64_t now = time_mono_coarse_ms();
	struct dest **dp = &r->dests;
	while (*dp) {
		struct dest *d = *dp;
		for (struct idle_conn **pp = &d->idle; *pp;) {
			struct idle_conn *ic = *pp;
			if (all || now - ic->since_ms >= IDLE_MS) {
				*pp = ic->next;
				if (all)
					smtp_client_abort(ic->client);
				else
					smtp_client_quit(ic->client);
				free(ic);
			} else {
				pp = &ic->next;
			}
		}
		if (d->active == 0 && d->idle == NULL && d->wait_head == NULL) {
			*dp = d->next;
			free(d);
		} else {
			dp = &d->next;
		}
	}
}

/* ---- one destination ---- */

static void group_fail(struct group *g, int code, bool temp, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void group_fail(struct group *g, int code, bool temp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->fail_text, sizeof g->fail_text, fmt, ap);
	va_end(ap);
	g->fail_code = code;
	g->fail_temp = temp;
}

static void group_finish(struct group *g)
{
	struct job *j = g->job;
	for (size_t k = 0; k < g->n; k++) {
		size_t i = g->idx[k];
		if (j->code[i] == 0) {
			j->code[i] = g->fail_code ? g->fail_code : 451;
			str_copy(j->text[i], sizeof j->text[i], g->fail_text);
			str_copy(j->remote[i], sizeof j->remote[i], g->remote);
		}
	}
	g->done = true;
	struct dest *d = g->dest;
	g->dest = NULL;
	if (d != NULL) {
		d->active--;
		struct group *w = d->wait_head;
		if (w != NULL) {
			d->wait_head = w->wait_next;
			if (d->wait_head == NULL)
				d->wait_tail = NULL;
			d->active++;
			w->dest = d;
			group_route(w);	/* d may be gone after this: not touched */
		} else if (d->active == 0 && d->idle == NULL) {
			dest_free(j->r, d);
		}
	}
	job_group_done(g);
}

/* A connection whose transaction ended cleanly waits with its
 * destination for the next message there (see the top of the file). */
static void park(struct group *g, struct smtp_client *cl, const struct smtp_client_result *res)
{
	struct dest *d = g->dest;
	struct idle_conn *ic = NULL;
	if (d == NULL || res->transactions >= REUSE_MAX || (ic = calloc(1, sizeof *ic)) == NULL) {
		smtp_client_quit(cl);
		return;
	}
	ic->client = cl;
	ic->since_ms = time_mono_coarse_ms();
	ic->next = d->idle;
	d->idle = ic;
}

/* An idle connection of the group's destination, if one is still open:
 * RSET and this message on it. */
static bool group_reuse(struct group *g)
{
	struct job *j = g->job;
	struct dest *d = g->dest;
	while (d != NULL && d->idle != NULL) {
		struct idle_conn *ic = d->idle;
		d->idle = ic->next;
		struct smtp_client *cl = ic->client;
		free(ic);
		ik_err e;
		if (smtp_client_next(cl, &j->env, g->idx, g->n, j->msg_fd, on_client, g, &e) == 0) {
			g->client = cl;
			return true;
		}
		smtp_client_quit(cl);
	}
	return false;
}

static void on_client(void *arg, const struct smtp_client_result *res)
{
	struct group *g = arg;
	struct job *j = g->job;
	struct smtp_client *cl = g->client;
	g->client = NULL;
	if (res->stale) {
		/* A reused connection had gone: nothing was sent; anew. */
		group_route(g);
		return;
	}
	str_copy(g->remote, sizeof g->remote, res->remote);
	if (!res->connected && res->code != 0 && (res->temp || res->code < 500)) {
		/* Not even a greeting: the next address, then the next MX. */
		group_fail(g, res->code, true, "%s", res->text);
		group_try_addr(g);
		return;
	}
	for (size_t k = 0; k < g->n; k++) {
		size_t i = g->idx[k];
		j->code[i] = res->rcpt[k].code ? res->rcpt[k].code : (res->code ? res->code : 451);
		str_copy(j->text[i], sizeof j->text[i],
			 res->rcpt[k].code ? res->rcpt[k].text : res->text);
		str_copy(j->remote[i], sizeof j->remote[i], res->remote);
		j->tx[i] = res->transactions;
		j->bdat[i] = res->chunking;
	}
	if (res->reusable)
		park(g, cl, res);
	group_finish(g);
}

static void group_try_addr(struct group *g)
{
	struct job *j = g->job;
	struct smtp_relay *r = j->r;
	while (g->ai < g->naddrs) {
		struct sockaddr_storage *ss = &g->addrs[g->ai++];
		const char *host = g->hosts[g->hi - 1];
		struct smtp_client_opts o = {
			.helo = r->conf->hostname,
			.tls = g->tls_required ? SMTP_TLS_REQUIRED : SMTP_TLS_MAY,
			.tls_may = r->tls_may,
			.tls_verify = r->tls_verify,
			.auth_user = g->auth ? r->conf->relay_user : NULL,
			.auth_pass = g->auth ? r->conf->relay_pass : NULL,
			.connect_ms = r->conf->relay_connect_ms,
			/* RFC 5321 4.5.3.2: 5 minutes for replies, 10 after
			 * the message, by default */
			.reply_ms = r->conf->relay_reply_ms,
			.data_ms = 2 * r->conf->relay_reply_ms,
			.keep_open = true,
		};
		ik_err e;
		socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in);
		g->client = smtp_client_start(r->loop, (struct sockaddr *)ss, len, host, &o,
					      &j->env, g->idx, g->n, j->msg_fd, on_client, g, &e);
		if (g->client)
			return;
		group_fail(g, 451, true, "4.3.0 %s", e.msg);
	}
	group_next_host(g);
}

static void add_addr(struct group *g, int family, const void *a)
{
	if (g->naddrs == MAX_ADDRS)
		return;
	struct sockaddr_storage *ss = &g->addrs[g->naddrs++];
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(g->port);
		memcpy(&s4->sin_addr, a, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(g->port);
		memcpy(&s6->sin6_addr, a, 16);
	}
}

static void on_addr(void *arg, const struct dns_result *res)
{
	struct group *g = arg;
	g->q[res->type == DNS_AAAA ? 1 : 0] = NULL;
	if (res->status == DNS_OK) {
		for (size_t i = 0; i < res->n; i++)
			add_addr(g, res->type == DNS_A ? AF_INET : AF_INET6,
				 res->type == DNS_A ? (const void *)&res->a[i]
						    : (const void *)&res->aaaa[i]);
	} else if (g->fail_code == 0 || res->status == DNS_TEMPFAIL) {
		group_fail(g, 451, true, "4.4.4 %s: %s lookup: %s", g->hosts[g->hi - 1],
			   dns_type_name(res->type), res->msg);
	}
	if (--g->lookups > 0)
		return;
	if (g->naddrs == 0) {
		group_next_host(g);
		return;
	}
	group_try_addr(g);
}

static void group_next_host(struct group *g)
{
	struct smtp_relay *r = g->job->r;
	if (g->hi >= g->nhosts) {
		group_finish(g);
		return;
	}
	const char *host = g->hosts[g->hi++];
	g->naddrs = 0;
	g->ai = 0;
	unsigned char a[16];
	if (inet_pton(AF_INET, host, a) == 1) {
		add_addr(g, AF_INET, a);
		group_try_addr(g);
		return;
	}
	if (inet_pton(AF_INET6, host, a) == 1) {
		add_addr(g, AF_INET6, a);
		group_try_addr(g);
		return;
	}
	ik_err e;
	g->lookups = 2;
	/* IPv6 first (RFC 6724 would usually prefer it), then IPv4. */
	g->q[1] = dns_lookup(r->dns, host, DNS_AAAA, on_addr, g, &e);
	if (!g->q[1])
		g->lookups--;
	g->q[0] = dns_lookup(r->dns, host, DNS_A, on_addr, g, &e);
	if (!g->q[0])
		g->lookups--;
	if (g->lookups == 0) {
		group_fail(g, 550, false, "5.1.2 %s", e.msg);
		group_next_host(g);
	}
}

static void on_mx(void *arg, const struct dns_result *res)
{
	struct group *g = arg;
	g->q[0] = NULL;
	switch (res->status) {
	case DNS_OK: {
		struct dns_mx *mx = malloc(res->n * sizeof *mx);
		if (!mx) {
			group_fail(g, 451, true, "4.3.0 out of memory");
			group_finish(g);
			return;
		}
		memcpy(mx, res->mx, res->n * sizeof *mx);
		if (smtp_route_mx_order(mx, res->n, rnd, NULL) == 1) {
			free(mx);
			group_fail(g, 556, false, "5.1.10 %s does not accept mail (null MX, "
				   "RFC 7505)", g->domain);
			group_finish(g);
			return;
		}
		for (size_t i = 0; i < res->n && g->nhosts < MAX_HOSTS; i++)
			if (mx[i].host[0] != '\0')
				str_copy(g->hosts[g->nhosts++], SMTP_ROUTE_HOST_MAX, mx[i].host);
		free(mx);
		break;
	}
	case DNS_NODATA:
		/* RFC 5321 5.1: no MX, the domain itself as an implicit MX 0. */
		str_copy(g->hosts[g->nhosts++], SMTP_ROUTE_HOST_MAX, g->domain);
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		group_fail(g, 550, false, "5.1.2 %s: no such domain", g->domain);
		group_finish(g);
		return;
	default:
		group_fail(g, 451, true, "4.4.3 %s: MX lookup failed: %s", g->domain, res->msg);
		group_finish(g);
		return;
	}
	g->port = 25;
	group_next_host(g);
}

static void group_route(struct group *g)
{
	struct smtp_relay *r = g->job->r;
	const struct smtp_conf *c = r->conf;
	if (group_reuse(g))
		return;
	for (size_t t = 0; t < c->ntransport; t++) {
		if (str_eq_nocase(c->transport[2 * t], g->domain)) {
			struct smtp_hostport hp;
			if (smtp_route_hostport(c->transport[2 * t + 1], &hp, NULL) == 0) {
				str_copy(g->hosts[0], SMTP_ROUTE_HOST_MAX, hp.host);
				g->nhosts = 1;
				g->port = hp.port;
				group_next_host(g);
				return;
			}
		}
	}
	if (c->relayhost[0] != '\0') {
		str_copy(g->hosts[0], SMTP_ROUTE_HOST_MAX, r->relayhost.host);
		g->nhosts = 1;
		g->port = r->relayhost.port;
		g->tls_required = true;
		g->auth = c->relay_user[0] != '\0';
		group_next_host(g);
		return;
	}
	ik_err e;
	g->q[0] = dns_lookup(r->dns, g->domain, DNS_MX, on_mx, g, &e);
	if (!g->q[0]) {
		group_fail(g, 550, false, "5.1.2 %s", e.msg);
		group_finish(g);
	}
}

static void group_start(struct group *g)
{
	struct smtp_relay *r = g->job->r;
	char key[SMTP_ROUTE_HOST_MAX];
	/* The key names the route, as group_route takes it: a connection
	 * kept for one destination is only ever reused for the same one. */
	if (r->conf->relayhost[0] != '\0' && !has_transport(r, g->domain))
		str_copy(key, sizeof key, "[relayhost]");
	else
		str_copy(key, sizeof key, g->domain);
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	struct dest *d = r->dests;
	while (d != NULL && strcmp(d->key, key) != 0)
		d = d->next;
	if (d == NULL && (d = calloc(1, sizeof *d)) != NULL) {
		str_copy(d->key, sizeof d->key, key);
		d->next = r->dests;
		r->dests = d;
	}
	if (d == NULL) {		/* out of memory: no limit rather than no mail */
		group_route(g);
		return;
	}
	if (d->idle == NULL && d->active >= r->conf->relay_destination_concurrency) {
		g->wait_next = NULL;
		if (d->wait_tail)
			d->wait_tail->wait_next = g;
		else
			d->wait_head = g;
		d->wait_tail = g;
		return;
	}
	d->active++;
	g->dest = d;
	group_route(g);
}

/* ---- local delivery (reports to our own users; never over the wire) ---- */

static int deliver_local(struct smtp_relay *r, const char *data, size_t len, const char *addr,
			 ik_err *e)
{
	char name[ACCOUNT_NAME_MAX + 1];
	const char *at = strrchr(addr, '@');
	size_t l = at ? (size_t)(at - addr) : strlen(addr);
	if (l == 0 || l >= sizeof name)
		return ik_err_set(e, "5.1.1 <%s>: no such local mailbox", addr);
	for (size_t i = 0; i < l; i++)
		name[i] = (char)(addr[i] >= 'A' && addr[i] <= 'Z' ? addr[i] + 32 : addr[i]);
	name[l] = '\0';
	if (account_name_check(name, NULL) < 0)
		return ik_err_set(e, "5.1.1 <%s>: no such local mailbox", addr);
	struct mail_spool *sp = mail_spool_new(r->srv->store, e);
	if (!sp)
		return -1;
	bool over = false;
	int rc = -1;
	if (mail_spool_put(sp, data, len, e) == 0 && mail_spool_sync(sp, e) == 0 &&
	    mailstore_deliver(r->srv->store, sp, name, 0, &over, e) == 0)
		rc = 0;
	mail_spool_free(sp);
	return rc;
}

static bool local_addr(const struct smtp_relay *r, const char *addr)
{
	char dom[SMTP_ROUTE_HOST_MAX];
	str_copy(dom, sizeof dom, smtp_route_domain(addr));
	for (char *p = dom; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return smtp_conf_local_domain(r->conf, dom);
}

/* ---- the end of a job: reports, then the entry (offload thread) ---- */

static void report(struct job *j, struct smtp_dsn_rcpt *dr, size_t n, int64_t now)
{
	struct smtp_relay *r = j->r;
	ik_err e;
	struct sbuf msg;
	sbuf_init(&msg, DSN_MESSAGE_MAX);
	char *orig = NULL;
	size_t olen = 0;
	struct stat st;
	if (fstat(j->msg_fd, &st) == 0 && st.st_size > 0) {
		olen = (size_t)st.st_size > DSN_MESSAGE_MAX / 2 ? DSN_MESSAGE_MAX / 2
								 : (size_t)st.st_size;
		orig = malloc(olen);
		ssize_t got = orig ? pread(j->msg_fd, orig, olen, 0) : -1;
		olen = got > 0 ? (size_t)got : 0;
	}
	char boundary[64];
	str_fmt(boundary, sizeof boundary, "%lld.%zu/%s", (long long)now, rnd(NULL, 1000000),
		r->conf->hostname);
	struct smtp_dsn d = {
		.hostname = r->conf->hostname, .env = &j->env, .rcpt = dr, .n = n, .now = now,
		.retry_until = j->env.arrival + (int64_t)(r->conf->max_queue_lifetime_ms / 1000),
		.message = orig, .message_len = olen, .boundary = boundary,
	};
	if (smtp_dsn_build(&d, &msg, &e) < 0) {
		log_event(LOG_ERR, "smtp_dsn", "id=%s error=\"%s\"", j->env.id, e.msg);
		goto out;
	}
	if (local_addr(r, j->env.from)) {
		if (deliver_local(r, msg.data, msg.len, j->env.from, &e) < 0)
			log_event(LOG_ERR, "smtp_dsn", "id=%s to=%s error=\"%s\"", j->env.id,
				  j->env.from, e.msg);
		else
			log_event(LOG_INFO, "smtp_dsn", "id=%s to=%s delivered=local", j->env.id,
				  j->env.from);
		goto out;
	}
	struct mail_spool *sp = mail_spool_new(r->srv->store, &e);
	if (!sp) {
		log_event(LOG_ERR, "smtp_dsn", "id=%s error=\"%s\"", j->env.id, e.msg);
		goto out;
	}
	struct smtp_env_rcpt to = {.addr = j->env.from, .notify = SMTP_NOTIFY_NEVER};
	struct smtp_envelope benv = {
		.from = (char *)"", .rcpt = &to, .nrcpt = 1, .client = (char *)"local",
		.helo = (char *)r->conf->hostname, .arrival = now,
	};
	if (mail_spool_put(sp, msg.data, msg.len, &e) < 0 || mail_spool_sync(sp, &e) < 0) {
		mail_spool_free(sp);
		log_event(LOG_ERR, "smtp_dsn", "id=%s error=\"%s\"", j->env.id, e.msg);
		goto out;
	}
	benv.size = mail_spool_size(sp);
	if (smtp_queue_add(r->srv->queue, r->srv->store, sp, &benv, &e) < 0)
		log_event(LOG_ERR, "smtp_dsn", "id=%s error=\"%s\"", j->env.id, e.msg);
	else
		log_event(LOG_INFO, "smtp_dsn", "id=%s report=%s to=%s", j->env.id, benv.id,
			  j->env.from);
	mail_spool_free(sp);
out:
	free(orig);
	sbuf_free(&msg);
}

static void job_finish_work(void *arg)
{
	struct job *j = arg;
	struct smtp_relay *r = j->r;
	const struct smtp_conf *c = r->conf;
	int64_t now = now_s();
	size_t n = j->env.nrcpt;
	bool expired = now - j->env.arrival >= (int64_t)(c->max_queue_lifetime_ms / 1000);
	bool warn_due = !j->env.warned && c->delay_warning_ms > 0 &&
			now - j->env.arrival >= (int64_t)(c->delay_warning_ms / 1000);
	struct smtp_dsn_rcpt *dr = calloc(n ? n : 1, sizeof *dr);
	bool *keep = calloc(n ? n : 1, sizeof *keep);
	size_t nd = 0, nkeep = 0;
	bool warned = false;
	const char *last_error = NULL;
	for (size_t i = 0; i < n && dr && keep; i++) {
		int code = j->code[i];
		const struct smtp_env_rcpt *rc = &j->env.rcpt[i];
		enum smtp_dsn_action a;
		bool report_it;
		if (code >= 200 && code < 300) {
			a = SMTP_DSN_DELIVERED;
		} else if (code >= 500 || expired) {
			a = SMTP_DSN_FAILED;
		} else {
			a = SMTP_DSN_DELAYED;
			keep[i] = true;
			nkeep++;
			last_error = j->text[i];
		}
		log_event(a == SMTP_DSN_DELIVERED ? LOG_INFO : LOG_NOTICE, "smtp_relay",
			  "id=%s to=%s status=%s code=%d remote=\"%s\" conn_use=%u body=%s "
			  "reply=\"%.200s\"", j->env.id, rc->addr,
			  a == SMTP_DSN_DELIVERED ? "sent" : a == SMTP_DSN_FAILED ? "bounced"
			  : "deferred", code, j->remote[i], j->tx[i], j->bdat[i] ? "bdat" : "data",
			  j->text[i]);
		if (a != SMTP_DSN_DELIVERED)
			metrics_add("smtp", a == SMTP_DSN_FAILED ? METRIC_MESSAGES_BOUNCED
							 : METRIC_MESSAGES_DEFERRED, 1);
		report_it = smtp_dsn_wanted(&j->env, rc, a) && (a != SMTP_DSN_DELAYED || warn_due);
		if (a == SMTP_DSN_DELAYED && warn_due)
			warned = true;
		if (!report_it)
			continue;
		struct smtp_dsn_rcpt *d = &dr[nd++];
		d->rcpt = rc;
		d->action = a;
		if (a == SMTP_DSN_FAILED && expired && code < 500)
			str_copy(d->status, sizeof d->status, "4.4.7");
		else
			smtp_route_status(code, j->text[i], d->status, sizeof d->status);
		if (a == SMTP_DSN_FAILED && d->status[0] == '4' && !expired)
			d->status[0] = '5';
		d->diag = j->text[i];
		d->remote = j->remote[i][0] ? j->remote[i] : NULL;
	}
	if (nd > 0)
		report(j, dr, nd, now);
	ik_err e;
	struct smtp_envelope cur = {0};
	str_copy(cur.id, sizeof cur.id, j->env.id);
	if (nkeep == 0 && dr && keep) {
		/* Done with: removed, unless `queue delete` was first (no need
		 * to read the envelope again to know); durable with the batch's
		 * fsync (fin_work). */
		if (smtp_queue_delete_nosync(r->srv->queue, j->env.id, &e) == 0)
			j->unsynced = true;
		else if (errno != ENOENT)
			log_event(LOG_ERR, "smtp_relay", "id=%s error=\"%s\"", j->env.id, e.msg);
	} else if (smtp_queue_read(r->srv->queue, j->env.id, &cur, &e) < 0) {
		/* deleted while it was being delivered: it stays deleted */
	} else if (dr && keep) {
		struct smtp_envelope up = j->env;
		struct smtp_env_rcpt *left = calloc(nkeep, sizeof *left);
		if (left) {
			size_t k = 0;
			for (size_t i = 0; i < n; i++)
				if (keep[i])
					left[k++] = j->env.rcpt[i];
			up.rcpt = left;
			up.nrcpt = nkeep;
			up.attempts = j->env.attempts + 1;
			up.next_attempt = now + (int64_t)(smtp_route_backoff(up.attempts,
						c->queue_retry_ms, c->queue_retry_max_ms) / 1000);
			up.warned = j->env.warned || warned;
			up.hold = cur.hold;	/* `queue hold` during the attempt */
			char err[420];
			str_copy(err, sizeof err, last_error ? last_error : "");
			up.last_error = err[0] ? err : NULL;
			if (smtp_queue_update_nosync(r->srv->queue, &up, &e) < 0)
				log_event(LOG_ERR, "smtp_relay", "id=%s error=\"%s\"", j->env.id,
					  e.msg);
			else
				j->unsynced = true;
			free(left);
		}
	}
	smtp_envelope_clear(&cur);
	free(dr);
	free(keep);
}

static void job_free(struct job *j)
{
	for (size_t g = 0; g < j->ngroups; g++)
		free(j->groups[g].idx);
	free(j->groups);
	free(j->code);
	free(j->text);
	free(j->remote);
	free(j->tx);
	free(j->bdat);
	if (j->msg_fd >= 0)
		close(j->msg_fd);
	smtp_envelope_clear(&j->env);
	free(j);
}

static void job_unlink(struct job *j)
{
	struct smtp_relay *r = j->r;
	for (struct job **pp = &r->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			r->njobs--;
			break;
		}
}

static void job_finish_done(void *arg, enum offload_status st)
{
	struct job *j = arg;
	struct smtp_relay *r = j->r;
	if (st == OFFLOAD_CANCELLED)
		log_event(LOG_NOTICE, "smtp_relay", "id=%s stopped=\"before its results were "
			  "recorded; it will be tried again\"", j->env.id);
	job_unlink(j);
	job_free(j);
	start_more(r);
	/* The scan's list is used up and half the slots are free: look for
	 * what arrived meanwhile now rather than at the next tick. */
	if (r->todo_next >= r->ntodo && r->njobs * 2 <= r->conf->relay_concurrency)
		on_tick(-1, 0, r);
}

/* Offload thread: the disk work of a batch of jobs, then one fsync of
 * the queue directory for all their removals and envelope rewrites. */
static void fin_work(void *arg)
{
	struct job *head = arg;
	bool sync = false;
	for (struct job *j = head; j; j = j->fin_next) {
		job_finish_work(j);
		sync = sync || j->unsynced;
	}
	ik_err e;
	if (sync && smtp_queue_sync(head->r->srv->queue, &e) < 0)
		log_event(LOG_ERR, "smtp_relay", "error=\"%s\"", e.msg);
}

static void fin_submit(struct smtp_relay *r);

static void fin_done(void *arg, enum offload_status st)
{
	struct job *j = arg;
	struct smtp_relay *r = j->r;
	while (j) {
		struct job *next = j->fin_next;
		job_finish_done(j, st);
		j = next;
	}
	r->fin_busy = false;
	if (r->fin_head)
		fin_submit(r);
}

static void fin_submit(struct smtp_relay *r)
{
	struct job *head = r->fin_head;
	r->fin_head = r->fin_tail = NULL;
	r->fin_busy = true;
	ik_err e;
	if (offload_submit(r->srv->pool, fin_work, fin_done, head, &e) < 0) {
		/* pool full: do it here rather than lose the results */
		fin_work(head);
		fin_done(head, OFFLOAD_DONE);
	}
}

static void job_group_done(struct group *g)
{
	struct job *j = g->job;
	if (--j->pending > 0)
		return;
	struct smtp_relay *r = j->r;
	j->fin_next = NULL;
	if (r->fin_tail)
		r->fin_tail->fin_next = j;
	else
		r->fin_head = j;
	r->fin_tail = j;
	if (!r->fin_busy)
		fin_submit(r);
}

/* ---- starting a job ---- */

/* The recipients of a message share a group per route: one per transport
 * domain, one for everything the relayhost takes, one per other domain. */
static bool same_route(const struct smtp_relay *r, const char *a, const char *b)
{
	if (str_eq_nocase(a, b))
		return true;
	return r->conf->relayhost[0] != '\0' && !has_transport(r, a) && !has_transport(r, b);
}

static struct group *group_for(struct job *j, const char *domain)
{
	for (size_t g = 0; g < j->ngroups; g++)
		if (same_route(j->r, j->groups[g].domain, domain))
			return &j->groups[g];
	struct group *g = &j->groups[j->ngroups++];
	memset(g, 0, sizeof *g);
	g->job = j;
	str_copy(g->domain, sizeof g->domain, domain);
	g->idx = calloc(j->env.nrcpt, sizeof *g->idx);
	return g->idx ? g : NULL;
}

static void job_start(struct smtp_relay *r, const char *id)
{
	struct job *j = calloc(1, sizeof *j);
	ik_err e;
	if (!j)
		return;
	j->r = r;
	j->msg_fd = -1;
	str_copy(j->env.id, sizeof j->env.id, id);
	if (smtp_queue_read(r->srv->queue, id, &j->env, &e) < 0 || j->env.hold) {
		job_free(j);
		return;
	}
	if (j->env.next_attempt > now_s()) {
		if (r->next_due == 0 || j->env.next_attempt < r->next_due)
			r->next_due = j->env.next_attempt;
		job_free(j);
		return;
	}
	size_t n = j->env.nrcpt;
	j->msg_fd = smtp_queue_open_msg(r->srv->queue, id, &e);
	j->code = calloc(n, sizeof *j->code);
	j->text = calloc(n, sizeof *j->text);
	j->remote = calloc(n, sizeof *j->remote);
	j->tx = calloc(n, sizeof *j->tx);
	j->bdat = calloc(n, sizeof *j->bdat);
	j->groups = calloc(n, sizeof *j->groups);
	if (j->msg_fd < 0 || !j->code || !j->text || !j->remote || !j->tx || !j->bdat ||
	    !j->groups) {
		log_event(LOG_ERR, "smtp_relay", "id=%s error=\"%s\"", id,
			  j->msg_fd < 0 ? e.msg : "out of memory");
		job_free(j);
		return;
	}
	j->next = r->jobs;
	r->jobs = j;
	r->njobs++;
	/* Local recipients first, here: they never leave the machine. */
	char *data = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *addr = j->env.rcpt[i].addr;
		if (!local_addr(r, addr))
			continue;
		if (!data) {
			data = malloc(j->env.size + 1);
			ssize_t got = data ? pread(j->msg_fd, data, j->env.size, 0) : -1;
			if (got != (ssize_t)j->env.size) {
				j->code[i] = 451;
				str_copy(j->text[i], sizeof j->text[i], "4.3.0 cannot read the message");
				continue;
			}
		}
		if (deliver_local(r, data, j->env.size, addr, &e) < 0) {
			j->code[i] = e.msg[0] == '5' ? 550 : 451;
			str_copy(j->text[i], sizeof j->text[i], e.msg);
		} else {
			j->code[i] = 250;
			str_copy(j->text[i], sizeof j->text[i], "2.0.0 delivered to a local mailbox");
		}
	}
	free(data);
	for (size_t i = 0; i < n; i++) {
		if (j->code[i] != 0)
			continue;
		const char *dom = smtp_route_domain(j->env.rcpt[i].addr);
		struct group *g = group_for(j, dom);
		if (!g) {
			j->code[i] = 451;
			str_copy(j->text[i], sizeof j->text[i], "4.3.0 out of memory");
			continue;
		}
		g->idx[g->n++] = i;
	}
	j->pending = j->ngroups + 1;	/* +1: held until every group started */
	for (size_t g = 0; g < j->ngroups; g++)
		group_start(&j->groups[g]);
	struct group none = {.job = j};
	job_group_done(&none);
}

/* ---- the tick ---- */

static bool try_lock(struct smtp_relay *r)
{
	if (r->locked)
		return true;
	if (r->lockfd < 0)
		r->lockfd = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lockfd < 0)
		return false;
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0)
		return false;
	r->locked = true;
	r->rescan = true;
	log_event(LOG_INFO, "smtp_relay", "runner=started pid=%d", (int)getpid());
	return true;
}

static void todo_clear(struct smtp_relay *r)
{
	smtp_queue_ids_free(r->todo, r->ntodo);
	r->todo = NULL;
	r->ntodo = r->todo_next = 0;
}

/* Start entries of the last scan, oldest first, while there is room: when
 * a delivery ends the next begins at once, without a rescan. */
static void start_more(struct smtp_relay *r)
{
	while (r->todo_next < r->ntodo && r->njobs < r->conf->relay_concurrency) {
		const char *id = r->todo[r->todo_next++];
		bool busy = false;
		for (struct job *j = r->jobs; j && !busy; j = j->next)
			busy = strcmp(j->env.id, id) == 0;
		if (!busy)
			job_start(r, id);
	}
}

static void scan(struct smtp_relay *r)
{
	ik_err e;
	todo_clear(r);
	if (smtp_queue_ids_by_name(r->srv->queue, &r->todo, &r->ntodo, &e) < 0) {
		log_event(LOG_ERR, "smtp_relay", "error=\"%s\"", e.msg);
		r->todo = NULL;
		r->ntodo = 0;
		return;
	}
	r->next_due = 0;
	start_more(r);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_relay *r = arg;
	if (!try_lock(r))
		return;
	idle_sweep(r, false);
	struct stat st;
	if (unlink(r->wake_path) == 0)
		r->rescan = true;
	if (stat(r->queue_path, &st) == 0 &&
	    (st.st_mtim.tv_sec != r->dir_mtime.tv_sec || st.st_mtim.tv_nsec != r->dir_mtime.tv_nsec)) {
		r->dir_mtime = st.st_mtim;
		r->rescan = true;
	}
	if (r->next_due != 0 && now_s() >= r->next_due)
		r->rescan = true;
	if (r->rescan && r->njobs < r->conf->relay_concurrency &&
	    r->todo_next >= r->ntodo) {
		r->rescan = false;
		scan(r);
	} else {
		start_more(r);
	}
}

int smtp_relay_wake_file(const char *state_dir, ik_err *e)
{
	char path[ACCOUNT_PATH_MAX + 32];
	if (str_fmt(path, sizeof path, "%s/queue/.wake", state_dir) < 0)
		return ik_err_set(e, "state_dir path too long");
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot create %s", path);
	close(fd);
	return 0;
}

struct smtp_relay *smtp_relay_start(struct smtp_server *srv, ik_err *e)
{
	struct smtp_relay *r = calloc(1, sizeof *r);
	if (!r)
		return ik_err_set(e, "out of memory"), NULL;
	r->srv = srv;
	r->conf = srv->conf;
	r->loop = srv->loop;
	r->lockfd = -1;
	const char *sd = r->conf->state_dir;
	if (str_fmt(r->lock_path, sizeof r->lock_path, "%s/queue/.relay.lock", sd) < 0 ||
	    str_fmt(r->wake_path, sizeof r->wake_path, "%s/queue/.wake", sd) < 0 ||
	    str_fmt(r->queue_path, sizeof r->queue_path, "%s/queue", sd) < 0) {
		free(r);
		return ik_err_set(e, "state_dir path too long"), NULL;
	}
	if (r->conf->relayhost[0] != '\0' &&
	    smtp_route_hostport(r->conf->relayhost, &r->relayhost, e) < 0) {
		free(r);
		return NULL;
	}
	struct dns_opts o;
	dns_opts_default(&o);
	o.servers = r->conf->dns_servers[0] ? r->conf->dns_servers : NULL;
	struct tls_client_opts may = {.insecure = true}, verify = {0};
	r->dns = dns_new(r->loop, &o, e);
	if (!r->dns || !(r->tls_may = tls_client_ctx(&may, e)) ||
	    !(r->tls_verify = tls_client_ctx(&verify, e)) ||
	    !(r->tick = loop_timer(r->loop, TICK_MS, true, on_tick, r))) {
		smtp_relay_stop(r);
		return NULL;
	}
	return r;
}

void smtp_relay_stop(struct smtp_relay *r)
{
	if (!r)
		return;
	if (r->tick)
		event_free(r->tick);
	/* In-flight dialogues are cut; their entries are left as they were. */
	while (r->jobs) {
		struct job *j = r->jobs;
		r->jobs = j->next;
		for (size_t g = 0; g < j->ngroups; g++) {
			smtp_client_abort(j->groups[g].client);
			dns_cancel(j->groups[g].q[0]);
			dns_cancel(j->groups[g].q[1]);
		}
		job_free(j);
	}
	todo_clear(r);
	idle_sweep(r, true);
	while (r->dests) {
		struct dest *d = r->dests;
		r->dests = d->next;
		free(d);
	}
	dns_free(r->dns);
	if (r->tls_may)
		SSL_CTX_free(r->tls_may);
	if (r->tls_verify)
		SSL_CTX_free(r->tls_verify);
	if (r->lockfd >= 0)
		close(r->lockfd);
	free(r);
}
