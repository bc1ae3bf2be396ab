/*
 * http_reply.h — the HTTP/1.1 response parser of the fleet's fetcher
 * (net/fetch_native.c), over llhttp as the server's request parser is
 * (http_request.h), with no sockets: bytes in, one bounded response out.
 *
 * It keeps what the agent reads of an answer (provisor/agent.h): the status,
 * the Location, Content-Encoding and WWW-Authenticate headers, and the body
 * (Content-Length, chunked, or up to the end of the connection). Interim 1xx
 * answers are skipped. Everything is bounded: the status line and headers by
 * max_head bytes and PV_HTTP_MAX_HEADERS fields (collected by http_headers.h,
 * as the request parser's are), each kept header by PV_HTTP_REPLY_MAX_VALUE,
 * the body by max_body (an announced length over it fails before a byte is
 * read). The
 * fuzzer (tests/fuzz/fuzz_http_reply.c) drives exactly this layer.
 *
 * Ownership: the caller embeds a pv_http_reply; its strings and body belong to
 * it until pv_http_reply_free().
 */
#ifndef PV_NET_HTTP_REPLY_H
#define PV_NET_HTTP_REPLY_H

#include "core/buf.h"
#include "net/http_headers.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

#define PV_HTTP_REPLY_MAX_VALUE 4096 /* a kept header longer than this is cut */

typedef enum {
    PV_HTTP_REPLY_MORE = 0, /* everything consumed; not complete yet */
    PV_HTTP_REPLY_DONE = 1, /* a complete final response: status, headers and body */
} pv_http_reply_state;

typedef struct pv_http_reply {
    llhttp_t llhttp;
    llhttp_settings_t settings;
    size_t max_head, max_body;
    size_t head_bytes;
    size_t fed; /* every byte given, the answer's and any after it */
    int status;
    pv_http_headers hdrs; /* every field of the answer being read */
    pv_buf location, content_encoding, www_authenticate; /* NUL-terminated; len 0: absent */
    pv_buf body;
    bool done;
    int error;              /* PV_EPROTO, PV_ETOOBIG once failed */
    const char *error_text; /* static: what was wrong */
} pv_http_reply;

void pv_http_reply_init(pv_http_reply *r, size_t max_head, size_t max_body);
void pv_http_reply_free(pv_http_reply *r);
/* Parses len more bytes: PV_HTTP_REPLY_MORE, PV_HTTP_REPLY_DONE (bytes after the response are
 * ignored), or a negative PV_EPROTO / PV_ETOOBIG (error_text says why). */
int pv_http_reply_feed(pv_http_reply *r, const char *data, size_t len);
/* The peer closed: DONE when that ends a body read to the close, else PV_EPROTO. */
int pv_http_reply_eof(pv_http_reply *r);

#endif
