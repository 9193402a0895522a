/* The checks' DNS interface (struct mauth_dns) on core/dns, the c-ares
 * resolver of the event loop: answers become the strings the checks read,
 * and core's statuses the three outcomes they act on (NODATA is an empty
 * answer; a name core refuses is one that does not exist). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/mailauth_dns.h"

struct one_lookup {
	mauth_dns_cb cb;
	void *arg;
};

static void answered(void *arg, const struct dns_result *r)
{
	struct one_lookup *l = arg;
	struct mauth_dns_answer a = {MAUTH_DNS_TEMP, 0, NULL};
	const char **rr = NULL;
	char (*addr)[INET6_ADDRSTRLEN] = NULL;
	switch (r->status) {
	case DNS_OK:
		a.rc = MAUTH_DNS_OK;
		rr = calloc(r->n + 1, sizeof *rr);
		addr = calloc(r->n + 1, sizeof *addr);
		if (rr == NULL || addr == NULL) {
			a.rc = MAUTH_DNS_TEMP;
			break;
		}
		for (size_t i = 0; i < r->n; i++) {
			if (r->type == DNS_A)
				rr[i] = inet_ntop(AF_INET, &r->a[i], addr[i], sizeof addr[i]);
			else if (r->type == DNS_AAAA)
				rr[i] = inet_ntop(AF_INET6, &r->aaaa[i], addr[i], sizeof addr[i]);
			else if (r->type == DNS_MX)
				rr[i] = r->mx[i].host;
			else
				rr[i] = r->txt[i].data;
			if (rr[i] == NULL)
				rr[i] = "";
		}
		a.n = r->n;
		a.rr = rr;
		break;
	case DNS_NODATA:
		a.rc = MAUTH_DNS_OK;
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		a.rc = MAUTH_DNS_NXDOMAIN;
		break;
	default:
		break;
	}
	l->cb(l->arg, &a);
	free(rr);
	free(addr);
	free(l);
}

static int lookup(void *ctx, enum mauth_rr type, const char *name, mauth_dns_cb cb, void *arg)
{
	static const enum dns_type types[] = {
		[MAUTH_TXT] = DNS_TXT, [MAUTH_A] = DNS_A, [MAUTH_AAAA] = DNS_AAAA, [MAUTH_MX] = DNS_MX,
	};
	struct one_lookup *l = malloc(sizeof *l);
	if (l == NULL)
		return -1;
	l->cb = cb;
	l->arg = arg;
	ik_err e;
	if (dns_lookup(ctx, name, types[type], answered, l, &e) == NULL) {
		free(l);
		return -1;
	}
	return 0;
}

void mauth_dns_on_core(struct mauth_dns *out, struct dns *d)
{
	out->lookup = lookup;
	out->ctx = d;
}
