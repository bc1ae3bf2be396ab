/* Fuzz target: WWW-Authenticate challenges (core/http_digest); an accepted challenge must
 * also produce an answer, and that answer must parse back as a header value we could send. */
#include "core/http_digest.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_digest_challenge c;
    pv_error err;
    if (pv_digest_parse(pv_slice_make(data, size), &c, &err) != 0)
        return 0;
    if (strlen(c.nonce) >= PV_DIGEST_FIELD_MAX || strlen(c.realm) >= PV_DIGEST_FIELD_MAX)
        __builtin_trap();
    pv_buf b = {0};
    if (pv_digest_authorization(&c, "user", "pass", "GET", "/p.xml", "cnonce", 1, &b, &err) != 0)
        __builtin_trap();
    for (size_t i = 0; i < b.len; i++) { /* a header line break would split the request */
        if (b.data[i] == '\r' || b.data[i] == '\n')
            __builtin_trap();
    }
    pv_buf_free(&b);
    return 0;
}
