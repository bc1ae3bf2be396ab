/*
 * tftp_server.h — TFTP listener on one libuv loop (RFC 1350, 2347, 2348,
 * 2349, 7440).
 *
 * The listener socket only receives requests; each transfer gets its own
 * ephemeral UDP socket bound to the address the request came to (replies
 * from the right address), its own adaptive retransmission timer, and at most
 * one window of blocks in memory. Read requests ask the handler for the
 * body (PV_METHOD_TFTP_READ); transfers of the same file share one open file.
 * Write requests collect the upload (bounded) and hand it to the handler as
 * PV_METHOD_TFTP_WRITE. Refusals (limits, rate, unknown files, bad packets)
 * are answered with an ERROR packet that says why. Every transfer emits one
 * logfmt line and updates metrics.
 *
 * Spoofed sources (docs/security.md, TFTP): a transfer is half-open until its
 * peer answers on the transfer's port; it sends one small first packet, resends
 * it a few times without backoff, ends without an ERROR and counts against a
 * budget (who is evicted when it is full, and the limits by the identity a file
 * name carries: net/tftp_admit.h). Toward a source that has not proven
 * itself, every packet (refusals too) is paid from 3x the bytes it sent plus
 * one block a second. An ERROR, and anything from port 0, 69, the listener's
 * own port or a transfer socket of ours, is never answered.
 *
 * Lifetime (libuv style): see pv_tftp_server_close().
 */
#ifndef PV_NET_TFTP_SERVER_H
#define PV_NET_TFTP_SERVER_H

#include "core/error.h"
#include "net/handler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct pv_tftp_limits {
    unsigned max_transfers;       /* per loop (default 2000) */
    unsigned max_per_source;      /* concurrent transfers per peer IP (default 16) */
    unsigned requests_per_second; /* per peer IP, token bucket (default 50, burst 100) */
    unsigned max_blksize;         /* cap on RFC 2348 blksize (default 65464, also capped by MTU) */
    unsigned max_windowsize;      /* cap on RFC 7440 windowsize (default 64) */
    unsigned timeout_ms;          /* initial retransmission timeout (default 1000) */
    unsigned max_retries;         /* per block before the transfer is abandoned (default 5) */
    /* A transfer is half-open until its peer answers (ACK, or DATA for a write): spoofed
     * requests make only such transfers. Their budget per loop (default 256; when full,
     * the oldest ends silently) and the resends of their first packet (default 2, every
     * timeout_ms, no backoff, no ERROR when given up). */
    unsigned max_half_open;
    unsigned half_open_retries;
    size_t max_upload_bytes; /* WRQ (default 1 MiB) */
} pv_tftp_limits;

void pv_tftp_limits_default(pv_tftp_limits *limits);

typedef struct pv_tftp_server pv_tftp_server;

typedef struct pv_tftp_server_options {
    const char *address; /* "127.0.0.1:6969", "[::1]:69" */
    pv_handler *handler;
    const pv_tftp_limits *limits; /* NULL: defaults; copied */
    bool reuse_port;              /* SO_REUSEPORT: one socket per loop, hashed by the kernel */
    /* > 0: a socket from pv_tftp_server_listen() shared with other loops' servers: this server
     * reads requests from its own dup() of it, so a request goes to whichever loop is waiting
     * (the caller closes listen_fd); address is then ignored. 0: bind address itself. */
    int listen_fd;
} pv_tftp_server_options;

/* A bound TFTP listener socket on address for pv_tftp_server_options.listen_fd: a descriptor
 * >= 3 or a negative PV_E* code with err set. The caller closes it. */
int pv_tftp_server_listen(const char *address, bool reuse_port, pv_error *err);

int pv_tftp_server_new(uv_loop_t *loop, const pv_tftp_server_options *options, pv_tftp_server **out,
                       pv_error *err);
const char *pv_tftp_server_address(const pv_tftp_server *server);
void pv_tftp_server_set_limits(pv_tftp_server *server, const pv_tftp_limits *limits);
/* Stops taking requests; lets transfers finish within timeout_ms, then frees
 * the server; done_cb (may be NULL) runs last. */
void pv_tftp_server_close(pv_tftp_server *server, unsigned timeout_ms, void (*done_cb)(void *data),
                          void *data);
size_t pv_tftp_server_transfers(const pv_tftp_server *server);
/* Open files shared by the running transfers (one per file content). */
size_t pv_tftp_server_open_files(const pv_tftp_server *server);
/* Requests dropped because every half-open transfer was still within its time to answer
 * (net/tftp_admit.h), since the server started. */
uint64_t pv_tftp_server_dropped(const pv_tftp_server *server);

#endif
