/*
 * fetch.h — the agent host's fetcher: HTTP, HTTPS and TFTP downloads and
 * uploads on one libuv loop. One interface, two engines (fetch_int.h):
 *
 *   - PV_FETCH_ENGINE_CURL (fetch_curl.c): libcurl's multi interface. One
 *     pv_fetcher per loop owns one CURLM; libcurl tells us which sockets to
 *     watch (uv_poll) and when to wake it (one uv_timer). The emulated phone
 *     (src/phone/phone.c) uses it.
 *   - PV_FETCH_ENGINE_NATIVE (fetch_native.c): HTTP/1.1 on uv_tcp, HTTPS with
 *     OpenSSL memory BIOs as the server does (net/tls.h, client side), the
 *     response parsed by llhttp (net/http_reply.h), TFTP on uv_udp
 *     (fetch_tftp.c, the options libcurl sends). One SSL_CTX for the fetcher, each phone's
 *     credentials parsed once (net/tls_cred.h): a fraction of libcurl's CPU per
 *     HTTPS connection, which the fleet simulator (src/fleet, 100 000 phones on
 *     one loop) needs so that a storm measures the server, not the fleet.
 *
 * What it is for: both perform the agent's FETCH and UPLOAD actions
 * (provisor/agent.h) exactly as a phone sends them. Each transfer holds its
 * request headers and a response body bounded by max_body, nothing else.
 *
 * What the engine does for us and what it must not: it answers Basic challenges
 * when the request carries uid/pwd (the engine offers them only after a 401,
 * and counts its own retries — spec 8.2); a Digest challenge the caller passes
 * on is answered by us (core/http_digest.h) in the same request, as a phone
 * does, and only without one does the engine negotiate (libcurl: Basic or
 * Digest; native: the first 401's challenge, answered on a new connection). It speaks TFTP with
 * blksize (RFC 2348) and TFTP upload (WRQ), presents a client certificate
 * (spec 4.4) and checks the server against a CA bundle. It never follows a
 * redirect (the engine does that itself, spec 8.3) and never decodes a
 * Content-Encoding (gzip and aes128gcm are the engine's job, spec 3.2/4.3).
 *
 * Connection costs stay visible: by default every transfer opens its own
 * connection and does a full TLS handshake (a phone does not keep
 * connections between resyncs), and each result says how long connect and
 * handshake took and how many connections it made. A fleet that wants
 * keep-alive sets reuse_connections.
 *
 * Ownership (libuv style): the caller owns the pv_fetcher until
 * pv_fetcher_close()'s callback. A pv_fetch (one transfer) belongs to the
 * fetcher; its callback runs exactly once on the loop thread unless the
 * transfer is cancelled, and the pv_fetch is freed right after it. Strings in
 * a request are copied; a result's strings and body live during the callback.
 */
#ifndef PV_NET_FETCH_H
#define PV_NET_FETCH_H

#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PV_FETCH_MAX_BODY_DEFAULT ((size_t)64 << 20) /* a firmware image */

typedef struct pv_fetcher pv_fetcher;
typedef struct pv_fetch pv_fetch;

typedef struct pv_fetcher_options {
    const char *ca_file;         /* server CA bundle (PEM); NULL: the system's */
    const char *cert_file;       /* client certificate (PEM) presented when asked */
    const char *key_file;        /* its key; NULL: in cert_file */
    unsigned connect_timeout_ms; /* TCP connect + TLS handshake; default 10 s */
    unsigned timeout_ms;         /* whole transfer; default 60 s */
    unsigned tftp_blksize;       /* RFC 2348 option asked for; default 1428, 0 = 512 plain */
    size_t max_body;             /* default PV_FETCH_MAX_BODY_DEFAULT */
    bool reuse_connections;      /* keep-alive and TLS session reuse between transfers */
    bool no_verify_host;         /* skip the name check (the chain is still verified) */
    /* Parse the CA bundle once and client certificates/keys once per file (a bounded cache of
     * PV_FETCH_TLS_CACHE entries), handing them to each TLS connection from memory instead of
     * libcurl re-reading the files per connection (~1 ms CPU each with OpenSSL 3). Files that
     * change after their first use are not read again: for a fleet, not for a phone whose
     * certificate may be replaced. */
    bool tls_cache;
    /* PV_FETCH_ENGINE_CURL (0, the default) or PV_FETCH_ENGINE_NATIVE. The native engine always
     * connects afresh (reuse_connections is ignored) and always parses credentials once
     * (tls_cache is implied). */
    int engine;
} pv_fetcher_options;

enum { PV_FETCH_ENGINE_CURL = 0, PV_FETCH_ENGINE_NATIVE = 1 };

#define PV_FETCH_TLS_CACHE 4096 /* client credentials kept in memory with tls_cache */

typedef struct pv_fetch_request {
    const char *url;    /* http://, https:// or tftp:// */
    const char *method; /* "GET" (TFTP read), "POST", "PUT" (TFTP write); NULL = GET */
    const void *body;   /* POST/PUT body, copied */
    size_t body_len;
    const char *content_type;     /* of the body */
    const char *content_encoding; /* of the body, e.g. "aes128gcm" */
    const char *uid, *pwd;        /* answer Basic/Digest challenges; NULL: none */
    /* The scheme the server challenged with last time ("Basic", "Digest"), or NULL: with
     * "Basic" the credentials go with the first request, as a phone that has just been
     * challenged does; otherwise libcurl asks first (one more round trip). */
    const char *auth_scheme;
    /* The whole WWW-Authenticate value of that 401, or NULL. A Digest challenge in it is
     * answered in this very request (RFC 7616, core/http_digest.h): one request with
     * credentials after the challenge, as a phone sends, instead of libcurl's extra round
     * trip to see a challenge of its own. */
    const char *challenge;
    const char *user_agent;
    bool client_cert;      /* HTTPS: present the certificate */
    const char *cert_file; /* NULL: the fetcher's (a fleet gives each phone its own) */
    const char *key_file;
    size_t max_body; /* 0: the fetcher's */
    /* The numeric IP address the connection is made from (bound before connect, TCP and
     * TFTP), e.g. "127.0.3.7": a fleet gives each simulated phone its own, so a server's
     * per-address limits see phones, not one host. NULL: the system chooses. */
    const char *local_address;
    /* The numeric address to connect to instead of resolving the URL's host, which still
     * names the server in the Host header and the TLS name check: the phone engine chooses
     * it (spec 1.2, 2.2 $SERVIP). NULL: libcurl resolves the host. */
    const char *connect_address;
} pv_fetch_request;

typedef struct pv_fetch_result {
    int error;              /* 0 or PV_ECONN, PV_ETIMEDOUT, PV_ETOOBIG, PV_EINVAL, PV_EPROTO */
    int status;             /* HTTP status; TFTP: 200, 404 ("file not found"), 500 (other errors) */
    const char *error_text; /* what went wrong, for a person ("" when fine) */
    const char *url;        /* the request's URL (redirects are never followed) */
    const char *location;   /* Location header, or NULL */
    const char *content_encoding; /* Content-Encoding header, or NULL */
    const char *www_authenticate; /* 401: the challenge's header, or NULL */
    const void *body;
    size_t body_len;
    /* what the transfer cost */
    double connect_ms, tls_ms, total_ms; /* from the start; 0 when not reached */
    unsigned new_connections;            /* 0 when a kept connection served it */
} pv_fetch_result;

typedef void (*pv_fetch_cb)(pv_fetch *fetch, const pv_fetch_result *result, void *data);

typedef struct pv_fetcher_stats {
    uint64_t started, completed, failed; /* failed: error < 0 */
    uint64_t connections;                /* new TCP connections (or TFTP sessions) */
    uint64_t bytes_in, bytes_out;        /* bodies */
    size_t active;                       /* transfers in flight */
} pv_fetcher_stats;

/* Fills the defaults documented above. */
void pv_fetcher_options_default(pv_fetcher_options *o);
/* One per loop. options NULL: defaults; copied. */
int pv_fetcher_new(uv_loop_t *loop, const pv_fetcher_options *options, pv_fetcher **out,
                   pv_error *err);
/* Starts a transfer; cb runs later (never from inside this call). */
int pv_fetch_start(pv_fetcher *f, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                   pv_fetch **out, pv_error *err);
/* Stops a transfer without calling its callback. */
void pv_fetch_cancel(pv_fetch *fetch);
void pv_fetcher_stats_get(const pv_fetcher *f, pv_fetcher_stats *out);
/* Cancels every transfer, closes the handles; done (may be NULL) runs when
 * the fetcher memory is freed. */
void pv_fetcher_close(pv_fetcher *f, void (*done)(void *data), void *data);

#endif
