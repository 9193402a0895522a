/* The POP3 client dialect of `inetkit mail`: RFC 1939 (USER/PASS, UIDL,
 * LIST, RETR, DELE, QUIT), RFC 2449 (CAPA), RFC 2595 (STLS). The client
 * core reads the status line and, for multi-line replies, the
 * dot-terminated body (core/client.h CLIENT_EXPECT_DOT); the rule here only
 * tells "+OK" from "-ERR". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/term.h"
#include "ftp/ftp_client.h"
#include "lib/str.h"
#include "mail/mail_fetch.h"

enum { P_ST_CLOSED, P_ST_GREETING, P_ST_CAPA, P_ST_STLS, P_ST_AUTH, P_ST_TRANSACTION, P_ST_QUIT,
       P_ST_COUNT };
#define POP3_PIPELINE 256

static const char *const state_names[] = {
	[P_ST_CLOSED] = "closed", [P_ST_GREETING] = "greeting", [P_ST_CAPA] = "capa",
	[P_ST_STLS] = "stls", [P_ST_AUTH] = "authorization", [P_ST_TRANSACTION] = "transaction",
	[P_ST_QUIT] = "quit",
};
static const char *const secret_verbs[] = {"PASS", "APOP", "AUTH", NULL};

int pop3_status(const char *line, size_t len)
{
	if (len >= 3 && memcmp(line, "+OK", 3) == 0 && (len == 3 || line[3] == ' '))
		return 1;
	if (len >= 4 && memcmp(line, "-ERR", 4) == 0 && (len == 4 || line[4] == ' '))
		return 0;
	return -1;
}

/* The status line of every reply: r->code 1 (+OK) or 0 (-ERR). Returns 1
 * (complete) for -ERR, so that a multi-line command refused has no body;
 * 0 for +OK (its body follows when the command has one). */
static int pop3_line(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	(void)ctx;
	int st = pop3_status(line, len);
	if (st < 0) {
		char safe[80];
		str_fmt(safe, sizeof safe, "%.*s", (int)(len < 60 ? len : 60), line);
		return ik_err_set(e, "not a POP3 reply: '%s'", term_safe_copy(safe, sizeof safe, safe));
	}
	r->code = st;
	return st ? 0 : 1;
}

const struct client_dialect pop3_client_dialect = {
	.name = "pop3",
	.label = "POP3",
	.state_names = state_names,
	.nstates = P_ST_COUNT,
	.default_expect = CLIENT_EXPECT_LINE,
	.reply_line = pop3_line,
	.secret_verbs = secret_verbs,
};

static int refused(struct mail_session *s, const char *what, ik_err *e)
{
	char safe[300];
	return ik_err_set(e, "%s refused by %s: %s", what, s->host,
			  term_safe_copy(safe, sizeof safe, client_reply_last(&s->r)));
}

/* A one-line command that must get +OK. */
static int cmd_ok(struct mail_session *s, const char *verb, const char *arg, ik_err *e)
{
	client_reply_free(&s->r);
	client_reply_init(&s->r);
	if (client_command(s->c, verb, arg, &s->r, e) < 0)
		return -1;
	return s->r.code == 1 ? 0 : refused(s, verb, e);
}

/* A multi-line command into s->r.body (or sink). 1 +OK, 0 -ERR, -1. */
static int cmd_multi(struct mail_session *s, const char *verb, const char *arg,
		     struct client_sink *sink, ik_err *e)
{
	client_reply_free(&s->r);
	client_reply_init(&s->r);
	struct client_call call = {.expect = CLIENT_EXPECT_DOT, .sink = sink};
	if (client_call(s->c, &call, verb, arg, &s->r, e) < 0)
		return -1;
	return s->r.code;
}

int pop3_greeting_login(struct mail_session *s, bool implicit, bool tls, const char *pass,
			ik_err *e)
{
	client_trace_note(s->c, "step: greeting (the server's +OK)");
	client_set_state(s->c, P_ST_GREETING);
	client_expect_next(s->c, NULL);
	if (client_read_reply(s->c, &s->r, e) < 0)
		return -1;
	if (s->r.code != 1)
		return refused(s, "the session", e);
	client_trace_note(s->c, "step: capability (CAPA: what the server offers)");
	client_set_state(s->c, P_ST_CAPA);
	int k = cmd_multi(s, "CAPA", NULL, NULL, e);
	if (k < 0)
		return -1;
	bool stls = false;
	if (k == 1) {
		size_t n;
		const char *b = client_reply_body(&s->r, &n);
		for (const char *p = b; p && p < b + n;) {
			const char *nl = memchr(p, '\n', (size_t)(b + n - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(b + n - p);
			if (l >= 4 && strncasecmp(p, "STLS", 4) == 0 && (l == 4 || p[4] == '\r'))
				stls = true;
			if (l >= 10 && strncasecmp(p, "PIPELINING", 10) == 0 &&
			    (l == 10 || p[10] == '\r'))
				s->cap_pipelining = true;
			p += l + 1;
		}
	}
	if (tls && !implicit) {
		if (!stls)
			return ik_err_set(e, "TLS is required but %s does not offer STLS (use "
					  "--no-tls to allow plaintext)", s->host);
		client_trace_note(s->c, "step: TLS (STLS: encrypt the connection)");
		client_set_state(s->c, P_ST_STLS);
		if (cmd_ok(s, "STLS", NULL, e) < 0 ||
		    client_starttls(s->c, s->ctx, true, e) < 0)
			return -1;
	}
	client_trace_note(s->c, "step: authentication (USER and PASS)");
	client_set_state(s->c, P_ST_AUTH);
	if (cmd_ok(s, "USER", s->user, e) < 0 || cmd_ok(s, "PASS", pass, e) < 0)
		return -1;
	client_set_state(s->c, P_ST_TRANSACTION);
	return 0;
}

int pop3_parse_pair(const char *line, size_t len, uint64_t *n, char *tok, size_t toksz)
{
	size_t i = 0;
	uint64_t v = 0;
	if (len == 0 || line[0] < '0' || line[0] > '9')
		return -1;
	while (i < len && line[i] >= '0' && line[i] <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(line[i++] - '0');
	}
	if (i >= len || line[i] != ' ' || v == 0)
		return -1;
	i++;
	size_t t = 0;
	while (i < len && line[i] != ' ' && line[i] != '\r') {
		unsigned char ch = (unsigned char)line[i];
		/* RFC 1939 7: UIDL is 1-70 characters 0x21-0x7e */
		if (ch < 0x21 || ch > 0x7e || t + 1 >= toksz)
			return -1;
		tok[t++] = (char)ch;
		i++;
	}
	if (t == 0)
		return -1;
	tok[t] = '\0';
	*n = v;
	return 0;
}

struct pop3_msg {
	uint64_t n;
	char uid[72];
	uint64_t size;
};

/* The lines of a multi-line body, each as (line, len) without CR LF. */
static int each_line(const char *b, size_t n, int (*fn)(const char *, size_t, void *), void *arg)
{
	for (const char *p = b; p && p < b + n;) {
		const char *nl = memchr(p, '\n', (size_t)(b + n - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(b + n - p);
		size_t ll = l > 0 && p[l - 1] == '\r' ? l - 1 : l;
		if (ll > 0 && fn(p, ll, arg) < 0)
			return -1;
		p += l + 1;
	}
	return 0;
}

struct uidl_acc {
	GArray *msgs;
	GHashTable *uids;
};

static int uidl_line(const char *line, size_t len, void *arg)
{
	struct uidl_acc *a = arg;
	struct pop3_msg m = {0};
	if (pop3_parse_pair(line, len, &m.n, m.uid, sizeof m.uid) < 0)
		return -1;
	g_array_append_val(a->msgs, m);
	g_hash_table_add(a->uids, g_strdup(m.uid));
	return 0;
}

static int list_line(const char *line, size_t len, void *arg)
{
	GArray *msgs = arg;
	uint64_t n, size;
	char tok[32];
	if (pop3_parse_pair(line, len, &n, tok, sizeof tok) < 0 ||
	    str_to_u64(tok, UINT64_MAX, &size) < 0)
		return -1;
	/* LIST and UIDL both go in message-number order, usually 1..N */
	if (n - 1 < msgs->len && g_array_index(msgs, struct pop3_msg, n - 1).n == n) {
		g_array_index(msgs, struct pop3_msg, n - 1).size = size;
		return 0;
	}
	for (guint i = 0; i < msgs->len; i++) {
		struct pop3_msg *m = &g_array_index(msgs, struct pop3_msg, i);
		if (m->n == n) {
			m->size = size;
			break;
		}
	}
	return 0;
}

static bool uid_on_server(const char *key, void *arg)
{
	return g_hash_table_contains(arg, key);
}

int pop3_fetch(struct mail_session *s, const struct mail_cli *c, int md, struct fetch_state *st,
	       bool del, size_t *got, ik_err *e)
{
	client_trace_note(s->c, "step: listing (UIDL: a unique id per message; LIST: sizes)");
	int k = cmd_multi(s, "UIDL", NULL, NULL, e);
	if (k < 0)
		return -1;
	if (k == 0)
		return refused(s, "UIDL (needed to fetch only new mail)", e);
	struct uidl_acc acc = {
		.msgs = g_array_new(FALSE, TRUE, sizeof(struct pop3_msg)),
		.uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
	};
	int rc = -1;
	size_t blen;
	const char *body = client_reply_body(&s->r, &blen);
	if (each_line(body, blen, uidl_line, &acc) < 0) {
		ik_err_set(e, "%s sent a malformed UIDL listing", s->host);
		goto out;
	}
	uint64_t total = 0;
	size_t todo = 0;
	for (guint i = 0; i < acc.msgs->len; i++)
		if (!fetch_state_has(st, g_array_index(acc.msgs, struct pop3_msg, i).uid))
			todo++;
	if (todo > 0) {
		k = cmd_multi(s, "LIST", NULL, NULL, e);
		if (k < 0)
			goto out;
		body = client_reply_body(&s->r, &blen);
		if (k == 1 && each_line(body, blen, list_line, acc.msgs) < 0) {
			ik_err_set(e, "%s sent a malformed LIST listing", s->host);
			goto out;
		}
		for (guint i = 0; i < acc.msgs->len; i++) {
			struct pop3_msg *m = &g_array_index(acc.msgs, struct pop3_msg, i);
			if (!fetch_state_has(st, m->uid))
				total += m->size;
		}
	}
	struct ftp_progress bar;
	ftp_progress_begin(&bar, !c->quiet && !c->trace && term_is_tty(stderr), "fetch", total, 0);
	if (todo > 0)
		client_trace_note(s->c, "step: retrieval (RETR: each new message; its text is "
				  "not shown)%s", s->cap_pipelining ? "; PIPELINING: several "
				  "commands sent before their replies are read" : "");
	struct fetch_batch fb;
	fetch_batch_init(&fb, md, "", st);
	guint i = 0;
	while (i < acc.msgs->len) {
		/* the next batch of new messages */
		for (; i < acc.msgs->len && fb.n < FETCH_BATCH_MAX; i++) {
			struct pop3_msg *m = &g_array_index(acc.msgs, struct pop3_msg, i);
			if (!fetch_state_has(st, m->uid) &&
			    fetch_batch_add(&fb, m->uid, m->n, m->size, e) < 0)
				goto out_batch;
		}
		if (fb.n == 0)
			break;
		if (fetch_batch_start(&fb, e) < 0)
			goto out_batch;
		/* RFC 2449 PIPELINING: the batch's RETRs go out in groups
		 * (at most POP3_PIPELINE short lines, 3 KiB, far below any
		 * socket buffer, so the sending never waits on the unread
		 * replies), the replies are read in order; else one at a time */
		size_t group = s->cap_pipelining ? POP3_PIPELINE : 1;
		for (size_t k = 0; k < fb.n; k += group) {
			size_t end = k + group < fb.n ? k + group : fb.n;
			for (size_t j = k; j < end; j++) {
				char num[24];
				str_fmt(num, sizeof num, "%llu", (unsigned long long)fb.v[j].id);
				if (client_send(s->c, "RETR", num, e) < 0)
					goto out_batch;
			}
			for (size_t j = k; j < end; j++) {
				struct client_sink sink;
				fetch_batch_sink(&fb, j, &sink);
				struct client_call call = {.expect = CLIENT_EXPECT_DOT, .sink = &sink};
				client_reply_free(&s->r);
				client_reply_init(&s->r);
				client_expect_next(s->c, &call);
				if (client_read_reply(s->c, &s->r, e) < 0)
					goto out_batch;
				if (s->r.code != 1) {
					refused(s, "RETR", e);
					goto out_batch;
				}
				fb.v[j].got = true;
				ftp_progress_add(&bar, fb.v[j].size_hint);
			}
		}
		if (fetch_batch_commit(&fb, got, e) < 0)
			goto out_batch;
	}
	/* DELE only once the copies are safely in the Maildir (and the
	 * server removes them only at QUIT, RFC 1939 6) */
	for (guint j = 0; del && j < acc.msgs->len; j++) {
		struct pop3_msg *m = &g_array_index(acc.msgs, struct pop3_msg, j);
		char num[24];
		str_fmt(num, sizeof num, "%llu", (unsigned long long)m->n);
		if (fetch_state_has(st, m->uid) && cmd_ok(s, "DELE", num, e) < 0)
			goto out_batch;
	}
	rc = fetch_state_rewrite(st, uid_on_server, acc.uids, e);
out_batch:
	fetch_batch_free(&fb);
	ftp_progress_end(&bar);
out:
	g_array_free(acc.msgs, TRUE);
	g_hash_table_destroy(acc.uids);
	return rc;
}

int pop3_quit(struct mail_session *s, ik_err *e)
{
	client_trace_note(s->c, "step: end (QUIT: deletions take effect now)");
	client_set_state(s->c, P_ST_QUIT);
	if (cmd_ok(s, "QUIT", NULL, e) < 0)
		return -1;
	client_set_state(s->c, P_ST_CLOSED);
	return 0;
}
