/*
 * link.h - internal to src/capture: which link types link.c decodes.
 */
#ifndef SC_CAPTURE_LINK_H
#define SC_CAPTURE_LINK_H

#include <stdbool.h>

/* True when sc_link_decode() knows the link type dlt. */
bool sc_link_supported(int dlt);

#endif
