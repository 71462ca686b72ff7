/*
 * framemap.h - a session's frames in two numberings (framemap.c): the
 * number in the capture file and the number in the session's evidence
 * pcapng, which holds only that session's packets and counts from 1.
 *
 * The cut (pcapcut.h, target->framemap) appends the original frame of
 * each packet it writes to the map (a few entries in memory, then a
 * temporary file all maps share, unlinked at once), so memory stays
 * constant whatever the session's size; a lookup reads the file from
 * where the last one stopped (transcript lines come in frame order, so a
 * whole report reads the map about once).
 *
 * Interface:
 *   sc_framemap_new     an empty map (NULL: out of memory).
 *   sc_framemap_add     appends the original frame of the next evidence
 *                       frame: 0, or -1 (the map is incomplete).
 *   sc_framemap_lookup  the evidence frame number of an original frame, 0
 *                       when the frame is not in the evidence file.
 *   sc_framemap_name    "#22 (3)": both numbers, for the .txt and HTML.
 *   sc_framemap_expand  copies a text whose frame columns are marked
 *                       (textblock.h, frame_marks) with both numbers.
 */
#ifndef SC_FRAMEMAP_H
#define SC_FRAMEMAP_H

#include <stdint.h>
#include <stdio.h>

typedef struct sc_framemap sc_framemap;

sc_framemap *sc_framemap_new(void);
int sc_framemap_add(sc_framemap *m, uint64_t frame);
uint64_t sc_framemap_lookup(sc_framemap *m, uint64_t frame);
/* map may be NULL (no evidence file: the original number alone). */
const char *sc_framemap_name(sc_framemap *m, uint64_t frame, char *buf, size_t len);
/* Returns 0, or -1 when in could not be read. */
int sc_framemap_expand(sc_framemap *m, FILE *in, FILE *out);
void sc_framemap_free(sc_framemap *m);

#endif
