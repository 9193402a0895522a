/* TLS upgrade in place, once for every protocol: STARTTLS (RFC 3207),
 * STLS (RFC 2595), AUTH TLS (RFC 4217). Plaintext the client sent before
 * the handshake is discarded (RFC 3207 section 4.2), never read as if it
 * had come over TLS. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/session_int.h"

/* The close_notify of an upgraded session sits in the socket's own
 * buffer until written: our FIN must wait for it. */
static void on_wire_change(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct session *s = arg;
	if (info->n_deleted > 0 && evbuffer_get_length(b) == 0 && s->alert_sent && !s->wr_done &&
	    !s->closing)
		session_finish_write(s);
}

int session_starttls(struct session *s, SSL_CTX *ctx, ik_err *e)
{
	if (s->closing)
		return ik_err_set(e, "session is closing");
	if (s->tls)
		return ik_err_set(e, "the connection already uses TLS");
	session_flush(s);	/* the "go ahead" reply, in plaintext */
	if (s->closing)
		return ik_err_set(e, "connection lost before the TLS handshake");
	struct bufferevent *under = s->bev;
	struct evbuffer *in = bufferevent_get_input(under);
	size_t junk = evbuffer_get_length(in);
	if (junk > 0) {
		/* Commands sent before the handshake must never be read as if
		 * they came over TLS (the STARTTLS command injection attack). */
		evbuffer_drain(in, junk);
		log_event(LOG_WARNING, "starttls_discard", "proto=%s session=%llu peer=%s bytes=%zu",
			  s->proto, (unsigned long long)s->id, s->peer_text, junk);
	}
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL)
		return ik_err_set(e, "cannot create a TLS session");
	/* From now on the TLS layer reads the socket, through `under`. */
	if (s->rev != NULL) {
		event_free(s->rev);
		s->rev = NULL;
	}
	s->reading = false;
	session_unwatch_buffers(s);
	bufferevent_setwatermark(under, EV_READ, 0, 0);
	bufferevent_setwatermark(under, EV_WRITE, 0, 0);
	bufferevent_setcb(under, NULL, NULL, NULL, NULL);
	struct bufferevent *bev = bufferevent_openssl_filter_new(
		bufferevent_get_base(under), under, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		session_watch_buffers(s);
		session_close(s, "cannot start TLS");
		return ik_err_set(e, "cannot start TLS on the connection");
	}
	bufferevent_enable(under, EV_READ | EV_WRITE);
	s->under = under;
	s->bev = bev;
	s->tls = true;
	s->direct = false;
	s->write_armed = false;
	s->ls.skipping = false;
	s->wire_cb = evbuffer_add_cb(bufferevent_get_output(under), on_wire_change, s);
	session_setup_bev(s);
	return 0;
}

bool session_is_tls(const struct session *s) { return s->tls; }

SSL *session_ssl(struct session *s)
{
	return s->tls ? bufferevent_openssl_get_ssl(s->bev) : NULL;
}
