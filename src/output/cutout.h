/*
 * cutout.h - where pcapcut writes a session's packets (cutout.c): a pcap
 * by libpcap's dumper, or a pcapng (pcapng.h) with the section header,
 * the key log, the original frame numbers and the comments on the frames
 * findings rest on, as the target asks (pcapcut.h).
 *
 * Interface: sc_cutout_packet opens the file at the first packet (so a
 * session none of whose packets is found leaves no file), writes the
 * packet and, with a frame map, appends the packet's original frame;
 * sc_cutout_close flushes, closes and removes a file cut short.
 * Diagnostics: the first failure's errno in target->error.
 */
#ifndef SC_CUTOUT_H
#define SC_CUTOUT_H

#include "capture/capture.h"
#include "pcapcut.h"

typedef struct sc_cutout sc_cutout;

/* Writes one packet (data: the frame bytes, masked or not) to *out,
 * opening it first when *out is NULL. */
void sc_cutout_packet(sc_cutout **out, sc_cut_target *t, const sc_packet *pkt,
                      const uint8_t *data);
void sc_cutout_close(sc_cutout *out, sc_cut_target *t);

#endif
