/*
 * gzstream.h - a capture file's bytes, gunzipped when they are gzip
 * (internal to src/capture; see gzstream.c).
 */
#ifndef SC_CAPTURE_GZSTREAM_H
#define SC_CAPTURE_GZSTREAM_H

#include <stdint.h>
#include <sys/types.h>

typedef struct sc_gzstream sc_gzstream;

/* A stream over fd (owned from now on, closed by sc_gzstream_close, also
 * when this fails). NULL: out of memory. */
sc_gzstream *sc_gzstream_new(int fd);

/* Up to size decoded bytes: > 0 bytes, 0 at the clean end, -1 when the
 * input is damaged or unreadable (errno EIO, the reason in
 * sc_gzstream_error). What decodes before the damage is always returned
 * first: the error comes on the next call. */
ssize_t sc_gzstream_read(sc_gzstream *gs, void *buf, size_t size);

/* As sc_gzstream_read, but fills buf unless the input ends or fails:
 * the count read (< size at the end or at the damage), -1 when nothing
 * could be read because of damage. */
ssize_t sc_gzstream_read_full(sc_gzstream *gs, void *buf, size_t size);

/* "" while all is well, else why the input ended early. */
const char *sc_gzstream_error(const sc_gzstream *gs);

/* The input bytes consumed so far (compressed bytes for gzip). */
uint64_t sc_gzstream_offset(const sc_gzstream *gs);

/* 0, or EOF when the descriptor did not close. */
int sc_gzstream_close(sc_gzstream *gs);

#endif
