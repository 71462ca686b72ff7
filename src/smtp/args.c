/*
 * args.c - readers of SMTP command arguments (see args.h). Pure: each
 * reads one command line and touches no state; the tables (parameters
 * and the extension each needs, AUTH mechanisms) are data.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "command.h"

void sc_arg_after(const uint8_t *t, size_t n, const char *prefix,
                  const uint8_t **ap, size_t *an)
{
    size_t i = 0;

    while (i < n && t[i] != ' ')
        i++;
    while (i < n && t[i] == ' ')
        i++;
    i += sc_word_prefix(t + i, n - i, prefix);
    while (i < n && t[i] == ' ')
        i++;
    *ap = t + i;
    *an = n - i;
}

/* The parameters of a MAIL or RCPT line are the words after its address
 * (after its first '>'; without one, none): where they start. */
static size_t arg_params_start(const uint8_t *t, size_t n)
{
    const uint8_t *gt = memchr(t, '>', n);

    return gt ? (size_t)(gt - t) + 1 : n;
}

/* From *i: where the next word starts; *i goes past its end. */
static size_t arg_next_word(const uint8_t *t, size_t n, size_t *i)
{
    size_t st;

    while (*i < n && t[*i] == ' ')
        ++*i;
    st = *i;
    while (*i < n && t[*i] != ' ')
        ++*i;
    return st;
}

/* The value of the parameter `name` when the word w is it: "SIZE=" takes
 * a value, "SMTPUTF8" is the whole word. */
static const uint8_t *arg_param_value(const uint8_t *w, size_t wl, const char *name,
                                      size_t *vlen)
{
    size_t nl = sc_word_prefix(w, wl, name);

    if (!nl || (name[nl - 1] != '=' && wl != nl))
        return NULL;
    *vlen = wl - nl;
    return w + nl;
}

const uint8_t *sc_arg_param(const uint8_t *t, size_t n, const char *name, size_t *vlen)
{
    size_t i = arg_params_start(t, n);

    while (i < n) {
        size_t st = arg_next_word(t, n, &i);
        const uint8_t *v = arg_param_value(t + st, i - st, name, vlen);
        if (v)
            return v;
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
    if (sc_word_prefix(a + i, an - i, "LAST")) {
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

#define SC_ARG_NPARAMS (sizeof sc_arg_params / sizeof sc_arg_params[0])

size_t sc_arg_unadvertised(const uint8_t *t, size_t n, unsigned ext, char *out, size_t cap)
{
    /* The first value of each parameter of the table, then of BODY=: the
     * line's words are read once, not once per parameter. */
    size_t ml = 0, i = arg_params_start(t, n);

    if (cap)
        out[0] = '\0';
    while (i < n && t[i] == ' ')
        i++;
    if (i == n)             /* no parameter: most RCPT lines, many MAIL lines */
        return 0;

    const uint8_t *val[SC_ARG_NPARAMS + 1] = { NULL };
    size_t vl[SC_ARG_NPARAMS + 1] = { 0 };

    while (i < n) {
        size_t st = arg_next_word(t, n, &i);
        for (size_t k = 0; k <= SC_ARG_NPARAMS && st < i; k++) {
            const char *name = k < SC_ARG_NPARAMS ? sc_arg_params[k].param : "BODY=";
            if (!val[k] && sc_word_first_may(t[st], name))
                val[k] = arg_param_value(t + st, i - st, name, &vl[k]);
        }
    }
    for (size_t k = 0; k < SC_ARG_NPARAMS; k++)
        if (ml < cap && val[k] && !(ext & sc_arg_params[k].ext))
            ml += (size_t)snprintf(out + ml, cap - ml, "%s%s", ml ? ", " : "",
                                   sc_arg_params[k].param);
    /* BODY= needs the keyword of the body type it names (RFC 6152, RFC 3030). */
    if (val[SC_ARG_NPARAMS]) {
        const uint8_t *body = val[SC_ARG_NPARAMS];
        size_t bl = vl[SC_ARG_NPARAMS];
        unsigned want = sc_word_is(body, bl, "BINARYMIME") ? SC_EXT_BINARYMIME
                                                           : SC_EXT_8BITMIME;
        if (!(ext & want) && ml < cap)
            ml += (size_t)snprintf(out + ml, cap - ml, "%sBODY=%.*s", ml ? ", " : "",
                                   (int)(bl < 16 ? bl : 16), (const char *)body);
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
        if (sc_word_is(a, i, sc_arg_mechs[k].name))
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
