/* The IMAP client dialect of `inetkit mail`: RFC 3501 (CAPABILITY,
 * STARTTLS, LOGIN, LIST, EXAMINE, UID SEARCH, UID FETCH with BODY.PEEK[]
 * so that fetching never sets \Seen, LOGOUT), RFC 2595 (STARTTLS). The
 * client core tags commands, ends replies at the tagged line and reads
 * "{n}" literals into the call's sink under a size limit; this file reads
 * the untagged lines it needs: UIDVALIDITY, SEARCH, LIST and the UID and
 * FLAGS of a FETCH. Fetched messages keep their flags (RFC 3501 2.3.2 ->
 * Maildir info letters). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/term.h"
#include "ftp/ftp_client.h"
#include "lib/str.h"
#include "mail/mail_fetch.h"

enum { I_ST_CLOSED, I_ST_GREETING, I_ST_CAPA, I_ST_STARTTLS, I_ST_AUTH, I_ST_SELECTED,
       I_ST_LOGOUT, I_ST_COUNT };
#define IMAP_SET_RUNS 300

static const char *const state_names[] = {
	[I_ST_CLOSED] = "closed", [I_ST_GREETING] = "greeting", [I_ST_CAPA] = "capability",
	[I_ST_STARTTLS] = "starttls", [I_ST_AUTH] = "authenticate", [I_ST_SELECTED] = "selected",
	[I_ST_LOGOUT] = "logout",
};
static const char *const secret_verbs[] = {"LOGIN", "AUTHENTICATE", NULL};

static bool is_word(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);
	return p <= end && (size_t)(end - p) >= n && strncasecmp(p, w, n) == 0 &&
	       (p + n == end || p[n] == ' ' || p[n] == ']' || p[n] == ')' || p[n] == '(');
}

static uint64_t number_at(const char *p, const char *end, const char **next)
{
	uint64_t v = 0;
	while (p < end && *p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (next)
		*next = p;
	return v;
}

/* "{n}" or "{n+}" at the end of a line: n, else -1. */
static int64_t literal_at_end(const char *line, size_t len)
{
	if (len < 3 || line[len - 1] != '}')
		return -1;
	size_t i = len - 1;
	if (line[i - 1] == '+')
		i--;
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || line[i - 1] != '{' || end - i > 12)
		return -1;
	return (int64_t)number_at(line + i, line + end, NULL);
}

void imap_flags_to_maildir(const char *flags, char *out, size_t outsz)
{
	static const struct { const char *imap; char letter; } map[] = {
		{"\\Draft", 'D'}, {"\\Flagged", 'F'}, {"\\Answered", 'R'}, {"\\Seen", 'S'},
		{"\\Deleted", 'T'},
	};
	size_t o = 0;
	const char *end = flags + strlen(flags);
	/* in the letters' ASCII order, as maildir(5) asks */
	for (size_t i = 0; i < sizeof map / sizeof map[0] && o + 1 < outsz; i++)
		for (const char *p = flags; p < end; p++)
			if ((p == flags || p[-1] == ' ' || p[-1] == '(') && is_word(p, end, map[i].imap)) {
				out[o++] = map[i].letter;
				break;
			}
	out[o] = '\0';
}

int imap_folder_local(const char *name, char sep, char *out, size_t outsz)
{
	if (strcasecmp(name, "INBOX") == 0) {
		out[0] = '\0';
		return 0;
	}
	size_t o = 0;
	if (outsz < 2 || !name[0])
		return -1;
	out[o++] = '.';
	for (const char *p = name; *p; p++) {
		char ch = *p;
		if (ch == sep || ch == '/')
			ch = '.';
		if (ch == '.' && (out[o - 1] == '.'))
			return -1;	/* "..", an empty level */
		if ((unsigned char)ch < 0x20 || ch == 0x7f || o + 1 >= outsz)
			return -1;
		out[o++] = ch;
	}
	if (out[o - 1] == '.')
		return -1;
	out[o] = '\0';
	return 0;
}

/* The FETCH response gathered so far (literals left out): its UID and
 * FLAGS. */
static void fetch_items(struct mail_session *s)
{
	const char *t = s->fetch_text.data ? s->fetch_text.data : "";
	const char *end = t + s->fetch_text.len;
	const char *p = memchr(t, '(', s->fetch_text.len);
	for (; p && p < end; p++) {
		if (p == t || (p[-1] != '(' && p[-1] != ' '))
			continue;
		if (is_word(p, end, "UID")) {
			s->fetch_uid = number_at(p + 4, end, NULL);
		} else if (is_word(p, end, "RFC822.SIZE")) {
			s->fetch_size = number_at(p + 12, end, NULL);
		} else if (is_word(p, end, "FLAGS") && p + 6 < end && p[6] == '(') {
			const char *close = memchr(p + 7, ')', (size_t)(end - p - 7));
			if (close) {
				char flags[512];
				str_fmt(flags, sizeof flags, "%.*s", (int)(close - p - 7), p + 7);
				imap_flags_to_maildir(flags, s->fetch_flags, sizeof s->fetch_flags);
				s->fetch_has_flags = true;
			}
		}
	}
}

/* LIST: "(\Flags) "/" name" -> "name" in s->list unless \Noselect. */
static void list_item(struct mail_session *s, const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	if (p >= end || *p != '(')
		return;
	const char *close = memchr(p, ')', (size_t)(end - p));
	if (!close)
		return;
	for (const char *q = p; q < close; q++)
		if (*q == '\\' && (is_word(q, close, "\\Noselect") || is_word(q, close, "\\NonExistent")))
			return;
	p = close + 1;
	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return;
	/* the separator: "x" or NIL */
	if (*p == '"') {
		p++;
		if (p < end && *p == '\\')
			p++;
		p += 2;
		if (p > end)
			return;
	} else if (is_word(p, end, "NIL")) {
		p += 3;
	}
	while (p < end && *p == ' ')
		p++;
	char name[512];
	size_t o = 0;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"' && o + 1 < sizeof name; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			name[o++] = *p;
		}
	} else {
		for (; p < end && *p != ' ' && o + 1 < sizeof name; p++)
			name[o++] = *p;
	}
	name[o] = '\0';
	if (o > 0)
		g_ptr_array_add(s->list, g_strdup(name));
}

int imap_client_line(struct mail_session *s, struct client_reply *r, const char *line,
		     size_t len, ik_err *e)
{
	const char *end = line + len;
	if (r->segment) {
		/* the rest of a line after a literal: part of a FETCH */
		if (sbuf_add(&s->fetch_text, line, len) < 0)
			return ik_err_set(e, "a FETCH response too long");
		fetch_items(s);
		if (s->on_fetch)
			s->on_fetch(s, s->on_fetch_arg);
	} else if (len >= 2 && line[0] == '*' && line[1] == ' ') {
		const char *p = line + 2;
		if (is_word(p, end, "OK")) {
			const char *b = memchr(p, '[', (size_t)(end - p));
			if (b && is_word(b + 1, end, "UIDVALIDITY"))
				s->uidvalidity = number_at(b + 13, end, NULL);
		} else if (is_word(p, end, "CAPABILITY")) {
			for (const char *q = p; q < end; q++)
				if (q[-1] == ' ') {
					if (is_word(q, end, "STARTTLS"))
						s->cap_starttls = true;
					else if (is_word(q, end, "LOGINDISABLED"))
						s->cap_logindisabled = true;
				}
		} else if (is_word(p, end, "SEARCH") && s->list) {
			for (const char *q = p + 6; q < end;) {
				while (q < end && *q == ' ')
					q++;
				const char *n;
				uint64_t v = number_at(q, end, &n);
				if (n == q) {
					if (q < end)
						return ik_err_set(e, "a malformed SEARCH response");
					break;
				}
				char num[24];
				str_fmt(num, sizeof num, "%llu", (unsigned long long)v);
				g_ptr_array_add(s->list, g_strdup(num));
				q = n;
			}
		} else if (is_word(p, end, "LIST") && s->list) {
			list_item(s, p + 4, end);
		} else if (p < end && *p >= '0' && *p <= '9') {
			const char *n;
			uint64_t v = number_at(p, end, &n);
			if (n >= end || *n != ' ')
				;	/* not "* N WORD" */
			else if (is_word(n + 1, end, "EXISTS"))
				s->exists = v;
			else if (is_word(n + 1, end, "FETCH")) {
				sbuf_reset(&s->fetch_text);
				s->fetch_seq = v;
				s->fetch_size = 0;
				s->fetch_uid = 0;
				s->fetch_has_flags = false;
				s->fetch_flags[0] = '\0';
				if (sbuf_add(&s->fetch_text, n + 1, (size_t)(end - n - 1)) < 0)
					return ik_err_set(e, "a FETCH response too long");
				fetch_items(s);
				if (s->on_fetch)
					s->on_fetch(s, s->on_fetch_arg);
			}
		}
	} else if (len > 0 && line[0] != '+') {
		/* the tagged completion */
		const char *sp = memchr(line, ' ', len);
		s->tagged_ok = sp && is_word(sp + 1, end, "OK");
		r->code = s->tagged_ok ? 1 : 0;
		return 0;
	}
	int64_t lit = literal_at_end(line, len);
	if (lit >= 0)
		client_reply_literal(r, (uint64_t)lit);
	return 0;
}

static int imap_line(void *ctx, struct client_reply *r, const char *line, size_t len, ik_err *e)
{
	int k = imap_client_line(ctx, r, line, len, e);
	return k < 0 ? -1 : 1;	/* the core decides where a tagged reply ends */
}

const struct client_dialect imap_client_dialect = {
	.name = "imap",
	.label = "IMAP",
	.state_names = state_names,
	.nstates = I_ST_COUNT,
	.default_expect = CLIENT_EXPECT_TAGGED,
	.reply_line = imap_line,
	.secret_verbs = secret_verbs,
};

static int refused(struct mail_session *s, const char *what, ik_err *e)
{
	char safe[300];
	return ik_err_set(e, "%s refused by %s: %s", what, s->host,
			  term_safe_copy(safe, sizeof safe, client_reply_last(&s->r)));
}

/* A tagged command; 0 when it ended OK. */
static int cmd(struct mail_session *s, const char *verb, const char *arg,
	       struct client_sink *sink, ik_err *e)
{
	client_reply_free(&s->r);
	client_reply_init(&s->r);
	s->tagged_ok = false;
	struct client_call call = {.expect = CLIENT_EXPECT_TAGGED, .sink = sink};
	if (client_call(s->c, &call, verb, arg, &s->r, e) < 0)
		return -1;
	if (s->r.continuation)
		return ik_err_set(e, "%s asked for more after %s", s->host, verb);
	return s->tagged_ok ? 0 : refused(s, verb, e);
}

/* An IMAP quoted string (RFC 3501 4.3); CR, LF and NUL cannot be in one. */
static int quoted(const char *in, char *out, size_t outsz, ik_err *e)
{
	size_t o = 0;
	if (outsz < 3)
		return ik_err_set(e, "too long");
	out[o++] = '"';
	for (const char *p = in; *p; p++) {
		if (*p == '\r' || *p == '\n')
			return ik_err_set(e, "CR and LF cannot be sent in an IMAP string");
		if (o + 4 >= outsz)
			return ik_err_set(e, "too long");
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

int imap_greeting_login(struct mail_session *s, bool implicit, bool tls, const char *pass,
			ik_err *e)
{
	client_trace_note(s->c, "step: greeting (the server's * OK)");
	client_set_state(s->c, I_ST_GREETING);
	struct client_call greet = {.expect = CLIENT_EXPECT_LINE};
	client_expect_next(s->c, &greet);
	if (client_read_reply(s->c, &s->r, e) < 0)
		return -1;
	const char *g = client_reply_last(&s->r);
	if (strncmp(g, "* OK", 4) != 0 && strncmp(g, "* PREAUTH", 9) != 0)
		return refused(s, "the session", e);
	client_trace_note(s->c, "step: capability (CAPABILITY: what the server offers)");
	client_set_state(s->c, I_ST_CAPA);
	if (cmd(s, "CAPABILITY", NULL, NULL, e) < 0)
		return -1;
	if (tls && !implicit) {
		if (!s->cap_starttls)
			return ik_err_set(e, "TLS is required but %s does not offer STARTTLS (use "
					  "--no-tls to allow plaintext)", s->host);
		client_trace_note(s->c, "step: TLS (STARTTLS: encrypt the connection)");
		client_set_state(s->c, I_ST_STARTTLS);
		if (cmd(s, "STARTTLS", NULL, NULL, e) < 0 ||
		    client_starttls(s->c, s->ctx, true, e) < 0)
			return -1;
		/* RFC 3501 6.2.1: capabilities are asked again after TLS */
		s->cap_logindisabled = false;
		if (cmd(s, "CAPABILITY", NULL, NULL, e) < 0)
			return -1;
	}
	if (s->cap_logindisabled)
		return ik_err_set(e, "%s does not allow LOGIN here (LOGINDISABLED)", s->host);
	client_trace_note(s->c, "step: authentication (LOGIN user password)");
	client_set_state(s->c, I_ST_AUTH);
	char arg[1200], qu[520], qp[1040];
	if (quoted(s->user, qu, sizeof qu, e) < 0 || quoted(pass, qp, sizeof qp, e) < 0)
		return ik_err_prefix(e, "LOGIN");
	str_fmt(arg, sizeof arg, "%s %s", qu, qp);
	int rc = cmd(s, "LOGIN", arg, NULL, e);
	explicit_bzero(arg, sizeof arg);
	explicit_bzero(qp, sizeof qp);
	return rc;
}

int imap_folders(struct mail_session *s, GPtrArray *out, ik_err *e)
{
	s->list = out;
	int rc = cmd(s, "LIST", "\"\" \"*\"", NULL, e);
	s->list = NULL;
	return rc;
}

/* After each FETCH line or segment: the flags of the message being read,
 * wherever in the response they come. */
static void keep_flags(struct mail_session *s, void *arg)
{
	struct fetch_batch *b = arg;
	if (!s->fetch_has_flags)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].id == s->fetch_uid) {
			str_copy(b->v[i].flags, sizeof b->v[i].flags, s->fetch_flags);
			break;
		}
}

/* The journal key of a message: FOLDER/UIDVALIDITY/UID with bytes the
 * journal cannot hold as %XX. */
static void msg_key(const char *folder, uint64_t uidvalidity, uint64_t uid, char *out,
		    size_t outsz)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)folder; *p && o + 4 < outsz; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '%') {
			o += (size_t)str_fmt(out + o, outsz - o, "%%%02X", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	str_fmt(out + o, outsz - o, "/%llu/%llu", (unsigned long long)uidvalidity,
		(unsigned long long)uid);
}

int imap_fetch_folder(struct mail_session *s, const struct mail_cli *c, const char *folder,
		      int md, const char *sub, struct fetch_state *st, size_t *got, ik_err *e)
{
	char qf[600];
	if (quoted(folder, qf, sizeof qf, e) < 0)
		return ik_err_prefix(e, "folder");
	client_trace_note(s->c, "step: folder (EXAMINE %s: read-only, flags stay as they are)",
			  folder);
	s->uidvalidity = 0;
	s->exists = 0;
	if (cmd(s, "EXAMINE", qf, NULL, e) < 0)
		return -1;
	client_set_state(s->c, I_ST_SELECTED);
	if (s->uidvalidity == 0)
		return ik_err_set(e, "%s gave no UIDVALIDITY for %s", s->host, folder);
	client_trace_note(s->c, "step: listing (UID SEARCH: the UIDs in the folder)");
	GPtrArray *uids = g_ptr_array_new_with_free_func(g_free);
	s->list = uids;
	int rc = s->exists == 0 ? 0 : cmd(s, "UID SEARCH", "ALL", NULL, e);
	s->list = NULL;
	if (rc < 0) {
		g_ptr_array_free(uids, TRUE);
		return -1;
	}
	struct fetch_batch fb;
	fetch_batch_init(&fb, md, sub, st);
	fb.id_src = &s->fetch_uid;
	struct ftp_progress bar;
	char label[64];
	str_fmt(label, sizeof label, "%.50s", folder);
	/* the sizes are not asked for: the bar counts bytes as they come */
	ftp_progress_begin(&bar, !c->quiet && !c->trace && term_is_tty(stderr), label, 0, 0);
	bool said = false;
	s->on_fetch = keep_flags;
	s->on_fetch_arg = &fb;
	guint i = 0;
	char key[700];
	while (rc == 0 && i < uids->len) {
		/* runs: the UID set's ranges; at most IMAP_SET_RUNS of them
		 * (each "n:m," at most 22 octets) keeps the command under the
		 * 8192 octets RFC 7162 4 asks clients to stay below */
		size_t runs = 0;
		for (; i < uids->len && fb.n < FETCH_BATCH_MAX && runs < IMAP_SET_RUNS; i++) {
			uint64_t uid;
			str_to_u64(uids->pdata[i], UINT64_MAX, &uid);
			msg_key(folder, s->uidvalidity, uid, key, sizeof key);
			if (fetch_state_has(st, key))
				continue;
			if (fb.n == 0 || fb.v[fb.n - 1].id + 1 != uid)
				runs++;
			if ((rc = fetch_batch_add(&fb, key, uid, 0, e)) < 0)
				break;
		}
		if (rc < 0 || fb.n == 0)
			break;
		if (!said)
			client_trace_note(s->c, "step: retrieval (UID FETCH BODY.PEEK[]: the new "
					  "messages, up to %d at a time, with their flags; their text is not "
					  "shown)", FETCH_BATCH_MAX);
		said = true;
		struct sbuf set;
		sbuf_init(&set, 64 * 1024);
		/* "3:9,12,20:22": the UIDs of the batch, ascending */
		for (size_t k = 0; k < fb.n && rc == 0; k++) {
			size_t run = k;
			while (run + 1 < fb.n && fb.v[run + 1].id == fb.v[run].id + 1)
				run++;
			if (sbuf_printf(&set, "%s%llu", k ? "," : "", (unsigned long long)fb.v[k].id) < 0 ||
			    (run > k && sbuf_printf(&set, ":%llu", (unsigned long long)fb.v[run].id) < 0))
				rc = ik_err_set(e, "UID set too long");
			k = run;
		}
		if (rc == 0 && sbuf_addstr(&set, " (UID FLAGS BODY.PEEK[])") < 0)
			rc = ik_err_set(e, "UID set too long");
		if (rc == 0)
			rc = fetch_batch_start(&fb, e);
		struct client_sink sink;
		fetch_batch_sink(&fb, SIZE_MAX, &sink);
		if (rc == 0)
			rc = cmd(s, "UID FETCH", set.data, &sink, e);
		sbuf_free(&set);
		for (size_t k = 0; rc == 0 && k < fb.n; k++)
			if (fb.v[k].got)
				ftp_progress_add(&bar, fb.v[k].size);
		/* a UID missing from the answer was expunged since the SEARCH:
		 * its tmp/ file goes, it is not recorded */
		if (rc == 0)
			rc = fetch_batch_commit(&fb, got, e);
	}
	s->on_fetch = NULL;
	fetch_batch_free(&fb);
	ftp_progress_end(&bar);
	g_ptr_array_free(uids, TRUE);
	return rc;
}

int imap_logout(struct mail_session *s, ik_err *e)
{
	client_trace_note(s->c, "step: end (LOGOUT)");
	client_set_state(s->c, I_ST_LOGOUT);
	client_reply_free(&s->r);
	client_reply_init(&s->r);
	if (client_command(s->c, "LOGOUT", NULL, &s->r, e) < 0)
		return -1;
	client_set_state(s->c, I_ST_CLOSED);
	return 0;
}
