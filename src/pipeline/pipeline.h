/*
 * pipeline.h - the packet loop: capture -> link decode -> reassembly ->
 * flow handler, for a file or a live interface.
 *
 * (Defined by src/pipeline/pipeline.c.)
 */
#ifndef SC_PIPELINE_H
#define SC_PIPELINE_H

#include "capture/capture.h"
#include "common/config.h"
#include "reasm/reasm.h"

typedef struct sc_pipeline_stats {
    uint64_t packets;        /* frames read */
    uint64_t bytes;          /* captured bytes read */
    uint64_t recv, drop, ifdrop;   /* live: pcap_stats */
    uint64_t open;           /* live: sessions open now */
    uint64_t written;        /* live: frames written to -w */
    unsigned files_written;  /* live: -w files opened (rotation) */
    sc_frag_counts frag;     /* IP fragments (complete once the input ended) */
    uint64_t chain_dropped;  /* not analysed (sc_reasm_unanalysed), as frag */
    uint64_t malformed_dropped;
} sc_pipeline_stats;

/* What a run read, into the run's totals: packets, bytes and the packets
 * not analysed (the fragments' counts are added by the caller). */
static inline void sc_pipeline_stats_add(sc_totals *t, const sc_pipeline_stats *st)
{
    t->packets += st->packets;
    t->bytes += st->bytes;
    t->chain_dropped += st->chain_dropped;
    t->malformed_dropped += st->malformed_dropped;
}

typedef struct sc_pipeline_hooks {
    /* Called for every packet read (may be NULL). */
    void (*packet)(void *ctx, const sc_packet *pkt);
    /* Called after each packet's reassembly, before idle connections are
     * expired (may be NULL; -j orders records by it). */
    void (*packet_done)(void *ctx, const sc_packet *pkt);
    /* Called once the input has ended, before the open connections are
     * closed (may be NULL). */
    void (*input_end)(void *ctx);
    /* Called now and then with progress (files: bytes done/total). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    /* Live: called at least every 250 ms, busy or idle, with the counters
     * brought up to date (pcap_stats, open sessions). Returns nonzero to
     * end the capture as sc_pipeline_stop does. May be NULL. */
    int (*tick)(void *ctx, const sc_pipeline_stats *stats);
    /* Live: called once the interface is open, its filter set, -w open
     * and privileges dropped (-Z), before the first packet; what it opens
     * is opened as the -Z user. Nonzero, with a reason in err, ends the
     * run before any packet is read. May be NULL. */
    int (*live_open)(void *ctx, const sc_live_source *src, char *err, size_t errlen);
    /* Live: every packet of a followed connection, before its events
     * (--evidence keeps them); and the connection's end, after its last
     * event. May be NULL. */
    void (*conn_packet)(void *ctx, const sc_conn *conn, const sc_packet *pkt);
    void (*conn_closed)(void *ctx, const sc_conn *conn);
    void *ctx;
} sc_pipeline_hooks;

/* Analyses one capture file through h. Returns 0; 1 when the capture is
 * damaged (a read error after some frames: what came before is analysed,
 * the reason and the last frame in err); or -1 with a one-line reason
 * naming the file in err when nothing could be read (the caller exits 2). */
int sc_pipeline_file(const sc_config *cfg, const char *path,
                     const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                     sc_pipeline_stats *stats, char *err, size_t errlen);
/* The same for files given together: one capture, read in time order
 * (src/capture/capture.h). */
int sc_pipeline_files(const sc_config *cfg, const char *const *paths, size_t npaths,
                      const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                      sc_pipeline_stats *stats, char *err, size_t errlen);

/* The same on a capture already open (closed by the caller). */
int sc_pipeline_capture(const sc_config *cfg, sc_capture *cap, const sc_flow_handler *h,
                        const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                        char *err, size_t errlen);

/* A capture's input ended on a read error (reason) after frame
 * last_frame: when not a frame was read the file is unusable, -1 with
 * reason in err; otherwise what came before it is analysed: 1, with
 * "REASON (analysed up to frame N)" in err. */
int sc_pipeline_read_error(const char *reason, uint64_t last_frame, char *err, size_t errlen);

/* The file loop in pieces, for -j (src/jobs/), whose workers follow a
 * share of the packets they read: sc_pipeline_file is new, packet for
 * each packet followed, end, free. sc_pipeline_elsewhere stands for a
 * packet another process follows: the clock (idle expiry, the time and
 * frame at which the input ends) advances as with the packet itself.
 * NULL from new with a reason in err. */
typedef struct sc_pipeline sc_pipeline;
sc_pipeline *sc_pipeline_new(const sc_config *cfg, const sc_flow_handler *h,
                             const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                             char *err, size_t errlen);
/* Returns the time of the clock idle expiry goes by (sc_reasm_clock). */
struct timeval sc_pipeline_packet(sc_pipeline *p, const sc_packet *pkt);
/* -j: a packet another process follows was read at ts: feeds that clock
 * and returns its time; sc_pipeline_elsewhere expires against it. */
struct timeval sc_pipeline_clock(sc_pipeline *p, struct timeval ts);
void sc_pipeline_elsewhere(sc_pipeline *p, uint64_t frame, uint64_t ip_frame,
                           struct timeval ts);
/* -j: this process is idx of n (sc_reasm_share). */
void sc_pipeline_share(sc_pipeline *p, int idx, int n);
/* The input has ended: hooks->input_end, then the open connections close. */
void sc_pipeline_end(sc_pipeline *p);
void sc_pipeline_free(sc_pipeline *p);

/* Sniffs cfg->iface until sc_pipeline_stop() (signal-safe) is called or
 * hooks->tick asks to stop; then closes the open sessions as at the end of
 * a capture and fills stats. Sessions idle for cfg->idle_timeout seconds
 * of the clock are closed on the way. Without a BPF expression the kernel
 * is given a filter for TCP on the SMTP ports (any TCP with --any-port)
 * and IP fragments, with or without one VLAN tag. -w (cfg->write_file)
 * gets the frames of SMTP connections only, and IP fragments of TCP; -Z
 * (cfg->drop_user) takes effect once the interface and -w are open.
 * Returns 0, or -1 with a one-line reason in err (the caller exits 2). */
int sc_pipeline_live(const sc_config *cfg, const sc_flow_handler *h,
                     const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                     char *err, size_t errlen);
void sc_pipeline_stop(void);

#endif
