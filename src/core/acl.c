/* Access lists by client address (see acl.h). The entries are parsed by
 * net/addr (addr_parse) and matched with addr_contains, so a CIDR here
 * means what it means to `inetkit addr`. */
#include "core/acl.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "lib/str.h"
#include "net/addr.h"
#include "net/endpoint.h"

struct acl_rules {
	struct ik_net *net;
	size_t n, cap;
};

struct acl {
	char name[ACL_NAME_MAX];
	struct acl_rules list[2];	/* ACL_ALLOW, ACL_DENY */
	uint64_t refused;
};

struct acl *acl_new(const char *name, ik_err *e)
{
	struct acl *a = calloc(1, sizeof *a);
	if (a == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	str_copy(a->name, sizeof a->name, name);
	return a;
}

void acl_free(struct acl *a)
{
	if (a == NULL)
		return;
	free(a->list[ACL_ALLOW].net);
	free(a->list[ACL_DENY].net);
	free(a);
}

/* ::ffff:a.b.c.d/N (N >= 96) is a.b.c.d/(N-96): one entry for both kinds
 * of socket the same client may arrive on. */
static void unmap(struct ik_net *n)
{
	struct ik_addr v4;
	const char *kind = addr_embedded_ipv4(&n->addr, &v4);
	if (kind != NULL && strcmp(kind, "ipv4-mapped") == 0 && n->prefix >= 96) {
		n->addr = v4;
		n->prefix -= 96;
	}
}

int acl_add(struct acl *a, enum acl_list which, const char *text, ik_err *e)
{
	struct acl_rules *r = &a->list[which];
	struct ik_net n;
	ik_err pe;
	size_t len = strlen(text);
	if (len == 0)
		return ik_err_set(e, "an empty entry; give a CIDR such as 192.0.2.0/24 or an "
				  "address");
	if (len > ADDR_INPUT_MAX || addr_parse(text, len, &n, &pe) < 0)
		return ik_err_set(e, "'%s' is not a CIDR or an address: %s", text,
				  len > ADDR_INPUT_MAX ? "too long" : pe.msg);
	if (n.addr.zone[0] != '\0')
		return ik_err_set(e, "'%s': a zone id cannot be matched here; write the "
				  "address without '%%%s'", text, n.addr.zone);
	struct addr_net_info info;
	addr_net_info(&n, &info);
	if (!addr_equal(&info.network, &n.addr)) {
		char net[ADDR_TEXT_MAX];
		struct ik_net fixed = {info.network, n.prefix};
		addr_format_net(&fixed, net, sizeof net);
		return ik_err_set(e, "'%s' has host bits set: write %s (or the address alone "
				  "for one host)", text, net);
	}
	unmap(&n);
	if (r->n == r->cap) {
		if (r->cap >= ACL_MAX_RULES)
			return ik_err_set(e, "too many entries (at most %d); merge them into wider "
					  "CIDRs (inetkit addr summarize)", ACL_MAX_RULES);
		size_t cap = r->cap == 0 ? 8 : r->cap * 2;
		struct ik_net *p = realloc(r->net, cap * sizeof *p);
		if (p == NULL)
			return ik_err_set(e, "out of memory");
		r->net = p;
		r->cap = cap;
	}
	r->net[r->n++] = n;
	return 0;
}

int acl_option(struct acl **a, const char *name, enum acl_list which, const char *text,
	       ik_err *e)
{
	if (*a == NULL && (*a = acl_new(name, e)) == NULL)
		return -1;
	ik_err ae;
	if (acl_add(*a, which, text, &ae) < 0)
		return ik_err_set(e, "%s: %s", which == ACL_ALLOW ? "--allow" : "--deny", ae.msg);
	return 0;
}

int acl_configure(struct cfg *c, const char *sec, struct acl **out, ik_err *e)
{
	static const char *const keys[] = {"allow", "deny"};
	const char *items[2][CFG_MAX_LIST];
	size_t n[2] = {0, 0};
	*out = NULL;
	if (cfg_get_list(c, sec, "allow",
			 "clients let in (CIDR list; empty: everyone not denied)", NULL, items[ACL_ALLOW], &n[ACL_ALLOW], e) < 0 ||
	    cfg_get_list(c, sec, "deny",
			 "clients refused before the greeting (CIDR list; wins over allow)", NULL, items[ACL_DENY], &n[ACL_DENY], e) < 0)
		return -1;
	if (n[ACL_ALLOW] == 0 && n[ACL_DENY] == 0)
		return 0;
	struct acl *a = acl_new(sec, e);
	if (a == NULL)
		return -1;
	for (int which = ACL_ALLOW; which <= ACL_DENY; which++) {
		for (size_t i = 0; i < n[which]; i++) {
			ik_err ae;
			if (acl_add(a, (enum acl_list)which, items[which][i], &ae) < 0) {
				cfg_error(c, sec, keys[which], e, "%s", ae.msg);
				acl_free(a);
				return -1;
			}
		}
	}
	*out = a;
	return 0;
}

/* The peer as net/addr sees it; IPv4-mapped IPv6 as IPv4. */
static bool peer_addr(const struct sockaddr *sa, struct ik_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(out->bytes, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->bytes, s6->sin6_addr.s6_addr, 16);
		}
		return true;
	}
	return false;
}

static bool matches(const struct acl_rules *r, const struct ik_addr *a)
{
	for (size_t i = 0; i < r->n; i++)
		if (addr_contains(&r->net[i], a))
			return true;
	return false;
}

enum acl_verdict acl_check(const struct acl *a, const struct sockaddr *peer)
{
	struct ik_addr addr;
	if (!peer_addr(peer, &addr))
		return a->list[ACL_ALLOW].n > 0 ? ACL_NOT_ALLOWED : ACL_PASS;
	if (matches(&a->list[ACL_DENY], &addr))
		return ACL_DENIED;
	if (a->list[ACL_ALLOW].n > 0 && !matches(&a->list[ACL_ALLOW], &addr))
		return ACL_NOT_ALLOWED;
	return ACL_PASS;
}

bool acl_refuse(struct acl *a, const struct sockaddr *peer, int level)
{
	if (a == NULL)
		return false;
	enum acl_verdict v = acl_check(a, peer);
	if (v == ACL_PASS)
		return false;
	a->refused++;
	if (level <= log_get_level()) {
		char who[ENDPOINT_TEXT_MAX];
		log_event(level, "refused", "service=%s reason=%s client=%s refused=%llu", a->name,
			  v == ACL_DENIED ? "deny" : "not_allowed",
			  endpoint_format(peer, who, sizeof who), (unsigned long long)a->refused);
	}
	return true;
}

uint64_t acl_refused(const struct acl *a)
{
	return a != NULL ? a->refused : 0;
}

void acl_take_count(struct acl *a, const struct acl *before)
{
	if (a != NULL && before != NULL && a != before)
		a->refused += before->refused;
}
