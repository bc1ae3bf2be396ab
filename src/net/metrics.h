/*
 * metrics.h — process-wide counters, rendered as Prometheus text at /metrics
 * on the admin listener (issue 3, "Logs and metrics").
 *
 * Every loop thread updates the same counters with relaxed atomics; there is
 * nothing to initialise or free. Status codes are HTTP codes; TFTP transfers
 * are counted with the HTTP code their handler answered (200 for a complete
 * transfer, 404, 403, ..., 408 for a timeout, 400 for a protocol error).
 */
#ifndef PV_NET_METRICS_H
#define PV_NET_METRICS_H

#include "core/buf.h"
#include "net/handler.h"

#include <stdint.h>

typedef enum {
    PV_TLS_HANDSHAKE_FULL,
    PV_TLS_HANDSHAKE_RESUMED,
    PV_TLS_HANDSHAKE_FAILED,
    PV_TLS_HANDSHAKE__COUNT
} pv_tls_handshake_kind;

/* One finished HTTP request or TFTP transfer. */
void pv_metrics_request(pv_proto proto, int status, uint64_t bytes_sent, uint64_t bytes_received,
                        double seconds);
void pv_metrics_tls_handshake(pv_tls_handshake_kind kind);
/* One finished request of the admin listener, counted apart from phone traffic as
 * provisor_admin_requests_total{method,route,status} and its duration: route is a static
 * name (at most PV_METRICS_ADMIN_SERIES label sets; the rest count as route="other"). */
#define PV_METRICS_ADMIN_SERIES 400
void pv_metrics_admin_request(const char *route, pv_slice method, int status, double seconds);
/* Open connections (HTTP/HTTPS) or transfers (TFTP): +1 on open, -1 on close. */
void pv_metrics_open(pv_proto proto, int delta);
void pv_metrics_tftp_retransmit(void);
void pv_metrics_tftp_timeout(void);
/* A request refused by a limit (connections, rate, size), by protocol. */
void pv_metrics_refused(pv_proto proto);

/* Retail binding attempts by outcome (a fixed label set: never a code). */
typedef enum {
    PV_METRICS_BIND_BOUND,
    PV_METRICS_BIND_AGAIN,   /* the same phone's lost answer given again */
    PV_METRICS_BIND_NO_CERT, /* refused before any counter (no verified certificate) */
    PV_METRICS_BIND_LIMITED, /* 429 */
    PV_METRICS_BIND_REFUSED, /* 403: wrong, used, expired code, pinned or bound device */
    PV_METRICS_BIND__COUNT
} pv_metrics_binding;
void pv_metrics_binding_outcome(pv_metrics_binding outcome);

/*
 * Per-loop counts (provisor_loop_requests_total{loop="N"}), to see that every
 * loop thread serves: each loop thread calls this once with its number
 * (1..PV_METRICS_MAX_LOOPS); requests finished on that thread count for it.
 */
#define PV_METRICS_MAX_LOOPS 64
void pv_metrics_set_loop(unsigned loop);

/* Appends the Prometheus text exposition (version 0.0.4) of every metric. */
void pv_metrics_render(pv_buf *out);
/* Zeroes every counter (tests). */
void pv_metrics_reset(void);

#endif
