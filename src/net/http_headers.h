/*
 * http_headers.h — the header fields of one HTTP/1.1 message as llhttp hands
 * them over: in pieces, a name's pieces, then its value's, then the next
 * name's. Both parsers over llhttp collect them here — the server's request
 * parser (http_request.h) and the fleet fetcher's response parser
 * (http_reply.h) — and each then reads what it needs by index or by name.
 *
 * Bounded: at most PV_HTTP_MAX_HEADERS fields (a piece that would begin one
 * more is refused: the parser answers 431 or fails the response); the bytes
 * are bounded by the parser, which counts them against its head limit before
 * handing them over.
 *
 * Ownership: the collector owns a copy of every name and value; slices into
 * it stay valid until pv_http_headers_reset() or pv_http_headers_free().
 */
#ifndef PV_NET_HTTP_HEADERS_H
#define PV_NET_HTTP_HEADERS_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Headers beyond this count are refused (a request: 431, like oversized headers). */
#define PV_HTTP_MAX_HEADERS 100

typedef struct pv_http_hdr_span {
    size_t name_off, name_len, value_off, value_len;
} pv_http_hdr_span;

typedef struct pv_http_headers {
    pv_buf text; /* names and values, copied */
    pv_http_hdr_span spans[PV_HTTP_MAX_HEADERS];
    size_t count;
    bool in_value; /* the last piece was a value: a name piece begins the next field */
} pv_http_headers;

/* Whether the next name piece begins a new field (a parser counts its ": " and CRLF). */
bool pv_http_headers_starts(const pv_http_headers *h);
/* A piece of a name (llhttp's on_header_field): false when it would begin one field too many. */
bool pv_http_headers_name(pv_http_headers *h, const char *at, size_t len);
/* A piece of the current field's value (llhttp's on_header_value). */
void pv_http_headers_value(pv_http_headers *h, const char *at, size_t len);

pv_slice pv_http_headers_name_at(const pv_http_headers *h, size_t i);
/* Without the white space around it (RFC 9110 §5.5). */
pv_slice pv_http_headers_value_at(const pv_http_headers *h, size_t i);
/* Whether field i is called name (case-insensitive, RFC 9110 §5.1). */
bool pv_http_headers_is(const pv_http_headers *h, size_t i, const char *name);

/* Forgets every field (the next message); keeps the memory. */
void pv_http_headers_reset(pv_http_headers *h);
void pv_http_headers_free(pv_http_headers *h);

#endif
