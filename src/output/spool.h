/*
 * spool.h - text held back on disk: chains of chunks in one temporary file.
 *
 * The text report prints sessions in order of start while they end in any
 * order, so finished blocks wait; a block is built while its session runs.
 * Each block is a chain: a small RAM buffer that spills into chunks of a
 * shared temporary file (sc_tmpfile(), in TMPDIR), so memory stays bounded by the number
 * of concurrent sessions whatever their size. When no chain holds a chunk
 * the file is truncated back to empty.
 *
 * Diagnostics: when the temporary file cannot be created or written, the
 * spool prints one warning on standard error and the chain keeps only what
 * its RAM buffer holds, followed by a note that text was lost.
 */
#ifndef SC_SPOOL_H
#define SC_SPOOL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SC_SPOOL_BUF 4096

typedef struct sc_spool sc_spool;

typedef struct sc_chain {
    uint64_t first, last;    /* file offsets + 1 of first/last chunk; 0 = none */
    uint64_t nchunks;
    uint64_t lost;           /* bytes that could not be spilled */
    char    *buf;            /* RAM part, allocated lazily, grown up to SC_SPOOL_BUF */
    size_t   len, cap;
    size_t   held;           /* parked in RAM: cap counted in the spool's budget */
} sc_chain;

sc_spool *sc_spool_new(void);
void sc_spool_free(sc_spool *sp);

void sc_chain_init(sc_chain *c);
/* Appends n bytes to the chain (sc_chain_write); the bytes that fit in the
 * RAM buffer are copied inline (most writes are a line of a block), the
 * rest goes through sc_chain_append, which grows or spills it. */
void sc_chain_append(sc_spool *sp, sc_chain *c, const char *p, size_t n);
static inline void sc_chain_write(sc_spool *sp, sc_chain *c, const char *p, size_t n)
{
    if (n < c->cap - c->len) {      /* room left after: nothing to spill */
        memcpy(c->buf + c->len, p, n);
        c->len += n;
        return;
    }
    sc_chain_append(sp, c, p, n);
}
/* Room for n more bytes in the RAM part at once (at most SC_SPOOL_BUF in
 * all), for a caller that knows about how much it is to write: one
 * allocation instead of a doubling from the first small one. */
void sc_chain_reserve(sc_chain *c, size_t n);
/* A block that must wait: keeps its RAM part while the spool's budget
 * for parked chains allows, else moves it to disk and frees it. */
void sc_chain_park(sc_spool *sp, sc_chain *c);
/* Copies the chain to out; returns 0 or -1 on a read error. */
int sc_chain_copy(sc_spool *sp, const sc_chain *c, FILE *out);
/* Releases the chain's chunks and buffer. */
void sc_chain_release(sc_spool *sp, sc_chain *c);

#endif
