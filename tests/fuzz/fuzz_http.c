/*
 * Fuzz target for the HTTP request path without sockets: arbitrary bytes go
 * through the request parser (http_request.h, its headers collected by
 * http_headers.h) in pieces of varying size, as reads from a socket would
 * deliver them (fuzz_reads.h); every complete request is planned
 * (conditional requests, ranges) and its answer head formatted like the
 * server does (http_response.h). Limits are small so memory stays bounded.
 */
#include "fuzz_reads.h"
#include "net/http_request.h"
#include "net/http_response.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_fuzz_reads in;
    if (!pv_fuzz_reads_init(&in, data, size, 17)) /* read sizes from 1 to 17 bytes */
        return 0;
    pv_http_parser parser;
    pv_http_parser_init(&parser, 4096, 4096);
    pv_buf head = {0};
    for (size_t n; (n = pv_fuzz_reads_next(&in)) > 0;) {
        size_t used = 0;
        pv_http_parse_result r = pv_http_parser_feed(&parser, in.p, n, &used);
        if (used > n)
            abort(); /* the parser must never claim more than it was given */
        pv_fuzz_reads_took(&in, used);
        if (r == PV_HTTP_PARSE_ERROR) {
            if (parser.error_status < 400 || parser.error_status > 599)
                abort();
            break;
        }
        if (r == PV_HTTP_PARSE_REQUEST) {
            const pv_http_request *req = pv_http_parser_request(&parser);
            if (req->body.len > 4096 || memchr(req->path.ptr, '\0', req->path.len) != NULL ||
                req->header_count > PV_HTTP_MAX_HEADERS)
                abort();
            pv_response resp = {.status = 200,
                                .body_kind = PV_BODY_FILE,
                                .fd = -1,
                                .file_size = (off_t)(size * 7),
                                .last_modified = 784111777};
            memcpy(resp.etag, "\"abc\"", 6);
            pv_http_plan plan;
            pv_http_plan_response(req->method, req->headers, req->header_count, &resp,
                                  (uint64_t)resp.file_size, &plan);
            if (plan.offset + plan.length > plan.total)
                abort(); /* a range never leaves the representation */
            pv_http_head_info info = {
                .plan = &plan, .resp = &resp, .now = 0, .keep_alive = req->keep_alive};
            pv_buf_reset(&head);
            pv_http_format_head(&head, &info);
            pv_http_parser_next(&parser);
        }
    }
    pv_http_parser_eof(&parser);
    pv_buf_free(&head);
    pv_http_parser_free(&parser);
    return 0;
}
