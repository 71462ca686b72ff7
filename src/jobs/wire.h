/*
 * wire.h - the records a -j worker writes to the parent: their
 * description and codec (src/jobs/wire.c).
 *
 * A record is [u32 length][u8 type][u64 key.drive][u64 key.sub] and the
 * fields of its parts. Which parts each type has, and the fields of each
 * part, are described once, in wire.c's tables; the writer and the reader
 * walk the same tables. The merge orders records by key (merge.c).
 */
#ifndef SC_JOBS_WIRE_H
#define SC_JOBS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/record.h"

enum {
    W_OPEN = 1,   /* a connection opened: id */
    W_CLOSE,      /* a connection closed: id */
    W_BEGIN,      /* session_begin: info */
    W_LINE,       /* line: id, line (the outputs read a line's session id alone) */
    W_FINDING,    /* finding: info, finding */
    W_END,        /* session_end: info */
    W_MARK,       /* the worker's later records have keys beyond drive: mark */
    W_EOS,        /* the worker's last record: eos */
    W_TYPES
};

#define W_HEAD    (4 + 1 + 8 + 8)     /* length, type, key */
#define W_REC_MAX (16u << 20)         /* no record is near this: a broken one */

/* What a worker says it read (mark: how far; eos: all of it). */
typedef struct wire_mark {
    uint64_t done, total;            /* sc_capture_progress */
} wire_mark;

typedef struct wire_eos {
    uint64_t packets, bytes, last_frame;
    uint64_t chain_dropped;          /* sc_reasm_unanalysed packets, by reason */
    uint64_t malformed_dropped;
    uint64_t failed;                 /* the reading ended on an error: err */
    uint64_t not_smtp;               /* --any-port: its flows that were not SMTP */
    sc_frag_counts frag;             /* IP fragments (every worker reads them all) */
    char     err[512];
} wire_eos;

/* One record: the parts its type has are meaningful. Pointers in a record
 * read point into the bytes read and into the reader's arena. */
typedef struct wire_rec {
    int             type;
    uint64_t        drive, sub;      /* the key */
    uint64_t        id;              /* the worker's connection id */
    sc_session_info info;
    sc_line         line;
    sc_finding      finding;
    wire_mark       mark;
    wire_eos        eos;
} wire_rec;

/* Writer: bytes grown as needed. */
typedef struct wire_buf {
    uint8_t *p;
    size_t   len, cap;
    bool     oom;
} wire_buf;

/* Encodes r into b (b's previous content replaced). False when out of
 * memory or the record would exceed W_REC_MAX. */
bool wire_put(wire_buf *b, const wire_rec *r);
void wire_buf_free(wire_buf *b);

/* Reader: the arrays of a record (extensions, transactions, recipients,
 * ranges) are placed in an arena that lives until the next record. */
typedef struct wire_arena wire_arena;
wire_arena *wire_arena_new(void);
void wire_arena_free(wire_arena *a);

/* The length of the record that starts at p (n bytes there): 0 when more
 * bytes are needed, -1 when it is broken, else the record's whole size. */
long wire_size(const uint8_t *p, size_t n);
/* Decodes the record at p (of wire_size bytes) into r. False when it is
 * broken (a field beyond its end, a value out of range, bytes left over). */
bool wire_get(const uint8_t *p, size_t len, wire_rec *r, wire_arena *a);
/* The type and key alone (for the merge, before the whole record). */
void wire_key(const uint8_t *p, wire_rec *r);

#endif
