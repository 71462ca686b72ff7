/*
 * communityid.h - the Community ID v1 of a TCP flow (corelight's
 * community-id-spec), the string Zeek, Suricata and the Elastic Common
 * Schema use to join records of one flow across tools:
 * "1:" and the base64 of the SHA-1 of seed, the two endpoints in a fixed
 * order (the smaller address:port first, so both directions give the same
 * id), protocol 6 and padding. The SHA-1 is OpenSSL's (EVP).
 *
 * Interface: sc_cid_format formats the id of the flow between two
 * endpoints of one family, seed 0, into buf (SC_COMMUNITY_ID_LEN bytes
 * with the NUL), with a hasher from sc_cid_new: libcrypto's SHA-1 looked
 * up once and one digest context, reused for every flow (a lookup per
 * flow, as EVP_Digest with EVP_sha1() does, cost 6 000 instructions, more
 * than the hash). sc_community_id does the same for a single flow.
 * Diagnostics: sc_cid_new returns NULL when libcrypto has no SHA-1 or
 * there is no memory; the format functions return -1 and an empty buf
 * when the endpoints are of no or different families, the hasher is
 * NULL or libcrypto fails; the JSON then writes null.
 */
#ifndef SC_COMMUNITYID_H
#define SC_COMMUNITYID_H

#include "common/sc_types.h"

/* "1:" + base64 of 20 bytes (28 characters) + NUL */
#define SC_COMMUNITY_ID_LEN 31

typedef struct sc_cid sc_cid;

sc_cid *sc_cid_new(void);
void    sc_cid_free(sc_cid *h);
int     sc_cid_format(sc_cid *h, const sc_endpoint *a, const sc_endpoint *b,
                      char buf[SC_COMMUNITY_ID_LEN]);

int sc_community_id(const sc_endpoint *a, const sc_endpoint *b,
                    char buf[SC_COMMUNITY_ID_LEN]);

#endif
