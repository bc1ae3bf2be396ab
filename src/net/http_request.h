/*
 * http_request.h — the HTTP/1.1 request parser of the HTTP server, over
 * llhttp, with no sockets: bytes in, complete bounded requests out.
 *
 * The connection (http_conn.c) feeds whatever it read; the parser stops after
 * each complete request so that pipelined requests are answered one at a time
 * and in order, and tells the caller how many bytes it consumed (the rest is
 * the next request and must be fed again later). It enforces the header and
 * body limits itself and turns every malformed input into the HTTP status to
 * answer before closing (400, 413, 431, 505). It percent-decodes the path and
 * refuses NUL bytes and `..` segments. The fuzzer (tests/fuzz/fuzz_http.c)
 * drives exactly this layer.
 *
 * Ownership: the parser owns every byte of the request it hands out (method,
 * path, headers, body); they stay valid until pv_http_parser_next() or
 * pv_http_parser_free().
 */
#ifndef PV_NET_HTTP_REQUEST_H
#define PV_NET_HTTP_REQUEST_H

#include "core/buf.h"
#include "net/handler.h"
#include "net/http_headers.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    PV_HTTP_PARSE_MORE,    /* everything consumed; the request is not complete yet */
    PV_HTTP_PARSE_REQUEST, /* a complete request is ready: pv_http_parser_request() */
    PV_HTTP_PARSE_ERROR,   /* answer error_status with Connection: close, then close */
} pv_http_parse_result;

/* One parsed request, borrowed from the parser. */
typedef struct pv_http_request {
    pv_method method;
    pv_slice method_name;
    pv_slice target; /* the request-target as sent (not for logs: it has the query) */
    pv_slice path;   /* percent-decoded, no query */
    pv_slice query;  /* undecoded, without '?' */
    const pv_header *headers;
    size_t header_count;
    pv_slice body;
    int http_minor;  /* HTTP/1.<minor> */
    bool keep_alive; /* the client allows another request after this one */
    bool upgrade;    /* the client asked to switch protocols: close after answering */
} pv_http_request;

typedef struct pv_http_parser {
    llhttp_t llhttp;
    llhttp_settings_t settings;
    size_t max_header_bytes;
    size_t max_body_bytes;
    size_t header_bytes;   /* request line and header bytes seen so far */
    size_t raw_head_bytes; /* bytes fed while the headers were incomplete */
    pv_buf head;           /* method and target, copied */
    pv_buf body;
    pv_buf path;          /* the decoded path */
    pv_http_headers hdrs; /* names and values, copied (http_headers.h) */
    pv_header headers[PV_HTTP_MAX_HEADERS];
    size_t method_off, method_len, target_off, target_len;
    bool headers_done;
    bool complete;
    bool expect_continue; /* `Expect: 100-continue` and the body is still to come */
    bool started;         /* at least one byte of this request arrived */
    int error_status;
    const char *error_reason; /* static text for the log line */
    pv_http_request req;
} pv_http_parser;

void pv_http_parser_init(pv_http_parser *p, size_t max_header_bytes, size_t max_body_bytes);
void pv_http_parser_free(pv_http_parser *p);

/*
 * Parses up to len bytes; *consumed says how many were used. Stops right
 * after a complete request (PV_HTTP_PARSE_REQUEST). After an error the
 * parser accepts nothing more.
 */
pv_http_parse_result pv_http_parser_feed(pv_http_parser *p, const char *data, size_t len,
                                         size_t *consumed);
/* The peer closed its side: PV_HTTP_PARSE_ERROR if a request was cut short, else MORE. */
pv_http_parse_result pv_http_parser_eof(pv_http_parser *p);

/* The complete request, after PV_HTTP_PARSE_REQUEST. */
const pv_http_request *pv_http_parser_request(const pv_http_parser *p);

/* Forgets the current request and gets ready for the next one on the same connection. */
void pv_http_parser_next(pv_http_parser *p);

/*
 * Percent-decodes a request path (RFC 3986 §2.1) into out. Returns 0, or the
 * HTTP status to answer: 400 for a bad escape, a NUL byte or a path that does
 * not start with '/', 403 for a `..` segment (before or after decoding).
 */
int pv_http_decode_path(pv_slice raw, pv_buf *out);

#endif
