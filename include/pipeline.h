/*
 * pipeline.h - the packet loop: capture -> link decode -> reassembly ->
 * flow handler, for a file or a live interface.
 *
 * (Defined by src/app/pipeline.c.)
 */
#ifndef SC_PIPELINE_H
#define SC_PIPELINE_H

#include "capture.h"
#include "config.h"
#include "reasm.h"

typedef struct sc_pipeline_stats {
    uint64_t packets;        /* frames read */
    uint64_t bytes;          /* captured bytes read */
    uint64_t recv, drop, ifdrop;   /* live: pcap_stats */
} sc_pipeline_stats;

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
    void *ctx;
} sc_pipeline_hooks;

/* Analyses one capture file through h. Returns 0, or -1 with a one-line
 * reason naming the file in err (the caller exits 2). */
int sc_pipeline_file(const sc_config *cfg, const char *path,
                     const sc_flow_handler *h, const sc_pipeline_hooks *hooks,
                     sc_pipeline_stats *stats, char *err, size_t errlen);

/* Sniffs cfg->iface until sc_pipeline_stop() (signal-safe) is called. */
int sc_pipeline_live(const sc_config *cfg, const sc_flow_handler *h,
                     const sc_pipeline_hooks *hooks, sc_pipeline_stats *stats,
                     char *err, size_t errlen);
void sc_pipeline_stop(void);

#endif
