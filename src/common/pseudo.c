/*
 * pseudo.c - the run's pseudonyms for addresses and names (pseudo.h).
 *
 * Keyed choices: HMAC-SHA256(key, tag || input || probe) gives the bytes
 * every choice is made from, so that a pseudonym depends on nothing but
 * the key and the real value (not on the order things were seen in).
 * Addresses also go through a table, real -> pseudonym and pseudonym ->
 * real (open addressing, grown by doubling up to SC_PSEUDO_TABLE_MAX),
 * so that a second address whose first choice is taken gets its next one:
 * no two real addresses share a pseudonym while the table has room.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pseudo.h"

#define PSEUDO_PROBES 64            /* keyed choices tried before giving up */

typedef struct ps_key {             /* family byte + 16 address bytes */
    uint8_t b[17];
} ps_key;

typedef struct ps_entry {
    ps_key real, fake;
} ps_entry;

static struct {
    bool       on;
    uint8_t    key[SC_PSEUDO_KEY_MAX];
    size_t     keylen;
    ps_entry  *e;                   /* entries, n of cap */
    size_t     n, cap;
    uint32_t  *by_real, *by_fake;   /* 2 * cap slots: index + 1, 0 empty */
    uint64_t   unchecked, unmatched;
} ps;

int sc_pseudo_init(const char *keyfile, char *err, size_t errlen)
{
    if (!keyfile) {
        ps.keylen = 32;
        if (RAND_bytes(ps.key, (int)ps.keylen) != 1) {
            snprintf(err, errlen, "--redact=addresses: no random key (OpenSSL RAND_bytes failed)");
            return -1;
        }
        ps.on = true;
        return 0;
    }
    int fd = open(keyfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "--redact-key %s: %s", keyfile, strerror(errno));
        return -1;
    }
    size_t n = 0;
    uint8_t extra;
    ssize_t r;
    while (n < sizeof ps.key && (r = read(fd, ps.key + n, sizeof ps.key - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "--redact-key %s: %s", keyfile, strerror(errno));
            close(fd);
            return -1;
        }
        n += (size_t)r;
    }
    r = n == sizeof ps.key ? read(fd, &extra, 1) : 0;
    close(fd);
    if (n < SC_PSEUDO_KEY_MIN || r > 0) {
        snprintf(err, errlen, "--redact-key %s: a key file holds %d to %d bytes (this one %s%zu)",
                 keyfile, SC_PSEUDO_KEY_MIN, SC_PSEUDO_KEY_MAX, r > 0 ? "more than " : "", n);
        return -1;
    }
    ps.keylen = n;
    ps.on = true;
    return 0;
}

bool sc_pseudo_on(void)
{
    return ps.on;
}

void sc_pseudo_done(void)
{
    free(ps.e);
    free(ps.by_real);
    free(ps.by_fake);
    memset(&ps, 0, sizeof ps);
}

uint64_t sc_pseudo_unchecked(void) { return ps.unchecked; }
uint64_t sc_pseudo_unmatched(void) { return ps.unmatched; }

/* HMAC-SHA256(key, tag || p || probe) into md (32 bytes). */
static void ps_mac(char tag, const uint8_t *p, size_t n, uint32_t probe, uint8_t md[32])
{
    uint8_t buf[1 + 1024 + 4];
    unsigned mdlen = 32;

    /* Long inputs (at most a line's) are hashed first: the mac is of the digest. */
    if (n > 1024) {
        unsigned dl = 32;
        EVP_Digest(p, n, md, &dl, EVP_sha256(), NULL);
        p = md;
        n = 32;
    }
    buf[0] = (uint8_t)tag;
    memcpy(buf + 1, p, n);
    memcpy(buf + 1 + n, &probe, 4);
    HMAC(EVP_sha256(), ps.key, (int)ps.keylen, buf, 1 + n + 4, md, &mdlen);
}

/* ---- the address table ---- */

static size_t ps_hash(const ps_key *k, size_t slots)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < sizeof k->b; i++)
        h = (h ^ k->b[i]) * 1099511628211ULL;
    return (size_t)(h & (slots - 1));
}

/* The slot of k in idx (its entry's, or the empty one where it goes). */
static size_t ps_slot(const uint32_t *idx, bool fake, const ps_key *k)
{
    size_t slots = 2 * ps.cap, i = ps_hash(k, slots);

    while (idx[i]) {
        const ps_entry *e = &ps.e[idx[i] - 1];
        if (memcmp(fake ? e->fake.b : e->real.b, k->b, sizeof k->b) == 0)
            break;
        i = (i + 1) & (slots - 1);
    }
    return i;
}

static int ps_grow(void)
{
    size_t cap = ps.cap ? ps.cap * 2 : 256;
    ps_entry *e = realloc(ps.e, cap * sizeof *e);
    if (!e)
        return -1;
    ps.e = e;
    uint32_t *r = calloc(2 * cap, sizeof *r), *f = calloc(2 * cap, sizeof *f);
    if (!r || !f) {
        free(r);
        free(f);
        return -1;
    }
    free(ps.by_real);
    free(ps.by_fake);
    ps.by_real = r;
    ps.by_fake = f;
    ps.cap = cap;
    for (size_t i = 0; i < ps.n; i++) {
        ps.by_real[ps_slot(ps.by_real, false, &ps.e[i].real)] = (uint32_t)i + 1;
        ps.by_fake[ps_slot(ps.by_fake, true, &ps.e[i].fake)] = (uint32_t)i + 1;
    }
    return 0;
}

/* IPv4: an address of the reserved blocks whose text is len characters:
 * 0.a.b.c for 7 and 8, 240-254.a.b.c from 9 to 15. */
static void ps_v4_choice(const uint8_t md[32], size_t len, uint8_t out[4])
{
    int first3 = len >= 9, sum = (int)len - 3 - (first3 ? 3 : 1), comp[27][3], nc = 0;

    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            for (int c = 1; c <= 3; c++)
                if (a + b + c == sum) {
                    comp[nc][0] = a; comp[nc][1] = b; comp[nc][2] = c;
                    nc++;
                }
    out[0] = first3 ? (uint8_t)(240 + md[0] % 15) : 0;
    const int *d = comp[nc ? md[1] % nc : 0];
    for (int i = 0; i < 3; i++) {
        unsigned v = (unsigned)md[2 + 2 * i] << 8 | md[3 + 2 * i];
        out[1 + i] = (uint8_t)(d[i] == 1 ? v % 10 : d[i] == 2 ? 10 + v % 90 : 100 + v % 156);
    }
}

static void ps_choice(const ps_key *real, uint32_t probe, ps_key *fake)
{
    uint8_t md[32];

    ps_mac('A', real->b, sizeof real->b, probe, md);
    memset(fake, 0, sizeof *fake);
    fake->b[0] = real->b[0];
    if (real->b[0] == 4) {
        char t[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, real->b + 1, t, sizeof t);
        ps_v4_choice(md, strlen(t), fake->b + 1);
        if (!fake->b[1] && !fake->b[2] && !fake->b[3] && !fake->b[4])
            fake->b[4] = 1;             /* never 0.0.0.0 */
    } else {
        /* 2001:db8::/96 and 32 keyed bits: a short text that can be
         * written longer (see ps_v6_write) */
        static const uint8_t pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };
        memcpy(fake->b + 1, pfx, 4);
        memcpy(fake->b + 13, md, 4);
    }
}

static void ps_map(const ps_key *real, ps_key *fake)
{
    if (ps.cap) {
        uint32_t i = ps.by_real[ps_slot(ps.by_real, false, real)];
        if (i) {
            *fake = ps.e[i - 1].fake;
            return;
        }
    }
    if (ps.n == ps.cap && (ps.cap >= SC_PSEUDO_TABLE_MAX || ps_grow() < 0)) {
        ps_choice(real, 0, fake);
        ps.unchecked++;
        return;
    }
    uint32_t probe = 0;
    for (;; probe++) {
        ps_choice(real, probe, fake);
        if (!ps.by_fake[ps_slot(ps.by_fake, true, fake)])
            break;
        if (probe == PSEUDO_PROBES) {
            ps.unchecked++;             /* a crowded length: shared */
            return;
        }
    }
    ps.e[ps.n] = (ps_entry){ *real, *fake };
    ps.n++;
    ps.by_real[ps_slot(ps.by_real, false, real)] = (uint32_t)ps.n;
    ps.by_fake[ps_slot(ps.by_fake, true, fake)] = (uint32_t)ps.n;
}

void sc_pseudo_endpoint(sc_endpoint *out, const sc_endpoint *ep)
{
    ps_key real = { { 0 } }, fake;
    size_t alen = ep->family == AF_INET6 ? 16 : 4;

    *out = *ep;
    if (!ps.on)
        return;
    real.b[0] = ep->family == AF_INET6 ? 6 : 4;
    memcpy(real.b + 1, ep->addr, alen);
    ps_map(&real, &fake);
    memcpy(out->addr, fake.b + 1, alen);
}

/* ---- names ---- */

/* Letters to letters, digits to digits, the rest kept, from the keyed
 * bytes of (tag, the input as given to the mac). */
static void ps_scramble(char tag, const uint8_t *in, size_t inlen, uint8_t *p, size_t n)
{
    uint8_t md[32];

    for (size_t i = 0; i < n; i++) {
        if (i % 32 == 0)
            ps_mac(tag, in, inlen, (uint32_t)(i / 32), md);
        uint8_t c = p[i], r = md[i % 32];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            p[i] = (uint8_t)('a' + r % 26);
        else if (c >= '0' && c <= '9')
            p[i] = (uint8_t)('0' + r % 10);
    }
}

static bool ps_alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A plain host name: labels of letters, digits and inner hyphens. */
static bool ps_plain_domain(const uint8_t *p, size_t n)
{
    size_t lab = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (lab == 0 || p[i - 1] == '-')
                return false;
            lab = 0;
        } else if (ps_alnum(p[i]) || (p[i] == '-' && lab > 0)) {
            lab++;
        } else {
            return false;
        }
    }
    return lab > 0 && p[n - 1] != '-';
}

void sc_pseudo_domain(uint8_t *p, size_t n)
{
    uint8_t low[1024];
    size_t m = n < sizeof low ? n : sizeof low;

    if (!ps.on || n == 0)
        return;
    for (size_t i = 0; i < m; i++)
        low[i] = (uint8_t)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    bool plain = ps_plain_domain(p, n) && memchr(p, '.', n);   /* a dotless name stays so */
    ps_scramble('D', low, m, p, n);
    if (plain && n >= 7) {
        /* "...x.test": the byte before the ".test" a letter, so that no
         * label is left empty or ends in a hyphen */
        if (!ps_alnum(p[n - 6]))
            p[n - 6] = 'x';
        memcpy(p + n - 5, ".test", 5);
    }
}

void sc_pseudo_local(uint8_t *p, size_t n)
{
    uint8_t in[1024];
    size_t m = n < sizeof in ? n : sizeof in;

    if (!ps.on || n == 0)
        return;
    memcpy(in, p, m);
    ps_scramble('L', in, m, p, n);
}

/* ---- address texts ---- */

bool sc_pseudo_ipv4_text(uint8_t *p, size_t n)
{
    unsigned oct[4], k = 0, v = 0, digits = 0;

    if (!ps.on || n < 7 || n > 15)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '.') {
            if (!digits || v > 255 || k == 4)
                return false;
            oct[k++] = v;
            v = digits = 0;
        } else if (p[i] >= '0' && p[i] <= '9' && digits < 3) {
            v = v * 10 + (p[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    if (k != 4)
        return false;
    sc_endpoint ep = { .family = AF_INET }, ps4;
    for (int i = 0; i < 4; i++)
        ep.addr[i] = (uint8_t)oct[i];
    sc_pseudo_endpoint(&ps4, &ep);
    /* the pseudonym's octets, zero-padded from the left while the text is
     * shorter than the real one (which had leading zeros) */
    char t[4][4];
    size_t len = 3, w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (size_t)snprintf(t[i], sizeof t[i], "%u", ps4.addr[i]);
        len += w[i];
    }
    size_t pad[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 4 && len < n; i++)
        while (w[i] + pad[i] < 3 && len < n) {
            pad[i]++;
            len++;
        }
    if (len != n)
        return false;
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            p[o++] = '.';
        memset(p + o, '0', pad[i]);
        o += pad[i];
        memcpy(p + o, t[i], w[i]);
        o += w[i];
    }
    return true;
}

/* Writes the 8 groups g in exactly n characters, the zero groups
 * [zs, ze) compressed to "::" (zs == ze: none), each group padded with
 * leading zeros as needed; false when n is out of reach. */
static bool ps_v6_write(const uint16_t g[8], int zs, int ze, uint8_t *p, size_t n)
{
    size_t w[8], len = 0, room = 0;
    int ng = 0;

    for (int i = 0; i < 8; i++) {
        if (i >= zs && i < ze)
            continue;
        w[i] = (size_t)snprintf(NULL, 0, "%x", g[i]);
        len += w[i];
        room += 4 - w[i];
        ng++;
    }
    len += zs == ze ? 7 : (size_t)ng;   /* "a:b::c:d": as many colons as groups */
    if (n < len || n > len + room)
        return false;
    size_t extra = n - len, o = 0;
    char t[8];
    for (int i = 0; i < 8; i++) {
        if (i >= zs && i < ze) {
            if (i == zs)
                p[o++] = ':', p[o++] = ':';
            continue;
        }
        if (i > 0 && !(i == ze && zs != ze))
            p[o++] = ':';
        size_t pd = extra < 4 - w[i] ? extra : 4 - w[i];
        extra -= pd;
        memset(p + o, '0', pd);
        o += pd;
        snprintf(t, sizeof t, "%x", g[i]);
        memcpy(p + o, t, w[i]);
        o += w[i];
    }
    return o == n;
}

bool sc_pseudo_ipv6_text(uint8_t *p, size_t n)
{
    char t[64];
    sc_endpoint ep = { .family = AF_INET6 }, ps6;

    if (!ps.on || n < 2 || n >= sizeof t)
        return false;
    memcpy(t, p, n);
    t[n] = '\0';
    if (inet_pton(AF_INET6, t, ep.addr) != 1)
        return false;
    sc_pseudo_endpoint(&ps6, &ep);
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint16_t)(ps6.addr[2 * i] << 8 | ps6.addr[2 * i + 1]);
    /* uncompressed, or the zero groups of 2001:db8:0:0:0:0:x:y (some of
     * them) written "::" */
    if (ps_v6_write(g, 0, 0, p, n))
        return true;
    for (int zs = 2; zs < 6; zs++)
        for (int ze = zs + 1; ze <= 6 && g[ze - 1] == 0; ze++)
            if (ps_v6_write(g, zs, ze, p, n))
                return true;
    /* out of reach: the hex digits scrambled, not the pseudonym */
    uint8_t md[32];
    ps_mac('6', ep.addr, 16, 0, md);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i], r = md[i % 32];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            p[i] = (uint8_t)"0123456789abcdef"[r % 16];
    }
    ps.unmatched++;
    return true;
}
