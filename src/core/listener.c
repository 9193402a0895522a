#include "core/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/listener.h>

#include "core/acl.h"
#include "core/config.h"
#include "core/log.h"
#include "core/proxy.h"

/* Why bind() failed, in words a user can act on. */
static int bind_error(ik_err *e, int err, const struct endpoint *ep, int socktype)
{
	const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
	switch (err) {
	case EADDRINUSE:
		return ik_err_set(e, "cannot listen on %s (%s): address already in use; another "
			"program has this port (see: ss -lnp 'sport = :%u') or choose another port",
			ep->text, proto, endpoint_port((const struct sockaddr *)&ep->ss));
	case EACCES:
		return ik_err_set(e, "cannot listen on %s (%s): permission denied; ports below "
			"1024 need root or CAP_NET_BIND_SERVICE, choose a port from 1024 up", ep->text, proto);
	case EADDRNOTAVAIL:
		return ik_err_set(e, "cannot listen on %s (%s): this machine has no such address",
			ep->text, proto);
	default:
		return ik_err_errno(e, err, "cannot listen on %s (%s)", ep->text, proto);
	}
}

int listen_spec_add(char **list, size_t *n, const char *spec, ik_err *e)
{
	char host[256];
	uint16_t port;
	struct endpoint un;
	if (endpoint_is_unix(spec) ? endpoint_unix(spec, &un, e) < 0
				   : endpoint_split(spec, host, sizeof host, &port, e) < 0)
		return -1;
	if (*n >= LISTEN_MAX_SOCKETS)
		return ik_err_set(e, "too many listen addresses (at most %d)", LISTEN_MAX_SOCKETS);
	if ((list[*n] = strdup(spec)) == NULL)
		return ik_err_set(e, "out of memory");
	(*n)++;
	return 0;
}

/* A socket file already at the path: a server that is gone left it (no
 * one accepts: remove it), or one runs there (in use). Anything that is
 * not a socket is never removed. */
static int unix_clear_stale(const struct endpoint *ep, int socktype, ik_err *e)
{
	const char *path = ((const struct sockaddr_un *)&ep->ss)->sun_path;
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : ik_err_errno(e, errno, "cannot listen on %s", ep->text);
	if (!S_ISSOCK(st.st_mode))
		return ik_err_set(e, "cannot listen on %s: '%s' exists and is not a socket; remove "
				  "it or choose another path", ep->text, path);
	int probe = socket(AF_UNIX, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return ik_err_errno(e, errno, "cannot create a socket for %s", ep->text);
	int rc = connect(probe, (const struct sockaddr *)&ep->ss, ep->len);
	int err = errno;
	close(probe);
	if (rc == 0 || err == EAGAIN)
		return ik_err_set(e, "cannot listen on %s: address already in use; another program "
				  "serves this socket (see: ss -lxp src '%s') or choose another path",
				  ep->text, path);
	if (err != ECONNREFUSED)
		return ik_err_errno(e, err, "cannot listen on %s: cannot tell whether '%s' is in use",
				    ep->text, path);
	if (unlink(path) < 0 && errno != ENOENT)
		return ik_err_errno(e, errno, "cannot listen on %s: cannot remove the stale socket "
				    "'%s'", ep->text, path);
	return 0;
}

static int bind_unix(const struct endpoint *ep, int socktype, ik_err *e)
{
	if (unix_clear_stale(ep, socktype, e) < 0)
		return -1;
	int fd = socket(AF_UNIX, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot create a socket for %s", ep->text);
	/* bind() makes the file with the umask's mode: a strict umask for that
	 * moment, so that it is never open to others, not even briefly. */
	mode_t old = umask(0177);
	int rc = bind(fd, (const struct sockaddr *)&ep->ss, ep->len);
	int err = errno;
	umask(old);
	if (rc < 0 || (socktype == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)) {
		if (rc == 0) {
			err = errno;
			unlink(((const struct sockaddr_un *)&ep->ss)->sun_path);
		}
		close(fd);
		if (err == EACCES || err == ENOENT || err == ENOTDIR)
			ik_err_errno(e, err, "cannot listen on %s: the directory must exist and be "
				     "writable", ep->text);
		else
			ik_err_errno(e, err, "cannot listen on %s", ep->text);
		errno = err;
		return -1;
	}
	return fd;
}

int listen_bind_one(const struct endpoint *ep, int socktype, unsigned flags, ik_err *e)
{
	int family = ep->ss.ss_family;
	if (family == AF_UNIX)
		return bind_unix(ep, socktype, e);
	int fd = socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ik_err_errno(e, errno, "cannot create a socket for %s", ep->text);
	int one = 1;
	/* Restarting a server must not wait for TIME_WAIT to clear. */
	if (socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if ((flags & LISTEN_REUSEPORT) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
		int err = errno;
		close(fd);
		return ik_err_errno(e, err, "cannot share %s between workers (SO_REUSEPORT)", ep->text);
	}
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len) < 0) {
		int err = errno;
		close(fd);
		bind_error(e, err, ep, socktype);
		errno = err;
		return -1;
	}
	if (socktype == SOCK_STREAM && listen(fd, SOMAXCONN) < 0) {
		int err = errno;
		close(fd);
		bind_error(e, err, ep, socktype);
		errno = err;
		return -1;
	}
	return fd;
}

int listen_bind_specs(struct listen_set *set, const char *const *specs, size_t nspecs,
		      int socktype, unsigned flags, ik_err *e)
{
	for (size_t i = 0; i < nspecs; i++) {
		struct endpoint eps[8];
		size_t n;
		if (endpoint_resolve_listen(specs[i], eps, 8, &n, e) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			if (set->n >= LISTEN_MAX_SOCKETS)
				return ik_err_set(e, "too many listen addresses (at most %d)", LISTEN_MAX_SOCKETS);
			int fd = listen_bind_one(&eps[k], socktype, flags, e);
			if (fd < 0) {
				if (eps[k].wildcard && eps[k].ss.ss_family == AF_INET6 &&
				    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
					continue;	/* no IPv6 on this machine */
				return -1;
			}
			set->unix_dev[set->n] = 0;
			set->unix_ino[set->n] = 0;
			struct stat st;
			if (eps[k].ss.ss_family == AF_UNIX &&
			    lstat(((struct sockaddr_un *)&eps[k].ss)->sun_path, &st) == 0) {
				set->unix_dev[set->n] = st.st_dev;
				set->unix_ino[set->n] = st.st_ino;
			}
			/* Port 0 asks the kernel for one: record what it chose. */
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			if (eps[k].ss.ss_family != AF_UNIX &&
			    getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
				bool wild = eps[k].wildcard;
				endpoint_from_sockaddr(&eps[k], (struct sockaddr *)&ss, len);
				eps[k].wildcard = wild;
			}
			set->fd[set->n] = fd;
			set->socktype[set->n] = socktype;
			set->ep[set->n] = eps[k];
			set->n++;
		}
	}
	return 0;
}

void listen_set_unlink(const struct listen_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->ep[i].ss.ss_family != AF_UNIX || set->unix_ino[i] == 0)
			continue;
		const char *path = ((const struct sockaddr_un *)&set->ep[i].ss)->sun_path;
		struct stat st;
		/* Another server may have taken the path since: leave its file. */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == set->unix_dev[i] &&
		    st.st_ino == set->unix_ino[i])
			unlink(path);
	}
}

void listen_set_close(struct listen_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->fd[i] >= 0)
			close(set->fd[i]);
	set->n = 0;
}

int listen_spec_configure(struct cfg *cfg, const char *sec, const char *key, const char *desc,
			  const char *def, bool required, char **list, size_t *n, ik_err *e)
{
	const char *items[CFG_MAX_LIST];
	size_t k = 0;
	if (cfg_get_list(cfg, sec, key, desc, def, items, &k, e) < 0)
		return -1;
	if (required && k == 0)
		return cfg_error(cfg, sec, key, e, "give at least one [HOST:]PORT");
	for (size_t i = 0; i < k; i++) {
		ik_err le;
		if (listen_spec_add(list, n, items[i], &le) < 0)
			return cfg_error(cfg, sec, key, e, "%s", le.msg);
	}
	return 0;
}

void listen_spec_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

void listen_log_changed(const char *service, const char *restart)
{
	log_event(LOG_WARNING, "reload", "service=%s reason=\"listen addresses changed: restart "
		  "%s to apply them\"", service, restart);
}

void listen_set_acl(struct listen_set *set, struct acl *acl)
{
	acl_take_count(acl, set->acl);
	set->acl = acl;
}

void listen_set_proxy(struct listen_set *set, const struct listen_proxy *proxy)
{
	set->proxy = proxy;
}

struct listener {
	struct loop *loop;
	const struct listen_set *set;	/* its acl and proxy are read at each accept */
	struct evconnlistener *ev;
	struct event *retry;
	listener_accept_cb cb;
	void *arg;
	struct proxy_waits *waits;	/* PROXY headers being read; made on first use */
};

/* The client as the server will see it: checked against the acl, then
 * handed over. */
static void deliver(int fd, const struct sockaddr *sa, socklen_t len, void *arg)
{
	struct listener *li = arg;
	/* Before the server sees it: no greeting, no session slot. A UNIX
	 * client has no address: an allow list refuses it, a deny list not. */
	if (acl_refuse(li->set->acl, sa, LOG_NOTICE)) {
		close(fd);
		return;
	}
	li->cb(fd, sa, len, li->arg);
}

/* Only a trusted balancer may say who the client is. */
static void proxied(struct listener *li, int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct listen_proxy *p = li->set->proxy;
	if (!proxy_trusted(p, sa)) {
		char text[ENDPOINT_TEXT_MAX];
		log_event(LOG_WARNING, "proxy_refused", "service=%s proxy=%s reason=\"not in "
			  "proxy_trusted\"", p->name, endpoint_format(sa, text, sizeof text));
		close(fd);
		return;
	}
	if (li->waits == NULL && (li->waits = proxy_waits_new(li->loop, deliver, li)) == NULL) {
		close(fd);
		return;
	}
	proxy_wait(li->waits, p, fd, sa, len);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa,
		      int len, void *arg)
{
	(void)ev;
	struct listener *li = arg;
	struct sockaddr_storage ss;
	if (sa->sa_family == AF_UNIX && len >= 0 && (size_t)len < sizeof ss) {
		/* A UNIX client is mostly unnamed: the kernel fills only the
		 * family, and the rest must read as an empty path. */
		memset(&ss, 0, sizeof ss);
		memcpy(&ss, sa, (size_t)len);
		sa = (struct sockaddr *)&ss;
	}
	if (li->set->proxy != NULL && sa->sa_family != AF_UNIX) {
		proxied(li, (int)fd, sa, (socklen_t)len);
		return;
	}
	deliver((int)fd, sa, (socklen_t)len, li);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct listener *li = arg;
	evconnlistener_enable(li->ev);
}

/* Out of file descriptors: stop accepting for a moment instead of spinning
 * on a listen socket that stays readable. */
static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	struct listener *li = arg;
	int err = EVUTIL_SOCKET_ERROR();
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_event(LOG_WARNING, "accept_paused", "reason=\"%s\" retry_ms=100", strerror(err));
		evconnlistener_disable(ev);
		struct timeval tv = loop_tv(100);
		event_add(li->retry, &tv);
	}
}

struct listener *listener_new(struct loop *l, const struct listen_set *set, size_t i,
			      listener_accept_cb cb, void *arg, ik_err *e)
{
	int fd = set->fd[i];
	struct listener *li = calloc(1, sizeof *li);
	if (li == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	li->loop = l;
	li->set = set;
	li->cb = cb;
	li->arg = arg;
	/* backlog 0: the socket already listens (listen_bind_one). */
	li->ev = evconnlistener_new(loop_base(l), on_accept, li, LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	li->retry = evtimer_new(loop_base(l), on_retry, li);
	if (li->ev == NULL || li->retry == NULL) {
		listener_free(li);
		ik_err_set(e, "cannot accept connections on fd %d", fd);
		return NULL;
	}
	evconnlistener_set_error_cb(li->ev, on_accept_error);
	return li;
}

void listener_pause(struct listener *li) { evconnlistener_disable(li->ev); }
void listener_resume(struct listener *li) { evconnlistener_enable(li->ev); }

void listener_free(struct listener *li)
{
	if (li == NULL)
		return;
	if (li->ev != NULL)
		evconnlistener_free(li->ev);
	if (li->retry != NULL)
		event_free(li->retry);
	proxy_waits_free(li->waits);
	free(li);
}

/* ---- one socket set per worker process ---- */

int worker_sets_bind(struct worker_sets *ws, const char *const *specs, size_t nspecs,
		     int socktype, unsigned workers, ik_err *e)
{
	ws->n = workers > 0 ? workers : 1;
	ws->sets = calloc(ws->n, sizeof *ws->sets);
	if (ws->sets == NULL) {
		ws->n = 0;
		return ik_err_set(e, "out of memory");
	}
	unsigned flags = workers > 0 ? LISTEN_REUSEPORT : 0;
	if (listen_bind_specs(&ws->sets[0], specs, nspecs, socktype, flags, e) < 0)
		return -1;
	/* The addresses the first set got, so that port 0 is one port for all. */
	const struct listen_set *first = &ws->sets[0];
	for (unsigned i = 1; i < ws->n; i++) {
		struct listen_set *set = &ws->sets[i];
		for (size_t k = 0; k < first->n; k++) {
			const char *again = first->ep[k].text;
			if (first->ep[k].ss.ss_family != AF_UNIX) {
				if (listen_bind_specs(set, &again, 1, socktype, flags, e) < 0)
					return -1;
				continue;
			}
			/* One path, one socket: every worker accepts on it. */
			int fd = fcntl(first->fd[k], F_DUPFD_CLOEXEC, 0);
			if (fd < 0)
				return ik_err_errno(e, errno, "cannot share %s between workers", again);
			set->fd[set->n] = fd;
			set->socktype[set->n] = first->socktype[k];
			set->ep[set->n] = first->ep[k];
			set->unix_dev[set->n] = 0;
			set->unix_ino[set->n] = 0;
			set->n++;
		}
	}
	return 0;
}

struct listen_set *worker_sets_take(struct worker_sets *ws, int index)
{
	unsigned mine = ws->n > 1 ? (unsigned)index : 0;
	/* The other workers' sockets stay open in the supervisor only. */
	for (unsigned i = 0; i < ws->n; i++)
		if (i != mine)
			listen_set_close(&ws->sets[i]);
	return &ws->sets[mine];
}

void worker_sets_close(struct worker_sets *ws)
{
	if (ws->n > 0)
		listen_set_unlink(&ws->sets[0]);
	for (unsigned i = 0; i < ws->n; i++)
		listen_set_close(&ws->sets[i]);
	free(ws->sets);
	ws->sets = NULL;
	ws->n = 0;
}
