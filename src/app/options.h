/*
 * options.h - command-line parsing (src/app/options.c).
 */
#ifndef SC_OPTIONS_H
#define SC_OPTIONS_H

#include <stdio.h>
#include "common/config.h"

typedef enum sc_action {
    SC_ACTION_RUN, SC_ACTION_HELP, SC_ACTION_VERSION,
    SC_ACTION_RULES, SC_ACTION_RULES_MARKDOWN, SC_ACTION_INTERFACES, SC_ACTION_EXPLAIN
} sc_action;

int sc_options_parse(int argc, char **argv, sc_config *cfg, sc_action *action,
                     char *err, size_t errlen);
void sc_options_usage(FILE *fp);

#endif
