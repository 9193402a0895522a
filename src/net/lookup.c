/* Host and address lookups (RFC 3493 getaddrinfo and getnameinfo, RFC 6724
 * order kept, RFC 4007 zones). The timed worker they run in is in
 * lookup_timed.c; services and protocols are in lookup_db.c; the pure
 * argument parsers in lookup_parse.c. */
#include "net/lookup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "net/lookup_int.h"

/* ---- resolver calls ------------------------------------------------------ */

static const struct lookup_resolver system_resolver = {
	getaddrinfo, freeaddrinfo, getnameinfo,
};
static const struct lookup_resolver *_Atomic resolver = &system_resolver;

void lookup_set_resolver(const struct lookup_resolver *r)
{
	atomic_store(&resolver, r != NULL ? r : &system_resolver);
}

enum lookup_status lookup_status_from_gai(int rc)
{
	switch (rc) {
	case 0:
		return LOOKUP_OK;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return LOOKUP_NOT_FOUND;
	case EAI_AGAIN:
		return LOOKUP_TEMPORARY;
	default:	/* EAI_FAIL, EAI_MEMORY, EAI_SYSTEM, EAI_OVERFLOW, misuse */
		return LOOKUP_FAILED;
	}
}

/* The resolver's reason, made complete for EAI_SYSTEM. */
static const char *gai_reason(int rc, int sys_errno)
{
	return rc == EAI_SYSTEM ? strerror(sys_errno) : gai_strerror(rc);
}

/* The text of an address, with its zone for a scoped IPv6 address. */
static void address_text(struct lookup_address *a)
{
	a->text[0] = '\0';
	if (a->family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
		inet_ntop(AF_INET, &sin->sin_addr, a->text, sizeof a->text);
		return;
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
	inet_ntop(AF_INET6, &sin6->sin6_addr, a->text, sizeof a->text);
	if (sin6->sin6_scope_id == 0)
		return;
	char ifname[IF_NAMESIZE];
	size_t n = strlen(a->text);
	if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
		str_fmt(a->text + n, sizeof a->text - n, "%%%s", ifname);
	else
		str_fmt(a->text + n, sizeof a->text - n, "%%%u", sin6->sin6_scope_id);
}

static bool same_address(const struct lookup_address *a, const struct sockaddr *sa)
{
	if (a->family != sa->sa_family)
		return false;
	if (a->family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)sa;
	return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
	       x->sin6_scope_id == y->sin6_scope_id;
}

/* ---- hosts --------------------------------------------------------------- */

struct host_job {
	const struct lookup_resolver *rv;
	char name[LOOKUP_HOST_MAX];
	int family;
	int rc;
	int sys_errno;
	struct lookup_host_result res;
};

static void host_add(struct lookup_host_result *r, const struct addrinfo *ai)
{
	if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
	    ai->ai_addr == NULL || ai->ai_addrlen > sizeof r->addrs[0].sa)
		return;
	for (size_t i = 0; i < r->count; i++)
		if (same_address(&r->addrs[i], ai->ai_addr))
			return;
	if (r->count == LOOKUP_ADDRS_MAX) {
		r->truncated = true;
		return;
	}
	struct lookup_address *a = &r->addrs[r->count++];
	memset(a, 0, sizeof *a);
	a->family = ai->ai_family;
	a->salen = ai->ai_addrlen;
	memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
	if (a->family == AF_INET)
		((struct sockaddr_in *)&a->sa)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a->sa)->sin6_port = 0;
	address_text(a);
}

static void host_work(void *p)
{
	struct host_job *j = p;
	/* No AI_ADDRCONFIG: a lookup tool shows every address the name has,
	 * not only those this host could reach right now. */
	struct addrinfo hints = {.ai_family = j->family, .ai_flags = AI_CANONNAME};
	struct addrinfo *list = NULL;
	j->rc = j->rv->getaddrinfo(j->name, NULL, &hints, &list);
	j->sys_errno = errno;
	if (j->rc != 0)
		return;
	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		if (j->res.canonical[0] == '\0' && ai->ai_canonname != NULL)
			str_copy(j->res.canonical, sizeof j->res.canonical, ai->ai_canonname);
		host_add(&j->res, ai);
	}
	j->rv->freeaddrinfo(list);
}

static const char *family_words(int family)
{
	return family == AF_INET ? " as IPv4" : family == AF_INET6 ? " as IPv6" : "";
}

/* Runs a host job; on failure, e says why, about `what`. */
static enum lookup_status host_run(struct host_job *j, int timeout_ms,
				   const char *what, ik_err *e)
{
	j->rv = atomic_load(&resolver);
	enum lookup_status st = lookup_run_named(host_work, j, sizeof *j, timeout_ms, what, e);
	if (st != LOOKUP_OK)
		return st;
	st = lookup_status_from_gai(j->rc);
	if (st == LOOKUP_OK && j->res.count == 0) {
		ik_err_set(e, "cannot resolve '%s'%s: the resolver returned no address",
			   what, family_words(j->family));
		return LOOKUP_NOT_FOUND;
	}
	if (st != LOOKUP_OK)
		ik_err_set(e, "cannot resolve '%s'%s: %s%s", what, family_words(j->family),
			   gai_reason(j->rc, j->sys_errno),
			   st == LOOKUP_TEMPORARY ? "; try again later" : "");
	return st;
}

int lookup_check_hostname(const char *name, ik_err *e)
{
	size_t n = strlen(name);
	if (n == 0)
		return ik_err_set(e, "empty host name: give a name such as localhost or an address");
	size_t limit = LOOKUP_HOSTNAME_MAX + (name[n - 1] == '.' ? 1 : 0);
	if (n > limit)
		return ik_err_set(e, "host name is %zu bytes long; the limit is %d", n,
				  LOOKUP_HOSTNAME_MAX);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return ik_err_set(e, "host name '%s' contains a space or control character",
					  name);
	return 0;
}

enum lookup_status lookup_host(const char *name, int family, int timeout_ms,
			       struct lookup_host_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	if (lookup_check_hostname(name, e) < 0)
		return LOOKUP_BAD_INPUT;
	struct host_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", name);
		return LOOKUP_FAILED;
	}
	str_copy(j->name, sizeof j->name, name);
	j->family = family;
	enum lookup_status st = host_run(j, timeout_ms, name, e);
	if (st == LOOKUP_OK)
		*r = j->res;
	free(j);
	return st;
}

enum lookup_status lookup_hostname(int timeout_ms,
				   struct lookup_hostname_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	if (gethostname(r->hostname, sizeof r->hostname - 1) < 0) {
		ik_err_errno(e, errno, "cannot read this host's name");
		return LOOKUP_FAILED;
	}
	struct host_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", r->hostname);
		return LOOKUP_FAILED;
	}
	str_copy(j->name, sizeof j->name, r->hostname);
	j->family = AF_UNSPEC;
	enum lookup_status st = host_run(j, timeout_ms, r->hostname, e);
	if (st == LOOKUP_OK)
		str_copy(r->fqdn, sizeof r->fqdn,
			 j->res.canonical[0] ? j->res.canonical : r->hostname);
	else if (st != LOOKUP_TIMEOUT)
		ik_err_prefix(e, "cannot find the fully qualified name of this host");
	free(j);
	return st;
}

/* ---- addresses ----------------------------------------------------------- */

int lookup_parse_ip(const char *text, struct lookup_address *out, ik_err *e)
{
	memset(out, 0, sizeof *out);
	if (strchr(text, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			return ik_err_set(e, "'%s' is not an IPv4 or IPv6 address", text);
		sin->sin_family = AF_INET;
		out->family = AF_INET;
		out->salen = sizeof *sin;
		address_text(out);
		return 0;
	}
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	if (str_copy(buf, sizeof buf, text) < 0)
		return ik_err_set(e, "'%s' is not an IPv4 or IPv6 address", text);
	char *zone = str_split(buf, '%');
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return ik_err_set(e, "'%s' is not an IPv4 or IPv6 address", text);
	if (zone != NULL) {
		uint64_t idx = 0;
		if (*zone == '\0')
			return ik_err_set(e, "empty zone after '%%' in '%s': name an interface, e.g. %s%%lo",
					  text, buf);
		if (str_to_u64(zone, UINT32_MAX, &idx) < 0)
			idx = if_nametoindex(zone);
		if (idx == 0)
			return ik_err_set(e, "unknown interface '%s' in '%s'", zone, text);
		sin6->sin6_scope_id = (uint32_t)idx;
	}
	sin6->sin6_family = AF_INET6;
	out->family = AF_INET6;
	out->salen = sizeof *sin6;
	address_text(out);
	return 0;
}

struct reverse_job {
	const struct lookup_resolver *rv;
	struct lookup_address addr;
	int rc;
	int sys_errno;
	char name[LOOKUP_HOST_MAX];
};

static void reverse_work(void *p)
{
	struct reverse_job *j = p;
	j->rc = j->rv->getnameinfo((const struct sockaddr *)&j->addr.sa, j->addr.salen,
				   j->name, sizeof j->name, NULL, 0, NI_NAMEREQD);
	j->sys_errno = errno;
}

enum lookup_status lookup_reverse(const char *ip, int timeout_ms,
				  struct lookup_reverse_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	struct reverse_job j = {.rv = atomic_load(&resolver)};
	if (lookup_parse_ip(ip, &j.addr, e) < 0)
		return LOOKUP_BAD_INPUT;
	enum lookup_status st = lookup_run_named(reverse_work, &j, sizeof j, timeout_ms, ip, e);
	if (st != LOOKUP_OK)
		return st;
	st = lookup_status_from_gai(j.rc);
	if (st != LOOKUP_OK) {
		ik_err_set(e, "no name for address %s: %s%s", j.addr.text,
			   gai_reason(j.rc, j.sys_errno),
			   st == LOOKUP_TEMPORARY ? "; try again later" : "");
		return st;
	}
	r->addr = j.addr;
	str_copy(r->name, sizeof r->name, j.name);
	return LOOKUP_OK;
}
