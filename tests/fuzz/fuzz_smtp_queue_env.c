/* libFuzzer harness for the queue's envelope file reader
 * (src/smtp/smtp_queue_env.c): the file is read from disk that an admin
 * may edit, so any bytes must give an envelope or an error.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal comes with a message naming the file;
 *  - an accepted envelope has a sender and at least one non-empty
 *    recipient, and survives a round trip: written out and read again, it
 *    is the same, and the text written is a fixed point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_queue.h"

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_smtp_queue_env: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same(const struct smtp_envelope *a, const struct smtp_envelope *b)
{
	if (a->nrcpt != b->nrcpt)
		return false;
	for (size_t i = 0; i < a->nrcpt; i++)
		if (!same_str(a->rcpt[i].addr, b->rcpt[i].addr) ||
		    !same_str(a->rcpt[i].orcpt, b->rcpt[i].orcpt) ||
		    a->rcpt[i].notify != b->rcpt[i].notify)
			return false;
	return same_str(a->from, b->from) && same_str(a->envid, b->envid) &&
	       same_str(a->auth_user, b->auth_user) && same_str(a->client, b->client) &&
	       same_str(a->helo, b->helo) && same_str(a->tls, b->tls) && a->ret == b->ret &&
	       a->body == b->body && a->smtputf8 == b->smtputf8 && a->arrival == b->arrival &&
	       a->size == b->size && a->attempts == b->attempts &&
	       a->next_attempt == b->next_attempt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	struct smtp_envelope env = {0}, again = {0};
	ik_err e = {{0}};
	if (smtp_queue_env_parse((const char *)data, size, "f.env", &env, &e) < 0) {
		CHECK(strncmp(e.msg, "f.env", 5) == 0);
		CHECK(env.from == NULL && env.nrcpt == 0);
		return 0;
	}
	CHECK(env.from != NULL && env.nrcpt > 0);
	for (size_t i = 0; i < env.nrcpt; i++)
		CHECK(env.rcpt[i].addr != NULL && env.rcpt[i].addr[0] != '\0');
	struct sbuf b1 = SBUF_INIT(1u << 24), b2 = SBUF_INIT(1u << 24);
	CHECK(smtp_queue_env_format(&env, &b1, &e) == 0);
	CHECK(smtp_queue_env_parse(b1.data, b1.len, "f.env", &again, &e) == 0);
	CHECK(same(&env, &again));
	CHECK(smtp_queue_env_format(&again, &b2, &e) == 0);
	CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	sbuf_free(&b1);
	sbuf_free(&b2);
	smtp_envelope_clear(&env);
	smtp_envelope_clear(&again);
	return 0;
}
