/* The per-folder IMAP index: UIDs, UIDVALIDITY, MODSEQ. RFC 3501 2.3.1.1,
 * RFC 7162 3.1. See mail_index.h for the file and why it is a file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "lib/str.h"
#include "mailstore/mail_index.h"

#define INDEX_MAGIC "inetkit-index 1 "
#define INDEX_TMP MAIL_INDEX_FILE ".tmp"
#define INDEX_MAX_BYTES (1u << 30)

int mail_index_open(int dirfd, struct mail_index **out, ik_err *e)
{
	struct mail_index *ix = calloc(1, sizeof *ix);
	if (ix == NULL)
		return ik_err_set(e, "out of memory");
	ix->dirfd = dirfd;
	ix->uidnext = 1;
	ix->first_recent = 1;
	*out = ix;
	return 0;
}

static void clear_recs(struct mail_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].base);
	ix->n = 0;
	ix->ngone = 0;
}

/* Remember an expunge; out of memory, forget them all (VANISHED then
 * lists more than needed, which RFC 7162 allows). */
static void gone_add(struct mail_index *ix, uint32_t uid, uint64_t modseq)
{
	if (ix->ngone == ix->capgone) {
		size_t nc = ix->capgone ? ix->capgone * 2 : 64;
		struct mail_index_gone *g = realloc(ix->gone, nc * sizeof *g);
		if (g == NULL) {
			ix->ngone = 0;
			ix->base_modseq = modseq;
			return;
		}
		ix->gone = g;
		ix->capgone = nc;
	}
	ix->gone[ix->ngone].uid = uid;
	ix->gone[ix->ngone++].modseq = modseq;
}

void mail_index_free(struct mail_index *ix)
{
	if (ix == NULL)
		return;
	clear_recs(ix);
	free(ix->v);
	free(ix->gone);
	free(ix);
}

static int grow(struct mail_index *ix)
{
	if (ix->n < ix->cap)
		return 0;
	size_t nc = ix->cap ? ix->cap * 2 : 64;
	struct mail_index_rec *v = realloc(ix->v, nc * sizeof *v);
	if (v == NULL)
		return -1;
	ix->v = v;
	ix->cap = nc;
	return 0;
}

struct mail_index_rec *mail_index_find(struct mail_index *ix, uint32_t uid)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].uid == uid)
			return ix->v[mid].uid != 0 ? &ix->v[mid] : NULL;
		if (ix->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Drop the records marked removed (uid 0), keeping the order. */
static void squeeze(struct mail_index *ix)
{
	size_t j = 0;
	for (size_t i = 0; i < ix->n; i++) {
		if (ix->v[i].uid == 0) {
			free(ix->v[i].base);
			continue;
		}
		ix->v[j++] = ix->v[i];
	}
	ix->n = j;
}

static int next_u64(char **pp, uint64_t max, uint64_t *v)
{
	char *p = *pp, *sp = strchr(p, ' ');
	if (sp != NULL)
		*sp = '\0';
	int rc = str_to_u64(p, max, v);
	*pp = sp != NULL ? sp + 1 : p + strlen(p);
	return rc;
}

static bool flags_ok(const char *f)
{
	return strlen(f) < MAIL_INDEX_FLAGS_MAX && strchr(f, ' ') == NULL;
}

/* Apply one line (NUL-terminated, no LF). -1: the index is damaged. */
static int apply(struct mail_index *ix, char *line, bool first)
{
	uint64_t a, b, c;
	if (first) {
		if (!str_has_prefix(line, INDEX_MAGIC))
			return -1;
		char *p = line + strlen(INDEX_MAGIC);
		if (next_u64(&p, UINT32_MAX, &a) < 0 || a == 0 || next_u64(&p, UINT32_MAX, &b) < 0 ||
		    b == 0 || next_u64(&p, INT64_MAX, &c) < 0 || *p != '\0')
			return -1;
		ix->uidvalidity = (uint32_t)a;
		ix->uidnext = (uint32_t)b;
		ix->highestmodseq = c;
		ix->base_modseq = c;
		return 0;
	}
	char kind = line[0];
	if (kind == 'r' && line[1] == ' ') {
		char *p = line + 2;
		if (next_u64(&p, UINT32_MAX, &a) < 0 || a == 0 || *p != '\0')
			return -1;
		ix->records++;
		if (a > ix->first_recent)
			ix->first_recent = (uint32_t)a;	/* never goes back */
		return 0;
	}
	if ((kind != '+' && kind != '=' && kind != '-') || line[1] != ' ')
		return -1;
	char *p = line + 2;
	if (next_u64(&p, UINT32_MAX - 1, &a) < 0 || a == 0 || next_u64(&p, INT64_MAX, &b) < 0)
		return -1;
	if (b > ix->highestmodseq)
		ix->highestmodseq = b;
	ix->records++;
	if (kind == '-') {
		gone_add(ix, (uint32_t)a, b);
		struct mail_index_rec *r = mail_index_find(ix, (uint32_t)a);
		/* Removed now, not marked: a zero UID in the middle would
		 * break the binary search of the records that follow. */
		if (r != NULL) {
			free(r->base);
			memmove(r, r + 1, (size_t)(ix->v + ix->n - (r + 1)) * sizeof *r);
			ix->n--;
		}
		return *p == '\0' ? 0 : -1;
	}
	char *flags = p, *sp = strchr(p, ' ');
	if (kind == '+') {
		if (sp == NULL || sp[1] == '\0' || a <= ix->last_uid)
			return -1;
		*sp = '\0';
	} else if (sp != NULL) {
		return -1;
	}
	if (strcmp(flags, "-") == 0)
		flags = "";
	if (!flags_ok(flags))
		return -1;
	if (kind == '=') {
		struct mail_index_rec *r = mail_index_find(ix, (uint32_t)a);
		if (r != NULL) {
			r->modseq = b;
			str_copy(r->flags, sizeof r->flags, flags);
		}
		return 0;
	}
	if (grow(ix) < 0)
		return -1;
	struct mail_index_rec *r = &ix->v[ix->n];
	if ((r->base = strdup(sp + 1)) == NULL)
		return -1;
	r->uid = (uint32_t)a;
	r->modseq = b;
	str_copy(r->flags, sizeof r->flags, flags);
	ix->n++;
	ix->last_uid = (uint32_t)a;
	if (ix->uidnext <= a)
		ix->uidnext = (uint32_t)a + 1;
	return 0;
}

/* Read the log from ix->off (from the start when the file was replaced or
 * is new to us). Returns 0, 1 when damaged, -1 on an I/O error. A torn
 * last line (no LF) is left unread. */
static int refresh(struct mail_index *ix, int fd, ik_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ik_err_errno(e, errno, "index: fstat");
	if ((uint64_t)st.st_ino != ix->ino || (uint64_t)st.st_size < ix->off) {
		clear_recs(ix);
		ix->ino = (uint64_t)st.st_ino;
		ix->off = 0;
		ix->records = 0;
		ix->uidvalidity = 0;
		ix->uidnext = 1;
		ix->last_uid = 0;
		ix->highestmodseq = 0;
		ix->first_recent = 1;
	}
	if ((uint64_t)st.st_size == ix->off)
		return 0;
	if (st.st_size > INDEX_MAX_BYTES)
		return 1;
	size_t len = (size_t)((uint64_t)st.st_size - ix->off);
	char *buf = malloc(len + 1);
	if (buf == NULL)
		return ik_err_set(e, "index: out of memory");
	ssize_t got = pread(fd, buf, len, (off_t)ix->off);
	if (got < 0) {
		free(buf);
		return ik_err_errno(e, errno, "index: read");
	}
	int rc = 0;
	size_t pos = 0;
	for (;;) {
		char *nl = memchr(buf + pos, '\n', (size_t)got - pos);
		if (nl == NULL)
			break;
		*nl = '\0';
		if (memchr(buf + pos, '\0', (size_t)(nl - buf) - pos) != NULL ||
		    apply(ix, buf + pos, ix->off == 0 && pos == 0) < 0) {
			rc = 1;
			break;
		}
		pos = (size_t)(nl - buf) + 1;
	}
	free(buf);
	squeeze(ix);
	if (rc == 0)
		ix->off += pos;
	return rc;
}

static int add_rec_line(struct sbuf *b, const struct mail_index_rec *r)
{
	return sbuf_printf(b, "+ %" PRIu32 " %" PRIu64 " %s %s\n", r->uid, r->modseq,
			   r->flags[0] ? r->flags : "-", r->base);
}

/* Write the whole index as a new file and rename it over the old one. */
static int rewrite(struct mail_index *ix, ik_err *e)
{
	struct sbuf b = SBUF_INIT(INDEX_MAX_BYTES);
	int rc = sbuf_printf(&b, INDEX_MAGIC "%" PRIu32 " %" PRIu32 " %" PRIu64 "\n",
			     ix->uidvalidity, ix->uidnext, ix->highestmodseq);
	if (rc == 0 && ix->first_recent > 1)
		rc = sbuf_printf(&b, "r %" PRIu32 "\n", ix->first_recent);
	for (size_t i = 0; rc == 0 && i < ix->n; i++)
		rc = add_rec_line(&b, &ix->v[i]);
	if (rc < 0) {
		sbuf_free(&b);
		return ik_err_set(e, "index: too large");
	}
	int fd = openat(ix->dirfd, INDEX_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		sbuf_free(&b);
		return ik_err_errno(e, errno, "index: create %s", INDEX_TMP);
	}
	ssize_t w = write(fd, b.data, b.len);
	struct stat st;
	bool ok = w == (ssize_t)b.len && fstat(fd, &st) == 0;
	int err = errno;
	close(fd);
	if (!ok || renameat(ix->dirfd, INDEX_TMP, ix->dirfd, MAIL_INDEX_FILE) < 0) {
		err = ok ? errno : err;
		unlinkat(ix->dirfd, INDEX_TMP, 0);
		sbuf_free(&b);
		return ik_err_errno(e, err, "index: write");
	}
	ix->ino = (uint64_t)st.st_ino;
	ix->off = b.len;
	ix->records = ix->n + (ix->first_recent > 1);
	ix->ngone = 0;	/* the new log holds no expunge records */
	ix->base_modseq = ix->highestmodseq;
	sbuf_free(&b);
	return 0;
}

/* Open and lock the index file, read what is new. Returns the fd (locked)
 * or -1; *damaged is set when the content must be rebuilt. */
static int lock_and_read(struct mail_index *ix, bool *damaged, ik_err *e)
{
	int fd = openat(ix->dirfd, MAIL_INDEX_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ik_err_errno(e, errno, "index: open %s", MAIL_INDEX_FILE);
	for (;;) {
		if (flock(fd, LOCK_EX) < 0) {
			ik_err_errno(e, errno, "index: lock");
			close(fd);
			return -1;
		}
		/* Another session may have renamed a new file over this one
		 * between our open and our lock: then lock that one. */
		struct stat a, b;
		if (fstat(fd, &a) == 0 && fstatat(ix->dirfd, MAIL_INDEX_FILE, &b, 0) == 0 &&
		    a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = openat(ix->dirfd, MAIL_INDEX_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return ik_err_errno(e, errno, "index: open %s", MAIL_INDEX_FILE);
	}
	int rc = refresh(ix, fd, e);
	if (rc < 0) {
		close(fd);
		return -1;
	}
	*damaged = rc == 1 || ix->uidvalidity == 0;
	/* A torn line a crashed writer left: cut it before appending. */
	struct stat st;
	if (!*damaged && fstat(fd, &st) == 0 && (uint64_t)st.st_size > ix->off &&
	    ftruncate(fd, (off_t)ix->off) < 0) {
		ik_err_errno(e, errno, "index: truncate");
		close(fd);
		return -1;
	}
	return fd;
}

static int append(struct mail_index *ix, int fd, struct sbuf *b, size_t nrec, ik_err *e)
{
	if (b->len == 0)
		return 0;
	ssize_t w = pwrite(fd, b->data, b->len, (off_t)ix->off);
	if (w != (ssize_t)b->len) {
		/* Undo a short write so the file ends on a whole line. */
		if (ftruncate(fd, (off_t)ix->off) < 0) {
			/* the torn line is cut by the next writer */
		}
		return ik_err_errno(e, w < 0 ? errno : ENOSPC, "index: append");
	}
	ix->off += b->len;
	ix->records += nrec;
	return 0;
}

static int cmp_base(const void *a, const void *b)
{
	const struct mail_index_rec *const *x = a, *const *y = b;
	return strcmp((*x)->base, (*y)->base);
}

static bool base_ok(const char *base)
{
	return base[0] != '\0' && strchr(base, '\n') == NULL && strlen(base) < 1024;
}

/* A fresh index of what is on disk: new UIDVALIDITY, UIDs from 1. */
static int rebuild(struct mail_index *ix, const struct mail_index_seen *seen, size_t n, ik_err *e)
{
	uint32_t old = ix->uidvalidity;
	clear_recs(ix);
	time_t now = time(NULL);
	ix->uidvalidity = (uint32_t)now > old ? (uint32_t)now : old + 1;
	ix->uidnext = 1;
	ix->last_uid = 0;
	ix->highestmodseq = 1;
	ix->first_recent = 1;	/* new UIDs: each is recent again, once */
	for (size_t i = 0; i < n; i++) {
		if (!base_ok(seen[i].base) || !flags_ok(seen[i].flags))
			continue;
		if (grow(ix) < 0 || (ix->v[ix->n].base = strdup(seen[i].base)) == NULL)
			return ik_err_set(e, "index: out of memory");
		struct mail_index_rec *r = &ix->v[ix->n++];
		r->uid = ix->uidnext++;
		ix->last_uid = r->uid;
		r->modseq = 1;
		str_copy(r->flags, sizeof r->flags, seen[i].flags);
	}
	ix->rebuilt = true;
	return rewrite(ix, e);
}

/* mail_index_sync's work, with the file locked (fd) and read. */
static int sync_locked(struct mail_index *ix, int fd, bool damaged,
		       const struct mail_index_seen *seen, size_t n, ik_err *e)
{
	int rc = -1;
	struct sbuf b = SBUF_INIT(INDEX_MAX_BYTES);
	struct mail_index_rec **by = NULL;
	bool *present = NULL;
	if (damaged) {
		rc = rebuild(ix, seen, n, e);
		goto out;
	}
	/* Room for every message seen, so the array never moves while by[]
	 * points into it. */
	if (ix->cap < ix->n + n) {
		struct mail_index_rec *v = realloc(ix->v, (ix->n + n) * sizeof *v);
		if (v == NULL) {
			ik_err_set(e, "index: out of memory");
			goto out;
		}
		ix->v = v;
		ix->cap = ix->n + n;
	}
	present = calloc(ix->n + 1, sizeof *present);
	if (present == NULL) {
		ik_err_set(e, "index: out of memory");
		goto out;
	}
	size_t known = ix->n, nrec = 0, next = 0;
	for (size_t i = 0; i < n; i++) {
		if (!base_ok(seen[i].base) || !flags_ok(seen[i].flags))
			continue;
		/* The listing (delivery order) and the records (UID order,
		 * given in delivery order) mostly agree: each is then found
		 * at the next record, one comparison. At the first that is
		 * not (a new message, one gone, the same name twice), the
		 * records are sorted by name for the rest. */
		struct mail_index_rec *found = NULL;
		if (by == NULL && next < known && strcmp(ix->v[next].base, seen[i].base) == 0) {
			found = &ix->v[next++];
		} else {
			if (by == NULL) {
				if ((by = malloc((known + 1) * sizeof *by)) == NULL) {
					ik_err_set(e, "index: out of memory");
					goto out;
				}
				for (size_t k = 0; k < known; k++)
					by[k] = &ix->v[k];
				qsort(by, known, sizeof *by, cmp_base);
			}
			struct mail_index_rec key = {.base = (char *)seen[i].base}, *kp = &key;
			struct mail_index_rec **hit = bsearch(&kp, by, known, sizeof *by, cmp_base);
			found = hit != NULL ? *hit : NULL;
		}
		if (found != NULL) {
			size_t at = (size_t)(found - ix->v);
			if (present[at])
				continue;	/* the same base twice (new/ and cur/) */
			present[at] = true;
			if (strcmp(found->flags, seen[i].flags) != 0) {
				struct mail_index_rec *r = found;
				r->modseq = ++ix->highestmodseq;
				str_copy(r->flags, sizeof r->flags, seen[i].flags);
				if (sbuf_printf(&b, "= %" PRIu32 " %" PRIu64 " %s\n", r->uid, r->modseq,
						r->flags[0] ? r->flags : "-") < 0)
					goto toobig;
				nrec++;
			}
			continue;
		}
		if (ix->uidnext == UINT32_MAX) {
			/* UIDs ran out: only a new UIDVALIDITY helps. */
			rc = rebuild(ix, seen, n, e);
			goto out;
		}
		if ((ix->v[ix->n].base = strdup(seen[i].base)) == NULL) {
			ik_err_set(e, "index: out of memory");
			goto out;
		}
		struct mail_index_rec *r = &ix->v[ix->n++];
		r->uid = ix->uidnext++;
		ix->last_uid = r->uid;
		r->modseq = ++ix->highestmodseq;
		str_copy(r->flags, sizeof r->flags, seen[i].flags);
		if (add_rec_line(&b, r) < 0)
			goto toobig;
		nrec++;
	}
	for (size_t i = 0; i < known; i++) {
		if (present[i])
			continue;
		struct mail_index_rec *r = &ix->v[i];
		if (sbuf_printf(&b, "- %" PRIu32 " %" PRIu64 "\n", r->uid, ++ix->highestmodseq) < 0)
			goto toobig;
		gone_add(ix, r->uid, ix->highestmodseq);
		nrec++;
		r->uid = 0;
	}
	squeeze(ix);
	if (append(ix, fd, &b, nrec, e) < 0)
		goto out;
	rc = ix->records > 2 * ix->n + 256 ? rewrite(ix, e) : 0;
	goto out;
toobig:
	ik_err_set(e, "index: too large");
out:
	free(by);
	free(present);
	sbuf_free(&b);
	return rc;
}

int mail_index_sync(struct mail_index *ix, const struct mail_index_seen *seen, size_t n,
		    ik_err *e)
{
	bool damaged;
	ix->rebuilt = false;
	int fd = lock_and_read(ix, &damaged, e);
	if (fd < 0)
		return -1;
	int rc = sync_locked(ix, fd, damaged, seen, n, e);
	close(fd);	/* releases the lock */
	return rc;
}

int mail_index_sync_scan(struct mail_index *ix, mail_index_scan_fn scan, void *arg, ik_err *e)
{
	bool damaged;
	ix->rebuilt = false;
	int fd = lock_and_read(ix, &damaged, e);
	if (fd < 0)
		return -1;
	const struct mail_index_seen *seen = NULL;
	size_t n = 0;
	int rc = scan(arg, ix, &seen, &n, e);
	if (rc == 0)
		rc = sync_locked(ix, fd, damaged, seen, n, e);
	close(fd);	/* releases the lock */
	return rc;
}

int mail_index_set_flags(struct mail_index *ix, uint32_t uid, const char *flags,
			 uint64_t *modseq, ik_err *e)
{
	if (!flags_ok(flags))
		return ik_err_set(e, "index: bad flags");
	bool damaged;
	int fd = lock_and_read(ix, &damaged, e);
	if (fd < 0)
		return -1;
	struct mail_index_rec *r = damaged ? NULL : mail_index_find(ix, uid);
	if (r == NULL) {
		close(fd);
		return ik_err_set(e, "index: UID %" PRIu32 " is gone", uid);
	}
	int rc = 0;
	if (strcmp(r->flags, flags) != 0) {
		struct sbuf b = SBUF_INIT(256);
		r->modseq = ++ix->highestmodseq;
		str_copy(r->flags, sizeof r->flags, flags);
		rc = sbuf_printf(&b, "= %" PRIu32 " %" PRIu64 " %s\n", uid, r->modseq,
				 flags[0] ? flags : "-");
		if (rc == 0)
			rc = append(ix, fd, &b, 1, e);
		sbuf_free(&b);
	}
	*modseq = r->modseq;
	close(fd);
	return rc;
}

int mail_index_claim_recent(struct mail_index *ix, uint32_t upto, uint32_t *from, ik_err *e)
{
	*from = upto;
	bool damaged;
	int fd = lock_and_read(ix, &damaged, e);
	if (fd < 0)
		return -1;
	int rc = 0;
	/* A damaged index is rebuilt by the next sync, with new UIDs that
	 * are all recent again: nothing to take from this one. */
	if (!damaged && ix->first_recent < upto) {
		struct sbuf b = SBUF_INIT(64);
		rc = sbuf_printf(&b, "r %" PRIu32 "\n", upto);
		if (rc == 0)
			rc = append(ix, fd, &b, 1, e);
		else
			ik_err_set(e, "index: out of memory");
		sbuf_free(&b);
		if (rc == 0) {
			*from = ix->first_recent;
			ix->first_recent = upto;
		}
	}
	close(fd);
	return rc;
}
