/* tls.c — OpenSSL 3 contexts and memory-BIO connections; see tls.h. */
#include "net/tls.h"

#include "core/alloc.h"
#include "net/tls_cred.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sess_cache sess_cache;

struct pv_tls_context {
    SSL_CTX *ssl_ctx;
    atomic_int refs;
    pv_client_cert_mode client_cert;
    bool tickets;
    sess_cache *sessions; /* NULL when the session cache is off */
};

struct pv_tls_slot {
    pthread_mutex_t lock;
    pv_tls_context *current;
};

struct pv_tls_conn {
    SSL *ssl;
    BIO *rbio; /* ciphertext from the peer, owned by ssl */
    BIO *wbio; /* ciphertext for the peer, owned by ssl */
    pv_tls_context *ctx;
    pv_peer_identity identity;
    bool has_identity;
    bool done;
    bool client; /* pv_tls_conn_new_client: the peer is a server */
};

static void context_free(pv_tls_context *ctx);

/* Appends OpenSSL's queued errors (most recent last) to err's message. */
static int ssl_error(pv_error *err, int code, const char *what)
{
    char detail[160] = "";
    unsigned long e;
    while ((e = ERR_get_error()) != 0)
        ERR_error_string_n(e, detail, sizeof detail);
    return pv_error_set(err, code, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

/* ---- the server-side session cache ------------------------------------------------------
 *
 * Resumption without tickets needs the server to keep each session. OpenSSL's internal cache
 * keeps them decoded: 1 KB of SSL_SESSION plus the phone's certificate as an X509 object,
 * 5.8 KB for a 553-byte P-256 certificate, so 6.8 KB a session, ~140 MB for 20 000 (measured:
 * docs/benchmarks.md, "Server memory under load"). Here a session is kept as its DER encoding
 * (i2d_SSL_SESSION: the certificate's 553 bytes and the session's fields, ~1 KB an entry in all)
 * and decoded only when a client resumes: ~0.1 ms, nearly all of it the certificate — what
 * OpenSSL pays too on every resumption from a ticket (the ticket holds the same encoding), and
 * a tenth of the full handshake it saves. Encoding costs ~1.4 us per full handshake. OpenSSL
 * still checks the session id context and the session's age on what we return.
 */

#define SESS_MAX_DER 16384 /* a phone's certificate is 0.5–2 KB; larger sessions are not kept */

typedef struct sess_entry {
    struct sess_entry *hnext;         /* same hash bucket */
    struct sess_entry *older, *newer; /* insertion order; the oldest is dropped first */
    time_t expires;
    unsigned id_len;
    unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    size_t der_len;
    unsigned char der[];
} sess_entry;

struct sess_cache {
    pthread_mutex_t lock; /* the loop threads share one context */
    sess_entry **buckets;
    size_t nbuckets, count, cap;
    sess_entry *oldest, *newest;
};

static sess_cache *sess_cache_new(size_t cap)
{
    sess_cache *c = pv_calloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->cap = cap;
    c->nbuckets = cap; /* chains of one on average when full */
    c->buckets = pv_calloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

static void sess_cache_free(sess_cache *c)
{
    if (c == NULL)
        return;
    for (sess_entry *e = c->oldest, *next; e != NULL; e = next) {
        next = e->newer;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Session ids are random bytes chosen by the server: the first eight are a good hash. */
static sess_entry **sess_bucket(sess_cache *c, const unsigned char *id, unsigned len)
{
    uint64_t h = 0;
    memcpy(&h, id, len < sizeof h ? len : sizeof h);
    return &c->buckets[h % c->nbuckets];
}

/* Finds the entry of id; *link_out is the pointer that points at it (for unlinking). */
static sess_entry *sess_find(sess_cache *c, const unsigned char *id, unsigned len,
                             sess_entry ***link_out)
{
    sess_entry **link = sess_bucket(c, id, len);
    for (; *link != NULL; link = &(*link)->hnext) {
        if ((*link)->id_len == len && memcmp((*link)->id, id, len) == 0) {
            *link_out = link;
            return *link;
        }
    }
    return NULL;
}

static void sess_unlink(sess_cache *c, sess_entry **link)
{
    sess_entry *e = *link;
    *link = e->hnext;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->count--;
    free(e);
}

static void sess_remove(sess_cache *c, const unsigned char *id, unsigned len)
{
    sess_entry **link = NULL;
    if (sess_find(c, id, len, &link) != NULL)
        sess_unlink(c, link);
}

static void sess_insert(sess_cache *c, sess_entry *e)
{
    sess_remove(c, e->id, e->id_len);
    if (c->count == c->cap) /* full: the bound holds, the oldest goes */
        sess_remove(c, c->oldest->id, c->oldest->id_len);
    sess_entry **bucket = sess_bucket(c, e->id, e->id_len);
    e->hnext = *bucket;
    *bucket = e;
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest != NULL)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->count++;
}

static pv_tls_context *context_of(SSL_CTX *ssl_ctx)
{
    return SSL_CTX_get_app_data(ssl_ctx);
}

/* OpenSSL's new-session callback: keep an encoded copy; OpenSSL keeps its object. */
static int sess_on_new(SSL *ssl, SSL_SESSION *sess)
{
    pv_tls_context *ctx = context_of(SSL_get_SSL_CTX(ssl));
    unsigned id_len = 0;
    const unsigned char *id = SSL_SESSION_get_id(sess, &id_len);
    /* With tickets, a TLS 1.3 session travels in its ticket: nothing to keep (RFC 8446 §4.6.1). */
    if (ctx->sessions == NULL || id_len == 0 || id_len > SSL_MAX_SSL_SESSION_ID_LENGTH ||
        (ctx->tickets && SSL_SESSION_get_protocol_version(sess) == TLS1_3_VERSION))
        return 0;
    int der_len = i2d_SSL_SESSION(sess, NULL);
    if (der_len <= 0 || der_len > SESS_MAX_DER)
        return 0;
    sess_entry *e = pv_malloc(sizeof *e + (size_t)der_len);
    unsigned char *p = e->der;
    if (i2d_SSL_SESSION(sess, &p) != der_len) {
        free(e);
        return 0;
    }
    e->der_len = (size_t)der_len;
    e->id_len = id_len;
    memcpy(e->id, id, id_len);
    e->expires = (time_t)SSL_SESSION_get_time(sess) + (time_t)SSL_SESSION_get_timeout(sess);
    pthread_mutex_lock(&ctx->sessions->lock);
    sess_insert(ctx->sessions, e);
    pthread_mutex_unlock(&ctx->sessions->lock);
    return 0; /* we hold no reference to sess */
}

/* OpenSSL's lookup callback: a new decoded session, owned by OpenSSL from here (*copy = 0). */
static SSL_SESSION *sess_on_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    pv_tls_context *ctx = context_of(SSL_get_SSL_CTX(ssl));
    *copy = 0;
    if (ctx->sessions == NULL || len <= 0 || len > SSL_MAX_SSL_SESSION_ID_LENGTH)
        return NULL;
    SSL_SESSION *sess = NULL;
    sess_cache *c = ctx->sessions;
    pthread_mutex_lock(&c->lock);
    sess_entry **link = NULL;
    sess_entry *e = sess_find(c, id, (unsigned)len, &link);
    if (e != NULL && e->expires < time(NULL)) {
        sess_unlink(c, link);
    } else if (e != NULL) {
        const unsigned char *p = e->der;
        sess = d2i_SSL_SESSION(NULL, &p, (long)e->der_len);
    }
    pthread_mutex_unlock(&c->lock);
    return sess;
}

/* OpenSSL drops a session it found stale or bad, or one whose handshake failed. */
static void sess_on_remove(SSL_CTX *ssl_ctx, SSL_SESSION *sess)
{
    pv_tls_context *ctx = context_of(ssl_ctx);
    unsigned id_len = 0;
    const unsigned char *id = SSL_SESSION_get_id(sess, &id_len);
    if (ctx == NULL || ctx->sessions == NULL || id_len == 0)
        return;
    pthread_mutex_lock(&ctx->sessions->lock);
    sess_remove(ctx->sessions, id, id_len);
    pthread_mutex_unlock(&ctx->sessions->lock);
}

static int configure_sessions(pv_tls_context *ctx, const pv_tls_config *c, pv_error *err)
{
    SSL_CTX *ssl_ctx = ctx->ssl_ctx;
    if (c->session_cache < PV_TLS_SESSION_CACHE_OFF)
        return pv_error_set(err, PV_EINVAL, "TLS session cache size must be 0 or more");
    if (c->session_cache == PV_TLS_SESSION_CACHE_OFF) {
        /* No session id in a TLS 1.2 ServerHello, so no client tries; tickets still resume. */
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        return 0;
    }
    ctx->sessions = sess_cache_new(c->session_cache > 0 ? (size_t)c->session_cache
                                                        : PV_TLS_SESSION_CACHE_DEFAULT);
    SSL_CTX_set_app_data(ssl_ctx, ctx);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
                                                SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_sess_set_new_cb(ssl_ctx, sess_on_new);
    SSL_CTX_sess_set_get_cb(ssl_ctx, sess_on_get);
    SSL_CTX_sess_set_remove_cb(ssl_ctx, sess_on_remove);
    return 0;
}

/* ---- contexts --------------------------------------------------------------------------- */

static int configure(SSL_CTX *ctx, const pv_tls_config *c, pv_error *err)
{
    int min = c->min_version ? c->min_version : TLS1_2_VERSION;
    if (min != TLS1_2_VERSION && min != TLS1_3_VERSION)
        return pv_error_set(err, PV_EINVAL, "TLS minimum version must be 1.2 or 1.3");
    SSL_CTX_set_min_proto_version(ctx, min);
    if (c->ciphers != NULL && SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1)
        return ssl_error(err, PV_EINVAL, "TLS cipher list matches no cipher");
    if (c->ciphersuites != NULL && SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1)
        return ssl_error(err, PV_EINVAL, "TLS 1.3 cipher suites are not valid");
    /* After the cipher list, which may carry its own @SECLEVEL. Old phones need 0 or 1. */
    if (c->security_level >= 0)
        SSL_CTX_set_security_level(ctx, c->security_level);
    if (c->cert_file == NULL || c->key_file == NULL)
        return pv_error_set(err, PV_EINVAL, "TLS needs a certificate and a key file");
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1)
        return ssl_error(err, PV_EINVAL, c->cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1)
        return ssl_error(err, PV_EINVAL, c->key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ssl_error(err, PV_EINVAL, "the TLS key does not match the certificate");
    if (c->client_cert != PV_CLIENT_CERT_NONE) {
        if (c->client_ca_file == NULL)
            return pv_error_set(err, PV_EINVAL,
                                "client certificates need a CA bundle (client CA file)");
        if (SSL_CTX_load_verify_locations(ctx, c->client_ca_file, NULL) != 1)
            return ssl_error(err, PV_EINVAL, c->client_ca_file);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->client_ca_file);
        if (names == NULL)
            return ssl_error(err, PV_EINVAL, c->client_ca_file);
        SSL_CTX_set_client_CA_list(ctx, names);
        /* SSL_VERIFY_PEER makes a certificate that does not verify fail the handshake even
         * when it is optional: an unknown CA is refused, never treated as absent. */
        int mode = SSL_VERIFY_PEER;
        if (c->client_cert == PV_CLIENT_CERT_REQUIRED)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, NULL);
        SSL_CTX_set_verify_depth(ctx, 6);
    }
    long opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (!c->session_tickets)
        opts |= SSL_OP_NO_TICKET; /* TLS 1.3 then resumes from the server's session cache */
    SSL_CTX_set_options(ctx, (uint64_t)opts);
    /* Resumption with client certificates needs a session id context. */
    static const unsigned char sid_ctx[] = "provisor";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    /* TLS 1.3 sends two tickets by default, each a copy of the session (and a cache insert
     * when tickets are stateful): a phone opens one connection at a time and needs one. */
    SSL_CTX_set_num_tickets(ctx, 1);
    /* Idle keep-alive connections should not hold 2 x 16 KiB of buffers each. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return 0;
}

int pv_tls_context_new(const pv_tls_config *config, pv_tls_context **out, pv_error *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (ssl_ctx == NULL)
        return ssl_error(err, PV_ECRYPTO, "cannot create a TLS context");
    int rc = configure(ssl_ctx, config, err);
    if (rc != 0) {
        SSL_CTX_free(ssl_ctx);
        return rc;
    }
    pv_tls_context *ctx = pv_calloc(1, sizeof *ctx);
    ctx->ssl_ctx = ssl_ctx;
    ctx->client_cert = config->client_cert;
    ctx->tickets = config->session_tickets;
    atomic_init(&ctx->refs, 1);
    rc = configure_sessions(ctx, config, err);
    if (rc != 0) {
        context_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

static void context_free(pv_tls_context *ctx)
{
    SSL_CTX_free(ctx->ssl_ctx); /* first: it may still call sess_on_remove */
    sess_cache_free(ctx->sessions);
    free(ctx);
}

pv_tls_context *pv_tls_context_ref(pv_tls_context *ctx)
{
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void pv_tls_context_unref(pv_tls_context *ctx)
{
    if (ctx == NULL || atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
        return;
    context_free(ctx);
}

pv_tls_slot *pv_tls_slot_new(pv_tls_context *initial)
{
    pv_tls_slot *slot = pv_calloc(1, sizeof *slot);
    pthread_mutex_init(&slot->lock, NULL);
    slot->current = initial;
    return slot;
}

pv_tls_context *pv_tls_slot_get(pv_tls_slot *slot)
{
    /* A lock, not a bare atomic pointer: the reference must be taken before a concurrent
     * swap can drop the last one. Held for two instructions, once per connection. */
    pthread_mutex_lock(&slot->lock);
    pv_tls_context *ctx = pv_tls_context_ref(slot->current);
    pthread_mutex_unlock(&slot->lock);
    return ctx;
}

void pv_tls_slot_swap(pv_tls_slot *slot, pv_tls_context *next)
{
    pthread_mutex_lock(&slot->lock);
    pv_tls_context *old = slot->current;
    slot->current = next;
    pthread_mutex_unlock(&slot->lock);
    pv_tls_context_unref(old); /* connections that started with it keep their own reference */
}

void pv_tls_slot_free(pv_tls_slot *slot)
{
    if (slot == NULL)
        return;
    pv_tls_context_unref(slot->current);
    pthread_mutex_destroy(&slot->lock);
    free(slot);
}

static BIO *mem_bio(bool input)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        fprintf(stderr, "provisor: out of memory in OpenSSL\n");
        abort(); /* same policy as pv_malloc */
    }
    if (input)
        BIO_set_mem_eof_return(bio, -1); /* empty means "retry later", not end of file */
    return bio;
}

/* A connection on ctx with its two memory BIOs, in neither state yet. */
static pv_tls_conn *conn_alloc(pv_tls_context *ctx)
{
    pv_tls_conn *conn = pv_calloc(1, sizeof *conn);
    conn->ctx = pv_tls_context_ref(ctx);
    conn->ssl = SSL_new(ctx->ssl_ctx);
    if (conn->ssl == NULL) {
        fprintf(stderr, "provisor: out of memory in OpenSSL\n");
        abort(); /* same policy as pv_malloc */
    }
    conn->rbio = mem_bio(true);
    conn->wbio = mem_bio(false);
    SSL_set_bio(conn->ssl, conn->rbio, conn->wbio);
    return conn;
}

pv_tls_conn *pv_tls_conn_new(pv_tls_context *ctx)
{
    pv_tls_conn *conn = conn_alloc(ctx);
    SSL_set_accept_state(conn->ssl);
    return conn;
}

/* The allocated size of an empty memory BIO's buffer, or 0 when it holds bytes. */
static size_t idle_capacity(BIO *bio)
{
    BUF_MEM *mem = NULL;
    if (BIO_ctrl_pending(bio) != 0 || BIO_get_mem_ptr(bio, &mem) != 1 || mem == NULL)
        return 0;
    return mem->max;
}

void pv_tls_conn_release_idle(pv_tls_conn *conn)
{
    /* A memory BIO keeps the capacity of its largest burst (the client's certificate flight
     * in, our handshake flight and answers out): a few KB per idle keep-alive connection.
     * SSL_MODE_RELEASE_BUFFERS does the same for OpenSSL's own record buffers. */
    if (idle_capacity(conn->rbio) > 0) {
        conn->rbio = mem_bio(true);
        SSL_set0_rbio(conn->ssl, conn->rbio); /* frees the old one */
    }
    if (idle_capacity(conn->wbio) > 0) {
        conn->wbio = mem_bio(false);
        SSL_set0_wbio(conn->ssl, conn->wbio);
    }
}

void pv_tls_conn_free(pv_tls_conn *conn)
{
    if (conn == NULL)
        return;
    SSL_free(conn->ssl); /* frees both BIOs */
    pv_tls_context_unref(conn->ctx);
    free(conn);
}

int pv_tls_conn_feed(pv_tls_conn *conn, const void *data, size_t len, pv_error *err)
{
    size_t written = 0;
    if (len > 0 && (BIO_write_ex(conn->rbio, data, len, &written) != 1 || written != len))
        return ssl_error(err, PV_ECRYPTO, "TLS input buffer");
    return 0;
}

/* Copies one subject field (UTF-8) into out, or leaves it empty. */
/* Every attribute of the subject, by short name, as the handler will read it (handler.h). */
static void subject_attrs(X509_NAME *name, pv_peer_identity *id)
{
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (sn != NULL && n >= 0) {
            char value[sizeof id->subject[0].value];
            snprintf(value, sizeof value, "%.*s", n, (const char *)utf8); /* cut is acceptable */
            pv_peer_identity_add(id, sn, value);
        }
        OPENSSL_free(utf8);
    }
}

static void append_text(char *out, size_t size, const char *prefix, const char *text, int len)
{
    size_t used = strlen(out);
    int n = snprintf(out + used, size - used, "%s%s%.*s", used ? "," : "", prefix, len, text);
    if (n < 0 || (size_t)n >= size - used)
        out[used] = '\0'; /* an entry that does not fit is left out whole */
}

static void san_entries(X509 *cert, char *out, size_t size)
{
    out[0] = '\0';
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        const ASN1_STRING *s = NULL;
        const char *prefix = "";
        if (gn->type == GEN_DNS) {
            s = gn->d.dNSName;
            prefix = "DNS:";
        } else if (gn->type == GEN_URI) {
            s = gn->d.uniformResourceIdentifier;
            prefix = "URI:";
        } else if (gn->type == GEN_EMAIL) {
            s = gn->d.rfc822Name;
            prefix = "email:";
        }
        if (s != NULL)
            append_text(out, size, prefix, (const char *)ASN1_STRING_get0_data(s),
                        ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(names);
}

/* Fills the identity of a verified peer certificate, uninterpreted (handler.h). */
static void extract_identity(pv_tls_conn *conn)
{
    X509 *cert = SSL_get0_peer_certificate(conn->ssl);
    if (cert == NULL || SSL_get_verify_result(conn->ssl) != X509_V_OK)
        return;
    pv_peer_identity *id = &conn->identity;
    X509_NAME *subject = X509_get_subject_name(cert);
    subject_attrs(subject, id);
    san_entries(cert, id->san, sizeof id->san);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1 && md_len == 32)
        pv_hex_encode(md, 32, id->fingerprint);
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem != NULL) {
        X509_NAME_print_ex(mem, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253);
        char *text = NULL;
        long n = BIO_get_mem_data(mem, &text);
        snprintf(id->issuer, sizeof id->issuer, "%.*s", (int)(n > 0 ? n : 0), text ? text : "");
        BIO_free(mem);
    }
    conn->has_identity = true;
}

int pv_tls_conn_handshake(pv_tls_conn *conn, pv_error *err)
{
    if (conn->done)
        return PV_TLS_DONE;
    ERR_clear_error();
    int r = SSL_do_handshake(conn->ssl);
    if (r == 1) {
        conn->done = true;
        if (!conn->client) /* a client has verified the server; nothing to hand a handler */
            extract_identity(conn);
        return PV_TLS_DONE;
    }
    int e = SSL_get_error(conn->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return PV_TLS_WANT_IO;
    long verify = SSL_get_verify_result(conn->ssl);
    if (verify != X509_V_OK) { /* the peer's certificate was the problem */
        ERR_clear_error();
        return pv_error_set(err, PV_EACCES, "%s certificate refused: %s",
                            conn->client ? "server" : "client",
                            X509_verify_cert_error_string(verify));
    }
    return ssl_error(err, PV_EPROTO, "TLS handshake failed");
}

int pv_tls_conn_read(pv_tls_conn *conn, pv_buf *out, pv_error *err)
{
    size_t total = 0;
    ERR_clear_error();
    for (;;) {
        pv_buf_reserve(out, 16384);
        size_t n = 0;
        int r = SSL_read_ex(conn->ssl, out->data + out->len, out->cap - out->len - 1, &n);
        if (r == 1) {
            out->len += n;
            out->data[out->len] = '\0';
            total += n;
            continue;
        }
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (total > 0)
            break; /* report the end on the next call, after the data */
        if (e == SSL_ERROR_ZERO_RETURN)
            return pv_error_set(err, PV_ECONN, "peer closed the TLS connection");
        return ssl_error(err, PV_EPROTO, "TLS read failed");
    }
    return total > (size_t)INT32_MAX ? INT32_MAX : (int)total;
}

int pv_tls_conn_write(pv_tls_conn *conn, const void *data, size_t len, pv_error *err)
{
    if (len == 0)
        return 0;
    ERR_clear_error();
    size_t n = 0;
    /* Memory BIOs never refuse bytes, so one call takes everything. */
    if (SSL_write_ex(conn->ssl, data, len, &n) != 1 || n != len)
        return ssl_error(err, PV_EPROTO, "TLS write failed");
    return 0;
}

size_t pv_tls_conn_output_pending(const pv_tls_conn *conn)
{
    return BIO_ctrl_pending(conn->wbio);
}

size_t pv_tls_conn_take_output(pv_tls_conn *conn, pv_buf *out)
{
    size_t pending = BIO_ctrl_pending(conn->wbio);
    if (pending == 0)
        return 0;
    pv_buf_reserve(out, pending);
    size_t n = 0;
    if (BIO_read_ex(conn->wbio, out->data + out->len, pending, &n) != 1)
        return 0;
    out->len += n;
    out->data[out->len] = '\0';
    return n;
}

void pv_tls_conn_shutdown(pv_tls_conn *conn)
{
    if (conn->done) {
        ERR_clear_error();
        SSL_shutdown(conn->ssl);
        ERR_clear_error();
    }
}

const pv_peer_identity *pv_tls_conn_identity(const pv_tls_conn *conn)
{
    return conn->has_identity ? &conn->identity : NULL;
}

bool pv_tls_conn_resumed(const pv_tls_conn *conn)
{
    return SSL_session_reused(conn->ssl) == 1;
}

/* ---- the client side -------------------------------------------------------------------- */

int pv_tls_client_context_new(X509_STORE *ca_store, pv_tls_context **out, pv_error *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (ssl_ctx == NULL)
        return ssl_error(err, PV_ECRYPTO, "cannot create a TLS client context");
    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
    if (ca_store != NULL && X509_STORE_up_ref(ca_store) == 1)
        SSL_CTX_set_cert_store(ssl_ctx, ca_store); /* frees the empty store it had */
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
    /* A phone's resync is a new connection and a full handshake: nothing is resumed. */
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    static const unsigned char alpn[] = "\x08http/1.1"; /* what libcurl offered for HTTP/1.1 */
    if (SSL_CTX_set_alpn_protos(ssl_ctx, alpn, sizeof alpn - 1) != 0) {
        SSL_CTX_free(ssl_ctx);
        return ssl_error(err, PV_ECRYPTO, "TLS ALPN");
    }
    pv_tls_context *ctx = pv_calloc(1, sizeof *ctx);
    ctx->ssl_ctx = ssl_ctx;
    atomic_init(&ctx->refs, 1);
    *out = ctx;
    return 0;
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

pv_tls_conn *pv_tls_conn_new_client(pv_tls_context *ctx, const char *host, bool verify_host,
                                    const pv_tls_cred *cred)
{
    pv_tls_conn *conn = conn_alloc(ctx);
    conn->client = true;
    SSL_set_connect_state(conn->ssl);
    bool ip = is_ip_literal(host);
    if (!ip)
        SSL_set_tlsext_host_name(conn->ssl, host); /* RFC 6066 SNI: names only */
    if (verify_host) {
        if (ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), host);
        else
            SSL_set1_host(conn->ssl, host);
    }
    /* spec 4.4: the phone's certificate, parsed once; a mismatch leaves it unsent and the
     * server that requires one refuses the handshake, as with a broken file on a phone */
    if (cred != NULL &&
        SSL_use_cert_and_key(conn->ssl, cred->cert, cred->key, cred->chain, 1) != 1)
        ERR_clear_error();
    return conn;
}
