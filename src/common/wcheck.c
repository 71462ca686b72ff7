/*
 * wcheck.c - write failures said once and kept for the exit status
 * (src/common/wcheck.h).
 *
 * Outputs are many and report their failures from deep inside; one
 * process-wide record is what the exit status needs. The names of the
 * outputs already printed are kept in a small table so that a disk that
 * stays full gives one line per output, not one per write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safeprint.h"
#include "wcheck.h"

#define WCHECK_SAID_MAX 16

static bool wcheck_failed;
static char *wcheck_said[WCHECK_SAID_MAX];
static unsigned wcheck_nsaid;

static bool wcheck_already_said(const char *what)
{
    for (unsigned i = 0; i < wcheck_nsaid; i++)
        if (strcmp(wcheck_said[i], what) == 0)
            return true;
    if (wcheck_nsaid < WCHECK_SAID_MAX) {
        char *copy = strdup(what);
        if (copy)
            wcheck_said[wcheck_nsaid++] = copy;
    }
    return false;
}

void sc_write_lost(const char *what, int err, const char *lost)
{
    wcheck_failed = true;
    if (wcheck_already_said(what))
        return;
    fputs("smtpscope: ", stderr);
    sc_safe_fputs(stderr, (const uint8_t *)what, strlen(what));
    fprintf(stderr, ": %s%s%s\n", err ? strerror(err) : "write error",
            lost && *lost ? "; " : "", lost ? lost : "");
}

void sc_write_incomplete(const char *what, const char *why)
{
    wcheck_failed = true;
    fputs("smtpscope: ", stderr);
    sc_safe_fputstr(stderr, what);
    fputs(": ", stderr);
    sc_safe_fputstr(stderr, why);
    fputc('\n', stderr);
}

bool sc_write_failed(void)
{
    return wcheck_failed;
}

int sc_write_check(FILE *out, const char *what, const char *lost)
{
    errno = 0;
    if (fflush(out) == 0 && !ferror(out))
        return 0;
    sc_write_lost(what, errno, lost);
    return -1;
}

FILE *sc_tmpfile(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int fd, n;
    FILE *fp;

    if (!dir || !*dir)
        dir = "/tmp";
    n = snprintf(path, sizeof path, "%s/smtpscope-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if ((fd = mkstemp(path)) < 0)      /* 0600, O_EXCL */
        return NULL;
    unlink(path);
    if (!(fp = fdopen(fd, "w+b"))) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}
