/* `inetkit udp`: dispatch, and `udp listen`: the [udp-echo] service
 * configured from the command line, on the runner serve uses
 * (tools/runner.h), in this process or in --workers processes that each
 * have their own SO_REUSEPORT sockets on the same addresses, as `tcp
 * listen` has. RFC 768 (UDP), RFC 862 (echo). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/listener.h"
#include "core/log.h"
#include "lib/str.h"
#include "core/workers.h"
#include "serve/runner.h"
#include "commands.h"
#include "udp/udp.h"
#include "udp/udp_int.h"

static const char udp_help[] =
	"Usage: inetkit udp listen [OPTIONS] [HOST:]PORT...\n"
	"       inetkit udp send [OPTIONS] HOST PORT [MESSAGE]\n"
	"       inetkit udp relay [OPTIONS] LISTEN... TARGET\n"
	"       inetkit udp scan [OPTIONS] HOST LOW-HIGH\n"
	"       inetkit udp bench [OPTIONS] HOST PORT\n"
	"\n"
	"UDP server, datagram client, forwarder, port scan and load generator.\n"
	"\n"
	"  listen   --echo (default) answers each datagram to its sender;\n"
	"           --print shows each datagram with its sender\n"
	"  send     sends MESSAGE (or each line of stdin) as a datagram and\n"
	"           prints the replies until --timeout after the last send\n"
	"  relay    forward datagrams to TARGET, each client from its own socket\n"
	"  scan     which ports answer (open), refuse (closed, ICMP) or stay\n"
	"           silent (open|filtered)\n"
	"  bench    requests/s and latency percentiles of an echo server\n"
	"\n"
	"Each has --help. Manual: inetkit help udp.\n"
	"Exit status: 0 success, 1 the operation failed, 2 bad usage (e.g. a\n"
	"message too large for one datagram, a port out of range or in use).\n";

static const char listen_help[] =
	"Usage: inetkit udp listen [OPTIONS] [HOST:]PORT...\n"
	"\n"
	"Serve UDP on each address (IPv4 and IPv6; PORT alone or *:PORT means\n"
	"every address).\n"
	"  --echo          send each datagram back to its sender (default)\n"
	"  --print         print each datagram on stdout: [PEER] TEXT\n"
	"  --buffer BYTES  receive buffer per datagram (default 65537: any\n"
	"                  datagram fits; a smaller one reports cut datagrams)\n"
	"  --log           a log line per datagram\n"
	"  --allow CIDR    take datagrams only from CIDR (repeatable; default: all)\n"
	"  --deny CIDR     drop datagrams from CIDR, allowed or not (repeatable);\n"
	"                  dropped ones get no answer\n"
	"  --workers N     N processes sharing the port (SO_REUSEPORT; default 0:\n"
	"                  serve in this process)\n"
	"  -h, --help      this help\n"
	"\n"
	"Examples:\n"
	"  inetkit udp listen 127.0.0.1:2007\n"
	"  inetkit udp listen --print '[::1]:5140' 127.0.0.1:5140\n"
	"  inetkit udp listen --workers 4 127.0.0.1:2007\n"
	"  inetkit udp listen --allow 127.0.0.0/8 --allow ::1 '*:2007'\n";

enum { OPT_ECHO = 256, OPT_PRINT, OPT_BUFFER, OPT_LOG, OPT_WORKERS, OPT_ALLOW, OPT_DENY };

static const struct option listen_opts[] = {
	{"echo", no_argument, NULL, OPT_ECHO},
	{"print", no_argument, NULL, OPT_PRINT},
	{"buffer", required_argument, NULL, OPT_BUFFER},
	{"log", no_argument, NULL, OPT_LOG},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_listen(int argc, char **argv, struct udp_conf *c, uint64_t *workers,
			struct acl **acl)
{
	ik_err e;
	int o;
	bool chosen = false;
	uint64_t v;
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":h", listen_opts, NULL)) != -1) {
		switch (o) {
		case OPT_ECHO:
		case OPT_PRINT: {
			enum udp_mode m = o == OPT_ECHO ? UDP_ECHO : UDP_PRINT;
			if (chosen && c->mode != m)
				return cli_usage_error("udp", "choose one mode: --echo or --print");
			chosen = true;
			c->mode = m;
			break;
		}
		case OPT_BUFFER:
			if (str_to_u64(optarg, UDP_DEFAULT_BUFFER, &v) < 0 || v == 0)
				return cli_usage_error("udp", "--buffer '%s' must be a number from 1 to %d",
						       optarg, UDP_DEFAULT_BUFFER);
			c->buffer = (size_t)v;
			break;
		case OPT_LOG: c->log = true; break;
		case OPT_WORKERS:
			if (str_to_u64(optarg, WORKERS_MAX, workers) < 0)
				return cli_usage_error("udp", "--workers '%s' must be a number from 0 to %d",
						       optarg, WORKERS_MAX);
			break;
		case OPT_ALLOW:
		case OPT_DENY:
			if (acl_option(acl, "udp", o == OPT_ALLOW ? ACL_ALLOW : ACL_DENY, optarg, &e) < 0)
				return cli_usage_error("udp", "%s", e.msg);
			break;
		case 'h': return -1;
		case ':': return cli_usage_error("udp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_unknown_option("udp", argv[optind - 1], CLI_NAMES(listen_opts));
		}
	}
	if (optind >= argc)
		return cli_usage_error("udp", "missing [HOST:]PORT to listen on");
	for (int i = optind; i < argc; i++)
		if (udp_conf_add_listen(c, argv[i], &e) < 0)
			return cli_usage_error("udp", "bad listen address: %s", e.msg);
	return 0;
}

static void on_bound(void *conf, const struct listen_set *set, unsigned workers)
{
	const struct udp_conf *c = conf;
	for (size_t i = 0; i < set->n; i++)
		log_event(LOG_INFO, "listen", "proto=udp addr=%s mode=%s workers=%u", set->ep[i].text,
			  c->mode == UDP_PRINT ? "print" : "echo", workers);
}

/* Datagrams have no sessions to wait for; this bounds a stop that hangs. */
#define STOP_GRACE_MS 1000

int udp_listen_main(int argc, char **argv)
{
	struct udp_conf *c = udp_conf_new();
	if (c == NULL)
		return cli_error("udp", CLI_FAIL, "out of memory");
	uint64_t workers = 0;
	struct acl *acl = NULL;
	int rc = parse_listen(argc, argv, c, &workers, &acl);
	if (rc != 0) {
		acl_free(acl);
		udp_conf_free(c);
		return rc < 0 ? cli_help(listen_help) : rc;
	}
	struct runner_opts ro = {
		.cmd = "udp",
		.restart = "inetkit udp listen",
		.standalone = true,
		.grace_ms = STOP_GRACE_MS,
		.workers_set = true,
		.workers = (unsigned)workers,
	};
	return runner_listen(&ro, &service_udp_echo, c, acl, c->listen, c->nlisten, SOCK_DGRAM,
			     on_bound);
}

int cmd_udp(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("udp", "missing action: listen, send, relay, scan or bench");
	const char *a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		return cli_help(udp_help);
	if (strcmp(a, "listen") == 0)
		return udp_listen_main(argc - 1, argv + 1);
	if (strcmp(a, "send") == 0)
		return udp_send_main(argc - 1, argv + 1);
	if (strcmp(a, "relay") == 0)
		return udp_relay_main(argc - 1, argv + 1);
	if (strcmp(a, "scan") == 0)
		return udp_scan_main(argc - 1, argv + 1);
	if (strcmp(a, "bench") == 0)
		return udp_bench_main(argc - 1, argv + 1);
	static const char *const actions[] = {"listen", "send", "relay", "scan", "bench"};
	return cli_unknown("udp", a, CLI_NAMES(actions), "unknown action '%s': use listen, send, "
			   "relay, scan or bench", a);
}
