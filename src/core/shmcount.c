/* Connection counters in shared memory; see core/shmcount.h. RFC 2577
 * section 5 (per-address connection limits). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netinet/in.h>

#include "core/shmcount.h"

enum { SLOT_EMPTY = 0, SLOT_USED, SLOT_TOMB };

struct slot {
	uint8_t key[16];
	uint32_t state;
	uint32_t count;		/* sum of the columns */
};

/* The shared part. After it: owner[cols], slot[slots], count[cols][slots]
 * (column-major, so that clearing a column touches few pages). */
struct shm_hdr {
	pthread_mutex_t mu;
	size_t slots, cols;
	unsigned long long total;
};

struct shmcount {
	struct shm_hdr *h;	/* the mapping */
	size_t len;
	pid_t *owner;
	struct slot *slot;
	uint32_t *count;
	/* Per process (each worker has its copy after fork). */
	pid_t pid;		/* whose column col is; 0: none yet */
	size_t col;
};

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

struct shmcount *shmcount_new(size_t slots, size_t cols, ik_err *e)
{
	if (slots == 0)
		slots = 1;
	if (cols == 0)
		cols = 1;
	size_t off_owner = align16(sizeof(struct shm_hdr));
	size_t off_slot = align16(off_owner + cols * sizeof(pid_t));
	size_t off_count = align16(off_slot + slots * sizeof(struct slot));
	size_t len = off_count + cols * slots * sizeof(uint32_t);
	struct shmcount *sc = calloc(1, sizeof *sc);
	if (sc == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		ik_err_set(e, "cannot map %zu bytes of shared memory for the connection counters: "
			   "%s", len, strerror(errno));
		free(sc);
		return NULL;
	}
	sc->h = p;
	sc->len = len;
	sc->owner = (pid_t *)((char *)p + off_owner);
	sc->slot = (struct slot *)((char *)p + off_slot);
	sc->count = (uint32_t *)((char *)p + off_count);
	sc->h->slots = slots;
	sc->h->cols = cols;
	pthread_mutexattr_t a;
	int rc = pthread_mutexattr_init(&a);
	if (rc == 0) {
		rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		if (rc == 0)
			rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		if (rc == 0)
			rc = pthread_mutex_init(&sc->h->mu, &a);
		pthread_mutexattr_destroy(&a);
	}
	if (rc != 0) {
		ik_err_set(e, "cannot make a process-shared mutex: %s", strerror(rc));
		munmap(p, len);
		free(sc);
		return NULL;
	}
	return sc;
}

void shmcount_free(struct shmcount *sc)
{
	if (sc == NULL)
		return;
	munmap(sc->h, sc->len);
	free(sc);
}

static void lock(struct shmcount *sc)
{
	/* Its owner died inside: the table is at most one operation behind,
	 * and that process's column is cleared when a successor claims one. */
	if (pthread_mutex_lock(&sc->h->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&sc->h->mu);
}

static void unlock(struct shmcount *sc) { pthread_mutex_unlock(&sc->h->mu); }

static uint32_t *cell(struct shmcount *sc, size_t col, size_t slot)
{
	return &sc->count[col * sc->h->slots + slot];
}

void shmcount_key(const struct sockaddr *sa, unsigned char key[SHMCOUNT_KEY_LEN])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	}
}

static size_t hash_key(const uint8_t key[16])
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (int i = 0; i < 16; i++) {
		h ^= key[i];
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* The slot holding key, or SIZE_MAX; *free_slot gets the first reusable
 * one on the probe path (SIZE_MAX if none). */
static size_t find(struct shmcount *sc, const uint8_t key[16], size_t *free_slot)
{
	size_t n = sc->h->slots, i = hash_key(key) % n;
	*free_slot = SIZE_MAX;
	for (size_t k = 0; k < n; k++, i = (i + 1) % n) {
		struct slot *s = &sc->slot[i];
		if (s->state == SLOT_EMPTY) {
			if (*free_slot == SIZE_MAX)
				*free_slot = i;
			return SIZE_MAX;
		}
		if (s->state == SLOT_TOMB) {
			if (*free_slot == SIZE_MAX)
				*free_slot = i;
		} else if (memcmp(s->key, key, 16) == 0) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void drop(struct shmcount *sc, size_t col, size_t i, uint32_t n)
{
	*cell(sc, col, i) -= n;
	sc->slot[i].count -= n;
	sc->h->total -= n;
	if (sc->slot[i].count == 0)
		sc->slot[i].state = SLOT_TOMB;
	/* An empty table loses its tombstones, which keeps probes short. */
	if (sc->h->total == 0)
		for (size_t k = 0; k < sc->h->slots; k++)
			sc->slot[k].state = SLOT_EMPTY;
}

static void clear_column(struct shmcount *sc, size_t col)
{
	for (size_t i = 0; i < sc->h->slots; i++) {
		uint32_t n = *cell(sc, col, i);
		if (n > 0)
			drop(sc, col, i, n);
	}
	sc->owner[col] = 0;
}

static bool gone(pid_t pid) { return kill(pid, 0) < 0 && errno == ESRCH; }

/* Under the lock: this process's column, claimed on first use. */
static bool attach(struct shmcount *sc)
{
	pid_t me = getpid();
	if (sc->pid == me)
		return true;
	size_t freecol = SIZE_MAX;
	for (size_t c = 0; c < sc->h->cols; c++) {
		pid_t o = sc->owner[c];
		if (o != 0 && (o == me || gone(o)))
			clear_column(sc, c);
		if (sc->owner[c] == 0 && freecol == SIZE_MAX)
			freecol = c;
	}
	if (freecol == SIZE_MAX)
		return false;
	sc->owner[freecol] = me;
	sc->col = freecol;
	sc->pid = me;
	return true;
}

int shmcount_attach(struct shmcount *sc, ik_err *e)
{
	lock(sc);
	bool ok = attach(sc);
	unlock(sc);
	if (!ok)
		ik_err_set(e, "all %zu columns of the shared connection counters are taken by "
			   "live processes; run fewer workers", sc->h->cols);
	return ok ? 0 : -1;
}

enum shmcount_result shmcount_acquire(struct shmcount *sc, const struct sockaddr *addr,
				      unsigned long long max_total,
				      unsigned long long max_per_ip)
{
	uint8_t key[16];
	shmcount_key(addr, key);
	enum shmcount_result r = SHMCOUNT_OK;
	lock(sc);
	if (!attach(sc)) {
		r = SHMCOUNT_TABLE_FULL;
		goto out;
	}
	if (max_total > 0 && sc->h->total >= max_total) {
		r = SHMCOUNT_TOTAL;
		goto out;
	}
	size_t fr, i = find(sc, key, &fr);
	if (i != SIZE_MAX && max_per_ip > 0 && sc->slot[i].count >= max_per_ip) {
		r = SHMCOUNT_PER_IP;
		goto out;
	}
	if (i == SIZE_MAX) {
		if (fr == SIZE_MAX) {
			r = SHMCOUNT_TABLE_FULL;
			goto out;
		}
		i = fr;
		memcpy(sc->slot[i].key, key, 16);
		sc->slot[i].state = SLOT_USED;
		sc->slot[i].count = 0;
	}
	sc->slot[i].count++;
	(*cell(sc, sc->col, i))++;
	sc->h->total++;
out:
	unlock(sc);
	return r;
}

void shmcount_release(struct shmcount *sc, const struct sockaddr *addr)
{
	uint8_t key[16];
	shmcount_key(addr, key);
	shmcount_release_key(sc, key);
}

void shmcount_release_key(struct shmcount *sc, const unsigned char key[SHMCOUNT_KEY_LEN])
{
	lock(sc);
	size_t fr, i = find(sc, key, &fr);
	/* A column cleared by a process that took this pid holds nothing. */
	if (sc->pid == getpid() && sc->owner[sc->col] == sc->pid && i != SIZE_MAX &&
	    *cell(sc, sc->col, i) > 0)
		drop(sc, sc->col, i, 1);
	unlock(sc);
}

unsigned long long shmcount_total(struct shmcount *sc)
{
	lock(sc);
	unsigned long long n = sc->h->total;
	unlock(sc);
	return n;
}

unsigned long long shmcount_peer(struct shmcount *sc, const struct sockaddr *addr)
{
	uint8_t key[16];
	shmcount_key(addr, key);
	lock(sc);
	size_t fr, i = find(sc, key, &fr);
	unsigned long long n = i == SIZE_MAX ? 0 : sc->slot[i].count;
	unlock(sc);
	return n;
}
