/*
 * Fuzz target for the fleet fetcher's response parser (net/http_reply.h):
 * arbitrary bytes in pieces of varying size, as reads from a socket deliver
 * them, then the end of the connection. Limits are small so that the bounds
 * are reached: nothing kept may exceed them, and a finished parse is either a
 * final status with its body or a stated error.
 */
#include "core/error.h"
#include "net/http_reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = (size_t)(data[0] % 23) + 1; /* read sizes from 1 to 23 bytes */
    const char *p = (const char *)data + 1;
    size_t left = size - 1;
    pv_http_reply r;
    pv_http_reply_init(&r, 1024, 2048);
    int rc = PV_HTTP_REPLY_MORE;
    while (left > 0 && rc == PV_HTTP_REPLY_MORE) {
        size_t n = left < piece ? left : piece;
        rc = pv_http_reply_feed(&r, p, n);
        p += n;
        left -= n;
    }
    if (rc == PV_HTTP_REPLY_MORE)
        rc = pv_http_reply_eof(&r);
    if (rc == PV_HTTP_REPLY_DONE && (r.status < 200 || r.status > 999))
        abort(); /* interim answers are skipped, never returned */
    if (rc < 0 && (r.error_text == NULL || (rc != PV_EPROTO && rc != PV_ETOOBIG)))
        abort();
    if (r.body.len > 2048 || r.location.len > PV_HTTP_REPLY_MAX_VALUE ||
        r.content_encoding.len > PV_HTTP_REPLY_MAX_VALUE ||
        r.www_authenticate.len > PV_HTTP_REPLY_MAX_VALUE)
        abort();
    if (r.location.len > 0 && strlen(r.location.data) > r.location.len)
        abort();
    pv_http_reply_free(&r);
    return 0;
}
