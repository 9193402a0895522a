/* Internals of `inetkit addr`, shared by src/tools/addr*.c only. */
#ifndef INETKIT_TOOLS_ADDR_TOOL_H
#define INETKIT_TOOLS_ADDR_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "core/term.h"
#include "net/addr.h"

#define ADDR_CMD "addr"

/* Batch mode: longest line, line ending not counted. Well above the
 * longest valid input (ADDR_INPUT_MAX) so padding and comments fit. */
#define ADDR_LINE_MAX 256

/* split refuses to list more subnets than this without --force. */
#define ADDR_SPLIT_MAX_LOG2 20

/* summarize holds its inputs in memory: at most this many. */
#define ADDR_SUMMARIZE_MAX (1u << 20)

/* One big output buffer written with write(2): batch mode prints a line
 * per input, and stdio's per-call locking and formatting would cost more
 * than the address work itself. */
struct addr_out {
	char *buf;
	size_t len, cap;
	int fd;
	int err;	/* errno of the first failed write, else 0 */
};

/* Every record fits in this much room; addr_out_reserve flushes to keep it. */
#define ADDR_RECORD_MAX 4096

int addr_out_init(struct addr_out *o, int fd);
void addr_out_free(struct addr_out *o);
int addr_out_flush(struct addr_out *o);
/* Room for n <= ADDR_RECORD_MAX bytes at the end; commit with addr_out_commit. */
char *addr_out_reserve(struct addr_out *o, size_t n);
void addr_out_commit(struct addr_out *o, char *end);
void addr_out_add(struct addr_out *o, const char *s, size_t n);
void addr_out_str(struct addr_out *o, const char *s);

/* Options and state of one run. */
struct addr_ctx {
	bool json;
	bool force;
	bool quiet;
	bool has_prefix, has_count;
	unsigned prefix;	/* split --prefix */
	uint64_t count;		/* split --count */
	int family;		/* ntoa -4 / -6, 0 = by size */
	bool bad;		/* some input was wrong: exit 2 at the end */
	unsigned records;	/* human records printed (for the blank line between) */
	struct term_colors col;
	struct addr_out out;
	void *state;		/* the running verb's own state, for its line callback */
};

/* One line of batch input, trimmed; too_long lines carry their first bytes. */
struct addr_line {
	const char *s;
	size_t len;
	unsigned long no;
	bool too_long;
};
typedef void (*addr_line_fn)(struct addr_ctx *ctx, const struct addr_line *line);

/* Read fd to its end in large blocks, calling fn per line; blank lines and
 * lines starting with '#' are skipped. Returns 0, or -1 on a read error. */
int addr_read_lines(struct addr_ctx *ctx, int fd, addr_line_fn fn, ik_err *e);

/* Report a bad input on stderr: "inetkit addr: [line N: ]'TEXT': why". */
void addr_report(struct addr_ctx *ctx, const struct addr_line *line, const char *s, size_t len,
		 const char *why);
void addr_report_line(struct addr_ctx *ctx, const struct addr_line *line, const char *why);

/* Quote input for a message: printable bytes as they are, others as \xNN,
 * cut to a readable length with "...". */
void addr_quote(char *buf, size_t bufsz, const char *s, size_t len);

/* The full report for one address (JSON Lines or the human table). */
void addr_show(struct addr_ctx *ctx, const char *input, size_t ilen, const struct ik_net *n);

/* Verbs (src/tools/addr_verbs.c); args are the operands after options. */
int addr_verb_split(struct addr_ctx *ctx, int argc, char **argv);
int addr_verb_contains(struct addr_ctx *ctx, int argc, char **argv);
int addr_verb_summarize(struct addr_ctx *ctx, int argc, char **argv);
int addr_verb_aton(struct addr_ctx *ctx, int argc, char **argv);
int addr_verb_ntoa(struct addr_ctx *ctx, int argc, char **argv);

#endif
