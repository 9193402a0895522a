/* `inetkit tcp`: dispatch to listen, connect and bench, and what they
 * share. RFC 9293 (TCP), RFC 862 (echo), RFC 863 (discard). */
#include <string.h>

#include "core/cli.h"
#include "lib/str.h"
#include "tcp/tcp.h"
#include "tcp/tcp_int.h"
#include "commands.h"

static const char tcp_help[] =
	"Usage: inetkit tcp listen [OPTIONS] [HOST:]PORT...\n"
	"       inetkit tcp connect [OPTIONS] HOST PORT\n"
	"       inetkit tcp relay [OPTIONS] LISTEN... TARGET\n"
	"       inetkit tcp connect [OPTIONS] HOST PORT | unix:PATH\n"
	"       inetkit tcp connect --scan LOW-HIGH [OPTIONS] HOST\n"
	"       inetkit tcp bench [OPTIONS] HOST PORT\n"
	"\n"
	"TCP servers, a port forwarder, a netcat-style client, a port scan and a\n"
	"load generator. Addresses may be UNIX-domain sockets: unix:PATH.\n"
	"\n"
	"  listen    serve: --echo (default), --discard, --chat, --exec CMD,\n"
	"            --send FILE, --recv FILE; --tls, --workers N, --log ...\n"
	"  relay     forward each connection to TARGET (port forwarder);\n"
	"            --tls-listen, --tls-target, --max-conns, --log ...\n"
	"  connect   stdin to the server, the server to stdout; --tls, --hex,\n"
	"            --crlf, --timeout, -s ADDR; --scan LOW-HIGH probes a port range\n"
	"  bench     requests/s and latency percentiles over many connections\n"
	"\n"
	"Each has --help. Manual: inetkit help tcp.\n"
	"Exit status: 0 success, 1 the operation failed (refused, timed out,\n"
	"unknown host), 2 bad usage (e.g. port out of range or in use).\n";

int tcp_parse_seconds(const char *s, uint64_t *ms)
{
	return str_to_duration_ms(s, ms);
}

int tcp_parse_count(const char *tool, const char *opt, const char *v, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	if (str_to_u64(v, max, out) < 0 || *out < min)
		return cli_usage_error(tool, "%s '%s' must be a number from %llu to %llu", opt, v,
				       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int cmd_tcp(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("tcp", "missing action: listen, relay, connect or bench");
	const char *a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		return cli_help(tcp_help);
	if (strcmp(a, "listen") == 0)
		return tcp_listen_main(argc - 1, argv + 1);
	if (strcmp(a, "relay") == 0)
		return tcp_relay_main(argc - 1, argv + 1);
	if (strcmp(a, "connect") == 0)
		return tcp_connect_main(argc - 1, argv + 1);
	if (strcmp(a, "bench") == 0)
		return tcp_bench_main(argc - 1, argv + 1);
	static const char *const actions[] = {"listen", "relay", "connect", "bench"};
	return cli_unknown("tcp", a, CLI_NAMES(actions), "unknown action '%s': use listen, relay, "
			   "connect or bench", a);
}
