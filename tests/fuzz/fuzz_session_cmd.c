/* libFuzzer harness for the core's command-line parser and checks
 * (core/session_cmd.c): one- and two-word verbs with the longest match,
 * tags, the checks in every state, the word split. The FTP table is
 * fuzzed through the core by fuzz_ftpd_cmd. Invariants are checked with
 * __builtin_trap so a violation is a crash the fuzzer reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/session.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void handler(struct session_call *c) { (void)c; }
static void refuse(struct session_call *c, enum session_refusal why) { (void)c; (void)why; }

#define BL SESSION_CMD_BEFORE_LOGIN
#define NL SESSION_CMD_NEEDS_LOGIN
static const struct session_cmd table[] = {
	{"LOGIN", 1, BL | SESSION_CMD_SECRET, SESSION_ARG_WORDS, 2, 2, "LOGIN u p", handler, 0, NULL},
	{"STARTTLS", 1, BL | SESSION_CMD_NEEDS_PLAINTEXT, SESSION_ARG_NONE, 0, 0, "STARTTLS",
	 handler, 0, NULL},
	{"UID", 2, NL, SESSION_ARG_RAW, 1, 1, "UID ...", handler, 0, NULL},
	{"UID FETCH", 2, NL, SESSION_ARG_WORDS, 2, 8, "UID FETCH set items", handler, 1, NULL},
	{"UID STORE", 2, NL | SESSION_CMD_NEEDS_TLS, SESSION_ARG_WORDS, 3, 3, "UID STORE", handler,
	 0, NULL},
	{"SELECT", 2, NL, SESSION_ARG_PATH, 1, 1, "SELECT box", handler, 0, NULL},
	{"X", 3, BL | SESSION_CMD_NOT_IMPL, SESSION_ARG_RAW, 0, 1, "X", NULL, 0, NULL},
};

static void one(const uint8_t *data, size_t size, bool tagged)
{
	struct session_cmds set = {table, sizeof table / sizeof table[0], tagged, 1, refuse, NULL,
				   NULL};
	char *line = malloc(size + 1);
	if (line == NULL)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	size_t len = strlen(line);	/* the core gets lines without NUL */
	struct session_call c;
	enum session_refusal why = session_cmd_parse(&set, line, &c);
	CHECK(why == SESSION_REFUSE_NONE || why == SESSION_REFUSE_EMPTY ||
	      why == SESSION_REFUSE_UNKNOWN);
	CHECK(c.arg >= line && c.arg <= line + len && c.arglen == strlen(c.arg));
	CHECK(c.verb >= line && c.verb <= line + len);
	CHECK(tagged || c.tag == NULL);
	CHECK(c.tag == NULL || (c.tag[0] != '\0' && strchr(c.tag, ' ') == NULL));
	CHECK((why == SESSION_REFUSE_EMPTY) == (c.verb[0] == '\0'));
	CHECK(c.cmd == NULL || strcasecmp(c.verb, c.cmd->verb) == 0);
	CHECK(c.cmd == NULL || session_cmd_lookup(&set, c.cmd->verb) == c.cmd);
	for (unsigned st = 1; st <= 4; st <<= 1)
		for (int f = 0; f < 8; f++) {
			c.state = st;
			c.logged_in = f & 1;
			c.tls = f & 2;
			c.deny = f & 4 ? 1 : 0;
			enum session_refusal w = session_cmd_check(&c);
			CHECK(w != SESSION_REFUSE_NONE || (c.cmd != NULL && (c.cmd->states & st)));
			CHECK(w != SESSION_REFUSE_NONE || c.cmd->handler != NULL);
			CHECK(session_refusal_text(w)[0] != '?');
		}
	session_cmd_split(&c);
	CHECK(c.argc <= SESSION_CMD_WORDS_MAX);
	for (size_t i = 0; i < c.argc; i++)
		CHECK(c.argv[i][0] != '\0' && strchr(c.argv[i], ' ') == NULL);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2048)
		return 0;
	one(data, size, false);
	one(data, size, true);
	return 0;
}
