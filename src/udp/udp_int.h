/* What the udp_*.c files share. */
#ifndef INETKIT_UDP_UDP_INT_H
#define INETKIT_UDP_UDP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "core/listener.h"
#include "core/loop.h"

/* Largest payloads (RFC 768 length field, minus the IP and UDP headers;
 * IPv6 without jumbograms, RFC 8200 / RFC 2675). */
#define UDP_MAX_V4 65507
#define UDP_MAX_V6 65527
/* One more than any datagram, so that a cut one is always noticed. */
#define UDP_DEFAULT_BUFFER (65536 + 1)

enum udp_mode { UDP_ECHO, UDP_PRINT };

struct udp_conf {
	const char *name;
	enum udp_mode mode;
	char *listen[LISTEN_MAX_SOCKETS];
	size_t nlisten;
	size_t buffer;		/* receive buffer per datagram */
	bool log;		/* a log line per datagram */
};

struct udp_server;

struct udp_conf *udp_conf_new(void);
void udp_conf_free(struct udp_conf *c);
int udp_conf_add_listen(struct udp_conf *c, const char *spec, ik_err *e);
struct udp_server *udp_server_start(struct udp_conf *c, struct loop *l,
				    const struct listen_set *set, ik_err *e);
void udp_server_stop(struct udp_server *srv, void (*done)(void *), void *arg);
void udp_server_free(struct udp_server *srv);

int udp_listen_main(int argc, char **argv);
int udp_send_main(int argc, char **argv);
int udp_bench_main(int argc, char **argv);
int udp_scan_main(int argc, char **argv);
int udp_relay_main(int argc, char **argv);

#endif
