/*
 * frame.h - frames named for people when a capture is several files
 * (src/common/frame.c).
 *
 * A frame is a 64-bit number: its number in its file, as Wireshark numbers
 * it, plus the file's position in the capture (time order, merge.c) times
 * 2^SC_FRAME_FILE_SHIFT. One file alone is numbered as it always was.
 * Every output names frames through sc_frame_name(): "#17" while the
 * capture is one file, "c2.pcap#17" when it is several (interface.md).
 */
#ifndef SC_FRAME_H
#define SC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_FRAME_FILE_SHIFT 40
#define FRAME_NAME_MAX      300   /* the longest sc_frame_name(), with its NUL */
#define SC_FRAME_NUMBER(f)  ((f) & ((UINT64_C(1) << SC_FRAME_FILE_SHIFT) - 1))
#define SC_FRAME_FILE(f)    ((f) >> SC_FRAME_FILE_SHIFT)

/* The files of the capture opened last, in time order (sc_capture_open_*
 * call it): frames are named by file only when there are several. */
void sc_frame_names_set(const char *const *paths, size_t n);
/* True while frames are named by file (a capture of several files). */
bool sc_frame_named(void);
/* A frame for people: "#17", or "c2.pcap#17" (the file's name without its
 * directory, or the path given when two files share a name). The string
 * is one of 8 kept in turn: up to 8 names in one printf. */
const char *sc_frame_name(uint64_t frame);
/* The same without the "#" while the capture is one file ("17"), for
 * messages that say "frame 17". */
const char *sc_frame_bare(uint64_t frame);
/* The path given for the frame's file; NULL while frames are not named. */
const char *sc_frame_path(uint64_t frame);

#endif
