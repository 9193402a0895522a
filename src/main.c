/* inetkit: one binary, git-style subcommands. This file is only the
 * dispatch table and the top-level options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inetkit_config.h"
#include "core/cli.h"
#include "lib/str.h"
#include "commands.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{"addr", cmd_addr, "IPv4/IPv6 address calculator: class, type, CIDR, subnets"},
	{"lookup", cmd_lookup, "names and services: hosts, reverse, ports, protocols"},
	{"tcp", cmd_tcp, "TCP servers (echo, discard, chat, exec), client, port scan, load generator"},
	{"udp", cmd_udp, "UDP echo/print server, datagram client, load generator"},
	{"ftp", cmd_ftp, "FTP/FTPS client: ls, get, put, mirror, interactive shell"},
	{"ftpd", cmd_ftpd, "FTP/FTPS server: real, guest and anonymous users"},
	{"smtpd", cmd_smtpd, "SMTP server: local delivery to Maildir, submission, queue"},
	{"pop3d", cmd_pop3d, "POP3 server: Maildir access with STLS, implicit TLS and AUTH"},
	{"imapd", cmd_imapd, "IMAP server: mail clients read the Maildir of local users"},
	{"user", cmd_user, "accounts: real, guest, anonymous; app passwords; login log"},
	{"queue", cmd_queue, "the outbound mail queue: list, show and delete entries"},
	{"trace", cmd_trace, "see packets: layers, TCP handshake and close, dialogues; pcap files"},
	{"dkim", cmd_dkim, "DKIM signing keys: make one and print its DNS record"},
	{"mail", cmd_mail, "mail client: compose and send, fetch over POP3/IMAP, list and read"},
	{"serve", cmd_serve, "run the configured services in one supervised process tree"},
};

#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

static void list_subcommands(FILE *f)
{
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
}


static int usage(FILE *f, int code)
{
	fprintf(f,
		"Usage: inetkit SUBCOMMAND [OPTIONS] [ARGS]\n"
		"       inetkit help SUBCOMMAND   (its manual page)\n"
		"       inetkit help conf         (the configuration file, inetkit.conf(5))\n"
		"       inetkit --version\n\n"
		"The classic internet services and tools in one program.\n\n"
		"Subcommands:\n");
	list_subcommands(f);
	fprintf(f, "\nEach subcommand has --help. Exit status: 0 success, 1 failure, 2 bad usage.\n");
	return code;
}

/* Manual pages that belong to no subcommand: `inetkit help conf`. */
static const struct topic {
	const char *name;
	const char *page;	/* file name without its section */
	char section;
} topics[] = {
	{"inetkit.conf", "inetkit.conf", '5'},
	{"conf", "inetkit.conf", '5'},
};

/* A manual page file PAGE.SECTION: INETKIT_DOCDIR, the installed man
 * directories, then the source tree's docs/ (for an uninstalled build). */
static int find_manpage(const char *page, const char *sections, char *path, size_t pathsz)
{
	const char *env = getenv("INETKIT_DOCDIR");
	for (const char *sec = sections; *sec; sec++) {
		char dirs[3][512];
		size_t n = 0;
		if (env != NULL && *env != '\0' && str_copy(dirs[n], sizeof dirs[n], env) == 0)
			n++;
		if (str_fmt(dirs[n], sizeof dirs[n], "%s/man%c", INETKIT_MANDIR, *sec) > 0)
			n++;
		if (str_copy(dirs[n], sizeof dirs[n], INETKIT_SRC_DOCDIR) == 0)
			n++;
		for (size_t i = 0; i < n; i++) {
			struct stat st;
			if (str_fmt(path, pathsz, "%s/%s.%c", dirs[i], page, *sec) > 0 &&
			    stat(path, &st) == 0)
				return 0;
		}
	}
	return -1;
}

static int show_manpage(const char *path)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("man", "man", "-l", path, (char *)NULL);
		_exit(127);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int help(int argc, char **argv)
{
	if (argc < 2)
		return usage(stdout, CLI_OK);
	char path[640];
	for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
		if (strcmp(argv[1], topics[i].name) != 0)
			continue;
		char sec[2] = {topics[i].section, '\0'};
		if (find_manpage(topics[i].page, sec, path, sizeof path) < 0) {
			fprintf(stderr, "inetkit help: the manual page %s(%c) is not installed; "
				"it is docs/%s.%c in the source tree\n", topics[i].page, *sec,
				topics[i].page, *sec);
			return CLI_FAIL;
		}
		if (show_manpage(path) < 0) {
			fprintf(stderr, "inetkit help: cannot show %s with man(1); read the file "
				"itself, or install man-db\n", path);
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	const struct subcommand *sc = find(argv[1]);
	if (sc == NULL) {
		fprintf(stderr, "inetkit help: unknown subcommand '%s'. Known subcommands:\n", argv[1]);
		list_subcommands(stderr);
		fprintf(stderr, "Other pages: inetkit help conf (the configuration file)\n");
		char near[64];
		if (cli_closest(argv[1], CLI_NAMES(subcommands), near, sizeof near) ||
		    cli_closest(argv[1], CLI_NAMES(topics), near, sizeof near))
			fprintf(stderr, "Did you mean '%s'?\n", near);
		return CLI_USAGE;
	}
	char page[64];
	if (str_fmt(page, sizeof page, "inetkit-%s", sc->name) > 0 &&
	    find_manpage(page, "18", path, sizeof path) == 0 && show_manpage(path) == 0)
		return CLI_OK;
	/* No manual page or no man(1): the built-in help says the same in short. */
	char *hargv[] = {(char *)sc->name, (char *)"--help", NULL};
	return sc->run(2, hargv);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, CLI_USAGE);
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return usage(stdout, CLI_OK);
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("inetkit %s\n", INETKIT_VERSION);
		return CLI_OK;
	}
	if (strcmp(name, "help") == 0)
		return help(argc - 1, argv + 1);
	const struct subcommand *sc = find(name);
	if (sc == NULL) {
		fprintf(stderr, "inetkit: unknown subcommand '%s'. Known subcommands:\n", name);
		list_subcommands(stderr);
		char near[64];
		if (cli_closest(name, CLI_NAMES(subcommands), near, sizeof near))
			fprintf(stderr, "Did you mean '%s'?\n", near);
		fprintf(stderr, "Run 'inetkit --help' for more.\n");
		return CLI_USAGE;
	}
	return sc->run(argc - 1, argv + 1);
}
