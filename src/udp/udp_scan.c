/* `inetkit udp scan HOST LOW-HIGH`: which UDP ports answer, the UDP
 * counterpart of `tcp connect --scan` (same range, options and output;
 * the probe itself is in tcp_scan.c). */
#include <getopt.h>
#include <sys/socket.h>

#include "core/cli.h"
#include "lib/str.h"
#include "tcp/tcp_int.h"
#include "udp/udp_int.h"

#define UDP_SCAN_DEFAULT_MS 1000
#define UDP_SCAN_RETRIES 1
#define UDP_SCAN_RATE 400	/* under the kernel's 1000 ICMP errors a second */

static const char scan_help[] =
	"Usage: inetkit udp scan [OPTIONS] HOST LOW-HIGH\n"
	"\n"
	"Probe the UDP ports LOW to HIGH of HOST with an empty datagram each:\n"
	"  open           a datagram came back\n"
	"  closed         ICMP port unreachable came back (not printed)\n"
	"  open|filtered  nothing came back: a service that ignores empty\n"
	"                 datagrams, or a firewall that drops them\n"
	"Prints the open and open|filtered ports, a summary on stderr.\n"
	"  --timeout T     wait T seconds for each answer (default 1; 500ms works)\n"
	"  --retries N     try a silent port N more times (default 1)\n"
	"  --rate N        at most N probes a second (default 400: kernels send at\n"
	"                  most 1000 ICMP errors a second; faster loses answers)\n"
	"  --parallel N    probes in flight at once (default 100)\n"
	"  --json          the result as JSON\n"
	"  -4, -6          IPv4 or IPv6 only\n"
	"  -h, --help      this help\n"
	"\n"
	"Example: inetkit udp scan 127.0.0.1 1-1024\n"
	"Exit status: 0 some port is open or open|filtered, 1 none (or the host\n"
	"is unknown), 2 bad usage.\n";

enum { OPT_TIMEOUT = 256, OPT_RETRIES, OPT_RATE, OPT_PARALLEL, OPT_JSON };

static const struct option scan_opts[] = {
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"rate", required_argument, NULL, OPT_RATE},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int count(const char *opt, const char *v, uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t n;
	int rc = tcp_parse_count("udp", opt, v, min, max, &n);
	if (rc == 0)
		*out = (unsigned)n;
	return rc;
}

int udp_scan_main(int argc, char **argv)
{
	struct scan_opts o = {
		.socktype = SOCK_DGRAM, .family = AF_UNSPEC, .timeout_ms = UDP_SCAN_DEFAULT_MS,
		.parallel = 100, .retries = UDP_SCAN_RETRIES, .rate = UDP_SCAN_RATE,
		.what = "port range",
	};
	int c, rc = 0;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h46", scan_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TIMEOUT:
			if (tcp_parse_seconds(optarg, &o.timeout_ms) < 0 || o.timeout_ms == 0)
				return cli_usage_error("udp", "--timeout '%s' is not a duration above 0 "
						       "(seconds, or 500ms)", optarg);
			break;
		case OPT_RETRIES: rc = count("--retries", optarg, 0, 10, &o.retries); break;
		case OPT_RATE: rc = count("--rate", optarg, 1, 100000, &o.rate); break;
		case OPT_PARALLEL: rc = count("--parallel", optarg, 1, 10000, &o.parallel); break;
		case OPT_JSON: o.json = true; break;
		case '4': o.family = AF_INET; break;
		case '6': o.family = AF_INET6; break;
		case 'h': return cli_help(scan_help);
		case ':': return cli_usage_error("udp", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("udp", "unknown option '%s'", argv[optind - 1]);
		}
		if (rc != 0)
			return rc;
	}
	if (argc - optind != 2)
		return cli_usage_error("udp", argc - optind < 2 ? "missing HOST and LOW-HIGH (e.g. "
				       "inetkit udp scan 127.0.0.1 1-1024)" : "too many arguments");
	return port_scan_run(argv[optind], argv[optind + 1], &o);
}
