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
 * Threading and lifetime (libuv style): handle() is called on the loop
 * thread that owns the connection or transfer. The handler answers by calling
 * pv_request_respond() exactly once, either before handle() returns or later
 * on the same loop thread. The pv_request stays valid until then, even if the
 * peer has gone (the transport then discards the answer). One handler
 * instance serves every loop, so its state must be thread-safe.
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
 * What a verified client certificate says (DESIGN decision 3; spec 4.4:
 * "OU=CP-8841-3PCC, L=88012BA01234, S=000e08abcdef"). Empty strings where the
 * subject has no such field. Present only when the chain verified.
 */
typedef struct pv_peer_identity {
    char common_name[128]; /* CN */
    char org_unit[128];    /* OU: product */
    char locality[128];    /* L: serial */
    char state[128];       /* S (ST): MAC */
    char san[256];         /* subjectAltName DNS/URI entries, comma-separated */
    char fingerprint[65];  /* SHA-256 of the DER certificate, lower-case hex */
    char issuer[256];      /* issuer DN, one line */
} pv_peer_identity;

typedef struct pv_header {
    pv_slice name;
    pv_slice value;
} pv_header;

typedef struct pv_request pv_request;

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

    /* For the handler: an opaque pointer it may set while the request is pending. */
    void *handler_data;
    /* Owned by the transport. */
    void *transport;
};

typedef enum {
    PV_BODY_NONE,   /* status only */
    PV_BODY_MEMORY, /* body: bytes owned by the response (freed by the transport) */
    PV_BODY_FILE,   /* fd: an open regular file the transport reads and closes */
} pv_body_kind;

typedef struct pv_response {
    int status;               /* HTTP status; TFTP maps 404 → File not found, 403 → Access violation, ... */
    pv_body_kind body_kind;
    char *body;               /* PV_BODY_MEMORY: from pv_malloc, taken by the transport */
    size_t body_len;
    int fd;                   /* PV_BODY_FILE: taken by the transport */
    off_t file_size;
    time_t last_modified;     /* 0: unknown; sent as Last-Modified, used for If-Modified-Since */
    char etag[72];            /* quoted entity tag, or empty: used for If-None-Match */
    const char *content_type; /* static string, or NULL for application/octet-stream */
    const char *content_encoding; /* e.g. "aes128gcm" (spec 4.3), or NULL */
    const char *location;     /* 301/302: copied by the transport */
    const char *www_authenticate; /* 401: the challenge (RFC 9110 §11.6.1), copied */
    const char *message;      /* short reason for logs and TFTP error packets, or NULL */
    const char *identity_log; /* who the handler decided this is (e.g. a MAC), for the log line */
    const char *log_path;     /* the path as it may be logged, when the real one holds a secret
                                 (a binding code, xpassword=): copied by the transport. A
                                 handler may also point req->path at a redacted copy that
                                 outlives the answer: every transport logs that instead */
} pv_response;

typedef struct pv_handler pv_handler;
struct pv_handler {
    void (*handle)(pv_handler *self, pv_request *req);
    void *data;
};

/* Answers req; the transport takes ownership of resp's body or fd. */
void pv_request_respond(pv_request *req, pv_response *resp);

/* Convenience: an answer with no body and a reason (for logs and TFTP errors). */
void pv_request_respond_status(pv_request *req, int status, const char *message);

/* Looks up a request header by name, case-insensitively; empty slice if absent. */
pv_slice pv_request_header(const pv_request *req, const char *name);

/* Fills a pv_response for a memory body, copying the bytes. */
void pv_response_set_body(pv_response *resp, int status, const void *data, size_t len,
                          const char *content_type);

const char *pv_proto_name(pv_proto proto);

/*
 * Transport side: req->transport points to a struct whose first member is a
 * pv__respond_fn, which pv_request_respond() calls.
 */
typedef void (*pv__respond_fn)(pv_request *req, pv_response *resp);

#endif
