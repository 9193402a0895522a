/* Access lists: which client addresses a service takes, checked before a
 * connection gets a greeting or a datagram an answer (what users of
 * vsftpd's tcp_wrappers or an inetd's only_from/no_access expect).
 *
 *   allow  CIDRs (RFC 4632) or addresses; empty: every client
 *   deny   CIDRs or addresses
 *
 * A client is taken when it matches allow (or allow is empty) and matches
 * no deny entry: deny wins, whatever the order. An IPv4-mapped IPv6 peer
 * (::ffff:a.b.c.d, a dual-stack socket) is matched as the IPv4 address it
 * is, and an ::ffff:a.b.c.d/N entry as a.b.c.d/(N-96).
 *
 * The check itself lives where connections and datagrams arrive: core's
 * listener refuses a TCP client at accept (closed at once, not a byte
 * sent), and a datagram server drops what acl_refuse turns away; both
 * count and log each refusal (event=refused). */
#ifndef INETKIT_CORE_ACL_H
#define INETKIT_CORE_ACL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"
#include "lib/error.h"

#define ACL_MAX_RULES 1024	/* per list */
#define ACL_NAME_MAX 32

enum acl_list { ACL_ALLOW, ACL_DENY };

enum acl_verdict {
	ACL_PASS,		/* taken */
	ACL_DENIED,		/* matches deny */
	ACL_NOT_ALLOWED,	/* allow is not empty and does not match */
};

struct acl;

/* An empty list (everyone is taken); name is the service's, for logs. */
struct acl *acl_new(const char *name, ik_err *e);
void acl_free(struct acl *a);

/* Add one CIDR or address to a list. Errors say what is wrong with the
 * text: "'10.0.0.1/8' has host bits set: write 10.0.0.0/8". */
int acl_add(struct acl *a, enum acl_list which, const char *text, ik_err *e);

/* A --allow or --deny option of a standalone server: text added to *a,
 * which is made (named name) on first use. Errors start with the option. */
int acl_option(struct acl **a, const char *name, enum acl_list which, const char *text,
	       ik_err *e);

/* The section's `allow` and `deny` keys (lists; default empty). *out is
 * NULL when both are empty: nothing to check. Errors name file, line,
 * section and key. */
int acl_configure(struct cfg *c, const char *sec, struct acl **out, ik_err *e);

/* Whether peer (AF_INET or AF_INET6) is taken. */
enum acl_verdict acl_check(const struct acl *a, const struct sockaddr *peer);

/* The check where clients arrive: false when peer is taken (or a is
 * NULL); true when it is refused, after counting it and logging
 * "event=refused service=NAME reason=deny|not_allowed client=ADDR:PORT
 * refused=COUNT" at level (LOG_*). */
bool acl_refuse(struct acl *a, const struct sockaddr *peer, int level);

/* Refusals counted so far. */
uint64_t acl_refused(const struct acl *a);
/* Go on counting from what an earlier list (the one a reload replaces)
 * counted; NULL is fine for either. */
void acl_take_count(struct acl *a, const struct acl *before);

#endif
