/* Listeners, the session registry, limits, stop and reload generations;
 * see core/server.h. RFC 2577 section 5 (per-address limits). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/server.h"
#include "core/service.h"
#include "core/shmcount.h"
#include "lib/str.h"
#include "net/endpoint.h"

_Static_assert(sizeof ((struct server_conn *)0)->key == SHMCOUNT_KEY_LEN,
	       "a session's key is the shared table's");

/* Passes of the loop server_free allows for the frees of the sessions it
 * closed (each runs from the loop, after its close). */
#define FREE_SPINS 8

struct server_gen {
	struct server *srv;
	void *arg;
	struct server_limits lim;
	struct server_conn *conns;
	size_t n;
	struct server_gen *older, *newer;
};

struct server_li {
	struct server *srv;
	size_t i;			/* the socket's index in the set */
	struct listener *li;
};

struct server {
	struct loop *loop;
	const struct listen_set *set;
	struct server_opts o;
	char refused_event[48];
	char log_fields[80];
	struct server_li li[LISTEN_MAX_SOCKETS];
	size_t nli;
	struct server_gen *cur;		/* newest; older ones hang off it */
	size_t nconns;			/* of every generation */
	uint64_t refused;
	bool stopping, paused;
	void (*done)(void *arg);
	void *done_arg;
	bool done_scheduled;
	unsigned busy;			/* iterating: no generation is freed */
	bool freeing, orphaned;
	/* Started by server_kind_start: what a reload makes its generation
	 * with, and the current generation's conf. */
	const struct server_kind *kind;
	const struct service_ctx *ctx;
	const void *bound;
	void *conf;
	/* The connection proto->accept is making, for server_conn_add. */
	bool accepting, pend_counted, pend_added;
	unsigned char pend_key[SHMCOUNT_KEY_LEN];
};

/* ---- generations ---- */

static struct server_gen *gen_new(struct server *srv, void *arg, const struct server_limits *lim)
{
	struct server_gen *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->srv = srv;
	g->arg = arg;
	if (lim != NULL)
		g->lim = *lim;
	return g;
}

static void gen_free(struct server_gen *g)
{
	struct server *srv = g->srv;
	if (g->newer != NULL)
		g->newer->older = g->older;
	if (g->older != NULL)
		g->older->newer = g->newer;
	if (srv->cur == g)
		srv->cur = g->older;
	if (srv->o.proto->gen_free != NULL)
		srv->o.proto->gen_free(g->arg);
	free(g);
}

/* Retired generations without sessions go, unless someone iterates. */
static void sweep(struct server *srv)
{
	if (srv->busy > 0 || srv->freeing || srv->cur == NULL)
		return;
	struct server_gen *g = srv->cur->older;
	while (g != NULL) {
		struct server_gen *older = g->older;
		if (g->n == 0)
			gen_free(g);
		g = older;
	}
}

/* ---- stop ---- */

static void run_done(void *arg)
{
	struct server *srv = arg;
	srv->done_scheduled = false;
	void (*done)(void *) = srv->done;
	srv->done = NULL;
	if (done != NULL)
		done(srv->done_arg);
}

static void check_done(struct server *srv)
{
	if (!srv->stopping || srv->nconns > 0 || srv->done == NULL || srv->done_scheduled ||
	    srv->freeing)
		return;
	if (loop_defer(srv->loop, run_done, srv) == 0)
		srv->done_scheduled = true;
}

static void close_listeners(struct server *srv)
{
	for (size_t k = 0; k < srv->nli; k++)
		listener_free(srv->li[k].li);
	srv->nli = 0;
}

/* Ask every session to stop (reason NULL) or close it; it may go at once. */
static void each_conn(struct server *srv, const char *reason)
{
	srv->busy++;
	for (struct server_conn *c = server_first(srv), *next; c != NULL; c = next) {
		next = server_next(c);
		if (reason == NULL)
			srv->o.proto->stop_conn(c->arg);
		else
			srv->o.proto->close_conn(c->arg, reason);
	}
	srv->busy--;
	sweep(srv);
}

void server_stop(struct server *srv, void (*done)(void *), void *arg)
{
	if (done != NULL) {
		srv->done = done;
		srv->done_arg = arg;
	}
	if (!srv->stopping) {
		srv->stopping = true;
		close_listeners(srv);
		each_conn(srv, NULL);
	}
	check_done(srv);
}

bool server_stopping(const struct server *srv) { return srv->stopping; }

void server_close_all(struct server *srv, const char *reason)
{
	each_conn(srv, reason != NULL ? reason : "server stopping");
}

void server_pause(struct server *srv)
{
	srv->paused = true;
	for (size_t k = 0; k < srv->nli; k++)
		listener_pause(srv->li[k].li);
}

void server_resume(struct server *srv)
{
	srv->paused = false;
	for (size_t k = 0; k < srv->nli; k++)
		listener_resume(srv->li[k].li);
}

/* ---- accepting ---- */

static void refuse(struct server *srv, int fd, const struct sockaddr *peer, size_t i,
		   enum server_refusal what)
{
	char reply[256] = "", why[160] = "";
	srv->o.proto->refusal(srv->o.arg, srv->cur->arg, what, i, reply, sizeof reply, why, sizeof why);
	srv->refused++;
	if (why[0] != '\0') {
		char text[ENDPOINT_TEXT_MAX], q[200];
		log_event(LOG_WARNING, srv->refused_event, "%speer=%s reason=%s", srv->log_fields,
			  endpoint_format(peer, text, sizeof text), log_quote(q, sizeof q, why));
	}
	/* The client has not spoken yet: one line fits the empty send buffer. */
	if (reply[0] != '\0') {
		ssize_t n = write(fd, reply, strlen(reply));
		(void)n;
	}
	close(fd);
}

static size_t count_peer(const struct server *srv, const unsigned char *key)
{
	size_t n = 0;
	for (const struct server_conn *c = server_first(srv); c != NULL; c = server_next(c))
		if (memcmp(c->key, key, SHMCOUNT_KEY_LEN) == 0)
			n++;
	return n;
}

/* Whether the limits let one more in; *counted: a shared count was taken. */
static bool admit(struct server *srv, const struct sockaddr *peer, const unsigned char *key,
		  bool *counted, enum server_refusal *why)
{
	const struct server_limits *lim = &srv->cur->lim;
	*counted = false;
	if (srv->o.shared != NULL) {
		switch (shmcount_acquire(srv->o.shared, peer, lim->max_total, lim->max_per_ip)) {
		case SHMCOUNT_OK:
			*counted = true;
			return true;
		case SHMCOUNT_TOTAL:
			*why = SERVER_REFUSE_TOTAL;
			return false;
		case SHMCOUNT_PER_IP:
			*why = SERVER_REFUSE_PER_IP;
			return false;
		case SHMCOUNT_TABLE_FULL:
		default:
			/* More distinct addresses than the table holds: refusing
			 * one more is safer than not counting it. */
			*why = SERVER_REFUSE_TABLE_FULL;
			return false;
		}
	}
	if (lim->max_total > 0 && srv->nconns >= lim->max_total) {
		*why = SERVER_REFUSE_TOTAL;
		return false;
	}
	if (lim->max_per_ip > 0 && count_peer(srv, key) >= lim->max_per_ip) {
		*why = SERVER_REFUSE_PER_IP;
		return false;
	}
	return true;
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
	struct server_li *sl = arg;
	struct server *srv = sl->srv;
	if (srv->stopping) {
		refuse(srv, fd, peer, sl->i, SERVER_REFUSE_STOPPING);
		return;
	}
	bool counted;
	enum server_refusal why;
	shmcount_key(peer, srv->pend_key);
	if (!admit(srv, peer, srv->pend_key, &counted, &why)) {
		refuse(srv, fd, peer, sl->i, why);
		return;
	}
	srv->accepting = true;
	srv->pend_counted = counted;
	srv->pend_added = false;
	srv->o.proto->accept(srv->o.arg, srv->cur->arg, fd, peer, len, sl->i);
	srv->accepting = false;
	if (counted && !srv->pend_added)
		shmcount_release_key(srv->o.shared, srv->pend_key);
}

/* ---- the registry ---- */

void server_conn_add(struct server *srv, struct server_conn *c, void *arg)
{
	struct server_gen *g = srv->cur;
	c->gen = g;
	c->arg = arg;
	c->prev = NULL;
	c->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = c;
	g->conns = c;
	g->n++;
	srv->nconns++;
	c->linked = true;
	c->counted = false;
	memset(c->key, 0, sizeof c->key);
	if (srv->accepting && !srv->pend_added) {
		srv->pend_added = true;
		memcpy(c->key, srv->pend_key, sizeof c->key);
		c->counted = srv->pend_counted;
	}
}

static void destroy(struct server *srv)
{
	while (srv->cur != NULL)
		gen_free(srv->cur);
	free(srv);
}

void server_conn_remove(struct server_conn *c)
{
	if (!c->linked)
		return;
	struct server_gen *g = c->gen;
	struct server *srv = g->srv;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->linked = false;
	g->n--;
	srv->nconns--;
	if (c->counted) {
		c->counted = false;
		shmcount_release_key(srv->o.shared, c->key);
	}
	if (srv->orphaned) {
		if (srv->nconns == 0)
			destroy(srv);
		return;
	}
	if (g != srv->cur && g->n == 0)
		sweep(srv);
	check_done(srv);
}

void *server_conn_gen(const struct server_conn *c) { return c->gen->arg; }

struct server_conn *server_first(const struct server *srv)
{
	for (struct server_gen *g = srv->cur; g != NULL; g = g->older)
		if (g->conns != NULL)
			return g->conns;
	return NULL;
}

struct server_conn *server_next(const struct server_conn *c)
{
	if (c->next != NULL)
		return c->next;
	for (struct server_gen *g = c->gen->older; g != NULL; g = g->older)
		if (g->conns != NULL)
			return g->conns;
	return NULL;
}

/* ---- life cycle ---- */

struct server *server_new(struct loop *l, const struct listen_set *set,
			  const struct server_opts *o, void *gen, const struct server_limits *lim,
			  ik_err *e)
{
	struct server *srv = calloc(1, sizeof *srv);
	if (srv == NULL || (srv->cur = gen_new(srv, gen, lim)) == NULL) {
		free(srv);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	srv->loop = l;
	srv->set = set;
	srv->o = *o;
	str_copy(srv->refused_event, sizeof srv->refused_event,
		 o->refused_event != NULL ? o->refused_event : "refused");
	str_copy(srv->log_fields, sizeof srv->log_fields, o->log_fields != NULL ? o->log_fields : "");
	srv->o.refused_event = srv->refused_event;
	srv->o.log_fields = srv->log_fields;
	/* In a restarted worker this clears its crashed predecessor's counts. */
	if (o->shared != NULL && shmcount_attach(o->shared, e) < 0)
		goto fail;
	for (size_t i = 0; i < set->n; i++) {
		if (set->socktype[i] != SOCK_STREAM)
			continue;
		struct server_li *sl = &srv->li[srv->nli];
		sl->srv = srv;
		sl->i = i;
		sl->li = listener_new(l, set, i, on_accept, sl, e);
		if (sl->li == NULL)
			goto fail;
		srv->nli++;
	}
	return srv;
fail:
	srv->cur->arg = NULL;	/* the caller's, on failure */
	close_listeners(srv);
	free(srv->cur);
	free(srv);
	return NULL;
}

int server_reload(struct server *srv, void *gen, const struct server_limits *lim, ik_err *e)
{
	if (srv->stopping)
		return ik_err_set(e, "the server is stopping; the new settings apply at its next "
				  "start");
	struct server_gen *g = gen_new(srv, gen, lim);
	if (g == NULL)
		return ik_err_set(e, "out of memory");
	struct server_gen *old = srv->cur;
	g->older = old;
	old->newer = g;
	srv->cur = g;
	sweep(srv);
	return 0;
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	close_listeners(srv);
	if (srv->nconns > 0)
		server_close_all(srv, "server stopping");
	/* No generation goes and no done() is scheduled from here on. */
	srv->freeing = true;
	/* The sessions' frees, and a done() already scheduled, run from the
	 * loop: let it run them. */
	for (int k = 0; k < FREE_SPINS && (srv->nconns > 0 || srv->done_scheduled); k++)
		event_base_loop(loop_base(srv->loop), EVLOOP_NONBLOCK);
	if (srv->nconns > 0 || srv->done_scheduled) {
		log_event(LOG_WARNING, "server_stop", "sessions=%zu reason=\"still open at exit\"",
			  srv->nconns);
		srv->orphaned = true;	/* the last one to go frees it */
		return;
	}
	destroy(srv);
}

struct server *server_kind_start(const struct server_kind *k, void *conf, struct loop *l,
				 const struct listen_set *set, const struct service_ctx *ctx,
				 ik_err *e)
{
	struct server_genargs a = {l, set, ctx, conf};
	void *gen = k->gen_new(conf, &a, e);
	if (gen == NULL)
		return NULL;
	struct server_opts o = {
		.proto = k->proto,
		.refused_event = k->refused_event,
		.shared = ctx != NULL ? ctx->shared : NULL,
	};
	struct server_limits lim = k->limits(conf);
	struct server *srv = server_new(l, set, &o, gen, &lim, e);
	if (srv == NULL) {
		k->proto->gen_free(gen);
		return NULL;
	}
	srv->kind = k;
	srv->ctx = ctx;
	srv->bound = conf;
	srv->conf = conf;
	k->gen_core(gen, srv);
	return srv;
}

int server_kind_reload(struct server *srv, void *conf, ik_err *e)
{
	const struct server_kind *k = srv->kind;
	const char *restart = srv->ctx != NULL ? srv->ctx->restart : k->restart;
	struct server_genargs a = {srv->loop, srv->set, srv->ctx, srv->bound};
	if (k->keep(conf, srv->conf, &a, restart, e) < 0)
		return -1;
	void *gen = k->gen_new(conf, &a, e);
	if (gen == NULL)
		return -1;
	k->gen_core(gen, srv);
	struct server_limits lim = k->limits(conf);
	if (server_reload(srv, gen, &lim, e) < 0) {
		k->proto->gen_free(gen);
		return -1;
	}
	srv->conf = conf;
	k->listen_check(srv->bound, conf, restart);
	return 0;
}

void server_service_stop(void *running, void (*done)(void *), void *arg)
{
	server_stop(running, done, arg);
}

int server_service_reload(void *running, void *new_conf, ik_err *e)
{
	return server_kind_reload(running, new_conf, e);
}

void server_service_free(void *running) { server_free(running); }

void *server_gen(const struct server *srv) { return srv->cur->arg; }

bool server_uses_gen(const struct server *srv, const void *gen)
{
	for (const struct server_gen *g = srv->cur; g != NULL; g = g->older)
		if (g->arg == gen)
			return true;
	return false;
}

size_t server_sessions(const struct server *srv) { return srv->nconns; }
uint64_t server_refused(const struct server *srv) { return srv->refused; }

/* ---- banner lines ---- */

bool server_endpoint_next(const struct listen_set *set, size_t *i, struct server_endpoint *ep)
{
	if (*i >= set->n)
		return false;
	const struct sockaddr *sa = (const struct sockaddr *)&set->ep[*i].ss;
	endpoint_format_host(sa, ep->host, sizeof ep->host);
	str_fmt(ep->url_host, sizeof ep->url_host, sa->sa_family == AF_INET6 ? "[%s]" : "%s",
		ep->host);
	ep->index = *i;
	ep->socktype = set->socktype[*i];
	ep->text = set->ep[*i].text;
	ep->port = endpoint_port(sa);
	return true;
}

void server_describe(const struct listen_set *set, void *conf,
		     void (*line)(void *conf, const struct server_endpoint *ep, struct sbuf *out),
		     struct sbuf *out)
{
	struct server_endpoint ep;
	for (size_t i = 0; server_endpoint_next(set, &i, &ep); i++)
		line(conf, &ep, out);
}
