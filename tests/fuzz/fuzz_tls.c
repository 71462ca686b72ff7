/*
 * fuzz_tls.c - fuzz target for the TLS record layer (sc_tls, src/tls/):
 * records split anyhow across segments, handshake messages across
 * records, hellos with any lengths, hostile record headers, and records
 * that fail their tag, with a key log that knows one client random so
 * that the key schedule and the record opening are reached.
 *
 * The input is a script of operations until it ends:
 *   op byte: bit7 direction (0 client, 1 server), bits0-2 kind
 *     kind 0 BYTES  len:1, then len bytes of stream
 *     kind 1 BYTES  len:2 (big endian), then len bytes
 *     kind 2 GAP    bytes missing from the capture
 *     kind 3 HELLO  a ClientHello record with the key log's client random
 *     kind 4 SERVER suite:1 (index into fz_suites) then a ServerHello
 *                   record for it (TLS 1.3 with supported_versions when the
 *                   suite is one), then a ChangeCipherSpec record
 *     kind 5 RECORD type:1, len:2, then len bytes as one record body
 *     other  ignored
 * Each input runs one connection, fed to sc_tls with callbacks that check
 * what the layer promises: plaintext chunks no larger than one record,
 * frames never ahead of the one being fed, a state among sc_tls_state.
 * A violation aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/tls.h"

#define FZ_RECORD_PLAIN_MAX (16384 + 2048)

static sc_keylog *fz_kl;
static uint64_t fz_frame;

static const uint8_t fz_random[32] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
};
static const uint16_t fz_suites[] = { 0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xCCA8, 0x009C, 0x0035 };

static void fz_init(void)
{
    static const char *const labels[] = {
        "CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
    };
    char path[] = "/dev/shm/fuzz_tls_keylog.XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    char err[256];

    if (!f)
        abort();
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        fprintf(f, "%s ", labels[i]);
        for (int k = 0; k < 32; k++)
            fprintf(f, "5a");
        fputc(' ', f);
        for (int k = 0; k < (i == 0 ? 48 : 32); k++)
            fprintf(f, "%02x", (unsigned)(k * 7 + i));
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        abort();
    const char *files[1] = { path };
    fz_kl = sc_keylog_open(files, 1, err, sizeof err);
    unlink(path);     /* read on a miss: gone, so nothing more is read */
    if (!fz_kl)
        abort();
}

static void fz_data(void *ctx, sc_dir dir, const uint8_t *p, size_t n, uint64_t frame,
                    struct timeval ts)
{
    (void)ctx; (void)ts;
    if ((dir != SC_DIR_C2S && dir != SC_DIR_S2C) || n == 0 || n > FZ_RECORD_PLAIN_MAX ||
        frame > fz_frame)
        abort();
    volatile uint8_t sink = p[0] ^ p[n - 1];
    (void)sink;
}

static void fz_gap(void *ctx, sc_dir dir, uint64_t n, uint64_t frame, struct timeval ts)
{
    (void)ctx; (void)dir; (void)ts;
    if (n > FZ_RECORD_PLAIN_MAX || frame > fz_frame)
        abort();
}

static void fz_state(void *ctx, sc_tls_state st, uint64_t frame, struct timeval ts)
{
    (void)ctx; (void)ts;
    if (st > SC_TLS_FAILED || frame > fz_frame)
        abort();
}

static void fz_note(void *ctx, sc_dir dir, uint64_t frame, struct timeval ts, const char *msg)
{
    (void)ctx; (void)dir; (void)ts;
    if (frame > fz_frame || strlen(msg) >= 256)
        abort();
}

static const sc_tls_ops fz_ops = { fz_data, fz_gap, fz_state, fz_note };

static void fz_feed(sc_tls *t, sc_dir dir, const uint8_t *p, size_t n)
{
    struct timeval ts = { 0, 0 };
    sc_tls_feed(t, dir, p, n, ++fz_frame, ts);
}

static size_t fz_hello(uint8_t *b, bool server, uint16_t suite)
{
    size_t n = 0, body;

    b[n++] = 22; b[n++] = 3; b[n++] = 3; n += 2;        /* record header */
    b[n++] = server ? 2 : 1; n += 3;                      /* handshake header */
    body = n;
    b[n++] = 3; b[n++] = 3;
    memcpy(b + n, fz_random, 32);
    if (server)
        b[n] ^= 1;                                        /* a server random */
    n += 32;
    b[n++] = 0;                                           /* session id */
    if (server) {
        b[n++] = (uint8_t)(suite >> 8); b[n++] = (uint8_t)suite;
        b[n++] = 0;                                       /* compression */
        if (suite >> 8 == 0x13) {
            static const uint8_t ext[] = { 0, 6, 0x00, 0x2b, 0, 2, 3, 4 };
            memcpy(b + n, ext, sizeof ext);
            n += sizeof ext;
        }
    } else {
        static const uint8_t rest[] = { 0, 2, 0x13, 0x01, 1, 0, 0, 0 };
        memcpy(b + n, rest, sizeof rest);
        n += sizeof rest;
    }
    b[3] = (uint8_t)((n - 5) >> 8); b[4] = (uint8_t)(n - 5);
    b[6] = 0; b[7] = (uint8_t)((n - body) >> 8); b[8] = (uint8_t)(n - body);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t buf[128], rec[5];
    size_t i = 0;

    if (!fz_kl)
        fz_init();
    fz_frame = 0;
    sc_tls *t = sc_tls_new(fz_kl, &fz_ops, NULL);
    if (!t)
        return 0;
    while (i < size) {
        uint8_t op = data[i++];
        sc_dir dir = op & 0x80 ? SC_DIR_S2C : SC_DIR_C2S;
        size_t len = 0;
        switch (op & 7) {
        case 0:
        case 1:
            if (i + 1 + (op & 1) > size)
                goto out;
            len = (op & 1) ? (size_t)data[i] << 8 | data[i + 1] : data[i];
            i += 1 + (op & 1);
            if (len > size - i)
                len = size - i;
            fz_feed(t, dir, data + i, len);
            i += len;
            break;
        case 2: {
            struct timeval ts = { 0, 0 };
            sc_tls_gap(t, dir, 100, ++fz_frame, ts);
            break;
        }
        case 3:
            fz_feed(t, SC_DIR_C2S, buf, fz_hello(buf, false, 0));
            break;
        case 4: {
            static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
            if (i >= size)
                goto out;
            uint16_t suite = fz_suites[data[i++] % (sizeof fz_suites / sizeof fz_suites[0])];
            fz_feed(t, SC_DIR_S2C, buf, fz_hello(buf, true, suite));
            fz_feed(t, dir, ccs, sizeof ccs);
            break;
        }
        case 5:
            if (i + 3 > size)
                goto out;
            len = (size_t)data[i + 1] << 8 | data[i + 2];
            rec[0] = data[i]; rec[1] = 3; rec[2] = 3;
            i += 3;
            if (len > size - i)
                len = size - i;
            rec[3] = (uint8_t)(len >> 8); rec[4] = (uint8_t)len;
            fz_feed(t, dir, rec, 5);
            fz_feed(t, dir, data + i, len);
            i += len;
            break;
        default:
            break;
        }
    }
out:
    (void)sc_tls_get_state(t);
    (void)sc_tls_version(t);
    (void)sc_tls_cipher(t);
    sc_tls_free(t);
    return 0;
}
