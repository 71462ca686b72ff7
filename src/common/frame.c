/*
 * frame.c - frames named for people: "#17" while the capture is one file,
 * "c2.pcap#17" when it is several (src/common/frame.h, interface.md).
 *
 * The names are those of the capture opened last (sc_capture_open_files
 * sets them), kept for the whole process: one run reads one capture, and
 * what opens it again (the evidence cut, the timeline's `e`) opens the
 * same files. A file is named without its directory, unless two of the
 * files would then share a name: then every file is named as it was
 * given. Standard input is "(stdin)".
 *
 * Without memory for the names, frames are named by number alone (the
 * file's position is then lost from the output, never the frame).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define FRAME_RING 8                 /* names in use at once (one printf) */

static char       **frame_names;     /* by position in time order */
static const char *const *frame_paths_given;
static size_t       frame_nnames;

static void frame_names_free(void)
{
    for (size_t i = 0; i < frame_nnames; i++)
        free(frame_names[i]);
    free(frame_names);
    frame_names = NULL;
    frame_paths_given = NULL;
    frame_nnames = 0;
}

static const char *frame_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (strcmp(path, "-") == 0)
        return "(stdin)";
    return slash && slash[1] ? slash + 1 : path;
}

void sc_frame_names_set(const char *const *paths, size_t n)
{
    static const char **kept;
    bool full = false;

    frame_names_free();
    free(kept);
    kept = NULL;
    if (n < 2)
        return;
    for (size_t i = 0; i < n && !full; i++)
        for (size_t j = i + 1; j < n && !full; j++)
            full = strcmp(frame_base(paths[i]), frame_base(paths[j])) == 0;
    frame_names = calloc(n, sizeof *frame_names);
    kept = calloc(n, sizeof *kept);
    if (!frame_names || !kept) {
        free(frame_names);
        frame_names = NULL;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = full && strcmp(paths[i], "-") != 0 ? paths[i] : frame_base(paths[i]);
        kept[i] = paths[i];
        if (!(frame_names[i] = strdup(name))) {
            frame_nnames = i;
            frame_names_free();
            return;
        }
    }
    frame_nnames = n;
    frame_paths_given = kept;
}

bool sc_frame_named(void)
{
    return frame_nnames > 1;
}

static const char *frame_format(uint64_t frame, const char *hash)
{
    static char ring[FRAME_RING][FRAME_NAME_MAX];
    static unsigned turn;
    char *buf = ring[turn++ % FRAME_RING];
    uint64_t file = SC_FRAME_FILE(frame);

    if (frame_nnames > 1 && file < frame_nnames)
        snprintf(buf, FRAME_NAME_MAX, "%.260s#%" PRIu64, frame_names[file],
                 SC_FRAME_NUMBER(frame));
    else
        snprintf(buf, FRAME_NAME_MAX, "%s%" PRIu64, hash, SC_FRAME_NUMBER(frame));
    return buf;
}

const char *sc_frame_name(uint64_t frame)
{
    return frame_format(frame, "#");
}

const char *sc_frame_bare(uint64_t frame)
{
    return frame_format(frame, "");
}

const char *sc_frame_path(uint64_t frame)
{
    uint64_t file = SC_FRAME_FILE(frame);

    return frame_nnames > 1 && file < frame_nnames ? frame_paths_given[file] : NULL;
}
