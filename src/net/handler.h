/*
 * handler.h — the contract between the transports (TFTP, HTTP, HTTPS) and
 * whatever decides what a phone receives.
 *
 * The transports own sockets, TLS, framing, limits, retransmission, Range and
 * conditional requests. A handler owns policy: it looks at a pv_request (who
 * asked, for what, over which transport, with which verified certificate) and
 * answers with a pv_response: a status and a body held in memory or in an
 * open file. `provisor serve` without a provisioning store uses the static
 * file handler (net/fileserver.h); the provisioning server (src/server)
 * implements the same interface.
 *
 * The exchange. Every request lives in an exchange owned by the transport
 * (net/exchange.h): the request, its answer, and an arena that is freed when
 * the exchange has been logged (after the last byte was sent, or the peer
 * went away). Ownership of what a handler hands back, one rule per field:
 *   - every pointer in pv_response (body, message, identity_log, location,
 *     www_authenticate, content_type, content_encoding) is either
 *     static storage (a literal) or allocated in the exchange's arena with
 *     pv_request_alloc/strdup/memdup/printf/keep/keep_buf. The transport reads them until
 *     the exchange ends, long after handle() returned (a slow client, TLS):
 *     never a stack buffer, never memory the handler frees. Debug builds
 *     assert it in pv_request_respond().
 *   - fd (PV_BODY_FILE) is taken by the exchange, which closes it.
 *   - etag and the numbers are copied with the struct.
 * pv_request_respond_status() copies its message into the arena itself.
 *
 * Threading and lifetime (libuv style): handle() is called on the loop
 * thread that owns the connection or transfer. The handler answers by calling
 * pv_request_respond() exactly once, either before handle() returns or later
 * on the same loop thread. The pv_request and its arena stay valid until
 * then, even if the peer has gone (the answer is then logged and discarded).
 * One handler instance serves every loop, so its state must be thread-safe.
 */
#ifndef PV_NET_HANDLER_H
#define PV_NET_HANDLER_H

#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

typedef enum { PV_PROTO_TFTP, PV_PROTO_HTTP, PV_PROTO_HTTPS, PV_PROTO__COUNT } pv_proto;

typedef enum {
    PV_METHOD_GET,
    PV_METHOD_HEAD,
    PV_METHOD_POST,
    PV_METHOD_PUT,
    PV_METHOD_OTHER, /* answered 405 by the HTTP transport unless handled */
    PV_METHOD_TFTP_READ,  /* RRQ: RFC 1350 */
    PV_METHOD_TFTP_WRITE, /* WRQ: body is the whole upload */
} pv_method;

/*
 * What a verified client certificate says, as X.509 says it: the subject's
 * attributes by their short names ("CN", "OU", "L", "ST", ...), its
 * subjectAltName entries, its fingerprint and its issuer. The transports do
 * not interpret them: what a phone's attributes mean (which one is its MAC,
 * DESIGN decision 3) is the handler's business (src/server/identity.c).
 * Present only when the chain verified.
 */
#define PV_PEER_ATTRS 12
typedef struct pv_peer_attr {
    char name[16];   /* short name as OpenSSL knows it: "CN", "OU", "L", "ST", "O", "C", ... */
    char value[128]; /* UTF-8; cut if longer */
} pv_peer_attr;

typedef struct pv_peer_identity {
    pv_peer_attr subject[PV_PEER_ATTRS]; /* in the certificate's order; extra ones dropped */
    unsigned subject_count;
    char san[256];        /* subjectAltName DNS/URI entries, comma-separated */
    char fingerprint[65]; /* SHA-256 of the DER certificate, lower-case hex */
    char issuer[256];     /* issuer DN, one line */
} pv_peer_identity;

/* The first subject attribute named short_name ("CN", "ST"), or "" when the subject has none. */
const char *pv_peer_identity_attr(const pv_peer_identity *id, const char *short_name);
/* Appends a subject attribute (the TLS layer; tests that stand in for it). */
void pv_peer_identity_add(pv_peer_identity *id, const char *short_name, const char *value);

typedef struct pv_header {
    pv_slice name;
    pv_slice value;
} pv_header;

typedef struct pv_request pv_request;

/* Lives in the transport's exchange (net/exchange.h); every pointer is the transport's and
 * valid until the handler has answered. */
struct pv_request {
    pv_proto proto;
    pv_method method;
    pv_slice method_name;  /* as sent ("GET", "RRQ", ...) */
    pv_slice path;         /* percent-decoded, without the query; TFTP: the file name */
    pv_slice query;        /* after '?', undecoded; empty when absent */
    pv_slice user_agent;   /* empty for TFTP */
    const pv_header *headers; /* HTTP request headers; none for TFTP */
    size_t header_count;
    pv_slice body;         /* POST/PUT body or the TFTP upload, complete and bounded */
    const struct sockaddr *peer;  /* who asked */
    const struct sockaddr *local; /* the address the request came to */
    const pv_peer_identity *identity; /* NULL unless a client certificate verified */
    bool head_only;        /* HEAD: the transport sends no body */
    /* Set by a handler whose requests are not phone traffic (the admin listener): a static
     * route name ("/api/v1/devices/{mac}") under which the request is counted in
     * provisor_admin_requests_total instead of provisor_requests_total (net/metrics.h). */
    const char *metrics_route;
    /* Set by a handler that keeps the request waiting (an admission queue, issue 15): called
     * once, on the loop thread, if the peer goes away first (connection closed or reset, TFTP
     * transfer cut); the handler stops waiting and answers at once (the answer is logged as
     * aborted and discarded), so a dead peer holds no place. Cleared before each request;
     * a handler clears it itself once it stops waiting. */
    void (*on_peer_gone)(pv_request *req, void *data);
    void *on_peer_gone_data;
};

typedef enum {
    PV_BODY_NONE,   /* status only */
    PV_BODY_MEMORY, /* body: bytes in the exchange's arena or static */
    PV_BODY_FILE,   /* fd: an open regular file the exchange reads and closes */
} pv_body_kind;

/* Every pointer: static storage or the exchange's arena (the rule above). */
typedef struct pv_response {
    int status;               /* HTTP status; TFTP maps 404 → File not found, 403 → Access violation, ... */
    pv_body_kind body_kind;
    const char *body;         /* PV_BODY_MEMORY */
    size_t body_len;
    int fd;                   /* PV_BODY_FILE: taken by the exchange */
    off_t file_size;
    time_t last_modified;     /* 0: unknown; sent as Last-Modified, used for If-Modified-Since */
    char etag[72];            /* quoted entity tag, or empty: used for If-None-Match */
    const char *content_type; /* NULL for application/octet-stream */
    const char *content_encoding; /* e.g. "aes128gcm" (spec 4.3), or NULL */
    const char *location;     /* 301/302 */
    const char *www_authenticate; /* 401: the challenge (RFC 9110 §11.6.1) */
    unsigned retry_after;     /* 503: seconds, sent as Retry-After (RFC 9110 §10.2.3); 0 = none */
    const char *message;      /* short reason for logs and TFTP error packets, or NULL */
    const char *identity_log; /* who the handler decided this is (e.g. a MAC), for the log line */
    const char *headers;      /* more header lines, each "Name: value\r\n" (Set-Cookie, CSP...), or
                                 NULL; HTTP only; a malformed set is dropped whole */
} pv_response;

typedef struct pv_handler pv_handler;
struct pv_handler {
    void (*handle)(pv_handler *self, pv_request *req);
    void *data;
};

/* Answers req (once); the exchange takes resp's fd. Pointers: the rule above. */
void pv_request_respond(pv_request *req, const pv_response *resp);

/* Convenience: an answer with no body and a reason (for logs and TFTP errors); message is
 * copied into the exchange's arena unless it is static. */
void pv_request_respond_status(pv_request *req, int status, const char *message);

/* Memory that lives exactly as long as the exchange (its arena): for everything a handler
 * hands back in a pv_response. Never NULL. */
void *pv_request_alloc(pv_request *req, size_t size);
char *pv_request_strdup(pv_request *req, const char *s);
/* len bytes and a NUL. */
char *pv_request_memdup(pv_request *req, const void *ptr, size_t len);
char *pv_request_printf(pv_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The path as it may be logged when the real one holds a secret (a binding code): copied
 * into the arena; every transport logs it instead of req->path, whichever answer follows. */
void pv_request_set_log_path(pv_request *req, const char *path);
/* Hands a pv_malloc block (len bytes used) to the exchange, which frees it; returns it. */
void *pv_request_keep(pv_request *req, void *block, size_t len);
/* Hands buf's bytes to the exchange without copying; buf is left empty. Returns them
 * (NUL-terminated, never NULL) and their length in *len. */
const char *pv_request_keep_buf(pv_request *req, pv_buf *buf, size_t *len);

/* Looks up a request header by name, case-insensitively; empty slice if absent. */
pv_slice pv_request_header(const pv_request *req, const char *name);

/* Fills a pv_response for a memory body, copying the bytes into req's arena. */
void pv_response_set_body(pv_request *req, pv_response *resp, int status, const void *data,
                          size_t len, const char *content_type);

const char *pv_proto_name(pv_proto proto);

#endif
