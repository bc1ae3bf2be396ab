/*
 * http_server.h — HTTP/1.1 and HTTPS listener on one libuv loop.
 *
 * One pv_http_server accepts on one address for one loop. Several loops
 * serve one address in one of two ways: (a) shared queue — one listening
 * socket made by pv_http_server_listen(), each loop's server listening on its
 * own dup() of it, so whichever loop is waiting in epoll accepts the next
 * connection and a busy loop takes none until it is back (what `provisor
 * serve` does: balancing by availability, like nginx workers on one queue);
 * (b) SO_REUSEPORT — one socket per loop, the kernel hashing each connection
 * to a loop by its addresses, busy or not. Requests are parsed with llhttp; every complete request
 * becomes a pv_request for the handler. The server owns everything between
 * the socket and the handler: keep-alive and pipelining (answers leave in
 * request order), Content-Length and chunked bodies (bounded), HEAD, Range
 * (RFC 9110 §14) and If-None-Match / If-Modified-Since (RFC 9110 §13) for
 * answers that carry an ETag or Last-Modified, Date headers, sendfile(2) for
 * files over plain HTTP and bounded-memory streaming over TLS, and the limits
 * below. Every finished request emits one logfmt line and updates metrics.
 *
 * Lifetime: pv_http_server_new() allocates the server; pv_http_server_close()
 * drains it and frees it, then runs done_cb.
 */
#ifndef PV_NET_HTTP_SERVER_H
#define PV_NET_HTTP_SERVER_H

#include "core/error.h"
#include "net/admission.h"
#include "net/handler.h"
#include "net/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* How many times max_per_source connections of an address may be in their TLS handshake over
 * HTTPS, each to prove an identity (a verified client certificate) or be closed after it: an
 * office of phones behind one NAT address booting at once, their handshakes waiting for
 * admission. A connection that proved an identity no longer counts against its address.
 * The same multiple as TFTP's (PV_TFTP_IDENTIFIED_PER_SOURCE). */
#define PV_HTTP_IDENTIFIED_PER_SOURCE 16

typedef struct pv_http_limits {
    size_t max_header_bytes;       /* request line + headers; 431 beyond (default 16 KiB) */
    size_t max_body_bytes;         /* request body; 413 beyond (default 1 MiB) */
    unsigned request_timeout_ms;   /* whole request must arrive within (default 10 s); 408 */
    unsigned idle_timeout_ms;      /* keep-alive idle (default 30 s) */
    unsigned handshake_timeout_ms; /* the peer's turn in a TLS handshake (default 10 s) */
    unsigned handshake_max_ms;     /* a TLS handshake whose peer's bytes wait unread at a busy
                                      server may take up to this (default 60 s; http_conn.c) */
    unsigned max_connections; /* per loop; beyond, new connections are closed (default 10000) */
    unsigned max_per_source;  /* per peer IP per loop (default 256); over HTTPS, connections
                                 with a verified client certificate do not count, and those
                                 in their handshake may go up to
                                 PV_HTTP_IDENTIFIED_PER_SOURCE times this */
    unsigned max_requests_per_connection; /* then Connection: close (default 1000) */
} pv_http_limits;

/* Fills the defaults documented above. */
void pv_http_limits_default(pv_http_limits *limits);

typedef struct pv_http_server pv_http_server;

typedef struct pv_http_server_options {
    const char *address; /* "127.0.0.1:8080", "[::1]:8443", "0.0.0.0:80" */
    pv_handler *handler;
    pv_tls_slot *tls;             /* NULL: plain HTTP; else HTTPS with the slot's current context */
    const pv_http_limits *limits; /* NULL: defaults; copied */
    bool reuse_port;              /* SO_REUSEPORT, for one server per loop thread */
    /* > 0: a listening socket from pv_http_server_listen() shared with other loops' servers;
     * this server listens on its own dup() of it (the caller closes listen_fd when it no longer
     * needs it) and address only names it in messages. 0: bind address itself. */
    int listen_fd;
    /* Pass methods other than GET/HEAD/POST/PUT (PV_METHOD_OTHER: DELETE, PATCH, ...) to the
     * handler, e.g. for the admin API; false: the transport answers 405 itself. */
    bool allow_other_methods;
    /* HTTPS: this loop's admission queue (net/admission.h). Each TLS handshake waits for a
     * PV_ADMIT_TLS start there — reading and keeping (bounded) what the client sends, so that a
     * client that leaves is taken out of the queue at once — and past the deadline is refused
     * with a TLS alert. NULL: handshakes start at once. Must outlive the server. */
    pv_admit_queue *admit;
} pv_http_server_options;

/* A bound, listening TCP socket on address (SO_REUSEPORT too if reuse_port) for
 * pv_http_server_options.listen_fd: a descriptor >= 3 (so never mistaken for "none") or a
 * negative PV_E* code with err set. The caller closes it. */
int pv_http_server_listen(const char *address, bool reuse_port, pv_error *err);

/* Allocates and binds (or adopts a dup of listen_fd); listening starts at once. */
int pv_http_server_new(uv_loop_t *loop, const pv_http_server_options *options, pv_http_server **out,
                       pv_error *err);
/* The bound address (useful with port 0), formatted "host:port". */
const char *pv_http_server_address(const pv_http_server *server);
/* Replaces the limits for new connections (SIGHUP). Loop thread only. */
void pv_http_server_set_limits(pv_http_server *server, const pv_http_limits *limits);
/* Stops accepting; lets open requests finish within timeout_ms, then closes
 * everything and frees the server; done_cb (may be NULL) runs last. */
void pv_http_server_close(pv_http_server *server, unsigned timeout_ms, void (*done_cb)(void *data),
                          void *data);
/* Open connections right now (for drain and tests). */
size_t pv_http_server_connections(const pv_http_server *server);

#endif
