/* The selected folder: its Maildir (mailstore/mailbox: the files, flags
 * in the ":2," suffix) and its index (mailstore/mail_index: UIDs, MODSEQ),
 * message sequence numbers, and the sync that tells the client what
 * changed. RFC 3501 2.3.1 (UIDs and sequence numbers), 7.3.1 (EXISTS),
 * 7.3.2 (RECENT), 7.4.1 (EXPUNGE: each one renumbers the messages after
 * it), 7.4.2 (FETCH FLAGS for changes made elsewhere); Maildir flags D F R
 * S T (maildir(5)) as \Draft \Flagged \Answered \Seen \Deleted. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "lib/str.h"

static const struct {
	char letter;
	const char *flag;
} flag_map[] = {
	{'D', "\\Draft"}, {'F', "\\Flagged"}, {'R', "\\Answered"}, {'S', "\\Seen"}, {'T', "\\Deleted"},
};

int imap_cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t imap_flag_bits(const char *letters)
{
	uint64_t bits = 0;
	for (const char *p = letters; *p; p++)
		if (*p >= 'A' && *p <= 'z')
			bits |= (uint64_t)1 << (*p - 'A');
	return bits;
}

void imap_put_flags(struct sbuf *b, const struct imap_msg *m)
{
	/* Built in a small array, one append: FETCH 1:* (FLAGS) calls this
	 * for every message. */
	char out[64];
	size_t n = 0;
	out[n++] = '(';
	uint64_t bits = imap_flag_bits(m->me->flags);
	for (size_t i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++) {
		if (!(bits & (uint64_t)1 << (flag_map[i].letter - 'A')))
			continue;
		if (n > 1)
			out[n++] = ' ';
		size_t k = strlen(flag_map[i].flag);
		memcpy(out + n, flag_map[i].flag, k);
		n += k;
	}
	if (m->recent) {
		if (n > 1)
			out[n++] = ' ';
		memcpy(out + n, "\\Recent", 7);
		n += 7;
	}
	out[n++] = ')';
	sbuf_add(b, out, n);
}

int imap_flags_to_letters(const char *const *flags, size_t n, char *out, size_t outsz)
{
	char set[8] = "";
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char l = 0;
		for (size_t j = 0; j < sizeof flag_map / sizeof flag_map[0]; j++)
			if (strcasecmp(flags[i], flag_map[j].flag) == 0)
				l = flag_map[j].letter;
		if (l == 0)
			return -1;
		if (strchr(set, l) == NULL && k + 1 < sizeof set) {
			set[k++] = l;
			set[k] = '\0';
		}
	}
	/* Maildir keeps the letters in ASCII order. */
	size_t o = 0;
	for (char l = 'A'; l <= 'Z'; l++)
		if (strchr(set, l) != NULL && o + 1 < outsz)
			out[o++] = l;
	if (outsz > 0)
		out[o] = '\0';
	return 0;
}

int imap_folder_name(const char *name, const char **folder, char *err)
{
	if (strcasecmp(name, "INBOX") == 0) {
		*folder = NULL;
		return 0;
	}
	size_t n = strlen(name);
	if (n == 0 || n > IMAP_MAILBOX_MAX)
		return imap_err(err, "Invalid mailbox name");
	if (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..") != NULL ||
	    strchr(name, '/') != NULL)
		return imap_err(err, "Invalid mailbox name: '/', '..' and a leading or trailing '.' "
				"are not allowed");
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '*' || *p == '%')
			return imap_err(err, "Invalid mailbox name");
	*folder = name;
	return 0;
}

static void snap_unref(struct imap_snap *sn)
{
	if (sn == NULL || --sn->refs > 0)
		return;
	mailbox_list_free(&sn->list);
	free(sn->uid);
	free(sn->order);
	free(sn->was_new);
	free(sn);
}

static void release_drop(struct imap_fshared *sh)
{
	free(sh->rel);
	sh->rel = NULL;
	sh->nrel = sh->relpos = sh->caprel = 0;
}

/* A folder's state outlives its last session by IMAP_FOLDER_LINGER_MS: a
 * client that logs in again (phones do, often) finds the scan, the index
 * and the cache in memory instead of reading them again. */
#define IMAP_FOLDER_LINGER_MS 10000

static void shared_destroy(struct imap_fshared *sh)
{
	if (sh->linger != NULL)
		event_free(sh->linger);
	if (sh->rel_ev != NULL)
		event_free(sh->rel_ev);
	release_drop(sh);
	if (sh->prevp != NULL) {
		*sh->prevp = sh->next;
		if (sh->next != NULL)
			sh->next->prevp = sh->prevp;
	}
	if (sh->srv->watch != NULL) {
		fswatch_remove(sh->srv->watch, sh->wnew);
		fswatch_remove(sh->srv->watch, sh->wcur);
	}
	snap_unref(sh->snap);
	imap_cache_free(sh->cache);
	mail_index_free(sh->ix);
	mailbox_close(sh->mb);
	free(sh->key);
	free(sh);
	/* A big folder's scan and caches are megabytes in many small
	 * blocks: give the freed pages back once nobody has it selected. */
	malloc_trim(0);
}

static void linger_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	shared_destroy(arg);
}

static void shared_unref(struct imap_fshared *sh)
{
	if (sh == NULL || --sh->refs > 0)
		return;
	if (sh->linger == NULL)
		sh->linger = loop_timer(sh->srv->loop, IMAP_FOLDER_LINGER_MS, false, linger_end, sh);
	if (sh->linger == NULL)
		shared_destroy(sh);
}

void imap_folder_free_all(struct imap_server *srv)
{
	while (srv->folders != NULL)
		shared_destroy(srv->folders);
}

static void on_change(void *arg)
{
	struct imap_fshared *sh = arg;
	sh->dirty = true;
	imap_server_folder_changed(sh);
}

/* Watch new/ and cur/ (RFC 2177 IDLE hears of changes at once, and a
 * scan is known stale without a stat). Without a watch, IDLE polls. */
static void watch(struct imap_fshared *sh)
{
	struct imap_server *srv = sh->srv;
	ik_err e;
	if (srv->watch == NULL && !srv->watch_failed &&
	    (srv->watch = fswatch_new(srv->loop, &e)) == NULL) {
		srv->watch_failed = true;
		log_event(LOG_WARNING, "imap_watch", "error=%s", e.msg);
	}
	if (srv->watch == NULL)
		return;
	int fd = mailbox_dirfd(sh->mb);
	sh->wnew = fswatch_add(srv->watch, fd, "new", on_change, sh, &e);
	sh->wcur = sh->wnew != NULL ? fswatch_add(srv->watch, fd, "cur", on_change, sh, &e) : NULL;
	if (sh->wcur == NULL) {
		fswatch_remove(srv->watch, sh->wnew);
		sh->wnew = NULL;
	}
}

/* A state that lingered unselected: its index file may have been
 * deleted or replaced meanwhile (by hand, or a rebuild elsewhere); then
 * the index is read again and the folder rescanned. */
static int index_replaced(struct imap_fshared *sh, ik_err *e)
{
	struct stat st;
	if (fstatat(mailbox_dirfd(sh->mb), MAIL_INDEX_FILE, &st, 0) == 0 &&
	    (uint64_t)st.st_ino == sh->ix->ino)
		return 0;
	struct mail_index *ix;
	if (mail_index_open(mailbox_dirfd(sh->mb), &ix, e) < 0)
		return -1;
	mail_index_free(sh->ix);
	sh->ix = ix;
	sh->dirty = true;
	return 0;
}

/* The shared state of folder (NULL: INBOX) of the session's user: found
 * among the generation's, or opened (Maildir, index) and added. */
static struct imap_fshared *shared_get(struct imap_sess *ss, const char *folder, ik_err *e)
{
	char key[ACCOUNT_NAME_MAX + IMAP_MAILBOX_MAX + 4];
	str_fmt(key, sizeof key, "%s/%s", ss->user, folder != NULL ? folder : "");
	for (struct imap_fshared *sh = ss->srv->folders; sh != NULL; sh = sh->next)
		if (strcmp(sh->key, key) == 0) {
			if (sh->refs++ == 0 && sh->linger != NULL) {
				event_free(sh->linger);
				sh->linger = NULL;
				if (index_replaced(sh, e) < 0) {
					shared_unref(sh);
					return NULL;
				}
			}
			return sh;
		}
	struct imap_fshared *sh = calloc(1, sizeof *sh);
	if (sh == NULL || (sh->key = strdup(key)) == NULL) {
		free(sh);
		ik_err_set(e, "out of memory");
		return NULL;
	}
	sh->refs = 1;
	sh->srv = ss->srv;
	if (mailbox_open(ss->srv->store, ss->user, folder, &sh->mb, e) < 0 ||
	    mail_index_open(mailbox_dirfd(sh->mb), &sh->ix, e) < 0) {
		shared_destroy(sh);
		return NULL;
	}
	sh->next = ss->srv->folders;
	if (sh->next != NULL)
		sh->next->prevp = &sh->next;
	ss->srv->folders = sh;
	sh->prevp = &ss->srv->folders;
	watch(sh);
	return sh;
}

/* Renames per loop turn when messages leave new/: a few milliseconds, so
 * that other sessions' commands go on between batches. */
#define IMAP_RELEASE_BATCH 512

static void release_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_fshared *sh = arg;
	size_t end = sh->relpos + IMAP_RELEASE_BATCH < sh->nrel ? sh->relpos + IMAP_RELEASE_BATCH
								 : sh->nrel;
	/* The entries of the folder's current scan are the ones moved (and
	 * renamed in place), so that the sessions that take that scan know
	 * where the files are; a session on an older scan finds a moved
	 * file with a stat (mailbox_entry_find). */
	struct imap_snap *sn = sh->snap;
	for (; sh->relpos < end && sn != NULL; sh->relpos++) {
		/* sn->uid ascends: found by bsearch, or expunged meanwhile */
		const uint32_t *at = bsearch(&sh->rel[sh->relpos], sn->uid, sn->n, sizeof *sn->uid,
					     imap_cmp_uid);
		if (at == NULL)
			continue;
		struct mailbox_entry *me = sn->order[at - sn->uid];
		ik_err e;
		/* Moved meanwhile (a STORE, another process) or removed
		 * (ENOENT): nothing to do. */
		if (me->in_new && mailbox_move_to_cur(sh->mb, me, &e) < 0 && errno != ENOENT) {
			log_event(LOG_WARNING, "imap_to_cur", "folder=%s error=%s", sh->key, e.msg);
			release_drop(sh);	/* left in new/, where every reader finds them */
			return;
		}
	}
	if (sh->relpos < sh->nrel) {
		struct timeval zero = {0, 0};
		event_add(sh->rel_ev, &zero);
	} else {
		release_drop(sh);
	}
}

/* The messages this session held \Recent for leave new/ for cur/ when it
 * lets the folder go (CLOSE, another SELECT, LOGOUT, a dropped
 * connection), as Dovecot moves them when it drops their \Recent: the
 * SELECT that found them renamed nothing, and a Maildir reader (mutt)
 * then no longer shows as new what an IMAP client has listed. Done after
 * the command that let go, in batches; a message whose flags changed is
 * in cur/ already. */
static void release_recent(struct imap_folder *f)
{
	struct imap_fshared *sh = f->sh;
	if (f->readonly)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct imap_msg *m = &f->msgs[i];
		if (!m->recent || !m->me->in_new)
			continue;
		if (sh->nrel == sh->caprel) {
			size_t nc = sh->caprel ? sh->caprel * 2 : 256;
			uint32_t *v = realloc(sh->rel, nc * sizeof *v);
			if (v == NULL)
				break;	/* left in new/ */
			sh->rel = v;
			sh->caprel = nc;
		}
		sh->rel[sh->nrel++] = m->uid;
	}
	if (sh->relpos == sh->nrel)
		return;
	if (sh->rel_ev == NULL)
		sh->rel_ev = event_new(loop_base(sh->srv->loop), -1, 0, release_step, sh);
	if (sh->rel_ev == NULL) {
		release_drop(sh);
		return;
	}
	if (!event_pending(sh->rel_ev, EV_TIMEOUT, NULL)) {
		struct timeval zero = {0, 0};
		event_add(sh->rel_ev, &zero);
	}
}

void imap_folder_free(struct imap_folder *f)
{
	if (f == NULL)
		return;
	release_recent(f);
	snap_unref(f->snap);
	shared_unref(f->sh);
	free(f->msgs);
	free(f);
}

struct imap_cache *imap_folder_cache(struct imap_folder *f)
{
	if (f->sh->cache == NULL)
		f->sh->cache = imap_cache_load(mailbox_dirfd(f->mb));
	return f->sh->cache;
}

const char *imap_folder_header(struct imap_folder *f, size_t i, size_t *len)
{
	struct imap_cache *c = imap_folder_cache(f);
	struct mailbox_entry *me = f->msgs[i].me;
	const char *h = c != NULL ? imap_cache_header(c, me->base, len) : NULL;
	if (h != NULL)
		return h;
	struct sbuf b = SBUF_INIT(64u << 20);
	ik_err e;
	if (imap_folder_read_part(f, me, true, &b, &e) < 0) {
		sbuf_free(&b);
		return NULL;
	}
	const char *p = sbuf_cstr(&b);
	const char *blank = b.len >= 2 && p[0] == '\r' && p[1] == '\n' ? p
			    : memmem(p, b.len, "\r\n\r\n", 4);
	size_t n = blank == NULL ? b.len : (size_t)(blank - p) + (blank == p ? 2 : 4);
	if (c != NULL) {
		imap_cache_set_header(c, me->base, p, n);
		sbuf_free(&b);
		return imap_cache_header(c, me->base, len);
	}
	sbuf_free(&b);
	return NULL;
}

static int cmp_entry_base(const void *a, const void *b)
{
	const struct mailbox_entry *const *x = a, *const *y = b;
	return strcmp((*x)->base, (*y)->base);
}

static void dir_mtimes(int dirfd, struct timespec *n, struct timespec *c)
{
	struct stat st;
	memset(n, 0, sizeof *n);
	memset(c, 0, sizeof *c);
	if (fstatat(dirfd, "new", &st, 0) == 0)
		*n = st.st_mtim;
	if (fstatat(dirfd, "cur", &st, 0) == 0)
		*c = st.st_mtim;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_entry_struct_base(const void *a, const void *b)
{
	return strcmp(((const struct mailbox_entry *)a)->base,
		      ((const struct mailbox_entry *)b)->base);
}

void imap_folder_dir_mtimes(const struct imap_fshared *sh, struct timespec *n, struct timespec *c)
{
	dir_mtimes(mailbox_dirfd(sh->mb), n, c);
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool imap_folder_changed(const struct imap_folder *f)
{
	if (f->sh->dirty)
		return true;
	struct timespec n, c;
	dir_mtimes(mailbox_dirfd(f->mb), &n, &c);
	return !ts_eq(&n, &f->new_mtime) || !ts_eq(&c, &f->cur_mtime);
}

static int cmp_base_entry(const void *key, const void *ent)
{
	return strcmp(key, ((const struct mailbox_entry *)ent)->base);
}

/* A file renamed (a flag change by another session or process) while
 * readdir walks its directory can be missed by the walk, and the index
 * would take it as expunged. When the directories changed during the
 * scan and messages the index knows are missing, scan once more and take
 * those found then. */
static int scan_repair(struct imap_fshared *sh, struct mailbox_list *list,
		       const struct timespec *new_m, const struct timespec *cur_m, ik_err *e)
{
	struct timespec n2, c2;
	dir_mtimes(mailbox_dirfd(sh->mb), &n2, &c2);
	if (ts_eq(&n2, new_m) && ts_eq(&c2, cur_m))
		return 0;
	char **names = calloc(list->n + 1, sizeof *names);
	if (names == NULL)
		return ik_err_set(e, "out of memory");
	for (size_t i = 0; i < list->n; i++)
		names[i] = list->v[i].base;
	qsort(names, list->n, sizeof *names, cmp_str_ptr);
	size_t missing = 0;
	for (size_t i = 0; i < sh->ix->n && missing == 0; i++)
		missing += bsearch(&sh->ix->v[i].base, names, list->n, sizeof *names,
				   cmp_str_ptr) == NULL;
	if (missing == 0) {
		free(names);
		return 0;
	}
	struct mailbox_list again = {NULL, 0};
	if (mailbox_scan(sh->mb, &again, e) < 0) {
		free(names);
		return -1;
	}
	/* again in base order, to look the missing ones up */
	struct mailbox_entry *v = again.v;
	size_t an = again.n;
	qsort(v, an, sizeof *v, cmp_entry_struct_base);
	size_t add = 0;
	bool *take = calloc(an + 1, sizeof *take);
	for (size_t i = 0; take != NULL && i < sh->ix->n; i++) {
		const char *base = sh->ix->v[i].base;
		if (bsearch(&base, names, list->n, sizeof *names, cmp_str_ptr) != NULL)
			continue;
		struct mailbox_entry *hit = bsearch(base, v, an, sizeof *v, cmp_base_entry);
		if (hit != NULL && !take[hit - v]) {
			take[hit - v] = true;
			add++;
		}
	}
	int rc = 0;
	if (add > 0) {
		struct mailbox_entry *nv = realloc(list->v, (list->n + add) * sizeof *nv);
		if (nv == NULL) {
			rc = ik_err_set(e, "out of memory");
		} else {
			list->v = nv;
			for (size_t i = 0; i < an; i++)
				if (take[i]) {
					list->v[list->n++] = v[i];
					v[i].name = v[i].base = NULL;	/* moved */
				}
		}
	}
	free(take);
	free(names);
	mailbox_list_free(&again);
	return rc;
}

/* What rescan's listing gives the index, made under the index's lock. */
struct rescan_job {
	struct imap_fshared *sh;
	struct timespec new_m, cur_m;	/* the directories before the scan */
	struct mailbox_list list;
	struct mail_index_seen *seen;
	bool *was_new;
};

/* mail_index_scan_fn: scan and look again for what a rename hid. Under
 * the index's lock, so that the listing is never older than the records
 * other processes appended. Nothing is moved here: a message found in
 * new/ stays there until the session that holds its \Recent lets the
 * folder go (release_recent) or its flags change, so the first SELECT of
 * a big new/ renames no file. */
static int rescan_list(void *arg, struct mail_index *ix, const struct mail_index_seen **seen,
		       size_t *n, ik_err *e)
{
	(void)ix;	/* sh->ix: already read up to date by the caller */
	struct rescan_job *j = arg;
	struct imap_fshared *sh = j->sh;
	/* Before the scan: a change made during it is seen next time. */
	dir_mtimes(mailbox_dirfd(sh->mb), &j->new_m, &j->cur_m);
	/* A change from now on is seen by the next scan. */
	sh->dirty = false;
	if (mailbox_scan(sh->mb, &j->list, e) < 0)
		return -1;
	if (scan_repair(sh, &j->list, &j->new_m, &j->cur_m, e) < 0)
		return -1;
	j->seen = calloc(j->list.n + 1, sizeof *j->seen);
	j->was_new = calloc(j->list.n + 1, sizeof *j->was_new);
	if (j->seen == NULL || j->was_new == NULL)
		return ik_err_set(e, "out of memory");
	for (size_t i = 0; i < j->list.n; i++) {
		struct mailbox_entry *me = &j->list.v[i];
		j->was_new[i] = me->in_new;
		j->seen[i].base = me->base;
		j->seen[i].flags = me->flags;
	}
	*seen = j->seen;
	*n = j->list.n;
	return 0;
}

/* Scan the folder, bring the index up to date and make the result the
 * folder's current scan. */
static int rescan(struct imap_fshared *sh, ik_err *e)
{
	struct rescan_job j = {.sh = sh};
	struct imap_snap *sn = NULL;
	struct mailbox_entry **by = NULL;
	int rc = -1;
	if (mail_index_sync_scan(sh->ix, rescan_list, &j, e) < 0)
		goto out;
	struct mailbox_list list = j.list;
	sn = calloc(1, sizeof *sn);
	if (sn == NULL) {
		ik_err_set(e, "out of memory");
		goto out;
	}
	sn->uid = calloc(sh->ix->n + 1, sizeof *sn->uid);
	sn->order = calloc(sh->ix->n + 1, sizeof *sn->order);
	sn->was_new = calloc(sh->ix->n + 1, sizeof *sn->was_new);
	if (sn->uid == NULL || sn->order == NULL || sn->was_new == NULL) {
		ik_err_set(e, "out of memory");
		goto out;
	}
	size_t next = 0;
	for (size_t i = 0; i < sh->ix->n; i++) {
		struct mail_index_rec *r = &sh->ix->v[i];
		/* The records (by UID) and the listing (delivery order) are
		 * mostly in the same order: one comparison each, until the
		 * first that is not; then the listing is sorted by name. */
		struct mailbox_entry *me;
		if (by == NULL && next < list.n && strcmp(list.v[next].base, r->base) == 0) {
			me = &list.v[next++];
		} else {
			if (by == NULL) {
				if ((by = calloc(list.n + 1, sizeof *by)) == NULL) {
					ik_err_set(e, "out of memory");
					goto out;
				}
				for (size_t k = 0; k < list.n; k++)
					by[k] = &list.v[k];
				qsort(by, list.n, sizeof *by, cmp_entry_base);
			}
			struct mailbox_entry key = {.base = r->base}, *kp = &key;
			struct mailbox_entry **hit = bsearch(&kp, by, list.n, sizeof *by,
							     cmp_entry_base);
			me = hit != NULL ? *hit : NULL;
		}
		if (me == NULL)
			continue;	/* not indexable (odd name): not shown */
		sn->uid[sn->n] = r->uid;
		sn->order[sn->n] = me;
		sn->was_new[sn->n] = j.was_new[me - list.v];
		sn->n++;
	}
	sn->refs = 1;
	sn->list = list;
	j.list.v = NULL;
	j.list.n = 0;
	snap_unref(sh->snap);
	sh->snap = sn;
	sn = NULL;
	sh->new_mtime = j.new_m;
	sh->cur_mtime = j.cur_m;
	rc = 0;
out:
	if (sn != NULL) {
		sn->refs = 1;
		snap_unref(sn);
	}
	free(j.seen);
	free(by);
	free(j.was_new);
	mailbox_list_free(&j.list);
	return rc;
}

int imap_folder_sync(struct imap_sess *ss, struct imap_folder *f, bool report, ik_err *e)
{
	struct imap_fshared *sh = f->sh;
	/* Another session's scan serves when the directories have not
	 * changed since. */
	struct timespec n_m, c_m;
	dir_mtimes(mailbox_dirfd(sh->mb), &n_m, &c_m);
	bool fresh = sh->snap != NULL && !sh->dirty && ts_eq(&n_m, &sh->new_mtime) &&
		     ts_eq(&c_m, &sh->cur_mtime);
	if (!fresh && rescan(sh, e) < 0)
		return -1;
	struct imap_snap *sn = sh->snap;
	size_t n = sn->n;
	/* \Recent (RFC 3501 2.3.2): the messages found in new/ whose UIDs
	 * no session has had yet are this one's, if it may change the
	 * folder (an EXAMINE leaves them to the next SELECT). The index
	 * keeps which UIDs were given, for every process. */
	uint32_t from = UINT32_MAX, upto = n > 0 ? sn->uid[n - 1] + 1 : 0;
	ik_err ce;
	if (!f->readonly && sh->ix->first_recent < upto &&
	    mail_index_claim_recent(sh->ix, upto, &from, &ce) < 0) {
		log_event(LOG_WARNING, "imap_recent", "folder=%s error=%s", sh->key, ce.msg);
		from = UINT32_MAX;	/* no \Recent rather than no SELECT */
	}
	struct imap_msg *msgs = calloc(n + 1, sizeof *msgs);
	if (msgs == NULL)
		return ik_err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct imap_msg *m = &msgs[i];
		m->uid = sn->uid[i];
		m->me = sn->order[i];
		m->recent = sn->was_new[i] && m->uid >= from && m->uid < upto;
		m->told = imap_flag_bits(m->me->flags);
		/* The index may hold more (other processes' records): by UID. */
		struct mail_index_rec *r = i < sh->ix->n && sh->ix->v[i].uid == m->uid
					   ? &sh->ix->v[i] : mail_index_find(sh->ix, m->uid);
		m->modseq = r != NULL ? r->modseq : 0;
	}
	/* What the client knew (f->msgs) against what is there now, both by
	 * ascending UID: expunges first, each renumbering what follows. */
	struct sbuf b = SBUF_INIT(16u << 20);
	size_t j = 0, removed = 0;
	uint32_t recent = 0;
	/* QRESYNC (RFC 7162 3.2.10): expunges as one VANISHED of UIDs. */
	struct imap_uidrun vanished = {.b = &b, .line = "* VANISHED "};
	for (size_t i = 0; i < f->n; i++) {
		while (j < n && msgs[j].uid < f->msgs[i].uid)
			j++;
		if (j < n && msgs[j].uid == f->msgs[i].uid) {
			msgs[j].recent = msgs[j].recent || f->msgs[i].recent;
			continue;
		}
		if (report && ss->qresync)
			imap_uidrun_add(&vanished, f->msgs[i].uid);
		else if (report)
			sbuf_printf(&b, "* %zu EXPUNGE\r\n", i + 1 - removed);
		removed++;
	}
	imap_uidrun_end(&vanished);
	size_t kept = f->n - removed;
	/* A keyword named by another session: FLAGS first (RFC 3501 7.2.6). */
	if (report && ss->sel == f && imap_kw_untold(ss->kw))
		imap_put_flag_lists(&b, ss);
	if (report) {
		/* Flag changes made by others, on the messages still known. */
		size_t k = 0;
		for (size_t i = 0; i < f->n && k < kept; i++) {
			if (k < n && msgs[k].uid == f->msgs[i].uid) {
				if (f->msgs[i].told != msgs[k].told) {
					sbuf_printf(&b, "* %zu FETCH (UID %" PRIu32 " FLAGS ", k + 1,
						    msgs[k].uid);
					imap_put_msg_flags(&b, ss, &msgs[k]);	/* keywords too */
					if (ss->condstore)
						sbuf_printf(&b, " MODSEQ (%" PRIu64 ")", msgs[k].modseq);
					sbuf_addstr(&b, ")\r\n");
				}
				k++;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		recent += msgs[i].recent;
	if (report && n != kept) {
		sbuf_printf(&b, "* %zu EXISTS\r\n", n);
		sbuf_printf(&b, "* %" PRIu32 " RECENT\r\n", recent);
	}
	imap_send_sbuf(ss, &b);
	free(f->msgs);
	f->msgs = msgs;
	f->n = n;
	sn->refs++;
	snap_unref(f->snap);
	f->snap = sn;
	f->recent = recent;
	f->new_mtime = sh->new_mtime;
	f->cur_mtime = sh->cur_mtime;
	return 0;
}

int imap_folder_open(struct imap_sess *ss, const char *name, bool readonly,
		     struct imap_folder **out, ik_err *e)
{
	const char *folder;
	char err[IMAP_ERR_MAX];
	if (imap_folder_name(name, &folder, err) < 0)
		return ik_err_set(e, "%s", err);
	struct imap_folder *f = calloc(1, sizeof *f);
	if (f == NULL)
		return ik_err_set(e, "out of memory");
	str_copy(f->name, sizeof f->name, folder == NULL ? "INBOX" : name);
	f->readonly = readonly;
	if ((f->sh = shared_get(ss, folder, e)) == NULL) {
		free(f);
		return -1;
	}
	f->mb = f->sh->mb;
	f->ix = f->sh->ix;
	if (imap_folder_sync(ss, f, false, e) < 0) {
		imap_folder_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

bool imap_folder_match(const struct imap_folder *f, size_t i, const struct imap_seqset *set,
		       bool uid)
{
	if (uid)
		return imap_seqset_has(set, f->msgs[i].uid, f->n ? f->msgs[f->n - 1].uid : 0);
	return imap_seqset_has(set, (uint32_t)(i + 1), (uint32_t)f->n);
}

/* The first index whose UID is >= uid (f->n if none). */
static size_t uid_lower(const struct imap_folder *f, uint32_t uid)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void imap_folder_span(const struct imap_folder *f, const struct imap_seqset *set, bool uid,
		      size_t *from, size_t *to)
{
	*from = f->n;
	*to = 0;
	uint32_t max = uid ? (f->n ? f->msgs[f->n - 1].uid : 0) : (uint32_t)f->n;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo == IMAP_SEQ_STAR ? max : set->r[i].lo;
		uint32_t hi = set->r[i].hi == IMAP_SEQ_STAR ? max : set->r[i].hi;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		size_t a, b;
		if (uid) {
			a = uid_lower(f, lo);
			b = hi == UINT32_MAX ? f->n : uid_lower(f, hi + 1);
		} else {
			a = lo > 0 ? lo - 1 : 0;
			b = hi < f->n ? hi : f->n;
		}
		if (a < *from)
			*from = a;
		if (b > *to)
			*to = b;
	}
	if (*from > *to)
		*from = *to;
}

int imap_folder_read(struct imap_folder *f, struct mailbox_entry *me, struct sbuf *out, ik_err *e)
{
	return imap_folder_read_part(f, me, false, out, e);
}

int imap_folder_read_part(struct imap_folder *f, struct mailbox_entry *me, bool header_only,
			  struct sbuf *out, ik_err *e)
{
	struct mailbox_read_opts o = {0};
	struct mailbox_reader *r;
	if (mailbox_read_open(f->mb, me, &o, &r, e) < 0)
		return -1;
	size_t start = out->len;
	int rc = 0;
	/* A whole message of known stored size (S=) is read in one piece
	 * sized to it (the reader takes cap / 2 bytes a call, its CR LF
	 * form is at most twice that): the reply buffer grows by what the
	 * message needs, not by 64 KiB. */
	size_t chunk = header_only ? 8192 : 65536;
	if (!header_only && me->has_size && me->size < 32768)
		chunk = me->size * 2 + 16 > 8192 ? (size_t)me->size * 2 + 16 : 8192;
	for (;;) {
		char *p = sbuf_reserve(out, chunk);
		size_t len;
		if (p == NULL) {
			rc = ik_err_set(e, "message too large");
			break;
		}
		if (mailbox_read_chunk(r, p, chunk, &len, e) < 0) {
			rc = -1;
			break;
		}
		if (len == 0)
			break;
		sbuf_commit(out, len);
		/* The header ends at the first blank line (RFC 5322 2.1). */
		if (header_only && memmem(out->data, out->len, "\r\n\r\n", 4) != NULL)
			break;
	}
	/* Read whole: its CR LF size is known now (the first SELECT moved
	 * it to cur/ without reading it), for RFC822.SIZE and the next
	 * BODY[] (read straight into the reply), and the next rename puts
	 * it in the name as W=. */
	if (rc == 0 && !header_only && !me->has_vsize && mailbox_read_whole(r)) {
		me->vsize = out->len - start;
		me->has_vsize = true;
	}
	mailbox_read_close(r);
	return rc;
}

int64_t imap_folder_mtime(struct imap_folder *f, struct mailbox_entry *me)
{
	char path[PATH_MAX];
	struct stat st;
	str_fmt(path, sizeof path, "%s/%s", me->in_new ? "new" : "cur", me->name);
	if (fstatat(mailbox_dirfd(f->mb), path, &st, 0) < 0)
		return 0;
	return (int64_t)st.st_mtime;
}

/* ---- adding messages to a folder (APPEND, COPY) ---- */

/* A unique Maildir base name (time, microseconds, pid, a counter). */
static void unique_base(char *out, size_t sz)
{
	static unsigned counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char host[64] = "localhost";
	gethostname(host, sizeof host - 1);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':' || *p == '.')
			*p = '_';
	str_fmt(out, sz, "%lld.M%ldP%dQ%u.%s", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		(int)getpid(), ++counter, host);
}

struct learn_job {
	struct mailbox *mb;
	struct mailbox_list list;
	struct mail_index_seen *seen;
};

/* mail_index_scan_fn: the target folder as it is, under its index's lock. */
static int learn_list(void *arg, struct mail_index *ix, const struct mail_index_seen **seen,
		      size_t *n, ik_err *e)
{
	(void)ix;
	struct learn_job *j = arg;
	if (mailbox_scan(j->mb, &j->list, e) < 0)
		return -1;
	if ((j->seen = calloc(j->list.n + 1, sizeof *j->seen)) == NULL)
		return ik_err_set(e, "out of memory");
	for (size_t i = 0; i < j->list.n; i++) {
		j->seen[i].base = j->list.v[i].base;
		j->seen[i].flags = j->list.v[i].flags;
	}
	*seen = j->seen;
	*n = j->list.n;
	return 0;
}

/* The UID the target folder's index gives base (a scan and a sync). */
static void learn_uid(struct mailbox *mb, const char *base, uint32_t *uidvalidity,
		      uint32_t *uid)
{
	*uid = 0;
	*uidvalidity = 0;
	struct learn_job j = {.mb = mb};
	struct mail_index *ix = NULL;
	ik_err e;
	if (mail_index_open(mailbox_dirfd(mb), &ix, &e) < 0)
		goto out;
	if (mail_index_sync_scan(ix, learn_list, &j, &e) == 0) {
		*uidvalidity = ix->uidvalidity;
		for (size_t i = ix->n; i-- > 0;)
			if (strcmp(ix->v[i].base, base) == 0) {
				*uid = ix->v[i].uid;
				break;
			}
	}
out:
	free(j.seen);
	mail_index_free(ix);
	mailbox_list_free(&j.list);
}

static int open_target(struct imap_sess *ss, const char *name, struct mailbox **mb, ik_err *e)
{
	const char *folder;
	char err[IMAP_ERR_MAX];
	if (imap_folder_name(name, &folder, err) < 0)
		return ik_err_set(e, "%s", err);
	return mailbox_open(ss->srv->store, ss->user, folder, mb, e);
}

int imap_folder_append(struct imap_sess *ss, const char *name, const char *data, size_t len,
		       const char *letters, int64_t date, uint32_t *uidvalidity, uint32_t *uid,
		       ik_err *e)
{
	struct mailbox *mb;
	if (open_target(ss, name, &mb, e) < 0)
		return -1;
	int md = mailbox_dirfd(mb);
	char base[128], tmp[160], dst[256];
	unique_base(base, sizeof base);
	str_fmt(tmp, sizeof tmp, "tmp/%s", base);
	int fd = openat(md, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		mailbox_close(mb);
		return ik_err_errno(e, errno, "cannot create %s", tmp);
	}
	/* Stored with LF line ends, as smtpd stores (and mutt expects). */
	struct sbuf lf = SBUF_INIT(len + 1);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		sbuf_addch(&lf, data[i]);
	}
	bool ok = write(fd, lf.data != NULL ? lf.data : "", lf.len) == (ssize_t)lf.len &&
		  fsync(fd) == 0;
	if (ok && date > 0) {
		struct timespec ts[2] = {{(time_t)date, 0}, {(time_t)date, 0}};
		futimens(fd, ts);
	}
	close(fd);
	uint64_t vsize = mailbox_crlf_size(lf.data != NULL ? lf.data : "", lf.len, &(bool){false});
	str_fmt(dst, sizeof dst, "cur/%s,S=%zu,W=%" PRIu64 ":2,%s", base, lf.len, vsize, letters);
	sbuf_free(&lf);
	if (!ok || renameat(md, tmp, md, dst) < 0) {
		int err = errno;
		unlinkat(md, tmp, 0);
		mailbox_close(mb);
		return ik_err_errno(e, err, "cannot store the message");
	}
	mailbox_sync(mb, e);
	learn_uid(mb, base, uidvalidity, uid);
	mailbox_close(mb);
	return 0;
}

int imap_folder_copy(struct imap_sess *ss, size_t i, const char *name, uint32_t *uidvalidity,
		     uint32_t *uid, ik_err *e)
{
	struct imap_folder *f = ss->sel;
	struct mailbox_entry *me = f->msgs[i].me;
	struct mailbox *mb;
	if (open_target(ss, name, &mb, e) < 0)
		return -1;
	char base[128], src[PATH_MAX], dst[256];
	unique_base(base, sizeof base);
	str_fmt(src, sizeof src, "%s/%s", me->in_new ? "new" : "cur", me->name);
	if (!me->has_vsize)
		mailbox_vsize(f->mb, me, e);
	/* Keyword letters mean what the target's dovecot-keywords says. */
	char letters[MAILBOX_FLAGS_MAX];
	if (imap_kw_remap(ss->kw, mailbox_dirfd(mb), me->flags, letters, sizeof letters) < 0)
		str_copy(letters, sizeof letters, me->flags);
	str_fmt(dst, sizeof dst, "cur/%s,S=%" PRIu64 ",W=%" PRIu64 ":2,%s", base, me->size,
		me->vsize, letters);
	int rc = linkat(mailbox_dirfd(f->mb), src, mailbox_dirfd(mb), dst, 0);
	/* Renamed by another session since our scan: find it, try again. */
	if (rc < 0 && errno == ENOENT && mailbox_entry_find(f->mb, me, e) == 1) {
		str_fmt(src, sizeof src, "%s/%s", me->in_new ? "new" : "cur", me->name);
		rc = linkat(mailbox_dirfd(f->mb), src, mailbox_dirfd(mb), dst, 0);
	}
	if (rc < 0)
		rc = ik_err_errno(e, errno, "cannot copy the message");
	if (rc == 0) {
		mailbox_sync(mb, e);
		learn_uid(mb, base, uidvalidity, uid);
	}
	mailbox_close(mb);
	return rc;
}
