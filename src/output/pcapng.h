/*
 * pcapng.h - a pcapng file writer for the evidence bundle (pcapng.c).
 *
 * The file a vendor opens in Wireshark: a Section Header Block naming the
 * tool and the source (shb_userappl, and one comment per sc_pcapng_note
 * of the section), optionally a Decryption Secrets Block holding a TLS
 * key log (so Wireshark decrypts without being given the key file), one
 * Interface Description Block per link type (made at the first packet of
 * that link type), then Enhanced Packet Blocks, each with the original
 * frame number as its packet id (epb_packetid, Wireshark's
 * frame.packet_id) and any number of comments (opt_comment: Wireshark's
 * frame.comment and expert info).
 *
 * Interface:
 *   sc_pcapng_open     takes an open descriptor (closed by sc_pcapng_close
 *                      whatever happens) and writes the section header.
 *   sc_pcapng_secrets  a Decryption Secrets Block with TLS key log lines
 *                      (the NSS format of SSLKEYLOGFILE); only before the
 *                      first packet, as readers apply secrets forward.
 *   sc_pcapng_packet   one packet.
 *   sc_pcapng_suspend  flushes and closes the file, keeping the writer's
 *                      state (interfaces described); 0 or -1 with errno.
 *   sc_pcapng_resume   goes on writing on fd (the same file opened to
 *                      append; closed by the writer whatever happens).
 *   sc_pcapng_close    flushes and closes: 0, or -1 with errno (any write
 *                      failed since the open: the file is incomplete).
 * Strings written into options are the caller's text as it is: comments
 * that may hold wire bytes must be escaped by the caller (safeprint).
 */
#ifndef SC_PCAPNG_H
#define SC_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

typedef struct sc_pcapng sc_pcapng;

/* Secrets type of a TLS key log in a Decryption Secrets Block. */
#define SC_PCAPNG_SECRETS_TLS 0x544c534bu

typedef struct sc_pcapng_pkt {
    int                 linktype;   /* DLT_ of the frame bytes */
    struct timeval      ts;
    uint32_t            ts_nsec;    /* the fraction of ts in ns (nano writers) */
    uint32_t            caplen, wirelen;
    const uint8_t      *data;
    uint64_t            packet_id;  /* the original frame number; 0: none */
    const char *const  *comments;   /* NUL-terminated UTF-8 strings */
    size_t              ncomments;
} sc_pcapng_pkt;

/* userappl: "smtpscope 1.2"; comments: lines for the section header (the
 * source capture and its SHA-256, ...); nano: timestamps in nanoseconds
 * (if_tsresol 9), else microseconds. NULL with errno when out of memory
 * or the header cannot be written (fd closed). */
sc_pcapng *sc_pcapng_open(int fd, const char *userappl, const char *const *comments,
                          size_t ncomments, bool nano);
int sc_pcapng_secrets(sc_pcapng *w, uint32_t type, const char *data, size_t len);
int sc_pcapng_packet(sc_pcapng *w, const sc_pcapng_pkt *p);
int sc_pcapng_suspend(sc_pcapng *w);
int sc_pcapng_resume(sc_pcapng *w, int fd);
int sc_pcapng_close(sc_pcapng *w);

#endif
