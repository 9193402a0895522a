/* The client core's private state, shared by client.c (the object,
 * sending, the trace) and client_reply.c (the reply engine and its
 * blocking driver). Not for protocols: they use client.h. */
#ifndef INETKIT_CORE_CLIENT_INT_H
#define INETKIT_CORE_CLIENT_INT_H

#include "core/client.h"
#include "core/dotstuff.h"

enum client_read_mode {
	CLIENT_RD_LINES,	/* reply lines */
	CLIENT_RD_LITERAL,	/* lit_left bytes of a literal */
	CLIENT_RD_DOT,		/* a body up to "." */
};

struct client {
	const struct client_dialect *d;
	void *ctx;		/* the dialect's, for its hooks */
	struct client_opts o;
	struct client_conn conn;
	int state;
	char host[CLIENT_HOST_MAX];
	uint16_t port;
	char *in;		/* received, not yet consumed */
	size_t in_off, in_len, in_cap;
	/* the reply being read */
	struct client_call cur;	/* expect resolved: never DEFAULT */
	char tag[16];		/* of the last tagged command */
	unsigned tag_seq;
	enum client_read_mode rd;
	uint64_t lit_left;
	struct dot_unstuffer dot;
	bool seg_next;		/* the next line goes on from a literal */
	bool progressed;	/* body bytes taken since the last read */
};

/* The expectation the dialect gives when a command names none. */
void client_expect_default(struct client *c);
void client_trace_line(struct client *c, char dir, const char *s, size_t n);

#endif
