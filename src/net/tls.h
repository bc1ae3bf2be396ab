/*
 * tls.h — TLS for the HTTPS listener with OpenSSL memory BIOs, so that libuv
 * owns the socket and OpenSSL only transforms bytes.
 *
 * A pv_tls_config describes one listener's policy (certificate, key,
 * manufacturer CA bundles for client certificates, verification mode,
 * minimum version, cipher list, security level, session tickets). From it
 * pv_tls_context_new() builds a reference-counted pv_tls_context shared by
 * every loop thread. SIGHUP builds a new context and swaps it into the
 * listener's pv_tls_slot with pv_tls_slot_swap(); connections keep the
 * context they started with.
 *
 * The context also owns the server-side session cache (sessions kept as
 * their DER encoding, bounded in count, oldest dropped first): OpenSSL's
 * own cache keeps every session decoded, about 7 KB with a phone's
 * certificate, which made the server's memory grow by ~140 MB under
 * full-handshake load before it leveled off.
 *
 * A pv_tls_conn is one connection's state machine: feed it ciphertext from
 * the socket, take plaintext out, give it plaintext to send, and flush the
 * ciphertext it wants written. It never touches a socket.
 *
 * The client side (the fleet's fetcher, net/fetch_native.c) uses the same
 * connection type: pv_tls_client_context_new() builds one SSL_CTX that
 * verifies servers against a parsed CA store, and pv_tls_conn_new_client()
 * starts a connection that presents a phone's parsed credentials
 * (net/tls_cred.h) on that one context — no SSL_CTX and no PEM per connection.
 */
#ifndef PV_NET_TLS_H
#define PV_NET_TLS_H

#include "core/buf.h"
#include "core/error.h"
#include "net/handler.h"

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

struct pv_tls_cred;

typedef enum {
    PV_CLIENT_CERT_NONE,     /* no certificate is asked for */
    PV_CLIENT_CERT_OPTIONAL, /* asked for; verified when sent; absent is allowed */
    PV_CLIENT_CERT_REQUIRED, /* a verified certificate or the handshake fails */
} pv_client_cert_mode;

typedef struct pv_tls_config {
    const char *cert_file;      /* PEM chain, leaf first */
    const char *key_file;       /* PEM private key */
    const char *client_ca_file; /* PEM bundle of manufacturer CAs, or NULL */
    pv_client_cert_mode client_cert;
    int min_version;          /* TLS1_2_VERSION (default) or TLS1_3_VERSION; 0 = default */
    const char *ciphers;      /* TLS 1.2 cipher list, or NULL for OpenSSL's default */
    const char *ciphersuites; /* TLS 1.3 suites, or NULL */
    int security_level;       /* OpenSSL security level; -1 = OpenSSL's default */
    bool session_tickets;     /* stateless resumption (default on) */
    /* Sessions the server keeps for resumption without tickets (TLS 1.2 clients that offer no
     * ticket; every TLS 1.3 client when session_tickets is off): 0 = the default
     * (PV_TLS_SESSION_CACHE_DEFAULT), PV_TLS_SESSION_CACHE_OFF = none. Each costs about 1 KB
     * (its DER encoding with the phone's certificate), shared by all loop threads. */
    int session_cache;
} pv_tls_config;

#define PV_TLS_SESSION_CACHE_DEFAULT 20000
#define PV_TLS_SESSION_CACHE_OFF (-1)

typedef struct pv_tls_context pv_tls_context;

/* Builds a context; on failure err says which file or setting was wrong. */
int pv_tls_context_new(const pv_tls_config *config, pv_tls_context **out, pv_error *err);
pv_tls_context *pv_tls_context_ref(pv_tls_context *ctx);
void pv_tls_context_unref(pv_tls_context *ctx);

/* A slot holding the current context of a listener, shared between threads. */
typedef struct pv_tls_slot pv_tls_slot;
pv_tls_slot *pv_tls_slot_new(pv_tls_context *initial); /* takes the reference */
/* Returns a new reference to the current context. */
pv_tls_context *pv_tls_slot_get(pv_tls_slot *slot);
/* Replaces the current context (takes the reference; releases the old one). */
void pv_tls_slot_swap(pv_tls_slot *slot, pv_tls_context *next);
void pv_tls_slot_free(pv_tls_slot *slot);

typedef struct pv_tls_conn pv_tls_conn;

typedef enum {
    PV_TLS_WANT_IO = 0, /* progress needs more ciphertext in or out */
    PV_TLS_DONE = 1,    /* handshake complete */
} pv_tls_progress;

pv_tls_conn *pv_tls_conn_new(pv_tls_context *ctx); /* keeps its own reference */
void pv_tls_conn_free(pv_tls_conn *conn);
/* Ciphertext from the socket. */
int pv_tls_conn_feed(pv_tls_conn *conn, const void *data, size_t len, pv_error *err);
/* Drives the handshake; returns PV_TLS_WANT_IO, PV_TLS_DONE or a negative PV_E*. */
int pv_tls_conn_handshake(pv_tls_conn *conn, pv_error *err);
/* Decrypted application data into out (appended); 0 when nothing is ready, >0 bytes, <0 error,
 * PV_ECONN when the peer closed cleanly. */
int pv_tls_conn_read(pv_tls_conn *conn, pv_buf *out, pv_error *err);
/* Encrypts application data; the ciphertext is then taken with pv_tls_conn_take_output. */
int pv_tls_conn_write(pv_tls_conn *conn, const void *data, size_t len, pv_error *err);
/* Ciphertext waiting to be taken, in bytes. */
size_t pv_tls_conn_output_pending(const pv_tls_conn *conn);
/* Moves ciphertext waiting to be sent into out (appended); returns bytes moved. */
size_t pv_tls_conn_take_output(pv_tls_conn *conn, pv_buf *out);
/* Between requests of a keep-alive connection: gives back the memory of empty buffers. */
void pv_tls_conn_release_idle(pv_tls_conn *conn);
/* Starts a close_notify. */
void pv_tls_conn_shutdown(pv_tls_conn *conn);
/* After the handshake: the verified client identity, or NULL when none verified. */
const pv_peer_identity *pv_tls_conn_identity(const pv_tls_conn *conn);
bool pv_tls_conn_resumed(const pv_tls_conn *conn);

/* A client context verifying servers against ca_store (a new reference is taken): TLS 1.2 or
 * later, no session cache (every connection a full handshake, as a phone does after a resync
 * interval), ALPN http/1.1. */
int pv_tls_client_context_new(X509_STORE *ca_store, pv_tls_context **out, pv_error *err);
/* A client connection to host (SNI unless an IP address; the certificate must name it unless
 * verify_host is false, the chain is verified either way) presenting cred when not NULL
 * (spec 4.4). The handshake's first flight is ready after pv_tls_conn_handshake(). */
pv_tls_conn *pv_tls_conn_new_client(pv_tls_context *ctx, const char *host, bool verify_host,
                                    const struct pv_tls_cred *cred);

#endif
