/*
 * tui_screen.h - the terminal's life cycle for the timeline (screen.c):
 * open and close the curses screen, the quit flag set by SIGINT, SIGTERM
 * and SIGHUP, and the restoration of the terminal on a crash or exit().
 */
#ifndef SC_TUI_SCREEN_H
#define SC_TUI_SCREEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Colour pairs. */
enum { TUI_C_ERROR = 1, TUI_C_WARNING, TUI_C_INFO, TUI_C_DATA, TUI_C_SERVER,
       TUI_C_BAR, TUI_C_MATCH };

/* Opens the screen (stdin and stdout must be terminals). Returns 0, or -1
 * with a reason in err. */
int tui_screen_open(char *err, size_t errlen);
void tui_screen_close(void);
bool tui_screen_is_open(void);
/* True when box-drawing characters can be shown (UTF-8 locale). */
bool tui_screen_utf8(void);

/* While on, SIGINT, SIGTERM and SIGHUP set tui_screen_quit instead of
 * killing the process; off restores the previous handlers. */
void tui_screen_catch_quit(bool on);
extern volatile sig_atomic_t tui_screen_quit;

#endif
