/* `inetkit trace`: capture (libpcap, live or from a pcap/pcapng file) and
 * show packets layer by layer, as conversations, as dialogues, as JSON or
 * as a sequence diagram (see trace.h for the views, watch.h for
 * `trace -- COMMAND`). */
#include <getopt.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "commands.h"
#include "core/cli.h"
#include "lib/dynload.h"
#include "lib/str.h"
#include "trace/trace.h"
#include "trace/watch.h"

/* libpcap is loaded when a trace starts, not linked: it brings D-Bus,
 * systemd's library and their compressors, which every other inetkit
 * command would otherwise map at each start. */
DYNLOAD_PTR(pcap_activate);
DYNLOAD_PTR(pcap_breakloop);
DYNLOAD_PTR(pcap_close);
DYNLOAD_PTR(pcap_compile);
DYNLOAD_PTR(pcap_create);
DYNLOAD_PTR(pcap_datalink);
DYNLOAD_PTR(pcap_dispatch);
DYNLOAD_PTR(pcap_dump);
DYNLOAD_PTR(pcap_dump_close);
DYNLOAD_PTR(pcap_dump_flush);
DYNLOAD_PTR(pcap_dump_open);
DYNLOAD_PTR(pcap_freecode);
DYNLOAD_PTR(pcap_get_selectable_fd);
DYNLOAD_PTR(pcap_geterr);
DYNLOAD_PTR(pcap_next_ex);
DYNLOAD_PTR(pcap_open_offline);
DYNLOAD_PTR(pcap_set_buffer_size);
DYNLOAD_PTR(pcap_set_immediate_mode);
DYNLOAD_PTR(pcap_set_promisc);
DYNLOAD_PTR(pcap_set_snaplen);
DYNLOAD_PTR(pcap_set_timeout);
DYNLOAD_PTR(pcap_setfilter);
DYNLOAD_PTR(pcap_setnonblock);
DYNLOAD_PTR(pcap_stats);

static const struct dynload_sym pcap_syms[] = {
	DYNLOAD_SYM(pcap_activate),
	DYNLOAD_SYM(pcap_breakloop),
	DYNLOAD_SYM(pcap_close),
	DYNLOAD_SYM(pcap_compile),
	DYNLOAD_SYM(pcap_create),
	DYNLOAD_SYM(pcap_datalink),
	DYNLOAD_SYM(pcap_dispatch),
	DYNLOAD_SYM(pcap_dump),
	DYNLOAD_SYM(pcap_dump_close),
	DYNLOAD_SYM(pcap_dump_flush),
	DYNLOAD_SYM(pcap_dump_open),
	DYNLOAD_SYM(pcap_freecode),
	DYNLOAD_SYM(pcap_get_selectable_fd),
	DYNLOAD_SYM(pcap_geterr),
	DYNLOAD_SYM(pcap_next_ex),
	DYNLOAD_SYM(pcap_open_offline),
	DYNLOAD_SYM(pcap_set_buffer_size),
	DYNLOAD_SYM(pcap_set_immediate_mode),
	DYNLOAD_SYM(pcap_set_promisc),
	DYNLOAD_SYM(pcap_set_snaplen),
	DYNLOAD_SYM(pcap_set_timeout),
	DYNLOAD_SYM(pcap_setfilter),
	DYNLOAD_SYM(pcap_setnonblock),
	DYNLOAD_SYM(pcap_stats),
};

#define pcap_activate dl_pcap_activate
#define pcap_breakloop dl_pcap_breakloop
#define pcap_close dl_pcap_close
#define pcap_compile dl_pcap_compile
#define pcap_create dl_pcap_create
#define pcap_datalink dl_pcap_datalink
#define pcap_dispatch dl_pcap_dispatch
#define pcap_dump dl_pcap_dump
#define pcap_dump_close dl_pcap_dump_close
#define pcap_dump_flush dl_pcap_dump_flush
#define pcap_dump_open dl_pcap_dump_open
#define pcap_freecode dl_pcap_freecode
#define pcap_get_selectable_fd dl_pcap_get_selectable_fd
#define pcap_geterr dl_pcap_geterr
#define pcap_next_ex dl_pcap_next_ex
#define pcap_open_offline dl_pcap_open_offline
#define pcap_set_buffer_size dl_pcap_set_buffer_size
#define pcap_set_immediate_mode dl_pcap_set_immediate_mode
#define pcap_set_promisc dl_pcap_set_promisc
#define pcap_set_snaplen dl_pcap_set_snaplen
#define pcap_set_timeout dl_pcap_set_timeout
#define pcap_setfilter dl_pcap_setfilter
#define pcap_setnonblock dl_pcap_setnonblock
#define pcap_stats dl_pcap_stats

static const char trace_help[] =
	"Usage: inetkit trace [OPTIONS] [FILTER]\n"
	"       inetkit trace [OPTIONS] [FILTER] -- COMMAND [ARGS...]\n"
	"\n"
	"See packets the way the lessons draw them: layers, the TCP handshake\n"
	"and close, the dialogue of a protocol. Captures live (libpcap; needs\n"
	"CAP_NET_RAW, e.g. sudo) or reads a capture file; writes pcap files that\n"
	"Wireshark, tshark and tcpdump read. FILTER is a BPF expression as in\n"
	"tcpdump, e.g. 'tcp port 2121'.\n"
	"\n"
	"Input:\n"
	"  -i, --interface IF   capture on IF (default lo; 'any' for all; with a\n"
	"                       COMMAND the default is any)\n"
	"  -r, --read FILE      read a pcap or pcapng file instead\n"
	"  -c, --count N        stop after N packets\n"
	"  -d, --duration TIME  stop after TIME (30s, 5m, 250ms)\n"
	"  -s, --snaplen BYTES  capture at most BYTES of each packet (default 262144)\n"
	"  -w, --write FILE     also write the packets to FILE (pcap)\n"
	"  -- COMMAND ARGS...   run COMMAND and keep only the packets of its sockets;\n"
	"                       stop when it ends (exit status: the command's)\n"
	"Views (one; the default is the conversation view):\n"
	"      --layers         each packet as nested boxes, link to application\n"
	"      --dialogue       TCP streams as C:/S: lines (passwords masked)\n"
	"      --json           one JSON object per packet (keys: inetkit-trace(1))\n"
	"  -q, --quiet          no view (with -w: only write the file)\n"
	"      --svg FILE       also draw each connection as a sequence diagram\n"
	"  -h, --help           this help\n"
	"\n"
	"Examples:\n"
	"  sudo inetkit trace 'tcp port 2121'\n"
	"  sudo inetkit trace -w ftp.pcap -- inetkit ftp ls ftp://127.0.0.1:2121/\n"
	"  inetkit trace --layers -r ftp.pcap\n"
	"  inetkit trace --dialogue -r ftp.pcap\n"
	"Manual: inetkit help trace. Exit status: 0 done, 1 capture failed,\n"
	"2 bad usage.\n";

enum { OPT_LAYERS = 256, OPT_DIALOGUE, OPT_JSON, OPT_SVG };

static const struct option opts[] = {
	{"interface", required_argument, NULL, 'i'},
	{"read", required_argument, NULL, 'r'},
	{"count", required_argument, NULL, 'c'},
	{"duration", required_argument, NULL, 'd'},
	{"snaplen", required_argument, NULL, 's'},
	{"write", required_argument, NULL, 'w'},
	{"quiet", no_argument, NULL, 'q'},
	{"layers", no_argument, NULL, OPT_LAYERS},
	{"dialogue", no_argument, NULL, OPT_DIALOGUE},
	{"json", no_argument, NULL, OPT_JSON},
	{"svg", required_argument, NULL, OPT_SVG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct trace_opts {
	const char *iface, *read, *write, *svg;
	uint64_t count, duration_ms, snaplen;
	enum tr_view view;
	bool view_set;
	char filter[4096];
	char **command;
};

#define DEFAULT_SNAPLEN 262144
/* Packets held while the command's ports are not known yet. */
#define HOLD_MAX 100000
#define HOLD_SEC 2.0
/* After the command ends: the last packets (its peer's final ACK) still
 * on their way. */
#define DRAIN_MS 500
#define CAPTURE_BUFFER (32 << 20)
#define SCAN_SEC 0.05

static volatile sig_atomic_t stop_flag;
static pcap_t *live_pcap;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (live_pcap != NULL)
		pcap_breakloop(live_pcap);
}

static int parse(int argc, char **argv, struct trace_opts *o)
{
	int c;
	opterr = 0;
	optind = 0;
	o->snaplen = DEFAULT_SNAPLEN;
	/* "+": options stop at the first word, so the filter may follow and
	 * "--" ends ours before the command's own. */
	while ((c = getopt_long(argc, argv, "+:i:r:c:d:s:w:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'r': o->read = optarg; break;
		case 'w': o->write = optarg; break;
		case 'c':
			if (str_to_u64(optarg, UINT64_MAX, &o->count) < 0 || o->count == 0)
				return cli_usage_error("trace", "--count '%s' must be a number over 0", optarg);
			break;
		case 'd':
			if (str_to_duration_ms(optarg, &o->duration_ms) < 0 || o->duration_ms == 0)
				return cli_usage_error("trace", "--duration '%s' must be a time such as 10s or 2m",
						       optarg);
			break;
		case 's':
			if (str_to_u64(optarg, DEFAULT_SNAPLEN, &o->snaplen) < 0 || o->snaplen < 14)
				return cli_usage_error("trace", "--snaplen '%s' must be 14 to %d", optarg,
						       DEFAULT_SNAPLEN);
			break;
		case 'q':
		case OPT_LAYERS:
		case OPT_DIALOGUE:
		case OPT_JSON: {
			enum tr_view v = c == 'q' ? TR_VIEW_NONE : c == OPT_LAYERS ? TR_VIEW_LAYERS
					 : c == OPT_DIALOGUE ? TR_VIEW_DIALOGUE : TR_VIEW_JSON;
			if (o->view_set && o->view != v)
				return cli_usage_error("trace", "choose one view: --layers, --dialogue, --json or -q");
			o->view = v;
			o->view_set = true;
			break;
		}
		case OPT_SVG: o->svg = optarg; break;
		case 'h': return -1;
		case ':': return cli_usage_error("trace", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_unknown_option("trace", argv[optind - 1], CLI_NAMES(opts));
		}
	}
	size_t n = 0;
	o->filter[0] = '\0';
	/* getopt took a "--" that came before any filter word. */
	if (optind > 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0) {
		if (optind >= argc)
			return cli_usage_error("trace", "missing COMMAND after '--'");
		o->command = argv + optind;
		optind = argc;
	}
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("trace", "missing COMMAND after '--'");
			o->command = argv + i + 1;
			break;
		}
		int w = str_fmt(o->filter + n, sizeof o->filter - n, "%s%s", n ? " " : "", argv[i]);
		if (w < 0)
			return cli_usage_error("trace", "the filter expression is too long");
		n += (size_t)w;
	}
	if (o->read != NULL && o->command != NULL)
		return cli_usage_error("trace", "-r reads a file; a COMMAND needs a live capture");
	if (o->read != NULL && o->iface != NULL)
		return cli_usage_error("trace", "choose -r FILE or -i INTERFACE, not both");
	if (o->iface == NULL)
		o->iface = o->command != NULL ? "any" : "lo";
	return 0;
}

struct held {
	double ts;
	struct pcap_pkthdr h;
	uint8_t *data;
};

struct run {
	struct trace_opts *o;
	struct tr_ctx x;
	pcap_t *p;
	int dlt;
	pcap_dumper_t *dump;
	uint64_t kept;
	struct tr_watch *watch;
	struct held *hold;
	size_t hold_head, hold_n;
};

static double ts_of(const struct pcap_pkthdr *h)
{
	return (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
}

static bool count_reached(const struct run *r)
{
	return r->o->count != 0 && r->kept >= r->o->count;
}

static void keep(struct run *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	if (count_reached(r))
		return;
	r->kept++;
	if (r->dump != NULL)
		pcap_dump((u_char *)r->dump, h, data);
	if (r->o->view != TR_VIEW_NONE || r->x.svg != NULL)
		tr_ctx_packet(&r->x, ts_of(h), data, h->caplen, h->len, r->dlt);
	if (count_reached(r) && r->p != NULL)
		pcap_breakloop(r->p);
}

/* Is the packet one of the command's? */
static bool watched(struct run *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct tr_packet pk;
	tr_decode(r->dlt, data, h->caplen, h->len, &pk);
	if (pk.tcp.status != TR_ABSENT && pk.tcp.hdr_len)
		return tr_watch_port(r->watch, 6, pk.tcp.sport) || tr_watch_port(r->watch, 6, pk.tcp.dport);
	if (pk.udp.status != TR_ABSENT && pk.udp.length)
		return tr_watch_port(r->watch, 17, pk.udp.sport) || tr_watch_port(r->watch, 17, pk.udp.dport);
	return false;
}

/* Held packets go out in order: the oldest is shown once its port is
 * known, dropped once it is older than HOLD_SEC (or at the end). */
static void release(struct run *r, double now, bool final)
{
	while (r->hold_n > 0) {
		struct held *e = &r->hold[r->hold_head];
		bool mine = watched(r, &e->h, e->data);
		if (!mine && !final && now - e->ts < HOLD_SEC)
			return;
		if (mine)
			keep(r, &e->h, e->data);
		free(e->data);
		r->hold_head = (r->hold_head + 1) % HOLD_MAX;
		r->hold_n--;
	}
}

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct run *r = (struct run *)arg;
	if (r->watch == NULL) {
		keep(r, h, data);
		return;
	}
	if (r->hold_n == HOLD_MAX)
		release(r, ts_of(h), true);
	struct held *e = &r->hold[(r->hold_head + r->hold_n) % HOLD_MAX];
	e->data = malloc(h->caplen ? h->caplen : 1);
	if (e->data == NULL)
		return;
	memcpy(e->data, data, h->caplen);
	e->h = *h;
	e->ts = ts_of(h);
	r->hold_n++;
}

static double now_sec(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int open_live(struct run *r, char *errbuf)
{
	r->p = pcap_create(r->o->iface, errbuf);
	if (r->p == NULL)
		return cli_error("trace", CLI_FAIL, "cannot capture on %s: %s", r->o->iface, errbuf);
	pcap_set_snaplen(r->p, (int)r->o->snaplen);
	pcap_set_promisc(r->p, 0);
	pcap_set_timeout(r->p, 50);
	pcap_set_immediate_mode(r->p, 1);
	/* tcpdump's 2 MiB overflows within milliseconds on a busy loopback
	 * (a benchmark beside us): a larger ring rides out the bursts, and
	 * what is still lost is counted and said at the end. */
	pcap_set_buffer_size(r->p, CAPTURE_BUFFER);
	int rc = pcap_activate(r->p);
	if (rc == PCAP_ERROR_PERM_DENIED || (rc < 0 && strstr(pcap_geterr(r->p), "permitted") != NULL))
		return cli_error("trace", CLI_FAIL,
				 "capturing on %s needs the CAP_NET_RAW capability (%s).\n"
				 "Run it as root: sudo inetkit trace ..., or give the program the "
				 "capability once:\n  sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v inetkit)\"\n"
				 "Reading a saved capture needs no privilege: inetkit trace -r FILE",
				 r->o->iface, pcap_geterr(r->p));
	if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
		return cli_error("trace", CLI_FAIL, "no interface '%s' (see 'ip link'; 'any' means all)",
				 r->o->iface);
	if (rc < 0)
		return cli_error("trace", CLI_FAIL, "cannot capture on %s: %s", r->o->iface,
				 pcap_geterr(r->p));
	return 0;
}

static int set_filter(struct run *r)
{
	if (r->o->filter[0] == '\0')
		return 0;
	struct bpf_program prog;
	if (pcap_compile(r->p, &prog, r->o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return cli_usage_error("trace", "bad filter '%s': %s", r->o->filter, pcap_geterr(r->p));
	int rc = pcap_setfilter(r->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0)
		return cli_error("trace", CLI_FAIL, "cannot set the filter: %s", pcap_geterr(r->p));
	return 0;
}

/* The live loop: packets, the command's stops, the limits. */
static int live_loop(struct run *r)
{
	double start = now_sec(), ended_at = 0, last_scan = 0;
	if (pcap_setnonblock(r->p, 1, (char[PCAP_ERRBUF_SIZE]){0}) < 0)
		return cli_error("trace", CLI_FAIL, "cannot capture without blocking");
	int pfd = pcap_get_selectable_fd(r->p);
	for (;;) {
		if (stop_flag || count_reached(r))
			break;
		double now = now_sec();
		if (r->o->duration_ms && (now - start) * 1000.0 >= (double)r->o->duration_ms)
			break;
		int n = 0;
		struct pcap_pkthdr *h;
		const u_char *d;
		int got = 0;
		while (n < 1000 && (got = pcap_next_ex(r->p, &h, &d)) == 1) {
			on_packet((u_char *)r, h, d);
			n++;
		}
		if (got == PCAP_ERROR)
			return cli_error("trace", CLI_FAIL, "capture failed: %s", pcap_geterr(r->p));
		if (r->watch != NULL) {
			tr_watch_service(r->watch);
			/* Stops at close() catch short-lived sockets; this
			 * catches long-lived ones while they are open. */
			if (now - last_scan >= SCAN_SEC) {
				tr_watch_scan(r->watch);
				last_scan = now;
			}
			release(r, now, false);
			if (tr_watch_done(r->watch, NULL)) {
				if (ended_at == 0)
					ended_at = now;
				else if ((now - ended_at) * 1000.0 >= DRAIN_MS)
					break;
			}
		}
		if (n > 0)
			continue;
		struct pollfd fds[2] = {{pfd, POLLIN, 0}, {-1, POLLIN, 0}};
		if (r->watch != NULL)
			fds[1].fd = tr_watch_fd(r->watch);
		poll(fds, 2, r->watch != NULL ? 5 : 50);
	}
	if (r->watch != NULL) {
		pcap_dispatch(r->p, -1, on_packet, (u_char *)r);
		release(r, now_sec(), true);
	}
	return 0;
}

static int run_trace(struct trace_opts *o)
{
	struct run r = {.o = o};
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int rc = 0;
	ik_err e;
	if (dynload("libpcap.so.0.8", pcap_syms, sizeof pcap_syms / sizeof pcap_syms[0],
		    "inetkit trace", "libpcap0.8", &e) < 0)
		return cli_error("trace", CLI_FAIL, "%s", e.msg);
	r.x.out = stdout;
	r.x.view = o->view;
	term_colors_for(stdout, &r.x.col);
	sbuf_init(&r.x.line, 1 << 20);
	if (o->svg != NULL && (r.x.svg = tr_svg_new()) == NULL)
		return cli_error("trace", CLI_FAIL, "out of memory");
	if (o->read != NULL) {
		r.p = pcap_open_offline(o->read, errbuf);
		if (r.p == NULL) {
			rc = cli_error("trace", CLI_FAIL, "cannot read %s: %s", o->read, errbuf);
			goto out;
		}
	} else if ((rc = open_live(&r, errbuf)) != 0) {
		goto out;
	}
	r.dlt = pcap_datalink(r.p);
	if ((rc = set_filter(&r)) != 0)
		goto out;
	if (o->write != NULL && (r.dump = pcap_dump_open(r.p, o->write)) == NULL) {
		rc = cli_error("trace", CLI_FAIL, "cannot write %s: %s", o->write, pcap_geterr(r.p));
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o->read != NULL) {
		int n;
		while (!stop_flag && !count_reached(&r) &&
		       (n = pcap_dispatch(r.p, -1, on_packet, (u_char *)&r)) > 0)
			;
	} else {
		live_pcap = r.p;
		ik_err e;
		if (o->command != NULL) {
			r.hold = calloc(HOLD_MAX, sizeof *r.hold);
			if (r.hold == NULL || tr_watch_start(o->command, &r.watch, &e) < 0 ||
			    tr_watch_go(r.watch, &e) < 0) {
				rc = cli_error("trace", CLI_FAIL, "%s", r.hold == NULL ? "out of memory" : e.msg);
				goto out;
			}
		}
		/* As tcpdump says it: from here on no packet is missed. */
		fprintf(stderr, "inetkit trace: listening on %s%s%s\n", o->iface,
			o->filter[0] ? ", filter " : "", o->filter);
		rc = live_loop(&r);
	}
	if (r.dump != NULL)
		pcap_dump_flush(r.dump);
	if (tr_ctx_finish(&r.x, o->svg) < 0 && rc == 0)
		rc = CLI_FAIL;
	if (o->read == NULL || o->write != NULL)
		fprintf(stderr, "inetkit trace: %llu packets%s%s\n", (unsigned long long)r.kept,
			o->write ? " written to " : "", o->write ? o->write : "");
	struct pcap_stat ps;
	if (o->read == NULL && r.p != NULL && pcap_stats(r.p, &ps) == 0 && ps.ps_drop > 0)
		fprintf(stderr, "inetkit trace: %u packets dropped by the kernel: the capture did "
			"not keep up with %s; narrow it with a filter%s\n", ps.ps_drop, o->iface,
			o->command != NULL ? " (the command's packets may be among them)" : "");
	int st;
	if (rc == 0 && r.watch != NULL && tr_watch_done(r.watch, &st)) {
		if (WIFEXITED(st))
			rc = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			rc = 128 + WTERMSIG(st);
	}
out:
	live_pcap = NULL;
	tr_watch_free(r.watch);
	if (r.hold != NULL) {
		for (size_t i = 0; i < r.hold_n; i++)
			free(r.hold[(r.hold_head + i) % HOLD_MAX].data);
		free(r.hold);
	}
	if (r.dump != NULL)
		pcap_dump_close(r.dump);
	if (r.p != NULL)
		pcap_close(r.p);
	tr_ctx_free(&r.x);
	return rc;
}

int cmd_trace(int argc, char **argv)
{
	static struct trace_opts o;
	memset(&o, 0, sizeof o);
	int rc = parse(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? cli_help(trace_help) : rc;
	return run_trace(&o);
}
