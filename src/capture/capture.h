/*
 * capture.h - packets in: pcap/pcapng files (gzip too, "-" for stdin) and
 * live interfaces, through libpcap, with the link layer decoded here.
 *
 * Link types: Ethernet (with any number of 802.1Q / 802.1ad 0x88a8 tags),
 * Linux cooked v1 and v2, BSD loopback/NULL and OpenBSD LOOP, raw IP
 * (DLT_RAW, IPV4, IPV6). Any other link type is refused at open time with
 * a message naming the file and the link type.
 *
 * Frames are numbered from 1 in file order, as Wireshark numbers them
 * (frames dropped by a BPF filter still count, so numbers match an
 * unfiltered Wireshark view of the same file).
 *
 * Several files are one capture, read in time order (merge.c). A frame is
 * then its number in its file plus the file's position in time order
 * times 2^SC_FRAME_FILE_SHIFT: one file alone is numbered as before, and
 * sc_frame_name() names a frame for people ("#17", "c2.pcap#17").
 *
 * A pcapng whose interfaces have different link types is read one link
 * type at a time and put back in file order (ifsplit.c): each packet
 * carries its own interface's link type.
 */
#ifndef SC_CAPTURE_H
#define SC_CAPTURE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/frame.h"
#include "common/sc_types.h"

typedef struct sc_packet {
    uint64_t        frame;       /* 1-based frame number (file in the high bits) */
    struct timeval  ts;
    uint32_t        ts_nsec;     /* the fraction of a second of ts, in ns as
                                    the capture file holds it (files are read
                                    at nanosecond precision) */
    uint32_t        caplen;      /* bytes captured of the frame */
    uint32_t        wirelen;     /* bytes on the wire */
    int             linktype;    /* DLT_* of the source */
    const uint8_t  *data;        /* the whole captured frame */
    const uint8_t  *l3;          /* the IP header inside data, or NULL */
    uint32_t        l3_len;      /* captured bytes from l3 on */
    int             ipver;       /* 4, 6, or 0 when not IP */
} sc_packet;

typedef struct sc_capture sc_capture;

/* Opens a capture file ("-" = standard input; gzip detected by magic).
 * bpf may be NULL. On failure returns NULL and writes a one-line reason
 * naming the file into err. */
sc_capture *sc_capture_open_file(const char *path, const char *bpf,
                                 char *err, size_t errlen);

/* Opens files given together as one capture, in time order (by their
 * first packet, then packet by packet; ties by their order in paths).
 * paths must stay valid while the capture is open. Sets the names
 * sc_frame_name() uses. */
sc_capture *sc_capture_open_files(const char *const *paths, size_t n, const char *bpf,
                                  char *err, size_t errlen);


/* Opens a live interface (packets handed over within 250 ms), with a
 * kernel buffer of buffer_kib KiB (-B; 0: the default, 16 MiB). */
sc_capture *sc_capture_open_live(const char *iface, const char *bpf, unsigned buffer_kib,
                                 char *err, size_t errlen);

/* -D: the interfaces libpcap can capture on, one a line as tcpdump -D
 * prints them ("1.eth0 [Up, Running]"). -1 with a reason in err when
 * there is none or they cannot be listed. (ifaces.c) */
int sc_capture_list_interfaces(FILE *out, char *err, size_t errlen);

/* True when the BPF expression compiles (for Ethernet); otherwise false
 * with libpcap's reason in why. (ifaces.c) */
bool sc_capture_bpf_compiles(const char *bpf, char *why, size_t whylen);

/* Where the packets of a live capture come from, for the outputs that
 * must say so (evidence headers): known once the capture is open. */
typedef struct sc_live_source {
    const char     *iface;
    const char     *filter;      /* the kernel filter in force (the user's
                                    BPF expression, or smtpscope's own) */
    int             linktype;    /* DLT_* */
    int             snaplen;
    struct timeval  start;       /* when the capture began (clock) */
} sc_live_source;

/* Next packet: 1 = *pkt filled (valid until the next call), 0 = end of
 * input, -1 = error (sc_capture_error), -2 = interrupted (live, breakloop
 * or timeout with no packet: call again). */
int sc_capture_next(sc_capture *cap, sc_packet *pkt);

const char *sc_capture_error(const sc_capture *cap);
const char *sc_capture_name(const sc_capture *cap);
int  sc_capture_linktype(const sc_capture *cap);
int  sc_capture_snaplen(const sc_capture *cap);
/* Progress for files: bytes of the (compressed) file read so far, and its
 * size (0 when unknown, e.g. a pipe). */
void sc_capture_progress(const sc_capture *cap, uint64_t *done, uint64_t *total);
/* Live statistics (pcap_stats); returns -1 for files. */
int  sc_capture_stats(sc_capture *cap, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);
/* Makes a blocked sc_capture_next return -2 (signal-safe). */
void sc_capture_break(sc_capture *cap);
/* The pcap_t underneath, for a live capture (its filter, its descriptor);
 * for files it may be NULL (several files, a pcapng read by link type):
 * writers take sc_capture_one_link. */
void *sc_capture_pcap(sc_capture *cap);
/* The one link type (DLT_*) of every frame of the capture, and the largest
 * snap length of its files, for a writer of one link type (-w): 0; -1
 * when its frames are of several (files, or a pcapng's interfaces), with
 * a one-line reason in err naming each file and its link types. */
int  sc_capture_one_link(const sc_capture *cap, int *linktype, int *snaplen,
                         char *err, size_t errlen);
/* True when the capture is a regular, uncompressed file opened by its
 * name (not standard input): another process can read it again as
 * cheaply, by opening the same name (-j's workers do). Same file: both
 * are rereadable and name the same device and inode (the name was not
 * given to another file in between). */
bool sc_capture_rereadable(const sc_capture *cap);
bool sc_capture_same_file(const sc_capture *a, const sc_capture *b);

void sc_capture_close(sc_capture *cap);

/* The files of -r, watched (ident.c): the first opening of each keeps the
 * device, inode, size and modification time of the descriptor it reads
 * (fstat); every later opening compares its own. paths must stay valid.
 * sc_capture_changed: true when a later opening found the name on another
 * file or the file changed, with what differs in why ("inode 12 -> 34").
 * sc_capture_check_stat: the same for st, fstat of a descriptor the
 * caller opened on path itself (to hash it). */
struct stat;
void sc_capture_watch(const char *const *paths, size_t n);
bool sc_capture_changed(const char *path, char *why, size_t len);
bool sc_capture_check_stat(const char *path, const struct stat *st, char *why, size_t len);

/* pcapng Decryption Secrets Blocks (ifsplit.c): fn gets the secrets of
 * each block of secrets type type (SC_SECRETS_TLS_KEYLOG: NSS key log
 * lines) that a regular pcapng file (gzip too) carries before its first
 * packet. Returns how many; 0 for any other file or input. */
#define SC_SECRETS_TLS_KEYLOG 0x544c534bu
typedef void (*sc_secrets_fn)(void *ctx, const uint8_t *p, size_t n);
int sc_capture_pcapng_secrets(const char *path, uint32_t type, sc_secrets_fn fn, void *ctx);

/* True when a regular capture file (gzip too) holds timestamps finer than
 * microseconds: a pcap of nanosecond magic, or a pcapng one of whose
 * interfaces described before the first packet has an if_tsresol finer
 * than 10^-6 (ifsplit.c). Its packets' ts_nsec are then the file's own. */
bool sc_capture_nanosecond(const char *path);

/* Decodes the link layer of one frame: sets pkt->l3, l3_len and ipver
 * (0 when the frame carries no IP). Exposed for tests. */
void sc_link_decode(int linktype, sc_packet *pkt);

#endif
