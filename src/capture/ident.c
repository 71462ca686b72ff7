/*
 * ident.c - which file a capture name stood for (capture.h:
 * sc_capture_watch, sc_capture_changed).
 *
 * The evidence bundle reads the capture files of -r again after the
 * analysis (the packet cut, the hash). Should a name have been given to
 * another file in between (a rotation, a copy over it) or the file have
 * been written to, that reading would cut other packets, silently. So the
 * files of -r are watched: the first time each is opened (by the
 * analysis), the device, inode, size and modification time of the
 * descriptor read (fstat) are kept; every later opening of the name
 * compares its own descriptor's and remembers a difference, which
 * sc_capture_changed then tells.
 *
 * Memory: one record per watched name (the files of -r), never per
 * session or packet; names not watched (live spools) are not kept.
 *
 * Diagnostics: none here; sc_capture_changed says what differs ("inode
 * 12 -> 34, size 100 -> 200") for the caller's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "reader.h"

typedef struct ident {
    const char     *path;
    bool            seen;        /* opened once: the fields below hold */
    dev_t           dev;
    ino_t           ino;
    off_t           size;
    struct timespec mtime;
    bool            changed;
    char            why[160];
} ident;

static ident *ident_tab;
static size_t ident_n;

void sc_capture_watch(const char *const *paths, size_t n)
{
    free(ident_tab);
    ident_n = 0;
    if (!(ident_tab = calloc(n ? n : 1, sizeof *ident_tab)))
        return;                  /* not watched: nothing is compared */
    for (size_t i = 0; i < n; i++)
        if (paths[i] && strcmp(paths[i], "-") != 0)
            ident_tab[ident_n++].path = paths[i];
}

static ident *ident_find(const char *path)
{
    for (size_t i = 0; path && i < ident_n; i++)
        if (strcmp(ident_tab[i].path, path) == 0)
            return &ident_tab[i];
    return NULL;
}

/* "inode 12 -> 34, size 100 -> 200": what differs, or "" when nothing. */
static void ident_diff(const ident *id, const struct stat *st, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = 0;
#define IDENT_ADD(...) \
    do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
    if (id->dev != st->st_dev)
        IDENT_ADD("%sdevice %llu -> %llu", n ? ", " : "", (unsigned long long)id->dev,
                  (unsigned long long)st->st_dev);
    if (id->ino != st->st_ino)
        IDENT_ADD("%sinode %llu -> %llu", n ? ", " : "", (unsigned long long)id->ino,
                  (unsigned long long)st->st_ino);
    if (id->size != st->st_size)
        IDENT_ADD("%ssize %lld -> %lld bytes", n ? ", " : "", (long long)id->size,
                  (long long)st->st_size);
    if (id->mtime.tv_sec != st->st_mtim.tv_sec || id->mtime.tv_nsec != st->st_mtim.tv_nsec)
        IDENT_ADD("%smodified since it was read", n ? ", " : "");
#undef IDENT_ADD
}

void sc_capture_ident_seen(const char *path, const struct stat *st)
{
    ident *id = ident_find(path);

    if (!id)
        return;
    if (!id->seen) {
        id->seen = true;
        id->dev = st->st_dev;
        id->ino = st->st_ino;
        id->size = st->st_size;
        id->mtime = st->st_mtim;
        return;
    }
    if (!id->changed) {
        ident_diff(id, st, id->why, sizeof id->why);
        id->changed = id->why[0] != 0;
    }
}

bool sc_capture_changed(const char *path, char *why, size_t len)
{
    const ident *id = ident_find(path);

    if (!id || !id->changed)
        return false;
    if (len)
        snprintf(why, len, "%s", id->why);
    return true;
}

bool sc_capture_check_stat(const char *path, const struct stat *st, char *why, size_t len)
{
    sc_capture_ident_seen(path, st);
    return sc_capture_changed(path, why, len);
}
