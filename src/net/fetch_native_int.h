/*
 * fetch_native_int.h — what the two files of the native engine share: a
 * transfer (nfetch) and its connections (nconn) as fetch_native.c (transfers:
 * start, resolve, deadlines, the answer's outcome, the fetcher's life) and
 * fetch_native_conn.c (one connection: TCP, TLS over memory BIOs, the request
 * out, the answer's bytes in) both see them. Private to them.
 */
#ifndef PV_NET_FETCH_NATIVE_INT_H
#define PV_NET_FETCH_NATIVE_INT_H

#include "net/fetch_int.h"
#include "net/http_reply.h"
#include "net/tls.h"
#include "net/tls_cred.h"

#include <netinet/in.h>

#define MAX_HEAD ((size_t)64 << 10) /* status line and headers of an answer */
#define DNS_SLOTS 8

typedef struct nfetcher nfetcher;
typedef struct nfetch nfetch;

typedef struct nconn {
    uv_tcp_t tcp;
    nfetch *t; /* NULL once the transfer let go of it */
    pv_tls_conn *tls;
    pv_buf wpend, wfly; /* ciphertext (or plaintext) to write; being written */
    uv_write_t wreq;
    uv_connect_t creq;
    bool writing;
    bool handshake_done;
    bool request_sent;
} nconn;

typedef struct dns_entry {
    char host[256];
    struct sockaddr_storage addr;
    uint64_t expires_ns;
} dns_entry;

struct nfetch {
    pv_fetch base; /* first: the interface's view and the live list (fetch_int.h) */
    nfetcher *f;
    char *url, *host, *local_address, *connect_address, *method, *uid, *pwd;
    char *user_agent, *content_type, *content_encoding;
    int port;
    bool tls;
    bool client_cert;
    pv_buf host_header, target, auth; /* auth: an Authorization value, or empty */
    bool may_negotiate;               /* no answer yet: the first 401 is answered here */
    char *upload;
    size_t upload_len;
    pv_tls_cred *cred;
    struct sockaddr_storage addr;
    uv_getaddrinfo_t gai;
    uv_timer_t timer;
    nconn *conn;
    pv_http_reply reply;
    size_t max_body;
    unsigned pending; /* the timer, connections not yet closed, a lookup in progress */
    unsigned conns;
    uint64_t t0_ns, connect_ns, tls_ns;
    bool connected; /* TCP and TLS done: the timer now bounds the whole transfer */
    bool ended;     /* callback ran or cancelled: closing */
    int fail_error; /* an error found in pv_fetch_start, reported from the timer */
    char text[200];
};

struct nfetcher {
    pv_fetcher base;       /* first: options, live list, counts, the close (fetch_int.h) */
    pv__fetch_files files; /* options' files, parsed once */
    pv_tls_context *tls;
    pv_fetcher *tftp; /* the TFTP transfers' engine */
    dns_entry dns[DNS_SLOTS];
    bool tftp_closed;
};

/* fetch_native.c */
/* One of the transfer's handles or connections has closed: freed with the last. */
void pv__nfetch_pending_done(nfetch *t);
/* Ends the transfer with error; what: "connect", "receive", ... or NULL; detail: the reason. */
void pv__nfetch_fail(nfetch *t, int error, const char *what, const char *detail);
/* Connected (and the handshake done): from now the whole transfer's bound applies. */
void pv__nfetch_connected(nfetch *t);
/* What the reply parser said of the bytes fed (http_reply.h): finish, negotiate or go on. */
void pv__nfetch_reply_progress(nfetch *t, int rc);

/* fetch_native_conn.c */
/* A new connection to t->addr as t->conn; a libuv error when it cannot even start. */
int pv__nfetch_connect(nfetch *t);
/* Closes c; its transfer (if it still has it) hears of it by pv__nfetch_pending_done. */
void pv__nfetch_conn_close(nconn *c);

#endif
