/* `inetkit udp`: the UDP echo / print server, the datagram client and the
 * load generator. The server is also a service of `inetkit serve`,
 * config section [udp-echo] (docs/inetkit-udp.1 lists its keys). */
#ifndef INETKIT_UDP_UDP_H
#define INETKIT_UDP_UDP_H

#include "core/service.h"

extern const struct service_ops service_udp_echo;

#endif
