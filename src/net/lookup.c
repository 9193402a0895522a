/* Host, address, service and protocol lookups (RFC 3493 getaddrinfo and
 * getnameinfo, RFC 6724 order kept, RFC 4007 zones, RFC 6335 port ranges).
 *
 * Why a detached worker thread rather than glibc's getaddrinfo_a: a reverse
 * lookup (getnameinfo) and the services/protocols databases have no
 * asynchronous form, so one mechanism covers every lookup; the worker owns a
 * copy of its job, so giving up on it is just dropping a reference, whereas a
 * getaddrinfo_a request that gai_cancel cannot stop must keep its gaicb alive
 * in memory the caller can no longer free. */
#include "net/lookup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"

/* ---- the timed worker ---------------------------------------------------- */

struct timed_job {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int refs;		/* the caller's and the worker's */
	bool done;
	bool abandoned;
	void (*fn)(void *);
	size_t size;
	max_align_t data[];	/* the job copy, suitably aligned */
};

static atomic_int abandoned_workers;

int lookup_abandoned_count(void)
{
	return atomic_load(&abandoned_workers);
}

static void job_release(struct timed_job *j)
{
	pthread_mutex_lock(&j->lock);
	int left = --j->refs;
	pthread_mutex_unlock(&j->lock);
	if (left > 0)
		return;
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *job_worker(void *arg)
{
	struct timed_job *j = arg;
	j->fn(j->data);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	bool was_abandoned = j->abandoned;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->lock);
	if (was_abandoned)
		atomic_fetch_sub(&abandoned_workers, 1);
	job_release(j);
	return NULL;
}

static int job_start(struct timed_job *j, ik_err *e)
{
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);
	if (rc != 0)
		return ik_err_errno(e, rc, "cannot start a lookup thread");
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the caller: the worker may sit in a resolver
	 * for seconds and must not swallow a SIGINT meant for the program. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t tid;
	rc = pthread_create(&tid, &attr, job_worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return ik_err_errno(e, rc, "cannot start a lookup thread");
	return 0;
}

enum lookup_status lookup_run_timed(void (*fn)(void *job), void *job,
				    size_t size, int timeout_ms, ik_err *e)
{
	if (timeout_ms <= 0) {
		fn(job);
		return LOOKUP_OK;
	}
	if (atomic_load(&abandoned_workers) >= LOOKUP_ABANDONED_MAX) {
		ik_err_set(e, "%d earlier lookups are still waiting for the resolver; try again later",
			   LOOKUP_ABANDONED_MAX);
		return LOOKUP_TEMPORARY;
	}
	struct timed_job *j = calloc(1, sizeof *j + size);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot start a lookup");
		return LOOKUP_FAILED;
	}
	memcpy(j->data, job, size);
	j->fn = fn;
	j->size = size;
	j->refs = 2;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&j->lock, NULL);
	if (job_start(j, e) < 0) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->lock);
		free(j);
		return LOOKUP_FAILED;
	}

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->lock);
	while (!j->done) {
		if (pthread_cond_timedwait(&j->cv, &j->lock, &deadline) == ETIMEDOUT)
			break;
	}
	bool finished = j->done;
	if (!finished) {
		j->abandoned = true;
		atomic_fetch_add(&abandoned_workers, 1);
	}
	pthread_mutex_unlock(&j->lock);
	if (finished)
		memcpy(job, j->data, size);
	job_release(j);
	return finished ? LOOKUP_OK : LOOKUP_TIMEOUT;
}

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

static void timeout_message(ik_err *e, int timeout_ms, const char *what)
{
	ik_err_set(e, "timed out after %g s looking up '%s'", timeout_ms / 1000.0, what);
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
	enum lookup_status st = lookup_run_timed(host_work, j, sizeof *j, timeout_ms, e);
	if (st == LOOKUP_TIMEOUT)
		timeout_message(e, timeout_ms, what);
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
	enum lookup_status st = lookup_run_timed(reverse_work, &j, sizeof j, timeout_ms, e);
	if (st == LOOKUP_TIMEOUT)
		timeout_message(e, timeout_ms, ip);
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

/* ---- services and protocols ---------------------------------------------- */

/* The _r database calls want a buffer for the entry's strings; long alias
 * lists need more than the first guess, so it grows up to this. */
#define DB_BUF_MAX (1 << 20)

/* Copies a name and its aliases into fixed fields; *truncated is set when
 * something did not fit. */
static void copy_names(char name[LOOKUP_NAME_MAX], char aliases[][LOOKUP_NAME_MAX],
		       size_t *alias_count, bool *truncated, const char *src_name,
		       char **src_aliases)
{
	if (str_copy(name, LOOKUP_NAME_MAX, src_name) < 0)
		*truncated = true;
	*alias_count = 0;
	for (char **a = src_aliases; a != NULL && *a != NULL; a++) {
		if (*alias_count == LOOKUP_ALIASES_MAX) {
			*truncated = true;
			break;
		}
		if (str_copy(aliases[(*alias_count)++], LOOKUP_NAME_MAX, *a) < 0)
			*truncated = true;
	}
}

struct service_job {
	char query[LOOKUP_NAME_MAX];
	bool by_port;
	uint16_t port;
	char proto[16];		/* "" = tcp, udp, then any */
	int err;		/* an errno from the database, 0 if none */
	struct lookup_service_result res;
};

/* 1 found (entry filled), 0 no entry, -1 failure (j->err set). */
static int service_get(struct service_job *j, const char *proto,
		       struct lookup_service_entry *out)
{
	for (size_t len = 1024; len <= DB_BUF_MAX; len *= 2) {
		char *buf = malloc(len);
		if (buf == NULL) {
			j->err = ENOMEM;
			return -1;
		}
		struct servent se, *found = NULL;
		int rc = j->by_port
			? getservbyport_r((int)htons(j->port), proto, &se, buf, len, &found)
			: getservbyname_r(j->query, proto, &se, buf, len, &found);
		if (found != NULL) {
			memset(out, 0, sizeof *out);
			copy_names(out->name, out->aliases, &out->alias_count, &out->truncated,
				   se.s_name, se.s_aliases);
			if (str_copy(out->proto, sizeof out->proto, se.s_proto) < 0)
				out->truncated = true;
			out->port = ntohs((uint16_t)se.s_port);
		}
		free(buf);
		if (found != NULL)
			return 1;
		if (rc == 0 || rc == ENOENT)
			return 0;
		if (rc != ERANGE) {
			j->err = rc;
			return -1;
		}
	}
	j->err = ERANGE;
	return -1;
}

static void service_work(void *p)
{
	struct service_job *j = p;
	static const char *const both[] = {"tcp", "udp"};
	const char *one[] = {j->proto};
	const char *const *protos = j->proto[0] ? one : both;
	size_t nprotos = j->proto[0] ? 1 : 2;
	struct lookup_service_result *r = &j->res;
	for (size_t i = 0; i < nprotos; i++) {
		int got = service_get(j, protos[i], &r->entries[r->count]);
		if (got < 0)
			return;
		r->count += (size_t)got;
	}
	/* Names that exist only for another protocol (ddp, sctp). */
	if (r->count == 0 && j->proto[0] == '\0' && service_get(j, NULL, &r->entries[0]) > 0)
		r->count = 1;
}

enum lookup_status lookup_service(const char *query, const char *proto,
				  int timeout_ms,
				  struct lookup_service_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	struct service_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", query);
		return LOOKUP_FAILED;
	}
	enum lookup_status st = LOOKUP_BAD_INPUT;
	enum lookup_arg kind = lookup_parse_port(query, &j->port, e);
	if (kind == LOOKUP_ARG_INVALID)
		goto out;
	if (proto != NULL && lookup_parse_proto_filter(proto, e) == NULL)
		goto out;
	j->by_port = kind == LOOKUP_ARG_NUMBER;
	str_copy(j->query, sizeof j->query, query);
	str_copy(j->proto, sizeof j->proto, proto != NULL ? proto : "");
	st = lookup_run_timed(service_work, j, sizeof *j, timeout_ms, e);
	if (st == LOOKUP_TIMEOUT)
		timeout_message(e, timeout_ms, query);
	if (st != LOOKUP_OK)
		goto out;
	if (j->err != 0) {
		ik_err_errno(e, j->err, "cannot read the services database looking up '%s'", query);
		st = LOOKUP_FAILED;
		goto out;
	}
	if (j->res.count == 0 && !j->by_port) {
		if (proto != NULL)
			ik_err_set(e, "no such service '%s' for %s in /etc/services", query, proto);
		else
			ik_err_set(e, "no such service '%s' in /etc/services", query);
		st = LOOKUP_NOT_FOUND;
		goto out;
	}
	*r = j->res;
	r->by_port = j->by_port;
	r->port = j->by_port ? j->port : r->entries[0].port;
out:
	free(j);
	return st;
}

struct proto_job {
	char query[LOOKUP_NAME_MAX];
	bool by_number;
	uint8_t number;
	int err;
	bool found;
	struct lookup_proto_result res;
};

static void proto_work(void *p)
{
	struct proto_job *j = p;
	for (size_t len = 1024; len <= DB_BUF_MAX; len *= 2) {
		char *buf = malloc(len);
		if (buf == NULL) {
			j->err = ENOMEM;
			return;
		}
		struct protoent pe, *found = NULL;
		int rc = j->by_number
			? getprotobynumber_r(j->number, &pe, buf, len, &found)
			: getprotobyname_r(j->query, &pe, buf, len, &found);
		if (found != NULL) {
			struct lookup_proto_result *r = &j->res;
			copy_names(r->name, r->aliases, &r->alias_count, &r->truncated,
				   pe.p_name, pe.p_aliases);
			r->number = pe.p_proto;
			j->found = true;
		}
		free(buf);
		if (found != NULL || rc == 0 || rc == ENOENT)
			return;
		if (rc != ERANGE) {
			j->err = rc;
			return;
		}
	}
	j->err = ERANGE;
}

enum lookup_status lookup_proto(const char *query, int timeout_ms,
				struct lookup_proto_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	struct proto_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", query);
		return LOOKUP_FAILED;
	}
	enum lookup_status st = LOOKUP_BAD_INPUT;
	enum lookup_arg kind = lookup_parse_proto(query, &j->number, e);
	if (kind == LOOKUP_ARG_INVALID)
		goto out;
	j->by_number = kind == LOOKUP_ARG_NUMBER;
	str_copy(j->query, sizeof j->query, query);
	st = lookup_run_timed(proto_work, j, sizeof *j, timeout_ms, e);
	if (st == LOOKUP_TIMEOUT)
		timeout_message(e, timeout_ms, query);
	if (st != LOOKUP_OK)
		goto out;
	if (j->err != 0) {
		ik_err_errno(e, j->err, "cannot read the protocols database looking up '%s'", query);
		st = LOOKUP_FAILED;
	} else if (!j->found) {
		if (j->by_number)
			ik_err_set(e, "no protocol number %u in /etc/protocols", j->number);
		else
			ik_err_set(e, "no such protocol '%s' in /etc/protocols", query);
		st = LOOKUP_NOT_FOUND;
	} else {
		*r = j->res;
	}
out:
	free(j);
	return st;
}

/* ---- pure parts ---------------------------------------------------------- */

enum lookup_port_range lookup_port_range(uint16_t port)
{
	if (port <= 1023)
		return LOOKUP_RANGE_WELL_KNOWN;
	if (port <= 49151)
		return LOOKUP_RANGE_REGISTERED;
	return LOOKUP_RANGE_DYNAMIC;
}

const char *lookup_port_range_name(uint16_t port)
{
	static const char *const names[] = {"well-known", "registered", "dynamic"};
	return names[lookup_port_range(port)];
}

void lookup_port_range_bounds(enum lookup_port_range range, uint16_t *first,
			      uint16_t *last)
{
	static const uint16_t bounds[][2] = {{0, 1023}, {1024, 49151}, {49152, 65535}};
	*first = bounds[range][0];
	*last = bounds[range][1];
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A number, a negative number, or a name; shared by ports and protocols. */
static enum lookup_arg parse_number_or_name(const char *s, uint64_t max, uint64_t *num,
					    const char *number_what, const char *name_what,
					    const char *db, ik_err *e)
{
	if (*s == '\0') {
		ik_err_set(e, "empty %s: give a name or a number", name_what);
		return LOOKUP_ARG_INVALID;
	}
	if (all_digits(s) || (s[0] == '-' && all_digits(s + 1))) {
		if (s[0] != '-' && str_to_u64(s, max, num) == 0)
			return LOOKUP_ARG_NUMBER;
		ik_err_set(e, "%s %s is out of range 0-%llu", number_what, s,
			   (unsigned long long)max);
		return LOOKUP_ARG_INVALID;
	}
	size_t n = strlen(s);
	if (n >= LOOKUP_NAME_MAX) {
		ik_err_set(e, "%s is %zu bytes long; names in %s are shorter than %d",
			   name_what, n, db, LOOKUP_NAME_MAX);
		return LOOKUP_ARG_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == '#') {
			ik_err_set(e, "invalid %s '%s': names in %s have no spaces, '/' or '#'",
				   name_what, s, db);
			return LOOKUP_ARG_INVALID;
		}
	}
	return LOOKUP_ARG_NAME;
}

enum lookup_arg lookup_parse_port(const char *s, uint16_t *port, ik_err *e)
{
	uint64_t v = 0;
	enum lookup_arg k = parse_number_or_name(s, 65535, &v, "port", "service name",
						 "/etc/services", e);
	if (k == LOOKUP_ARG_NUMBER)
		*port = (uint16_t)v;
	return k;
}

enum lookup_arg lookup_parse_proto(const char *s, uint8_t *number, ik_err *e)
{
	uint64_t v = 0;
	enum lookup_arg k = parse_number_or_name(s, 255, &v, "protocol number",
						 "protocol name", "/etc/protocols", e);
	if (k == LOOKUP_ARG_NUMBER)
		*number = (uint8_t)v;
	return k;
}

const char *lookup_parse_proto_filter(const char *s, ik_err *e)
{
	if (strcmp(s, "tcp") == 0)
		return "tcp";
	if (strcmp(s, "udp") == 0)
		return "udp";
	ik_err_set(e, "unknown protocol '%s' for --proto: use tcp or udp", s);
	return NULL;
}

int lookup_parse_timeout(const char *s, int *ms, ik_err *e)
{
	uint64_t v = 0;
	int ok = -1;
	const char *dot = strchr(s, '.');
	if (dot == NULL) {
		ok = str_to_duration_ms(s, &v);
	} else if (dot > s && dot - s <= 7 && strlen(dot + 1) >= 1 && strlen(dot + 1) <= 3) {
		/* Decimal seconds: "0.5" is 500 ms; finer than 1 ms is refused. */
		char whole[8], frac[4] = "000";
		memcpy(whole, s, (size_t)(dot - s));
		whole[dot - s] = '\0';
		memcpy(frac, dot + 1, strlen(dot + 1));
		uint64_t w, f;
		if (str_to_u64(whole, 9999999, &w) == 0 && str_to_u64(frac, 999, &f) == 0) {
			v = w * 1000 + f;
			ok = 0;
		}
	}
	if (ok < 0 || v == 0 || v > LOOKUP_TIMEOUT_MAX_MS)
		return ik_err_set(e, "invalid timeout '%s': give seconds from 0.001 to %d, e.g. 5, 0.5 or 500ms",
				  s, LOOKUP_TIMEOUT_MAX_MS / 1000);
	*ms = (int)v;
	return 0;
}
