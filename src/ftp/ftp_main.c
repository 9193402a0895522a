/* `inetkit ftp`: the FTP client. One option table for every verb; each verb
 * lists the options that apply to it, and any other is an error naming it.
 * The work is in src/ftp (client side). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cli.h"
#include "core/log.h"
#include "lib/str.h"
#include "core/term.h"
#include "ftp/ftp_cli.h"
#include "commands.h"

static const char help_text[] =
	"Usage: inetkit ftp VERB [OPTIONS] ARGS\n"
	"\n"
	"FTP and FTPS client: one-line commands and an interactive shell.\n"
	"\n"
	"Verbs:\n"
	"  ls [-l] [--json] URL        list a directory (or one file)\n"
	"  get URL [-o FILE]           download (FILE '-' is standard output)\n"
	"  cat URL                     download to standard output\n"
	"  put FILE URL                upload (a URL ending in '/' keeps FILE's name)\n"
	"  rm [-r] URL                 delete a file (-r: a directory and all in it)\n"
	"  mkdir [-p] URL              make a directory (-p: with its parents)\n"
	"  rmdir URL                   remove an empty directory\n"
	"  mv URL NEWNAME              rename (NEWNAME is relative to the URL's directory)\n"
	"  mirror URL LOCALDIR         copy a remote tree: new and changed files only\n"
	"  mirror -R LOCALDIR URL      copy a local tree to the server\n"
	"  open [HOST|URL]             interactive shell; -c \"cmd; cmd\" or -f SCRIPT\n"
	"                              run shell commands without a terminal\n"
	"\n"
	"URL: ftp://[USER[:PASS]@]HOST[:PORT]/DIR/FILE   (ftps:// = implicit TLS, port 990)\n"
	"     paths are relative to the login directory; %2F at the start makes them absolute\n"
	"\n"
	"Login: the URL's user, else --user NAME (password asked without echo, or one\n"
	"line from standard input with --password-stdin), else ~/.netrc, else anonymous.\n"
	"  -u, --user NAME          log in as NAME\n"
	"      --password-stdin     read the password from standard input\n"
	"      --netrc-file FILE    credentials from FILE instead of ~/.netrc\n"
	"\n"
	"Transfers:\n"
	"      --active             the server connects to us (EPRT/PORT); default passive\n"
	"      --ascii              ASCII type (CR LF line ends); default binary\n"
	"  -C, --continue           resume downloads and uploads\n"
	"      --limit-rate RATE    at most RATE bytes per second (100k, 2M)\n"
	"  -R, --reverse            mirror: upload LOCALDIR to URL\n"
	"      --delete             mirror: delete what the source no longer has\n"
	"  -P, --parallel N         mirror: N transfers at once (default 1)\n"
	"  -q, --quiet              no progress bar (shown only on a terminal anyway);\n"
	"                           mirror: no summary line either\n"
	"  -v, --verbose            mirror, rm -r: a line per file\n"
	"      --debug              also each change of session state\n"
	"\n"
	"Security:\n"
	"      --tls                explicit FTPS: AUTH TLS, then PBSZ 0 and PROT P\n"
	"      --cacert FILE        trust the CAs in FILE instead of the system's\n"
	"  -k, --insecure           do not verify the server certificate\n"
	"\n"
	"Connection:\n"
	"  -4, -6                   IPv4 or IPv6 only\n"
	"      --connect-timeout T  for each connection (default 30s)\n"
	"      --timeout T          for each reply (default 60s)\n"
	"      --greeting-timeout T the server's first line (default 10s, at most\n"
	"                           --timeout): a peer silent that long is no FTP server\n"
	"      --data-timeout T     a stalled data connection (default 60s)\n"
	"      --trace              print the dialogue on stderr (passwords masked)\n"
	"\n"
	"Exit status: 0 ok; 1 failed (the server's reply is shown); 2 bad input.\n"
	"See inetkit-ftp(1).\n";

enum {
	O_USER = 1u << 0, O_PWSTDIN = 1u << 1, O_NETRC = 1u << 2, O_JSON = 1u << 3,
	O_LONG = 1u << 4, O_OUT = 1u << 5, O_PARENTS = 1u << 6, O_REVERSE = 1u << 7,
	O_DELETE = 1u << 8, O_PARALLEL = 1u << 9, O_CMDS = 1u << 10, O_SCRIPT = 1u << 11,
	O_CONT = 1u << 12, O_VERBOSE = 1u << 13, O_RECURSIVE = 1u << 14,
};

#define O_LOGIN (O_USER | O_PWSTDIN | O_NETRC)

struct verb {
	const char *name;
	int min_args, max_args;
	unsigned allowed;
	int (*run)(struct ftp_cli *c);
};

static int run_open(struct ftp_cli *c);

static const struct verb verbs[] = {
	{"ls", 1, 1, O_LOGIN | O_JSON | O_LONG, ftp_cli_ls},
	{"get", 1, 1, O_LOGIN | O_OUT | O_CONT, ftp_cli_get},
	{"cat", 1, 1, O_LOGIN, ftp_cli_cat},
	{"put", 2, 2, O_LOGIN | O_CONT, ftp_cli_put},
	{"rm", 1, 1, O_LOGIN | O_RECURSIVE | O_VERBOSE, ftp_cli_rm},
	{"mkdir", 1, 1, O_LOGIN | O_PARENTS, ftp_cli_mkdir},
	{"rmdir", 1, 1, O_LOGIN, ftp_cli_rmdir},
	{"mv", 2, 2, O_LOGIN, ftp_cli_mv},
	{"mirror", 2, 2, O_LOGIN | O_REVERSE | O_DELETE | O_PARALLEL | O_VERBOSE, ftp_cli_mirror},
	{"open", 0, 1, O_LOGIN | O_CMDS | O_SCRIPT | O_CONT, run_open},
};

enum {
	L_PWSTDIN = 256, L_NETRC, L_JSON, L_DELETE, L_TLS, L_CACERT, L_ACTIVE, L_PASSIVE,
	L_ASCII, L_BINARY, L_RATE, L_CTIMEOUT, L_TIMEOUT, L_GTIMEOUT, L_DTIMEOUT, L_TRACE, L_DEBUG,
};

static const struct option long_opts[] = {
	{"user", required_argument, NULL, 'u'},
	{"password-stdin", no_argument, NULL, L_PWSTDIN},
	{"netrc-file", required_argument, NULL, L_NETRC},
	{"json", no_argument, NULL, L_JSON},
	{"long", no_argument, NULL, 'l'},
	{"output", required_argument, NULL, 'o'},
	{"parents", no_argument, NULL, 'p'},
	{"recursive", no_argument, NULL, 'r'},
	{"reverse", no_argument, NULL, 'R'},
	{"delete", no_argument, NULL, L_DELETE},
	{"parallel", required_argument, NULL, 'P'},
	{"command", required_argument, NULL, 'c'},
	{"file", required_argument, NULL, 'f'},
	{"continue", no_argument, NULL, 'C'},
	{"limit-rate", required_argument, NULL, L_RATE},
	{"tls", no_argument, NULL, L_TLS},
	{"cacert", required_argument, NULL, L_CACERT},
	{"insecure", no_argument, NULL, 'k'},
	{"active", no_argument, NULL, L_ACTIVE},
	{"passive", no_argument, NULL, L_PASSIVE},
	{"ascii", no_argument, NULL, L_ASCII},
	{"binary", no_argument, NULL, L_BINARY},
	{"connect-timeout", required_argument, NULL, L_CTIMEOUT},
	{"timeout", required_argument, NULL, L_TIMEOUT},
	{"greeting-timeout", required_argument, NULL, L_GTIMEOUT},
	{"data-timeout", required_argument, NULL, L_DTIMEOUT},
	{"trace", no_argument, NULL, L_TRACE},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"debug", no_argument, NULL, L_DEBUG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static struct ftp_shell_opts shell_opts;

static int run_open(struct ftp_cli *c)
{
	shell_opts.open_target = c->nargs > 0 ? c->args[0] : NULL;
	shell_opts.user = c->user;
	shell_opts.netrc = c->netrc;
	shell_opts.password_stdin = c->password_stdin;
	ik_err e;
	int r = ftp_shell_run(&c->o, &shell_opts, &e);
	if (r != CLI_OK && e.msg[0] != '\0')
		cli_error("ftp", r, "%s", e.msg);
	return r;
}

static int duration(const char *opt, const char *v, uint64_t *out)
{
	if (str_to_duration_ms(v, out) < 0 || *out == 0)
		return cli_usage_error("ftp", "%s '%s' is not a duration such as 30s, 2m, 500ms",
				       opt, v);
	return 0;
}

static const char *option_name(unsigned bit)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{O_USER, "--user"}, {O_PWSTDIN, "--password-stdin"}, {O_NETRC, "--netrc-file"},
		{O_JSON, "--json"}, {O_LONG, "-l"}, {O_OUT, "-o"}, {O_PARENTS, "-p"},
		{O_REVERSE, "-R"}, {O_DELETE, "--delete"}, {O_PARALLEL, "--parallel"},
		{O_CMDS, "-c"}, {O_SCRIPT, "-f"}, {O_CONT, "--continue"}, {O_VERBOSE, "-v"}, {O_RECURSIVE, "-r"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].bit == bit)
			return names[i].name;
	return "?";
}

int cmd_ftp(int argc, char **argv)
{
	struct ftp_cli c;
	memset(&c, 0, sizeof c);
	/* A peer that closes first must give us an error return (OpenSSL
	 * writes with write(2)), not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	ftp_opts_default(&c.o);
	c.mirror.parallel = 1;
	memset(&shell_opts, 0, sizeof shell_opts);
	unsigned given = 0;
	bool quiet = false;
	uint64_t v;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "u:lo:prRP:c:f:Ckqv46h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'u': c.user = optarg; given |= O_USER; break;
		case L_PWSTDIN: c.password_stdin = true; given |= O_PWSTDIN; break;
		case L_NETRC: c.netrc = optarg; given |= O_NETRC; break;
		case L_JSON: c.json = true; given |= O_JSON; break;
		case 'l': c.long_list = true; given |= O_LONG; break;
		case 'o': c.output = optarg; given |= O_OUT; break;
		case 'p': c.parents = true; given |= O_PARENTS; break;
		case 'r': c.recursive = true; given |= O_RECURSIVE; break;
		case 'R': c.mirror.reverse = true; given |= O_REVERSE; break;
		case L_DELETE: c.mirror.delete = true; given |= O_DELETE; break;
		case 'P':
			if (str_to_u64(optarg, 64, &v) < 0 || v == 0)
				return cli_usage_error("ftp", "--parallel '%s' is not a number from 1 "
						       "to 64", optarg);
			c.mirror.parallel = (unsigned)v;
			given |= O_PARALLEL;
			break;
		case 'c': shell_opts.commands = optarg; given |= O_CMDS; break;
		case 'f': shell_opts.script = optarg; given |= O_SCRIPT; break;
		case 'C': c.o.cont = true; given |= O_CONT; break;
		case L_RATE:
			if (str_to_size(optarg, &v) < 0 || v == 0)
				return cli_usage_error("ftp", "--limit-rate '%s' is not a rate such as "
						       "100k or 2M (bytes per second)", optarg);
			c.o.limit_rate = v;
			break;
		case L_TLS: c.o.tls = true; break;
		case L_CACERT: c.o.cacert = optarg; break;
		case 'k': c.o.insecure = true; break;
		case L_ACTIVE: c.o.active = true; break;
		case L_PASSIVE: c.o.active = false; break;
		case L_ASCII: c.o.ascii = true; break;
		case L_BINARY: c.o.ascii = false; break;
		case L_CTIMEOUT:
			if (duration("--connect-timeout", optarg, &c.o.connect_timeout_ms) != 0)
				return CLI_USAGE;
			break;
		case L_TIMEOUT:
			if (duration("--timeout", optarg, &c.o.reply_timeout_ms) != 0)
				return CLI_USAGE;
			break;
		case L_GTIMEOUT:
			if (duration("--greeting-timeout", optarg, &c.o.greeting_timeout_ms) != 0)
				return CLI_USAGE;
			break;
		case L_DTIMEOUT:
			if (duration("--data-timeout", optarg, &c.o.data_timeout_ms) != 0)
				return CLI_USAGE;
			break;
		case L_TRACE: c.o.trace = true; break;
		case 'q': quiet = true; break;
		case 'v': c.mirror.verbose = true; given |= O_VERBOSE; break;
		case L_DEBUG: log_set_level(LOG_DEBUG); break;
		case '4': c.o.family = AF_INET; break;
		case '6': c.o.family = AF_INET6; break;
		case 'h': return cli_help(help_text);
		default:
			if (optopt != 0 && optopt < 256)
				return cli_usage_error("ftp", "unknown option '-%c'", optopt);
			return cli_unknown_option("ftp", argv[optind - 1], CLI_NAMES(long_opts));
		}
	}
	if (optind >= argc)
		return cli_usage_error("ftp", "missing verb (ls, get, put, mirror, open ...)");
	const char *name = argv[optind];
	const struct verb *vb = NULL;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].name, name) == 0)
			vb = &verbs[i];
	if (vb == NULL)
		return cli_unknown("ftp", name, CLI_NAMES(verbs), "unknown verb '%s'", name);
	c.args = argv + optind + 1;
	c.nargs = argc - optind - 1;
	if (c.nargs < vb->min_args)
		return cli_usage_error("ftp", "'%s' needs %d argument%s", vb->name, vb->min_args,
				       vb->min_args == 1 ? "" : "s");
	if (c.nargs > vb->max_args)
		return cli_usage_error("ftp", "too many arguments for '%s': '%s'", vb->name,
				       c.args[vb->max_args]);
	unsigned bad = given & ~vb->allowed;
	if (bad != 0)
		return cli_usage_error("ftp", "option %s does not apply to '%s'",
				       option_name(bad & -bad), vb->name);
	if (c.o.tls && c.o.insecure && c.o.cacert != NULL)
		return cli_usage_error("ftp", "--cacert and --insecure contradict each other");
	if ((given & O_CMDS) && (given & O_SCRIPT))
		return cli_usage_error("ftp", "give -c or -f, not both");
	c.o.progress = !quiet && term_is_tty(stderr);
	c.mirror.quiet = quiet;
	return vb->run(&c);
}
