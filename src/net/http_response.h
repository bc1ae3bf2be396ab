/*
 * http_response.h — what the HTTP server decides and writes about an answer,
 * with no sockets: conditional requests (RFC 9110 §13), single byte ranges
 * (RFC 9110 §14), HTTP dates (RFC 9110 §5.6.7) and the response head.
 *
 * The connection (http_conn.c) asks pv_http_plan() which status and which
 * slice of the body to send for a handler's pv_response, then formats the
 * head with pv_http_format_head(). Everything here is pure, so the unit test
 * and the fuzzer check it without a network.
 */
#ifndef PV_NET_HTTP_RESPONSE_H
#define PV_NET_HTTP_RESPONSE_H

#include "core/buf.h"
#include "net/handler.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The reason phrase of a status ("Not Found"), or "Unknown". */
const char *pv_http_reason(int status);

/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7); out holds 30+. */
void pv_http_format_date(time_t t, char out[32]);
/* Parses the three HTTP date forms; false when s is none of them. */
bool pv_http_parse_date(pv_slice s, time_t *out);

/* If-None-Match: does the comma-separated list match etag (weak comparison, RFC 9110 §8.8.3.2)? */
bool pv_http_etag_list_matches(pv_slice list, const char *etag);

typedef enum {
    PV_RANGE_NONE,          /* no usable single range: send the whole body */
    PV_RANGE_PARTIAL,       /* 206 with [first, last] */
    PV_RANGE_UNSATISFIABLE, /* 416 */
} pv_range_result;

/* Parses a Range header against a representation of size bytes (RFC 9110 §14.1.2). */
pv_range_result pv_http_parse_range(pv_slice range, uint64_t size, uint64_t *first, uint64_t *last);

/* What to send for one answer. */
typedef struct pv_http_plan {
    int status;      /* possibly changed to 206, 304 or 416 */
    uint64_t offset; /* first body byte to send */
    uint64_t length; /* body bytes to send (0 for HEAD, 304, 416) */
    uint64_t total;  /* size of the whole representation */
    bool send_body;  /* false for HEAD, 304, 1xx, 204 */
} pv_http_plan;

/*
 * Applies If-None-Match / If-Modified-Since (only to 200 answers that carry
 * an ETag or Last-Modified) and Range (GET, 200, body known) to a handler's
 * answer of total body bytes.
 */
void pv_http_plan_response(pv_method method, const pv_header *headers, size_t header_count,
                           const pv_response *resp, uint64_t total, pv_http_plan *plan);

/* Everything the head of an answer depends on besides the handler's pv_response. */
typedef struct pv_http_head_info {
    const pv_http_plan *plan;
    const pv_response *resp; /* content type, encoding, ETag, Last-Modified, Location */
    time_t now;
    bool keep_alive;   /* else Connection: close */
    bool http10;       /* HTTP/1.0 client: keep-alive must be announced */
    bool allow_header; /* 405: list the methods we serve */
} pv_http_head_info;

/* Appends the status line and headers, ending with the empty line. */
void pv_http_format_head(pv_buf *out, const pv_http_head_info *info);

#endif
