/* http_reply.c — HTTP/1.1 responses over llhttp; see http_reply.h. */
#include "net/http_reply.h"

#include "core/error.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

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
    if (r->in_value) { /* a new header begins */
        r->in_value = false;
        r->name_len = 0;
        r->target = NULL;
    }
    if (r->name_len + len >= sizeof r->name) {
        r->name_len = sizeof r->name; /* too long: not one we keep */
        return 0;
    }
    memcpy(r->name + r->name_len, at, len);
    r->name_len += len;
    return 0;
}

static int on_header_field_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    r->target = NULL;
    if (r->name_len >= sizeof r->name)
        return 0;
    r->name[r->name_len] = '\0';
    pv_buf *b = strcasecmp(r->name, "location") == 0           ? &r->location
                : strcasecmp(r->name, "content-encoding") == 0 ? &r->content_encoding
                : strcasecmp(r->name, "www-authenticate") == 0 ? &r->www_authenticate
                                                               : NULL;
    if (b != NULL && b->len == 0) /* the first of a repeated header */
        r->target = b;
    return 0;
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    pv_http_reply *r = reply_of(l);
    if (count_head(r, len) != 0)
        return -1;
    r->in_value = true;
    if (r->target != NULL) {
        size_t room = PV_HTTP_REPLY_MAX_VALUE - r->target->len;
        pv_buf_append(r->target, at, len < room ? len : room); /* cut: bounded per phone */
    }
    return 0;
}

static int on_header_value_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    pv_buf *b = r->target;
    while (b != NULL && b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
        b->data[--b->len] = '\0'; /* RFC 9110 §5.5: surrounding white space is not the value */
    r->in_value = true;
    r->name_len = 0;
    r->target = NULL;
    return 0;
}

static int on_headers_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    r->status = l->status_code;
    if (r->status >= 200 && (l->flags & F_CONTENT_LENGTH) && l->content_length > r->max_body)
        return fail(r, PV_ETOOBIG, "response body over the limit"); /* before reading it */
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
    r->in_value = false;
    r->name_len = 0;
    r->target = NULL;
    r->status = 0;
}

static int on_message_complete(llhttp_t *l)
{
    pv_http_reply *r = reply_of(l);
    if (l->status_code >= 100 && l->status_code < 200) { /* RFC 9110 §15.2: interim, skip */
        reset_message(r);
        return 0;
    }
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
    r->settings.on_header_field_complete = on_header_field_complete;
    r->settings.on_header_value = on_header_value;
    r->settings.on_header_value_complete = on_header_value_complete;
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
