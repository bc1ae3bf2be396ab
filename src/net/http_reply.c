/* http_reply.c — HTTP/1.1 responses over llhttp; see http_reply.h. */
#include "net/http_reply.h"

#include "core/error.h"

#include <stddef.h>
#include <string.h>

static pv_http_reply *reply_of(llhttp_t *l)
{
    return (pv_http_reply *)((char *)l - offsetof(pv_http_reply, llhttp));
}

static int fail(pv_http_reply *r, int error, const char *text)
{
    r->error = error;
    r->error_text = text;
    return -1;
}

/* Status line and headers count against max_head as they arrive. */
static int count_head(pv_http_reply *r, size_t len)
{
    if (len > r->max_head - r->head_bytes)
        return fail(r, PV_EPROTO, "response headers over the limit");
    r->head_bytes += len;
    return 0;
}

static int on_status(llhttp_t *l, const char *at, size_t len)
{
    (void)at;
    return count_head(reply_of(l), len);
}

static int on_header_field(llhttp_t *l, const char *at, size_t len)
{
    pv_http_reply *r = reply_of(l);
    if (count_head(r, len) != 0)
        return -1;
    if (!pv_http_headers_name(&r->hdrs, at, len))
        return fail(r, PV_EPROTO, "response headers over the limit");
    return 0;
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    pv_http_reply *r = reply_of(l);
    if (count_head(r, len) != 0)
        return -1;
    pv_http_headers_value(&r->hdrs, at, len);
    return 0;
}

/* What the agent reads of the headers: the first non-empty one of each name, cut at
 * PV_HTTP_REPLY_MAX_VALUE (bounded per phone). */
static void keep_headers(pv_http_reply *r)
{
    static const char *const names[] = {"location", "content-encoding", "www-authenticate"};
    pv_buf *kept[] = {&r->location, &r->content_encoding, &r->www_authenticate};
    for (size_t i = 0; i < r->hdrs.count; i++) {
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            if (kept[k]->len > 0 || !pv_http_headers_is(&r->hdrs, i, names[k]))
                continue;
            pv_slice v = pv_http_headers_value_at(&r->hdrs, i);
            pv_buf_append(kept[k], v.ptr,
                          v.len < PV_HTTP_REPLY_MAX_VALUE ? v.len : PV_HTTP_REPLY_MAX_VALUE);
        }
    }
}

static int on_headers_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    r->status = l->status_code;
    if (r->status >= 200 && (l->flags & F_CONTENT_LENGTH) && l->content_length > r->max_body)
        return fail(r, PV_ETOOBIG, "response body over the limit"); /* before reading it */
    keep_headers(r);
    return 0;
}

static int on_body(llhttp_t *l, const char *at, size_t len)
{
    pv_http_reply *r = reply_of(l);
    if (len > r->max_body - r->body.len) /* chunked or read to the close: bound as it comes */
        return fail(r, PV_ETOOBIG, "response body over the limit");
    pv_buf_append(&r->body, at, len);
    return 0;
}

static void reset_message(pv_http_reply *r)
{
    pv_buf_reset(&r->location);
    pv_buf_reset(&r->content_encoding);
    pv_buf_reset(&r->www_authenticate);
    pv_buf_reset(&r->body);
    pv_http_headers_reset(&r->hdrs);
    r->status = 0;
}

static int on_message_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    if (l->status_code >= 100 && l->status_code < 200) { /* RFC 9110 §15.2: interim, skip */
        reset_message(r);
        return 0;
    }
    /* RFC 9112 §4: a status code is three digits. llhttp may complete a message whose status
     * line had none (found by fuzz.http_reply: "HTTP/1.1 " and bare CRs, then the close). */
    if (l->status_code < 200 || l->status_code > 999 || r->status != l->status_code)
        return fail(r, PV_EPROTO, "malformed HTTP response: no status code");
    r->done = true;
    return HPE_PAUSED; /* one response: what follows is not ours */
}

void pv_http_reply_init(pv_http_reply *r, size_t max_head, size_t max_body)
{
    memset(r, 0, sizeof *r);
    r->max_head = max_head;
    r->max_body = max_body;
    llhttp_settings_init(&r->settings);
    r->settings.on_status = on_status;
    r->settings.on_header_field = on_header_field;
    r->settings.on_header_value = on_header_value;
    r->settings.on_headers_complete = on_headers_complete;
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    llhttp_init(&r->llhttp, HTTP_RESPONSE, &r->settings);
}

void pv_http_reply_free(pv_http_reply *r)
{
    pv_buf_free(&r->location);
    pv_buf_free(&r->content_encoding);
    pv_buf_free(&r->www_authenticate);
    pv_buf_free(&r->body);
    pv_http_headers_free(&r->hdrs);
}

static int outcome(pv_http_reply *r, llhttp_errno_t e)
{
    if (r->done)
        return PV_HTTP_REPLY_DONE;
    if (r->error != 0)
        return r->error;
    if (e != HPE_OK) {
        r->error = PV_EPROTO;
        r->error_text = "malformed HTTP response";
        return r->error;
    }
    return PV_HTTP_REPLY_MORE;
}

int pv_http_reply_feed(pv_http_reply *r, const char *data, size_t len)
{
    if (r->done || r->error != 0)
        return r->done ? PV_HTTP_REPLY_DONE : r->error;
    r->fed += len;
    return outcome(r, llhttp_execute(&r->llhttp, data, len));
}

int pv_http_reply_eof(pv_http_reply *r)
{
    if (r->done || r->error != 0)
        return r->done ? PV_HTTP_REPLY_DONE : r->error;
    llhttp_errno_t e = llhttp_finish(&r->llhttp); /* completes a body read to the close */
    int rc = outcome(r, e);
    if (rc == PV_HTTP_REPLY_MORE) {
        r->error = PV_EPROTO;
        r->error_text = r->fed == 0 ? "the server closed without answering"
                                    : "the server closed in the middle of the answer";
        return r->error;
    }
    return rc;
}
