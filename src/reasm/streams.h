/*
 * streams.h - --write-streams DIR: the reassembled bytes of every
 * connection written to files, as a decorator around another flow handler.
 *
 * For connection ID (sc_conn.id) it writes DIR/session-ID.c2s (client to
 * server) and DIR/session-ID.s2c (server to client; with several capture
 * files DIR/N-session-ID.*, see sc_streams_set_file): the raw stream bytes
 * in order, exactly what SC_FLOW_DATA delivered. Bytes missing from the
 * capture (SC_FLOW_GAP) are not written. Both files exist once the
 * connection opened, even when a direction carried nothing. Every event
 * is passed on to the inner handler unchanged (conn->user is the inner
 * handler's, as if the decorator were not there).
 *
 * Files are created once (O_EXCL|O_NOFOLLOW, mode 0600: never an existing
 * file, never through a symbolic link) and written through a descriptor
 * kept open; at most 256 are held, beyond that a stream is reopened,
 * append only, for each write. A directory that already holds streams is
 * refused. A write error is reported once on standard error (exit
 * status 3) and the stream is abandoned; the analysis goes on.
 */
#ifndef SC_STREAMS_H
#define SC_STREAMS_H

#include "reasm.h"

typedef struct sc_streams sc_streams;

/* dir must exist (it is not created). inner may be NULL (write only).
 * Returns NULL with a one-line reason in err when dir is not a writable
 * directory. */
sc_streams *sc_streams_new(const char *dir, const sc_flow_handler *inner,
                           char *err, size_t errlen);
/* The capture file the next connections come from: its position in -r
 * (from 1) when there are several, then names are DIR/N-session-ID.c2s
 * (each file numbers its connections from 1); 0 (the default): one input,
 * DIR/session-ID.c2s. */
void sc_streams_set_file(sc_streams *s, unsigned number);
/* The decorating handler; valid until sc_streams_free. */
const sc_flow_handler *sc_streams_handler(sc_streams *s);
void sc_streams_free(sc_streams *s);

#endif
