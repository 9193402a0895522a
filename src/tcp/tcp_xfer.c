/* One-shot file transfer: --send FILE gives the file to the first client
 * (sendfile through the session, then our FIN); --recv FILE writes what
 * the first client sends until its EOF. The server then exits: 0 when the
 * whole transfer happened, 1 (with a message) when it was cut short. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "core/log.h"
#include "lib/str.h"
#include "tcp/tcp_int.h"

void tcp_xfer_start(struct tcp_conn *c)
{
	struct tcp_conf *conf = tcp_conn_conf(c);
	if (conf->mode == TCP_SEND) {
		if (conf->file_size == 0) {
			session_shutdown_write(c->s);
			return;
		}
		int fd = dup(conf->file_fd);
		if (fd < 0 || session_send_file(c->s, fd, 0, conf->file_size) < 0) {
			session_close(c->s, "cannot queue the file");
			return;
		}
		session_shutdown_write(c->s);
	}
}

static void xfer_done(struct tcp_conn *c, const char *reason)
{
	struct tcp_conf *conf = tcp_conn_conf(c);
	uint64_t bytes = conf->mode == TCP_SEND ? session_bytes_out(c->s) : session_bytes_in(c->s);
	bool ok = conf->mode == TCP_SEND ? bytes >= (uint64_t)conf->file_size : c->complete;
	log_event(ok ? LOG_INFO : LOG_ERR, "transfer", "proto=%s file=%s peer=%s bytes=%llu result=%s",
		  conf->name, conf->file, session_peer(c->s), (unsigned long long)bytes,
		  ok ? "ok" : "incomplete");
	if (ok)
		return;
	c->srv->result = 1;
	if (conf->mode == TCP_SEND)
		fprintf(stderr, "inetkit tcp: sending '%s' to %s stopped after %llu of %lld bytes: %s\n",
			conf->file, session_peer(c->s), (unsigned long long)bytes,
			(long long)conf->file_size, reason);
	else
		fprintf(stderr, "inetkit tcp: receiving '%s' from %s stopped after %llu bytes: %s\n",
			conf->file, session_peer(c->s), (unsigned long long)bytes, reason);
}

void tcp_xfer_io(struct tcp_conn *c, const struct session_ev *ev)
{
	struct tcp_conf *conf = tcp_conn_conf(c);
	struct evbuffer *in = session_input(c->s);
	switch (ev->type) {
	case SESSION_EV_DATA:
		if (conf->mode == TCP_SEND) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		/* A regular file: write() takes everything or fails. */
		while (evbuffer_get_length(in) > 0) {
			if (evbuffer_write(in, conf->file_fd) < 0) {
				char reason[256];
				str_fmt(reason, sizeof reason, "cannot write '%s': %s", conf->file,
					strerror(errno));
				session_close(c->s, reason);
				return;
			}
		}
		break;
	case SESSION_EV_EOF:
		if (conf->mode == TCP_RECV)
			c->complete = fsync(conf->file_fd) == 0 || errno == EINVAL;
		break;
	case SESSION_EV_CLOSED:
		xfer_done(c, ev->reason);
		break;
	default:
		break;
	}
}
