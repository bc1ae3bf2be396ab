/* handler.c — request look-ups of the handler contract; see handler.h (the answer and its
 * arena are exchange.c's). */
#include "net/handler.h"

#include <stdio.h>
#include <string.h>

pv_slice pv_request_header(const pv_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (pv_slice_case_eq_cstr(req->headers[i].name, name))
            return req->headers[i].value;
    }
    return (pv_slice){"", 0};
}

const char *pv_peer_identity_attr(const pv_peer_identity *id, const char *short_name)
{
    for (unsigned i = 0; i < id->subject_count && i < PV_PEER_ATTRS; i++) {
        if (strcmp(id->subject[i].name, short_name) == 0)
            return id->subject[i].value;
    }
    return "";
}

void pv_peer_identity_add(pv_peer_identity *id, const char *short_name, const char *value)
{
    if (id->subject_count >= PV_PEER_ATTRS)
        return;
    pv_peer_attr *a = &id->subject[id->subject_count++];
    (void)snprintf(a->name, sizeof a->name, "%s", short_name);
    (void)snprintf(a->value, sizeof a->value, "%s", value); /* cut: a log and a match only */
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
