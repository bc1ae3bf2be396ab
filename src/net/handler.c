/* handler.c — the small shared half of the handler contract; see handler.h. */
#include "net/handler.h"

#include "core/alloc.h"

#include <assert.h>
#include <string.h>

void pv_request_respond(pv_request *req, pv_response *resp)
{
    assert(req->transport != NULL);
    pv__respond_fn respond = *(pv__respond_fn *)req->transport;
    respond(req, resp);
}

void pv_request_respond_status(pv_request *req, int status, const char *message)
{
    pv_response resp = {.status = status, .body_kind = PV_BODY_NONE, .fd = -1,
                        .message = message};
    pv_request_respond(req, &resp);
}

pv_slice pv_request_header(const pv_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (pv_slice_case_eq_cstr(req->headers[i].name, name))
            return req->headers[i].value;
    }
    return (pv_slice){"", 0};
}

void pv_response_set_body(pv_response *resp, int status, const void *data, size_t len,
                          const char *content_type)
{
    resp->status = status;
    resp->body_kind = PV_BODY_MEMORY;
    resp->body = pv_memdup0(data, len);
    resp->body_len = len;
    resp->fd = -1;
    resp->content_type = content_type;
}

const char *pv_proto_name(pv_proto proto)
{
    switch (proto) {
    case PV_PROTO_TFTP:
        return "tftp";
    case PV_PROTO_HTTP:
        return "http";
    case PV_PROTO_HTTPS:
        return "https";
    default:
        return "unknown";
    }
}
