/*
 * tui.h - the ncurses timeline (--tui): a session list and the selected
 * session's timeline (transcript or ladder), as docs/interface.md describes.
 *
 * The timeline is an sc_sink (record.h). It keeps a compact index of every
 * session in memory (about 150 bytes each) and spills transcript lines and
 * findings to an anonymous temporary file (sc_tmpfile(), in TMPDIR); only the selected
 * session's records are read back, so memory does not grow with the size
 * of the capture.
 *
 * Offline use (main, after the analysis):
 *
 *     sc_sink *tui = sc_tui_sink_new(cfg);
 *     sc_tui_set_evidence(tui, write_bundle, ctx);    optional
 *     hooks.progress = sc_tui_progress; hooks.ctx = tui;  unless -q
 *     ... run the pipeline with tui among the sinks ...
 *     sc_tui_progress_end(tui);
 *     rc = sc_tui_run(tui);      blocks until `q` (or SIGINT/SIGTERM/SIGHUP)
 *     tui->destroy(tui);
 *
 * Live use (-i IFACE --tui): the screen opens before the capture and the
 * packet loop keeps feeding the sink; between packets (or on a pcap
 * timeout) the loop gives the keyboard a turn:
 *
 *     if (sc_tui_start(tui) < 0) ...;     opens the screen
 *     while (capturing) {
 *         ... dispatch some packets (the sink receives records) ...
 *         if (sc_tui_poll(tui, 0) != 0)   redraws if something changed,
 *             break;                      handles pending keys; 1 = quit
 *     }
 *     sc_tui_stop(tui);                   closes the screen
 *
 * sc_tui_poll(tui, ms) waits at most ms milliseconds for a key (0: does not
 * wait; use a small value such as 100 when the capture is idle). The live
 * loop owns SIGINT/SIGTERM (they end the capture); sc_tui_run, once the
 * capture is over, lets the user browse the final state.
 *
 * The terminal is restored on `q`, on SIGINT/SIGTERM/SIGHUP (handlers only
 * set a flag; the loop notices within 200 ms and calls endwin), at exit()
 * (atexit) and on a crash signal (SIGSEGV, SIGBUS, SIGABRT, SIGFPE: the
 * handler restores the saved termios with tcsetattr(), which is
 * async-signal-safe, leaves the alternate screen, then re-raises).
 *
 * Keys (also on the `?` screen):
 *   Up/Down j/k       move (in the focused pane)     mouse wheel: scroll
 *   PgUp/PgDn space   page                           g/G (Home/End): first/last
 *   Left/Right < >    scroll long lines sideways     0: back to column 0
 *   Enter             focus the timeline             Tab: switch pane
 *   n/N               next/previous finding, across sessions; after a
 *                     search, next/previous match until Esc ends the search
 *   /                 search text (case-insensitive, in the escaped text
 *                     as shown), from the cursor on, across sessions
 *   s                 sort sessions: id, start, findings
 *   f                 only sessions with findings (toggle)
 *   t                 absolute/relative time
 *   l                 ladder/transcript
 *   e                 evidence bundle of the selected session
 *   ?                 help          q: quit
 *
 * Diagnostics: sc_tui_start/sc_tui_run return -1 when standard input or
 * output is not a terminal or the terminal cannot be initialised, with a
 * one-line reason on stderr. A failing spill file (disk full) is reported
 * in the status line; the session list keeps working.
 */
#ifndef SC_TUI_H
#define SC_TUI_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/record.h"

/* Writes the evidence bundle of session session_id of capture_file (each
 * file of -r numbers its sessions from 1; capture_file is the
 * sc_session_info.capture_file the session came with, "" when none, valid
 * during the call); puts a one-line message for
 * the status line in msg (NUL-terminated, at most len bytes, e.g. "wrote
 * ev/session-3.pcap, ev/session-3.txt"). Returns 0 or -1 (msg says why).
 * Runs while the screen is open: it must not write to the terminal. */
typedef int (*sc_tui_evidence_fn)(void *ctx, const char *capture_file,
                                  uint64_t session_id, char *msg, size_t len);

/* The timeline sink; NULL when the temporary file cannot be created
 * (reason on stderr). cfg must outlive the sink. */
sc_sink *sc_tui_sink_new(const sc_config *cfg);

/* Installs the handler of the `e` key (without one, `e` says so). */
void sc_tui_set_evidence(sc_sink *tui, sc_tui_evidence_fn fn, void *ctx);

/* Offline: opens the screen on the first session with a finding, runs the
 * key loop until the user quits, restores the terminal. Returns 0 after
 * `q`, 1 when a signal ended it, -1 when no terminal could be used. */
int sc_tui_run(sc_sink *tui);

/* Live: open the screen, give it a turn (0 go on, 1 the user quit, -1
 * error), close it. sc_tui_run may follow sc_tui_stop to browse the
 * final state. */
int sc_tui_start(sc_sink *tui);
int sc_tui_poll(sc_sink *tui, int timeout_ms);
void sc_tui_stop(sc_sink *tui);

/* Progress of an offline analysis, with the signature of
 * sc_pipeline_hooks.progress (ctx: the timeline sink or NULL): a bar on
 * the terminal's standard error, drawn at most ten times a second, with
 * sessions and findings so far; nothing when stderr is not a terminal.
 * sc_tui_progress_end erases it before the screen opens. */
void sc_tui_progress(void *ctx, uint64_t done, uint64_t total);
void sc_tui_progress_end(void *ctx);

#endif
