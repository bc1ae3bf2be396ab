/*
 * sip_msg.h — SIP messages read and written with GNU oSIP (libosipparser2).
 *
 * What it is for: both sides of the provisioning push (spec 5.5) speak a
 * little SIP — the phone registers and answers NOTIFY, the server sends
 * NOTIFY and answers the phone's challenge. This module is the one place
 * that turns bytes into a message and a message into bytes; it wraps oSIP's
 * parser (no SIP grammar is written here) and gives the fields those two
 * sides need as plain C strings. It owns no socket (net/sip_transport does)
 * and no policy (phone/phone_sip, server/notifier do).
 *
 * Bounds: a message over PV_SIP_MAX_MESSAGE bytes is refused before oSIP sees
 * it (RFC 3261 §18.1.1: UDP messages stay under the path MTU; 16 KiB leaves
 * room for long Via lists), as is one without Call-ID, CSeq, From, To or Via
 * (RFC 3261 §8.1.1): the error names the field.
 *
 * Ownership: a pv_sip_msg is the caller's (pv_sip_msg_free); strings it
 * returns live as long as it does. Built messages are appended to the
 * caller's pv_buf. Thread-safe after the first call (oSIP's parser tables
 * are initialised once).
 */
#ifndef PV_NET_SIP_MSG_H
#define PV_NET_SIP_MSG_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_SIP_MAX_MESSAGE 16384

typedef struct pv_sip_msg pv_sip_msg;

int pv_sip_parse(const void *data, size_t len, pv_sip_msg **out, pv_error *err);
void pv_sip_msg_free(pv_sip_msg *m);

bool pv_sip_is_request(const pv_sip_msg *m);
/* The request's method, or for a response the method of its CSeq. */
const char *pv_sip_method(const pv_sip_msg *m);
int pv_sip_status(const pv_sip_msg *m); /* 0 for a request */
const char *pv_sip_call_id(const pv_sip_msg *m);
uint32_t pv_sip_cseq(const pv_sip_msg *m);
/* The user part of the Request-URI ("" when none or a response). */
const char *pv_sip_request_user(const pv_sip_msg *m);
/* The Request-URI as text (malloc'd; free()), NULL for a response. */
char *pv_sip_request_uri(const pv_sip_msg *m);
/* The branch of the top Via, or "". */
const char *pv_sip_branch(const pv_sip_msg *m);
/* The value of the first header called name (case-insensitive; for headers oSIP does
 * not know itself, such as Event, Expires, Subscription-State), or NULL. */
const char *pv_sip_header(const pv_sip_msg *m, const char *name);
/* The Event package name without its parameters, lowercase ("check-sync"), into buf. */
void pv_sip_event(const pv_sip_msg *m, char *buf, size_t size);

/* The first WWW-Authenticate (proxy: Proxy-Authenticate) value as text, for
 * pv_digest_parse. PV_ENOENT when there is none. */
int pv_sip_challenge(const pv_sip_msg *m, bool proxy, pv_buf *out);

/* The Digest Authorization of a request, unquoted. Fields absent are "". */
typedef struct pv_sip_credentials {
    char username[128], realm[128], nonce[128], uri[256], response[72], cnonce[128], qop[16],
        algorithm[24], nc[16];
} pv_sip_credentials;
/* PV_ENOENT: no Authorization header; PV_ESYNTAX: not Digest, or a field too long. */
int pv_sip_credentials_get(const pv_sip_msg *m, pv_sip_credentials *out, pv_error *err);

/* ---- building ---- */

/*
 * A response to req (RFC 3261 §8.2.6): its Via list, From, Call-ID, CSeq,
 * and To (with to_tag added when the To has none). extra: more header lines
 * ("Name: value\r\n"...) or NULL.
 */
int pv_sip_response(const pv_sip_msg *req, int status, const char *reason, const char *to_tag,
                    const char *extra, pv_buf *out, pv_error *err);

typedef struct pv_sip_request {
    const char *method;    /* "REGISTER", "NOTIFY" */
    const char *uri;       /* Request-URI: "sip:1001@sip.example.net" */
    const char *from, *to; /* name-addr with tag where needed: "<sip:a@b>;tag=x" */
    const char *call_id;
    uint32_t cseq;
    const char *transport; /* Via: "UDP" or "TCP" */
    const char *via_host;  /* our address as the peer should answer it */
    uint16_t via_port;
    const char *branch;        /* "z9hG4bK..." (RFC 3261 §8.1.1.7) */
    const char *route;         /* Route header (a loose-routing outbound proxy), or NULL */
    const char *contact;       /* NULL: none */
    const char *event;         /* NULL: none */
    const char *expires;       /* NULL: none */
    const char *authorization; /* Digest value or NULL */
    bool proxy_authorization;  /* send it as Proxy-Authorization (answer to a 407) */
    const char *user_agent;
    const char *content_type; /* with body */
    const char *body;
} pv_sip_request;

int pv_sip_request_build(const pv_sip_request *r, pv_buf *out, pv_error *err);

#endif
