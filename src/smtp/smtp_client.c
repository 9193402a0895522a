/* The SMTP client dialect on the event loop (see smtp_client.h for the
 * RFCs). One struct per connection; every wait is a libevent callback with
 * the bufferevent's read time-out (RFC 5321 4.5.3.2: 5 minutes for the
 * greeting and commands, 10 for the end of DATA, by the caller's opts).
 * The message file is read in slices as the socket drains (a local file
 * in the page cache: short reads, not worth an offload hop). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "core/connector.h"
#include "core/dotstuff.h"
#include "core/term.h"
#include "core/reply_num.h"
#include "core/tls.h"
#include "lib/base64.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "smtp/smtp_client.h"

#define LINE_MAX_BYTES 4096
/* One whole reply: an EHLO reply is a few hundred bytes; a server that
 * keeps a multi-line reply going forever is cut off here. */
#define REPLY_MAX_BYTES (64 * 1024)
#define BODY_SLICE (64 * 1024)

enum st {
	ST_CONNECT, ST_GREETING, ST_EHLO, ST_HELO, ST_STARTTLS, ST_AUTH, ST_AUTH_LOGIN_USER,
	ST_AUTH_LOGIN_PASS, ST_MAIL, ST_RCPT, ST_DATA, ST_BODY, ST_DOT, ST_QUIT, ST_DONE,
	ST_BDAT,	/* chunks sent, their replies awaited */
	ST_IDLE,	/* keep_open: between transactions */
	ST_RSET,	/* the next transaction begins */
	ST_CLOSING,	/* smtp_client_quit: QUIT queued, closing when it is out */
};

struct smtp_client {
	struct loop *loop;
	struct bufferevent *bev;
	struct smtp_client_opts o;
	char host[256];
	const struct smtp_envelope *env;
	size_t *idx;
	size_t n;
	int msg_fd;
	off_t msg_off;
	uint64_t body_sent;	/* DATA: bytes written, stuffed, CR LF, before the end line */
	struct dot_stuffer stuffer;
	bool body_done;
	smtp_client_cb cb;
	void *arg;
	enum st st;
	struct reply_num rn;
	size_t reply_bytes;	/* of the reply being read */
	int code;
	char text[400];		/* the first line of the reply, after the code */
	unsigned ext;		/* SMTP_EXT_* of the last EHLO */
	uint64_t max_size;
	bool tls;
	bool esmtp;
	size_t rcpt_next;	/* RCPT replies seen */
	size_t accepted;
	struct smtp_client_result res;
	struct connector *conn;	/* connecting (core/connector), until its callback */
	off_t msg_end;		/* BDAT: the file's size */
	size_t bdat_sent, bdat_acked;
	bool bdat_last;		/* the LAST chunk is out */
};

unsigned smtp_client_ehlo_line(const char *line, size_t len, uint64_t *size)
{
	char buf[256];
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *sp = strchr(buf, ' ');
	char *args = sp ? sp + 1 : buf + len;
	if (sp)
		*sp = '\0';
	if (strcasecmp(buf, "STARTTLS") == 0)
		return SMTP_EXT_STARTTLS;
	if (strcasecmp(buf, "PIPELINING") == 0)
		return SMTP_EXT_PIPELINING;
	if (strcasecmp(buf, "8BITMIME") == 0)
		return SMTP_EXT_8BITMIME;
	if (strcasecmp(buf, "SMTPUTF8") == 0)
		return SMTP_EXT_SMTPUTF8;
	if (strcasecmp(buf, "DSN") == 0)
		return SMTP_EXT_DSN;
	if (strcasecmp(buf, "CHUNKING") == 0)
		return SMTP_EXT_CHUNKING;
	if (strcasecmp(buf, "SIZE") == 0) {
		uint64_t v = 0;
		const char *p = args;
		while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (size)
			*size = v;
		return SMTP_EXT_SIZE;
	}
	if (strcasecmp(buf, "AUTH") == 0) {
		unsigned f = 0;
		char *save = NULL;
		for (char *w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (strcasecmp(w, "PLAIN") == 0)
				f |= SMTP_EXT_AUTH_PLAIN;
			else if (strcasecmp(w, "LOGIN") == 0)
				f |= SMTP_EXT_AUTH_LOGIN;
		}
		return f;
	}
	return 0;
}

void smtp_client_xtext(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	if (outsz == 0)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e || c == '+' || c == '=') {
			if (o + 4 > outsz)
				break;
			static const char hex[] = "0123456789ABCDEF";
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 2 > outsz)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void client_free(void *arg)
{
	struct smtp_client *c = arg;
	free(c->res.rcpt);
	free(c->idx);
	free(c);
}

/* Report and close. The struct itself goes after the current callback
 * returns, so that the code that called finish may still look at c->st. */
static void finish(struct smtp_client *c)
{
	c->st = ST_DONE;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	smtp_client_cb cb = c->cb;
	c->cb = NULL;
	if (cb)
		cb(c->arg, &c->res);
	if (loop_defer(c->loop, client_free, c) < 0)
		client_free(c);	/* only when out of memory, and nothing follows */
}

/* The dialogue stops: every recipient without a result of its own gets
 * this one. */
static void fail(struct smtp_client *c, int code, bool temp, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct smtp_client *c, int code, bool temp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res.text, sizeof c->res.text, fmt, ap);
	va_end(ap);
	c->res.code = code;
	c->res.temp = temp;
	c->res.stale = c->st == ST_RSET;
	for (size_t i = 0; i < c->n; i++) {
		struct smtp_client_rcpt *r = &c->res.rcpt[i];
		if (r->code == 0 || (r->code >= 200 && r->code < 300)) {
			r->code = code;
			str_copy(r->text, sizeof r->text, c->res.text);
		}
	}
	/* A polite QUIT is not worth waiting for after a failure. */
	finish(c);
}

/* --trace (mail send): "> " sent, "< " received, "* " notes, in the
 * format of the blocking client core's trace; control bytes as '?'. */
static void trace_text(struct smtp_client *c, char dir, const char *s, size_t n)
{
	if (!c->o.trace)
		return;
	flockfile(c->o.trace);
	putc_unlocked(dir, c->o.trace);
	putc_unlocked(' ', c->o.trace);
	for (size_t i = 0; i < n; i++)
		putc_unlocked(term_safe_char((unsigned char)s[i]), c->o.trace);
	putc_unlocked('\n', c->o.trace);
	funlockfile(c->o.trace);
	fflush(c->o.trace);
}

static void trace_note(struct smtp_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void trace_note(struct smtp_client *c, const char *fmt, ...)
{
	if (!c->o.trace)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	trace_text(c, '*', buf, strlen(buf));
}

/* The learner's map of the dialogue: which step of RFC 5321 this is. */
static void trace_step(struct smtp_client *c, const char *step)
{
	trace_note(c, "step: %s", step);
}

/* keep: how many bytes of the line the trace shows before "****"
 * (SIZE_MAX: all of it). */
static int send_vline(struct smtp_client *c, size_t keep, const char *fmt, va_list ap)
{
	char buf[2048];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	if (c->o.trace) {
		if (keep >= (size_t)n) {
			trace_text(c, '>', buf, (size_t)n);
		} else {
			char shown[64];
			str_fmt(shown, sizeof shown, "%.*s****", (int)keep, buf);
			trace_text(c, '>', shown, strlen(shown));
		}
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int rc = evbuffer_add(out, buf, (size_t)n);
	explicit_bzero(buf, sizeof buf);
	if (rc < 0 || evbuffer_add(out, "\r\n", 2) < 0)
		return -1;
	return 0;
}

static int send_line(struct smtp_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int send_line(struct smtp_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = send_vline(c, SIZE_MAX, fmt, ap);
	va_end(ap);
	return rc;
}

/* A line holding credentials: the trace shows its first keep bytes. */
static int send_secret(struct smtp_client *c, size_t keep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int send_secret(struct smtp_client *c, size_t keep, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = send_vline(c, keep, fmt, ap);
	va_end(ap);
	return rc;
}

static void set_timeout(struct smtp_client *c, uint64_t ms)
{
	struct timeval tv = loop_tv(ms);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

static void send_ehlo(struct smtp_client *c)
{
	c->ext = 0;
	c->max_size = 0;
	c->st = ST_EHLO;
	trace_step(c, "capability (EHLO: which extensions the server offers)");
	send_line(c, "EHLO %s", c->o.helo);
}

static void send_envelope(struct smtp_client *c);

static void after_ehlo(struct smtp_client *c)
{
	if (!c->tls && c->o.tls != SMTP_TLS_NONE && (c->ext & SMTP_EXT_STARTTLS)) {
		c->st = ST_STARTTLS;
		trace_step(c, "TLS (STARTTLS: encrypt the connection, then EHLO again)");
		send_line(c, "STARTTLS");
		return;
	}
	if (!c->tls && c->o.tls == SMTP_TLS_REQUIRED) {
		fail(c, 454, true, "4.7.5 TLS is required for %s but the server does not offer STARTTLS",
		     c->host);
		return;
	}
	if (c->o.auth_user) {
		char resp[1024];
		if (c->ext & SMTP_EXT_AUTH_PLAIN) {
			char raw[600];
			size_t ul = strlen(c->o.auth_user), pl = strlen(c->o.auth_pass);
			if (ul + pl + 2 > sizeof raw) {
				fail(c, 535, false, "AUTH: user name or password too long");
				return;
			}
			raw[0] = '\0';
			memcpy(raw + 1, c->o.auth_user, ul);
			raw[1 + ul] = '\0';
			memcpy(raw + 2 + ul, c->o.auth_pass, pl);
			if (base64_encode(raw, ul + pl + 2, resp, sizeof resp) < 0) {
				fail(c, 535, false, "AUTH: credentials too long");
				return;
			}
			explicit_bzero(raw, sizeof raw);
			c->st = ST_AUTH;
			trace_step(c, "authentication (AUTH PLAIN: user and password, base64)");
			send_secret(c, strlen("AUTH PLAIN "), "AUTH PLAIN %s", resp);
			explicit_bzero(resp, sizeof resp);
			return;
		}
		if (c->ext & SMTP_EXT_AUTH_LOGIN) {
			c->st = ST_AUTH_LOGIN_USER;
			trace_step(c, "authentication (AUTH LOGIN: user, then password, base64)");
			send_line(c, "AUTH LOGIN");
			return;
		}
		fail(c, 454, true, "4.7.0 %s does not offer AUTH PLAIN or LOGIN%s", c->host,
		     c->tls ? "" : " (without TLS)");
		return;
	}
	send_envelope(c);
}

static void send_rcpt(struct smtp_client *c, size_t k)
{
	const struct smtp_env_rcpt *r = &c->env->rcpt[c->idx[k]];
	char params[600] = "";
	if (c->ext & SMTP_EXT_DSN) {
		char nt[64], x[500];
		if (r->notify) {
			smtp_queue_notify_text(r->notify, nt, sizeof nt);
			for (char *p = nt; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			str_fmt(params, sizeof params, " NOTIFY=%s", nt);
		}
		if (r->orcpt) {
			const char *semi = strchr(r->orcpt, ';');
			smtp_client_xtext(semi ? semi + 1 : r->orcpt, x, sizeof x);
			size_t l = strlen(params);
			str_fmt(params + l, sizeof params - l, " ORCPT=%.*s;%s",
				semi ? (int)(semi - r->orcpt) : 7, semi ? r->orcpt : "rfc822", x);
		}
	}
	send_line(c, "RCPT TO:<%s>%s", r->addr, params);
}

static void send_envelope(struct smtp_client *c)
{
	if (c->env->smtputf8 && !(c->ext & SMTP_EXT_SMTPUTF8)) {
		fail(c, 553, false, "5.6.7 the message needs SMTPUTF8 (RFC 6531: UTF-8 addresses "
		     "or headers) and %s does not support it", c->host);
		return;
	}
	if ((c->ext & SMTP_EXT_SIZE) && c->max_size > 0 && c->env->size > c->max_size) {
		fail(c, 552, false, "5.3.4 the message (%llu bytes) is larger than %s accepts "
		     "(SIZE %llu)", (unsigned long long)c->env->size, c->host,
		     (unsigned long long)c->max_size);
		return;
	}
	char params[700] = "";
	size_t l = 0;
	if (c->ext & SMTP_EXT_SIZE)
		str_fmt(params, sizeof params, " SIZE=%llu", (unsigned long long)c->env->size);
	l = strlen(params);
	if (c->env->body == SMTP_BODY_8BITMIME && (c->ext & SMTP_EXT_8BITMIME))
		str_fmt(params + l, sizeof params - l, " BODY=8BITMIME");
	l = strlen(params);
	if (c->env->smtputf8)
		str_fmt(params + l, sizeof params - l, " SMTPUTF8");
	l = strlen(params);
	if (c->ext & SMTP_EXT_DSN) {
		if (c->env->ret != SMTP_RET_UNSET)
			str_fmt(params + l, sizeof params - l, " RET=%s",
				c->env->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
		l = strlen(params);
		if (c->env->envid) {
			char x[300];
			smtp_client_xtext(c->env->envid, x, sizeof x);
			str_fmt(params + l, sizeof params - l, " ENVID=%s", x);
		}
	}
	c->st = ST_MAIL;
	trace_step(c, "envelope (MAIL FROM and RCPT TO: who sends, who receives)");
	c->rcpt_next = 0;
	c->accepted = 0;
	send_line(c, "MAIL FROM:<%s>%s", c->env->from, params);
	/* RFC 2920: with PIPELINING the whole MAIL/RCPT group goes at once;
	 * the replies come back in order. */
	if (c->ext & SMTP_EXT_PIPELINING)
		for (size_t k = 0; k < c->n; k++)
			send_rcpt(c, k);
}

static void fill_body(struct smtp_client *c);
static void send_chunk(struct smtp_client *c);
static void rewire(struct smtp_client *c);

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtp_client *c = arg;
	if (c->st == ST_BODY)
		fill_body(c);
	else if (c->st == ST_BDAT && (c->ext & SMTP_EXT_PIPELINING) && !c->bdat_last)
		send_chunk(c);	/* RFC 3030 4.2: chunks may be pipelined */
	else if (c->st == ST_CLOSING && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		finish(c);
}

/* Add slices of the message, stuffed, until the output holds one slice's
 * worth; the write callback (output drained) asks for more. */
static void fill_body(struct smtp_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	static char in[BODY_SLICE / 4];
	char stuffed[sizeof in * DOTSTUFF_OUT_PER_BYTE];
	while (!c->body_done && evbuffer_get_length(out) < BODY_SLICE) {
		ssize_t n = pread(c->msg_fd, in, sizeof in, c->msg_off);
		if (n < 0) {
			fail(c, 451, true, "4.3.0 reading the queued message: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			char end[DOTSTUFF_END_MAX];
			size_t el = dotstuff_end(&c->stuffer, end);
			evbuffer_add(out, end, el);
			/* what went on the wire before the end line, not the
			 * file's size (LF line ends) */
			trace_note(c, "sent a message of %llu bytes (dot-stuffed, CR LF line ends)",
				   (unsigned long long)c->body_sent);
			trace_text(c, '>', ".", 1);
			c->body_done = true;
			c->st = ST_DOT;
			set_timeout(c, c->o.data_ms);
			break;
		}
		c->msg_off += n;
		size_t done = 0;
		while (done < (size_t)n) {
			size_t wl = 0;
			done += dotstuff_stuff(&c->stuffer, in + done, (size_t)n - done, stuffed,
					       sizeof stuffed, &wl);
			evbuffer_add(out, stuffed, wl);
			c->body_sent += wl;
		}
	}
}

static bool ok2(int code) { return code >= 200 && code < 300; }

/* A transaction ended with the connection in a known state: with
 * keep_open it stays, idle, for smtp_client_next; otherwise QUIT. The
 * caller's callback may call smtp_client_next or smtp_client_quit. */
static void transaction_end(struct smtp_client *c, bool usable)
{
	if (!c->o.keep_open || !usable) {
		trace_step(c, "end (QUIT)");
		send_line(c, "QUIT");
		/* The results are final now; the QUIT reply adds nothing. */
		finish(c);
		return;
	}
	c->st = ST_IDLE;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->res.reusable = true;
	smtp_client_cb cb = c->cb;
	c->cb = NULL;
	if (cb)
		cb(c->arg, &c->res);
}

/* The reply to the message gives every accepted recipient its result. */
static void rcpt_results(struct smtp_client *c, int code)
{
	for (size_t i = 0; i < c->n; i++) {
		struct smtp_client_rcpt *r = &c->res.rcpt[i];
		if (ok2(r->code)) {
			r->code = code;
			str_copy(r->text, sizeof r->text, c->text);
		}
	}
}

/* The reply to the end of the message (".", or BDAT ... LAST). */
static void end_of_data(struct smtp_client *c, int code)
{
	rcpt_results(c, code);
	/* 421: the server is closing the connection (RFC 5321 3.8). */
	transaction_end(c, code != 421);
}

/* RFC 3030: the next chunk, converted to CR LF line ends (no dot
 * stuffing: the size says where it ends), up to BODY_SLICE bytes of wire
 * octets; the last one, with the message's final line end, says LAST. */
static void send_chunk(struct smtp_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer *chunk = evbuffer_new();
	static char in[BODY_SLICE / 4];
	char conv[sizeof in * DOTSTUFF_OUT_PER_BYTE];
	if (!chunk) {
		fail(c, 451, true, "4.3.0 out of memory");
		return;
	}
	while (evbuffer_get_length(chunk) < BODY_SLICE && c->msg_off < c->msg_end) {
		size_t want = sizeof in;
		if ((off_t)want > c->msg_end - c->msg_off)
			want = (size_t)(c->msg_end - c->msg_off);
		ssize_t n = pread(c->msg_fd, in, want, c->msg_off);
		if (n <= 0) {
			evbuffer_free(chunk);
			fail(c, 451, true, "4.3.0 reading the queued message: %s",
			     n < 0 ? strerror(errno) : "shorter than its size");
			return;
		}
		c->msg_off += n;
		size_t done = 0;
		while (done < (size_t)n) {
			size_t wl = 0;
			done += dotstuff_stuff(&c->stuffer, in + done, (size_t)n - done, conv,
					       sizeof conv, &wl);
			evbuffer_add(chunk, conv, wl);
		}
	}
	bool last = c->msg_off >= c->msg_end;
	if (last) {
		char end[2];
		evbuffer_add(chunk, end, dotstuff_end_line(&c->stuffer, end));
	}
	send_line(c, "BDAT %zu%s", evbuffer_get_length(chunk), last ? " LAST" : "");
	evbuffer_add_buffer(out, chunk);
	evbuffer_free(chunk);
	c->bdat_sent++;
	if (last) {
		c->bdat_last = true;
		set_timeout(c, c->o.data_ms);
	}
}

static void start_body(struct smtp_client *c)
{
	c->msg_off = 0;
	c->body_sent = 0;
	dotstuff_stuff_init(&c->stuffer);
	if (!(c->ext & SMTP_EXT_CHUNKING)) {
		c->st = ST_DATA;
		trace_step(c, "data (DATA: the message itself, ended by a line \".\")");
		send_line(c, "DATA");
		return;
	}
	struct stat st;
	if (fstat(c->msg_fd, &st) < 0) {
		fail(c, 451, true, "4.3.0 reading the queued message: %s", strerror(errno));
		return;
	}
	c->res.chunking = true;
	c->stuffer.no_dots = true;
	c->msg_end = st.st_size;
	c->bdat_sent = c->bdat_acked = 0;
	c->bdat_last = false;
	c->st = ST_BDAT;
	trace_step(c, "data (BDAT: the message in chunks of a stated size)");
	send_chunk(c);
}

/* Put a TLS filter over the connection (after STARTTLS's 220, or at once
 * for implicit TLS): the verifying context when TLS is required. */
static int start_tls(struct smtp_client *c)
{
	bool verify = c->o.tls == SMTP_TLS_REQUIRED;
	SSL_CTX *ctx = verify ? c->o.tls_verify : c->o.tls_may;
	ik_err e;
	SSL *ssl = ctx ? tls_client_ssl(ctx, c->o.tls_name ? c->o.tls_name : c->host,
					NULL, &e) : NULL;
	if (!ssl) {
		fail(c, 454, true, "TLS: %s", ctx ? e.msg : "no TLS context");
		return -1;
	}
	struct bufferevent *tb = bufferevent_openssl_filter_new(
		loop_base(c->loop), c->bev, ssl, BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tb) {
		SSL_free(ssl);
		fail(c, 454, true, "TLS: cannot start the handshake");
		return -1;
	}
	c->bev = tb;
	c->tls = true;
	rewire(c);
	return 0;
}

/* One complete reply in c->code / c->text. */
static void on_reply(struct smtp_client *c)
{
	int code = c->code;
	bool temp = code >= 400 && code < 500;
	switch (c->st) {
	case ST_GREETING:
		if (!ok2(code)) {
			fail(c, code, code < 500, "%s greeted with %d %s", c->host, code, c->text);
			return;
		}
		c->res.connected = true;
		send_ehlo(c);
		return;
	case ST_EHLO:
		if (ok2(code)) {
			c->esmtp = true;
			after_ehlo(c);
			return;
		}
		if (code == 421 || c->o.tls == SMTP_TLS_REQUIRED || c->o.auth_user) {
			fail(c, code, code < 500, "EHLO: %d %s", code, c->text);
			return;
		}
		c->st = ST_HELO;
		send_line(c, "HELO %s", c->o.helo);
		return;
	case ST_HELO:
		if (!ok2(code)) {
			fail(c, code, temp, "HELO: %d %s", code, c->text);
			return;
		}
		send_envelope(c);
		return;
	case ST_STARTTLS: {
		if (code != 220) {
			if (c->o.tls == SMTP_TLS_REQUIRED) {
				fail(c, code, true, "STARTTLS refused: %d %s", code, c->text);
				return;
			}
			/* Opportunistic: go on in plain text, without asking again. */
			c->ext &= ~(unsigned)SMTP_EXT_STARTTLS;
			after_ehlo(c);
			return;
		}
		/* RFC 3207 4.2: anything the server sent after 220 is discarded */
		struct evbuffer *in = bufferevent_get_input(c->bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (start_tls(c) < 0)
			return;
		send_ehlo(c);
		return;
	}
	case ST_AUTH:
	case ST_AUTH_LOGIN_PASS:
		if (code != 235) {
			fail(c, code, temp, "AUTH refused by %s: %d %s", c->host, code, c->text);
			return;
		}
		send_envelope(c);
		return;
	case ST_AUTH_LOGIN_USER: {
		/* "334 VXNlcm5hbWU6", then "334 UGFzc3dvcmQ6": user, password */
		if (code != 334) {
			fail(c, code, temp, "AUTH LOGIN refused: %d %s", code, c->text);
			return;
		}
		char resp[700];
		const char *v = c->rcpt_next == 0 ? c->o.auth_user : c->o.auth_pass;
		if (base64_encode(v, strlen(v), resp, sizeof resp) < 0) {
			fail(c, 535, false, "AUTH: credentials too long");
			return;
		}
		if (c->rcpt_next++ == 1)
			c->st = ST_AUTH_LOGIN_PASS;
		send_secret(c, 0, "%s", resp);
		explicit_bzero(resp, sizeof resp);
		return;
	}
	case ST_MAIL:
		if (!ok2(code)) {
			/* With PIPELINING the RCPT replies still come: they are
			 * read and ignored by failing now (the connection goes). */
			fail(c, code, temp, "MAIL FROM refused: %d %s", code, c->text);
			return;
		}
		c->st = ST_RCPT;
		if (!(c->ext & SMTP_EXT_PIPELINING))
			send_rcpt(c, 0);
		return;
	case ST_RCPT: {
		struct smtp_client_rcpt *r = &c->res.rcpt[c->rcpt_next];
		r->code = code;
		str_copy(r->text, sizeof r->text, c->text);
		if (ok2(code))
			c->accepted++;
		c->rcpt_next++;
		if (c->rcpt_next < c->n) {
			if (!(c->ext & SMTP_EXT_PIPELINING))
				send_rcpt(c, c->rcpt_next);
			return;
		}
		if (c->accepted == 0) {
			c->res.code = 0;
			transaction_end(c, true);
			return;
		}
		start_body(c);
		return;
	}
	case ST_DATA:
		if (code != 354) {
			fail(c, code, temp || code < 400, "DATA refused: %d %s", code, c->text);
			return;
		}
		c->st = ST_BODY;
		fill_body(c);
		return;
	case ST_DOT:
		end_of_data(c, code);
		return;
	case ST_BDAT:
		c->bdat_acked++;
		if (!ok2(code)) {
			/* A refused chunk ends the transaction (RFC 3030 2: the
			 * server discards the message); replies to chunks already
			 * pipelined may follow, so the connection is not reused. */
			rcpt_results(c, code);
			transaction_end(c, false);
			return;
		}
		if (c->bdat_last && c->bdat_acked == c->bdat_sent) {
			end_of_data(c, code);
			return;
		}
		if (!(c->ext & SMTP_EXT_PIPELINING))
			send_chunk(c);
		return;
	case ST_RSET:
		if (!ok2(code)) {
			fail(c, code, true, "RSET refused: %d %s", code, c->text);
			return;
		}
		send_envelope(c);
		return;
	default:
		return;
	}
}

/* The server closed an idle connection (or spoke out of turn): close our
 * end; smtp_client_next then says so and the caller opens a new one. */
static void idle_drop(struct smtp_client *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct smtp_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (c->st != ST_DONE) {
		if (c->st == ST_CLOSING) {
			evbuffer_drain(in, evbuffer_get_length(in));	/* QUIT's reply */
			return;
		}
		if (c->st == ST_IDLE) {
			/* Nothing is due between transactions: a "421 idle
			 * time-out" or noise; the connection is not used again. */
			if (evbuffer_get_length(in) > 0)
				idle_drop(c);
			return;
		}
		size_t len = 0;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > LINE_MAX_BYTES) {
				fail(c, 451, true, "%s sent a reply line over %d bytes", c->host,
				     LINE_MAX_BYTES);
			}
			return;
		}
		ik_err e;
		bool first = c->rn.code == 0;
		/* RFC 5321 4.2.1: every line of a multi-line reply begins with
		 * its code and '-' or ' ' (RFC 959's free text lines are
		 * FTP's, not SMTP's): another line would leave us waiting for
		 * an end that never comes */
		if (!first && (reply_num_code(line, len) != c->rn.code ||
			       (len > 3 && line[3] != ' ' && line[3] != '-'))) {
			free(line);
			fail(c, 451, true, "%s sent a malformed multi-line reply (a line not "
			     "starting with %d)", c->host, c->rn.code);
			return;
		}
		c->reply_bytes = first ? len : c->reply_bytes + len;
		if (c->reply_bytes > REPLY_MAX_BYTES) {
			free(line);
			fail(c, 451, true, "%s sent a reply over %d bytes", c->host, REPLY_MAX_BYTES);
			return;
		}
		int rc = reply_num_line(&c->rn, line, len, "SMTP", &e);
		if (rc < 0) {
			free(line);
			fail(c, 451, true, "%s", e.msg);
			return;
		}
		trace_text(c, '<', line, len);
		const char *t = len > 4 ? line + 4 : "";
		if (first)
			str_copy(c->text, sizeof c->text, t);
		if (c->st == ST_EHLO && !first)
			c->ext |= smtp_client_ehlo_line(t, strlen(t), &c->max_size);
		free(line);
		if (rc == 1) {
			c->code = c->rn.code;
			reply_num_init(&c->rn);
			enum st before = c->st;
			on_reply(c);
			if (before == ST_STARTTLS)
				return;	/* input now comes through the TLS filter */
		}
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct smtp_client *c = arg;
	if (c->st == ST_IDLE) {
		idle_drop(c);
		return;
	}
	if (c->st == ST_CLOSING) {
		finish(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (c->st != ST_CONNECT) {
			/* a TLS filter's handshake is done: the dialogue goes on */
			if (c->o.trace) {
				SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
				trace_note(c, "TLS: %s %s", ssl ? SSL_get_version(ssl) : "?",
					   ssl ? SSL_get_cipher_name(ssl) : "?");
			}
			return;
		}
		return;	/* ST_CONNECT has no bufferevent: on_connected */
	}
	if (what & BEV_EVENT_TIMEOUT) {
		fail(c, 451, true, "4.4.2 %s: no answer in time (%s)", c->host,
		     c->st == ST_DOT ? "end of data" : "reply");
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		char why[200] = "connection closed";
		unsigned long err = bufferevent_get_openssl_error(c->bev);
		if (err) {
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			str_fmt(why, sizeof why, "TLS: %s", tls_error_text(ssl, err, why + 100, 100));
		} else if ((what & BEV_EVENT_ERROR) && EVUTIL_SOCKET_ERROR()) {
			str_fmt(why, sizeof why, "%s", strerror(EVUTIL_SOCKET_ERROR()));
		}
		fail(c, 451, true, "4.4.1 %s: %s", c->host, why);
	}
}

static void rewire(struct smtp_client *c)
{
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	set_timeout(c, c->o.reply_ms);
}

/* core/connector's answer: the socket is connected (the bufferevent is
 * made on it, the greeting awaited) or every attempt failed. */
static void on_connected(int fd, const struct endpoint *ep, int err, const char *why, void *arg)
{
	(void)ep;
	struct smtp_client *c = arg;
	c->conn = NULL;
	if (fd < 0) {
		if (err == ETIMEDOUT)
			fail(c, 451, true, "4.4.2 %s: no answer in time (connecting)", c->host);
		else
			fail(c, 451, true, "4.4.1 %s: %s", c->host, why);
		return;
	}
	c->bev = bufferevent_socket_new(loop_base(c->loop), fd,
					BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		close(fd);
		fail(c, 451, true, "4.3.0 %s: out of memory", c->host);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	trace_note(c, "connected to %s", c->res.remote);
	c->st = ST_GREETING;
	if (c->o.implicit_tls) {
		trace_step(c, "TLS (implicit: encrypted from the first byte)");
		if (start_tls(c) < 0)
			return;
	}
	trace_step(c, "greeting (the server's 220)");
	set_timeout(c, c->o.reply_ms);
}

struct smtp_client *smtp_client_start(struct loop *l, const struct sockaddr *sa, socklen_t salen,
				      const char *host, const struct smtp_client_opts *o,
				      const struct smtp_envelope *env, const size_t *idx,
				      size_t n, int msg_fd, smtp_client_cb cb, void *arg,
				      ik_err *e)
{
	if (n == 0)
		return ik_err_set(e, "smtp client: no recipients"), NULL;
	struct smtp_client *c = calloc(1, sizeof *c);
	if (!c)
		return ik_err_set(e, "out of memory"), NULL;
	c->res.rcpt = calloc(n, sizeof *c->res.rcpt);
	c->idx = malloc(n * sizeof *c->idx);
	if (!c->res.rcpt || !c->idx) {
		free(c->res.rcpt);
		free(c->idx);
		free(c);
		return ik_err_set(e, "out of memory"), NULL;
	}
	memcpy(c->idx, idx, n * sizeof *idx);
	c->n = n;
	c->loop = l;
	c->o = *o;
	if (!c->o.helo)
		c->o.helo = "localhost";
	if (!c->o.connect_ms)
		c->o.connect_ms = 30000;
	if (!c->o.reply_ms)
		c->o.reply_ms = 300000;
	if (!c->o.data_ms)
		c->o.data_ms = 600000;
	str_copy(c->host, sizeof c->host, host);
	c->env = env;
	c->msg_fd = msg_fd;
	c->cb = cb;
	c->arg = arg;
	c->st = ST_CONNECT;
	c->res.transactions = 1;
	reply_num_init(&c->rn);
	char addr[64];
	endpoint_format_host(sa, addr, sizeof addr);
	str_fmt(c->res.remote, sizeof c->res.remote, "%s [%s]", host, addr);
	/* The core connects (a non-blocking connect on the loop, bounded
	 * by connect_ms); the callback always runs from the loop. */
	struct endpoint ep;
	endpoint_from_sockaddr(&ep, sa, salen);
	struct connector_opts co = {.timeout_ms = c->o.connect_ms};
	c->conn = connector_start(l, &ep, 1, &co, on_connected, c, e);
	if (!c->conn) {
		free(c->res.rcpt);
		free(c->idx);
		free(c);
		return NULL;
	}
	return c;
}

void smtp_client_abort(struct smtp_client *c)
{
	if (!c)
		return;
	c->cb = NULL;
	if (c->conn)
		connector_cancel(c->conn);
	if (c->bev)
		bufferevent_free(c->bev);
	client_free(c);
}

int smtp_client_next(struct smtp_client *c, const struct smtp_envelope *env, const size_t *idx,
		     size_t n, int msg_fd, smtp_client_cb cb, void *arg, ik_err *e)
{
	if (c->st != ST_IDLE || !c->bev)
		return ik_err_set(e, "%s closed the connection while it was idle", c->host);
	if (n == 0)
		return ik_err_set(e, "smtp client: no recipients");
	struct smtp_client_rcpt *rcpt = calloc(n, sizeof *rcpt);
	size_t *ix = malloc(n * sizeof *ix);
	if (!rcpt || !ix) {
		free(rcpt);
		free(ix);
		return ik_err_set(e, "out of memory");
	}
	memcpy(ix, idx, n * sizeof *idx);
	free(c->res.rcpt);
	free(c->idx);
	c->res.rcpt = rcpt;
	c->idx = ix;
	c->n = n;
	c->env = env;
	c->msg_fd = msg_fd;
	c->msg_off = 0;
	c->body_done = false;
	c->cb = cb;
	c->arg = arg;
	c->res.code = 0;
	c->res.temp = false;
	c->res.text[0] = '\0';
	c->res.reusable = false;
	c->res.stale = false;
	c->res.chunking = false;
	c->res.transactions++;
	/* RFC 5321 4.1.1.5: a clean slate, and a check that the server is
	 * still there before anything of the message is committed to it. */
	c->st = ST_RSET;
	set_timeout(c, c->o.reply_ms);
	if (send_line(c, "RSET") < 0)
		return ik_err_set(e, "out of memory");
	return 0;
}

void smtp_client_quit(struct smtp_client *c)
{
	if (!c)
		return;
	c->cb = NULL;
	if (!c->bev || c->st != ST_IDLE) {
		finish(c);
		return;
	}
	/* Polite, but not waited for: closed once QUIT is written (or at
	 * the first error or time-out). */
	c->st = ST_CLOSING;
	set_timeout(c, 5000);
	send_line(c, "QUIT");
}
