/* The FTP server's listeners and its session limits. RFC 959 section 5.4
 * (421 "service not available, closing control connection" is the reply
 * for a refused connection) and RFC 2577 section 5 (limit connections per
 * address against denial of service). With ftpd_share_limits (what
 * serve and `inetkit ftpd` do) the counts live in shared memory
 * (core/shmcount.h), so the limits hold across all worker processes;
 * without it each process counts its own sessions. A reload starts a new
 * generation of the server on the same sockets; older generations keep
 * their sessions (and the settings those started with) and count towards
 * the limits until their last session ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>

#include "core/log.h"
#include "core/shmcount.h"
#include "core/str.h"
#include "ftp/ftpd_int.h"
#include "net/endpoint.h"

/* Write a refusal on a connection we will not serve, then close it. The
 * client has not spoken yet, so the line fits the empty send buffer. */
static void refuse(struct ftpd_server *srv, int fd, const struct sockaddr *peer, bool implicit,
		   const char *why, const char *reply)
{
	char text[ENDPOINT_TEXT_MAX], q[160];
	srv->refused++;
	log_event(LOG_WARNING, "ftp_refused", "peer=%s reason=%s",
		  endpoint_format(peer, text, sizeof text), log_quote(q, sizeof q, why));
	/* Implicit FTPS would need a handshake before any reply: just close. */
	if (!implicit) {
		ssize_t n = write(fd, reply, strlen(reply));
		(void)n;
	}
	close(fd);
}

/* Limits count the sessions of every generation: a reload must not let
 * in more than max_sessions at once. */
static size_t count_all(const struct ftpd_server *srv)
{
	size_t n = 0;
	for (const struct ftpd_server *g = srv; g != NULL; g = g->older)
		n += g->nsess;
	return n;
}

static size_t count_peer(const struct ftpd_server *srv, const struct sockaddr *peer)
{
	size_t n = 0;
	for (const struct ftpd_server *g = srv; g != NULL; g = g->older)
		for (const struct ftpd_sess *fs = g->sessions; fs != NULL; fs = fs->next)
			if (endpoint_same_host(session_peer_addr(fs->s, NULL), peer))
				n++;
	return n;
}

static void refuse_total(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
			 bool implicit)
{
	const struct ftpd_conf *c = srv->conf;
	char reply[160], why[120];
	str_fmt(why, sizeof why, "max_sessions %llu reached", (unsigned long long)c->max_sessions);
	str_fmt(reply, sizeof reply, "421 Too many users: the server is full (%llu "
		"sessions); try again later.\r\n", (unsigned long long)c->max_sessions);
	refuse(srv, fd, peer, implicit, why, reply);
}

static void refuse_per_ip(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
			  bool implicit, const char *why)
{
	const struct ftpd_conf *c = srv->conf;
	char reply[160], whybuf[120];
	if (why == NULL) {
		str_fmt(whybuf, sizeof whybuf, "max_per_ip %llu reached",
			(unsigned long long)c->max_per_ip);
		why = whybuf;
	}
	str_fmt(reply, sizeof reply, "421 Too many connections from your address (limit "
		"%llu); close some and try again.\r\n", (unsigned long long)c->max_per_ip);
	refuse(srv, fd, peer, implicit, why, reply);
}

/* Counted in shared memory: the limits of every worker together. */
static void accept_shared(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
			  socklen_t len, bool implicit)
{
	const struct ftpd_conf *c = srv->conf;
	switch (shmcount_acquire(srv->counts, peer, c->max_sessions, c->max_per_ip)) {
	case SHMCOUNT_OK:
		if (!ftpd_sess_accept(srv, fd, peer, len, implicit))
			shmcount_release(srv->counts, peer);
		return;
	case SHMCOUNT_TOTAL:
		refuse_total(srv, fd, peer, implicit);
		return;
	case SHMCOUNT_PER_IP:
		refuse_per_ip(srv, fd, peer, implicit, NULL);
		return;
	case SHMCOUNT_TABLE_FULL:
	default:
		/* More distinct addresses than the table holds: refusing one
		 * more is safer than not counting it. */
		refuse_per_ip(srv, fd, peer, implicit, "address table full");
		return;
	}
}

static void accept_conn(struct ftpd_server *srv, int fd, const struct sockaddr *peer,
			socklen_t len, bool implicit)
{
	const struct ftpd_conf *c = srv->conf;
	if (srv->stopping) {
		refuse(srv, fd, peer, implicit, "server stopping",
		       "421 Server shutting down; try again later.\r\n");
		return;
	}
	if (srv->counts != NULL) {
		accept_shared(srv, fd, peer, len, implicit);
		return;
	}
	if (count_all(srv) >= c->max_sessions) {
		refuse_total(srv, fd, peer, implicit);
		return;
	}
	if (c->max_per_ip > 0 && count_peer(srv, peer) >= c->max_per_ip) {
		refuse_per_ip(srv, fd, peer, implicit, NULL);
		return;
	}
	ftpd_sess_accept(srv, fd, peer, len, implicit);
}

static void on_accept_plain(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
	accept_conn(arg, fd, peer, len, false);
}

static void on_accept_implicit(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
	accept_conn(arg, fd, peer, len, true);
}

/* Token buckets of 100 ms ticks, so that a limited transfer flows evenly
 * instead of in one-second bursts. */
static struct ev_token_bucket_cfg *bucket(uint64_t rate, bool write)
{
	if (rate == 0)
		return NULL;
	size_t per_tick = (size_t)(rate / 10);
	size_t burst = per_tick * 2;
	struct timeval tick = {0, 100000};
	if (write)
		return ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, per_tick, burst,
					       &tick);
	return ev_token_bucket_cfg_new(per_tick, burst, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
				       &tick);
}

struct ftpd_server *ftpd_server_start(struct ftpd_conf *c, struct loop *l,
				      const struct listen_set *set, struct account_auth *auth,
				      ik_err *e)
{
	struct ftpd_server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	srv->conf = c;
	srv->loop = l;
	srv->auth = auth;
	srv->counts = c->counts;
	if (c->tls && c->ssl == NULL && ftpd_conf_prepare(c, e) < 0)
		goto fail;
	/* In a restarted worker this clears its crashed predecessor's counts. */
	if (srv->counts != NULL && shmcount_attach(srv->counts, e) < 0)
		goto fail;
	srv->pool = offload_new(l, 1, 1024, e);
	if (srv->pool == NULL)
		goto fail;
	srv->rate_down = bucket(c->download_rate, true);
	srv->rate_up = bucket(c->upload_rate, false);
	if ((c->download_rate && srv->rate_down == NULL) || (c->upload_rate && srv->rate_up == NULL)) {
		ik_err_set(e, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->socktype[i] != SOCK_STREAM)
			continue;
		bool implicit = i >= c->implicit_from;
		srv->li[srv->nli] = listener_new(l, set, i, implicit ? on_accept_implicit
						 : on_accept_plain, srv, e);
		if (srv->li[srv->nli] == NULL)
			goto fail;
		srv->li_implicit[srv->nli++] = implicit;
	}
	return srv;
fail:
	ftpd_server_free(srv);
	return NULL;
}

void ftpd_server_add(struct ftpd_server *srv, struct ftpd_sess *fs)
{
	fs->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = fs;
	srv->sessions = fs;
	srv->nsess++;
	if (srv->counts != NULL) {
		socklen_t len = 0;
		const struct sockaddr *sa = session_peer_addr(fs->s, &len);
		if (sa != NULL && len <= sizeof fs->count_peer) {
			memcpy(&fs->count_peer, sa, len);
		} else {
			memset(&fs->count_peer, 0, sizeof fs->count_peer);
			fs->count_peer.ss_family = AF_UNSPEC;
		}
		fs->counted = true;
	}
}

static void run_done(void *arg)
{
	struct ftpd_server *srv = arg;
	void (*done)(void *) = srv->done;
	srv->done = NULL;
	if (done != NULL)
		done(srv->done_arg);
}

/* done() belongs to the current generation and waits for every one. */
static void check_done(struct ftpd_server *srv)
{
	while (srv->newer != NULL)
		srv = srv->newer;
	if (srv->stopping && count_all(srv) == 0 && !srv->done_scheduled && !srv->freeing) {
		srv->done_scheduled = true;
		loop_defer(srv->loop, run_done, srv);
	}
}

static void free_one(struct ftpd_server *srv);

void ftpd_server_remove(struct ftpd_server *srv, struct ftpd_sess *fs)
{
	if (fs->prev != NULL)
		fs->prev->next = fs->next;
	else
		srv->sessions = fs->next;
	if (fs->next != NULL)
		fs->next->prev = fs->prev;
	fs->prev = fs->next = NULL;
	srv->nsess--;
	if (fs->counted) {
		fs->counted = false;
		shmcount_release(srv->counts, (const struct sockaddr *)&fs->count_peer);
	}
	check_done(srv);
	/* sess_free calls us last: nothing uses a retired generation after
	 * its last session, so it goes now. */
	if (srv->retired && srv->nsess == 0 && !srv->freeing)
		free_one(srv);
}

void ftpd_server_stop(struct ftpd_server *srv, void (*done)(void *), void *arg)
{
	if (done != NULL) {
		srv->done = done;
		srv->done_arg = arg;
	}
	if (srv->stopping)
		return;
	/* Sessions go from the loop, later: the generations stay linked. */
	for (struct ftpd_server *g = srv; g != NULL; g = g->older) {
		g->stopping = true;
		for (size_t i = 0; i < g->nli; i++)
			listener_free(g->li[i]);
		g->nli = 0;
		for (struct ftpd_sess *fs = g->sessions; fs != NULL; fs = fs->next) {
			if (fs->xfer != NULL)
				fs->quit_pending = true;	/* 421 once the transfer is done */
			else
				ftpd_sess_shutdown(fs, "421 Server shutting down; goodbye.");
		}
	}
	check_done(srv);
}

size_t ftpd_server_sessions(const struct ftpd_server *srv) { return count_all(srv); }

struct ftpd_server *ftpd_server_reload(struct ftpd_server *cur, struct ftpd_conf *c,
				       const struct listen_set *set, ik_err *e)
{
	if (cur->stopping) {
		ik_err_set(e, "the server is stopping; the new settings apply at its next start");
		return NULL;
	}
	/* The sockets stay the ones bound at start, whatever c lists. */
	c->implicit_from = cur->conf->implicit_from;
	if (c->implicit_from < set->n && !c->tls) {
		ik_err_set(e, "[%s] tls = no, but implicit FTPS sockets are open; restart serve to "
			   "close them, or keep tls = yes", c->section);
		return NULL;
	}
	if (ftpd_conf_prepare(c, e) < 0)
		return NULL;
	struct ftpd_server *srv = ftpd_server_start(c, cur->loop, set, cur->auth, e);
	if (srv == NULL)
		return NULL;
	/* Both listened on the same sockets for a moment; the loop has not
	 * run in between, so no connection went to the old one. */
	for (size_t i = 0; i < cur->nli; i++)
		listener_free(cur->li[i]);
	cur->nli = 0;
	cur->retired = true;
	srv->refused = cur->refused;
	srv->counts = cur->counts;	/* the one table made before the fork */
	srv->older = cur;
	cur->newer = srv;
	if (cur->nsess == 0)
		free_one(cur);
	return srv;
}

/* Close one generation's sessions; true when none is left. */
static bool close_gen(struct ftpd_server *srv)
{
	for (size_t i = 0; i < srv->nli; i++)
		listener_free(srv->li[i]);
	srv->nli = 0;
	if (srv->nsess > 0) {
		for (struct ftpd_sess *fs = srv->sessions; fs != NULL; fs = fs->next)
			session_close(fs->s, "server stopping");
		/* Their frees are deferred to the loop: let it run them. */
		for (int i = 0; i < 8 && srv->nsess > 0; i++)
			event_base_loop(loop_base(srv->loop), EVLOOP_NONBLOCK);
		if (srv->nsess > 0) {
			log_event(LOG_WARNING, "ftp_stop", "sessions=%zu reason=\"still open at exit\"",
				  srv->nsess);
			return false;
		}
	}
	return true;
}

/* Unlink one generation and free it (its sessions are gone). */
static void free_one(struct ftpd_server *srv)
{
	if (srv->newer != NULL)
		srv->newer->older = srv->older;
	if (srv->older != NULL)
		srv->older->newer = srv->newer;
	offload_free(srv->pool);
	if (srv->rate_down != NULL)
		ev_token_bucket_cfg_free(srv->rate_down);
	if (srv->rate_up != NULL)
		ev_token_bucket_cfg_free(srv->rate_up);
	free(srv);
}

void ftpd_server_free(struct ftpd_server *srv)
{
	if (srv == NULL)
		return;
	/* No generation frees itself or reports done while we close. */
	for (struct ftpd_server *g = srv; g != NULL; g = g->older)
		g->freeing = true;
	while (srv->older != NULL) {
		struct ftpd_server *g = srv->older;
		if (close_gen(g)) {
			free_one(g);
		} else {
			srv->older = g->older;	/* left to the process's end */
			if (g->older != NULL)
				g->older->newer = srv;
		}
	}
	if (close_gen(srv))
		free_one(srv);
}

int ftpd_share_limits(struct ftpd_conf *c, ik_err *e)
{
	if (c->counts != NULL)
		return 0;
	c->counts = shmcount_new(SHMCOUNT_SLOTS, SHMCOUNT_COLS, e);
	return c->counts != NULL ? 0 : -1;
}

void ftpd_unshare_limits(struct ftpd_conf *c)
{
	if (c == NULL)
		return;
	shmcount_free(c->counts);
	c->counts = NULL;
}
