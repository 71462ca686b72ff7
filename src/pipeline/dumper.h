/*
 * dumper.h - the -w FILE writer, with tcpdump's rotation:
 * -C SIZE (millions of bytes per file) and -G SECONDS (a new file every
 * SECONDS, FILE read as a strftime(3) pattern).
 *
 * (Defined by src/pipeline/dumper.c.)
 */
#ifndef SC_DUMPER_H
#define SC_DUMPER_H

#include <pcap/pcap.h>
#include <stdint.h>

typedef struct sc_dumper sc_dumper;

/* Opens the first file, a pcap of link type linktype (DLT_*) and snap length
 * snaplen, at microsecond precision. max_bytes 0:
 * no size limit; rotate_secs 0: no time rotation. NULL with a one-line
 * reason naming the file in err. */
sc_dumper *sc_dumper_open(int linktype, int snaplen, const char *pattern, uint64_t max_bytes,
                          unsigned rotate_secs, char *err, size_t errlen);

/* Writes one frame, rotating first when the size or the time says so.
 * A file that cannot be opened on rotation ends the writing (reason on
 * stderr once); the analysis goes on. */
void sc_dumper_write(sc_dumper *d, const struct timeval *ts, uint32_t caplen,
                     uint32_t wirelen, const uint8_t *data);

/* Time rotation on the clock when no packet comes, and flushing. */
void sc_dumper_tick(sc_dumper *d, time_t now);

uint64_t sc_dumper_packets(sc_dumper *d);   /* flushed: in the files */
unsigned sc_dumper_files(const sc_dumper *d);
void sc_dumper_close(sc_dumper *d);

#endif
