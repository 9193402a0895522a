/* `inetkit udp send HOST PORT [MESSAGE]`: send MESSAGE, or each line of
 * stdin, as one datagram (RFC 768) on a connected socket, and print the
 * replies until --timeout after the last send. A message larger than one
 * datagram can carry is refused before anything is sent. A port with
 * nobody listening answers with ICMP port unreachable, which the
 * connected socket reports as "connection refused" (RFC 1122 4.1.3.3). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/cli.h"
#include "lib/str.h"
#include "net/endpoint.h"
#include "tcp/tcp_int.h"
#include "udp/udp_int.h"

#define DEFAULT_WAIT_MS 2000

static const char send_help[] =
	"Usage: inetkit udp send [OPTIONS] HOST PORT [MESSAGE]\n"
	"\n"
	"Send MESSAGE as one datagram, or without MESSAGE each line of stdin (its\n"
	"line end removed), and print each reply on its own line until --timeout\n"
	"after the last send.\n"
	"  --timeout T   wait T seconds for replies (default 2; 500ms works)\n"
	"  -4, -6        IPv4 or IPv6 only\n"
	"  -h, --help    this help\n"
	"\n"
	"A datagram holds at most 65507 bytes over IPv4 and 65527 over IPv6;\n"
	"a larger message is refused with exit status 2, nothing sent.\n"
	"Example: inetkit udp send 127.0.0.1 2007 hello\n";

static const struct option send_opts[] = {
	{"timeout", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct usend {
	int fd;
	const char *target;
	size_t max;
	const char *ipver;
	uint64_t wait_ms, last_send;
	unsigned char *rbuf;
	char *line;
	size_t linelen;
	unsigned lineno;
	bool line_over;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int unreachable(struct usend *u)
{
	return cli_error("udp", CLI_FAIL, "nothing listens on %s (port unreachable: connection "
			 "refused)", u->target);
}

static int too_big(struct usend *u, size_t len, unsigned lineno)
{
	if (lineno > 0)
		return cli_error("udp", CLI_USAGE, "line %u of stdin is more than %zu bytes; one UDP "
				 "datagram over %s holds at most %zu bytes; nothing of it was sent",
				 lineno, u->max, u->ipver, u->max);
	return cli_error("udp", CLI_USAGE, "the message is %zu bytes; one UDP datagram over %s "
			 "holds at most %zu bytes; nothing was sent", len, u->ipver, u->max);
}

static int send_one(struct usend *u, const void *p, size_t len)
{
	for (;;) {
		if (send(u->fd, p, len, 0) >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED)
			return unreachable(u);
		return cli_error("udp", CLI_FAIL, "cannot send to %s: %s", u->target, strerror(errno));
	}
	u->last_send = now_ms();
	return 0;
}

static int read_replies(struct usend *u)
{
	for (;;) {
		ssize_t n = recv(u->fd, u->rbuf, UDP_DEFAULT_BUFFER, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED)
				return unreachable(u);
			return cli_error("udp", CLI_FAIL, "cannot receive from %s: %s", u->target,
					 strerror(errno));
		}
		fwrite(u->rbuf, 1, (size_t)n, stdout);
		if (n == 0 || u->rbuf[n - 1] != '\n')
			putchar('\n');
		fflush(stdout);
	}
}

/* Split what stdin gave into lines; each complete line is one datagram. */
static int take_stdin(struct usend *u, const char *p, size_t n, bool eof)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (u->line_over)
				continue;
			if (u->linelen >= u->max) {
				u->line_over = true;
				continue;
			}
			u->line[u->linelen++] = p[i];
			continue;
		}
		u->lineno++;
		if (u->line_over)
			return too_big(u, 0, u->lineno);
		size_t len = u->linelen;
		if (len > 0 && u->line[len - 1] == '\r')
			len--;
		int rc = send_one(u, u->line, len);
		if (rc != 0)
			return rc;
		u->linelen = 0;
	}
	if (eof && (u->linelen > 0 || u->line_over)) {
		u->lineno++;
		if (u->line_over)
			return too_big(u, 0, u->lineno);
		int rc = send_one(u, u->line, u->linelen);
		u->linelen = 0;
		return rc;
	}
	return 0;
}

static int run(struct usend *u, const char *message)
{
	if (message != NULL) {
		size_t len = strlen(message);
		if (len > u->max)
			return too_big(u, len, 0);
		int rc = send_one(u, message, len);
		if (rc != 0)
			return rc;
	}
	bool stdin_open = message == NULL;
	char chunk[16384];
	for (;;) {
		struct pollfd p[2] = {{u->fd, POLLIN, 0}, {0, POLLIN, 0}};
		int timeout = -1;
		if (!stdin_open) {
			uint64_t now = now_ms();
			uint64_t due = u->last_send + u->wait_ms;
			if (now >= due)
				return CLI_OK;
			timeout = (int)(due - now);
		}
		int k = poll(p, stdin_open ? 2 : 1, timeout);
		if (k < 0 && errno != EINTR)
			return cli_error("udp", CLI_FAIL, "poll: %s", strerror(errno));
		if (k <= 0)
			continue;
		if (p[0].revents) {
			int rc = read_replies(u);
			if (rc != 0)
				return rc;
		}
		if (stdin_open && p[1].revents) {
			ssize_t n = read(0, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			bool eof = n <= 0;
			int rc = take_stdin(u, chunk, n > 0 ? (size_t)n : 0, eof);
			if (rc != 0)
				return rc;
			if (eof) {
				stdin_open = false;
				if (u->last_send == 0)
					return CLI_OK;	/* empty stdin: nothing to wait for */
			}
		}
	}
}

int udp_send_main(int argc, char **argv)
{
	struct usend u = {.fd = -1, .wait_ms = DEFAULT_WAIT_MS};
	int family = AF_UNSPEC, o;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h46", send_opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (tcp_parse_seconds(optarg, &u.wait_ms) < 0)
				return cli_usage_error("udp", "--timeout '%s' is not a duration (seconds, or "
						       "500ms)", optarg);
			break;
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 'h': return cli_help(send_help);
		case ':': return cli_usage_error("udp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_unknown_option("udp", argv[optind - 1], CLI_NAMES(send_opts));
		}
	}
	int left = argc - optind;
	if (left < 2 || left > 3)
		return cli_usage_error("udp", left < 2 ? "missing HOST and PORT" : "too many arguments "
				       "(quote a MESSAGE that has spaces)");
	uint16_t port;
	ik_err e;
	if (endpoint_parse_port(argv[optind + 1], &port, &e) < 0 || port == 0)
		return cli_usage_error("udp", "port '%s' is not a number from 1 to 65535", argv[optind + 1]);
	struct endpoint ep;
	size_t n = 0;
	if (endpoint_resolve_connect(argv[optind], port, family, SOCK_DGRAM, &ep, 1, &n, &e) < 0 ||
	    n == 0)
		return cli_error("udp", CLI_FAIL, "%s", n == 0 && e.msg[0] == '\0' ? "no address" : e.msg);
	u.target = ep.text;
	bool v4 = ep.ss.ss_family == AF_INET;
	u.max = v4 ? UDP_MAX_V4 : UDP_MAX_V6;
	u.ipver = v4 ? "IPv4" : "IPv6";
	const char *message = left == 3 ? argv[optind + 2] : NULL;
	/* Refuse before opening anything: nothing may go out. */
	if (message != NULL && strlen(message) > u.max)
		return too_big(&u, strlen(message), 0);
	u.fd = socket(ep.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u.fd < 0)
		return cli_error("udp", CLI_FAIL, "cannot create a socket: %s", strerror(errno));
	if (connect(u.fd, (struct sockaddr *)&ep.ss, ep.len) < 0) {
		int err = errno;
		close(u.fd);
		return cli_error("udp", CLI_FAIL, "cannot send to %s: %s", u.target, strerror(err));
	}
	u.rbuf = malloc(UDP_DEFAULT_BUFFER);
	u.line = malloc(u.max + 1);
	int rc;
	if (u.rbuf == NULL || u.line == NULL)
		rc = cli_error("udp", CLI_FAIL, "out of memory");
	else
		rc = run(&u, message);
	free(u.rbuf);
	free(u.line);
	close(u.fd);
	return rc;
}
