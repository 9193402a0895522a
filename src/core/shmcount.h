/* Connection counters shared by the worker processes of one server, so
 * that a total limit and a per-address limit (RFC 2577 section 5: limit
 * connections per address against denial of service) hold for the whole
 * server and not for each worker.
 *
 * The table lives in anonymous shared memory (MAP_SHARED | MAP_ANONYMOUS)
 * made by shmcount_new() in the parent before it forks the workers; every
 * worker inherits the mapping. One process-shared, robust mutex guards it:
 * the operations are a few dozen loads and stores, far from a bottleneck
 * next to accept(), and a mutex lets a slot be freed when its count drops
 * to 0 without the races a lock-free open-addressing table would have.
 *
 * Layout: a total, an open-addressing hash table of per-address slots
 * (key: 16 bytes, IPv4 as v4-mapped IPv6; linear probing, tombstones for
 * freed slots), and for every slot one count per owner column.
 *
 * Crashed workers: a worker killed with SIGKILL cannot give back what it
 * held, so each process counts in its own column, claimed on its first
 * acquire and tagged with its pid. Whenever a process claims a column it
 * first clears every column whose owner no longer exists (kill(pid, 0)
 * fails with ESRCH) or carries its own pid (a dead worker's pid given to
 * its successor), subtracting those counts from the slots and the total.
 * A restarted worker therefore wipes its predecessor's counts when it
 * starts (shmcount_attach), before it accepts anything. The robust mutex (PTHREAD_MUTEX_ROBUST) keeps a worker
 * that dies holding the lock from blocking the others. Limit: a dead
 * worker's pid reused by an unrelated process keeps that column until
 * the process ends. */
#ifndef INETKIT_CORE_SHMCOUNT_H
#define INETKIT_CORE_SHMCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

#include "lib/error.h"

#define SHMCOUNT_SLOTS 4096
#define SHMCOUNT_COLS 257	/* WORKERS_MAX workers, and the in-process case */

enum shmcount_result {
	SHMCOUNT_OK = 0,
	SHMCOUNT_TOTAL,		/* max_total sessions already */
	SHMCOUNT_PER_IP,	/* max_per_ip from this address already */
	SHMCOUNT_TABLE_FULL,	/* no free slot (or column) for this address */
};

struct shmcount;

/* In the parent, before fork. slots and cols are rounded up to 1. Returns
 * NULL with e set. */
struct shmcount *shmcount_new(size_t slots, size_t cols, ik_err *e);
/* Unmaps; safe in every process that inherited it. NULL is ignored. */
void shmcount_free(struct shmcount *sc);

/* Claim this process's column now (else on the first acquire): a
 * restarted worker calls it at start, so that what its dead predecessor
 * held is cleared at once. Returns -1 with e set if every column is
 * taken by a live process. */
int shmcount_attach(struct shmcount *sc, ik_err *e);

/* Count one more connection from addr if both limits allow it.
 * max_per_ip 0 means no per-address limit; max_total 0 means no total
 * limit. Addresses other than AF_INET and AF_INET6 share one key. */
enum shmcount_result shmcount_acquire(struct shmcount *sc, const struct sockaddr *addr,
				      unsigned long long max_total,
				      unsigned long long max_per_ip);
/* Give back one connection of addr acquired by this process. */
void shmcount_release(struct shmcount *sc, const struct sockaddr *addr);

/* The 16-byte key an address is counted under: IPv6 as it is, IPv4 as
 * v4-mapped IPv6, anything else all zeros (one key for all). */
#define SHMCOUNT_KEY_LEN 16
void shmcount_key(const struct sockaddr *addr, unsigned char key[SHMCOUNT_KEY_LEN]);
/* Give back one connection counted under key (shmcount_key). */
void shmcount_release_key(struct shmcount *sc, const unsigned char key[SHMCOUNT_KEY_LEN]);

/* What the whole server holds: the total, or the count of one address. */
unsigned long long shmcount_total(struct shmcount *sc);
unsigned long long shmcount_peer(struct shmcount *sc, const struct sockaddr *addr);

#endif
