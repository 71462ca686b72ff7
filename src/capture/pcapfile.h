/*
 * pcapfile.h - internal to src/capture: the records of a plain pcap file
 * read from a buffer of the reader's own (pcapfile.c), libpcap reading
 * every record that is not plain.
 */
#ifndef SC_CAPTURE_PCAPFILE_H
#define SC_CAPTURE_PCAPFILE_H

#include <pcap/pcap.h>
#include <stdio.h>

typedef struct sc_pcapfile sc_pcapfile;

/* Takes over the reading of pcap, which libpcap opened on fp (a regular
 * file read from its start, the file header just read), when the file
 * is a plain pcap file (version 2.4, micro- or nanosecond magic, either
 * byte order) of a link type whose records libpcap hands over as stored;
 * NULL otherwise (or without memory): libpcap reads it as before. */
sc_pcapfile *sc_pcapfile_new(pcap_t *pcap, FILE *fp);
/* As pcap_next_ex() on a file: 1 with *hdr and *data (valid until the
 * next call), PCAP_ERROR_BREAK at the end, another negative value on an
 * error (pcap_geterr() says which). */
int sc_pcapfile_next(sc_pcapfile *pf, struct pcap_pkthdr **hdr, const u_char **data);
/* The file offset of the next record. */
off_t sc_pcapfile_offset(const sc_pcapfile *pf);
void sc_pcapfile_free(sc_pcapfile *pf);

#endif
