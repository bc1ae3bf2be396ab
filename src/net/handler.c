/* handler.c — request look-ups of the handler contract; see handler.h (the answer and its
 * arena are exchange.c's). */
#include "net/handler.h"

#include <string.h>

pv_slice pv_request_header(const pv_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (pv_slice_case_eq_cstr(req->headers[i].name, name))
            return req->headers[i].value;
    }
    return (pv_slice){"", 0};
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
