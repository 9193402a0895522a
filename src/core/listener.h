/* Listening sockets for every server: bind a list of "HOST:PORT" specs
 * (IPv4 and IPv6), with errors that name the address and say what to do,
 * and accept connections on the loop. Binding is separate from accepting
 * so that a supervisor can bind as root, drop privileges, and hand the
 * sockets to its workers. */
#ifndef INETKIT_CORE_LISTENER_H
#define INETKIT_CORE_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "lib/error.h"
#include "core/loop.h"
#include "net/endpoint.h"

enum {
	LISTEN_REUSEPORT = 1 << 0,	/* several processes share the port */
};

#define LISTEN_MAX_SOCKETS 32

struct acl;
struct listen_proxy;

struct listen_set {
	size_t n;
	int fd[LISTEN_MAX_SOCKETS];
	int socktype[LISTEN_MAX_SOCKETS];
	struct endpoint ep[LISTEN_MAX_SOCKETS];	/* bound address (port filled in) */
	/* Who may connect (core/acl.h); NULL: everyone. Not owned: whoever
	 * sets it keeps it alive while the set's listeners run. */
	struct acl *acl;
	/* PROXY protocol on its TCP sockets (core/proxy.h); NULL: off. Not
	 * owned, like acl. */
	const struct listen_proxy *proxy;
	/* unix:PATH sockets this set made: the file's identity, so that only
	 * our own socket file is removed at exit (listen_set_unlink). */
	dev_t unix_dev[LISTEN_MAX_SOCKETS];
	ino_t unix_ino[LISTEN_MAX_SOCKETS];
};

/* Append a copy of spec to a list of listen specs (at most
 * LISTEN_MAX_SOCKETS), after checking its form with endpoint_split (or
 * endpoint_unix for unix:PATH). */
int listen_spec_add(char **list, size_t *n, const char *spec, ik_err *e);

/* Read the list of listen specs key of section sec (core/config.h, with
 * desc and default def) and append each, checked, to list; with required
 * an empty list is an error too ("give at least one [HOST:]PORT"). An
 * error names the file, line and key. */
struct cfg;
int listen_spec_configure(struct cfg *cfg, const char *sec, const char *key, const char *desc,
			  const char *def, bool required, char **list, size_t *n, ik_err *e);
/* Free the specs of a list listen_spec_add filled. */
void listen_spec_free(char **list, size_t n);

/* Bind one socket (SOCK_STREAM listens with backlog SOMAXCONN). IPv6 sockets
 * are IPV6_V6ONLY so that "*:PORT" can bind 0.0.0.0 and :: side by side.
 * Non-blocking, close-on-exec. Returns the fd, or -1 with e like
 * "cannot listen on 127.0.0.1:80: permission denied (...)".
 * unix:PATH (unix(7)): a socket file left at PATH by a server that is gone
 * is replaced; a live one, or a file that is not a socket, is an error.
 * The new socket file is made with mode 0600 (owner only, whatever the
 * umask): chmod or chgrp it to let others connect. */
int listen_bind_one(const struct endpoint *ep, int socktype, unsigned flags, ik_err *e);

/* Resolve every spec and bind each address into set (appends). A wildcard
 * IPv6 address that the machine lacks is skipped, not an error. */
int listen_bind_specs(struct listen_set *set, const char *const *specs, size_t nspecs,
		      int socktype, unsigned flags, ik_err *e);
void listen_set_close(struct listen_set *set);
/* Put acl in force on set's sockets from the next connection on (a
 * reload's new list); the count of refusals goes on from the old list. */
void listen_set_acl(struct listen_set *set, struct acl *acl);
/* Put proxy (NULL: off) in force on set's TCP sockets from the next
 * connection on. */
void listen_set_proxy(struct listen_set *set, const struct listen_proxy *proxy);
/* A reload that lists other addresses than those bound: the sockets
 * stay; logs that a restart of restart ("serve") applies them. */
void listen_log_changed(const char *service, const char *restart);
/* Remove the socket files of the set's unix:PATH sockets, if they are still
 * the ones it made (the process that bound them, at exit). */
void listen_set_unlink(const struct listen_set *set);

/* Accepting TCP connections on the loop, on socket i of set. The
 * callback receives a non-blocking, close-on-exec socket; it owns it. A
 * client that set->acl refuses (as it is at that moment) never gets to
 * the callback: it is closed at once, before any byte is sent, and the
 * refusal counted and logged (core/acl.h). set must outlive the listener.
 * With set->proxy, the PROXY header is read first (core/proxy.h) and the
 * callback and the acl see the client it names, not the balancer. */
typedef void (*listener_accept_cb)(int fd, const struct sockaddr *peer, socklen_t len,
				   void *arg);
struct listener;
struct listener *listener_new(struct loop *l, const struct listen_set *set, size_t i,
			      listener_accept_cb cb, void *arg, ik_err *e);
void listener_pause(struct listener *li);
void listener_resume(struct listener *li);
/* Frees the listener; the fd is not closed (the listen_set owns it). */
void listener_free(struct listener *li);

/* Sockets for N worker processes (`tcp listen`, `udp listen`): each worker its
 * own set, bound with SO_REUSEPORT to the same addresses, so that the
 * kernel spreads connections or datagrams among them; one set without
 * SO_REUSEPORT when workers is 0. A unix:PATH socket cannot be bound twice:
 * the workers share the first set's (a duplicate descriptor each). */
struct worker_sets {
	struct listen_set *sets;
	unsigned n;
};
int worker_sets_bind(struct worker_sets *ws, const char *const *specs, size_t nspecs,
		     int socktype, unsigned workers, ik_err *e);
/* In worker index (core/workers): close the other workers' sets (the
 * supervisor keeps them); returns this worker's. */
struct listen_set *worker_sets_take(struct worker_sets *ws, int index);
/* In the process that bound them: close every set and remove the socket
 * files of unix:PATH addresses (listen_set_unlink). */
void worker_sets_close(struct worker_sets *ws);

#endif
