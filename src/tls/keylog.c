/*
 * keylog.c - the NSS key log files of --tls-keylog, looked up by client
 * random.
 *
 * A line is "LABEL <client random, 64 hex> <secret, hex>"; the labels kept
 * are CLIENT_RANDOM (TLS 1.2 master secret) and the four TLS 1.3 traffic
 * secrets (tls.h, sc_kl_label). Other labels, comments (#) and malformed
 * lines are skipped. Each file is read up to its last complete line and
 * its offset kept: a lookup that misses reads on from there (a live MTA
 * appends a session's lines just before its first records), at most once
 * per lookup, so an unchanged file costs one stat per miss.
 *
 * sc_keylog_lines() writes one client random's lines back out (the
 * evidence of one session carries its own keys only).
 *
 * Key log text can also come from elsewhere than a file
 * (sc_keylog_add_text: a pcapng's Decryption Secrets Blocks), line by
 * line as a file's.
 *
 * The table is an open-addressing hash on the client random, doubled when
 * half full. Its size follows the key log's (a file the user chose), not
 * the capture's.
 *
 * Interface: src/tls/tls.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tls.h"

typedef struct kl_entry {
    bool    used;
    uint8_t cr[32];
    uint8_t len[SC_KL_COUNT];
    uint8_t secret[SC_KL_COUNT][SC_TLS_SECRET_MAX];
} kl_entry;

typedef struct kl_file {
    const char *path;
    long        off;       /* bytes read: up to the last complete line */
} kl_file;

struct sc_keylog {
    kl_file  *files;
    size_t    nfiles;
    kl_entry *tab;
    size_t    cap, n;      /* cap: a power of two */
};

static const struct { const char *name; sc_kl_label label; } labels[] = {
    { "CLIENT_RANDOM",                   SC_KL_MASTER },
    { "CLIENT_HANDSHAKE_TRAFFIC_SECRET", SC_KL_CHS },
    { "SERVER_HANDSHAKE_TRAFFIC_SECRET", SC_KL_SHS },
    { "CLIENT_TRAFFIC_SECRET_0",         SC_KL_CTS0 },
    { "SERVER_TRAFFIC_SECRET_0",         SC_KL_STS0 },
};

static size_t kl_hash(const uint8_t cr[32], size_t cap)
{
    uint64_t h;

    memcpy(&h, cr, sizeof h);      /* randoms are random */
    return (size_t)h & (cap - 1);
}

static kl_entry *kl_slot(kl_entry *tab, size_t cap, const uint8_t cr[32])
{
    size_t i = kl_hash(cr, cap);

    while (tab[i].used && memcmp(tab[i].cr, cr, 32) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static bool kl_grow(sc_keylog *kl)
{
    size_t cap = kl->cap ? kl->cap * 2 : 64;
    kl_entry *tab = calloc(cap, sizeof *tab);

    if (!tab)
        return false;
    for (size_t i = 0; i < kl->cap; i++)
        if (kl->tab[i].used)
            *kl_slot(tab, cap, kl->tab[i].cr) = kl->tab[i];
    free(kl->tab);
    kl->tab = tab;
    kl->cap = cap;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits to bytes: the number of bytes, or 0 when s is not max or
 * fewer bytes of hex ending at a space or the end. */
static size_t unhex(const char *s, uint8_t *out, size_t max, const char **end)
{
    size_t n = 0;

    while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
        if (n == max)
            return 0;
        out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
        s += 2;
    }
    *end = s;
    return n;
}

static void kl_line(sc_keylog *kl, const char *line)
{
    uint8_t cr[32], secret[SC_TLS_SECRET_MAX];
    const char *p = line, *e;
    size_t i, n;

    for (i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        size_t l = strlen(labels[i].name);
        if (strncmp(line, labels[i].name, l) == 0 && line[l] == ' ') {
            p = line + l + 1;
            break;
        }
    }
    if (i == sizeof labels / sizeof labels[0])
        return;
    if (unhex(p, cr, sizeof cr, &e) != 32 || *e != ' ')
        return;
    n = unhex(e + 1, secret, sizeof secret, &e);
    if (n == 0 || (*e && *e != '\r' && *e != '\n'))
        return;
    if (labels[i].label == SC_KL_MASTER && n != 48)
        return;
    if ((kl->n + 1) * 2 > kl->cap && !kl_grow(kl))
        return;
    kl_entry *en = kl_slot(kl->tab, kl->cap, cr);
    if (!en->used) {
        en->used = true;
        memcpy(en->cr, cr, 32);
        kl->n++;
    }
    memcpy(en->secret[labels[i].label], secret, n);
    en->len[labels[i].label] = (uint8_t)n;
}

/* Reads f on from its offset, complete lines only. */
static int kl_read(sc_keylog *kl, kl_file *f)
{
    char line[512];
    FILE *fp = fopen(f->path, "r");

    if (!fp)
        return -1;
    if (fseek(fp, f->off, SEEK_SET) != 0) {
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n') {
            if (l == sizeof line - 1) {
                /* too long for a key log line: skip the rest of it */
                int c;
                long skipped = (long)l;
                while ((c = fgetc(fp)) != EOF && c != '\n')
                    skipped++;
                if (c == EOF)
                    break;
                f->off += skipped + 1;
                continue;
            }
            break;          /* the last line is still being written */
        }
        f->off += (long)l;
        kl_line(kl, line);
    }
    fclose(fp);
    return 0;
}

sc_keylog *sc_keylog_open(const char *const *files, size_t n, char *err, size_t errlen)
{
    sc_keylog *kl = calloc(1, sizeof *kl);

    if (!kl || !(kl->files = calloc(n ? n : 1, sizeof *kl->files))) {
        snprintf(err, errlen, "out of memory");
        free(kl);
        return NULL;
    }
    kl->nfiles = n;
    for (size_t i = 0; i < n; i++) {
        kl->files[i].path = files[i];
        if (kl_read(kl, &kl->files[i]) < 0) {
            snprintf(err, errlen, "--tls-keylog %s: %s", files[i], strerror(errno));
            sc_keylog_free(kl);
            return NULL;
        }
    }
    return kl;
}

size_t sc_keylog_add_text(sc_keylog *kl, const uint8_t *p, size_t n)
{
    char line[512];
    size_t before = kl->n, i = 0;

    while (i < n) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        size_t l = (nl ? (size_t)(nl - p) : n) - i;
        if (l < sizeof line) {   /* a longer line is no key log line */
            memcpy(line, p + i, l);
            line[l] = 0;
            kl_line(kl, line);
        }
        i += l + 1;
    }
    return kl->n - before;
}

static const kl_entry *kl_get(const sc_keylog *kl, const uint8_t cr[32])
{
    if (!kl->cap)
        return NULL;
    const kl_entry *en = kl_slot(kl->tab, kl->cap, cr);
    return en->used ? en : NULL;
}

const uint8_t *sc_keylog_find(sc_keylog *kl, const uint8_t client_random[32],
                              sc_kl_label label, size_t *len)
{
    const kl_entry *en = kl_get(kl, client_random);

    if (!en || !en->len[label]) {
        for (size_t i = 0; i < kl->nfiles; i++) {
            struct stat st;
            if (stat(kl->files[i].path, &st) == 0 && st.st_size > kl->files[i].off)
                (void)kl_read(kl, &kl->files[i]);
        }
        en = kl_get(kl, client_random);
    }
    if (!en || !en->len[label])
        return NULL;
    *len = en->len[label];
    return en->secret[label];
}

size_t sc_keylog_lines(const sc_keylog *kl, const uint8_t client_random[32],
                       char *out, size_t outlen)
{
    const kl_entry *en = kl_get(kl, client_random);
    size_t n = 0;

    if (!en || outlen == 0)
        return 0;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        sc_kl_label l = labels[i].label;
        size_t need = strlen(labels[i].name) + 1 + 64 + 1 + 2 * (size_t)en->len[l] + 1;
        if (!en->len[l])
            continue;
        if (n + need >= outlen)
            return 0;
        n += (size_t)sprintf(out + n, "%s ", labels[i].name);
        for (int k = 0; k < 32; k++)
            n += (size_t)sprintf(out + n, "%02x", en->cr[k]);
        out[n++] = ' ';
        for (size_t k = 0; k < en->len[l]; k++)
            n += (size_t)sprintf(out + n, "%02x", en->secret[l][k]);
        out[n++] = '\n';
    }
    out[n] = 0;
    return n;
}

size_t sc_keylog_count(const sc_keylog *kl)
{
    return kl->n;
}

void sc_keylog_free(sc_keylog *kl)
{
    if (!kl)
        return;
    free(kl->tab);
    free(kl->files);
    free(kl);
}
