/* http_headers.c — the header fields of an HTTP/1.1 message, collected; see http_headers.h. */
#include "net/http_headers.h"

#include <assert.h>

bool pv_http_headers_starts(const pv_http_headers *h)
{
    return h->in_value || h->count == 0;
}

bool pv_http_headers_name(pv_http_headers *h, const char *at, size_t len)
{
    if (pv_http_headers_starts(h)) {
        if (h->count == PV_HTTP_MAX_HEADERS)
            return false;
        h->spans[h->count++] = (pv_http_hdr_span){h->text.len, 0, h->text.len, 0};
        h->in_value = false;
    }
    pv_http_hdr_span *s = &h->spans[h->count - 1];
    pv_buf_append(&h->text, at, len);
    s->name_len += len;
    s->value_off = h->text.len;
    return true;
}

void pv_http_headers_value(pv_http_headers *h, const char *at, size_t len)
{
    assert(h->count > 0); /* llhttp gives a name before its value */
    pv_http_hdr_span *s = &h->spans[h->count - 1];
    if (!h->in_value)
        s->value_off = h->text.len;
    h->in_value = true;
    pv_buf_append(&h->text, at, len);
    s->value_len += len;
}

pv_slice pv_http_headers_name_at(const pv_http_headers *h, size_t i)
{
    return pv_slice_make(h->text.data + h->spans[i].name_off, h->spans[i].name_len);
}

pv_slice pv_http_headers_value_at(const pv_http_headers *h, size_t i)
{
    const pv_http_hdr_span *s = &h->spans[i];
    return pv_slice_trim(pv_slice_make(h->text.data + s->value_off, s->value_len));
}

bool pv_http_headers_is(const pv_http_headers *h, size_t i, const char *name)
{
    return pv_slice_case_eq_cstr(pv_http_headers_name_at(h, i), name);
}

void pv_http_headers_reset(pv_http_headers *h)
{
    pv_buf_reset(&h->text);
    h->count = 0;
    h->in_value = false;
}

void pv_http_headers_free(pv_http_headers *h)
{
    pv_buf_free(&h->text);
    h->count = 0;
}
