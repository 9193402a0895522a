/* libFuzzer harness for the FTP server command line: FTP's clean-up
 * (Telnet IAC removal, CR NUL), the core's parser over FTP's table (verb
 * lookup, word split), the table checks in every state and FTP's wording
 * of each refusal, the argument parsers a handler would call next, and the
 * virtual path join every path argument goes through. Invariants are checked with
 * __builtin_trap so a violation is a crash the fuzzer reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jail.h"
#include "lib/sbuf.h"
#include "ftpd/ftpd_args.h"
#include "ftpd/ftpd_cmd.h"
#include "ftpd/ftpd_glob.h"
#include "ftpd/ftpd_handlers.h"
#include "ftpd/ftpd_list.h"
#include "ftpd/ftpd_reply.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_vpath(const char *v)
{
	CHECK(v[0] == '/');
	size_t n = strlen(v);
	CHECK(n == 1 || v[n - 1] != '/');
	CHECK(strstr(v, "//") == NULL);
	CHECK(strstr(v, "/./") == NULL && strstr(v, "/../") == NULL);
	CHECK(n < 2 || strcmp(v + n - 2, "/.") != 0);
	CHECK(n < 3 || strcmp(v + n - 3, "/..") != 0);
}

/* A reply must be CRLF-terminated lines with no other CR or LF. */
static void check_reply(const struct sbuf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			CHECK(i > 0 && b->data[i - 1] == '\r');
		if (b->data[i] == '\r')
			CHECK(i + 1 < b->len && (b->data[i + 1] == '\n' || b->data[i + 1] == '\0'));
	}
}

static void args_of(struct session_call *c)
{
	struct ftpd_cmd_refusal r;
	char *copy = strdup(c->arg);
	if (copy == NULL)
		return;
	session_cmd_fn h = c->cmd->handler;
	if (h == ftpd_cmd_type) {
		char t;
		if (ftpd_args_type(c->argv, c->argc, &t, &r) == 0)
			CHECK(t == 'A' || t == 'I');
	} else if (h == ftpd_cmd_site) {
		struct ftpd_site s;
		if (ftpd_site_parse(copy, &s, &r) == 0 && s.def->id == FTPD_SITE_CHMOD)
			CHECK(s.mode <= 07777 && s.path[0] != '\0');
	} else if (h == ftpd_cmd_opts) {
		struct ftpd_opts o;
		if (ftpd_args_opts(copy, &o, &r) == 0 && o.kind == FTPD_OPTS_MLST) {
			char buf[128];
			CHECK(ftpd_list_facts_text(ftpd_list_facts_parse(o.mlst_facts), true, buf,
						   sizeof buf) == 0);
		}
	} else if (h == ftpd_cmd_host) {
		ftpd_args_host(copy, &r);
	} else if (h == ftpd_cmd_rest) {
		uint64_t off;
		if (c->argc == 1 && ftpd_args_rest(c->argv[0], &off, &r) == 0)
			CHECK(off <= INT64_MAX);
	} else if (h == ftpd_cmd_prot) {
		char l;
		if (c->argc == 1 && ftpd_args_prot(c->argv[0], &l, &r) == 0)
			CHECK(l == 'C' || l == 'P');
	} else if (h == ftpd_cmd_list || h == ftpd_cmd_nlst) {
		struct ftpd_list_opts o;
		const char *path = ftpd_list_parse_args(copy, &o);
		CHECK(path >= copy && path <= copy + strlen(copy));
		const char *base = strrchr(path, '/');
		base = base != NULL ? base + 1 : path;
		if (ftpd_glob_has_magic(base)) {
			ftpd_glob_match(base, "notes.txt");
			ftpd_glob_match(base, ".hidden");
			ftpd_glob_match(base, copy);
		}
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2048)
		return 0;
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	struct session_call c;
	struct ftpd_cmd_refusal r;
	if (ftpd_cmd_clean(line, size, &r) < 0) {
		CHECK(r.code == 500);
		free(line);
		return 0;
	}
	size_t clean = strlen(line);
	enum session_refusal why = session_cmd_parse(&ftpd_cmds, line, &c);
	CHECK(c.arg >= line && c.arg <= line + clean);
	CHECK(c.arglen == strlen(c.arg));
	CHECK((why == SESSION_REFUSE_NONE) == (c.cmd != NULL));
	CHECK(why != SESSION_REFUSE_EMPTY || c.verb[0] == '\0');
	CHECK(c.cmd == NULL || strcasecmp(c.verb, c.cmd->verb) == 0);
	if (why == SESSION_REFUSE_EMPTY) {
		ftpd_cmd_refusal_reply(&c, why, &r);
		CHECK(r.code == 500);
		free(line);
		return 0;
	}

	static const unsigned states[] = {FTPD_ST_AUTH, FTPD_ST_PASS, FTPD_ST_READY,
					  FTPD_ST_RNFR, FTPD_ST_XFER};
	for (size_t s = 0; s < sizeof states / sizeof states[0]; s++)
		for (int flags = 0; flags < 4; flags++) {
			c.state = states[s];
			c.logged_in = !(states[s] & FTPD_ST_PRELOGIN);
			c.tls = flags & 1;
			c.deny = flags & 2 ? FTPD_P_NO_EPSV_ALL : 0;
			why = session_cmd_check(&c);
			if (why != SESSION_REFUSE_NONE) {
				ftpd_cmd_refusal_reply(&c, why, &r);
				CHECK(r.code >= 500 && r.code <= 599 && r.text[0] != '\0');
			} else {
				CHECK(c.cmd != NULL && (c.cmd->states & states[s]));
			}
		}
	session_cmd_split(&c);
	CHECK(c.argc <= SESSION_CMD_WORDS_MAX);
	for (size_t i = 0; i < c.argc; i++)
		CHECK(c.argv[i][0] != '\0' && strchr(c.argv[i], ' ') == NULL);

	struct sbuf out = SBUF_INIT(64 * 1024);
	if (c.cmd != NULL && c.cmd->args == SESSION_ARG_PATH) {
		char vpath[JAIL_VPATH_MAX];
		if (jail_vpath_join_len("/home/x", c.arg, c.arglen, vpath, sizeof vpath, NULL) == 0) {
			check_vpath(vpath);
			if (ftpd_reply_path(&out, 257, vpath, "created") == 0)
				CHECK(out.len >= strlen(vpath) + 8);
		} else {
			CHECK(c.arglen > NAME_MAX);
		}
		sbuf_reset(&out);
	}
	if (c.cmd != NULL)
		args_of(&c);
	ftpd_reply(&out, 550, "%s: %s", c.verb, c.arg);
	ftpd_reply_multi(&out, 211, c.arg, c.arg, "End");
	ftpd_cmd_help(&out, c.argc > 0 ? c.argv[0] : c.arg);
	check_reply(&out);
	sbuf_free(&out);
	free(line);
	return 0;
}
