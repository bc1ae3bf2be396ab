/*
 * Fuzz target for the fleet fetcher's response parser (net/http_reply.h):
 * arbitrary bytes in pieces of varying size, as reads from a socket deliver
 * them (fuzz_reads.h), then the end of the connection; its headers are
 * collected by net/http_headers.h, as the request parser's are (fuzz_http.c).
 * Limits are small so that the bounds are reached: nothing kept may exceed
 * them, and a finished parse is either a final status with its body or a
 * stated error.
 */
#include "core/error.h"
#include "fuzz_reads.h"
#include "net/http_reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_fuzz_reads in;
    if (!pv_fuzz_reads_init(&in, data, size, 23)) /* read sizes from 1 to 23 bytes */
        return 0;
    pv_http_reply r;
    pv_http_reply_init(&r, 1024, 2048);
    int rc = PV_HTTP_REPLY_MORE;
    for (size_t n; rc == PV_HTTP_REPLY_MORE && (n = pv_fuzz_reads_next(&in)) > 0;) {
        rc = pv_http_reply_feed(&r, in.p, n);
        pv_fuzz_reads_took(&in, n);
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
    /* the header collector (http_headers.h) holds no more than the head limit let through */
    if (r.hdrs.count > PV_HTTP_MAX_HEADERS || r.hdrs.text.len > 1024)
        abort();
    pv_http_reply_free(&r);
    return 0;
}
