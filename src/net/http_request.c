/* http_request.c — HTTP/1.1 request parsing over llhttp; see http_request.h. */
#include "net/http_request.h"

#include <assert.h>
#include <string.h>

static pv_http_parser *parser_of(llhttp_t *l)
{
    return (pv_http_parser *)l->data;
}

/* Records why the request is refused; llhttp then stops with a callback error. */
static int fail(pv_http_parser *p, int status, const char *reason)
{
    if (p->error_status == 0) {
        p->error_status = status;
        p->error_reason = reason;
    }
    return -1;
}

/* Counts request-line and header bytes; 431 beyond the limit (RFC 6585 §5). */
static int count_head(pv_http_parser *p, size_t len)
{
    p->header_bytes += len;
    if (p->header_bytes > p->max_header_bytes)
        return fail(p, 431, "headers too large");
    return 0;
}

static int on_message_begin(llhttp_t *l)
{
    parser_of(l)->started = true;
    return 0;
}

static int on_method(llhttp_t *l, const char *at, size_t len)
{
    pv_http_parser *p = parser_of(l);
    if (count_head(p, len) != 0)
        return -1;
    if (p->method_len == 0)
        p->method_off = p->head.len;
    pv_buf_append(&p->head, at, len);
    p->method_len += len;
    return 0;
}

static int on_url(llhttp_t *l, const char *at, size_t len)
{
    pv_http_parser *p = parser_of(l);
    if (count_head(p, len) != 0)
        return -1;
    if (p->target_len == 0)
        p->target_off = p->head.len;
    pv_buf_append(&p->head, at, len);
    p->target_len += len;
    return 0;
}

static int on_version(llhttp_t *l, const char *at, size_t len)
{
    return count_head(parser_of(l), len);
}

static int on_header_field(llhttp_t *l, const char *at, size_t len)
{
    pv_http_parser *p = parser_of(l);
    /* ": " and CRLF count too, so that many empty headers still hit the limit. */
    if (count_head(p, len + (pv_http_headers_starts(&p->hdrs) ? 4 : 0)) != 0)
        return -1;
    if (!pv_http_headers_name(&p->hdrs, at, len))
        return fail(p, 431, "too many headers");
    return 0;
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    pv_http_parser *p = parser_of(l);
    if (count_head(p, len) != 0)
        return -1;
    pv_http_headers_value(&p->hdrs, at, len);
    return 0;
}

static int on_headers_complete(llhttp_t *l)
{
    pv_http_parser *p = parser_of(l);
    p->headers_done = true;
    bool chunked = (l->flags & F_CHUNKED) != 0;
    bool has_length = (l->flags & F_CONTENT_LENGTH) != 0;
    /* Refuse before reading a byte of an announced oversized body (RFC 9110 §15.5.14). */
    if (has_length && l->content_length > p->max_body_bytes)
        return fail(p, 413, "body too large");
    const pv_http_headers *h = &p->hdrs;
    size_t hosts = 0;
    for (size_t i = 0; i < h->count; i++) {
        pv_slice name = pv_http_headers_name_at(h, i);
        char last = name.len ? name.ptr[name.len - 1] : 'x';
        if (last == ' ' || last == '\t') /* RFC 9112 §5.1: a smuggling vector behind proxies */
            return fail(p, 400, "white space before a header's colon");
        hosts += pv_http_headers_is(h, i, "host");
        pv_slice v = pv_http_headers_value_at(h, i);
        if (pv_http_headers_is(h, i, "transfer-encoding") && !pv_slice_case_eq_cstr(v, "chunked"))
            return fail(p, 501, "transfer coding not implemented"); /* RFC 9112 §6.1 */
    }
    /* RFC 9112 §3.2 wants exactly one Host on HTTP/1.1; two are refused, but none is let
     * through: a provisioning server must not lock out old phone firmware over it. */
    if (hosts > 1)
        return fail(p, 400, "more than one Host header");
    bool body_follows = chunked || (has_length && l->content_length > 0);
    for (size_t i = 0; i < h->count && body_follows && l->http_minor >= 1; i++) {
        if (pv_http_headers_is(h, i, "expect") &&
            pv_slice_case_eq_cstr(pv_http_headers_value_at(h, i), "100-continue"))
            p->expect_continue = true; /* RFC 9110 §10.1.1 */
    }
    return 0;
}

static int on_body(llhttp_t *l, const char *at, size_t len)
{
    pv_http_parser *p = parser_of(l);
    /* Chunked bodies have no announced length: bound them as they arrive. */
    if (len > p->max_body_bytes - p->body.len)
        return fail(p, 413, "body too large");
    pv_buf_append(&p->body, at, len);
    return 0;
}

static pv_method method_of(uint8_t m)
{
    switch (m) {
    case HTTP_GET:
        return PV_METHOD_GET;
    case HTTP_HEAD:
        return PV_METHOD_HEAD;
    case HTTP_POST:
        return PV_METHOD_POST;
    case HTTP_PUT:
        return PV_METHOD_PUT;
    default:
        return PV_METHOD_OTHER;
    }
}

/* Splits the request-target into path and query (RFC 9112 §3.2) and decodes the path. */
static int split_target(pv_http_parser *p, pv_slice target)
{
    pv_slice t = target;
    /* absolute-form: skip "scheme://authority" (RFC 9112 §3.2.2). */
    const char *sep = memchr(t.ptr, ':', t.len);
    if (t.len > 0 && t.ptr[0] != '/' && sep != NULL && (size_t)(sep - t.ptr) + 3 <= t.len &&
        sep[1] == '/' && sep[2] == '/') {
        const char *auth = sep + 3;
        size_t rest = t.len - (size_t)(auth - t.ptr);
        const char *slash = memchr(auth, '/', rest);
        t = slash ? pv_slice_make(slash, rest - (size_t)(slash - auth)) : PV_SLICE_LIT("/");
    }
    pv_slice raw_path = t;
    p->req.query = pv_slice_make("", 0);
    for (size_t i = 0; i < t.len; i++) {
        if (t.ptr[i] == '?' || t.ptr[i] == '#') {
            raw_path = pv_slice_make(t.ptr, i);
            if (t.ptr[i] == '?') {
                const char *q = t.ptr + i + 1;
                const char *hash = memchr(q, '#', t.len - i - 1);
                p->req.query = pv_slice_make(q, hash ? (size_t)(hash - q) : t.len - i - 1);
            }
            break;
        }
    }
    if (pv_slice_eq_cstr(raw_path, "*")) { /* asterisk-form, OPTIONS only */
        pv_buf_append_char(&p->path, '*');
        return 0;
    }
    return pv_http_decode_path(raw_path, &p->path);
}

static int on_message_complete(llhttp_t *l)
{
    pv_http_parser *p = parser_of(l);
    pv_http_request *r = &p->req;
    for (size_t i = 0; i < p->hdrs.count; i++) {
        p->headers[i].name = pv_http_headers_name_at(&p->hdrs, i);
        p->headers[i].value = pv_http_headers_value_at(&p->hdrs, i);
    }
    r->method = method_of(l->method);
    r->method_name = pv_slice_make(p->head.data + p->method_off, p->method_len);
    r->target = pv_slice_make(p->head.data + p->target_off, p->target_len);
    r->headers = p->headers;
    r->header_count = p->hdrs.count;
    r->body = pv_buf_slice(&p->body);
    r->http_minor = l->http_minor;
    r->keep_alive = llhttp_should_keep_alive(l) != 0;
    r->upgrade = l->upgrade != 0;
    p->expect_continue = false;
    p->complete = true;
    int status = split_target(p, r->target);
    if (status != 0)
        return fail(p, status, status == 403 ? "path escapes the root" : "bad request path");
    r->path = pv_buf_slice(&p->path);
    return HPE_PAUSED; /* one request at a time: the rest waits in the caller's buffer */
}

void pv_http_parser_init(pv_http_parser *p, size_t max_header_bytes, size_t max_body_bytes)
{
    memset(p, 0, sizeof *p);
    p->max_header_bytes = max_header_bytes;
    p->max_body_bytes = max_body_bytes;
    llhttp_settings_init(&p->settings);
    p->settings.on_message_begin = on_message_begin;
    p->settings.on_method = on_method;
    p->settings.on_url = on_url;
    p->settings.on_version = on_version;
    p->settings.on_header_field = on_header_field;
    p->settings.on_header_value = on_header_value;
    p->settings.on_headers_complete = on_headers_complete;
    p->settings.on_body = on_body;
    p->settings.on_message_complete = on_message_complete;
    llhttp_init(&p->llhttp, HTTP_REQUEST, &p->settings);
    p->llhttp.data = p;
}

void pv_http_parser_free(pv_http_parser *p)
{
    pv_buf_free(&p->head);
    pv_buf_free(&p->body);
    pv_buf_free(&p->path);
    pv_http_headers_free(&p->hdrs);
}

/* An unknown method that is still a well-formed token gets 405, garbage gets 400. */
static bool looks_like_method(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && i < 32 && data[i] >= 'A' && data[i] <= 'Z')
        i++;
    return i > 0 && i < len && data[i] == ' ';
}

static int status_for(llhttp_errno_t e, const char *data, size_t len, bool fresh)
{
    switch (e) {
    case HPE_INVALID_VERSION:
        return 505;
    case HPE_INVALID_METHOD:
        return fresh && looks_like_method(data, len) ? 405 : 400;
    default:
        return 400;
    }
}

pv_http_parse_result pv_http_parser_feed(pv_http_parser *p, const char *data, size_t len,
                                         size_t *consumed)
{
    *consumed = 0;
    if (p->error_status != 0)
        return PV_HTTP_PARSE_ERROR;
    assert(!p->complete);
    bool fresh = !p->started;
    llhttp_errno_t e = llhttp_execute(&p->llhttp, data, len);
    if (e == HPE_OK) {
        *consumed = len;
        /* Bytes llhttp skips without a callback (white space) count as header bytes too. */
        if (!p->headers_done && p->started) {
            p->raw_head_bytes += len;
            if (p->raw_head_bytes > p->max_header_bytes)
                fail(p, 431, "headers too large");
        }
        return p->error_status ? PV_HTTP_PARSE_ERROR : PV_HTTP_PARSE_MORE;
    }
    const char *pos = llhttp_get_error_pos(&p->llhttp);
    *consumed = pos && pos >= data && pos <= data + len ? (size_t)(pos - data) : len;
    if (e == HPE_PAUSED && p->complete && p->error_status == 0)
        return PV_HTTP_PARSE_REQUEST;
    if (p->error_status == 0) {
        p->error_status = status_for(e, data, len, fresh);
        p->error_reason = p->error_status == 405 ? "method not allowed" : "malformed request";
    }
    return PV_HTTP_PARSE_ERROR;
}

pv_http_parse_result pv_http_parser_eof(pv_http_parser *p)
{
    if (p->error_status != 0)
        return PV_HTTP_PARSE_ERROR;
    if (!p->started)
        return PV_HTTP_PARSE_MORE;
    p->error_status = 400;
    p->error_reason = "request cut short";
    return PV_HTTP_PARSE_ERROR;
}

const pv_http_request *pv_http_parser_request(const pv_http_parser *p)
{
    assert(p->complete);
    return &p->req;
}

void pv_http_parser_next(pv_http_parser *p)
{
    if (llhttp_get_errno(&p->llhttp) == HPE_PAUSED)
        llhttp_resume(&p->llhttp);
    pv_buf_reset(&p->head);
    pv_buf_reset(&p->body);
    pv_buf_reset(&p->path);
    p->header_bytes = p->raw_head_bytes = 0;
    pv_http_headers_reset(&p->hdrs);
    p->method_off = p->method_len = p->target_off = p->target_len = 0;
    p->headers_done = p->complete = p->expect_continue = p->started = false;
    memset(&p->req, 0, sizeof p->req);
}

int pv_http_decode_path(pv_slice raw, pv_buf *out)
{
    if (raw.len == 0 || raw.ptr[0] != '/')
        return 400; /* origin-form starts with '/' (RFC 9112 §3.2.1) */
    size_t start = out->len;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.ptr[i];
        if (c == '%') { /* RFC 3986 §2.1 */
            int hi = i + 2 < raw.len ? pv_hex_value(raw.ptr[i + 1]) : -1;
            int lo = hi >= 0 ? pv_hex_value(raw.ptr[i + 2]) : -1;
            if (lo < 0)
                return 400;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return 400; /* a NUL would cut the name short in open(2) */
        pv_buf_append_char(out, c);
    }
    /* No `..` segment, whether sent plainly or as %2e%2e: the root must not be left. */
    const char *s = out->data + start;
    size_t n = out->len - start;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        if (j - i == 2 && s[i] == '.' && s[i + 1] == '.')
            return 403;
        i = j + 1;
    }
    return 0;
}
