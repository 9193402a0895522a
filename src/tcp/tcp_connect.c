/* `inetkit tcp connect`: netcat-style client. stdin goes to the server and
 * the server's bytes to stdout; stdin's EOF half-closes (close_notify over
 * TLS, then FIN) and we keep reading until the server closes (RFC 9293
 * section 3.6). TLS verifies the chain against the system store or
 * --cacert and the host name or address (RFC 9525). The server may be a
 * UNIX-domain socket (unix:PATH); -s binds a source address first. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "core/cli.h"
#include "core/connector.h"
#include "core/fsutil.h"
#include "core/loop.h"
#include "lib/str.h"
#include "core/tls.h"
#include "net/endpoint.h"
#include "tcp/tcp_int.h"

#define CONNECT_DEFAULT_MS 10000
#define SCAN_DEFAULT_MS 1000
#define STDIN_CHUNK 65536
#define OUT_HIGH (1024 * 1024)	/* stop reading stdin above this much unsent */

static const char connect_help[] =
	"Usage: inetkit tcp connect [OPTIONS] HOST PORT\n"
	"       inetkit tcp connect [OPTIONS] unix:PATH\n"
	"       inetkit tcp connect --scan LOW-HIGH [OPTIONS] HOST\n"
	"\n"
	"Connect to HOST PORT (or the UNIX-domain socket PATH): stdin goes to the\n"
	"server, what it sends to stdout.\n"
	"At the end of stdin the sending side is shut (half-close) and the output\n"
	"is read until the server closes.\n"
	"  --timeout T     give up connecting after T seconds (default 10), and\n"
	"                  close when nothing moves for T seconds\n"
	"  --crlf          send LF line ends as CRLF\n"
	"  --hex           show both directions as a hex dump on stdout\n"
	"  --tls           TLS, verifying the certificate and the host name\n"
	"  --cacert FILE   trust the CA certificates in FILE (not the system's)\n"
	"  --insecure      TLS without verifying the certificate\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -s, --source ADDR[:PORT]  connect from this local address (and port)\n"
	"  --scan LOW-HIGH probe the ports LOW to HIGH (connect, then close) and\n"
	"                  print the open ones; --timeout is per port (default 1)\n"
	"  --parallel N    probes in flight at once (default 100)\n"
	"  --json          scan result as JSON\n"
	"  -h, --help      this help\n"
	"\n"
	"Examples:\n"
	"  echo hello | inetkit tcp connect 127.0.0.1 2007\n"
	"  inetkit tcp connect --tls example.org 443\n"
	"  inetkit tcp connect -s 127.0.0.2 127.0.0.1 2007\n"
	"  inetkit tcp connect unix:/tmp/echo.sock\n"
	"  inetkit tcp connect --scan 1-1024 127.0.0.1\n"
	"Exit status: 0 done, 1 refused, timed out, unknown host or TLS failure,\n"
	"2 bad usage.\n";

enum { OPT_TIMEOUT = 256, OPT_CRLF, OPT_HEX, OPT_TLS, OPT_CACERT, OPT_INSECURE, OPT_SCAN,
       OPT_PARALLEL, OPT_JSON };

static const struct option connect_opts[] = {
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"crlf", no_argument, NULL, OPT_CRLF},
	{"hex", no_argument, NULL, OPT_HEX},
	{"tls", no_argument, NULL, OPT_TLS},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"scan", required_argument, NULL, OPT_SCAN},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"json", no_argument, NULL, OPT_JSON},
	{"source", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct nc {
	struct loop *loop;
	struct event_base *base;
	const char *host;
	char addr[ENDPOINT_TEXT_MAX];	/* the address connected to, for messages */
	struct endpoint eps[CONNECTOR_MAX_ADDRS];
	size_t neps;
	struct endpoint source;
	bool has_source;
	int fd;
	struct connector *connecting;
	uint64_t timeout_ms;		/* 0: none given */
	struct bufferevent *bev;
	SSL_CTX *ctx;
	bool tls, tls_ready;
	struct event *stdin_ev;
	bool stdin_pollable, stdin_eof, stdin_paused, wr_shut;
	struct event *idle;
	uint64_t last_ms;
	bool crlf, last_cr, hex;
	uint64_t hex_out, hex_in;
	int rc;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nc_fail(struct nc *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void nc_fail(struct nc *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("inetkit tcp: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	n->rc = CLI_FAIL;
	loop_exit(n->loop);
}

/* One line per 16 bytes: direction, offset, hex, printable bytes. */
static void hexdump(char dir, uint64_t *off, const unsigned char *p, size_t n)
{
	char line[96];
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;
		size_t at = (size_t)str_fmt(line, sizeof line, "%c %08llx ", dir,
					    (unsigned long long)(*off + i));
		for (size_t j = 0; j < 16; j++) {
			if (j == 8)
				line[at++] = ' ';
			if (j < k)
				at += (size_t)str_fmt(line + at, sizeof line - at, " %02x", p[i + j]);
			else
				at += (size_t)str_fmt(line + at, sizeof line - at, "   ");
		}
		at += (size_t)str_fmt(line + at, sizeof line - at, "  |");
		for (size_t j = 0; j < k; j++)
			line[at++] = p[i + j] >= 0x20 && p[i + j] < 0x7f ? (char)p[i + j] : '.';
		line[at++] = '|';
		line[at++] = '\n';
		fs_write_all(1, line, at);
	}
	*off += n;
}

/* ---- data both ways ---- */

static void half_close(struct nc *n)
{
	if (n->wr_shut || (n->tls && !n->tls_ready))
		return;		/* TLS: after the handshake (on_event calls again) */
	n->wr_shut = true;
	if (n->tls) {
		ERR_clear_error();
		SSL_shutdown(bufferevent_openssl_get_ssl(n->bev));
	}
	shutdown(n->fd, SHUT_WR);
}

static void send_bytes(struct nc *n, const char *p, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(n->bev);
	if (n->hex)
		hexdump('>', &n->hex_out, (const unsigned char *)p, len);
	if (!n->crlf) {
		bufferevent_write(n->bev, p, len);
		return;
	}
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !(i > 0 ? p[i - 1] == '\r' : n->last_cr)) {
			evbuffer_add(out, p + start, i - start);
			evbuffer_add(out, "\r\n", 2);
			start = i + 1;
		}
	}
	evbuffer_add(out, p + start, len - start);
	if (len > 0)
		n->last_cr = p[len - 1] == '\r';
}

/* Read stdin while the socket keeps up. Returns after EAGAIN, EOF, or
 * when OUT_HIGH bytes wait to be sent. */
static void pump_stdin(struct nc *n)
{
	char buf[STDIN_CHUNK];
	while (!n->stdin_eof) {
		if (evbuffer_get_length(bufferevent_get_output(n->bev)) > OUT_HIGH) {
			if (n->stdin_ev != NULL && !n->stdin_paused)
				event_del(n->stdin_ev);
			n->stdin_paused = true;
			return;
		}
		ssize_t k = read(0, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) {
			n->stdin_eof = true;
			if (n->stdin_ev != NULL)
				event_del(n->stdin_ev);
			if (evbuffer_get_length(bufferevent_get_output(n->bev)) == 0)
				half_close(n);
			return;
		}
		n->last_ms = now_ms();
		send_bytes(n, buf, (size_t)k);
		if (n->stdin_pollable)
			return;	/* one read per readiness; the loop calls again */
	}
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump_stdin(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct nc *n = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	n->last_ms = now_ms();
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		if (n->hex)
			hexdump('<', &n->hex_in, v.iov_base, v.iov_len);
		else if (fs_write_all(1, v.iov_base, v.iov_len) < 0) {
			n->rc = CLI_FAIL;	/* stdout is gone: nobody to tell */
			loop_exit(n->loop);
			return;
		}
		evbuffer_drain(in, v.iov_len);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct nc *n = arg;
	if (n->stdin_eof) {
		half_close(n);
		return;
	}
	if (n->stdin_paused) {
		n->stdin_paused = false;
		if (n->stdin_ev != NULL)
			event_add(n->stdin_ev, NULL);
	}
	if (!n->stdin_pollable)
		pump_stdin(n);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct nc *n = arg;
	const char *addr = n->addr;
	if (what & BEV_EVENT_CONNECTED) {
		n->tls_ready = true;
		if (n->stdin_eof && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			half_close(n);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		loop_exit(n->loop);
		return;
	}
	if (!(what & BEV_EVENT_ERROR))
		return;
	if (n->tls && !n->tls_ready) {
		char why[256];
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		unsigned long err = bufferevent_get_openssl_error(bev);
		tls_error_text(ssl, err, why, sizeof why);
		if (err == 0 && SSL_get_verify_result(ssl) == X509_V_OK)
			str_copy(why, sizeof why, "the server closed the connection");
		nc_fail(n, "TLS handshake with %s failed: %s%s", addr, why,
			SSL_get_verify_result(ssl) != X509_V_OK
				? " (--cacert FILE trusts another CA; --insecure skips the check)" : "");
		return;
	}
	unsigned long err = n->tls ? bufferevent_get_openssl_error(bev) : 0;
	if (err != 0) {
		char why[256];
		nc_fail(n, "connection to %s failed: %s", addr, tls_error_text(NULL, err, why, sizeof why));
		return;
	}
	int e = EVUTIL_SOCKET_ERROR();
	nc_fail(n, "connection to %s lost: %s", addr,
		e == ECONNRESET || e == EPIPE ? "connection reset by peer" : strerror(e));
}

/* ---- timeouts ---- */

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct nc *n = arg;
	uint64_t now = now_ms();
	if (now - n->last_ms >= n->timeout_ms) {
		nc_fail(n, "nothing sent or received for %llu ms; closing (--timeout)",
			(unsigned long long)n->timeout_ms);
		return;
	}
	struct timeval tv = loop_tv(n->last_ms + n->timeout_ms - now);
	event_add(n->idle, &tv);
}

/* ---- connecting ---- */

static void connected(struct nc *n)
{
	int one = 1;
	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	ik_err e;
	if (n->tls) {
		SSL *ssl = tls_client_ssl(n->ctx, n->host, NULL, &e);
		if (ssl == NULL) {
			close(n->fd);
			n->fd = -1;
			nc_fail(n, "%s", e.msg);
			return;
		}
		n->bev = bufferevent_openssl_socket_new(n->base, n->fd, ssl, BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
		if (n->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(n->bev, 1);
	} else {
		n->bev = bufferevent_socket_new(n->base, n->fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (n->bev == NULL) {
		close(n->fd);
		n->fd = -1;
		nc_fail(n, "out of memory");
		return;
	}
	bufferevent_setcb(n->bev, on_read, on_write, on_event, n);
	bufferevent_enable(n->bev, EV_READ | EV_WRITE);
	n->last_ms = now_ms();
	if (n->timeout_ms > 0) {
		n->idle = loop_timer(n->loop, n->timeout_ms, false, on_idle, n);
	}
	struct stat st;
	n->stdin_pollable = fstat(0, &st) == 0 &&
		(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(0)));
	if (n->stdin_pollable) {
		n->stdin_ev = event_new(n->base, 0, EV_READ | EV_PERSIST, on_stdin, n);
		if (n->stdin_ev == NULL || event_add(n->stdin_ev, NULL) < 0)
			n->stdin_pollable = false;
	}
	if (!n->stdin_pollable)
		pump_stdin(n);
}

static void on_connected(int fd, const struct endpoint *ep, int err, const char *why, void *arg)
{
	(void)err;
	struct nc *n = arg;
	n->connecting = NULL;
	str_copy(n->addr, sizeof n->addr, ep->text);
	if (fd < 0) {
		/* Every address failed: name the last one and why. */
		nc_fail(n, "cannot connect to %s: %s", ep->text, why);
		return;
	}
	n->fd = fd;
	connected(n);
}

static int nc_run(struct nc *n)
{
	ik_err e;
	n->loop = loop_new(&e);
	if (n->loop == NULL)
		return cli_error("tcp", CLI_FAIL, "%s", e.msg);
	n->base = loop_base(n->loop);
	n->fd = -1;
	struct connector_opts o = {
		.timeout_ms = n->timeout_ms > 0 ? n->timeout_ms : CONNECT_DEFAULT_MS,
		.source = n->has_source ? &n->source : NULL,
	};
	n->connecting = connector_start(n->loop, n->eps, n->neps, &o, on_connected, n, &e);
	if (n->connecting == NULL)
		nc_fail(n, "%s", e.msg);
	else
		loop_run(n->loop);
	connector_cancel(n->connecting);
	if (n->stdin_ev != NULL)
		event_free(n->stdin_ev);
	if (n->idle != NULL)
		event_free(n->idle);
	if (n->bev != NULL)
		bufferevent_free(n->bev);
	else if (n->fd >= 0)
		close(n->fd);
	loop_free(n->loop);
	return n->rc;
}

int tcp_connect_main(int argc, char **argv)
{
	struct nc n = {0};
	struct tls_client_opts to = {0};
	const char *scan = NULL, *source = NULL;
	uint64_t parallel = 100;
	bool json = false, timeout_set = false;
	int family = AF_UNSPEC, o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h46s:", connect_opts, NULL)) != -1) {
		switch (o) {
		case OPT_TIMEOUT:
			if (tcp_parse_seconds(optarg, &n.timeout_ms) < 0 || n.timeout_ms == 0)
				return cli_usage_error("tcp", "--timeout '%s' is not a duration above 0 "
						       "(seconds, or 500ms)", optarg);
			timeout_set = true;
			break;
		case OPT_CRLF: n.crlf = true; break;
		case OPT_HEX: n.hex = true; break;
		case OPT_TLS: n.tls = true; break;
		case OPT_CACERT: to.ca_file = optarg; n.tls = true; break;
		case OPT_INSECURE: to.insecure = true; n.tls = true; break;
		case OPT_SCAN: scan = optarg; break;
		case OPT_PARALLEL:
			if (str_to_u64(optarg, 10000, &parallel) < 0 || parallel == 0)
				return cli_usage_error("tcp", "--parallel '%s' must be a number from 1 to 10000",
						       optarg);
			break;
		case OPT_JSON: json = true; break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 's': source = optarg; break;
		case 'h': return cli_help(connect_help);
		case ':': return cli_usage_error("tcp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_unknown_option("tcp", argv[optind - 1], CLI_NAMES(connect_opts));
		}
	}
	int left = argc - optind;
	if (scan != NULL) {
		if (left != 1)
			return cli_usage_error("tcp", "--scan takes one HOST (the ports come from --scan)");
		struct scan_opts so = {
			.socktype = SOCK_STREAM, .family = family,
			.timeout_ms = timeout_set ? n.timeout_ms : SCAN_DEFAULT_MS,
			.parallel = (unsigned)parallel, .json = json, .what = "--scan",
		};
		return port_scan_run(argv[optind], scan, &so);
	}
	ik_err e;
	bool unix_path = left >= 1 && endpoint_is_unix(argv[optind]);
	if (unix_path ? left != 1 : left != 2)
		return cli_usage_error("tcp", unix_path ? "too many arguments: unix:PATH takes no PORT"
				       : left < 2 ? "missing HOST and PORT" : "too many arguments");
	n.host = argv[optind];
	if (unix_path) {
		if (endpoint_unix(n.host, &n.eps[0], &e) < 0)
			return cli_usage_error("tcp", "%s", e.msg);
		n.neps = 1;
		n.host = "localhost";	/* the name a TLS certificate must match */
	} else {
		uint16_t port;
		if (endpoint_parse_port(argv[optind + 1], &port, &e) < 0 || port == 0)
			return cli_usage_error("tcp", "port '%s' is not a number from 1 to 65535",
					       argv[optind + 1]);
		if (endpoint_resolve_connect(n.host, port, family, SOCK_STREAM, n.eps,
					     CONNECTOR_MAX_ADDRS, &n.neps, &e) < 0 || n.neps == 0) {
			if (n.neps == 0 && e.msg[0] == '\0')
				ik_err_set(&e, "cannot resolve '%s': no address", n.host);
			return cli_error("tcp", CLI_FAIL, "%s", e.msg);
		}
	}
	if (source != NULL) {
		if (unix_path)
			return cli_usage_error("tcp", "-s/--source applies to TCP; unix:PATH has no "
					       "source address");
		if (endpoint_parse_source(source, &n.source, &e) < 0)
			return cli_usage_error("tcp", "%s", e.msg);
		n.has_source = true;
	}
	if (n.tls) {
		n.ctx = tls_client_ctx(&to, &e);
		if (n.ctx == NULL)
			return cli_error("tcp", CLI_USAGE, "%s", e.msg);
	}
	int rc = nc_run(&n);
	if (n.ctx != NULL)
		SSL_CTX_free(n.ctx);
	return rc;
}
