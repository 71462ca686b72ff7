/*
 * ring.h - a one-writer, one-reader ring of messages in memory shared by
 * two processes (-j: the process reading the capture hands each worker
 * its packets through one).
 *
 * (Defined by src/app/ring.c.)
 *
 * Made before fork(); the writer is one process, the reader the other.
 * Messages are written in place and become visible to the reader in
 * batches (sc_ring_publish); the reader sees them in place and gives
 * their space back in batches (sc_ring_release), so a message stays valid
 * until released. The writer never blocks here: when a message does not
 * fit it is told so and decides how to wait (workers.c waits for the
 * reader's output, which it writes after each release).
 */
#ifndef SC_APP_RING_H
#define SC_APP_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_ring sc_ring;

/* A ring of about cap bytes (rounded up to a power of two), or NULL. */
sc_ring *sc_ring_new(size_t cap);
void sc_ring_free(sc_ring *r);

/* Writer. Room for a message of len bytes, to be filled and then
 * committed; NULL when it does not fit now with keep bytes left over
 * (a message larger than the ring never fits). */
void *sc_ring_reserve(sc_ring *r, size_t len, size_t keep);
void sc_ring_commit(sc_ring *r);
/* Makes the committed messages visible and wakes the reader if it sleeps.
 * Returns the bytes it made visible. */
size_t sc_ring_publish(sc_ring *r);
/* Bytes committed and not yet published. */
size_t sc_ring_unpublished(const sc_ring *r);

/* Reader. The next published message and its length, or NULL when there
 * is none yet (sc_ring_wait sleeps until there is). */
const void *sc_ring_next(sc_ring *r, size_t *len);
void sc_ring_wait(sc_ring *r);
/* Gives back the space of every message returned so far. */
void sc_ring_release(sc_ring *r);

#endif
