/* `inetkit tcp`: TCP servers (echo, discard, chat, exec, file transfer),
 * the netcat-style client, the port scan and the load generator. The
 * echo/discard/chat server is also a service of `inetkit serve`, config
 * section [tcp-echo] (docs/inetkit-tcp.1 lists its keys). */
#ifndef INETKIT_TCP_TCP_H
#define INETKIT_TCP_TCP_H

#include "core/service.h"

extern const struct service_ops service_tcp_echo;

#endif
