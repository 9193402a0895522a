/* struct mauth_dns over core/dns (c-ares on the event loop). */
#ifndef INETKIT_MAILAUTH_MAILAUTH_DNS_H
#define INETKIT_MAILAUTH_MAILAUTH_DNS_H

#include "core/dns.h"
#include "mailauth/mailauth.h"

/* Fill out so that the checks look names up through d (which must outlive
 * every check started with it). */
void mauth_dns_on_core(struct mauth_dns *out, struct dns *d);

#endif
