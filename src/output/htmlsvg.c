/*
 * htmlsvg.c - a session's ladder as inline SVG (html_int.h).
 *
 * Two lanes, client at the left and server at the right, time going
 * down one row per record. Each transcript line is an arrow in its
 * direction, labelled at the left with its frame in both numberings
 * ("#22 (3)") and its time, and above the arrow with its text (escaped
 * by sc_html_text, cut to ARROW_TEXT bytes). What must be seen at a
 * glance:
 *   - a line a finding rests on (the finding follows it) is red, and the
 *     finding's rule id is written under it;
 *   - a server reply while the client is inside DATA (after 354, while
 *     the content summary says the message is unfinished, "so far") is
 *     orange and dashed: it crosses the message;
 *   - reply-lost: a red dashed stub from the server lane ending in a
 *     cross, the reply that never came.
 * Sizes are computed first (one pass to count), so the drawing needs no
 * script and no external resource.
 */
#include <inttypes.h>
#include <string.h>

#include "common/frame.h"
#include "html.h"
#include "html_int.h"
#include "outfmt.h"

#define ROW        30
#define TOP        50
#define LANE_C     260
#define LANE_S     760
#define WIDTH      900
#define ARROW_TEXT 70

static const char *svg_color(bool finding, bool crossing)
{
    return finding ? "#b00020" : crossing ? "#d07000" : "#333";
}

/* Whether a reply line is a 354 (the client may send content now). */
static bool svg_is_354(const uint8_t *t, size_t n)
{
    return n >= 3 && memcmp(t, "354", 3) == 0;
}

/* A content summary of a message still being sent: the client's DATA is
 * unfinished ("[message content: 26 lines, 1561 bytes so far]"); a
 * finished one ends the crossing. */
static bool svg_unfinished(const uint8_t *t, size_t n)
{
    return memmem(t, n, "so far", 6) || memmem(t, n, "no end of data", 14);
}

void html_svg_ladder(FILE *out, FILE *fp, sc_framemap *map, const struct timeval *start)
{
    html_rec r, next;
    uint8_t text[HTML_TEXT_MAX + 1], ntext[HTML_TEXT_MAX + 1];
    char name[FRAME_NAME_MAX + 32];
    uint64_t rows = 0;
    long pos = ftell(fp);

    while (html_rec_read(fp, &r, text))
        rows++;
    fseek(fp, pos, SEEK_SET);
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%" PRIu64
            "\" role=\"img\" aria-label=\"ladder\">\n", WIDTH, TOP + rows * ROW + 20);
    fprintf(out, "<defs><marker id=\"a\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" "
            "orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"context-stroke\"/></marker></defs>\n");
    fprintf(out, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">CLIENT</text>"
            "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">SERVER</text>\n",
            LANE_C, LANE_S);
    fprintf(out, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%" PRIu64 "\" stroke=\"#999\"/>"
            "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%" PRIu64 "\" stroke=\"#999\"/>\n",
            LANE_C, LANE_C, TOP + rows * ROW, LANE_S, LANE_S, TOP + rows * ROW);
    bool have = html_rec_read(fp, &r, text), in_data = false;
    uint64_t y = TOP;
    while (have) {
        bool have_next = html_rec_read(fp, &next, ntext);
        if (r.type == HTML_REC_LINE) {
            bool finding = have_next && next.type == HTML_REC_FINDING && next.seq == r.seq;
            bool c2s = r.dir == SC_DIR_C2S;
            bool crossing = !c2s && in_data;
            struct timeval ts = { r.sec, r.usec };
            int x1 = c2s ? LANE_C : LANE_S, x2 = c2s ? LANE_S : LANE_C;
            fprintf(out, "<g class=\"arrow\"><line x1=\"%d\" y1=\"%" PRIu64 "\" x2=\"%d\" y2=\"%"
                    PRIu64 "\" stroke=\"%s\" stroke-width=\"%s\"%s marker-end=\"url(#a)\"/>",
                    x1, y + 8, x2, y + 8, svg_color(finding, crossing), finding ? "2.5" : "1.5",
                    crossing ? " stroke-dasharray=\"6 4\"" : "");
            fprintf(out, "<text x=\"4\" y=\"%" PRIu64 "\">", y + 12);
            sc_html_str(out, sc_framemap_name(map, r.frame, name, sizeof name));
            fprintf(out, " +%.3f</text>", sc_fmt_elapsed(start, &ts));
            fprintf(out, "<text x=\"%d\" y=\"%" PRIu64 "\" fill=\"%s\">", LANE_C + 8, y + 4,
                    svg_color(finding, crossing));
            sc_html_text(out, text, r.len < ARROW_TEXT ? r.len : ARROW_TEXT);
            if (r.len > ARROW_TEXT)
                fputs("\xe2\x80\xa6", out);
            fputs("</text></g>\n", out);
            if (!c2s && svg_is_354(text, r.len))
                in_data = true;
            else if (c2s && r.kind == SC_LINE_COMMAND)
                in_data = false;
            else if (c2s && r.kind == SC_LINE_CONTENT)
                in_data = svg_unfinished(text, r.len);
            y += ROW;
        } else {
            const sc_rule *rule = r.rule < SC_RULE_COUNT ? &sc_rules[r.rule] : NULL;
            bool lost = rule && strcmp(rule->name, "reply-lost") == 0;
            if (lost)
                fprintf(out, "<g class=\"lost\"><line x1=\"%d\" y1=\"%" PRIu64 "\" x2=\"%d\" y2=\"%"
                        PRIu64 "\" stroke=\"#b00020\" stroke-width=\"2\" stroke-dasharray=\"4 4\"/>"
                        "<text x=\"%d\" y=\"%" PRIu64 "\" fill=\"#b00020\" font-size=\"18\">"
                        "\xe2\x9c\x97</text></g>\n", LANE_S, y + 8, (LANE_C + LANE_S) / 2, y + 8,
                        (LANE_C + LANE_S) / 2 - 14, y + 14);
            fprintf(out, "<text class=\"finding\" x=\"%d\" y=\"%" PRIu64 "\" fill=\"#b00020\">",
                    lost ? (LANE_C + LANE_S) / 2 + 8 : LANE_C + 8, y + 12);
            sc_html_str(out, sc_severity_name((sc_severity)r.severity));
            fputs(" ", out);
            sc_html_str(out, rule ? rule->name : "?");
            fputs("</text>\n", out);
            y += ROW;
        }
        r = next;
        memcpy(text, ntext, sizeof text);
        have = have_next;
    }
    fputs("</svg>\n", out);
}
