/* The mailbox commands: SELECT, EXAMINE, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, APPEND (RFC 3501 6.3),
 * with RFC 6154 special-use attributes in every LIST (as Dovecot shows
 * them), RFC 3348 CHILDREN attributes, RFC 4315 APPENDUID, RFC 5530
 * response codes, RFC 7162 HIGHESTMODSEQ and QRESYNC (SELECT ... (QRESYNC
 * ...), VANISHED (EARLIER)), keywords in FLAGS and PERMANENTFLAGS (with
 * \* while the folder can name more; imap_keywords.c), RFC 6855 APPEND
 * UTF8. Folders are Maildir++
 * directories ".Name" in the user's Maildir, "." the hierarchy delimiter;
 * subscriptions are the "subscriptions" file (one name a line, as
 * Dovecot keeps it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/imap_int.h"
#include "lib/str.h"

#define SUBS_FILE "subscriptions"
#define LIST_MAX 10000		/* folders one LIST looks at */

static int parse_args(struct session_call *c, struct imap_args *a)
{
	char err[IMAP_ERR_MAX];
	if (imap_args_parse(c->arg, c->arglen, a, err) < 0) {
		imap_reply(c->proto, c->tag, "BAD", "%s", err);
		return -1;
	}
	return 0;
}

static int user_dir(struct imap_sess *ss)
{
	return openat(mailstore_dirfd(ss->srv->store), ss->user,
		      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ---- mailbox names (RFC 6855 3: UTF-8 after ENABLE UTF8=ACCEPT) ---- */

const char *imap_mbox_in(const struct imap_sess *ss, const char *name, char *buf, size_t sz)
{
	/* An invalid UTF-8 name is left as sent: the folder checks refuse
	 * what cannot be stored. */
	if (!ss->utf8 || imap_utf8_to_utf7(name, buf, sz) < 0)
		return name;
	return buf;
}

void imap_put_mbox(struct sbuf *b, const struct imap_sess *ss, const char *name, bool atom_ok)
{
	char buf[IMAP_MAILBOX_MAX * 4 + 8];
	/* A stored name that is not modified UTF-7 (written by an older
	 * client as raw bytes) goes out as it is. */
	if (ss->utf8 && imap_utf7_to_utf8(name, buf, sizeof buf) == 0) {
		name = buf;
		/* RFC 6855 3: UTF-8 may go in a quoted string (no literal). */
		bool quotable = imap_string_form(name, strlen(name), atom_ok) < 2 ||
				strpbrk(name, "\r\n") == NULL;
		if (quotable && imap_string_form(name, strlen(name), atom_ok) == 2) {
			sbuf_addch(b, '"');
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					sbuf_addch(b, '\\');
				sbuf_addch(b, *p);
			}
			sbuf_addch(b, '"');
			return;
		}
	}
	imap_put_string(b, name, strlen(name), atom_ok);
}

/* ---- SELECT, EXAMINE ---- */

/* SELECT's parameters (RFC 4466 2.1): CONDSTORE, QRESYNC (uidvalidity
 * modseq [known-uids [seq-match-data]]) (RFC 7162 3.1.8, 3.2.5). The
 * seq-match-data only narrows what we would send anyway: it is checked
 * for syntax and not used. */
struct select_opts {
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset *known;	/* NULL: every UID */
};

static int number_arg(const struct imap_arg *a, uint64_t max, uint64_t *v)
{
	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return -1;
	uint64_t x = 0;
	for (const char *p = a->str; *p; p++) {
		if (*p < '0' || *p > '9' || x > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return x == 0 ? -1 : 0;
}

static int select_opts(struct imap_sess *ss, const struct imap_arg *list, struct select_opts *o,
		       char *err)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct imap_arg *p = &list->list[i];
		if (imap_arg_atom_eq(p, "CONDSTORE")) {
			ss->condstore = true;
			continue;
		}
		if (!imap_arg_atom_eq(p, "QRESYNC"))
			return imap_err(err, "Unknown SELECT parameter");
		if (!ss->qresync)
			return imap_err(err, "QRESYNC is not enabled (ENABLE QRESYNC first)");
		const struct imap_arg *q = i + 1 < list->n ? &list->list[++i] : NULL;
		uint64_t uv;
		if (q == NULL || q->type != IMAP_ARG_LIST || q->n < 2 || q->n > 4 ||
		    number_arg(&q->list[0], UINT32_MAX, &uv) < 0 ||
		    number_arg(&q->list[1], INT64_MAX, &o->modseq) < 0)
			return imap_err(err, "Syntax: QRESYNC (uidvalidity modseq [known-uids "
					"[(seqs uids)]])");
		o->qresync = true;
		o->uidvalidity = (uint32_t)uv;
		const struct imap_arg *k = q->n >= 3 ? &q->list[2] : NULL;
		if (k != NULL && k->type == IMAP_ARG_LIST) {
			if (q->n != 3)
				return imap_err(err, "Syntax: QRESYNC known-uids before (seqs uids)");
			k = NULL;	/* only seq-match-data */
		}
		if (k != NULL) {
			if (k->type != IMAP_ARG_ATOM || (o->known = malloc(sizeof *o->known)) == NULL ||
			    imap_seqset_parse(k->str, k->len, o->known, err) < 0 || o->known->dollar)
				return imap_err(err, "Invalid known-uids");
		}
		const struct imap_arg *m = q->n == 4 ? &q->list[3] : q->n == 3 && k == NULL
					   ? &q->list[2] : NULL;
		if (m != NULL && (m->type != IMAP_ARG_LIST || m->n != 2 ||
				  m->list[0].type != IMAP_ARG_ATOM || m->list[1].type != IMAP_ARG_ATOM))
			return imap_err(err, "Invalid seq-match-data");
	}
	return 0;
}

/* RFC 7162 3.2.5.2 and 3.2.6: the UIDs of known (NULL: every UID below
 * UIDNEXT) expunged after the client's MODSEQ. The index holds every
 * expunge since its log was last written whole (base_modseq): a client
 * at or after that point gets exactly its expunges. An older client gets
 * every UID of its range that is gone, expunged before its MODSEQ or not:
 * the RFC allows more than needed, and a client ignores UIDs it does not
 * have. */
void imap_put_vanished(struct sbuf *b, const struct imap_folder *f,
		       const struct imap_seqset *known, uint64_t modseq)
{
	struct imap_uidrun r = {.b = b, .line = "* VANISHED (EARLIER) "};
	uint32_t top = f->ix->uidnext > 0 ? f->ix->uidnext - 1 : 0;
	const struct mail_index *ix = f->ix;
	uint32_t *uids = modseq >= ix->base_modseq && ix->ngone > 0
			 ? malloc(ix->ngone * sizeof *uids) : NULL;
	if (modseq >= ix->base_modseq && (uids != NULL || ix->ngone == 0)) {
		size_t n = 0;
		for (size_t i = 0; i < ix->ngone; i++) {
			uint32_t u = ix->gone[i].uid;
			if (ix->gone[i].modseq > modseq && u <= top &&
			    (known == NULL || imap_seqset_has(known, u, top)))
				uids[n++] = u;
		}
		if (n > 0)
			qsort(uids, n, sizeof *uids, imap_cmp_uid);
		for (size_t i = 0; i < n; i++)
			if (i == 0 || uids[i] != uids[i - 1])
				imap_uidrun_add(&r, uids[i]);
		imap_uidrun_end(&r);
		free(uids);
		return;
	}
	free(uids);
	/* Walk the ranges in ascending order without sorting them: take the
	 * gaps between messages and test each gap's UIDs against known,
	 * range by range (the gaps are few: only expunged UIDs). */
	uint32_t next = 1;
	for (size_t i = 0; i <= f->n && next <= top; i++) {
		uint32_t stop = i < f->n ? f->msgs[i].uid : top + 1;
		for (uint32_t u = next; u < stop; u++) {
			if (known != NULL && !imap_seqset_has(known, u, top)) {
				/* skip quickly to the next range start above u */
				uint32_t jump = UINT32_MAX;
				for (size_t k = 0; k < known->n; k++) {
					uint32_t lo = known->r[k].lo, hi = known->r[k].hi;
					if (lo > hi) {
						uint32_t t = lo;
						lo = hi;
						hi = t;
					}
					if (lo == IMAP_SEQ_STAR)
						lo = top;
					if (lo > u && lo < jump)
						jump = lo;
				}
				if (jump >= stop)
					break;
				u = jump - 1;
				continue;
			}
			imap_uidrun_add(&r, u);
		}
		if (i < f->n)
			next = f->msgs[i].uid + 1;
	}
	imap_uidrun_end(&r);
}

void imap_cmd_select(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	bool examine = strcasecmp(c->cmd->verb, "EXAMINE") == 0;
	struct imap_args a;
	const char *name;
	char err[IMAP_ERR_MAX];
	struct select_opts o = {0};
	if (parse_args(c, &a) < 0)
		return;
	if (a.n < 1 || a.n > 2 || !imap_arg_astring(&a.args[0], &name) ||
	    (a.n == 2 && a.args[1].type != IMAP_ARG_LIST)) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	name = imap_mbox_in(ss, name, nbuf, sizeof nbuf);
	if (a.n == 2 && select_opts(ss, &a.args[1], &o, err) < 0) {
		free(o.known);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	/* RFC 3501 6.3.1: a SELECT first deselects, whatever its outcome;
	 * RFC 7162 3.2.11: a QRESYNC client is told so, to know that what
	 * follows is the new mailbox's. */
	if (ss->sel != NULL && ss->qresync)
		imap_untagged(ss, "OK [CLOSED] Previous mailbox closed.");
	imap_folder_free(ss->sel);
	ss->sel = NULL;
	imap_kw_drop(ss);
	imap_set_state(ss, IMAP_ST_AUTH);
	struct imap_folder *f;
	ik_err e;
	if (imap_folder_open(ss, name, examine, &f, &e) < 0) {
		imap_reply(ss, c->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %.100s", name);
		imap_args_free(&a);
		free(o.known);
		return;
	}
	imap_args_free(&a);
	ss->kw = imap_kw_open(mailbox_dirfd(f->mb));
	ss->sel = f;
	imap_set_state(ss, IMAP_ST_SELECTED);
	struct sbuf b = SBUF_INIT(64u << 20);
	imap_put_flag_lists(&b, ss);
	sbuf_printf(&b, "* %zu EXISTS\r\n* %" PRIu32 " RECENT\r\n", f->n, f->recent);
	for (size_t i = 0; i < f->n; i++) {
		if (strchr(f->msgs[i].me->flags, 'S') == NULL) {
			sbuf_printf(&b, "* OK [UNSEEN %zu] First unseen.\r\n", i + 1);
			break;
		}
	}
	sbuf_printf(&b, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid\r\n", f->ix->uidvalidity);
	sbuf_printf(&b, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID\r\n", f->ix->uidnext);
	sbuf_printf(&b, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest\r\n", f->ix->highestmodseq);
	/* QRESYNC: what changed since the client's MODSEQ, when its UIDs
	 * still hold; nothing changed (no expunge either) when its MODSEQ is
	 * the highest. */
	if (o.qresync && o.uidvalidity == f->ix->uidvalidity && o.modseq < f->ix->highestmodseq) {
		imap_put_vanished(&b, f, o.known, o.modseq);
		for (size_t i = 0; i < f->n; i++) {
			if (f->msgs[i].modseq <= o.modseq)
				continue;
			sbuf_printf(&b, "* %zu FETCH (UID %" PRIu32 " FLAGS ", i + 1, f->msgs[i].uid);
			imap_put_msg_flags(&b, ss, &f->msgs[i]);
			sbuf_printf(&b, " MODSEQ (%" PRIu64 "))\r\n", f->msgs[i].modseq);
		}
	}
	free(o.known);
	sbuf_printf(&b, "%s OK [%s] %s completed.\r\n", c->tag, examine ? "READ-ONLY" : "READ-WRITE",
		    examine ? "Examine" : "Select");
	imap_send_sbuf(ss, &b);
}

/* ---- CREATE, DELETE, RENAME ---- */

static int make_folder(int md, const char *dot)
{
	if (mkdirat(md, dot, 0700) < 0)
		return -1;
	int fd = openat(md, dot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = 0;
	if (mkdirat(fd, "tmp", 0700) < 0 || mkdirat(fd, "new", 0700) < 0 ||
	    mkdirat(fd, "cur", 0700) < 0)
		rc = -1;
	int mf = openat(fd, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (mf >= 0)
		close(mf);
	close(fd);
	return rc;
}

/* The folder name of a command's first argument: NULL after a reply. */
static const char *folder_arg(struct session_call *c, const struct imap_arg *arg, char *buf,
			      size_t sz)
{
	struct imap_sess *ss = c->proto;
	const char *name, *folder;
	char err[IMAP_ERR_MAX];
	if (!imap_arg_astring(arg, &name)) {
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return NULL;
	}
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	str_copy(buf, sz, imap_mbox_in(ss, name, nbuf, sizeof nbuf));
	/* RFC 3501 6.3.3: a trailing delimiter names the same mailbox. */
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	if (imap_folder_name(buf, &folder, err) < 0) {
		imap_reply(ss, c->tag, "NO", "%s", err);
		return NULL;
	}
	if (folder == NULL) {
		imap_reply(ss, c->tag, "NO", "INBOX cannot be %s", strcasecmp(c->cmd->verb, "CREATE")
			   == 0 ? "created: it exists" : "deleted or renamed");
		return NULL;
	}
	return buf;
}

void imap_cmd_create(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	char name[IMAP_MAILBOX_MAX + 2], dot[IMAP_MAILBOX_MAX + 3];
	if (parse_args(c, &a) < 0)
		return;
	const char *f = a.n == 1 ? folder_arg(c, &a.args[0], name, sizeof name) : NULL;
	if (a.n != 1 && a.n != 0)
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
	imap_args_free(&a);
	if (f == NULL)
		return;
	int md = user_dir(ss);
	str_fmt(dot, sizeof dot, ".%s", f);
	if (md < 0 || make_folder(md, dot) < 0) {
		if (errno == EEXIST)
			imap_reply(ss, c->tag, "NO", "[ALREADYEXISTS] Mailbox already exists");
		else
			imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot create the mailbox");
	} else {
		imap_reply(ss, c->tag, "OK", "Create completed.");
	}
	if (md >= 0)
		close(md);
}

static void empty_dir(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 || (errno != EISDIR && errno != EPERM))
			continue;
		empty_dir(dirfd(d), de->d_name);
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Folders whose names start with prefix ("." + name + "."): children. */
static bool has_children(int md, const char *prefix)
{
	int fd = dup(md);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool any = false;
	struct dirent *de;
	while (!any && (de = readdir(d)) != NULL)
		any = str_has_prefix(de->d_name, prefix);
	closedir(d);
	return any;
}

void imap_cmd_delete(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	char name[IMAP_MAILBOX_MAX + 2], dot[IMAP_MAILBOX_MAX + 3], kids[IMAP_MAILBOX_MAX + 4];
	if (parse_args(c, &a) < 0)
		return;
	const char *f = a.n == 1 ? folder_arg(c, &a.args[0], name, sizeof name) : NULL;
	if (a.n != 1)
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
	imap_args_free(&a);
	if (f == NULL)
		return;
	if (ss->sel != NULL && strcmp(ss->sel->name, f) == 0) {
		imap_reply(ss, c->tag, "NO", "[INUSE] The mailbox is selected; CLOSE it first");
		return;
	}
	int md = user_dir(ss);
	str_fmt(dot, sizeof dot, ".%s", f);
	str_fmt(kids, sizeof kids, ".%s.", f);
	struct stat st;
	if (md < 0 || fstatat(md, dot, &st, 0) < 0 || !S_ISDIR(st.st_mode)) {
		imap_reply(ss, c->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %.100s", f);
	} else if (has_children(md, kids)) {
		imap_reply(ss, c->tag, "NO", "[INUSE] Mailbox has children; delete them first");
	} else {
		empty_dir(md, dot);
		if (unlinkat(md, dot, AT_REMOVEDIR) < 0)
			imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot delete the mailbox");
		else
			imap_reply(ss, c->tag, "OK", "Delete completed.");
	}
	if (md >= 0)
		close(md);
}

void imap_cmd_rename(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	char from[IMAP_MAILBOX_MAX + 2], to[IMAP_MAILBOX_MAX + 2];
	if (parse_args(c, &a) < 0)
		return;
	if (a.n != 2) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	const char *f = folder_arg(c, &a.args[0], from, sizeof from);
	const char *t = f != NULL ? folder_arg(c, &a.args[1], to, sizeof to) : NULL;
	imap_args_free(&a);
	if (f == NULL || t == NULL)
		return;
	int md = user_dir(ss);
	if (md < 0) {
		imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot open the mail directory");
		return;
	}
	char dfrom[IMAP_MAILBOX_MAX + 3], dto[IMAP_MAILBOX_MAX + 3];
	str_fmt(dfrom, sizeof dfrom, ".%s", f);
	str_fmt(dto, sizeof dto, ".%s", t);
	struct stat st;
	if (fstatat(md, dfrom, &st, 0) < 0)
		imap_reply(ss, c->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %.100s", f);
	else if (fstatat(md, dto, &st, 0) == 0)
		imap_reply(ss, c->tag, "NO", "[ALREADYEXISTS] Target mailbox already exists");
	else if (renameat(md, dfrom, md, dto) < 0)
		imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot rename the mailbox");
	else
		imap_reply(ss, c->tag, "OK", "Rename completed.");
	close(md);
}

/* ---- subscriptions ---- */

static int read_subs(int md, struct sbuf *out)
{
	int fd = openat(md, SUBS_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		char *p = sbuf_reserve(out, 4096);
		if (p == NULL)
			break;
		ssize_t n = read(fd, p, 4096);
		if (n <= 0)
			break;
		sbuf_commit(out, (size_t)n);
	}
	close(fd);
	return 0;
}

static bool subs_has(const struct sbuf *subs, const char *name)
{
	const char *p = sbuf_cstr(subs);
	size_t n = strlen(name);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p += len + (nl != NULL);
	}
	return false;
}

void imap_cmd_subscribe(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	bool sub = strcasecmp(c->cmd->verb, "SUBSCRIBE") == 0;
	struct imap_args a;
	const char *name;
	if (parse_args(c, &a) < 0)
		return;
	if (a.n != 1 || !imap_arg_astring(&a.args[0], &name) || strchr(name, '\n') != NULL) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	name = imap_mbox_in(ss, name, nbuf, sizeof nbuf);
	int md = user_dir(ss);
	struct sbuf subs = SBUF_INIT(1u << 20), out = SBUF_INIT(1u << 20);
	int rc = md >= 0 ? read_subs(md, &subs) : -1;
	if (rc == 0) {
		const char *p = sbuf_cstr(&subs);
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
			if (len > 0 && !(len == strlen(name) && memcmp(p, name, len) == 0)) {
				sbuf_add(&out, p, len);
				sbuf_addch(&out, '\n');
			}
			p += len + (nl != NULL);
		}
		if (sub)
			sbuf_printf(&out, "%s\n", name);
		int fd = openat(md, SUBS_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, sbuf_cstr(&out), out.len) != (ssize_t)out.len ||
		    renameat(md, SUBS_FILE ".tmp", md, SUBS_FILE) < 0)
			rc = -1;
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		imap_reply(ss, c->tag, "NO", "[SERVERBUG] Cannot update the subscriptions");
	else
		imap_reply(ss, c->tag, "OK", "%s completed.", sub ? "Subscribe" : "Unsubscribe");
	sbuf_free(&subs);
	sbuf_free(&out);
	imap_args_free(&a);
	if (md >= 0)
		close(md);
}

/* ---- LIST, LSUB ---- */

/* RFC 3501 6.3.8: "*" matches anything, "%" anything but the delimiter. */
static bool match(const char *pat, const char *s)
{
	for (; *pat; pat++) {
		if (*pat == '*' || *pat == '%') {
			bool any = *pat == '*';
			for (const char *t = s;; t++) {
				if (match(pat + 1, t))
					return true;
				if (*t == '\0' || (!any && *t == '.'))
					return false;
			}
		}
		if (*s == '\0' || *pat != *s)
			return false;
		s++;
	}
	return *s == '\0';
}

static const char *special_use(const char *name)
{
	static const char *const map[][2] = {
		{"Sent", "\\Sent"}, {"Drafts", "\\Drafts"}, {"Trash", "\\Trash"},
		{"Junk", "\\Junk"}, {"Archive", "\\Archive"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(name, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_one(struct sbuf *b, const struct imap_sess *ss, const char *verb,
		     const char *name, bool kids, const char *extra)
{
	sbuf_printf(b, "* %s (%s", verb, kids ? "\\HasChildren" : "\\HasNoChildren");
	const char *su = special_use(name);
	if (su != NULL)
		sbuf_printf(b, " %s", su);
	if (extra != NULL)
		sbuf_printf(b, " %s", extra);
	sbuf_addstr(b, ") \".\" ");
	imap_put_mbox(b, ss, name, false);
	sbuf_addstr(b, "\r\n");
}

void imap_cmd_list(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	bool lsub = strcasecmp(c->cmd->verb, "LSUB") == 0;
	struct imap_args a;
	const char *ref, *pat;
	if (parse_args(c, &a) < 0)
		return;
	if (a.n != 2 || !imap_arg_astring(&a.args[0], &ref) || !imap_arg_astring(&a.args[1], &pat)) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	char rbuf[IMAP_MAILBOX_MAX * 2 + 8], pbuf[IMAP_MAILBOX_MAX * 2 + 8];
	ref = imap_mbox_in(ss, ref, rbuf, sizeof rbuf);
	pat = imap_mbox_in(ss, pat, pbuf, sizeof pbuf);
	struct sbuf b = SBUF_INIT(16u << 20);
	const char *verb = lsub ? "LSUB" : "LIST";
	if (pat[0] == '\0') {
		/* RFC 3501 6.3.8: the delimiter and root of the reference. */
		sbuf_printf(&b, "* %s (\\Noselect) \".\" \"\"\r\n", verb);
		imap_send_sbuf(ss, &b);
		imap_args_free(&a);
		imap_reply(ss, c->tag, "OK", "%s completed.", lsub ? "Lsub" : "List");
		return;
	}
	char full[2 * IMAP_MAILBOX_MAX + 2];
	str_fmt(full, sizeof full, "%s%s", ref, pat);
	int md = user_dir(ss);
	char *names[LIST_MAX];
	size_t n = 0;
	int fd = md >= 0 ? dup(md) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL && fd >= 0)
		close(fd);
	struct dirent *de;
	while (d != NULL && n < LIST_MAX && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || de->d_name[1] == '.' ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if ((names[n] = strdup(de->d_name + 1)) != NULL)
			n++;
	}
	if (d != NULL)
		closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	struct sbuf subs = SBUF_INIT(1u << 20);
	if (lsub && md >= 0)
		read_subs(md, &subs);
	/* INBOX first; its match ignores case (RFC 3501 5.1). */
	if (match(full, "INBOX") || strcasecmp(full, "INBOX") == 0)
		if (!lsub || subs_has(&subs, "INBOX"))
			list_one(&b, ss, verb, "INBOX", false, NULL);
	for (size_t i = 0; i < n; i++) {
		if (!match(full, names[i]) || (lsub && !subs_has(&subs, names[i])))
			continue;
		char prefix[IMAP_MAILBOX_MAX + 4];
		str_fmt(prefix, sizeof prefix, "%s.", names[i]);
		bool kids = i + 1 < n && str_has_prefix(names[i + 1], prefix);
		list_one(&b, ss, verb, names[i], kids, NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	sbuf_free(&subs);
	if (md >= 0)
		close(md);
	imap_args_free(&a);
	imap_send_sbuf(ss, &b);
	imap_reply(ss, c->tag, "OK", "%s completed.", lsub ? "Lsub" : "List");
}

/* ---- STATUS ---- */

void imap_cmd_status(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	const char *name;
	if (parse_args(c, &a) < 0)
		return;
	if (a.n != 2 || !imap_arg_astring(&a.args[0], &name) || a.args[1].type != IMAP_ARG_LIST ||
	    a.args[1].n == 0) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "Syntax: %s", c->cmd->help);
		return;
	}
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	name = imap_mbox_in(ss, name, nbuf, sizeof nbuf);
	/* SIZE: RFC 8438 (STATUS=SIZE); DELETED: RFC 9051 6.3.11. */
	static const char *const items[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
					    "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED"};
	enum { NITEMS = sizeof items / sizeof items[0] };
	unsigned want = 0;
	for (size_t i = 0; i < a.args[1].n; i++) {
		size_t k;
		for (k = 0; k < NITEMS; k++)
			if (imap_arg_atom_eq(&a.args[1].list[i], items[k]))
				break;
		if (k == NITEMS) {
			imap_args_free(&a);
			imap_reply(ss, c->tag, "BAD", "Unknown STATUS item");
			return;
		}
		want |= 1u << k;
	}
	struct imap_folder *f;
	ik_err e;
	bool same = ss->sel != NULL && strcmp(ss->sel->name, strcasecmp(name, "INBOX") == 0
					      ? "INBOX" : name) == 0;
	if (same) {
		f = ss->sel;
	} else if (imap_folder_open(ss, name, true, &f, &e) < 0) {
		imap_reply(ss, c->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: %.100s", name);
		imap_args_free(&a);
		return;
	}
	uint64_t vals[NITEMS] = {f->n, f->recent, f->ix->uidnext, f->ix->uidvalidity, 0,
				 f->ix->highestmodseq, 0, 0};
	for (size_t i = 0; i < f->n; i++) {
		struct mailbox_entry *me = f->msgs[i].me;
		vals[4] += strchr(me->flags, 'S') == NULL;
		vals[7] += strchr(me->flags, 'T') != NULL;
		/* RFC822.SIZE of each: from the name (W=) or counted once */
		if ((want & (1u << 6)) && !me->has_vsize)
			mailbox_vsize(f->mb, me, &e);
		vals[6] += me->vsize;
	}
	struct sbuf b = SBUF_INIT(1024);
	sbuf_addstr(&b, "* STATUS ");
	imap_put_mbox(&b, ss, f->name, true);
	sbuf_addstr(&b, " (");
	bool first = true;
	for (size_t k = 0; k < NITEMS; k++) {
		if (!(want & (1u << k)))
			continue;
		sbuf_printf(&b, "%s%s %" PRIu64, first ? "" : " ", items[k], vals[k]);
		first = false;
	}
	sbuf_addstr(&b, ")\r\n");
	if (!same)
		imap_folder_free(f);
	imap_args_free(&a);
	imap_send_sbuf(ss, &b);
	imap_reply(ss, c->tag, "OK", "Status completed.");
}

/* ---- APPEND ---- */

void imap_cmd_append(struct session_call *c)
{
	struct imap_sess *ss = c->proto;
	struct imap_args a;
	const char *name;
	if (parse_args(c, &a) < 0)
		return;
	size_t i = 1;
	const char *flags[IMAP_FLAGS_MAX];
	size_t nflags = 0;
	int64_t date = 0;
	char err[IMAP_ERR_MAX] = "Syntax: APPEND mailbox [(flags)] [date-time] literal";
	bool ok = a.n >= 2 && imap_arg_astring(&a.args[0], &name);
	char nbuf[IMAP_MAILBOX_MAX * 2 + 8];
	if (ok)
		name = imap_mbox_in(ss, name, nbuf, sizeof nbuf);
	if (ok && a.args[i].type == IMAP_ARG_LIST) {
		ok = imap_flag_list(&a.args[i], 1, flags, &nflags, err) == 0;
		i++;
	}
	if (ok && i < a.n && a.args[i].type == IMAP_ARG_QUOTED) {
		ok = imap_datetime_parse(a.args[i].str, &date) == 0;
		if (!ok)
			str_copy(err, sizeof err, "Invalid date-time");
		i++;
	}
	/* RFC 6855 4: "UTF8 (~{n}...)" after ENABLE UTF8=ACCEPT. */
	bool utf8 = ok && i + 2 == a.n && imap_arg_atom_eq(&a.args[i], "UTF8");
	if (utf8) {
		const struct imap_arg *l = &a.args[i + 1];
		ok = ss->utf8 && l->type == IMAP_ARG_LIST && l->n == 1 &&
		     l->list[0].type == IMAP_ARG_LITERAL && l->list[0].lit8;
		if (!ss->utf8)
			str_copy(err, sizeof err, "APPEND UTF8 needs ENABLE UTF8=ACCEPT");
	} else {
		ok = ok && i + 1 == a.n && a.args[i].type == IMAP_ARG_LITERAL;
	}
	char letters[MAILBOX_FLAGS_MAX] = "";
	if (ok && nflags > 0) {
		/* Keywords are named in the target folder's own file. */
		const char *folder;
		struct mailbox *mb = NULL;
		ik_err e;
		if (imap_folder_name(name, &folder, err) == 0 &&
		    mailbox_open(ss->srv->store, ss->user, folder, &mb, &e) == 0) {
			struct imap_keywords *kw = imap_kw_open(mailbox_dirfd(mb));
			if (imap_flags_letters(mailbox_dirfd(mb), kw, flags, nflags, true, letters,
					       sizeof letters, err) < 0)
				ok = false;
			imap_kw_free(kw);
			mailbox_close(mb);
			if (!ok) {
				imap_args_free(&a);
				imap_reply(ss, c->tag, "NO", "%s", err);
				return;
			}
		}
		/* A folder that is not there: TRYCREATE below. */
	}
	if (!ok) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "BAD", "%s", err);
		return;
	}
	if (utf8)
		i++;
	const struct imap_arg *msg = utf8 ? &a.args[i].list[0] : &a.args[i];
	if (msg->len == 0) {
		imap_args_free(&a);
		imap_reply(ss, c->tag, "NO", "Empty message");
		return;
	}
	uint32_t uidv = 0, uid = 0;
	ik_err e;
	if (imap_folder_append(ss, name, msg->str, msg->len, letters, date, &uidv, &uid, &e) < 0) {
		imap_reply(ss, c->tag, "NO", "[TRYCREATE] Mailbox doesn't exist: %.100s", name);
		imap_args_free(&a);
		return;
	}
	bool here = ss->sel != NULL && strcmp(ss->sel->name, strcasecmp(name, "INBOX") == 0
					      ? "INBOX" : name) == 0;
	imap_args_free(&a);
	if (here)
		imap_folder_sync(ss, ss->sel, true, &e);
	if (uid != 0)
		imap_reply(ss, c->tag, "OK", "[APPENDUID %" PRIu32 " %" PRIu32 "] Append completed.",
			   uidv, uid);
	else
		imap_reply(ss, c->tag, "OK", "Append completed.");
}
