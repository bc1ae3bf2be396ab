/*
 * http_digest.h — HTTP Digest access authentication (RFC 7616), client side.
 *
 * What it is for: a phone answers a 401 challenge with the `--uid/--pwd` of
 * its rule (spec 8.2) in exactly one more request. libcurl cannot be handed a
 * challenge it did not see itself (it would ask the server once more first),
 * so the agent host parses the challenge of the 401 the engine already got
 * and computes the Authorization header here.
 *
 * Pure and deterministic: the client nonce comes from the caller (the host
 * draws it from a random source), so the RFC 7616 §3.9.1 worked example is a
 * unit test. Supported: algorithms MD5, SHA-256 and their -sess forms,
 * qop=auth (and no qop, RFC 2069 style), opaque, userhash. Not supported:
 * qop=auth-int alone (it needs the body) and SHA-512-256; such a challenge is
 * refused with a message.
 *
 * Ownership: a pv_digest_challenge is a caller-owned value with bounded
 * fields; parsing never allocates.
 */
#ifndef PV_CORE_HTTP_DIGEST_H
#define PV_CORE_HTTP_DIGEST_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>

#define PV_DIGEST_FIELD_MAX 256 /* realm, nonce, opaque: longer ones are refused */

typedef enum { PV_DIGEST_MD5 = 0, PV_DIGEST_SHA256 } pv_digest_alg;

typedef struct pv_digest_challenge {
    pv_digest_alg alg;
    bool sess;     /* MD5-sess, SHA-256-sess: HA1 also covers nonce and cnonce */
    bool qop_auth; /* qop offered and "auth" among it; false: no qop (RFC 2069) */
    bool userhash; /* RFC 7616 §3.4.4: the username is sent hashed */
    bool has_opaque;
    char realm[PV_DIGEST_FIELD_MAX];
    char nonce[PV_DIGEST_FIELD_MAX];
    char opaque[PV_DIGEST_FIELD_MAX];
} pv_digest_challenge;

/*
 * Finds the first Digest challenge this module can answer in a
 * WWW-Authenticate (or Proxy-Authenticate) value, which may hold several
 * challenges (RFC 9110 §11.6.1). PV_ENOENT: no Digest challenge;
 * PV_ENOTSUP: only Digest challenges we cannot answer; PV_ESYNTAX: a
 * malformed header (the message names the column).
 */
int pv_digest_parse(pv_slice header, pv_digest_challenge *out, pv_error *err);

/*
 * Appends the Authorization value (`Digest username="..", ...`, without the
 * header name) for method and uri (the request target, path and query).
 * nc is the nonce count (1 for the first use of a nonce). PV_EINVAL when the
 * username, cnonce or uri holds characters that cannot be sent.
 */
int pv_digest_authorization(const pv_digest_challenge *c, const char *user, const char *pwd,
                            const char *method, const char *uri, const char *cnonce, unsigned nc,
                            pv_buf *out, pv_error *err);

/*
 * The request-digest alone (the `response` value, lowercase hex, NUL-terminated) — what
 * pv_digest_authorization sends, and what the side that issued the challenge recomputes
 * from the Authorization it received to check it (a phone checking a SIP NOTIFY: RFC 3261
 * §22.4 is this computation with the SIP method). cnonce and nc are used with qop=auth only.
 */
void pv_digest_response(const pv_digest_challenge *c, const char *user, const char *pwd,
                        const char *method, const char *uri, const char *cnonce, unsigned nc,
                        char out[65]);

#endif
