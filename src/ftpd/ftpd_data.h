/* A session's data side: PASV/PORT state (ftpd_cmd_data.c), TLS reuse on data (ftpd_tls.c). */
#ifndef INETKIT_FTPD_FTPD_DATA_H
#define INETKIT_FTPD_FTPD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/datachan.h"

struct ftpd_sess;
struct ftpd_xfer;
struct session;

/* The data side of a session: the core's data channel (a passive port,
 * or a connection made before the transfer command), the address a PORT
 * named, and the transfer. */
struct ftpd_data {
	struct datachan *dc;
	bool passive;			/* the last was PASV/EPSV */
	bool have_port;			/* PORT/EPRT given */
	struct sockaddr_storage port_addr;
	socklen_t port_len;
	bool pasv_timed_out;
};

/* ---- ftpd_cmd_data.c ---- */
/* Whether a transfer command has a data connection to use (PASV or PORT
 * given); if not, replies 425 and returns false. */
bool ftpd_data_ready_check(struct ftpd_sess *fs);
/* Get the data connection for x: calls ftpd_xfer_connected(x) once
 * connected, or ftpd_xfer_failed(x, ...) when that fails. */
void ftpd_data_open(struct ftpd_sess *fs, struct ftpd_xfer *x);
/* Forget passive port, PORT address and any connection. */
void ftpd_data_reset(struct ftpd_sess *fs);
void ftpd_data_free(struct ftpd_sess *fs);
/* The data side, made on first use; NULL when out of memory. */
struct ftpd_data *ftpd_data_get(struct ftpd_sess *fs);

/* ---- ftpd_tls.c ---- */
/* TLS for data connections: the reuse policy over the core's check
 * (core/datachan). */
void ftpd_tls_bind_control(struct ftpd_sess *fs);
void ftpd_tls_unbind_control(struct ftpd_sess *fs);
/* After a data handshake: 0 if it resumed the control session (or
 * tls_data_reuse is off), else -1 with why filled: the text of the 522
 * reply, which names the setting. */
int ftpd_tls_check_reuse(struct ftpd_sess *fs, struct session *data, char *why, size_t whysz);

#endif
