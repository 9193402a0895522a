/* The commands of the selected state: FETCH, STORE, SEARCH, COPY, MOVE,
 * EXPUNGE, CLOSE, UNSELECT, CHECK, IDLE, and their UID forms. RFC 3501
 * 6.4 and 7.4.2, RFC 4315 (UIDPLUS: COPYUID, UID EXPUNGE), RFC 6851
 * (MOVE), RFC 3691 (UNSELECT), RFC 2177 (IDLE), RFC 4731 (ESEARCH),
 * RFC 7162 (CONDSTORE: MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE; QRESYNC:
 * UID FETCH ... (VANISHED)), keywords (STORE, SEARCH KEYWORD; their
 * Maildir letters in imap_keywords.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "lib/str.h"

static bool is_uid(const struct session_call *c)
{
	return strncasecmp(c->cmd->verb, "UID ", 4) == 0;
}

static int parse_args(struct session_call *c, struct imap_args *a)
{
	char err[IMAP_ERR_MAX];
	if (imap_args_parse(c->arg, c->arglen, a, err) < 0) {
		imap_reply(c->proto, c->tag, "BAD", "%s", err);
		return -1;
	}
	return 0;
}

/* The sequence set of the first argument; for message numbers every one
 * must exist (RFC 3501 9: seq-number). NULL after a reply. */
static struct imap_seqset *seqset_arg(struct session_call *c, const struct imap_args *a)
{
	struct imap_sess *ss = c->proto;
	char err[IMAP_ERR_MAX];
	if (a->n < 1 || a->args[0].type != IMAP_ARG_ATOM) {
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return NULL;
	}
	struct imap_seqset *set = malloc(sizeof *set);
	if (set == NULL) {
		imap_reply(ss, c->tag, "NO", "[SERVERBUG] Out of memory");
		return NULL;
	}
	if (imap_seqset_parse(a->args[0].str, a->args[0].len, set, err) < 0 || set->dollar) {
		if (set->dollar)
			str_copy(err, sizeof err, "$ is not supported");
		free(set);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return NULL;
	}
	if (!is_uid(c)) {
		size_t n = ss->sel->n;
		for (size_t i = 0; i < set->n; i++) {
			uint32_t lo = set->r[i].lo, hi = set->r[i].hi;
			if ((lo != IMAP_SEQ_STAR && lo > n) || (hi != IMAP_SEQ_STAR && hi > n) || n == 0) {
				free(set);
				imap_reply(ss, c->tag, "BAD", "Invalid sequence number (the mailbox holds "
					   "%zu messages)", n);
				return NULL;
			}
		}
	}
	return set;
}

/* ---- FETCH ---- */

static void put_date(struct sbuf *b, int64_t t)
{
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	sbuf_printf(b, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, mon[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Add \Seen to message i (a read-write folder). */
static void set_seen(struct imap_sess *ss, size_t i)
{
	struct imap_folder *f = ss->sel;
	struct imap_msg *m = &f->msgs[i];
	if (f->readonly || strchr(m->me->flags, 'S') != NULL)
		return;
	ik_err e;
	if (mailbox_change_flags(f->mb, m->me, "S", "", false, &e) == 0)
		mail_index_set_flags(f->ix, m->uid, m->me->flags, &m->modseq, &e);
	m->told = imap_flag_bits(m->me->flags);
}

/* text, then v in decimal: FETCH 1:* writes this for every message, and
 * a printf per message was most of the time a FETCH (FLAGS) took. */
static void put_num(struct sbuf *b, const char *text, uint64_t v)
{
	char buf[48];
	size_t t = strlen(text);
	char digits[24];
	size_t n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	if (t > sizeof buf - sizeof digits)
		t = sizeof buf - sizeof digits;
	memcpy(buf, text, t);
	for (size_t k = 0; k < n; k++)
		buf[t + k] = digits[n - 1 - k];
	sbuf_add(b, buf, t + n);
}

static void put_literal(struct sbuf *b, const char *p, size_t n)
{
	put_num(b, "{", n);
	sbuf_add(b, "}\r\n", 3);
	sbuf_add(b, p, n);
}

/* msg: the caller's buffer for the message (empty; kept from one
 * message to the next, so reading one costs no allocation). */
static void fetch_one(struct imap_sess *ss, size_t i, const struct imap_fetch *fa, bool uid,
		      struct sbuf *b, struct sbuf *msgbuf)
{
	struct imap_folder *f = ss->sel;
	struct imap_msg *m = &f->msgs[i];
	ik_err e;
	unsigned items = fa->items | (uid ? IMAP_FETCH_UID : 0);
	unsigned mime = IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE;
	/* Read the cache file when a session first needs it: an IDLE or
	 * FLAGS-only session never holds it. */
	struct imap_cache *cache = (items & mime) ? imap_folder_cache(f) : NULL;
	if (cache == NULL)
		items &= ~mime;
	const char *const *cached = (items & mime)
		? imap_cache_get(cache, mailbox_dirfd(f->mb), m->me->base, NULL, 0) : NULL;
	bool need_body = (items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER |
				   IMAP_FETCH_RFC822_TEXT)) || fa->nbodies > 0 ||
			 ((items & mime) && cached == NULL);
	/* Header sections only (what clients list messages with): the
	 * folder's header cache serves, the file is not read. */
	bool header_only = need_body && !((items & mime) && cached == NULL) &&
			   !(items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_TEXT));
	for (size_t k = 0; k < fa->nbodies && header_only; k++)
		header_only = fa->bodies[k].nparts == 0 &&
			      (fa->bodies[k].kind == IMAP_SECTION_HEADER ||
			       fa->bodies[k].kind == IMAP_SECTION_HEADER_FIELDS ||
			       fa->bodies[k].kind == IMAP_SECTION_HEADER_FIELDS_NOT);
	/* BODY[] alone, its size known: read straight into the reply, not
	 * into a copy of the message first. */
	const struct imap_section *s0 = fa->nbodies == 1 ? &fa->bodies[0] : NULL;
	bool direct = s0 != NULL && s0->nparts == 0 && s0->kind == IMAP_SECTION_ALL &&
		      !s0->partial && m->me->has_vsize && !(items & mime) &&
		      !(items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER |
				 IMAP_FETCH_RFC822_TEXT));
	if (direct)
		need_body = false;
	struct sbuf *msg = msgbuf;
	sbuf_reset(msg);
	const char *hdr = NULL;
	size_t hdrlen = 0;
	if (header_only && (hdr = imap_folder_header(f, i, &hdrlen)) == NULL)
		header_only = false;
	/* The reader finds a renamed file again by itself (a directory
	 * scan): only then, never on every FETCH. */
	if (need_body && !header_only && imap_folder_read(f, m->me, msg, &e) < 0)
		return;
	bool seen = false;
	for (size_t k = 0; k < fa->nbodies; k++)
		seen = seen || !fa->bodies[k].peek;
	if (items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_TEXT))
		seen = true;
	bool had_seen = strchr(m->me->flags, 'S') != NULL;
	if (seen && !f->readonly)
		set_seen(ss, i);
	if (seen && !had_seen && !f->readonly)
		items |= IMAP_FETCH_FLAGS;
	/* RFC 7162 3.1.4.1: with CONDSTORE on, FLAGS come with MODSEQ. */
	if (ss->condstore && (items & IMAP_FETCH_FLAGS))
		items |= IMAP_FETCH_MODSEQ;
	const char *sep = "";
	put_num(b, "* ", i + 1);
	sbuf_addstr(b, " FETCH (");
	if (items & IMAP_FETCH_UID) {
		put_num(b, "UID ", m->uid);
		sep = " ";
	}
	if (items & IMAP_FETCH_FLAGS) {
		sbuf_addstr(b, *sep ? " FLAGS " : "FLAGS ");
		imap_put_msg_flags(b, ss, m);
		sep = " ";
	}
	if (items & IMAP_FETCH_INTERNALDATE) {
		sbuf_printf(b, "%sINTERNALDATE ", sep);
		put_date(b, imap_folder_mtime(f, m->me));
		sep = " ";
	}
	if (items & IMAP_FETCH_RFC822_SIZE) {
		uint64_t size = m->me->vsize;
		if (need_body && !header_only)
			size = msg->len;
		else if (!m->me->has_vsize && mailbox_vsize(f->mb, m->me, &e) == 0)
			size = m->me->vsize;
		sbuf_printf(b, "%sRFC822.SIZE %" PRIu64, sep, size);
		sep = " ";
	}
	if (items & IMAP_FETCH_MODSEQ) {
		sbuf_printf(b, "%sMODSEQ (%" PRIu64 ")", sep, m->modseq);
		sep = " ";
	}
	const char *data = header_only ? hdr : sbuf_cstr(msg);
	size_t datalen = header_only ? hdrlen : msg->len;
	if ((items & mime) && cached == NULL)
		cached = imap_cache_get(cache, mailbox_dirfd(f->mb), m->me->base, data, datalen);
	static const struct {
		unsigned item;
		const char *name;
		int val;
	} mimes[] = {
		{IMAP_FETCH_ENVELOPE, "ENVELOPE", 0},
		{IMAP_FETCH_BODYSTRUCTURE, "BODYSTRUCTURE", 1},
		{IMAP_FETCH_BODY, "BODY", 2},
	};
	for (size_t k = 0; k < 3 && cached != NULL; k++) {
		if (!(items & mimes[k].item))
			continue;
		sbuf_printf(b, "%s%s ", sep, mimes[k].name);
		sbuf_addstr(b, cached[mimes[k].val]);
		sep = " ";
	}
	if (items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER | IMAP_FETCH_RFC822_TEXT)) {
		static const struct {
			unsigned item;
			const char *name;
			enum imap_section_kind kind;
		} r822[] = {
			{IMAP_FETCH_RFC822_HEADER, "RFC822.HEADER", IMAP_SECTION_HEADER},
			{IMAP_FETCH_RFC822_TEXT, "RFC822.TEXT", IMAP_SECTION_TEXT},
			{IMAP_FETCH_RFC822, "RFC822", IMAP_SECTION_ALL},
		};
		for (size_t k = 0; k < 3; k++) {
			if (!(items & r822[k].item))
				continue;
			struct imap_section sec = {.kind = r822[k].kind};
			struct sbuf part = SBUF_INIT(datalen + 16);
			imap_mime_section(data, datalen, &sec, &part);
			sbuf_printf(b, "%s%s ", sep, r822[k].name);
			put_literal(b, sbuf_cstr(&part), part.len);
			sbuf_free(&part);
			sep = " ";
		}
	}
	if (direct) {
		size_t start = b->len;
		sbuf_addstr(b, sep);
		sbuf_addstr(b, "BODY[");
		sbuf_addstr(b, s0->spec);
		put_num(b, "] {", m->me->vsize);
		sbuf_add(b, "}\r\n", 3);
		size_t mark = b->len;
		if (imap_folder_read(f, m->me, b, &e) == 0 && b->len - mark == m->me->vsize) {
			sbuf_addstr(b, ")\r\n");
			return;
		}
		/* A W= that does not match the file: the long way. */
		sbuf_truncate(b, start);
		if (imap_folder_read(f, m->me, msg, &e) < 0) {
			sbuf_addstr(b, ")\r\n");
			return;
		}
		data = sbuf_cstr(msg);
		datalen = msg->len;
	}
	for (size_t k = 0; k < fa->nbodies; k++) {
		const struct imap_section *sec = &fa->bodies[k];
		struct sbuf part = SBUF_INIT(datalen + 4096);
		/* BODY[]: the message as read, not copied once more. */
		bool whole = sec->nparts == 0 && sec->kind == IMAP_SECTION_ALL;
		if (!whole)
			imap_mime_section(data, datalen, sec, &part);
		sbuf_printf(b, "%sBODY[%s]", sep, sec->spec);
		const char *p = whole ? data : sbuf_cstr(&part);
		size_t n = whole ? datalen : part.len;
		if (sec->partial) {
			sbuf_printf(b, "<%" PRIu32 ">", sec->offset);
			size_t off = sec->offset < n ? sec->offset : n;
			p += off;
			n -= off;
			if (n > sec->length)
				n = sec->length;
		}
		sbuf_addch(b, ' ');
		put_literal(b, p, n);
		sbuf_free(&part);
		sep = " ";
	}
	sbuf_addstr(b, ")\r\n");
}

void imap_cmd_fetch(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	if (parse_args(c, &a) < 0)
		return;
	struct imap_seqset *set = seqset_arg(c, &a);
	if (set == NULL) {
		imap_args_free(&a);
		return;
	}
	static struct imap_fetch fa;	/* large (section buffers); the loop is one thread */
	char err[IMAP_ERR_MAX];
	if (imap_fetch_parse(a.args + 1, a.n - 1, &fa, err) < 0) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	bool uid = is_uid(c);
	struct imap_folder *f = ss->sel;
	if (fa.vanished && (!uid || !ss->qresync)) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "VANISHED needs UID FETCH and ENABLE QRESYNC");
		return;
	}
	/* RFC 7162 3.2.6: the UIDs of the set expunged since CHANGEDSINCE,
	 * first. */
	if (fa.vanished && fa.changedsince < f->ix->highestmodseq) {
		struct sbuf v = SBUF_INIT(16u << 20);
		imap_put_vanished(&v, f, set, fa.changedsince);
		imap_send_sbuf(ss, &v);
	}
	size_t from, to;
	imap_folder_span(f, set, uid, &from, &to);
	/* One buffer for the replies, handed on every 256 KiB: no
	 * allocation per message. */
	struct sbuf b = SBUF_INIT(ss->srv->conf->max_literal * 2 + (1u << 20));
	struct sbuf msg = SBUF_INIT(ss->srv->conf->max_literal * 2 + 1);
	for (size_t i = from; i < to && !ss->closing; i++) {
		if (!imap_folder_match(f, i, set, uid))
			continue;
		if (fa.changedsince_given && f->msgs[i].modseq <= fa.changedsince)
			continue;
		fetch_one(ss, i, &fa, uid, &b, &msg);
		if (b.len >= (256u << 10)) {
			/* What these replies computed is in the cache file
			 * before they go out. */
			imap_cache_flush(f->sh->cache);
			if (!ss->closing)
				session_write(ss->s, b.data, b.len);
			sbuf_reset(&b);
		}
	}
	sbuf_free(&msg);
	imap_cache_flush(f->sh->cache);
	imap_send_sbuf(ss, &b);
	free(set);
	imap_args_free(&a);
	imap_reply(ss, c->tag, "OK", "Fetch completed.");
}

/* ---- STORE ---- */

void imap_cmd_store(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	if (parse_args(c, &a) < 0)
		return;
	struct imap_seqset *set = seqset_arg(c, &a);
	if (set == NULL) {
		imap_args_free(&a);
		return;
	}
	struct imap_store st;
	char err[IMAP_ERR_MAX];
	if (imap_store_parse(a.args + 1, a.n - 1, &st, err) < 0) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	struct imap_folder *f = ss->sel;
	if (f->readonly) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	/* Keywords new to the folder are named in its dovecot-keywords
	 * file first (a STORE that removes them names nothing). */
	char want[MAILBOX_FLAGS_MAX];
	int dfd = mailbox_dirfd(f->mb);
	if (ss->kw == NULL)
		ss->kw = imap_kw_open(dfd);
	bool kw_known_all = true;
	for (size_t k = 0; k < st.nflags; k++)
		if (st.flags[k][0] != '\\' && imap_kw_find(ss->kw, st.flags[k]) < 0)
			kw_known_all = false;
	if (imap_flags_letters(dfd, ss->kw, st.flags, st.nflags, st.op != IMAP_STORE_REMOVE, want,
			       sizeof want, err) < 0) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "NO", "%s", err);
		return;
	}
	bool uid = is_uid(c);
	struct sbuf b = SBUF_INIT(16u << 20), modified = SBUF_INIT(1u << 20);
	/* RFC 3501 7.2.6: a new keyword changes FLAGS and PERMANENTFLAGS. */
	if (!kw_known_all && st.op != IMAP_STORE_REMOVE)
		imap_put_flag_lists(&b, ss);
	/* The change as letters to add and to remove, applied to the flags
	 * each file has when it is renamed, not to this session's view of
	 * them: a flag another session or tool (mutt, POP3) set meanwhile is
	 * kept. The letters STORE manages are the system flags and keywords;
	 * others (P, "passed", which IMAP cannot name) stay as they are. */
	char add[MAILBOX_FLAGS_MAX] = "", del[MAILBOX_FLAGS_MAX + 32] = "";
	if (st.op != IMAP_STORE_REMOVE)
		str_copy(add, sizeof add, want);
	if (st.op == IMAP_STORE_REMOVE) {
		str_copy(del, sizeof del, want);
	} else if (st.op == IMAP_STORE_SET) {
		size_t n = 0;
		for (const char *l = "DFRSTabcdefghijklmnopqrstuvwxyz"; *l; l++)
			if (strchr(want, *l) == NULL)
				del[n++] = *l;
		del[n] = '\0';
	}
	uint64_t add_bits = imap_flag_bits(add), del_bits = imap_flag_bits(del);
	/* Renamed elsewhere since the last sync? Then a STORE that changes
	 * nothing in this session's view looks at the file all the same. */
	bool check = imap_folder_changed(f);
	size_t gone = 0, failed = 0;
	ik_err e = {""};
	size_t from, to;
	imap_folder_span(f, set, uid, &from, &to);
	for (size_t i = from; i < to; i++) {
		if (!imap_folder_match(f, i, set, uid))
			continue;
		struct imap_msg *m = &f->msgs[i];
		if (st.unchangedsince_given && m->modseq > st.unchangedsince) {
			sbuf_printf(&modified, "%s%" PRIu32, modified.len ? "," : "",
				    uid ? m->uid : (uint32_t)(i + 1));
			continue;
		}
		char before[MAILBOX_FLAGS_MAX];
		str_copy(before, sizeof before, m->me->flags);
		if (mailbox_change_flags(f->mb, m->me, add, del, check, &e) < 0) {
			if (errno == ENOENT)
				gone++;
			else
				failed++;
			continue;
		}
		if (strcmp(before, m->me->flags) != 0)
			mail_index_set_flags(f->ix, m->uid, m->me->flags, &m->modseq, &e);
		/* .SILENT leaves out only what this STORE did (RFC 3501
		 * 6.4.6): flags changed elsewhere are still reported. */
		uint64_t expect = (m->told & ~del_bits) | add_bits;
		m->told = imap_flag_bits(m->me->flags);
		if (!st.silent || st.unchangedsince_given || m->told != expect) {
			sbuf_printf(&b, "* %zu FETCH (", i + 1);
			if (uid)
				sbuf_printf(&b, "UID %" PRIu32 " ", m->uid);
			sbuf_addstr(&b, "FLAGS ");
			imap_put_msg_flags(&b, ss, m);
			if (ss->condstore || st.unchangedsince_given)
				sbuf_printf(&b, " MODSEQ (%" PRIu64 ")", m->modseq);
			sbuf_addstr(&b, ")\r\n");
		}
	}
	imap_send_sbuf(ss, &b);
	if (failed > 0) {
		log_event(LOG_ERR, "imap_store_failed", "user=%s reason=\"%s\"", ss->user, e.msg);
		imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot store the flags of %zu message%s.",
			   failed, failed == 1 ? "" : "s");
	} else if (gone > 0) {
		/* Removed by another session or tool: the next sync says so. */
		imap_reply(ss, c->tag, "NO", "[EXPUNGEISSUED] Some of the messages no longer exist.");
	} else if (modified.len > 0)
		imap_reply(ss, c->tag, "OK", "[MODIFIED %s] Conditional store failed.",
			   sbuf_cstr(&modified));
	else
		imap_reply(ss, c->tag, "OK", "Store completed.");
	sbuf_free(&modified);
	free(set);
	imap_args_free(&a);
}

/* ---- SEARCH ---- */

struct search_ctx {
	struct imap_sess *ss;
	size_t i;
	struct sbuf msg;	/* the message, read when a key needs it */
	bool have, have_header, failed;
};

/* The message (or, with header_only, at least its header) in CRLF form. */
static const char *search_msg(struct search_ctx *x, size_t *len, bool header_only)
{
	struct imap_folder *f = x->ss->sel;
	if (header_only && !x->have) {
		/* The folder's header cache: each file read once, not per SEARCH. */
		const char *h = imap_folder_header(f, x->i, len);
		if (h != NULL)
			return h;
	}
	bool have = header_only ? x->have_header || x->have : x->have;
	if (!have && !x->failed) {
		ik_err e;
		sbuf_reset(&x->msg);
		x->failed = imap_folder_read_part(f, f->msgs[x->i].me, header_only, &x->msg, &e) < 0;
		x->have_header = true;
		x->have = !header_only;
	}
	*len = x->msg.len;
	return sbuf_cstr(&x->msg);
}

static bool contains_ci(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (k == 0)
		return true;
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

static bool eval(struct search_ctx *x, const struct imap_search *k)
{
	struct imap_folder *f = x->ss->sel;
	const struct imap_msg *m = &f->msgs[x->i];
	const char *msg;
	size_t len;
	int64_t day;
	switch (k->op) {
	case IMAP_SK_AND:
		for (const struct imap_search *c = k->kids; c != NULL; c = c->next)
			if (!eval(x, c))
				return false;
		return true;
	case IMAP_SK_OR:
		return eval(x, k->kids) || eval(x, k->kids->next);
	case IMAP_SK_NOT:
		return !eval(x, k->kids);
	case IMAP_SK_ALL:
		return true;
	case IMAP_SK_SEQSET:
		return imap_folder_match(f, x->i, k->set, false);
	case IMAP_SK_UID:
		return imap_folder_match(f, x->i, k->set, true);
	case IMAP_SK_FLAG:
	case IMAP_SK_NOFLAG: {
		char l[8] = "";
		bool has;
		if (k->str[0] == '\\') {
			has = imap_flags_to_letters(&k->str, 1, l, sizeof l) == 0 && l[0] != '\0' &&
			      strchr(m->me->flags, l[0]) != NULL;
		} else {
			int idx = imap_kw_find(x->ss->kw, k->str);
			has = idx >= 0 && strchr(m->me->flags, 'a' + idx) != NULL;
		}
		return k->op == IMAP_SK_FLAG ? has : !has;
	}
	case IMAP_SK_NEW:
		return m->recent && strchr(m->me->flags, 'S') == NULL;
	case IMAP_SK_OLD:
		return !m->recent;
	case IMAP_SK_RECENT:
		return m->recent;
	case IMAP_SK_HEADER: {
		/* Only the header is parsed: the body cannot hold a field. */
		msg = search_msg(x, &len, true);
		const char *blank = len > 0 ? strstr(msg, "\r\n\r\n") : NULL;
		return imap_mime_header_has(msg, blank != NULL ? (size_t)(blank - msg) + 4 : len,
					    k->str, k->str2);
	}
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT: {
		msg = search_msg(x, &len, false);
		size_t h = 0;
		if (k->op == IMAP_SK_BODY) {
			const char *blank = len > 0 ? strstr(msg, "\r\n\r\n") : NULL;
			h = blank != NULL ? (size_t)(blank - msg) + 4 : len;
		}
		if (contains_ci(msg + h, len - h, k->str2))
			return true;
		/* Encoded text (base64, quoted-printable, encoded-words, other
		 * charsets) holds the words only once decoded. */
		return imap_search_needs_decoding(msg, len, k->str2) &&
		       imap_search_decoded(msg, len, k->str2, k->op == IMAP_SK_TEXT);
	}
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		day = imap_folder_mtime(f, m->me) / 86400;
		goto days;
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE: {
		msg = search_msg(x, &len, true);
		const char *blank = len > 0 ? strstr(msg, "\r\n\r\n") : NULL;
		int64_t t = imap_mime_date(msg, blank != NULL ? (size_t)(blank - msg) + 4 : len);
		if (t < 0)
			return false;
		day = t / 86400;
	days:
		if (k->op == IMAP_SK_BEFORE || k->op == IMAP_SK_SENTBEFORE)
			return day < (int64_t)k->num;
		if (k->op == IMAP_SK_ON || k->op == IMAP_SK_SENTON)
			return day == (int64_t)k->num;
		return day >= (int64_t)k->num;
	}
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER: {
		ik_err e;
		if (!m->me->has_vsize)
			mailbox_vsize(f->mb, m->me, &e);
		return k->op == IMAP_SK_LARGER ? m->me->vsize > k->num : m->me->vsize < k->num;
	}
	case IMAP_SK_MODSEQ:
		return m->modseq >= k->num;
	}
	return false;
}

static bool uses_modseq(const struct imap_search *k)
{
	for (; k != NULL; k = k->next)
		if (k->op == IMAP_SK_MODSEQ || uses_modseq(k->kids))
			return true;
	return false;
}

void imap_cmd_search(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	if (parse_args(c, &a) < 0)
		return;
	struct imap_search_cmd sc;
	char err[IMAP_ERR_MAX];
	if (imap_search_parse(a.args, a.n, &sc, err) < 0) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	if (sc.charset != NULL && strcasecmp(sc.charset, "UTF-8") != 0 &&
	    strcasecmp(sc.charset, "US-ASCII") != 0) {
		imap_search_free(&sc);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	bool uid = is_uid(c);
	struct imap_folder *f = ss->sel;
	/* KEYWORD x: a keyword another session or Dovecot named since. */
	if (ss->kw != NULL)
		imap_kw_load(mailbox_dirfd(f->mb), ss->kw);
	struct sbuf hits = SBUF_INIT(16u << 20);
	uint32_t min = 0, max = 0, count = 0;
	uint64_t top = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct search_ctx x = {ss, i, SBUF_INIT(ss->srv->conf->max_literal * 2 + 1), false,
				       false, false};
		bool hit = eval(&x, &sc.root);
		sbuf_free(&x.msg);
		if (!hit)
			continue;
		uint32_t v = uid ? f->msgs[i].uid : (uint32_t)(i + 1);
		if (count == 0)
			min = v;
		max = v;
		count++;
		if (f->msgs[i].modseq > top)
			top = f->msgs[i].modseq;
		sbuf_printf(&hits, "%s%" PRIu32, hits.len ? " " : "", v);
	}
	struct sbuf b = SBUF_INIT(32u << 20);
	if (sc.esearch) {
		sbuf_printf(&b, "* ESEARCH (TAG \"%s\")%s", c->tag, uid ? " UID" : "");
		if ((sc.ret & IMAP_ESEARCH_MIN) && count)
			sbuf_printf(&b, " MIN %" PRIu32, min);
		if ((sc.ret & IMAP_ESEARCH_MAX) && count)
			sbuf_printf(&b, " MAX %" PRIu32, max);
		if (sc.ret & IMAP_ESEARCH_COUNT)
			sbuf_printf(&b, " COUNT %" PRIu32, count);
		if ((sc.ret & IMAP_ESEARCH_ALL) && count) {
			/* ALL is a sequence set: the hits, commas for spaces. */
			sbuf_addstr(&b, " ALL ");
			for (const char *p = sbuf_cstr(&hits); *p; p++)
				sbuf_addch(&b, *p == ' ' ? ',' : *p);
		}
		/* RFC 7162 3.1.5: with a MODSEQ key, the highest of the hits. */
		if (count > 0 && uses_modseq(sc.root.kids))
			sbuf_printf(&b, " MODSEQ %" PRIu64, top);
		sbuf_addstr(&b, "\r\n");
	} else {
		sbuf_printf(&b, "* SEARCH%s%s", hits.len ? " " : "", sbuf_cstr(&hits));
		if (count > 0 && uses_modseq(sc.root.kids))
			sbuf_printf(&b, " (MODSEQ %" PRIu64 ")", top);
		sbuf_addstr(&b, "\r\n");
	}
	imap_send_sbuf(ss, &b);
	sbuf_free(&hits);
	imap_search_free(&sc);
	imap_args_free(&a);
	imap_reply(ss, c->tag, "OK", "Search completed.");
}

/* ---- COPY, MOVE ---- */

static void expunge_where(struct imap_sess *ss, const struct imap_seqset *uids, bool deleted_only)
{
	struct imap_folder *f = ss->sel;
	ik_err e;
	for (size_t i = 0; i < f->n; i++) {
		if (deleted_only && strchr(f->msgs[i].me->flags, 'T') == NULL)
			continue;
		if (uids != NULL && !imap_folder_match(f, i, uids, true))
			continue;
		mailbox_remove(f->mb, f->msgs[i].me, &e);
	}
	mailbox_sync(f->mb, &e);
}

void imap_cmd_copy(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	bool move = strcasestr(c->cmd->verb, "MOVE") != NULL;
	struct imap_args a;
	const char *name;
	if (parse_args(c, &a) < 0)
		return;
	struct imap_seqset *set = seqset_arg(c, &a);
	if (set == NULL) {
		imap_args_free(&a);
		return;
	}
	if (a.n != 2 || !imap_arg_astring(&a.args[1], &name)) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	name = imap_mbox_in(ss, name, nbuf, sizeof nbuf);
	struct imap_folder *f = ss->sel;
	if (move && f->readonly) {
		free(set);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	bool uid = is_uid(c);
	struct sbuf src = SBUF_INIT(1u << 20), dst = SBUF_INIT(1u << 20);
	struct imap_seqset *moved = calloc(1, sizeof *moved);
	uint32_t uidv = 0;
	int rc = 0;
	ik_err e;
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		if (!imap_folder_match(f, i, set, uid))
			continue;
		uint32_t nu = 0;
		rc = imap_folder_copy(ss, i, name, &uidv, &nu, &e);
		if (rc < 0)
			break;
		if (nu != 0) {
			sbuf_printf(&src, "%s%" PRIu32, src.len ? "," : "", f->msgs[i].uid);
			sbuf_printf(&dst, "%s%" PRIu32, dst.len ? "," : "", nu);
		}
		if (moved != NULL && moved->n < IMAP_SEQ_MAX) {
			moved->r[moved->n].lo = moved->r[moved->n].hi = f->msgs[i].uid;
			moved->n++;
		}
	}
	char code[256] = "";
	if (rc == 0 && src.len > 0 && src.len + dst.len < 200)
		str_fmt(code, sizeof code, "[COPYUID %" PRIu32 " %s %s] ", uidv, sbuf_cstr(&src),
			sbuf_cstr(&dst));
	if (rc < 0) {
		const char *folder;
		char err[IMAP_ERR_MAX];
		bool exists = imap_folder_name(name, &folder, err) == 0;
		imap_reply(ss, c->tag, "NO", "%s", exists ? "[TRYCREATE] Mailbox doesn't exist"
			   : err);
	} else if (move) {
		if (code[0] != '\0')
			imap_untagged(ss, "OK %s Moved.", code);
		if (moved != NULL && moved->n > 0)
			expunge_where(ss, moved, false);
		imap_folder_sync(ss, f, true, &e);
		imap_reply(ss, c->tag, "OK", "Move completed.");
	} else {
		imap_reply(ss, c->tag, "OK", "%sCopy completed.", code);
	}
	free(moved);
	sbuf_free(&src);
	sbuf_free(&dst);
	free(set);
	imap_args_free(&a);
}

/* ---- EXPUNGE, CLOSE, UNSELECT, CHECK, IDLE ---- */

void imap_cmd_expunge(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_folder *f = ss->sel;
	struct imap_seqset *uids = NULL;
	struct imap_args a = {0};
	if (is_uid(c)) {
		if (parse_args(c, &a) < 0)
			return;
		if ((uids = seqset_arg(c, &a)) == NULL) {
			imap_args_free(&a);
			return;
		}
	}
	if (f->readonly) {
		imap_reply(ss, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
	} else {
		ik_err e;
		expunge_where(ss, uids, true);
		imap_folder_sync(ss, f, true, &e);
		imap_reply(ss, c->tag, "OK", "Expunge completed.");
	}
	free(uids);
	imap_args_free(&a);
}

void imap_cmd_close(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	/* CLOSE expunges silently (RFC 3501 6.4.2); UNSELECT does not. */
	if (strcasecmp(c->cmd->verb, "CLOSE") == 0 && !ss->sel->readonly)
		expunge_where(ss, NULL, true);
	imap_folder_free(ss->sel);
	ss->sel = NULL;
	imap_kw_drop(ss);
	imap_set_state(ss, IMAP_ST_AUTH);
	imap_reply(ss, c->tag, "OK", "%s completed.", strcasecmp(c->cmd->verb, "CLOSE") == 0
		   ? "Close" : "Unselect");
}

void imap_cmd_check(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	ik_err e;
	imap_folder_sync(ss, ss->sel, true, &e);
	imap_reply(ss, c->tag, "OK", "Check completed.");
}

void imap_cmd_idle(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	ik_err e;
	if (ss->sel != NULL)
		imap_folder_sync(ss, ss->sel, true, &e);
	str_copy(ss->idle_tag, sizeof ss->idle_tag, c->tag);
	ss->idling = true;
	imap_server_idle_add(ss);
	session_write(ss->s, "+ idling\r\n", 10);
}
