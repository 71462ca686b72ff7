/*
 * test_tls.c - the TLS layer's parts (src/tls/): the TLS 1.3 key schedule
 * against RFC 8448's trace; the key log reader (malformed lines skipped,
 * a file read on when it grew, a last line still being written), key log
 * lines held in memory, one client random's lines written back, and those
 * of a pcapng's Decryption Secrets Blocks (before the first packet, of
 * the TLS type, lengths checked); the record layer on hellos fed one byte
 * at a time and on hostile headers; and the bridge into a session: a
 * handshake that fails after the keys were found leaves the session
 * encrypted and unread (no finding about a plaintext session that went
 * silent), and a TLS 1.2 session decrypted through it ends with its key
 * log lines for the evidence, except under --redact. The decryption
 * itself is tested end to end by tests/tls.sh (tshark).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "tls/tls_int.h"
#include "common/config.h"
#include "session/session.h"
#include "session/tls_bridge.h"
#include "tap.h"

static void unhex(const char *s, uint8_t *out)
{
    for (size_t i = 0; s[2 * i]; i++)
        sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void test_rfc8448(void)
{
    uint8_t secret[32], key[16], iv[12];
    tls_keys k;

    /* RFC 8448 §3: the server's handshake traffic secret and its keys */
    unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", secret);
    unhex("3fce516009c21727d0f2e4e86ee403bc", key);
    unhex("5d313eb2671276ee13000b30", iv);
    T_CHECK(tls13_traffic_keys(tls_suite_find(0x1301), secret, 32, &k) &&
            memcmp(k.key, key, 16) == 0 && memcmp(k.iv, iv, 12) == 0,
            "HKDF-Expand-Label: RFC 8448 server handshake key and iv");
    T_CHECK(tls_suite_find(0x1303) && tls_suite_find(0xC030) && !tls_suite_find(0x0035),
            "suite table: TLS 1.3 and 1.2 AEAD suites, no CBC");
}

#define RA "1111111111111111111111111111111111111111111111111111111111111111"
#define RB "2222222222222222222222222222222222222222222222222222222222222222"
#define SEC "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"

static void test_keylog(void)
{
    char path[] = "/tmp/test_tls_keylog.XXXXXX", err[256], longline[700];
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    uint8_t ra[32], rb[32], sec[32];
    const uint8_t *p;
    size_t len = 0;

    if (!f) {
        T_CHECK(0, "temporary key log");
        return;
    }
    unhex(RA, ra);
    unhex(RB, rb);
    unhex(SEC, sec);
    memset(longline, 'x', sizeof longline - 2);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    fputs("# comment\n", f);
    fputs(longline, f);
    fputs("CLIENT_RANDOM 1111 " SEC "\n", f);                       /* short random */
    fputs("CLIENT_RANDOM " RA " " SEC "\n", f);                     /* 32 bytes: not a master */
    fputs("UNKNOWN_LABEL " RA " " SEC "\n", f);
    fputs("SERVER_HANDSHAKE_TRAFFIC_SECRET " RA " " SEC "\r\n", f);
    fputs("CLIENT_TRAFFIC_SECRET_0 " RB " " SEC, f);                /* being written */
    fflush(f);
    const char *files[1] = { path };
    sc_keylog *kl = sc_keylog_open(files, 1, err, sizeof err);
    T_CHECK(kl != NULL, "key log opened");
    if (!kl)
        goto out;
    p = sc_keylog_find(kl, ra, SC_KL_SHS, &len);
    T_CHECK(p && len == 32 && memcmp(p, sec, 32) == 0,
            "a line after a 700-byte line and malformed ones, CRLF ended, is found");
    T_CHECK(!sc_keylog_find(kl, ra, SC_KL_MASTER, &len), "a CLIENT_RANDOM that is not 48 bytes is skipped");
    T_CHECK(!sc_keylog_find(kl, rb, SC_KL_CTS0, &len), "a last line without its newline is not read yet");
    fputs("\n", f);
    fflush(f);
    p = sc_keylog_find(kl, rb, SC_KL_CTS0, &len);
    T_CHECK(p && len == 32, "once its newline is written, a miss reads the file on");
    T_CHECK(sc_keylog_count(kl) == 2, "two client randoms known (%zu)", sc_keylog_count(kl));
    for (int i = 0; i < 200; i++) {
        fprintf(f, "CLIENT_RANDOM %064x %096x\n", i + 1000, i);
    }
    fflush(f);
    uint8_t r[32] = { 0 };
    r[30] = (uint8_t)((1000 + 199) >> 8);
    r[31] = (uint8_t)(1000 + 199);
    p = sc_keylog_find(kl, r, SC_KL_MASTER, &len);
    T_CHECK(p && len == 48 && p[47] == 199, "200 appended lines: the table grew, the last is found");
    sc_keylog_free(kl);
    const char *none[1] = { "/nonexistent/keylog" };
    T_CHECK(!sc_keylog_open(none, 1, err, sizeof err) && strstr(err, "/nonexistent/keylog"),
            "a missing file is an error naming it");
out:
    fclose(f);
    unlink(path);
}

static void test_bridge(const uint8_t *chr, size_t chn, const uint8_t *sh, size_t shn);

/* A ClientHello record (client random 09..09), and the SMTP up to
 * STARTTLS's 220. */
static const uint8_t ch[] = {
    22, 3, 1, 0, 42, 1, 0, 0, 38, 3, 3,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    0, 0, 0, 0,
};
static const char *const dialogue[][2] = {
    { "S", "220 mx ESMTP\r\n" }, { "C", "EHLO c\r\n" },
    { "S", "250-mx\r\n250 STARTTLS\r\n" }, { "C", "STARTTLS\r\n" },
    { "S", "220 go ahead\r\n" },
};

static int nnotes, nstates, ndata;
static sc_tls_state last;
static void t_data(void *c, sc_dir d, const uint8_t *p, size_t n, uint64_t fr, struct timeval ts)
{ (void)c; (void)d; (void)p; (void)n; (void)fr; (void)ts; ndata++; }
static void t_state(void *c, sc_tls_state st, uint64_t fr, struct timeval ts)
{ (void)c; (void)fr; (void)ts; nstates++; last = st; }
static void t_note(void *c, sc_dir d, uint64_t fr, struct timeval ts, const char *m)
{ (void)c; (void)d; (void)fr; (void)ts; (void)m; nnotes++; }
static const sc_tls_ops ops = { t_data, NULL, t_state, t_note };

static void test_records(void)
{
    /* a ClientHello and a TLS 1.3 ServerHello, as records */
    static const uint8_t sh[] = {
        22, 3, 3, 0, 50, 2, 0, 0, 46, 3, 3,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        0, 0x13, 0x01, 0, 0, 6, 0x00, 0x2b, 0, 2, 3, 4,
    };
    struct timeval ts = { 0, 0 };
    char err[64];
    const char *files[1] = { "/dev/null" };
    sc_keylog *kl = sc_keylog_open(files, 1, err, sizeof err);
    sc_tls *t = sc_tls_new(kl, &ops, NULL);

    for (size_t i = 0; i < sizeof ch; i++)
        sc_tls_feed(t, SC_DIR_C2S, ch + i, 1, i + 1, ts);
    for (size_t i = 0; i < sizeof sh; i++)
        sc_tls_feed(t, SC_DIR_S2C, sh + i, 1, 100 + i, ts);
    T_CHECK(last == SC_TLS_NO_KEY && nstates == 1 && sc_tls_version(t) &&
            strcmp(sc_tls_version(t), "TLS 1.3") == 0 &&
            strcmp(sc_tls_cipher(t), "TLS_AES_128_GCM_SHA256") == 0,
            "hellos fed a byte at a time: TLS 1.3, the suite, no key");
    sc_tls_free(t);

    static const uint8_t huge[] = { 23, 3, 3, 0xff, 0xff };
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    nstates = nnotes = 0;
    t = sc_tls_new(kl, &ops, NULL);
    sc_tls_feed(t, SC_DIR_C2S, huge, sizeof huge, 1, ts);
    T_CHECK(last == SC_TLS_FAILED && nnotes == 1, "a record longer than TLS allows: failed, one note");
    sc_tls_feed(t, SC_DIR_C2S, huge, sizeof huge, 2, ts);
    T_CHECK(nnotes == 1, "nothing more is read after that");
    sc_tls_free(t);
    nstates = nnotes = 0;
    t = sc_tls_new(kl, &ops, NULL);
    sc_tls_feed(t, SC_DIR_S2C, http, sizeof http - 1, 1, ts);
    T_CHECK(last == SC_TLS_FAILED && nnotes == 1 && ndata == 0, "bytes that are not TLS: failed, no data");
    sc_tls_free(t);
    T_CHECK(sc_tls_is_client_hello(ch, sizeof ch) && !sc_tls_is_client_hello(sh, sizeof sh) &&
            !sc_tls_is_client_hello(http, sizeof http - 1), "a ClientHello is told from the rest");
    sc_keylog_free(kl);
    test_bridge(ch, sizeof ch, sh, sizeof sh);
}

static unsigned bfind;
static const char *bstate;
static bool btls;
static char bsecrets[SC_KL_LINES_MAX];
static void b_finding(sc_sink *k, const sc_session_info *si, const sc_finding *f)
{ (void)k; (void)si; (void)f; bfind++; }
static void b_end(sc_sink *k, const sc_session_info *si)
{
    (void)k;
    bstate = si->tls_state;
    btls = si->tls;
    snprintf(bsecrets, sizeof bsecrets, "%s", si->tls_secrets ? si->tls_secrets : "");
}

static void b_event(sc_tls_bridge **b, sc_keylog *kl, sc_smtp *s, sc_flow_kind kind, sc_dir d,
                    const void *p, size_t n, uint64_t frame)
{
    sc_flow_event ev = { .kind = kind, .dir = d, .data = p, .len = n, .frame = frame,
                         .end = SC_END_CLOSED };
    if (!sc_tls_bridge_event(b, kl, s, &ev, NULL, NULL))
        sc_smtp_event(s, &ev);
}

static void test_bridge(const uint8_t *chr, size_t chn, const uint8_t *sh, size_t shn)
{
    char path[] = "/tmp/test_tls_bridge.XXXXXX", err[256];
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!f)
        return;
    fputs("CLIENT_HANDSHAKE_TRAFFIC_SECRET 0909090909090909090909090909090909090909090909090909090909090909 " SEC "\n", f);
    fputs("SERVER_HANDSHAKE_TRAFFIC_SECRET 0909090909090909090909090909090909090909090909090909090909090909 " SEC "\n", f);
    fclose(f);
    const char *files[1] = { path };
    sc_keylog *kl = sc_keylog_open(files, 1, err, sizeof err);
    sc_config cfg;
    sc_conn conn = { .id = 1, .handshake_seen = true, .first_frame = 1 };
    sc_sink sink = { .finding = b_finding, .session_end = b_end };
    sc_tls_bridge *b = NULL;

    bfind = 0;
    conn.server.port = 25;
    sc_config_defaults(&cfg);
    sc_smtp *s = sc_smtp_new(&cfg, &conn, &sink, "bridge");
    uint64_t fr = 1;
    for (size_t i = 0; i < sizeof dialogue / sizeof dialogue[0]; i++)
        b_event(&b, kl, s, SC_FLOW_DATA, dialogue[i][0][0] == 'C' ? SC_DIR_C2S : SC_DIR_S2C,
                dialogue[i][1], strlen(dialogue[i][1]), fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, chr, chn, fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_S2C, sh, shn, fr++);
    b_event(&b, kl, s, SC_FLOW_FIN, SC_DIR_C2S, NULL, 0, fr++);   /* the client gives up */
    b_event(&b, kl, s, SC_FLOW_FIN, SC_DIR_S2C, NULL, 0, fr++);
    b_event(&b, kl, s, SC_FLOW_CLOSE, SC_DIR_C2S, NULL, 0, fr++);
    T_CHECK(bstate && strcmp(bstate, "handshake") == 0 && btls && bfind == 0,
            "keys found, no record of data: encrypted, unread, no finding (%s, %u)",
            bstate ? bstate : "-", bfind);
    sc_tls_bridge_free(b);
    sc_smtp_free(s);
    sc_keylog_free(kl);
    unlink(path);
}

/* One TLS 1.2 AES-128-GCM record sealed with k (RFC 5288): header,
 * explicit nonce, ciphertext, tag. Returns its length. */
static size_t seal12(tls_keys *k, uint8_t type, const char *pt, uint8_t *out)
{
    size_t n = strlen(pt);
    uint8_t nonce[12], aad[13];
    int l = 0;
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();

    memcpy(nonce, k->iv, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = aad[i] = (uint8_t)(k->seq >> (56 - 8 * i));
    aad[8] = type, aad[9] = 3, aad[10] = 3, aad[11] = (uint8_t)(n >> 8), aad[12] = (uint8_t)n;
    out[0] = type, out[1] = 3, out[2] = 3;
    out[3] = (uint8_t)((8 + n + 16) >> 8), out[4] = (uint8_t)(8 + n + 16);
    memcpy(out + 5, nonce + 4, 8);
    EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, k->key, nonce);
    EVP_EncryptUpdate(cx, NULL, &l, aad, 13);
    EVP_EncryptUpdate(cx, out + 13, &l, (const uint8_t *)pt, (int)n);
    EVP_EncryptFinal_ex(cx, out + 13 + n, &l);
    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_AEAD_GET_TAG, 16, out + 13 + n);
    EVP_CIPHER_CTX_free(cx);
    k->seq++;
    return 13 + n + 16;
}

/* A STARTTLS session in TLS 1.2 decrypted through the bridge (a
 * heartbeat record among the protected ones): its key log line reaches
 * the session's end (for the evidence), not under --redact. */
static void test_secrets(bool redact)
{
    static const uint8_t sh[] = {
        22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        0, 0xC0, 0x2F, 0,
    };
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    static const char line[] = "CLIENT_RANDOM "
        "0909090909090909090909090909090909090909090909090909090909090909 " SEC
        "00112233445566778899aabbccddeeff\n";
    uint8_t cr[32], sr[32], master[48], rec[256];
    tls_keys kc, ks;
    char err[64];
    sc_keylog *kl = sc_keylog_open(NULL, 0, err, sizeof err);
    sc_config cfg;
    sc_conn conn = { .id = 1, .handshake_seen = true, .first_frame = 1 };
    sc_sink sink = { .finding = b_finding, .session_end = b_end };
    sc_tls_bridge *b = NULL;
    uint64_t fr = 1;

    if (!kl)
        return;
    bfind = 0;
    sc_keylog_add_text(kl, (const uint8_t *)line, sizeof line - 1);
    memset(cr, 9, 32);
    memset(sr, 7, 32);
    unhex(SEC "00112233445566778899aabbccddeeff", master);
    if (!tls12_key_block(tls_suite_find(0xC02F), master, cr, sr, &kc, &ks))
        T_CHECK(0, "TLS 1.2 key block");
    conn.server.port = 25;
    sc_config_defaults(&cfg);
    cfg.redact = redact;
    sc_smtp *s = sc_smtp_new(&cfg, &conn, &sink, "secrets");
    for (size_t i = 0; i < sizeof dialogue / sizeof dialogue[0]; i++)
        b_event(&b, kl, s, SC_FLOW_DATA, dialogue[i][0][0] == 'C' ? SC_DIR_C2S : SC_DIR_S2C,
                dialogue[i][1], strlen(dialogue[i][1]), fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, ch, sizeof ch, fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_S2C, sh, sizeof sh, fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, ccs, sizeof ccs, fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, rec, seal12(&kc, 22, "finished", rec), fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_S2C, ccs, sizeof ccs, fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_S2C, rec, seal12(&ks, 22, "finished", rec), fr++);
    /* a heartbeat takes a sequence number as any protected record */
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, rec, seal12(&kc, 24, "heartbeat", rec), fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_C2S, rec, seal12(&kc, 23, "EHLO c\r\n", rec), fr++);
    b_event(&b, kl, s, SC_FLOW_DATA, SC_DIR_S2C, rec, seal12(&ks, 23, "250 mx\r\n", rec), fr++);
    b_event(&b, kl, s, SC_FLOW_CLOSE, SC_DIR_C2S, NULL, 0, fr++);
    T_CHECK(bstate && strcmp(bstate, "decrypted") == 0 && bfind == 0,
            "a TLS 1.2 session through the bridge is decrypted, no finding (%s, %u)",
            bstate ? bstate : "-", bfind);
    if (redact)
        T_CHECK(bsecrets[0] == 0, "--redact: the session's key log lines are left out");
    else
        T_CHECK(strcmp(bsecrets, line) == 0,
                "the session's end carries its key log line for the evidence");
    sc_tls_bridge_free(b);
    sc_smtp_free(s);
    sc_keylog_free(kl);
}

static void test_keylog_lines(void)
{
    static const char text[] =
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RA " " SEC "\n"
        "SERVER_TRAFFIC_SECRET_0 " RA " " SEC "\n"
        "CLIENT_TRAFFIC_SECRET_0 " RB " " SEC "\n";
    static const char want[] =
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RA " " SEC "\n"
        "SERVER_TRAFFIC_SECRET_0 " RA " " SEC "\n";
    char out[SC_KL_LINES_MAX], err[64];
    uint8_t ra[32], rc[32];
    sc_keylog *kl = sc_keylog_open(NULL, 0, err, sizeof err);

    if (!kl)
        return;
    unhex(RA, ra);
    memset(rc, 0x33, sizeof rc);
    sc_keylog_add_text(kl, (const uint8_t *)text, sizeof text - 1);
    T_CHECK(sc_keylog_lines(kl, ra, out, sizeof out) == sizeof want - 1 && strcmp(out, want) == 0,
            "one client random's key log lines, and only its own");
    T_CHECK(sc_keylog_lines(kl, rc, out, sizeof out) == 0, "an unknown client random: none");
    T_CHECK(sc_keylog_lines(kl, ra, out, sizeof want - 1) == 0, "a buffer too short: none");
    sc_keylog_free(kl);
}

static void test_keylog_text(void)
{
    static const char text[] =
        "# secrets\r\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET " RA " " SEC "\r\n"
        "CLIENT_RANDOM " RA " 00\n"
        "CLIENT_TRAFFIC_SECRET_0 " RB " " SEC;        /* no newline: complete */
    uint8_t ra[32], rb[32], sec[32];
    char err[64];
    size_t len = 0;
    sc_keylog *kl = sc_keylog_open(NULL, 0, err, sizeof err);

    unhex(RA, ra);
    unhex(RB, rb);
    unhex(SEC, sec);
    T_CHECK(kl && sc_keylog_count(kl) == 0, "an empty key log without files");
    if (!kl)
        return;
    T_CHECK(sc_keylog_add_text(kl, (const uint8_t *)text, strlen(text)) == 2,
            "key log text: two client randoms");
    const uint8_t *p = sc_keylog_find(kl, ra, SC_KL_SHS, &len);
    T_CHECK(p && len == 32 && memcmp(p, sec, 32) == 0, "key log text: a CRLF line");
    T_CHECK(sc_keylog_find(kl, rb, SC_KL_CTS0, &len) != NULL,
            "key log text: the last line without its newline is whole");
    T_CHECK(!sc_keylog_find(kl, ra, SC_KL_MASTER, &len), "key log text: a short master skipped");
    T_CHECK(sc_keylog_add_text(kl, (const uint8_t *)text, strlen(text)) == 0,
            "key log text again: nothing new");
    sc_keylog_free(kl);
}

/* pcapng blocks, little-endian: type, total length, body, total length. */
static size_t png_block(uint8_t *out, uint32_t type, const void *body, size_t n)
{
    uint32_t len = (uint32_t)(12 + (n + 3) / 4 * 4);

    memset(out, 0, len);
    memcpy(out, &type, 4);
    memcpy(out + 4, &len, 4);
    memcpy(out + 8, body, n);
    memcpy(out + len - 4, &len, 4);
    return len;
}

static size_t png_dsb(uint8_t *out, uint32_t stype, const char *secrets, uint32_t claimed)
{
    uint8_t body[512];
    size_t n = strlen(secrets);

    memcpy(body, &stype, 4);
    memcpy(body + 4, &claimed, 4);
    memcpy(body + 8, secrets, n);
    return png_block(out, 0x0A, body, 8 + n);
}

static void on_secrets(void *ctx, const uint8_t *p, size_t n)
{
    (void)sc_keylog_add_text(ctx, p, n);
}

static void test_pcapng_secrets(void)
{
    static const uint8_t shb[] = { 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t idb[] = { 1, 0, 0, 0, 0xff, 0xff, 0, 0 };
    static const char l1[] = "CLIENT_RANDOM " RA " " SEC "00112233445566778899aabbccddeeff\n";
    static const char l2[] = "SERVER_TRAFFIC_SECRET_0 " RB " " SEC "\n";
    uint8_t buf[4096], epb[20 + 4] = { 0 }, ra[32], rb[32];
    size_t n = 0, len;
    char path[] = "/tmp/test_tls_dsb.XXXXXX", err[64];
    int fd = mkstemp(path);

    unhex(RA, ra);
    unhex(RB, rb);
    epb[12] = epb[16] = 4;                       /* captured, original: 4 */
    n += png_block(buf + n, 0x0A0D0D0A, shb, sizeof shb);
    n += png_block(buf + n, 1, idb, sizeof idb);
    n += png_dsb(buf + n, SC_SECRETS_TLS_KEYLOG, l1, sizeof l1 - 1);
    n += png_dsb(buf + n, 0x57474b4c, l2, sizeof l2 - 1);          /* WireGuard */
    n += png_dsb(buf + n, SC_SECRETS_TLS_KEYLOG, l2, 4000);        /* past its block */
    n += png_block(buf + n, 6, epb, sizeof epb);
    n += png_dsb(buf + n, SC_SECRETS_TLS_KEYLOG, l2, sizeof l2 - 1);  /* after a packet */
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
        T_CHECK(0, "temporary pcapng");
        return;
    }
    close(fd);
    sc_keylog *kl = sc_keylog_open(NULL, 0, err, sizeof err);
    if (!kl)
        return;
    T_CHECK(sc_capture_pcapng_secrets(path, SC_SECRETS_TLS_KEYLOG, on_secrets, kl) == 1,
            "pcapng: one TLS secrets block before the first packet");
    T_CHECK(sc_keylog_find(kl, ra, SC_KL_MASTER, &len) && len == 48,
            "pcapng: its key log line is kept");
    T_CHECK(!sc_keylog_find(kl, rb, SC_KL_STS0, &len),
            "pcapng: another secrets type, a length past the block, a block after a packet: "
            "not read");
    T_CHECK(sc_capture_pcapng_secrets("/nonexistent", SC_SECRETS_TLS_KEYLOG, on_secrets, kl) == 0 &&
            sc_capture_pcapng_secrets("-", SC_SECRETS_TLS_KEYLOG, on_secrets, kl) == 0,
            "pcapng secrets: a missing file and standard input give none");
    sc_keylog_free(kl);
    unlink(path);
}

int main(void)
{
    test_rfc8448();
    test_keylog();
    test_keylog_text();
    test_keylog_lines();
    test_pcapng_secrets();
    test_secrets(false);
    test_secrets(true);
    test_records();
    T_DONE();
}
