/*
 * link.c - link-layer decoding: finds the IP header inside a captured frame.
 *
 * Interface: sc_link_decode() (src/capture/capture.h), sc_link_supported().
 *
 * Supported link types, each a row of link_table: Ethernet (any number of
 * 802.1Q 0x8100, 802.1ad 0x88a8 and legacy QinQ 0x9100/0x9200 tags),
 * Linux cooked v1 (16-byte header, protocol at 14) and v2 (20-byte header,
 * protocol at 0), BSD NULL (address family in the capturing host's byte
 * order, so both orders are tried) and OpenBSD LOOP (network order), raw IP
 * (DLT_RAW is 12 or 14 depending on the platform, LINKTYPE_RAW 101 in
 * files; the version nibble decides), DLT_IPV4 and DLT_IPV6.
 *
 * Diagnostics: none. A frame that is truncated, carries no IP, or whose IP
 * version disagrees with the link header gets ipver 0 and l3 NULL; nothing
 * is ever read beyond caplen.
 */
#include <pcap/pcap.h>
#include <string.h>

#include "capture.h"
#include "link.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW_FILE 101

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd

/* How the rest of the frame is announced after the fixed link header. */
typedef enum link_next {
    LINK_NEXT_ETHERTYPE,   /* a 16-bit EtherType at type_off (VLAN tags may follow) */
    LINK_NEXT_FAMILY,      /* a 32-bit address family at 0 (NULL/LOOP) */
    LINK_NEXT_VERSION      /* the IP version nibble of the first byte */
} link_next;

typedef struct link_row {
    int        dlt;
    unsigned   hdr_len;    /* bytes before the payload (or before the tags) */
    unsigned   type_off;   /* where the EtherType sits (ETHERTYPE rows) */
    link_next  next;
    int        fixed_ver;  /* DLT_IPV4/IPV6: the only version allowed, else 0 */
} link_row;

static const link_row link_table[] = {
    { DLT_EN10MB,        14, 12, LINK_NEXT_ETHERTYPE, 0 },
    { DLT_LINUX_SLL,     16, 14, LINK_NEXT_ETHERTYPE, 0 },
    { DLT_LINUX_SLL2,    20,  0, LINK_NEXT_ETHERTYPE, 0 },
    { DLT_NULL,           4,  0, LINK_NEXT_FAMILY,    0 },
    { DLT_LOOP,           4,  0, LINK_NEXT_FAMILY,    0 },
    { DLT_RAW,            0,  0, LINK_NEXT_VERSION,   0 },
    { 12,                 0,  0, LINK_NEXT_VERSION,   0 },
    { 14,                 0,  0, LINK_NEXT_VERSION,   0 },
    { LINKTYPE_RAW_FILE,  0,  0, LINK_NEXT_VERSION,   0 },
    { DLT_IPV4,           0,  0, LINK_NEXT_VERSION,   4 },
    { DLT_IPV6,           0,  0, LINK_NEXT_VERSION,   6 },
};

/* VLAN tag EtherTypes: each tag is 4 bytes, the inner EtherType at +2. */
static const uint16_t link_vlan_types[] = { 0x8100, 0x88a8, 0x9100, 0x9200 };

/* BSD address families for IPv6 differ by system (Linux, NetBSD/OpenBSD,
 * FreeBSD, Darwin); IPv4 is 2 everywhere. */
static const struct { uint32_t family; int ver; } link_families[] = {
    { 2, 4 }, { 10, 6 }, { 24, 6 }, { 28, 6 }, { 30, 6 },
};

static const link_row *link_row_find(int dlt)
{
    for (size_t i = 0; i < sizeof link_table / sizeof link_table[0]; i++)
        if (link_table[i].dlt == dlt)
            return &link_table[i];
    return NULL;
}

bool sc_link_supported(int dlt)
{
    return link_row_find(dlt) != NULL;
}

static uint16_t link_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bool link_is_vlan(uint16_t type)
{
    for (size_t i = 0; i < sizeof link_vlan_types / sizeof link_vlan_types[0]; i++)
        if (link_vlan_types[i] == type)
            return true;
    return false;
}

static int link_family_version(const uint8_t *p)
{
    uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t be = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;

    for (size_t i = 0; i < sizeof link_families / sizeof link_families[0]; i++)
        if (link_families[i].family == le || link_families[i].family == be)
            return link_families[i].ver;
    return 0;
}

void sc_link_decode(int linktype, sc_packet *pkt)
{
    const link_row *row = link_row_find(linktype);
    uint32_t caplen = pkt->caplen;
    uint32_t off;
    int ver = 0;

    pkt->l3 = NULL;
    pkt->l3_len = 0;
    pkt->ipver = 0;
    if (!row || !pkt->data || caplen < row->hdr_len)
        return;
    off = row->hdr_len;
    switch (row->next) {
    case LINK_NEXT_ETHERTYPE: {
        uint16_t type = link_be16(pkt->data + row->type_off);
        /* Skip stacked tags; each iteration consumes 4 bytes, so the
         * loop ends with the frame. IP itself (nearly every frame) is
         * not looked up among the tag types. */
        while (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6 && link_is_vlan(type)) {
            if (caplen < off + 4)
                return;
            type = link_be16(pkt->data + off + 2);
            off += 4;
        }
        ver = type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
        break;
    }
    case LINK_NEXT_FAMILY:
        ver = link_family_version(pkt->data);
        break;
    case LINK_NEXT_VERSION:
        if (caplen < 1)
            return;
        ver = pkt->data[0] >> 4;
        if (row->fixed_ver && ver != row->fixed_ver)
            return;
        break;
    }
    if (ver != 4 && ver != 6)
        return;
    /* The IP header itself must agree and be complete. */
    if (caplen < off + (ver == 4 ? 20u : 40u) || (pkt->data[off] >> 4) != ver)
        return;
    pkt->l3 = pkt->data + off;
    pkt->l3_len = caplen - off;
    pkt->ipver = ver;
}
