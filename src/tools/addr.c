/* `inetkit addr`: the IPv4/IPv6 address calculator.
 *
 * Verbs are data: the table below names each verb, the options it takes,
 * its usage line and its handler; option checking and --help are driven by
 * it. Without a verb the operands are addresses to report on ("-" reads
 * them from stdin, one per line: batch mode). The address logic itself is
 * in src/net/addr*.c; this file is only the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "lib/str.h"
#include "tools/addr_tool.h"
#include "commands.h"

enum {
	OPT_JSON = 1u << 0,
	OPT_PREFIX = 1u << 1,
	OPT_COUNT = 1u << 2,
	OPT_FORCE = 1u << 3,
	OPT_FAMILY = 1u << 4,
	OPT_QUIET = 1u << 5,
};

struct addr_verb {
	const char *name;
	int (*run)(struct addr_ctx *ctx, int argc, char **argv);
	unsigned opts;		/* OPT_* the verb accepts */
	const char *usage;	/* after "inetkit addr NAME " */
	const char *summary;
};

static const struct addr_verb verbs[] = {
	{"split", addr_verb_split, OPT_JSON | OPT_PREFIX | OPT_COUNT | OPT_FORCE,
	 "NET (--prefix N | --count N) [--force] [--json]",
	 "the subnets of NET with prefix N, or N equal ones (N up to 2^k)"},
	{"contains", addr_verb_contains, OPT_JSON | OPT_QUIET,
	 "NET ADDR... [-q] [--json]",
	 "is each ADDR inside NET? exit 0 if all are, 1 if any is not"},
	{"summarize", addr_verb_summarize, OPT_JSON,
	 "NET|ADDR|FIRST-LAST... [--json]",
	 "the fewest CIDR blocks that cover the networks and ranges given"},
	{"aton", addr_verb_aton, OPT_JSON,
	 "TEXT... [--json]",
	 "inet_aton: the address and its bytes in network order; legacy\n"
	 "             forms (127.1, 0x7f000001, 0177.1) are warned about"},
	{"ntoa", addr_verb_ntoa, OPT_JSON | OPT_FAMILY,
	 "NUMBER|BYTES... [-4|-6] [--json]",
	 "inet_ntoa: a number (decimal, 0x hex, 0-led octal; above 32 bits\n"
	 "             with -6) or bytes (c6a80102, 'c6 a8 01 02', \"b'\\xc6\\xa8\\x01\\x02'\")"},
};

#define N_VERBS (sizeof verbs / sizeof verbs[0])

static const struct option long_opts[] = {
	{"json", no_argument, NULL, 'j'},
	{"prefix", required_argument, NULL, 'p'},
	{"count", required_argument, NULL, 'n'},
	{"force", no_argument, NULL, 'f'},
	{"quiet", no_argument, NULL, 'q'},
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct {
	int ch;
	unsigned bit;
	const char *name;
} opt_bits[] = {
	{'j', OPT_JSON, "--json"}, {'p', OPT_PREFIX, "--prefix"}, {'n', OPT_COUNT, "--count"},
	{'f', OPT_FORCE, "--force"}, {'q', OPT_QUIET, "--quiet"}, {'4', OPT_FAMILY, "-4"},
	{'6', OPT_FAMILY, "-6"},
};

static int help(void)
{
	printf("Usage: inetkit addr [--json] ADDRESS[/PREFIX|/NETMASK]... (or - to read stdin)\n");
	for (size_t i = 0; i < N_VERBS; i++)
		printf("       inetkit addr %s %s\n", verbs[i].name, verbs[i].usage);
	printf("\n"
	       "IPv4/IPv6 address calculator. For each address: version, class, type from the\n"
	       "IANA special-purpose registries, network, netmask, wildcard, broadcast, host\n"
	       "range and count, reverse DNS name, integer, hex and binary forms.\n"
	       "\n"
	       "Addresses: strict dotted quad (no leading zeros), any RFC 4291 IPv6 form with\n"
	       "an optional %%zone, then /PREFIX or (IPv4) /NETMASK. '-' reads one per line\n"
	       "from stdin (batch mode; lines up to %d bytes; blank and # lines skipped).\n"
	       "Names are no addresses: resolve them with inetkit lookup host NAME.\n"
	       "\n"
	       "Verbs:\n", ADDR_LINE_MAX);
	for (size_t i = 0; i < N_VERBS; i++)
		printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
	printf("\n"
	       "Options:\n"
	       "  -j, --json        one JSON object per line (keys: see inetkit help addr)\n"
	       "  -p, --prefix N    split: the prefix length of the subnets\n"
	       "  -n, --count N     split: how many subnets\n"
	       "  -f, --force       split: list more than 2^%d subnets\n"
	       "  -q, --quiet       contains: no output, only the exit status\n"
	       "  -4, -6            ntoa: read the number as an IPv4 or IPv6 address\n"
	       "  -h, --help        this text\n"
	       "\n"
	       "Exit status: 0 success; 1 contains found an address outside, or output failed;\n"
	       "2 bad usage or input (in batch mode after all lines are done).\n",
	       ADDR_SPLIT_MAX_LOG2);
	return CLI_OK;
}

static const struct addr_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < N_VERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* Parse options into ctx; rejects those the verb does not take.
 * Returns -1 (done, *rc set) or the index of the first operand. */
static int parse_options(struct addr_ctx *ctx, const struct addr_verb *verb, int argc,
			 char **argv, int *rc)
{
	unsigned allowed = verb != NULL ? verb->opts : OPT_JSON;
	const char *where = verb != NULL ? verb->name : NULL;
	opterr = 0;
	optind = 0;	/* glibc: full re-initialisation */
	int c;
	while ((c = getopt_long(argc, argv, ":jp:n:fq46h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			*rc = help();
			return -1;
		}
		if (c == '?' || c == ':') {
			char shortopt[3] = {'-', (char)optopt, '\0'};
			const char *arg = c == '?' && optopt != 0 ? shortopt : argv[optind - 1];
			*rc = c == '?' ? cli_unknown_option(ADDR_CMD, arg, CLI_NAMES(long_opts))
				       : cli_usage_error(ADDR_CMD, "option '%s' needs a value", arg);
			return -1;
		}
		for (size_t i = 0; i < sizeof opt_bits / sizeof opt_bits[0]; i++) {
			if (opt_bits[i].ch != c)
				continue;
			if (!(allowed & opt_bits[i].bit)) {
				*rc = where != NULL
					? cli_usage_error(ADDR_CMD, "option %s does not apply to '%s'",
							  opt_bits[i].name, where)
					: cli_usage_error(ADDR_CMD, "option %s needs a verb (split, "
							  "ntoa, ...)", opt_bits[i].name);
				return -1;
			}
		}
		uint64_t v;
		switch (c) {
		case 'j': ctx->json = true; break;
		case 'f': ctx->force = true; break;
		case 'q': ctx->quiet = true; break;
		case '4': ctx->family = AF_INET; break;
		case '6': ctx->family = AF_INET6; break;
		case 'p':
			if (str_to_u64(optarg, 128, &v) < 0) {
				*rc = cli_usage_error(ADDR_CMD, "--prefix '%s' is not a number 0\u2013128",
						      optarg);
				return -1;
			}
			ctx->has_prefix = true;
			ctx->prefix = (unsigned)v;
			break;
		case 'n':
			if (str_to_u64(optarg, (uint64_t)1 << 62, &v) < 0 || v == 0) {
				*rc = cli_usage_error(ADDR_CMD, "--count '%s' is not a number from 1 to "
						      "2^62", optarg);
				return -1;
			}
			ctx->has_count = true;
			ctx->count = v;
			break;
		}
	}
	return optind;
}

static void show_one(struct addr_ctx *ctx, const struct addr_line *line, const char *s,
		     size_t len)
{
	struct ik_net n;
	ik_err e;
	if (addr_parse(s, len, &n, &e) < 0) {
		if (line == NULL && find_verb(s) != NULL)
			str_fmt(e.msg, sizeof e.msg, "'%s' is a verb; it must be the first operand: "
				"inetkit addr %s ...", s, s);
		else if (addr_looks_like_hostname(s, len))
			str_fmt(e.msg + strlen(e.msg), sizeof e.msg - strlen(e.msg), "; addr takes "
				"addresses, names are resolved with 'inetkit lookup host %.*s'",
				(int)len, s);
		addr_report(ctx, line, s, len, e.msg);
		return;
	}
	addr_show(ctx, s, len, &n);
}

static void show_line(struct addr_ctx *ctx, const struct addr_line *line)
{
	if (line->too_long) {
		addr_report_line(ctx, line, "longer than the batch line limit of 256 bytes");
		return;
	}
	show_one(ctx, line, line->s, line->len);
}

static int show(struct addr_ctx *ctx, int argc, char **argv)
{
	if (argc == 0)
		return cli_usage_error(ADDR_CMD, "no address given (use - to read them from stdin)");
	for (int i = 0; i < argc && ctx->out.err == 0; i++) {
		if (strcmp(argv[i], "-") == 0) {
			ik_err e;
			if (addr_read_lines(ctx, STDIN_FILENO, show_line, &e) < 0)
				return cli_error(ADDR_CMD, CLI_FAIL, "%s", e.msg);
		} else {
			show_one(ctx, NULL, argv[i], strlen(argv[i]));
		}
	}
	return ctx->bad ? CLI_USAGE : CLI_OK;
}

/* The verb is the first operand, so "addr --json split ..." works too.
 * Returns the index of the first operand in argv, or 0 when there is none. */
static int first_operand(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? i + 1 : 0;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		/* skip the value of an option that takes one */
		if (strcmp(a, "-p") == 0 || strcmp(a, "-n") == 0 || strcmp(a, "--prefix") == 0 ||
		    strcmp(a, "--count") == 0)
			i++;
	}
	return 0;
}

int cmd_addr(int argc, char **argv)
{
	struct addr_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	int vi = first_operand(argc, argv);
	const struct addr_verb *verb = vi > 0 ? find_verb(argv[vi]) : NULL;
	/* A typo of a verb is no address either: say which verb it looks like. */
	struct ik_net n;
	char near[16];
	if (vi > 0 && verb == NULL && addr_parse(argv[vi], strlen(argv[vi]), &n, NULL) < 0 &&
	    cli_closest(argv[vi], CLI_NAMES(verbs), near, sizeof near))
		return cli_unknown(ADDR_CMD, argv[vi], CLI_NAMES(verbs), "'%s' is neither an "
				   "address nor a verb (split, contains, summarize, aton, ntoa)",
				   argv[vi]);
	if (verb != NULL) {
		/* drop the verb from the list; argv[0] stays the program name */
		memmove(argv + vi, argv + vi + 1, (size_t)(argc - vi) * sizeof *argv);
		argc--;
	}
	int rc = CLI_OK;
	int first = parse_options(&ctx, verb, argc, argv, &rc);
	if (first < 0)
		return rc;
	if (addr_out_init(&ctx.out, STDOUT_FILENO) < 0)
		return cli_error(ADDR_CMD, CLI_FAIL, "out of memory");
	if (!ctx.json)
		term_colors_for(stdout, &ctx.col);
	else
		ctx.col = (struct term_colors){"", "", "", "", "", "", "", ""};
	int nargs = argc - first;
	char **args = argv + first;
	rc = verb != NULL ? verb->run(&ctx, nargs, args) : show(&ctx, nargs, args);
	addr_out_flush(&ctx.out);
	if (ctx.out.err != 0) {
		/* A closed pipe is the reader's choice, not our failure. */
		if (ctx.out.err != EPIPE)
			cli_error(ADDR_CMD, CLI_FAIL, "writing output: %s", strerror(ctx.out.err));
		rc = CLI_FAIL;
	}
	addr_out_free(&ctx.out);
	return rc;
}
