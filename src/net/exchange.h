/*
 * exchange.h — one request and its answer as a transport holds it: the
 * transport side of handler.h (HTTP and HTTPS connections, TFTP transfers;
 * shaped so that SIP can use it too).
 *
 * An exchange is owned by net: embedded in its owner (a connection, a
 * transfer) and reused by it for the next request. It holds the pv_request
 * the handler sees, the pv_response it answered, the arena in which the
 * handler allocates everything it hands back (handler.h states the rule per
 * field), and the orphan state. It writes the one log line and the metrics
 * of every request, whatever the transport (pv_exchange_end).
 *
 * Lifecycle (one documented state machine for every transport):
 *
 *   IDLE ──open──▶ OPEN ──dispatch──▶ HANDLING ──respond──▶ ANSWERED ──end──▶ IDLE
 *                    └──────────answer (the transport's own)─────┘
 *
 *   - OPEN: a request is arriving or being checked by the transport.
 *   - HANDLING: the handler has it; only pv_request_respond() moves it on.
 *   - ANSWERED: the transport sends resp (ops->send was called).
 *   - end: the transport is done (sent, failed, timed out, the peer left):
 *     one log line, the metrics, the fd closed and the arena freed.
 *
 * Orphans. When the transport ends an exchange that is HANDLING (the peer went
 * away, the transfer was cut), the exchange outlives the peer until the handler
 * answers: the answer is then logged (aborted=true) and discarded. If the
 * owner's own handles closed meanwhile (pv_exchange_owner_closed() said
 * "not yet"), the answer also calls ops->owner_free: the owner is freed then,
 * never before. A handler that only waits (an admission queue) hears the peer
 * leave through req->on_peer_gone and may answer at once (handler.h). Everything
 * runs on the owner's loop thread.
 */
#ifndef PV_NET_EXCHANGE_H
#define PV_NET_EXCHANGE_H

#include "core/arena.h"
#include "core/log.h"
#include "net/handler.h"
#include "net/sockaddr.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    PV_EXCHANGE_IDLE,
    PV_EXCHANGE_OPEN,
    PV_EXCHANGE_HANDLING,
    PV_EXCHANGE_ANSWERED,
} pv_exchange_state;

typedef struct pv_exchange pv_exchange;

typedef struct pv_exchange_ops {
    /* The handler answered (ex->resp) and the peer is still there: send it. */
    void (*send)(pv_exchange *ex);
    /* An orphan's answer came after its owner's handles closed: free the owner. */
    void (*owner_free)(pv_exchange *ex);
    /* The transport's own fields of the log line (TFTP: blksize, ...), or NULL. */
    void (*log_fields)(const pv_exchange *ex, pv_log_line *line);
} pv_exchange_ops;

struct pv_exchange {
    pv_request req;   /* what the handler sees */
    pv_response resp; /* the answer (ANSWERED); its pointers: handler.h's rule */
    pv_arena arena;   /* freed when the exchange ends */
    const pv_exchange_ops *ops;
    void *owner;       /* the connection or transfer, for the ops */
    const char *event; /* the log line's event: "http.request", "tftp.transfer" */
    pv_exchange_state state;
    bool peer_gone;         /* ended by the transport while HANDLING: an orphan */
    bool owner_closed;      /* the owner's handles closed while HANDLING */
    const char *end_reason; /* why the transport ended an orphan (arena or static) */
    const char *log_path;   /* the handler's loggable path (pv_request_set_log_path), or NULL */
    const char *verified;   /* who the transport verified (certificate subject CN), or NULL */
    char peer_text[PV_SOCKADDR_TEXT_MAX];
    uint64_t start_ns;            /* uv_hrtime() when the request began */
    uint64_t bytes_out, bytes_in; /* body bytes sent; bytes received for this request */
};

/* Once per owner. peer and local must outlive the exchange (they are the owner's). */
void pv_exchange_init(pv_exchange *ex, const pv_exchange_ops *ops, void *owner, pv_proto proto,
                      const char *event, const struct sockaddr *peer,
                      const struct sockaddr *local);
/* IDLE → OPEN: a new request; start_ns 0 is now. The transport then fills ex->req. */
void pv_exchange_open(pv_exchange *ex, uint64_t start_ns);
/* OPEN → HANDLING: gives the request to the handler. */
void pv_exchange_dispatch(pv_exchange *ex, pv_handler *handler);
/* OPEN → ANSWERED: the transport's own answer (400, 405, 408, ...); the caller sends it.
 * Its pointers: handler.h's rule. */
void pv_exchange_answer(pv_exchange *ex, const pv_response *resp);
/*
 * The transport is done with the request: status as sent on the wire (a 206 or 304 for a
 * 200), reason or NULL (logged for errors and aborts). OPEN or ANSWERED: logs, counts and
 * releases (→ IDLE). HANDLING: becomes an orphan; its line is written when the handler
 * answers. IDLE: nothing (no request was in progress).
 */
void pv_exchange_end(pv_exchange *ex, int status, const char *reason, bool aborted);
/* The owner's handles have all closed. True: free the owner now. False: the handler still
 * holds the exchange; ops->owner_free frees it when the answer comes. */
bool pv_exchange_owner_closed(pv_exchange *ex);
/* The path as the log line names it: the handler's log path, else req.path up to a '&' or
 * ';' (phones put credentials there). */
pv_slice pv_exchange_log_path(const pv_exchange *ex);
/* The answer's file descriptor, taken by the caller (the exchange will not close it). */
int pv_exchange_take_fd(pv_exchange *ex);

#endif
