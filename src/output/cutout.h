/*
 * cutout.h - where pcapcut writes a session's packets (cutout.c): a pcap,
 * or a pcapng (pcapng.h) with the section header, the key log, the
 * original frame numbers and the comments on the frames findings rest on,
 * as the target asks (pcapcut.h).
 *
 * Interface: sc_cutout_packet opens the file at the first packet (so a
 * session none of whose packets is found leaves no file), writes the
 * packet and, with a frame map, appends the packet's original frame;
 * sc_cutout_suspend closes the file keeping what
 * the next packet needs to append to it (pcapcut keeps a bounded number
 * open); sc_cutout_is_open says whether it is open now; sc_cutout_close
 * flushes, closes and removes a file cut short.
 * Diagnostics: the first failure's errno in target->error; a failed file
 * is closed at once and takes no more packets.
 */
#ifndef SC_CUTOUT_H
#define SC_CUTOUT_H

#include <stdbool.h>

#include "capture/capture.h"
#include "pcapcut.h"

typedef struct sc_cutout sc_cutout;

/* Writes one packet (data: the frame bytes, masked or not) to *out,
 * making it first when *out is NULL; nano: the source's timestamps are
 * nanoseconds (pkt->ts_nsec), kept in the file (read at its creation). */
void sc_cutout_packet(sc_cutout **out, sc_cut_target *t, const sc_packet *pkt,
                      const uint8_t *data, bool nano);
bool sc_cutout_is_open(const sc_cutout *out);
void sc_cutout_suspend(sc_cutout *out, sc_cut_target *t);
void sc_cutout_close(sc_cutout *out, sc_cut_target *t);

#endif
