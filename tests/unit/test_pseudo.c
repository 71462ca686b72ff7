/*
 * test_pseudo.c - the pseudonyms of --redact=addresses (src/common/pseudo.c):
 * an IPv4 text of every length 7-15 becomes its address's pseudonym in as
 * many characters, inside 240.0.0.0/4 or 0.0.0.0/8; 20 000 addresses of
 * the crowded short lengths get 20 000 pseudonyms; an IPv6 literal long
 * enough is written as its pseudonym (in 2001:db8::/96) in as many
 * characters and reads back as it; names keep their length and layout, a
 * dotted host name of 7 characters or more ends in ".test", case does not
 * matter for host names; the same key file gives the same pseudonyms, and
 * a short key file is refused.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pseudo.h"
#include "tap.h"

static size_t v4(char *buf, size_t len, unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (size_t)snprintf(buf, len, "%u.%u.%u.%u", a, b, c, d);
}

/* the pseudonym of a dotted quad, or "" */
static void map4(const char *in, char *out)
{
    strcpy(out, in);
    if (!sc_pseudo_ipv4_text((uint8_t *)out, strlen(out)))
        out[0] = '\0';
}

int main(void)
{
    char err[256], t[64], u[64];
    char keyf[] = "/tmp/test_pseudo_XXXXXX";
    int fd = mkstemp(keyf);

    T_CHECK(fd >= 0 && write(fd, "0123456789abcdef0123456789abcdef", 32) == 32,
            "a key file written");
    close(fd);
    T_CHECK(sc_pseudo_init(keyf, err, sizeof err) == 0, "the key file is read (%s)", err);

    /* every length, both ways of being short */
    static const unsigned q[][4] = {
        { 1, 2, 3, 4 }, { 10, 0, 0, 1 }, { 127, 0, 0, 1 }, { 192, 0, 2, 1 },
        { 192, 0, 2, 130 }, { 203, 0, 113, 77 }, { 198, 51, 100, 200 },
        { 172, 160, 200, 255 }, { 255, 255, 255, 255 },
    };
    bool lens = true, ranges = true;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        v4(t, sizeof t, q[i][0], q[i][1], q[i][2], q[i][3]);
        map4(t, u);
        struct in_addr a;
        lens &= strlen(u) == strlen(t);
        ranges &= inet_pton(AF_INET, u, &a) == 1 &&
                  (((uint8_t *)&a)[0] >= 240 || ((uint8_t *)&a)[0] == 0) &&
                  ((uint8_t *)&a)[0] != 255 && a.s_addr != 0;
    }
    T_CHECK(lens, "an IPv4 text of 7 to 15 characters keeps its length");
    T_CHECK(ranges, "IPv4 pseudonyms in 240.0.0.0/4 (not 255) or 0.0.0.0/8 (not 0.0.0.0)");
    map4("010.000.000.001", u);
    T_CHECK(strlen(u) == 15, "leading zeros: the pseudonym padded to the length (%s)", u);
    map4("10.0.0.1", t);
    char pad[16];
    map4("010.000.000.001", pad);
    unsigned o1[4], o2[4];      /* decimal: inet_aton would read 010 as octal */
    T_CHECK(sscanf(t, "%u.%u.%u.%u", &o1[0], &o1[1], &o1[2], &o1[3]) == 4 &&
            sscanf(pad, "%u.%u.%u.%u", &o2[0], &o2[1], &o2[2], &o2[3]) == 4 &&
            memcmp(o1, o2, sizeof o1) == 0,
            "with leading zeros, the same address's pseudonym (%s, %s)", t, pad);
    map4("256.1.1.1", u);
    T_CHECK(u[0] == '\0', "256.1.1.1 is no address: left alone");

    /* 20 000 addresses of 8 and 9 characters: no two pseudonyms alike */
    size_t n = 0, dup = 0;
    char (*seen)[16] = calloc(20000, 16);
    for (unsigned a = 1; a < 100 && n < 20000; a++)
        for (unsigned b = 0; b < 10 && n < 20000; b++)
            for (unsigned c = 0; c < 10 && n < 20000; c++)
                for (unsigned d = 0; d < 10 && n < 20000; d++) {
                    v4(t, sizeof t, a, b, c, d);
                    if (strlen(t) < 8)
                        continue;
                    map4(t, seen[n++]);
                }
    qsort(seen, n, 16, (int (*)(const void *, const void *))strcmp);
    for (size_t i = 1; i < n; i++)
        dup += strcmp(seen[i - 1], seen[i]) == 0;
    T_CHECK(n == 20000 && dup == 0, "%zu addresses, %zu shared pseudonyms", n, dup);
    T_CHECK(sc_pseudo_unchecked() == 0, "all of them checked against the others");
    free(seen);

    /* IPv6 */
    const char *v6 = "2001:470:1f0b:1a2b:3c4d:5e6f:7a8b:9c9d";
    strcpy(t, v6);
    T_CHECK(sc_pseudo_ipv6_text((uint8_t *)t, strlen(t)), "an IPv6 text is an address");
    struct in6_addr a6, b6;
    T_CHECK(strlen(t) == strlen(v6) && inet_pton(AF_INET6, t, &a6) == 1 &&
            memcmp(&a6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0", 12) == 0,
            "written as its pseudonym in 2001:db8::/96, as long (%s)", t);
    strcpy(u, "2001:470:1f0b:1a2b:3c4d:5e6f:7a8b:09c9d");
    T_CHECK(!sc_pseudo_ipv6_text((uint8_t *)u, strlen(u)), "a group of 5 digits is no address");
    strcpy(u, "2001:470:1f0b:1a2b:3c4d:5e6f:7a8b:9c9d");
    sc_pseudo_ipv6_text((uint8_t *)u, strlen(u));
    T_CHECK(inet_pton(AF_INET6, u, &b6) == 1 && memcmp(&a6, &b6, 16) == 0,
            "the same address, the same pseudonym");
    uint64_t before = sc_pseudo_unmatched();
    strcpy(u, "::1");
    sc_pseudo_ipv6_text((uint8_t *)u, 3);
    T_CHECK(strcmp(u, "::1") != 0 || sc_pseudo_unmatched() == before + 1,
            "::1 cannot hold a pseudonym: scrambled and counted");

    /* names */
    char d1[] = "mx7.realcorp.com", d2[] = "MX7.RealCorp.COM", d3[] = "mailsrv01";
    char l1[] = "John.Smith+tag";
    sc_pseudo_domain((uint8_t *)d1, strlen(d1));
    sc_pseudo_domain((uint8_t *)d2, strlen(d2));
    sc_pseudo_domain((uint8_t *)d3, strlen(d3));
    sc_pseudo_local((uint8_t *)l1, strlen(l1));
    T_CHECK(strlen(d1) == 16 && strcmp(d1 + 11, ".test") == 0 && d1[3] == '.' &&
            strcmp(d1, "mx7.realcorp.com") != 0, "a host name: its length, its first dot, .test (%s)", d1);
    T_CHECK(strcmp(d1, d2) == 0, "host names are taken case-insensitively");
    T_CHECK(strlen(d3) == 9 && !strchr(d3, '.') && d3[7] >= '0' && d3[7] <= '9',
            "a dotless name stays dotless, digits stay digits (%s)", d3);
    T_CHECK(strlen(l1) == 14 && l1[4] == '.' && l1[10] == '+' && strcmp(l1, "John.Smith+tag") != 0,
            "a local part keeps its punctuation (%s)", l1);

    /* the same key, the same pseudonyms; a short key refused */
    map4("203.0.113.77", t);
    sc_pseudo_done();
    T_CHECK(sc_pseudo_init(keyf, err, sizeof err) == 0, "the key file read again");
    map4("203.0.113.77", u);
    T_CHECK(strcmp(t, u) == 0, "the same key file, the same pseudonym (%s)", u);
    sc_pseudo_done();
    T_CHECK(sc_pseudo_init(NULL, err, sizeof err) == 0, "a random key");
    map4("203.0.113.77", u);
    T_CHECK(strcmp(t, u) != 0 || strcmp(t, "") == 0, "a random key, another pseudonym");
    sc_pseudo_done();
    fd = open(keyf, O_WRONLY | O_TRUNC);
    T_CHECK(fd >= 0 && write(fd, "short", 5) == 5, "a short key file written");
    close(fd);
    T_CHECK(sc_pseudo_init(keyf, err, sizeof err) < 0 && strstr(err, "16 to 4096"),
            "a key of 5 bytes refused (%s)", err);
    unlink(keyf);
    T_DONE();
}
