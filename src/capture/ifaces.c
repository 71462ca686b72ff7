/*
 * ifaces.c - what libpcap can say before any capture is open: the
 * interfaces it can capture on (-D, as tcpdump -D lists them) and whether
 * a BPF expression compiles at all (so that a mistyped capture file name
 * on the command line is said to be one, not a filter syntax error).
 *
 * Interface: sc_capture_list_interfaces() and sc_capture_bpf_compiles()
 * in src/capture/capture.h.
 *
 * Diagnostics: pcap_findalldevs' reason in err; the interface list is
 * printed through the safe printer (names and descriptions come from the
 * system, not the wire, but may still hold any byte).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "common/safeprint.h"

int sc_capture_list_interfaces(FILE *out, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    unsigned n = 0;

    if (pcap_findalldevs(&all, perr) < 0) {
        snprintf(err, errlen, "cannot list the interfaces: %s", perr);
        return -1;
    }
    for (pcap_if_t *d = all; d; d = d->next) {
        fprintf(out, "%u.", ++n);
        sc_safe_fputs(out, (const uint8_t *)d->name, strlen(d->name));
        if (d->description) {
            fputs(" (", out);
            sc_safe_fputs(out, (const uint8_t *)d->description, strlen(d->description));
            fputc(')', out);
        }
        fprintf(out, " [%s%s%s]\n", d->flags & PCAP_IF_UP ? "Up" : "Down",
                d->flags & PCAP_IF_RUNNING ? ", Running" : "",
                d->flags & PCAP_IF_LOOPBACK ? ", Loopback" : "");
    }
    pcap_freealldevs(all);
    if (n == 0) {
        snprintf(err, errlen, "no interface to capture on (capturing needs CAP_NET_RAW)");
        return -1;
    }
    return 0;
}

/* Compiled for Ethernet, the link type that accepts the most primitives:
 * an expression refused there is refused everywhere. */
bool sc_capture_bpf_compiles(const char *bpf, char *why, size_t whylen)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
    struct bpf_program prog;
    bool ok;

    if (!p) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    ok = pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    else
        snprintf(why, whylen, "%s", pcap_geterr(p));
    pcap_close(p);
    return ok;
}
