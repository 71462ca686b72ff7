/*
 * reader.h - internal to src/capture: one libpcap source (reader.c). The
 * functions are those of src/capture/capture.h for one source; merge.c builds
 * the capture of a run from them.
 */
#ifndef SC_CAPTURE_READER_H
#define SC_CAPTURE_READER_H

#include "capture.h"

typedef struct sc_reader sc_reader;

/* A capture file; split >= 0: only the interfaces of that link type of a
 * pcapng whose interfaces have several (ifsplit.h), numbered as in the
 * whole file; -1: the whole file. */
sc_reader *sc_reader_open_file(const char *path, const char *bpf, int split,
                               char *err, size_t errlen);
sc_reader *sc_reader_open_live(const char *iface, const char *bpf, unsigned buffer_kib,
                               char *err, size_t errlen);
int  sc_reader_next(sc_reader *rd, sc_packet *pkt);
const char *sc_reader_error(const sc_reader *rd);
const char *sc_reader_name(const sc_reader *rd);
int  sc_reader_linktype(const sc_reader *rd);
int  sc_reader_snaplen(const sc_reader *rd);
void sc_reader_progress(const sc_reader *rd, uint64_t *done, uint64_t *total);
int  sc_reader_stats(sc_reader *rd, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);
void sc_reader_break(sc_reader *rd);
void *sc_reader_pcap(sc_reader *rd);
bool sc_reader_rereadable(const sc_reader *rd);
bool sc_reader_same_file(const sc_reader *a, const sc_reader *b);
void sc_reader_close(sc_reader *rd);

/* A regular file was opened by name, st its descriptor's fstat (ident.c). */
struct stat;
void sc_capture_ident_seen(const char *path, const struct stat *st);

#endif
