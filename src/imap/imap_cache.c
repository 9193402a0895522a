/* The per-folder cache of what GMime computes from a message: ENVELOPE,
 * BODYSTRUCTURE and BODY (RFC 3501 7.4.2), so that each is computed once
 * per message, never on every FETCH. Messages never change once
 * delivered (Maildir: only the name changes, for flags), so an entry
 * stays valid for the message's life; it is keyed by the Maildir base
 * name, as the index is.
 *
 * The file "inetkit-cache" in the Maildir is append-only; a record is
 * "BASE LEN1 LEN2 LEN3\n" followed by the three values' bytes (they may
 * hold CR LF, inside literals). A torn or unreadable tail is ignored, and
 * the file can be deleted at any time: it is rebuilt as messages are
 * fetched. Entries of expunged messages stay until the file is deleted.
 *
 * One cache per folder per worker, shared by every session that selected
 * the folder (imap_folder.c). It also keeps, in memory only, each
 * message's header block for SEARCH (HEADER, SUBJECT, FROM, SENT*...):
 * read once per message, never again per SEARCH. */
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

struct cache_ent {
	char *base;
	char *val[3];		/* ENVELOPE, BODYSTRUCTURE, BODY; NULL: not yet */
	char *hdr;		/* the header block (memory only), or NULL */
	size_t hdrlen;
};

struct imap_cache {
	struct cache_ent *v;
	size_t n, cap;
	/* Open addressing on the base name: slot = index into v + 1 (0:
	 * empty); at most half full. Every FETCH and SEARCH looks up here. */
	size_t *slot;
	size_t nslot;		/* a power of two */
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

void imap_cache_free(struct imap_cache *c)
{
	if (c == NULL)
		return;
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

struct imap_cache *imap_cache_load(int dirfd)
{
	struct imap_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
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
		uint64_t l[3];
		if (sp == NULL)
			break;
		*sp = '\0';
		char *q = sp + 1;
		bool ok = true;
		for (int i = 0; i < 3 && ok; i++) {
			char *end = strchr(q, ' ');
			if (end != NULL)
				*end = '\0';
			ok = str_to_u64(q, CACHE_MAX_BYTES, &l[i]) == 0 && (i == 2) == (end == NULL);
			q = end != NULL ? end + 1 : q;
		}
		size_t body = (size_t)(nl - buf) + 1;
		if (!ok || l[0] + l[1] + l[2] > (uint64_t)got - body)
			break;
		struct cache_ent e = {strdup(p), {NULL, NULL, NULL}, NULL, 0};
		size_t off = body;
		for (int i = 0; i < 3; i++) {
			e.val[i] = strndup(buf + off, (size_t)l[i]);
			off += (size_t)l[i];
		}
		if (e.base == NULL || e.val[0] == NULL || e.val[1] == NULL || e.val[2] == NULL ||
		    add(c, &e) < 0) {
			ent_free(&e);
			break;
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
	size_t m = c->nslot - 1, h = hash_str(base) & m;
	for (; c->slot[h] != 0; h = (h + 1) & m)
		if (strcmp(c->v[c->slot[h] - 1].base, base) == 0)
			return &c->v[c->slot[h] - 1];
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
	struct cache_ent *hit = find(c, base);
	if (hit != NULL && hit->val[0] != NULL)
		return (const char *const *)hit->val;
	if (msg == NULL)
		return NULL;
	struct sbuf b[3] = {SBUF_INIT(CACHE_MAX_BYTES), SBUF_INIT(CACHE_MAX_BYTES),
			    SBUF_INIT(CACHE_MAX_BYTES)};
	imap_mime_all(msg, len, &b[0], &b[1], &b[2]);
	char *val[3];
	for (int i = 0; i < 3; i++)
		val[i] = strdup(sbuf_cstr(&b[i]));
	bool ok = val[0] != NULL && val[1] != NULL && val[2] != NULL;
	if (ok) {
		/* One append under the file's lock: records never interleave. */
		struct sbuf rec = SBUF_INIT(CACHE_MAX_BYTES);
		sbuf_printf(&rec, "%s %zu %zu %zu\n", base, b[0].len, b[1].len, b[2].len);
		for (int i = 0; i < 3; i++)
			sbuf_add(&rec, sbuf_cstr(&b[i]), b[i].len);
		int fd = strchr(base, ' ') == NULL && strchr(base, '\n') == NULL
			 ? openat(dirfd, CACHE_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)
			 : -1;
		if (fd >= 0) {
			if (flock(fd, LOCK_EX) == 0 &&
			    write(fd, rec.data, rec.len) != (ssize_t)rec.len) {
				/* a short append is a torn tail: ignored by readers */
			}
			close(fd);
		}
		sbuf_free(&rec);
	}
	for (int i = 0; i < 3; i++)
		sbuf_free(&b[i]);
	struct cache_ent *e = ok ? find_or_add(c, base) : NULL;
	if (e == NULL) {
		for (int i = 0; i < 3; i++)
			free(val[i]);
		return NULL;
	}
	for (int i = 0; i < 3; i++)
		e->val[i] = val[i];
	/* The message is at hand: SEARCH need not read it again. */
	if (e->hdr == NULL)
		imap_cache_set_header(c, base, msg, header_len(msg, len));
	return (const char *const *)find(c, base)->val;
}
