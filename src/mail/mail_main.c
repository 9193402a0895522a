/* `inetkit mail`: the mail client's command line. One option table for
 * every verb; each verb names the options that apply to it and any other
 * is an error naming it (as `inetkit ftp` does). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "commands.h"
#include "core/cli.h"
#include "core/config.h"
#include "lib/str.h"
#include "mail/mail.h"

static const char help_text[] =
	"Usage: inetkit mail VERB [OPTIONS]\n"
	"\n"
	"Mail client: compose and send over SMTP, fetch over POP3 or IMAP into a\n"
	"Maildir, list and read mail.\n"
	"\n"
	"Verbs:\n"
	"  send                     compose a message and submit it\n"
	"  fetch                    copy new mail into a local Maildir\n"
	"  list                     one line per message (a Maildir or an IMAP folder)\n"
	"  read N                   show message N of list: headers, text, attachments\n"
	"\n"
	"send:\n"
	"      --from ADDR          the sender (default: the account's from)\n"
	"      --to, --cc ADDR      recipients (repeatable; \"Name <a@b>\" or a@b)\n"
	"      --bcc ADDR           hidden recipients: in the envelope, never in a header\n"
	"      --subject TEXT       UTF-8; encoded per RFC 2047 when needed\n"
	"      --body TEXT          the text; or --body-file FILE; else standard input\n"
	"      --html FILE          an HTML alternative to the text\n"
	"      --attach FILE        attach a file (repeatable)\n"
	"      --header 'N: V'      an extra header (repeatable; CR and LF refused)\n"
	"  -n, --dry-run            print the message instead of sending it\n"
	"      --json               the result as JSON\n"
	"\n"
	"fetch, list, read:\n"
	"      --protocol P         pop3 or imap (default: the account's, else imap)\n"
	"      --maildir DIR        the local Maildir (default: the account's)\n"
	"      --keep, --delete     POP3: leave fetched mail on the server (default) or not\n"
	"      --folder NAME        IMAP folder (repeatable; default INBOX)\n"
	"      --all-folders        IMAP: every folder\n"
	"      --save-attachments DIR  read: save the attachments there\n"
	"\n"
	"Connection (every verb):\n"
	"      --account NAME       an [account NAME] of ~/.config/inetkit/mail.conf\n"
	"      --config FILE        that file instead\n"
	"      --server HOST:PORT   the server (default: the account's)\n"
	"      --user NAME          log in as NAME (password: the account's password_command,\n"
	"                           else ~/.netrc, else asked on the terminal)\n"
	"      --netrc-file FILE    credentials from FILE instead of ~/.netrc\n"
	"      --no-tls             allow plaintext (default: implicit TLS on 465/993/995,\n"
	"                           STARTTLS required on other ports)\n"
	"      --implicit-tls       TLS from the first byte, whatever the port\n"
	"      --cacert FILE        trust the CAs in FILE instead of the system's\n"
	"  -k, --insecure           do not verify the server certificate\n"
	"  -4, -6                   IPv4 or IPv6 only\n"
	"      --connect-timeout T  (default 30s)\n"
	"      --timeout T          for each reply (default 60s)\n"
	"      --trace              the dialogue on stderr, each step labelled\n"
	"                           (passwords and message bodies masked)\n"
	"  -q, --quiet              no progress or summary lines\n"
	"\n"
	"Exit status: 0 ok; 1 failed (send: some recipient refused); 2 bad input.\n"
	"See inetkit-mail(1).\n";

enum {
	O_SEND = 1u << 0, O_FETCH = 1u << 1, O_LIST = 1u << 2, O_READ = 1u << 3, O_JSON = 1u << 4,
	O_PROTO = 1u << 5,
};

struct verb {
	const char *name;
	int min_args, max_args;
	unsigned allowed;
	int (*run)(struct mail_cli *c);
};

static const struct verb verbs[] = {
	{"send", 0, 0, O_SEND | O_JSON, mail_cmd_send},
	{"fetch", 0, 0, O_FETCH, mail_cmd_fetch},
	{"list", 0, 0, O_LIST | O_JSON, mail_cmd_list},
	{"read", 1, 1, O_READ, mail_cmd_read},
};

enum {
	L_FROM = 256, L_TO, L_CC, L_BCC, L_SUBJECT, L_BODY, L_BODY_FILE, L_HTML, L_ATTACH, L_HEADER,
	L_JSON, L_PROTOCOL, L_MAILDIR, L_KEEP, L_DELETE, L_FOLDER, L_ALL_FOLDERS, L_SAVE, L_ACCOUNT,
	L_CONFIG, L_SERVER, L_USER, L_NETRC, L_NO_TLS, L_CACERT, L_IMPLICIT, L_CTIMEOUT, L_TIMEOUT, L_TRACE,
};

static const struct option long_opts[] = {
	{"from", required_argument, NULL, L_FROM},
	{"to", required_argument, NULL, L_TO},
	{"cc", required_argument, NULL, L_CC},
	{"bcc", required_argument, NULL, L_BCC},
	{"subject", required_argument, NULL, L_SUBJECT},
	{"body", required_argument, NULL, L_BODY},
	{"body-file", required_argument, NULL, L_BODY_FILE},
	{"html", required_argument, NULL, L_HTML},
	{"attach", required_argument, NULL, L_ATTACH},
	{"header", required_argument, NULL, L_HEADER},
	{"dry-run", no_argument, NULL, 'n'},
	{"json", no_argument, NULL, L_JSON},
	{"protocol", required_argument, NULL, L_PROTOCOL},
	{"maildir", required_argument, NULL, L_MAILDIR},
	{"keep", no_argument, NULL, L_KEEP},
	{"delete", no_argument, NULL, L_DELETE},
	{"folder", required_argument, NULL, L_FOLDER},
	{"all-folders", no_argument, NULL, L_ALL_FOLDERS},
	{"save-attachments", required_argument, NULL, L_SAVE},
	{"account", required_argument, NULL, L_ACCOUNT},
	{"config", required_argument, NULL, L_CONFIG},
	{"server", required_argument, NULL, L_SERVER},
	{"user", required_argument, NULL, L_USER},
	{"netrc-file", required_argument, NULL, L_NETRC},
	{"no-tls", no_argument, NULL, L_NO_TLS},
	{"implicit-tls", no_argument, NULL, L_IMPLICIT},
	{"cacert", required_argument, NULL, L_CACERT},
	{"insecure", no_argument, NULL, 'k'},
	{"connect-timeout", required_argument, NULL, L_CTIMEOUT},
	{"timeout", required_argument, NULL, L_TIMEOUT},
	{"trace", no_argument, NULL, L_TRACE},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int add(struct mail_strs *s, const char *opt, const char *v)
{
	if (s->n >= MAIL_LIST_MAX)
		return cli_usage_error("mail", "%s given more than %d times", opt, MAIL_LIST_MAX);
	s->v[s->n++] = v;
	return 0;
}

static int duration(const char *opt, const char *v, uint64_t *out)
{
	if (str_to_duration_ms(v, out) < 0 || *out == 0)
		return cli_usage_error("mail", "%s '%s' is not a duration such as 30s, 2m, 500ms",
				       opt, v);
	return 0;
}

/* Which verbs each option belongs to (0: every verb). */
static unsigned option_verbs(int ch)
{
	switch (ch) {
	case L_FROM: case L_TO: case L_CC: case L_BCC: case L_SUBJECT: case L_BODY:
	case L_BODY_FILE: case L_HTML: case L_ATTACH: case L_HEADER: case 'n':
		return O_SEND;
	case L_JSON:
		return O_JSON;
	case L_PROTOCOL: case L_MAILDIR:
		return O_FETCH | O_LIST | O_READ;
	case L_KEEP: case L_DELETE: case L_ALL_FOLDERS:
		return O_FETCH;
	case L_FOLDER:
		return O_FETCH | O_LIST | O_READ;
	case L_SAVE:
		return O_READ;
	default:
		return 0;
	}
}

int cmd_mail(int argc, char **argv)
{
	static struct mail_cli c;
	memset(&c, 0, sizeof c);
	signal(SIGPIPE, SIG_IGN);
	c.protocol = MAIL_PROTO_UNSET;
	c.family = AF_UNSPEC;
	c.connect_timeout_ms = 30000;
	c.timeout_ms = 60000;
	if (argc < 2)
		return cli_usage_error("mail", "a verb is needed: send, fetch, list or read");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help(help_text);
	const struct verb *v = NULL;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (!v)
		return cli_unknown("mail", argv[1], CLI_NAMES(verbs), "unknown verb '%s'", argv[1]);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	int ch, li = -1;
	while ((ch = getopt_long(argc, argv, ":nkq46h", long_opts, &li)) != -1) {
		unsigned need = option_verbs(ch);
		if (need && !(need & v->allowed)) {
			char name[40];
			if (li >= 0)
				str_fmt(name, sizeof name, "--%s", long_opts[li].name);
			else
				str_fmt(name, sizeof name, "-%c", ch);
			return cli_usage_error("mail", "%s does not apply to mail %s", name, v->name);
		}
		li = -1;
		switch (ch) {
		case L_FROM: c.from = optarg; break;
		case L_TO: if (add(&c.to, "--to", optarg)) return CLI_USAGE; break;
		case L_CC: if (add(&c.cc, "--cc", optarg)) return CLI_USAGE; break;
		case L_BCC: if (add(&c.bcc, "--bcc", optarg)) return CLI_USAGE; break;
		case L_SUBJECT: c.subject = optarg; break;
		case L_BODY: c.body = optarg; break;
		case L_BODY_FILE: c.body_file = optarg; break;
		case L_HTML: c.html = optarg; break;
		case L_ATTACH: if (add(&c.attach, "--attach", optarg)) return CLI_USAGE; break;
		case L_HEADER: if (add(&c.header, "--header", optarg)) return CLI_USAGE; break;
		case 'n': c.dry_run = true; break;
		case L_JSON: c.json = true; break;
		case L_PROTOCOL:
			if (strcmp(optarg, "pop3") == 0)
				c.protocol = MAIL_PROTO_POP3;
			else if (strcmp(optarg, "imap") == 0)
				c.protocol = MAIL_PROTO_IMAP;
			else
				return cli_usage_error("mail", "--protocol '%s': pop3 or imap", optarg);
			break;
		case L_MAILDIR: c.maildir = optarg; break;
		case L_KEEP: c.keep = true; break;
		case L_DELETE: c.delete_ = true; break;
		case L_FOLDER: if (add(&c.folder, "--folder", optarg)) return CLI_USAGE; break;
		case L_ALL_FOLDERS: c.all_folders = true; break;
		case L_SAVE: c.save_dir = optarg; break;
		case L_ACCOUNT: c.account_name = optarg; break;
		case L_CONFIG: c.config = optarg; break;
		case L_SERVER: c.server = optarg; break;
		case L_USER: c.user = optarg; break;
		case L_NETRC: c.netrc = optarg; break;
		case L_NO_TLS: c.no_tls = true; break;
		case L_IMPLICIT: c.implicit_tls = true; break;
		case L_CACERT: c.cacert = optarg; break;
		case 'k': c.insecure = true; break;
		case L_CTIMEOUT:
			if (duration("--connect-timeout", optarg, &c.connect_timeout_ms))
				return CLI_USAGE;
			break;
		case L_TIMEOUT:
			if (duration("--timeout", optarg, &c.timeout_ms))
				return CLI_USAGE;
			break;
		case L_TRACE: c.trace = true; break;
		case 'q': c.quiet = true; break;
		case '4': c.family = AF_INET; break;
		case '6': c.family = AF_INET6; break;
		case 'h': return cli_help(help_text);
		case ':':
			return cli_usage_error("mail", "%s needs a value", argv[optind - 1]);
		default:
			return cli_unknown_option("mail", argv[optind - 1], CLI_NAMES(long_opts));
		}
	}
	if (c.no_tls && c.implicit_tls)
		return cli_usage_error("mail", "--no-tls and --implicit-tls exclude each other");
	if (c.keep && c.delete_)
		return cli_usage_error("mail", "--keep and --delete exclude each other");
	if ((c.body != NULL) + (c.body_file != NULL) > 1)
		return cli_usage_error("mail", "--body and --body-file exclude each other");
	c.nargs = argc - optind;
	c.args = argv + optind;
	if (c.nargs < v->min_args || c.nargs > v->max_args)
		return cli_usage_error("mail", "mail %s takes %d argument%s", v->name, v->max_args,
				       v->max_args == 1 ? "" : "s");
	ik_err e = {0};
	if (mail_conf_load(&c, &e) < 0) {
		if (c.cfg)
			cfg_free(c.cfg);
		return cli_error("mail", CLI_USAGE, "%s", e.msg);
	}
	int rc = v->run(&c);
	if (c.cfg)
		cfg_free(c.cfg);
	return rc;
}
