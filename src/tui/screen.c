/*
 * screen.c - opening and closing the curses screen, and putting the
 * terminal back whatever happens.
 *
 * - q, or the end of sc_tui_run: endwin() from the key loop.
 * - SIGINT, SIGTERM, SIGHUP (while sc_tui_run runs): the handler only sets
 *   tui_screen_quit; the key loop polls the keyboard every 200 ms, sees
 *   the flag and leaves through endwin(), which is not signal-safe and so
 *   is never called from a handler.
 * - exit() from elsewhere with the screen open: an atexit handler calls
 *   endwin().
 * - SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL: the handler restores the
 *   termios saved before the screen opened (tcsetattr is
 *   async-signal-safe), writes the sequences that show the cursor, stop
 *   mouse reporting and leave the alternate screen, then lets the signal
 *   take its default action.
 *
 * Diagnostics: tui_screen_open explains in err why no screen was opened.
 */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui_screen.h"

volatile sig_atomic_t tui_screen_quit;

static SCREEN *screen_cur;
static struct termios screen_saved;
static bool screen_saved_ok, screen_utf8, screen_atexit_set;
static struct sigaction screen_old_quit[3];
static const int screen_quit_sigs[3] = { SIGINT, SIGTERM, SIGHUP };
static const int screen_crash_sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
static struct sigaction screen_old_crash[sizeof screen_crash_sigs / sizeof screen_crash_sigs[0]];

static void screen_on_quit(int sig)
{
    (void)sig;
    tui_screen_quit = 1;
}

static void screen_on_crash(int sig)
{
    static const char reset[] = "\033[?1000l\033[?1002l\033[?1006l\033[?25h\033[0m\033[?1049l\r\n";

    if (screen_saved_ok)
        tcsetattr(STDIN_FILENO, TCSANOW, &screen_saved);
    if (write(STDOUT_FILENO, reset, sizeof reset - 1) < 0) {
        /* nothing more can be done from here */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void screen_atexit(void)
{
    tui_screen_close();
}

void tui_screen_catch_quit(bool on)
{
    for (int i = 0; i < 3; i++) {
        if (on) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = screen_on_quit;
            sigemptyset(&sa.sa_mask);
            sigaction(screen_quit_sigs[i], &sa, &screen_old_quit[i]);
        } else {
            sigaction(screen_quit_sigs[i], &screen_old_quit[i], NULL);
        }
    }
    if (on)
        tui_screen_quit = 0;
}

static void screen_colors_init(void)
{
    static const struct { short pair, fg, bg; } pairs[] = {
        { TUI_C_ERROR,   COLOR_RED,     -1 },
        { TUI_C_WARNING, COLOR_YELLOW,  -1 },
        { TUI_C_INFO,    COLOR_CYAN,    -1 },
        { TUI_C_DATA,    COLOR_MAGENTA, -1 },
        { TUI_C_SERVER,  COLOR_GREEN,   -1 },
        { TUI_C_BAR,     COLOR_BLACK,   COLOR_CYAN },
        { TUI_C_MATCH,   COLOR_BLACK,   COLOR_YELLOW },
    };

    if (!has_colors() || getenv("NO_COLOR"))
        return;
    start_color();
    use_default_colors();
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        init_pair(pairs[i].pair, pairs[i].fg, pairs[i].bg);
}

int tui_screen_open(char *err, size_t errlen)
{
    if (screen_cur)
        return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "--tui needs a terminal on standard input and output");
        return -1;
    }
    setlocale(LC_ALL, "");
    screen_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    screen_saved_ok = tcgetattr(STDIN_FILENO, &screen_saved) == 0;
    screen_cur = newterm(NULL, stdout, stdin);
    if (!screen_cur) {
        const char *term = getenv("TERM");
        snprintf(err, errlen, "--tui: cannot use terminal type '%s'", term ? term : "(unset)");
        return -1;
    }
    set_term(screen_cur);
    for (size_t i = 0; i < sizeof screen_crash_sigs / sizeof screen_crash_sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = screen_on_crash;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(screen_crash_sigs[i], &sa, &screen_old_crash[i]);
    }
    if (!screen_atexit_set) {
        atexit(screen_atexit);
        screen_atexit_set = true;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    mousemask(BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    screen_colors_init();
    return 0;
}

void tui_screen_close(void)
{
    if (!screen_cur)
        return;
    mousemask(0, NULL);
    curs_set(1);
    endwin();
    delscreen(screen_cur);
    screen_cur = NULL;
    for (size_t i = 0; i < sizeof screen_crash_sigs / sizeof screen_crash_sigs[0]; i++)
        sigaction(screen_crash_sigs[i], &screen_old_crash[i], NULL);
}

bool tui_screen_is_open(void)
{
    return screen_cur != NULL;
}

bool tui_screen_utf8(void)
{
    return screen_utf8;
}
