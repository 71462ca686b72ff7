/*
 * args.c - readers of SMTP command arguments (see args.h). Pure: each
 * reads one command line and touches no state; the tables (parameters
 * and the extension each needs, AUTH mechanisms) are data.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "command.h"

void sc_arg_after(const uint8_t *t, size_t n, const char *prefix,
                  const uint8_t **ap, size_t *an)
{
    size_t i = 0, pl = strlen(prefix);

    while (i < n && t[i] != ' ')
        i++;
    while (i < n && t[i] == ' ')
        i++;
    if (pl && n - i >= pl && strncasecmp((const char *)t + i, prefix, pl) == 0)
        i += pl;
    while (i < n && t[i] == ' ')
        i++;
    *ap = t + i;
    *an = n - i;
}

const uint8_t *sc_arg_param(const uint8_t *t, size_t n, const char *name, size_t *vlen)
{
    size_t i, nl = strlen(name);
    const uint8_t *gt = memchr(t, '>', n);

    i = gt ? (size_t)(gt - t) + 1 : n;
    while (i < n) {
        while (i < n && t[i] == ' ')
            i++;
        size_t st = i;
        while (i < n && t[i] != ' ')
            i++;
        if (i - st >= nl && strncasecmp((const char *)t + st, name, nl) == 0 &&
            (name[nl - 1] == '=' || i - st == nl)) {
            *vlen = i - st - nl;
            return t + st + nl;
        }
    }
    return NULL;
}

uint64_t sc_arg_number(const uint8_t *p, size_t n, bool *ok)
{
    uint64_t v = 0;

    *ok = n > 0 && n <= 19;
    for (size_t i = 0; i < n && *ok; i++) {
        if (p[i] < '0' || p[i] > '9')
            *ok = false;
        else
            v = v * 10 + (uint64_t)(p[i] - '0');
    }
    return v;
}

/* RFC 3030 §2: "BDAT" SP chunk-size [ SP end-marker ] with end-marker
 * "LAST". Anything else is a syntax error that the server refuses without
 * reading a chunk (Postfix: "501/521 5.5.4 Syntax: BDAT count [LAST]"). */
sc_bdat_syntax sc_arg_bdat(const uint8_t *t, size_t n, uint64_t *size, bool *last)
{
    const uint8_t *a;
    size_t an, i = 0;
    bool ok;

    *last = false;
    sc_arg_after(t, n, "", &a, &an);
    while (i < an && a[i] != ' ')
        i++;
    *size = sc_arg_number(a, i, &ok);
    if (!ok)
        return SC_BDAT_BAD_SIZE;
    while (i < an && a[i] == ' ')
        i++;
    if (an - i >= 4 && strncasecmp((const char *)a + i, "LAST", 4) == 0) {
        *last = true;
        i += 4;
        while (i < an && a[i] == ' ')
            i++;
    }
    if (i < an) {
        *last = false;
        return SC_BDAT_BAD_END;
    }
    return SC_BDAT_OK;
}

/* Extension parameters of MAIL/RCPT and the EHLO keyword each needs. */
static const struct { const char *param; unsigned ext; } sc_arg_params[] = {
    { "SIZE=", SC_EXT_SIZE }, { "SMTPUTF8", SC_EXT_SMTPUTF8 },
    { "RET=", SC_EXT_DSN }, { "ENVID=", SC_EXT_DSN }, { "NOTIFY=", SC_EXT_DSN },
    { "ORCPT=", SC_EXT_DSN },
};

size_t sc_arg_unadvertised(const uint8_t *t, size_t n, unsigned ext, char *out, size_t cap)
{
    size_t ml = 0, vl;
    const uint8_t *val;

    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < sizeof sc_arg_params / sizeof sc_arg_params[0]; i++)
        if (ml < cap && sc_arg_param(t, n, sc_arg_params[i].param, &vl) &&
            !(ext & sc_arg_params[i].ext))
            ml += (size_t)snprintf(out + ml, cap - ml, "%s%s", ml ? ", " : "",
                                   sc_arg_params[i].param);
    /* BODY= needs the keyword of the body type it names (RFC 6152, RFC 3030). */
    if ((val = sc_arg_param(t, n, "BODY=", &vl))) {
        unsigned want = (vl == 10 && strncasecmp((const char *)val, "BINARYMIME", 10) == 0)
                        ? SC_EXT_BINARYMIME : SC_EXT_8BITMIME;
        if (!(ext & want) && ml < cap)
            ml += (size_t)snprintf(out + ml, cap - ml, "%sBODY=%.*s", ml ? ", " : "",
                                   (int)(vl < 16 ? vl : 16), (const char *)val);
    }
    return ml < cap ? ml : (cap ? cap - 1 : 0);
}

/* RFC 4954 §4: an AUTH with an initial response may end a pipelined group
 * early only for a mechanism that completes in one round trip with no
 * security layer ("Two examples of such SASL mechanisms are PLAIN [PLAIN]
 * and EXTERNAL [SASL]"); PLAIN and LOGIN carry the password itself. */
static const struct { const char *name; unsigned bits; } sc_arg_mechs[] = {
    { "PLAIN", SC_AUTH_CREDENTIALS | SC_AUTH_ONE_ROUND },
    { "LOGIN", SC_AUTH_CREDENTIALS },
    { "EXTERNAL", SC_AUTH_ONE_ROUND },
};

unsigned sc_arg_auth(const uint8_t *t, size_t n, const uint8_t **mech, size_t *mlen,
                     size_t *resp)
{
    const uint8_t *a;
    size_t an, i = 0;

    sc_arg_after(t, n, "", &a, &an);
    while (i < an && a[i] != ' ')
        i++;
    *mech = a;
    *mlen = i;
    *resp = (size_t)(a - t) + i;
    for (size_t k = 0; k < sizeof sc_arg_mechs / sizeof sc_arg_mechs[0]; k++)
        if (strlen(sc_arg_mechs[k].name) == i &&
            strncasecmp((const char *)a, sc_arg_mechs[k].name, i) == 0)
            return sc_arg_mechs[k].bits;
    return 0;
}

size_t sc_arg_word(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] != ' ' && p[i] != '\t')
        i++;
    return i;
}
