/*
 * ring.c - a one-writer, one-reader message ring shared by two processes
 * (ring.h).
 *
 * Interface: ring.h.
 *
 * The ring is an anonymous shared mapping: a header with the two
 * positions, then the data. Positions count bytes from the start and never
 * wrap (64 bits); a position's place in the data is modulo the size, a
 * power of two. Each message is an 8-byte header (its length) and its
 * bytes, padded to 8; one that would run past the end of the data starts
 * at the beginning instead, after a header that says "wrap".
 *
 * head (bytes published) is written by the writer only, tail (bytes
 * released) by the reader only, so neither needs a lock: the writer reads
 * tail to know the free space, the reader reads head to know what it may
 * read. A reader with nothing to read sleeps on a futex; the writer wakes
 * it when it publishes and only then (a flag says the reader sleeps: one
 * system call per batch at most, none while the reader keeps up). The
 * flag and head are written and read in sequential consistency on both
 * sides, so a publication is never missed (either the reader sees the new
 * head, or the writer sees the flag).
 *
 * Diagnostics: none; sc_ring_new returns NULL when the mapping fails.
 */
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ring.h"

#define RING_HDR   8u
#define RING_WRAP  UINT32_MAX
#define RING_LINE  64            /* head and tail on their own cache lines */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free to be shared");

typedef struct ring_shared {
    _Atomic uint64_t head;
    uint8_t          pad1[RING_LINE - sizeof(uint64_t)];
    _Atomic uint64_t tail;
    uint8_t          pad2[RING_LINE - sizeof(uint64_t)];
    _Atomic uint32_t bell;       /* the futex word */
    _Atomic uint32_t sleeping;   /* the reader waits on bell */
} ring_shared;

struct sc_ring {
    ring_shared *sh;
    uint8_t     *data;
    size_t       cap, maplen;
    /* the writer's */
    uint64_t     wpos, pend, published, tail_seen;
    /* the reader's */
    uint64_t     rpos, head_seen;
};

static size_t ring_align(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static long ring_futex(_Atomic uint32_t *word, int op, uint32_t val)
{
    return syscall(SYS_futex, (uint32_t *)word, op, val, NULL, NULL, 0);
}

sc_ring *sc_ring_new(size_t cap)
{
    sc_ring *r = calloc(1, sizeof *r);
    size_t c = 4096, hdr = 4096;
    void *m;

    if (!r)
        return NULL;
    while (c < cap)
        c *= 2;
    m = mmap(NULL, hdr + c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        free(r);
        return NULL;
    }
    r->sh = m;            /* zero-filled: positions 0, nobody asleep */
    r->data = (uint8_t *)m + hdr;
    r->cap = c;
    r->maplen = hdr + c;
    return r;
}

void sc_ring_free(sc_ring *r)
{
    if (!r)
        return;
    munmap(r->sh, r->maplen);
    free(r);
}

/* ---- the writer ---------------------------------------------------------- */

void *sc_ring_reserve(sc_ring *r, size_t len, size_t keep)
{
    size_t need = RING_HDR + ring_align(len);
    size_t off = (size_t)(r->wpos & (r->cap - 1));
    size_t waste = off + need > r->cap ? r->cap - off : 0;
    uint32_t l32 = (uint32_t)len;
    uint8_t *p;

    if (need > r->cap || len >= RING_WRAP)
        return NULL;
    if (r->wpos - r->tail_seen + waste + need + keep > r->cap) {
        r->tail_seen = atomic_load_explicit(&r->sh->tail, memory_order_acquire);
        if (r->wpos - r->tail_seen + waste + need + keep > r->cap)
            return NULL;
    }
    if (waste) {
        uint32_t w = RING_WRAP;
        memcpy(r->data + off, &w, sizeof w);
        r->wpos += waste;
    }
    p = r->data + (r->wpos & (r->cap - 1));
    memcpy(p, &l32, sizeof l32);
    r->pend = r->wpos + need;
    return p + RING_HDR;
}

void sc_ring_commit(sc_ring *r)
{
    if (r->pend)
        r->wpos = r->pend;
    r->pend = 0;
}

size_t sc_ring_publish(sc_ring *r)
{
    size_t n = (size_t)(r->wpos - r->published);

    if (!n)
        return 0;
    r->published = r->wpos;
    atomic_store(&r->sh->head, r->wpos);
    if (atomic_load(&r->sh->sleeping)) {
        atomic_fetch_add(&r->sh->bell, 1);
        ring_futex(&r->sh->bell, FUTEX_WAKE, 1);
    }
    return n;
}

size_t sc_ring_unpublished(const sc_ring *r)
{
    return (size_t)(r->wpos - r->published);
}

/* ---- the reader ---------------------------------------------------------- */

const void *sc_ring_next(sc_ring *r, size_t *len)
{
    for (;;) {
        uint32_t l32;
        const uint8_t *p;

        if (r->rpos == r->head_seen) {
            r->head_seen = atomic_load_explicit(&r->sh->head, memory_order_acquire);
            if (r->rpos == r->head_seen)
                return NULL;
        }
        p = r->data + (r->rpos & (r->cap - 1));
        memcpy(&l32, p, sizeof l32);
        if (l32 == RING_WRAP) {
            r->rpos += r->cap - (r->rpos & (r->cap - 1));
            continue;
        }
        *len = l32;
        r->rpos += RING_HDR + ring_align(l32);
        return p + RING_HDR;
    }
}

void sc_ring_wait(sc_ring *r)
{
    for (;;) {
        uint32_t bell = atomic_load(&r->sh->bell);

        atomic_store(&r->sh->sleeping, 1);
        if (atomic_load(&r->sh->head) != r->rpos)
            break;
        ring_futex(&r->sh->bell, FUTEX_WAIT, bell);   /* EINTR, EAGAIN: look again */
    }
    atomic_store(&r->sh->sleeping, 0);
}

void sc_ring_release(sc_ring *r)
{
    atomic_store_explicit(&r->sh->tail, r->rpos, memory_order_release);
}
