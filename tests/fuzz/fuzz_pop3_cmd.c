/* libFuzzer harness for the POP3 command line: the core's parse and check
 * against the POP3 table in every state, POP3's wording of each refusal,
 * and the argument parsers (message numbers, TOP's line count, UIDL
 * values). The first byte chooses the state, TLS and the deny mask.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal is one "-ERR " line of printable ASCII (no CR, LF: it
 *    could not end the reply early);
 *  - an accepted command ran in a state its row allows, with the argument
 *    count its rule allows;
 *  - a message number accepted is 1..999999999 and prints back as the
 *    digits given; a UIDL value is 1..70 characters of 0x21..0x7E. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "pop3/pop3_cmd.h"

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_pop3_cmd: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

static void printable(const char *s)
{
	for (; *s; s++)
		CHECK(*s >= 0x20 && *s < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 700)
		return 0;
	uint8_t mode = data[0];
	char line[701];
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	if (memchr(line, '\0', size - 1) != NULL)
		return 0;	/* the core drops a line holding a NUL */
	char copy[701];
	memcpy(copy, line, size);

	struct session_call c;
	memset(&c, 0, sizeof c);
	enum session_refusal why = session_cmd_parse(&pop3_cmds, line, &c);
	c.state = (mode & 1) ? POP3_ST_TRANS : POP3_ST_AUTH;
	c.logged_in = c.state == POP3_ST_TRANS;
	c.tls = (mode & 2) != 0;
	c.deny = (mode >> 2) & (POP3_P_PLAIN | POP3_P_APOP);
	if (why == SESSION_REFUSE_NONE)
		why = session_cmd_check(&c);
	if (why != SESSION_REFUSE_NONE) {
		char out[400];
		pop3_cmd_refusal_text(&c, why, out, sizeof out);
		CHECK(strncmp(out, "-ERR ", 5) == 0);
		printable(out);
	} else {
		CHECK(c.cmd != NULL);
		CHECK(c.cmd->states & c.state);
		session_cmd_split(&c);
		if (c.cmd->args == SESSION_ARG_WORDS)
			CHECK(c.argc >= c.cmd->min && c.argc <= c.cmd->max);
		for (size_t i = 0; i < c.argc; i++) {
			uint64_t v;
			if (pop3_parse_msgno(c.argv[i], &v) == 0) {
				char back[16];
				snprintf(back, sizeof back, "%llu", (unsigned long long)v);
				CHECK(v >= 1 && v <= 999999999ULL);
				CHECK(strcmp(back, c.argv[i]) == 0 || c.argv[i][0] == '0');
			}
			if (pop3_parse_lines(c.argv[i], &v) == 0)
				CHECK(v <= 999999999ULL);
		}
	}
	char uid[80];
	pop3_uidl_of(copy, uid, sizeof uid);
	size_t n = strlen(uid);
	CHECK(n >= 1 && n <= 70);
	for (size_t i = 0; i < n; i++)
		CHECK(uid[i] >= 0x21 && uid[i] <= 0x7e);
	return 0;
}
