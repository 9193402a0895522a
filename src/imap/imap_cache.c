/* The per-folder cache of what GMime computes from a message: ENVELOPE,
 * BODYSTRUCTURE and BODY (RFC 3501 7.4.2), so that each is computed once
 * per message, never on every FETCH. Messages never change once
 * delivered (Maildir: only the name changes, for flags), so an entry
 * stays valid for the message's life; it is keyed by the Maildir base
 * name, as the index is.
 *
 * The file "inetkit-cache" in the Maildir is append-only; a record is
 * "BASE LEN1 LEN2 LEN3 [LEN4]\n" followed by the values' bytes (they may
 * hold CR LF, inside literals): ENVELOPE, BODYSTRUCTURE, BODY and the
 * message's header block; a "-" for a length means that value is not in
 * this record (SEARCH stores headers alone). Records of one message are
 * merged. A torn or unreadable tail is ignored, and the file can be
 * deleted at any time: it is rebuilt as messages are fetched and
 * searched. Entries of expunged messages stay until the file is deleted.
 *
 * One cache per folder per worker, shared by every session that selected
 * the folder (imap_folder.c). The header blocks serve SEARCH (HEADER,
 * SUBJECT, FROM, SENT*...) and header FETCHes: each message file is read
 * once for them, then never again, also after a restart. Headers SEARCH
 * reads are appended in batches (CACHE_FLUSH bytes, and when the cache is
 * freed), not one write per message. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/imap_int.h"
#include "lib/str.h"

#define CACHE_FILE "inetkit-cache"
#define CACHE_MAX_BYTES (256u << 20)
#define CACHE_FLUSH (256u << 10)
#define NVAL 4			/* ENVELOPE, BODYSTRUCTURE, BODY, header */

struct cache_ent {
	char *base;
	char *val[3];		/* ENVELOPE, BODYSTRUCTURE, BODY; NULL: not yet */
	char *hdr;		/* the header block (memory only), or NULL */
	size_t hdrlen;
};

struct imap_cache {
	int dirfd;		/* the Maildir (not owned) */
	struct sbuf pending;	/* records not yet appended to the file */
	struct cache_ent *v;
	size_t n, cap;
	/* Open addressing on the base name: slot = index into v + 1 (0:
	 * empty); at most half full. Every FETCH and SEARCH looks up here. */
	size_t *slot;
	size_t nslot;		/* a power of two */
	/* The entry found last: FETCH 1:* and SEARCH walk the messages in
	 * the order their entries were made, so the next one is usually
	 * the one after it (no hash, no probe into a cold slot array). */
	size_t last;
	/* Where imap_cache_get writes the three values before copying them:
	 * kept from one message to the next (no growing and freeing of
	 * three buffers per message computed). */
	struct sbuf scratch[3];
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static void slot_put(struct imap_cache *c, size_t idx)
{
	size_t m = c->nslot - 1, h = hash_str(c->v[idx].base) & m;
	while (c->slot[h] != 0)
		h = (h + 1) & m;
	c->slot[h] = idx + 1;
}

/* Room for one more entry in the table: -1 when out of memory. */
static int slot_grow(struct imap_cache *c)
{
	if ((c->n + 1) * 2 <= c->nslot)
		return 0;
	size_t ns = c->nslot ? c->nslot * 2 : 256;
	size_t *sl = calloc(ns, sizeof *sl);
	if (sl == NULL)
		return -1;
	free(c->slot);
	c->slot = sl;
	c->nslot = ns;
	for (size_t i = 0; i < c->n; i++)
		slot_put(c, i);
	return 0;
}

static void ent_free(struct cache_ent *e)
{
	free(e->base);
	for (int i = 0; i < 3; i++)
		free(e->val[i]);
	free(e->hdr);
}

/* Append the pending records: one write under the file's lock, so that
 * records of other processes never interleave with them. */
static void flush(struct imap_cache *c)
{
	if (c->pending.len == 0)
		return;
	int fd = openat(c->dirfd, CACHE_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX) == 0 &&
		    write(fd, c->pending.data, c->pending.len) != (ssize_t)c->pending.len) {
			/* a short append is a torn tail: ignored by readers */
		}
		close(fd);
	}
	sbuf_reset(&c->pending);
}

void imap_cache_flush(struct imap_cache *c)
{
	if (c != NULL)
		flush(c);
}

void imap_cache_free(struct imap_cache *c)
{
	if (c == NULL)
		return;
	flush(c);
	sbuf_free(&c->pending);
	for (int i = 0; i < 3; i++)
		sbuf_free(&c->scratch[i]);
	for (size_t i = 0; i < c->n; i++)
		ent_free(&c->v[i]);
	free(c->v);
	free(c->slot);
	free(c);
}

static int add(struct imap_cache *c, struct cache_ent *e)
{
	if (slot_grow(c) < 0)
		return -1;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct cache_ent *v = realloc(c->v, nc * sizeof *v);
		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = nc;
	}
	c->v[c->n] = *e;
	slot_put(c, c->n);
	c->n++;
	return 0;
}

static struct cache_ent *find(struct imap_cache *c, const char *base);
static struct cache_ent *find_or_add(struct imap_cache *c, const char *base);

/* One record's lengths: "L1 L2 L3" or "L1 L2 L3 L4", "-" for absent
 * (len[i] = -1). */
static bool parse_lens(char *q, int64_t len[NVAL])
{
	int i = 0;
	for (; i < NVAL && q != NULL; i++) {
		char *end = strchr(q, ' ');
		if (end != NULL)
			*end = '\0';
		uint64_t v;
		if (strcmp(q, "-") == 0)
			len[i] = -1;
		else if (str_to_u64(q, CACHE_MAX_BYTES, &v) == 0)
			len[i] = (int64_t)v;
		else
			return false;
		q = end != NULL ? end + 1 : NULL;
	}
	if (q != NULL || i < 3)
		return false;
	for (; i < NVAL; i++)
		len[i] = -1;
	return true;
}

struct imap_cache *imap_cache_load(int dirfd)
{
	struct imap_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->dirfd = dirfd;
	sbuf_init(&c->pending, CACHE_MAX_BYTES);
	for (int i = 0; i < 3; i++)
		sbuf_init(&c->scratch[i], CACHE_MAX_BYTES);
	int fd = openat(dirfd, CACHE_FILE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > CACHE_MAX_BYTES) {
		if (fd >= 0)
			close(fd);
		return c;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	ssize_t got = buf != NULL ? pread(fd, buf, len, 0) : -1;
	close(fd);
	if (got < 0) {
		free(buf);
		return c;
	}
	buf[got] = '\0';
	size_t pos = 0;
	while (pos < (size_t)got) {
		char *nl = memchr(buf + pos, '\n', (size_t)got - pos);
		if (nl == NULL)
			break;
		*nl = '\0';
		char *p = buf + pos, *sp = strchr(p, ' ');
		int64_t l[NVAL];
		if (sp == NULL)
			break;
		*sp = '\0';
		size_t body = (size_t)(nl - buf) + 1;
		uint64_t total = 0;
		bool ok = parse_lens(sp + 1, l);
		for (int i = 0; i < NVAL && ok; i++)
			total += l[i] > 0 ? (uint64_t)l[i] : 0;
		if (!ok || total > (uint64_t)got - body)
			break;
		struct cache_ent *e = find_or_add(c, p);
		if (e == NULL)
			break;
		size_t off = body;
		for (int i = 0; i < NVAL; i++) {
			if (l[i] < 0)
				continue;
			char **slot = i < 3 ? &e->val[i] : &e->hdr;
			if (*slot == NULL && (*slot = strndup(buf + off, (size_t)l[i])) != NULL &&
			    i == 3)
				e->hdrlen = (size_t)l[i];
			off += (size_t)l[i];
		}
		/* An entry has its three values or none. */
		if (e->val[0] == NULL || e->val[1] == NULL || e->val[2] == NULL)
			for (int i = 0; i < 3; i++) {
				free(e->val[i]);
				e->val[i] = NULL;
			}
		pos = off;
	}
	free(buf);
	return c;
}

static struct cache_ent *find(struct imap_cache *c, const char *base)
{
	if (c->nslot == 0)
		return NULL;
	size_t next = c->last + 1;
	if (next < c->n && strcmp(c->v[next].base, base) == 0) {
		c->last = next;
		return &c->v[next];
	}
	size_t m = c->nslot - 1, h = hash_str(base) & m;
	for (; c->slot[h] != 0; h = (h + 1) & m)
		if (strcmp(c->v[c->slot[h] - 1].base, base) == 0) {
			c->last = c->slot[h] - 1;
			return &c->v[c->last];
		}
	return NULL;
}

/* The entry of base, made (empty) when missing; NULL: out of memory. */
static struct cache_ent *find_or_add(struct imap_cache *c, const char *base)
{
	struct cache_ent *hit = find(c, base);
	if (hit != NULL)
		return hit;
	struct cache_ent e = {strdup(base), {NULL, NULL, NULL}, NULL, 0};
	if (e.base == NULL || add(c, &e) < 0) {
		free(e.base);
		return NULL;
	}
	return &c->v[c->n - 1];
}

const char *imap_cache_header(struct imap_cache *c, const char *base, size_t *len)
{
	struct cache_ent *hit = find(c, base);
	if (hit == NULL || hit->hdr == NULL)
		return NULL;
	*len = hit->hdrlen;
	return hit->hdr;
}

static bool base_ok(const char *base)
{
	return strchr(base, ' ') == NULL && strchr(base, '\n') == NULL;
}

void imap_cache_set_header(struct imap_cache *c, const char *base, const char *hdr, size_t len)
{
	struct cache_ent *e = find_or_add(c, base);
	if (e == NULL || e->hdr != NULL)
		return;
	if ((e->hdr = malloc(len + 1)) == NULL)
		return;
	memcpy(e->hdr, hdr, len);
	e->hdr[len] = '\0';
	e->hdrlen = len;
	if (base_ok(base)) {
		size_t mark = c->pending.len;
		if (sbuf_printf(&c->pending, "%s - - - %zu\n", base, len) < 0 ||
		    sbuf_add(&c->pending, hdr, len) < 0)
			sbuf_truncate(&c->pending, mark);
		if (c->pending.len >= CACHE_FLUSH)
			flush(c);
	}
}

/* The end of msg's header (after its blank line), or len. */
static size_t header_len(const char *msg, size_t len)
{
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	const char *blank = memmem(msg, len, "\r\n\r\n", 4);
	return blank != NULL ? (size_t)(blank - msg) + 4 : len;
}

/* The three values of a message, from the cache or computed (msg, len:
 * the message in CRLF form) and then cached. NULL: not cached and no
 * message given. */
const char *const *imap_cache_get(struct imap_cache *c, int dirfd, const char *base,
				  const char *msg, size_t len)
{
	(void)dirfd;	/* the cache's own (c->dirfd) */
	struct cache_ent *hit = find(c, base);
	if (hit != NULL && hit->val[0] != NULL)
		return (const char *const *)hit->val;
	if (msg == NULL)
		return NULL;
	struct sbuf *b = c->scratch;
	for (int i = 0; i < 3; i++)
		sbuf_reset(&b[i]);
	imap_mime_all(msg, len, &b[0], &b[1], &b[2]);
	char *val[3];
	for (int i = 0; i < 3; i++)
		val[i] = strdup(sbuf_cstr(&b[i]));
	bool ok = val[0] != NULL && val[1] != NULL && val[2] != NULL;
	size_t hl = header_len(msg, len);
	if (ok && base_ok(base)) {
		size_t mark = c->pending.len;
		struct sbuf *r = &c->pending;
		if (sbuf_printf(r, "%s %zu %zu %zu %zu\n", base, b[0].len, b[1].len, b[2].len, hl) < 0 ||
		    sbuf_add(r, sbuf_cstr(&b[0]), b[0].len) < 0 ||
		    sbuf_add(r, sbuf_cstr(&b[1]), b[1].len) < 0 ||
		    sbuf_add(r, sbuf_cstr(&b[2]), b[2].len) < 0 || sbuf_add(r, msg, hl) < 0)
			sbuf_truncate(r, mark);
		/* What a FETCH computed is in the file when its reply goes
		 * out (other workers and processes read it from there): the
		 * FETCH loop calls imap_cache_flush before it sends a batch
		 * of replies, so a FETCH 1:* appends once per batch, not
		 * once per message (an open, a lock, a write and a close). */
		if (c->pending.len >= CACHE_FLUSH)
			flush(c);
	}
	for (int i = 0; i < 3; i++)
		if (b[i].cap > (64u << 10))	/* an odd message's: not kept */
			sbuf_free(&b[i]);
	struct cache_ent *e = ok ? find_or_add(c, base) : NULL;
	if (e == NULL) {
		for (int i = 0; i < 3; i++)
			free(val[i]);
		return NULL;
	}
	for (int i = 0; i < 3; i++)
		e->val[i] = val[i];
	/* The message is at hand: SEARCH need not read it again (the
	 * record above holds it for the file). */
	if (e->hdr == NULL && (e->hdr = malloc(hl + 1)) != NULL) {
		memcpy(e->hdr, msg, hl);
		e->hdr[hl] = '\0';
		e->hdrlen = hl;
	}
	return (const char *const *)find(c, base)->val;
}
