#!/usr/bin/python3
"""ansi2png.py - renders a terminal capture with SGR colours (tmux
capture-pane -p -e) to a PNG, for the screenshots of the timeline.

    tmux capture-pane -p -e -t PANE > screen.ansi
    docs/screenshots/ansi2png.py screen.ansi out.png [columns rows]

Needs Pillow (Debian: python3-pil) and the DejaVu Sans Mono font
(fonts-dejavu-core). Handles the attributes curses uses: bold, underline,
reverse, the 8/16 basic colours and the 256-colour palette."""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
FG, BG = (0xd0, 0xd0, 0xd0), (0x1c, 0x1c, 0x1c)
BASIC = [(0x1c, 0x1c, 0x1c), (0xe0, 0x50, 0x50), (0x70, 0xc0, 0x50), (0xe0, 0xc0, 0x40),
         (0x50, 0x80, 0xe0), (0xc0, 0x60, 0xd0), (0x40, 0xb8, 0xc8), (0xd0, 0xd0, 0xd0)]
BRIGHT = [(0x70, 0x70, 0x70), (0xff, 0x70, 0x70), (0x90, 0xe0, 0x70), (0xff, 0xe0, 0x60),
          (0x70, 0xa0, 0xff), (0xe0, 0x80, 0xf0), (0x60, 0xd8, 0xe8), (0xff, 0xff, 0xff)]


def palette256(n):
    if n < 8:
        return BASIC[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse(text, cols, rows):
    """Returns rows x cols cells of (char, fg, bg, bold, underline)."""
    grid = [[(" ", None, None, False, False) for _ in range(cols)] for _ in range(rows)]
    st = {"fg": None, "bg": None, "bold": False, "ul": False, "rev": False}
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        for tok in re.split(r"(\x1b\[[0-9;]*m)", line):
            if tok.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in tok[2:-1].split(";")]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        st.update(fg=None, bg=None, bold=False, ul=False, rev=False)
                    elif c == 1:
                        st["bold"] = True
                    elif c == 4:
                        st["ul"] = True
                    elif c == 7:
                        st["rev"] = True
                    elif c == 22:
                        st["bold"] = False
                    elif c == 24:
                        st["ul"] = False
                    elif c == 27:
                        st["rev"] = False
                    elif 30 <= c <= 37:
                        st["fg"] = BASIC[c - 30]
                    elif c == 39:
                        st["fg"] = None
                    elif 40 <= c <= 47:
                        st["bg"] = BASIC[c - 40]
                    elif c == 49:
                        st["bg"] = None
                    elif 90 <= c <= 97:
                        st["fg"] = BRIGHT[c - 90]
                    elif 100 <= c <= 107:
                        st["bg"] = BRIGHT[c - 100]
                    elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                        st["fg" if c == 38 else "bg"] = palette256(codes[i + 2])
                        i += 2
                    i += 1
                continue
            for ch in tok:
                if x >= cols:
                    break
                fg, bg = st["fg"] or FG, st["bg"] or BG
                if st["rev"]:
                    fg, bg = bg, fg
                if st["bold"] and fg in BASIC:
                    fg = BRIGHT[BASIC.index(fg)]
                grid[y][x] = (ch, fg, bg, st["bold"], st["ul"])
                x += 1
        # A line that ends inside a coloured run was erased to its end
        # with that background (terminals with back_color_erase, as tmux).
        fg, bg = st["fg"] or FG, st["bg"] or BG
        if st["rev"]:
            fg, bg = bg, fg
        if bg != BG:
            for rest in range(x, cols):
                grid[y][rest] = (" ", fg, bg, False, False)
    return grid


def main():
    src, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    text = open(src, encoding="utf-8", errors="replace").read()
    grid = parse(text, cols, rows)
    font, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(FONT_BOLD, SIZE)
    cw = round(font.getlength("M"))
    ch = SIZE + 4
    pad = 8
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(grid):
        for x, (c, fg, bg, b, ul) in enumerate(row):
            px, py = pad + x * cw, pad + y * ch
            if bg and bg != BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            fgc = fg or FG
            if c in "\u2500\u2550\u2502\u2503":
                # box drawing: drawn as lines so that they join across cells
                mid_y, mid_x = py + ch // 2, px + cw // 2
                if c == "\u2500":
                    d.line([px, mid_y, px + cw, mid_y], fill=fgc, width=1)
                elif c == "\u2550":
                    d.line([px, mid_y - 2, px + cw, mid_y - 2], fill=fgc, width=1)
                    d.line([px, mid_y + 1, px + cw, mid_y + 1], fill=fgc, width=1)
                elif c == "\u2502":
                    d.line([mid_x, py, mid_x, py + ch], fill=fgc, width=1)
                else:
                    d.line([mid_x, py, mid_x, py + ch], fill=fgc, width=3)
            elif c != " ":
                d.text((px, py + 1), c, font=bold if b else font, fill=fgc)
            if ul:
                d.line([px, py + ch - 2, px + cw, py + ch - 2], fill=fgc)
    img.save(out)


if __name__ == "__main__":
    main()
